#include "json/error_json.h"

#include "json/json_input.h"

namespace regulars {

std::string ErrorJson(const Error& error) {
  return ErrorJson(error.code, error.message, error.where);
}

std::string ErrorJson(std::string_view code, std::string_view message, std::string_view where) {
  OrderedJson json{{"error", {{"code", code}, {"message", message}, {"where", where}}}};
  return ToText(json);
}

}  // namespace regulars
