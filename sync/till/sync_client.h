// The till's side of the nightly sync (docs/sync-protocol.md): push the outbox to HQ,
// then pull what other stores did, over one mutual-TLS connection; retry transient
// failures with exponential backoff and full jitter until the night's window closes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"
#include "env/env.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

struct SyncProgress {
  int64_t pushed = 0;   // events HQ acknowledged in this run
  int64_t backlog = 0;  // events waiting when the run started
  int64_t pulled = 0;   // events received from HQ in this run
};

struct SyncReport {
  int attempts = 0;
  int64_t pushed_events = 0;
  int64_t pushed_batches = 0;
  int64_t duplicates = 0;  // events HQ already held (an answer lost on the way)
  int64_t pulled_events = 0;
  int64_t merged_events = 0;  // pulled events that were new here
  int64_t pull_cursor = 0;
  std::string rules_version;  // set when HQ's rule set was installed
};

// Told after each batch HQ acknowledged and each page pulled: a progress bar.
using SyncProgressCallback = std::function<void(const SyncProgress&)>;

class SyncRunner {
 public:
  // `config_path`: the till's config file, rewritten (write, then rename) when HQ sends a
  // new rule set; the till's hot reload picks it up. `env` gives the clock, the backoff's
  // waits and jitter, and the config file; it must outlive the runner.
  SyncRunner(Ledger& ledger, const Config& config, std::string config_path,
             Env* env = Env::Default(), SyncProgressCallback progress = {});

  // One sync. Records last_attempt_at_ms, and last_success_at_ms or last_error, in the
  // ledger's sync_state. Fails when HQ refuses (4xx: needs a person) or the retries run
  // out; what was acknowledged stays acknowledged, the rest waits for the next run.
  Result<SyncReport> Run();

  // The wait before retry number `attempt` (0-based): uniform in [0, min(max, initial*2^n)].
  static int64_t BackoffMs(const SyncPolicy& policy, int attempt, uint64_t random);

 private:
  Status RunOnce(SyncReport& report);

  Ledger& ledger_;
  const Config& config_;
  std::string config_path_;
  Env* env_;
  SyncProgressCallback progress_;
};

}  // namespace regulars
