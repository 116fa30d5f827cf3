#include "store/audit_chain.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <map>
#include <optional>

#include "domain/hex.h"
#include "domain/hmac.h"

namespace regulars {
namespace {

// Names the encoding, so a MAC made for something else under the same key never verifies
// here, and a future encoding can change the tag.
constexpr std::string_view kEncodingTag = "regulars/goodwill-audit/v1";

// Each field is its length in bytes (8 bytes, big-endian) followed by its bytes, so no
// two different entries encode alike ("ab"+"c" differs from "a"+"bc").
void AppendField(std::string& out, std::string_view bytes) {
  uint64_t n = bytes.size();
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out.append(bytes);
}

// Integers are 8 bytes, big-endian two's complement.
void AppendField(std::string& out, int64_t value) {
  auto bits = static_cast<uint64_t>(value);
  std::string bytes;
  for (int shift = 56; shift >= 0; shift -= 8) bytes += static_cast<char>((bits >> shift) & 0xff);
  AppendField(out, bytes);
}

std::string CanonicalEncoding(int64_t seq, int64_t key_version, const AuditEntry& e,
                              std::string_view prev_mac) {
  std::string out;
  AppendField(out, kEncodingTag);
  AppendField(out, seq);
  AppendField(out, key_version);
  AppendField(out, e.at_ms);
  AppendField(out, e.kind);
  AppendField(out, e.store_id);
  AppendField(out, e.till_id);
  AppendField(out, e.cashier_id);
  AppendField(out, e.customer_id);
  AppendField(out, e.pos_txn_id);
  AppendField(out, e.amount);
  AppendField(out, e.reason);
  AppendField(out, prev_mac);
  return out;
}

Result<std::string> MacOf(const AuditKey& key, int64_t seq, const AuditEntry& e,
                          std::string_view prev_mac) {
  REGULARS_ASSIGN_OR_RETURN(
      auto mac, HmacSha256(key.secret, CanonicalEncoding(seq, key.version, e, prev_mac)));
  return ToHex(mac.data(), mac.size());
}

// Compares in constant time: how much of a MAC matched says nothing to a timing observer.
bool SameMac(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status CheckKey(std::span<const unsigned char> key) {
  if (key.size() < kMinAuditKeySize) {
    return Error::BadInput("invalid_audit_key", "the goodwill audit key must be at least " +
                                                    std::to_string(kMinAuditKeySize) + " bytes");
  }
  return Status::Ok();
}

struct AuditRow {
  int64_t seq = 0;
  int64_t key_version = 1;
  AuditEntry entry;
  std::string prev_mac;
  std::string mac;
};

// Every row, in seq order. Goodwill entries are a few per cashier per day, so the whole
// chain fits in memory, and VerifyAudit can look rows up by their MACs.
Result<std::vector<AuditRow>> ReadChain(Database& db) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT seq, at_ms, kind, store_id, till_id, cashier_id, customer_id, "
                            "pos_txn_id, amount, "
                            "reason, prev_mac, mac, key_version FROM goodwill_audit ORDER BY seq"));
  std::vector<AuditRow> rows;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
    if (!row) break;
    const Statement& s = *stmt;
    rows.push_back({s.Int(0),
                    s.Int(12),
                    {s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), s.Text(7),
                     s.Int(8), s.Text(9)},
                    s.Text(10),
                    s.Text(11)});
  }
  stmt->Reset();
  return rows;
}

// seq + step, or nullopt past int64's range (a seq written by hand can be anything).
std::optional<int64_t> Step(int64_t seq, int64_t step) {
  int64_t out = 0;
  if (__builtin_add_overflow(seq, step, &out)) return std::nullopt;
  return out;
}

std::string Missing(int64_t first, int64_t last) {
  if (first == last) return "entry " + std::to_string(first) + " is missing (removed)";
  return "entries " + std::to_string(first) + " to " + std::to_string(last) +
         " are missing (removed)";
}

}  // namespace

Status AppendAudit(Database& db, std::span<const unsigned char> key, const AuditEntry& entry) {
  return AppendAudit(db, AuditKey{1, {key.begin(), key.end()}}, entry);
}

