// The goodwill audit chain (docs/goodwill.md): every goodwill gesture and reversal is an
// entry in `goodwill_audit` carrying an HMAC of itself and of the previous entry's HMAC,
// so an entry altered, removed or moved by hand is found by VerifyAudit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

// The audit key is the chain's secret (GoodwillPolicy::audit_key); shorter keys are refused.
inline constexpr size_t kMinAuditKeySize = 32;

// A version of the chain's secret. Keys rotate: the newest writes, older ones still
// verify the entries they wrote (the version is stored with each entry and under its MAC).
struct AuditKey {
  int version = 1;
  std::vector<unsigned char> secret;
};

struct AuditEntry {
  int64_t at_ms = 0;
  std::string kind;  // grant or reversal
  std::string store_id;
  std::string till_id;
  std::string cashier_id;
  std::string customer_id;
  std::string pos_txn_id;
  int64_t amount = 0;  // minor units: positive for a grant, negative for a reversal
  std::string reason;
};

// Appends `entry` as the next entry (seq = last + 1, starting at 1):
// mac = HMAC-SHA256(key, canonical encoding of (seq, every field, prev_mac)), where
// prev_mac is the last entry's mac ("" for the first). The caller holds a
// WriteTransaction, so reading the last entry and appending after it are one step.
// Bad input: a kind other than grant/reversal, an amount of the wrong sign, a short key.
Status AppendAudit(Database& db, const AuditKey& key, const AuditEntry& entry);
// The same under key version 1.
Status AppendAudit(Database& db, std::span<const unsigned char> key, const AuditEntry& entry);

// Sum of `amount` of the entries by `cashier_id` with from_ms <= at_ms < until_ms
// (reversals count negatively). Read-only.
Result<int64_t> GoodwillGivenBy(Database& db, const std::string& cashier_id, int64_t from_ms,
                                int64_t until_ms);

// The pos_txn_ids that have a grant entry, sorted, each once. Removing the last entries
// of the chain leaves it consistent, so `db verify` cross-checks these against the
// ledger's sale events to find such a truncation.
Result<std::vector<std::string>> AuditedTransactions(Database& db);

// One problem found by VerifyAudit, at the entry `seq`, in words: "entry 7 was altered
// (its MAC does not match)", "entry 4 is missing (removed)", "entries out of order at 9:
// it holds entry 12".
struct AuditProblem {
  int64_t seq = 0;
  std::string what;
};

struct AuditReport {
  int64_t entries = 0;  // rows in the table
  std::vector<AuditProblem> problems;
  bool ok() const { return problems.empty(); }
};

// Walks the chain in seq order and recomputes each MAC under `key`, in one read snapshot
// (the caller must not hold a transaction). Read-only. Finds altered entries, removed
// ones (a gap in seq), entries moved to another seq, and a wrong key (no entry verifies).
// It cannot see the last entries removed: see AuditedTransactions.
// Each entry is checked under the key of its version; an entry whose key is not in `keys`
// is reported as unverifiable.
Result<AuditReport> VerifyAudit(Database& db, std::span<const AuditKey> keys);
// The same with one key of version 1.
Result<AuditReport> VerifyAudit(Database& db, std::span<const unsigned char> key);

}  // namespace regulars
