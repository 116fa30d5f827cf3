#include "till/sync_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/sync_state.h"
#include "till/foreign_events.h"
#include "till/outbox.h"
#include "wire/backoff.h"
#include "wire/tls_transport.h"

namespace regulars {
namespace {

using Json = nlohmann::json;

// Errors a later attempt may not see: HQ down, a timeout, a reset, HQ's own failure.
// TlsError makes transport failures Storage errors with this code.
constexpr const char* kUnavailable = "sync_unavailable";

// More than any config file holds (the loader refuses past 16 MiB).
constexpr size_t kMaxConfigFileBytes = size_t{32} * 1024 * 1024;

// A certificate refused at the handshake (another CA, expired, another name) is refused
// the same way on every attempt: a person installs the right one.
constexpr const char* kCertificateRefused = "tls_certificate_refused";

// The till's own ledger busy past its timeout (checkouts hold the write lock in turn) is
// passing too: the next attempt goes on from the acknowledged cursor.
bool Retryable(const Error& e) {
  if (e.code == kCertificateRefused) return false;
  return e.code == kUnavailable || e.kind == ErrorKind::kStorage;
}

Error Refused(int status, const std::string& body, const std::string& doing) {
  auto json = Json::parse(body, nullptr, false);
  std::string said = body.substr(0, 300);
  if (!json.is_discarded() && json.contains("error") && json["error"].is_object()) {
    const Json& error = json["error"];
    said = MemberText(error, "code").value_or("") + ": " +
           MemberText(error, "message").value_or("") + " at " +
           MemberText(error, "where").value_or("");
  }
  std::string message =
      "HQ answered " + std::to_string(status) + " to " + doing + " (" + said + ")";
  // A 5xx is HQ's trouble and passes; a 4xx is a refusal that needs a person.
  if (status >= 500) return Error::BadInput(kUnavailable, message);
  return Error::BadInput("sync_refused", message);
}

bool SafeQueryText(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// HQ's caps merged into the till's config (docs/sync-protocol.md, "Rule sets"): a set
// without "caps" keeps the till's; "caps": null removes them; a caps object replaces
// them, naming each cap it removes as null ("per_day": null). A cap the till has that the
// object leaves out is a removal nobody asked for: the set is refused.
Status MergeCaps(Json& config, const Json& rules, const std::string& version) {
  if (!rules.contains("caps")) return Status::Ok();
  const Json& caps = rules["caps"];
  if (caps.is_null()) {
    config.erase("caps");
    return Status::Ok();
  }
  if (!caps.is_object()) {
    config["caps"] = caps;  // the config's checks refuse it, naming it
    return Status::Ok();
  }
  if (config.contains("caps") && config["caps"].is_object()) {
    for (const auto& [name, value] : config["caps"].items()) {
      if (caps.contains(name)) continue;
      return Error::BadInput("rule_set_removes_cap",
                             "HQ's rule set " + version + " would remove this till's caps." + name +
                                 " without saying so (HQ writes \"" + name +
                                 "\": null to remove it); the rules in force stay",
                             "/caps/" + name);
    }
  }
  Json merged = Json::object();
  for (const auto& [name, value] : caps.items()) {
    if (!value.is_null()) merged[name] = value;
  }
  if (merged.empty()) {
    config.erase("caps");
  } else {
    config["caps"] = merged;
  }
  return Status::Ok();
}

// Puts HQ's rule set into the till's config file, checked whole first: HQ owns
// rules_version and rules, the caps as MergeCaps says, and the store everything else.
// Returns the new version, or "" when the file already has it.
Result<std::string> InstallRuleSet(Env& env, const std::string& config_path, const Json& rules) {
  auto text = env.ReadFile(config_path, kMaxConfigFileBytes);
  auto config = text.ok() ? Json::parse(*text, nullptr, false) : Json(nullptr);
  if (!text.ok() || config.is_discarded() || !config.is_object()) {
    return Error::Storage("cannot read the till's config file " + config_path);
  }
  if (!rules.is_object() || !rules.contains("rules_version") ||
      !rules["rules_version"].is_string()) {
    return MalformedAnswer("the rule set has no rules_version");
  }
  std::string version = rules["rules_version"].get<std::string>();
  if (MemberText(config, "rules_version") == version) return std::string();
  config["rules_version"] = version;
  config["rules"] = rules.contains("rules") ? rules["rules"] : Json::array();
  REGULARS_TRY(MergeCaps(config, rules, version));
  std::string updated = config.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  // The same checks as a reload: a rule set this till cannot run is never written.
  auto checked = ParseConfig(updated, config_path);
  if (!checked.ok()) {
    return Error::BadInput("invalid_rule_set",
                           "HQ's rule set " + version + " is refused: " + checked.error().message,
                           checked.error().where);
  }
  // Whole or not at all: a crash leaves the old file or the new one.
  REGULARS_TRY(env.WriteFileAtomically(config_path, updated));
  return version;
}

}  // namespace

SyncRunner::SyncRunner(Ledger& ledger, const Config& config, std::string config_path, Env* env,
                       SyncProgressCallback progress)
    : ledger_(ledger),
      config_(config),
      config_path_(std::move(config_path)),
      env_(env),
      progress_(std::move(progress)) {
  if (!progress_) progress_ = [](const SyncProgress&) {};
}

int64_t SyncRunner::BackoffMs(const SyncPolicy& policy, int attempt, uint64_t random) {
  return FullJitterBackoffMs(policy.retry_initial_ms, policy.retry_max_ms, attempt, random);
}

Result<SyncReport> SyncRunner::Run() {
  const SyncPolicy& policy = config_.sync;
  if (!policy.enabled()) {
    return Error::BadInput("sync_not_configured", "this till's config has no \"sync\" section",
                           "/sync");
  }
  Database& db = ledger_.db();
  SyncState state(db);
  int64_t started = env_->NowMs();
  REGULARS_TRY(state.Write("last_attempt_at_ms", std::to_string(started)));
  SyncReport report;
  for (int attempt = 0;; ++attempt) {
    report.attempts = attempt + 1;
    Status once = RunOnce(report);
    if (once.ok()) {
      Json summary{{"attempts", report.attempts},
                   {"pushed_events", report.pushed_events},
                   {"pushed_batches", report.pushed_batches},
                   {"duplicates", report.duplicates},
                   {"pulled_events", report.pulled_events},
                   {"merged_events", report.merged_events},
                   {"pull_cursor", report.pull_cursor}};
      REGULARS_TRY(state.Write("last_success_at_ms", std::to_string(env_->NowMs())));
      REGULARS_TRY(state.Write("last_report", summary.dump()));
      REGULARS_TRY(state.Write("last_error", ""));
      return report;
    }
    Error e = once.error();
    REGULARS_ASSIGN_OR_RETURN(uint64_t jitter, env_->RandomU64());
    int64_t wait = BackoffMs(policy, attempt, jitter);
    if (!Retryable(e) || env_->NowMs() + wait - started > policy.give_up_after_ms) {
      (void)state.Write("last_error", e.code + ": " + e.message);
      return e;
    }
    env_->SleepMs(wait);
  }
}

Status SyncRunner::RunOnce(SyncReport& report) {
  const SyncPolicy& policy = config_.sync;
  Database& db = ledger_.db();
  SyncState state(db);
  TlsTimeouts timeouts{policy.connect_timeout_ms, policy.handshake_timeout_ms,
                       policy.request_timeout_ms};
  REGULARS_ASSIGN_OR_RETURN(auto client,
                            TlsClient::Connect(policy.hq_host, policy.hq_port,
                                               {policy.ca, policy.cert, policy.key}, timeouts));

  // Push: oldest first; an event leaves the outbox only once HQ acknowledged it.
  Outbox outbox(db, config_.till.store_id, config_.till.till_id);
  REGULARS_ASSIGN_OR_RETURN(auto backlog, outbox.Backlog());
  SyncProgress progress{report.pushed_events, backlog.backlog + report.pushed_events,
                        report.pulled_events};
  for (;;) {
    auto batch = outbox.NextBatch(policy.batch_events, static_cast<size_t>(policy.batch_bytes));
    if (!batch.ok()) return batch.error();
    if (!*batch) break;
    REGULARS_ASSIGN_OR_RETURN(auto answer, client->Post("/v1/events", (*batch)->body));
    if (answer.status != 200) return Refused(answer.status, answer.body, "a batch");
    auto ack = Json::parse(answer.body, nullptr, false);
    if (ack.is_discarded() || !ack.is_object() || !ack.contains("acknowledged_seq") ||
        !ack["acknowledged_seq"].is_number_integer()) {
      return MalformedAnswer("the acknowledgement has no acknowledged_seq");
    }
    int64_t acknowledged = MemberInt(ack, "acknowledged_seq").value_or(-1);
    if (acknowledged < (*batch)->first_seq || acknowledged > (*batch)->last_seq) {
      return MalformedAnswer("acknowledged_seq " + std::to_string(acknowledged) +
                             " is outside the batch");
    }
    REGULARS_TRY(outbox.Acknowledge(acknowledged));
    int64_t sent = acknowledged - (*batch)->first_seq + 1;
    report.pushed_events += sent;
    report.pushed_batches += 1;
    report.duplicates +=
        std::clamp<int64_t>(MemberInt(ack, "duplicates").value_or(0), 0, (*batch)->events);
    progress.pushed = report.pushed_events;
    progress_(progress);
  }

  // Pull: the window (cursor, upto] page by page; the cursor moves with the last page, in
  // its transaction, so a cut-off pull starts again from the same cursor.
  REGULARS_ASSIGN_OR_RETURN(auto cursor, state.ReadNumber("pull_cursor"));
  int64_t upto = 0, after = 0;
  for (bool first = true;; first = false) {
    std::string target = "/v1/updates?since=" + std::to_string(cursor) +
                         "&limit=" + std::to_string(policy.pull_page);
    if (!first) target += "&upto=" + std::to_string(upto) + "&after=" + std::to_string(after);
    if (first && SafeQueryText(config_.rules.version)) {
      target += "&rules_version=" + config_.rules.version;
    }
    REGULARS_ASSIGN_OR_RETURN(auto answer, client->Get(target));
    if (answer.status != 200) return Refused(answer.status, answer.body, "a pull");
    auto page = Json::parse(answer.body, nullptr, false);
    if (page.is_discarded() || !page.is_object() || !page.contains("upto") ||
        !page["upto"].is_number_integer() || !page.contains("events") ||
        !page["events"].is_array()) {
      return MalformedAnswer("a pull page needs upto and events");
    }
    if (first) {
      upto = MemberInt(page, "upto").value_or(0);
      if (page.contains("rules")) {
        REGULARS_ASSIGN_OR_RETURN(auto installed,
                                  InstallRuleSet(*env_, config_path_, page["rules"]));
        if (!installed.empty()) report.rules_version = installed;
      }
    }
    REGULARS_ASSIGN_OR_RETURN(auto read, ReadForeignEvents(page["events"]));
    std::vector<ForeignEvent> events = std::move(read);
    for (const auto& e : page["events"]) {
      int64_t hq_seq = MemberInt(e, "hq_seq").value_or(0);
      if (hq_seq <= after || hq_seq > upto) {
        return MalformedAnswer("an event is outside the window");
      }
      after = hq_seq;
    }
    bool more = page.contains("more") && page["more"].is_boolean() && page["more"].get<bool>();
    if (more && events.empty()) return MalformedAnswer("a page says more but holds nothing");
    WriteTransaction txn(db);
    REGULARS_TRY(txn.Begin());
    REGULARS_ASSIGN_OR_RETURN(auto merged, ledger_.events().AppendForeign(events));
    if (!more) REGULARS_TRY(state.Write("pull_cursor", std::to_string(upto)));
    REGULARS_TRY(txn.Commit());
    report.pulled_events += static_cast<int64_t>(events.size());
    report.merged_events += merged;
    progress.pulled = report.pulled_events;
    progress_(progress);
    if (!more) break;
  }
  report.pull_cursor = upto;
  return Status::Ok();
}

}  // namespace regulars
