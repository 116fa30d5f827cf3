#include "hq/hq_service.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

namespace regulars {
namespace {

// A rule set is a few kilobytes; a file far larger is not one.
constexpr size_t kMaxRulesFileBytes = size_t{16} * 1024 * 1024;

using OJson = nlohmann::ordered_json;

std::string Text(const OJson& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpAnswer Fail(const Error& e) { return {StatusOf(e), ErrorJson(e)}; }

// "/v1/updates?since=3&limit=10" -> path and {since: 3, limit: 10}. Only non-negative
// integers are accepted as values.
Result<std::map<std::string, int64_t>> QueryIntegers(std::string_view query,
                                                     std::initializer_list<std::string> known) {
  std::map<std::string, int64_t> values;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Error::BadInput("invalid_request", "unknown query parameter '" + name + "'", name);
    }
    if (name == "rules_version") continue;  // text, read on its own
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    int64_t number = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size() || number < 0) {
      return Error::BadInput("invalid_request", name + " is a non-negative integer", name);
    }
    values[name] = number;
  }
  return values;
}

// The text value of query parameter `name`, or "".
std::string QueryText(std::string_view query, std::string_view name) {
  std::string key = std::string(name) + "=";
  for (size_t at = 0; at < query.size();) {
    auto amp = query.find('&', at);
    std::string_view pair =
        query.substr(at, amp == std::string_view::npos ? std::string_view::npos : amp - at);
    if (pair.starts_with(key)) return std::string(pair.substr(key.size()));
    if (amp == std::string_view::npos) break;
    at = amp + 1;
  }
  return "";
}

// One event of a pull page. The body is stored JSON text, written as is.
void AppendEvent(std::string& out, const HqEvent& e) {
  auto text = [](const std::optional<std::string>& s) { return s ? Text(*s) : "null"; };
  out += R"({"id":)" + Text(e.id) + R"(,"store_id":)" + Text(e.store_id) + R"(,"till_id":)" +
         Text(e.till_id) + R"(,"seq":)" + std::to_string(e.seq) + R"(,"hq_seq":)" +
         std::to_string(e.hq_seq) + R"(,"at_ms":)" + std::to_string(e.at_ms) + R"(,"kind":)" +
         Text(e.kind) + R"(,"customer_id":)" + text(e.customer_id) + R"(,"pos_txn_id":)" +
         text(e.pos_txn_id) + R"(,"ref_pos_txn_id":)" + text(e.ref_pos_txn_id) + R"(,"body":)" +
         e.body + "}";
}

}  // namespace

int StatusOf(const Error& e) {
  if (e.code == "wrong_store") return 403;
  switch (e.kind) {
    case ErrorKind::kBadInput:
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kStorage:
      return 503;
    default:
      return 500;
  }
}

HttpAnswer HqService::Handle(const HttpRequest& request) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz") return {200, R"({"ok":true})"};
  if (path == "/v1/events") {
    if (request.method != "POST") {
      return Fail(Error::BadInput("method_not_allowed", "POST /v1/events", request.method));
    }
    return Push(request);
  }
  if (path == "/v1/updates") {
    if (request.method != "GET") {
      return Fail(Error::BadInput("method_not_allowed", "GET /v1/updates", request.method));
    }
    return Updates(request);
  }
  if (path == "/v1/customers") {
    if (request.method != "GET") {
      return Fail(Error::BadInput("method_not_allowed", "GET /v1/customers", request.method));
    }
    return Customer(request);
  }
  return {404, ErrorJson(Error::NotFound("not_found", "no such path", std::string(path)))};
}

HttpAnswer HqService::Customer(const HttpRequest& request) {
  std::string_view target = request.target;
  auto mark = target.find('?');
  std::string_view query = mark == std::string_view::npos ? "" : target.substr(mark + 1);
  std::string kind = QueryText(query, "kind");
  std::string value = QueryText(query, "value");
  if (kind != "card" && kind != "payment_token") {
    return Fail(Error::BadInput("invalid_request", "kind is card or payment_token", "kind"));
  }
  // Card numbers are digits and token hashes hex: nothing to unescape, nothing odd allowed.
  if (value.empty() || value.size() > 128 || !std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0;
      })) {
    return Fail(Error::BadInput("invalid_request", "value is 1 to 128 letters or digits", "value"));
  }
  Result<CustomerHistory> history = Error::Internal("not read");
  {
    std::lock_guard lock(mutex_);
    history = store_.LookUpCustomer(request.store_id, kind, value, 10'000);
  }
  if (!history.ok()) return Fail(history.error());
  std::string out = R"({"customer_id":)" +
                    (history->customer_id ? Text(*history->customer_id) : std::string("null")) +
                    R"(,"truncated":)" + (history->truncated ? "true" : "false") + R"(,"events":[)";
  for (size_t i = 0; i < history->events.size(); ++i) {
    if (i > 0) out += ",";
    AppendEvent(out, history->events[i]);
  }
  out += "]}";
  return {200, std::move(out)};
}

