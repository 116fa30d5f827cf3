// Contract v1's error JSON, apart from the server so targets without Beast can use it.
#include <nlohmann/json.hpp>

#include "http_server.h"

namespace regulars::http {

std::string ErrorJson(std::string_view code, std::string_view message, std::string_view where) {
  nlohmann::ordered_json e{{"error", {{"code", code}, {"message", message}, {"where", where}}}};
  return e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace regulars::http
