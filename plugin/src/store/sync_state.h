// The till's record of the nightly sync: the `sync_state` table of its ledger (key ->
// value). Keys: pushed_seq (the outbox's cursor), pull_cursor, last_success_at_ms,
// last_attempt_at_ms, last_error, last_report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

class SyncState {
 public:
  explicit SyncState(Database& db) : db_(db) {}

  Result<std::optional<std::string>> Read(const std::string& key);
  // The value as a number; `fallback` when absent; an error when it is not a number.
  Result<int64_t> ReadNumber(const std::string& key, int64_t fallback = 0);
  // Sets the value; the caller holds a write transaction, or it is a transaction of its own.
  Status Write(const std::string& key, const std::string& value);

 private:
  Database& db_;
};

}  // namespace regulars