HttpAnswer HqService::Push(const HttpRequest& request) {
  int64_t started = env_->NowMs();
  // The error's code and where only: its message may quote the body.
  auto refused = [&](const Error& e) {
    if (logger_) {
      logger_->Log(StatusOf(e) >= 500 ? LogPriority::kErr : LogPriority::kWarning, "push_refused",
                   {{"store_id", request.store_id}, {"code", e.code}, {"where", e.where}});
    }
    return Fail(e);
  };
  auto batch = ParseBatch(request.store_id, request.body);
  if (!batch.ok()) return refused(batch.error());
  Result<IngestResult> stored = Error::Internal("not stored");
  {
    std::lock_guard lock(mutex_);
    stored = store_.Ingest(*batch);
  }
  if (!stored.ok()) return refused(stored.error());
  if (logger_) {
    logger_->Info("push_stored", {{"store_id", batch->store_id},
                                  {"till_id", batch->till_id},
                                  {"events", batch->events.size()},
                                  {"accepted", stored->accepted},
                                  {"duplicates", stored->duplicates},
                                  {"acknowledged_seq", stored->acknowledged_seq},
                                  {"ms", env_->NowMs() - started}});
  }
  if (on_accepted_ && stored->accepted > 0) on_accepted_(*batch, *stored);
  return {200, Text(OJson{{"acknowledged_seq", stored->acknowledged_seq},
                          {"accepted", stored->accepted},
                          {"duplicates", stored->duplicates}})};
}

HttpAnswer HqService::Updates(const HttpRequest& request) {
  std::string_view target = request.target;
  auto mark = target.find('?');
  std::string_view query = mark == std::string_view::npos ? "" : target.substr(mark + 1);
  auto values = QueryIntegers(query, {"since", "upto", "after", "limit", "rules_version"});
  if (!values.ok()) return Fail(values.error());
  PullQuery q;
  q.store_id = request.store_id;
  q.since = (*values)["since"];
  q.upto = (*values)["upto"];
  q.after = (*values)["after"];
  q.limit = values->count("limit") ? std::clamp<int64_t>((*values)["limit"], 1, 10'000) : 1000;
  if (q.upto != 0 && q.upto < q.since) {
    return Fail(Error::BadInput("invalid_request", "upto is before since", "upto"));
  }
  Result<PullPage> page = Error::Internal("not read");
  {
    std::lock_guard lock(mutex_);
    page = store_.Pull(q);
  }
  if (!page.ok()) {
    if (logger_) {
      logger_->Error("pull_failed", {{"store_id", request.store_id},
                                     {"code", page.error().code},
                                     {"where", page.error().where}});
    }
    return Fail(page.error());
  }
  if (logger_) {
    logger_->Info("pull_served", {{"store_id", request.store_id},
                                  {"since", q.since},
                                  {"after", q.after},
                                  {"upto", page->upto},
                                  {"events", page->events.size()},
                                  {"more", page->more}});
  }

  std::string out =
      R"({"upto":)" + std::to_string(page->upto) + R"(,"more":)" + (page->more ? "true" : "false");
  // The rule set, on the first page, to a till that runs another version.
  if (!rules_file_.empty() && q.after == 0) {
    auto content = env_->ReadFile(rules_file_, kMaxRulesFileBytes);
    auto rules = content.ok() ? nlohmann::json::parse(*content, nullptr, false)
                              : nlohmann::json(nlohmann::json::value_t::discarded);
    if (rules.is_discarded() || !rules.is_object() || !rules.contains("rules_version") ||
        !rules["rules_version"].is_string() || !rules.contains("rules")) {
      return Fail(Error::Internal("HQ's rule set file " + rules_file_ +
                                  " is unreadable or lacks rules_version and rules"));
    }
    if (rules["rules_version"].get<std::string>() != QueryText(query, "rules_version")) {
      out += R"(,"rules":)" + rules.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  out += R"(,"events":[)";
  for (size_t i = 0; i < page->events.size(); ++i) {
    if (i > 0) out += ",";
    AppendEvent(out, page->events[i]);
  }
  out += "]}";
  return {200, std::move(out)};
}

}  // namespace regulars