Status AppendAudit(Database& db, const AuditKey& key, const AuditEntry& entry) {
  REGULARS_TRY(CheckKey(key.secret));
  if (entry.kind != "grant" && entry.kind != "reversal") {
    return Error::BadInput("invalid_goodwill", "kind must be grant or reversal", "/kind");
  }
  if (entry.kind == "grant" ? entry.amount <= 0 : entry.amount >= 0) {
    return Error::BadInput("invalid_goodwill",
                           "a grant's amount is positive and a reversal's negative", "/amount");
  }
  // Both are what the audit is read by: per-cashier budgets and the sale cross-check.
  if (entry.cashier_id.empty()) {
    return Error::BadInput("invalid_goodwill", "a goodwill entry names its cashier", "/cashier_id");
  }
  if (entry.pos_txn_id.empty()) {
    return Error::BadInput("invalid_goodwill", "a goodwill entry names its POS transaction",
                           "/pos_txn_id");
  }

  auto last = db.Prepare("SELECT seq, mac FROM goodwill_audit ORDER BY seq DESC LIMIT 1");
  if (!last.ok()) return last.error();
  REGULARS_ASSIGN_OR_RETURN(auto row, (*last)->Step());
  std::optional<int64_t> seq = row ? Step((*last)->Int(0), 1) : 1;
  std::string prev_mac = row ? (*last)->Text(1) : "";
  (*last)->Reset();
  if (!seq) return Error::Internal("the goodwill audit's last seq is the largest integer");

  auto mac = MacOf(key, *seq, entry, prev_mac);
  if (!mac.ok()) return mac.error();
  REGULARS_ASSIGN_OR_RETURN(
      auto insert, db.Prepare("INSERT INTO goodwill_audit (seq, at_ms, kind, store_id, till_id, "
                              "cashier_id, customer_id, "
                              "pos_txn_id, amount, reason, prev_mac, mac, key_version) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  return (insert)
      ->Bind(1, *seq)
      .Bind(2, entry.at_ms)
      .Bind(3, entry.kind)
      .Bind(4, entry.store_id)
      .Bind(5, entry.till_id)
      .Bind(6, entry.cashier_id)
      .Bind(7, entry.customer_id)
      .Bind(8, entry.pos_txn_id)
      .Bind(9, entry.amount)
      .Bind(10, entry.reason)
      .Bind(11, prev_mac)
      .Bind(12, *mac)
      .Bind(13, static_cast<int64_t>(key.version))
      .Run();
}

Result<int64_t> GoodwillGivenBy(Database& db, const std::string& cashier_id, int64_t from_ms,
                                int64_t until_ms) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt,
                            db.Prepare("SELECT COALESCE(SUM(amount), 0) FROM goodwill_audit "
                                       "WHERE cashier_id = ?1 AND at_ms >= ?2 AND at_ms < ?3"));
  stmt->Bind(1, cashier_id).Bind(2, from_ms).Bind(3, until_ms);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  int64_t sum = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return sum;
}

Result<std::vector<std::string>> AuditedTransactions(Database& db) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT DISTINCT pos_txn_id FROM goodwill_audit "
                                                  "WHERE kind = 'grant' ORDER BY pos_txn_id"));
  std::vector<std::string> ids;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
    if (!row) break;
    ids.push_back(stmt->Text(0));
  }
  stmt->Reset();
  return ids;
}

// Removing the last entries leaves a shorter chain that is consistent, so it is not found
// here: only a cross-check with the ledger's sale events (AuditedTransactions) can see it.
Result<AuditReport> VerifyAudit(Database& db, std::span<const unsigned char> key) {
  AuditKey only{1, {key.begin(), key.end()}};
  return VerifyAudit(db, std::span<const AuditKey>(&only, 1));
}

namespace {

// The chain as read, each row classified under the keys this config holds.
struct ReadChainState {
  std::span<const AuditKey> keys;
  std::vector<AuditRow> rows;
  std::vector<bool> genuine;  // its MAC holds under its own seq: the genuine entry of that seq
  std::vector<bool> keyless;  // written under a key this config does not hold
  std::map<std::string, size_t> by_mac, by_prev_mac;

