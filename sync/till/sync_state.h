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

Result<std::optional<std::string>> ReadSyncState(Database& db, const std::string& key);
// The value as a number; `fallback` when absent; an error when it is not a number.
Result<int64_t> ReadSyncNumber(Database& db, const std::string& key, int64_t fallback = 0);
// Sets the value; the caller holds a write transaction, or it is a transaction of its own.
Status WriteSyncState(Database& db, const std::string& key, const std::string& value);

}  // namespace regulars
