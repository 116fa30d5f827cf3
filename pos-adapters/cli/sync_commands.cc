// `regulars sync now|status` and the nightly loop of `regulars serve`: the till's side of the
// nightly sync (docs/sync-protocol.md). Operator commands: they open the ledger directly, beside
// any POS using it through the C ABI (SQLite WAL: checkouts go on meanwhile).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "config/config.h"
#include "domain/timestamp.h"
#include "env/log.h"
#include "json/error_json.h"
#include "store/ledger.h"
#include "store/sync_state.h"
#include "till/outbox.h"
#include "till/schedule.h"
#include "till/sync_client.h"

namespace regulars_cli {
namespace {

using regulars::Error;
using Json = nlohmann::ordered_json;

// Contract v1's error line; at priority err when standard error is the journal (the
// systemd timer's `sync now`).
int Fail(const Error& e) {
  std::cerr << regulars::StderrPriorityPrefix(regulars::LogPriority::kErr) << regulars::ErrorJson(e)
            << "\n";
  return e.kind == regulars::ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

struct Opened {
  regulars::Config config;
  std::unique_ptr<regulars::Ledger> ledger;
};

regulars::Result<Opened> Open(const std::string& config_path, const std::string& db_path) {
  REGULARS_ASSIGN_OR_RETURN(auto config, regulars::LoadConfigFile(config_path));
  auto ledger = regulars::Ledger::Open(db_path, regulars::LedgerOwnerOf(config.till),
                                       regulars::IfMissing::kRefuse);
  if (!ledger.ok()) return NamingTheDbFlag(ledger.error(), db_path);
  return Opened{std::move(config), std::move(ledger).value()};
}

Json Time(std::optional<int64_t> ms) {
  if (!ms || *ms <= 0) return nullptr;
  return regulars::FormatTimestampUtc(*ms);
}

std::string Bar(int64_t done, int64_t total) {
  int filled = total <= 0 ? 30 : static_cast<int>(30 * done / total);
  return "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(30 - filled), '.') + "]";
}

// A progress bar on standard error, redrawn in place, for a long backlog.
void DrawProgress(const regulars::SyncProgress& p) {
  std::cerr << "\rpush " << Bar(p.pushed, p.backlog) << " " << p.pushed << "/" << p.backlog
            << " events; pulled " << p.pulled << std::flush;
}

Json ReportJson(const regulars::SyncReport& r) {
  Json out{{"ok", true},
           {"attempts", r.attempts},
           {"pushed_events", r.pushed_events},
           {"pushed_batches", r.pushed_batches},
           {"duplicates", r.duplicates},
           {"pulled_events", r.pulled_events},
           {"merged_events", r.merged_events},
           {"pull_cursor", r.pull_cursor}};
  if (!r.rules_version.empty()) out["rules_installed"] = r.rules_version;
  return out;
}

int SyncNow(Opened& opened, const std::string& config_path, bool quiet) {
  // No progress bar in the journal: redrawn lines are for a person at a terminal.
  bool journal = !regulars::StderrPriorityPrefix(regulars::LogPriority::kInfo).empty();
  if (journal) quiet = true;
  regulars::SyncProgressCallback progress;
  if (!quiet) progress = DrawProgress;
  regulars::SyncRunner runner(*opened.ledger, opened.config, config_path, regulars::Env::Default(),
                              progress);
  auto report = runner.Run();
  if (!quiet) std::cerr << "\n";
  if (!report.ok()) return Fail(report.error());
  std::cout << ReportJson(*report).dump() << "\n";
  // For the journal (the systemd timer runs this command): what the night did.
  if (journal) {
    Json fields = ReportJson(*report);
    fields.erase("ok");
    regulars::Logger::ToStderr(opened.config.till.store_id, opened.config.till.till_id)
        .Info("sync_done", fields);
  }
  return kExitOk;
}

int SyncStatus(Opened& opened) {
  regulars::Database& db = opened.ledger->db();
  regulars::Outbox outbox(db, opened.config.till.store_id, opened.config.till.till_id);
  auto backlog = outbox.Backlog();
  if (!backlog.ok()) return Fail(backlog.error());
  regulars::SyncState state(db);
  auto success = state.ReadNumber("last_success_at_ms");
  auto attempt = state.ReadNumber("last_attempt_at_ms");
  auto cursor = state.ReadNumber("pull_cursor");
  auto error = state.Read("last_error");
  auto last = state.Read("last_report");
  for (const auto* r : {&success, &attempt, &cursor}) {
    if (!r->ok()) return Fail(r->error());
  }
  if (!error.ok()) return Fail(error.error());
  if (!last.ok()) return Fail(last.error());
  const auto& sync = opened.config.sync;
  Json out{{"store_id", opened.config.till.store_id},
           {"till_id", opened.config.till.till_id},
           {"configured", sync.enabled()},
           {"last_success", Time(*success)},
           {"last_attempt", Time(*attempt)},
           {"last_error", (*error && !(*error)->empty()) ? Json(**error) : Json(nullptr)},
           {"backlog", backlog->backlog},
           {"pushed_seq", backlog->pushed_seq},
           {"oldest_unsent", Time(backlog->oldest_unsent_at_ms)},
           {"pull_cursor", *cursor}};
  if (*last) out["last_report"] = nlohmann::ordered_json::parse(**last, nullptr, false);
  if (sync.enabled()) {
    out["next_run"] =
        Time(regulars::NextNightlyRunMs(regulars::Env::Default()->NowMs(), sync.nightly_minute,
                                        sync.jitter_minutes, opened.config.till.store_id));
  }
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  // For a person: how much of this till's history HQ has, when a backlog is long.
  int64_t total = backlog->pushed_seq + backlog->backlog;
  if (backlog->backlog > sync.batch_events) {
    std::cerr << "sent " << Bar(backlog->pushed_seq, total) << " " << backlog->pushed_seq << "/"
              << total << " events; " << backlog->backlog << " waiting since "
              << Time(backlog->oldest_unsent_at_ms).get<std::string>() << "\n";
  }
  return kExitOk;
}

// Runs the sync every night at the store's time until the process ends; a failed night
// is retried by the runner's backoff, then left to the next night, which goes on from
// the cursor.
void NightlyLoop(Opened& opened, const std::string& config_path) {
  const auto& sync = opened.config.sync;
  regulars::Env& env = *regulars::Env::Default();
  auto log = regulars::Logger::ToStderr(opened.config.till.store_id, opened.config.till.till_id);
  for (;;) {
    int64_t next = regulars::NextNightlyRunMs(env.NowMs(), sync.nightly_minute, sync.jitter_minutes,
                                              opened.config.till.store_id);
    log.Info("sync_scheduled", {{"at", regulars::FormatTimestampUtc(next)}});
    regulars::SleepUntilMs(env, next);
    regulars::SyncRunner runner(*opened.ledger, opened.config, config_path, &env);
    auto report = runner.Run();
    if (report.ok()) {
      Json fields = ReportJson(*report);
      fields.erase("ok");
      log.Info("sync_done", fields);
    } else {
      log.Error("sync_failed", {{"code", report.error().code},
                                {"message", report.error().message},
                                {"where", report.error().where}});
    }
  }
}

}  // namespace

int RunSync(const std::string& what, const std::string& config_path, const std::string& db_path,
            bool quiet) {
  auto opened = Open(config_path, db_path);
  if (!opened.ok()) return Fail(opened.error());
  if (what == "now") return SyncNow(*opened, config_path, quiet);
  if (what == "status") return SyncStatus(*opened);
  return Fail(Error::BadInput("invalid_arguments", "usage: regulars sync now|status", "sync"));
}

void RunNightlySync(const std::string& config_path, const std::string& db_path) {
  auto opened = Open(config_path, db_path);
  if (!opened.ok()) {
    // serve has read both already: this is the log's, not a command's error line.
    regulars::Logger::ToStderr("", "").Error("sync_failed", {{"code", opened.error().code},
                                                             {"message", opened.error().message},
                                                             {"where", opened.error().where}});
    return;
  }
  NightlyLoop(*opened, config_path);
}

}  // namespace regulars_cli