  const AuditKey* KeyOf(const AuditRow& row) const {
    for (const auto& key : keys) {
      if (key.version == row.key_version) return &key;
    }
    return nullptr;
  }
};

Status Classify(ReadChainState& chain) {
  const auto& rows = chain.rows;
  chain.genuine.assign(rows.size(), false);
  chain.keyless.assign(rows.size(), false);
  for (size_t i = 0; i < rows.size(); ++i) {
    const AuditKey* key = chain.KeyOf(rows[i]);
    chain.keyless[i] = key == nullptr;
    if (key) {
      REGULARS_ASSIGN_OR_RETURN(auto mac,
                                MacOf(*key, rows[i].seq, rows[i].entry, rows[i].prev_mac));
      chain.genuine[i] = SameMac(mac, rows[i].mac);
    }
    chain.by_mac.emplace(rows[i].mac, i);
    chain.by_prev_mac.emplace(rows[i].prev_mac, i);
  }
  return Status::Ok();
}

// Where the entry at row `i` was written, if it was moved: one after the entry its
// prev_mac names, or one before the entry naming its mac (for swapped neighbours only
// the second works). A candidate counts only if the MAC holds under it.
Result<std::optional<int64_t>> WrittenAt(const ReadChainState& chain, size_t i) {
  const AuditRow& row = chain.rows[i];
  std::vector<std::optional<int64_t>> candidates;
  if (row.prev_mac.empty()) {
    candidates.push_back(1);
  } else if (auto p = chain.by_mac.find(row.prev_mac); p != chain.by_mac.end()) {
    candidates.push_back(Step(chain.rows[p->second].seq, 1));
  }
  if (auto n = chain.by_prev_mac.find(row.mac); n != chain.by_prev_mac.end()) {
    candidates.push_back(Step(chain.rows[n->second].seq, -1));
  }
  const AuditKey* key = chain.KeyOf(row);
  if (!key) return std::optional<int64_t>();
  for (auto seq : candidates) {
    if (!seq || *seq < 1 || *seq == row.seq) continue;
    REGULARS_ASSIGN_OR_RETURN(auto mac, MacOf(*key, *seq, row.entry, row.prev_mac));
    if (SameMac(mac, row.mac)) return seq;
  }
  return std::optional<int64_t>();
}

// What is wrong with row `i` itself, given that `gap` entries are missing before it.
Status ReportRow(const ReadChainState& chain, size_t i, bool gap, AuditReport& report) {
  const AuditRow& row = chain.rows[i];
  const std::string at = std::to_string(row.seq);
  if (chain.keyless[i]) {
    report.problems.push_back(
        {row.seq, "entry " + at + " was written under audit key version " +
                      std::to_string(row.key_version) +
                      ", which this config does not hold (add it to retired_audit_keys)"});
  } else if (!chain.genuine[i]) {
    REGULARS_ASSIGN_OR_RETURN(auto from, WrittenAt(chain, i));
    if (from) {
      report.problems.push_back(
          {row.seq, "entries out of order at " + at + ": it holds entry " + std::to_string(*from)});
    } else {
      report.problems.push_back({row.seq, "entry " + at + " was altered (its MAC does not match)"});
    }
  } else if (!gap) {
    // Re-anchored on the stored MAC: only a link between two genuine neighbours is
    // checked, so one bad entry is reported once, not again at the entry after it.
    if (i == 0 && row.seq == 1 && !row.prev_mac.empty()) {
      report.problems.push_back({row.seq, "entry 1 does not start the chain"});
    } else if (i > 0 && chain.genuine[i - 1] && row.prev_mac != chain.rows[i - 1].mac) {
      report.problems.push_back({row.seq, "entry " + at + " does not follow entry " +
                                              std::to_string(chain.rows[i - 1].seq) +
                                              " (the chain is broken)"});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<AuditReport> VerifyAudit(Database& db, std::span<const AuditKey> keys) {
  for (const auto& key : keys) REGULARS_TRY(CheckKey(key.secret));
  ReadChainState chain;
  chain.keys = keys;
  {
    // One snapshot: an entry appended meanwhile by another till must not look like damage.
    ReadTransaction snapshot(db);
    REGULARS_TRY(snapshot.Begin());
    REGULARS_ASSIGN_OR_RETURN(chain.rows, ReadChain(db));
  }
  REGULARS_TRY(Classify(chain));
  AuditReport report;
  report.entries = static_cast<int64_t>(chain.rows.size());
  const auto& rows = chain.rows;
  bool any_keyed =
      std::find(chain.keyless.begin(), chain.keyless.end(), false) != chain.keyless.end();
  if (any_keyed &&
      std::none_of(chain.genuine.begin(), chain.genuine.end(), [](bool g) { return g; })) {
    // Nothing verifies: far more likely another key than every entry forged.
    for (const auto& row : rows) {
      report.problems.push_back({row.seq, "entry " + std::to_string(row.seq) +
                                              " does not verify under this key (the wrong "
                                              "audit key, or the entry was altered)"});
    }
    return report;
  }
  int64_t next = 1;  // the seq the next row should have
  for (size_t i = 0; i < rows.size(); ++i) {
    bool gap = rows[i].seq > next;
    if (gap) report.problems.push_back({next, Missing(next, rows[i].seq - 1)});
    REGULARS_TRY(ReportRow(chain, i, gap, report));
    next = std::max(next, Step(rows[i].seq, 1).value_or(rows[i].seq));
  }
  return report;
}

}  // namespace regulars
