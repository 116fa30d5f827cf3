// What headquarters keeps of the tills' events (docs/sync-protocol.md), behind one
// interface: SQLite is the embedded default; a PostgreSQL backend is to stand beside it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

// One event of a pushed batch, checked.
struct HqEvent {
  std::string id;  // "S001:T01:42"
  std::string store_id;
  std::string till_id;
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string kind;
  std::optional<std::string> customer_id;
  std::optional<std::string> pos_txn_id;
  std::optional<std::string> ref_pos_txn_id;
  std::string body;  // JSON text
};

struct HqBatch {
  std::string store_id;
  std::string till_id;
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  std::vector<HqEvent> events;
};

inline constexpr size_t kMaxEventsPerBatch = 10'000;

// Reads the body of POST /v1/events from the store its client certificate names.
// Refused: malformed JSON (code "invalid_batch", with its position), a batch or an event
// of another store ("wrong_store"), ids that do not match their store, till and seq, seqs
// that are not first_seq..last_seq without a gap, more than kMaxEventsPerBatch events.
Result<HqBatch> ParseBatch(const std::string& certificate_store, std::string_view json);

struct IngestResult {
  int64_t accepted = 0;    // new events stored
  int64_t duplicates = 0;  // already held (a retried batch)
  int64_t acknowledged_seq = 0;
};

class HqStore {
 public:
  virtual ~HqStore() = default;
  // Stores a batch, each event id once, in one transaction: all of it or nothing.
  virtual Result<IngestResult> Ingest(const HqBatch& batch) = 0;
  virtual Result<int64_t> EventCount() = 0;
};

// 'RGHQ': an HQ database, never mistaken for a till's ledger.
inline constexpr int64_t kHqApplicationId = 0x52474851;

class SqliteHqStore final : public HqStore {
 public:
  static Result<std::unique_ptr<SqliteHqStore>> Open(const std::string& path);
  Result<IngestResult> Ingest(const HqBatch& batch) override;
  Result<int64_t> EventCount() override;
  Database& db() { return *db_; }

 private:
  explicit SqliteHqStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  std::unique_ptr<Database> db_;
};

}  // namespace regulars
