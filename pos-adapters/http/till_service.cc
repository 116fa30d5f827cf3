#include "http/till_service.h"

#include <openssl/crypto.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "http/assets.h"

namespace regulars::http {
namespace {

using Json = nlohmann::json;

// How many recent baskets the panel's goodwill button can still reach.
constexpr size_t kRecentBaskets = 256;

const char* const kPanelPrefix = "/panel/";

Response JsonAnswer(int status, std::string body) {
  return Response::Of(status, "application/json", std::move(body));
}

Response ErrorAnswer(int status, std::string_view code, std::string_view message,
                     std::string_view where) {
  return JsonAnswer(status, ErrorJson(code, message, where));
}

// The HTTP status of a C ABI result code.
int StatusOf(int code) {
  switch (code) {
    case REGULARS_OK:
      return 200;
    case REGULARS_E_INVALID_INPUT:
    case REGULARS_E_ARGUMENT:
      return 400;
    case REGULARS_E_NOT_FOUND:
      return 404;
    case REGULARS_E_CONFLICT:
      return 409;
    case REGULARS_E_STORAGE:
      return 503;
    default:
      return 500;
  }
}

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The error code inside an error JSON, for the metrics.
std::string ErrorCodeOf(const std::string& body) {
  Json error = Json::parse(body, nullptr, false);
  if (error.is_object() && error.contains("error") && error["error"].is_object() &&
      error["error"].contains("code") && error["error"]["code"].is_string()) {
    return error["error"]["code"].get<std::string>();
  }
  return "unknown";
}

// {"status": STATUS, "config": {...}}: the status first, as it always was.
std::string StatusBody(const char* status, const Json& config) {
  nlohmann::ordered_json body{{"status", status}, {"config", config}};
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The refusal's gauges, in the text format.
std::string ConfigMetrics(const Json& config) {
  bool refused = config.value("state", "") == "refused";
  int64_t since_ms = refused ? config.value("since_ms", int64_t{0}) : 0;
  return "# HELP regulars_config_refused 1 while the config file on disk is refused and the "
         "rules in force stay.\n"
         "# TYPE regulars_config_refused gauge\n"
         "regulars_config_refused " +
         std::string(refused ? "1" : "0") +
         "\n"
         "# HELP regulars_config_refused_since_seconds When the refusal began (0: none).\n"
         "# TYPE regulars_config_refused_since_seconds gauge\n"
         "regulars_config_refused_since_seconds " +
         std::to_string(since_ms / 1000) + "\n";
}

}  // namespace

Json TillService::CheckConfig() {
  char* out = nullptr;
  int code = regulars_config_status(till_, &out);
  Json status = Json::parse(out ? out : "", nullptr, false);
  regulars_free(out);
  if (code != REGULARS_OK || !status.is_object()) return Json{{"state", "unknown"}};
  bool refused = status.value("state", "") == "refused";
  std::string key = refused ? status.value("where", "") + "\n" + status.value("message", "") +
                                  "\n" + status.value("since", "")
                            : "";
  std::lock_guard<std::mutex> lock(config_mutex_);
  if (key == config_logged_) return status;
  config_logged_ = key;
  if (!options_.logger) return status;
  if (refused) {
    options_.logger->Error("config_refused", {{"file", status["file"]},
                                              {"where", status["where"]},
                                              {"message", status["message"]},
                                              {"since", status["since"]}});
  } else {
    options_.logger->Info("config_in_force",
                          {{"file", status["file"]}, {"rules_version", status["rules_version"]}});
  }
  return status;
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/healthz", false},         {"GET", "/readyz", false},
      {"GET", "/metrics", true},          {"GET", "/openapi.json", true},
      {"POST", "/v1/enroll", true},       {"POST", "/v1/evaluate", true},
      {"POST", "/v1/commit", true},       {"POST", "/v1/void", true},
      {"POST", "/v1/refund", true},       {"POST", "/v1/link", true},
      {"POST", "/v1/recognize", true},    {"POST", "/v1/goodwill", true},
      {"GET", "/v1/panel", true},         {"GET", "/panel/events", true},
      {"GET", "/panel/", false},          {"GET", "/panel/{file}", false},
      {"POST", "/v1/card/replace", true},
  };
  return routes;
}

TillService::TillService(regulars_till* till, TillServiceOptions options)
    : till_(till), options_(std::move(options)), panel_(options_.panel_lang) {}

bool TillService::Authorized(const Request& request) const {
  const std::string expected = "Bearer " + options_.token;
  const std::string& given = request.authorization;
  // Compared in constant time: the token must not leak through response times.
  return !options_.token.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

Response TillService::Handle(const Request& request) {
  auto started = std::chrono::steady_clock::now();
  std::string route = "other";
  Response response = Dispatch(request, route);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
  metrics_.Request(route, response.status, micros);
  if (response.status >= 400 && response.content_type == "application/json") {
    metrics_.Error(ErrorCodeOf(response.body));
  }
  return response;
}

Response TillService::Dispatch(const Request& request, std::string& route) {
  // Find the route: the path first, then the method, so a wrong method is a 405.
  const Route* match = nullptr;
  std::string allowed;
  for (const Route& r : Routes()) {
    std::string_view pattern = r.path;
    bool path_matches = request.path == pattern;
    if (pattern == "/panel/{file}") {
      path_matches = request.path.starts_with(kPanelPrefix) &&
                     request.path.size() > std::string_view(kPanelPrefix).size() &&
                     request.path != "/panel/events";
    }
    if (!path_matches) continue;
    if (request.method == r.method) {
      match = &r;
      break;
    }
    allowed += allowed.empty() ? r.method : std::string(", ") + r.method;
  }
  if (match == nullptr) {
    if (!allowed.empty()) {
      Response r =
          ErrorAnswer(405, "method_not_allowed",
                      request.method + " is not allowed here; use " + allowed, request.path);
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    return ErrorAnswer(404, "not_found", "no such path: " + request.path, request.path);
  }
  route = match->path;
  if (match->needs_token && !Authorized(request)) {
    Response r =
        ErrorAnswer(401, "unauthorized",
                    request.authorization.empty() ? "this request needs Authorization: Bearer TOKEN"
                                                  : "the bearer token is not this service's",
                    "Authorization");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  const std::string& p = request.path;
  // Selling on the rules in force while the file on disk is refused is ready, and says so.
  if (p == "/healthz") return JsonAnswer(200, StatusBody("ok", CheckConfig()));
  if (p == "/readyz") {
    std::string problem = options_.readiness ? options_.readiness() : "";
    if (!problem.empty()) return ErrorAnswer(503, "not_ready", problem, "ledger");
    return JsonAnswer(200, StatusBody("ready", CheckConfig()));
  }
  if (p == "/metrics") {
    std::string extra = ConfigMetrics(CheckConfig());
    if (options_.extra_metrics) extra += options_.extra_metrics();
    return Response::Of(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render(extra));
  }
  if (p == "/openapi.json") return JsonAnswer(200, std::string(OpenApiDocument()));
  if (p.starts_with(kPanelPrefix) || p == "/v1/panel") return Panel(request);
  if (request.body.find('\0') != std::string::npos) {
    return ErrorAnswer(
        400, "invalid_json",
        "the body holds a NUL byte at offset " + std::to_string(request.body.find('\0')), "body");
  }
  if (p == "/v1/evaluate") return EvaluateOrCommit(false, request);
  if (p == "/v1/commit") return EvaluateOrCommit(true, request);
  if (p == "/v1/goodwill") return Goodwill(request);
  if (p == "/v1/enroll") return CallTill(nullptr, regulars_enroll, request.body);
  if (p == "/v1/link") return CallTill(nullptr, regulars_link, request.body);
  if (p == "/v1/card/replace") return CallTill(nullptr, regulars_replace_card, request.body);
  if (p == "/v1/recognize") return CallTill("recognize", regulars_recognize, request.body);
  if (p == "/v1/void") return CallTill("void", regulars_void, request.body);
  if (p == "/v1/refund") return CallTill("refund", regulars_refund, request.body);
  return ErrorAnswer(500, "internal", "route without a handler", p);
}

Response TillService::CallTill(const char* event, AbiCall call, const std::string& body) {
  char* out = nullptr;
  int code = call(till_, body.c_str(), &out);
  std::string text = out != nullptr ? out : ErrorJson("internal", "the library gave no answer", "");
  regulars_free(out);
  if (code == REGULARS_OK && event != nullptr) panel_.Publish(event, text);
  return JsonAnswer(StatusOf(code), std::move(text));
}

Response TillService::EvaluateOrCommit(bool commit, const Request& request) {
  const char* event = commit ? "commit" : "evaluate";
  AbiCall call = commit ? regulars_commit : regulars_evaluate;
  Response response = ReadBasket(commit, event, call, request);
  if (commit && response.status == 200) metrics_.Commit();
  return response;
}

Response TillService::ReadBasket(bool commit, const char* event, AbiCall call,
                                 const Request& request) {
  if (!options_.goodwill_enabled) return CallTill(event, call, request.body);
  // With goodwill on, remember the basket for the panel's button, and add a gesture the
  // cashier made there. Bad JSON goes on unchanged: the library names what is wrong.
  Json basket = Json::parse(request.body, nullptr, false);
  if (!basket.is_object() || !basket.contains("pos_txn_id") || !basket["pos_txn_id"].is_string()) {
    return CallTill(event, call, request.body);
  }
  std::string id = basket["pos_txn_id"].get<std::string>();
  if (!commit) Remember(id, &basket, nullptr);
  std::string sent = basket.contains("goodwill") ? request.body : WithGesture(id, request.body);
  return CallTill(event, call, sent);
}

std::string TillService::WithGesture(const std::string& pos_txn_id, const std::string& basket) {
  std::string goodwill;
  {
    std::lock_guard<std::mutex> lock(recent_mutex_);
    auto it = recent_.find(pos_txn_id);
    if (it == recent_.end() || it->second.goodwill.empty()) return basket;
    goodwill = it->second.goodwill;
  }
  Json with = Json::parse(basket, nullptr, false);
  if (!with.is_object()) return basket;
  with["goodwill"] = Json::parse(goodwill);
  return Dump(with);
}

void TillService::Remember(const std::string& pos_txn_id, Json* basket,
                           const std::string* goodwill) {
  std::string kept;
  if (basket != nullptr) {
    // A payment card's number is never kept here: the library hashes and wipes it. A
    // basket recognized that way is remembered without it (the button then says so).
    if (auto ids = basket->find("identifiers"); ids != basket->end() && ids->is_array()) {
      Json others = Json::array();
      for (auto& id : *ids) {
        if (id.is_object() && id.value("kind", "") == "payment_token") {
          if (auto v = id.find("value"); v != id.end() && v->is_string()) {
            auto& text = v->get_ref<std::string&>();
            OPENSSL_cleanse(text.data(), text.size());
          }
          (*basket)["payment_card_withheld"] = true;
          continue;
        }
        others.push_back(id);
      }
      (*basket)["identifiers"] = std::move(others);
    }
    kept = Dump(*basket);
  }
  std::lock_guard<std::mutex> lock(recent_mutex_);
  auto [it, added] = recent_.try_emplace(pos_txn_id);
  if (added) {
    recent_order_.push_back(pos_txn_id);
    if (recent_order_.size() > kRecentBaskets) {
      recent_.erase(recent_order_.front());
      recent_order_.pop_front();
    }
  }
  if (basket != nullptr) it->second.basket = std::move(kept);
  if (goodwill != nullptr) it->second.goodwill = *goodwill;
}

// POST /v1/goodwill {"pos_txn_id", "amount", "reason", "cashier_id"}: the panel's button.
Response TillService::Goodwill(const Request& request) {
  if (!options_.goodwill_enabled) {
    return ErrorAnswer(400, "goodwill_not_configured", "the config has no goodwill section",
                       "/goodwill");
  }
  Json body = Json::parse(request.body, nullptr, false);
  if (!body.is_object()) {
    return ErrorAnswer(400, "invalid_json", "the body is not a JSON object", "body");
  }
  if (!body.contains("pos_txn_id") || !body["pos_txn_id"].is_string()) {
    return ErrorAnswer(400, "invalid_goodwill", "pos_txn_id is a string", "/pos_txn_id");
  }
  if (!body.contains("amount") || !body["amount"].is_number_integer() ||
      body["amount"].get<int64_t>() <= 0) {
    return ErrorAnswer(400, "invalid_goodwill",
                       "amount is a positive integer in minor units (cents)", "/amount");
  }
  if (!body.contains("reason") || !body["reason"].is_string()) {
    return ErrorAnswer(400, "invalid_goodwill", "reason is a string", "/reason");
  }
  std::string id = body["pos_txn_id"].get<std::string>();
  std::string basket_text;
  {
    std::lock_guard<std::mutex> lock(recent_mutex_);
    auto it = recent_.find(id);
    if (it != recent_.end()) basket_text = it->second.basket;
  }
  if (basket_text.empty()) {
    return ErrorAnswer(404, "unknown_basket",
                       "no basket " + id + " was evaluated here lately; evaluate it first",
                       "/pos_txn_id");
  }
  Json basket = Json::parse(basket_text);
  if (basket.value("payment_card_withheld", false)) {
    return ErrorAnswer(409, "goodwill_needs_pos",
                       "this basket is recognized by a payment card, whose number the service "
                       "does not keep: the POS adds the gesture to its basket (\"goodwill\")",
                       "/pos_txn_id");
  }
  // A sale already paid takes no gesture: the library answers its stored receipt to the
  // basket as it was committed (with the gesture made here, if any).
  for (const std::string& as_sent : {basket_text, WithGesture(id, basket_text)}) {
    char* stored = nullptr;
    int code = regulars_evaluate(till_, as_sent.c_str(), &stored);
    Json answer = code == REGULARS_OK ? Json::parse(stored, nullptr, false) : Json();
    regulars_free(stored);
    if (answer.is_object() && answer.value("status", "") == "committed") {
      return ErrorAnswer(409, "already_committed",
                         "sale " + id + " is already paid: a gesture now would never reach it",
                         "/pos_txn_id");
    }
  }
  Json gesture{{"amount", body["amount"]}, {"reason", body["reason"]}};
  if (body.contains("cashier_id")) gesture["cashier_id"] = body["cashier_id"];
  basket["goodwill"] = gesture;
  char* out = nullptr;
  int code = regulars_evaluate(till_, Dump(basket).c_str(), &out);
  std::string text = out != nullptr ? out : ErrorJson("internal", "the library gave no answer", "");
  regulars_free(out);
  if (code != REGULARS_OK) return JsonAnswer(StatusOf(code), std::move(text));
  std::string gesture_text = Dump(gesture);
  Remember(id, nullptr, &gesture_text);
  panel_.Publish("goodwill", text);
  return JsonAnswer(200, std::move(text));
}

Response TillService::Panel(const Request& request) {
  if (request.path == "/v1/panel") return JsonAnswer(200, panel_.State());
  if (request.path == "/panel/events") {
    Response stream = Response::Of(200, "text/event-stream", "");
    stream.on_stream = [this](const std::shared_ptr<EventSink>& sink) { panel_.Subscribe(sink); };
    return stream;
  }
  std::string_view name =
      std::string_view(request.path).substr(std::string_view(kPanelPrefix).size());
  if (name.empty()) name = "index.html";
  for (const Asset& asset : PanelAssets()) {
    if (asset.name == name) {
      Response r = Response::Of(200, std::string(asset.content_type), std::string(asset.bytes));
      // The page runs only its own script and styles: nothing external, nothing inline.
      r.headers.emplace_back(
          "Content-Security-Policy",
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      return r;
    }
  }
  return ErrorAnswer(404, "not_found", "no such panel file: " + std::string(name), request.path);
}

}  // namespace regulars::http
