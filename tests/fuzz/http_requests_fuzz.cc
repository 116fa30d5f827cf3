// libFuzzer target: requests to the till's HTTP service (pos-adapters/http/till_service.cc)
// after the HTTP layer has parsed them: any method, path, token and body reach routing, the
// panel's goodwill button, the basket reading and the C ABI. Byte 0 picks the path, byte 1
// the method and token; the rest is the body (or, for one path choice, the path itself).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "http/till_service.h"
#include "regulars/regulars.h"

namespace {

const std::string kToken(64, 'f');

const char kConfig[] = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [{"id": "diapers-5th", "kind": "nth_unit", "every": 5,
             "match": {"categories": ["baby"]}, "reward": {"free": true}}],
  "goodwill": {"per_customer_per_day": {"default": 300}, "per_cashier_per_day": 2000,
               "audit_key": {"secret_hex":
    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"}},
  "scanner": {"prefix": "<", "suffix": ">"}})";

const char* const kPaths[] = {"/v1/evaluate", "/v1/commit",   "/v1/goodwill", "/v1/enroll",
                              "/v1/void",     "/v1/refund",   "/v1/link",     "/v1/recognize",
                              "/v1/panel",    "/panel/",      "/panel/x.js",  "/metrics",
                              "/readyz",      "/openapi.json"};
constexpr size_t kPathCount = sizeof kPaths / sizeof kPaths[0];

// The till and its service, closed at exit so the leak check sees only real leaks.
struct Served {
  regulars_till* till = nullptr;
  std::unique_ptr<regulars::http::TillService> service;
  ~Served() {
    service.reset();
    regulars_close(till);
  }
};

regulars::http::TillService& Service() {
  static Served served;
  if (served.service) return *served.service;
  {
    char dir[] = "/tmp/regulars-http-fuzz-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    std::string config = std::string(dir) + "/store.json";
    std::ofstream(config) << kConfig;
    Served& s = served;
    char* error = nullptr;
    if (regulars_open(&s.till, config.c_str(), ":memory:", &error) != REGULARS_OK) std::abort();
    char* out = nullptr;
    regulars_enroll(s.till, R"({"card": "2900000000018"})", &out);
    regulars_free(out);
    regulars::http::TillServiceOptions options;
    options.token = kToken;
    options.goodwill_enabled = true;
    s.service = std::make_unique<regulars::http::TillService>(s.till, options);
  }
  return *served.service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  regulars::http::Request request;
  std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t choice = data[0] % (kPathCount + 1);
  if (choice == kPathCount) {
    request.path = rest;  // any path at all
  } else {
    request.path = kPaths[choice];
    request.body = rest;
  }
  request.method = (data[1] & 1) ? "POST" : (data[1] & 2) ? "GET" : "DELETE";
  if (data[1] & 4) request.authorization = "Bearer " + kToken;
  regulars::http::Response response = Service().Handle(request);
  if (response.status < 200 || response.status > 599) std::abort();
  return 0;
}
