// What headquarters keeps of the tills' events (docs/sync-protocol.md), behind one
// interface with two backends: SQLite (the embedded default, here) and PostgreSQL
// (pg_hq_store.h).
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
  // The order HQ stored it in, from 1, with no reuse: the cursor of pulls and exports.
  // 0 in a batch not stored yet.
  int64_t hq_seq = 0;
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
Result<HqBatch> ParseBatch(const std::string& certificate_store, std::string_view text);

struct IngestResult {
  int64_t accepted = 0;    // new events stored
  int64_t duplicates = 0;  // already held, the same event (a retried batch)
  int64_t acknowledged_seq = 0;
};

// An event received under an id HQ holds is a retry when it is the same event: every
// field equal, the body compared as HQ stores it (the till's JSON parsed and written
// again: keys sorted, no spaces), so canonical JSON compared byte for byte. `received`
// has the body HQ would store (redacted when its customer was erased).
bool SameEvent(const HqEvent& held, const HqEvent& received);

// Conflict "event_id_reused" (409): event `index` of the batch reuses an id HQ holds with
// other content (a till whose ledger was replaced or restored from an older copy). The
// whole batch is refused, so nothing of either sale is lost.
Error EventIdReused(const HqEvent& received, size_t index);

// What a till asks for in GET /v1/updates. A pull is the window (since, upto] of hq_seq,
// read in pages: the first page fixes `upto`, the later ones repeat it with `after`.
struct PullQuery {
  std::string store_id;  // the calling store, from its certificate
  int64_t since = 0;     // the `upto` of the till's last complete pull (0: never pulled)
  int64_t upto = 0;      // 0 on the first page: HQ's latest hq_seq now
  int64_t after = 0;     // the hq_seq of the previous page's last event (0: first page)
  int64_t limit = 1000;  // at most this many events per page
};

struct PullPage {
  int64_t upto = 0;
  std::vector<HqEvent> events;  // ascending hq_seq, every one > after and <= upto
  bool more = false;            // ask again with after = events.back().hq_seq
};

// The kinds that say who a customer is: sent to every store (enrolments made elsewhere,
// and erasures). The pull queries of both backends list them too.
inline bool IsIdentityKind(std::string_view kind) {
  return kind == "enroll" || kind == "link" || kind == "card_replaced" || kind == "merge" ||
         kind == "erase";
}

// HQ's own events (erasures) carry this store and till id; no till may use it.
inline constexpr const char* kHqStoreId = "HQ";

// HQ's "erase" event for `customer_id`: HQ:HQ:`seq`, stored as `hq_seq`.
HqEvent EraseEvent(const std::string& customer_id, const std::string& reason, int64_t at_ms,
                   int64_t seq, int64_t hq_seq);

// Cuts `events` (read with limit + 1) to `limit`; true when there was more.
inline bool TrimToLimit(std::vector<HqEvent>& events, int64_t limit) {
  if (static_cast<int64_t>(events.size()) <= limit) return false;
  events.resize(static_cast<size_t>(limit));
  return true;
}

// `body` (JSON text) with the identifying values redacted (store/erasure.h), or nullopt
// when it holds none or is not JSON.
std::optional<std::string> RedactedBody(const std::string& body);

// What HQ knows of the customer an identifier names, for a till that does not know it yet
// (GET /v1/customers): their events from other stores, oldest first.
struct CustomerHistory {
  std::optional<std::string> customer_id;  // nullopt: nobody (or someone erased)
  std::vector<HqEvent> events;
  bool truncated = false;  // more than the limit: the rest comes with the next pull
};

// Storage for HQ. Every backend passes the same test suite (tests/unit/hq_store_test.cc).
//
// A store "knows" a customer from the first event it pushed naming them (the customer's
// `known_since`, that event's hq_seq). A pull for store S over (since, upto] returns the
// events of OTHER stores with after < hq_seq <= upto that are:
//   - identity events (IsIdentityKind) with hq_seq > since, for every store; or
//   - events of a customer S knows with known_since <= upto, either new (hq_seq > since)
//     or all of that customer's events when S came to know them in this window
//     (known_since > since): a store that first sees a customer gets their history.
// Merging on the till is by event id, so an event sent twice changes nothing.
class HqStore {
 public:
  virtual ~HqStore() = default;
  // Stores a batch, each event id once, in one transaction: all of it or nothing. New
  // events get the next hq_seqs, in batch order; a store comes to know each customer its
  // events name. An id already held with other content (not SameEvent) refuses the whole
  // batch with EventIdReused.
  virtual Result<IngestResult> Ingest(const HqBatch& batch) = 0;
  virtual Result<int64_t> EventCount() = 0;
  // One page of a pull (see above).
  virtual Result<PullPage> Pull(const PullQuery& query) = 0;
  // Every store's events with hq_seq > since, ascending, at most `limit`: the CRM export.
  virtual Result<std::vector<HqEvent>> EventsSince(int64_t since, int64_t limit) = 0;
  // A named hq_seq position kept by HQ for its own readers (the CRM webhook's "webhook"):
  // 0 when never written.
  virtual Result<int64_t> ReadCursor(const std::string& name) = 0;
  virtual Status WriteCursor(const std::string& name, int64_t value) = 0;
  // The customer whose enrolment or link carries identifier (kind, value), unless it is a
  // card they replaced since (a "card_replaced" event's old_identifier), and their
  // events from stores other than `store_id` (at most `limit`); `store_id` comes to know
  // them, so its next pulls bring what follows.
  virtual Result<CustomerHistory> LookUpCustomer(const std::string& store_id,
                                                 const std::string& kind, const std::string& value,
                                                 int64_t limit) = 0;
  // Records that the chain must forget a customer (docs/sync-protocol.md, "Erasure"):
  // appends an "erase" event of store HQ (till HQ) that every till pulls, and redacts the
  // identifying values in HQ's copies of their events (and of the profiles merged into
  // them), now and in any later batch. Idempotent: a second request returns the first
  // event.
  virtual Result<HqEvent> Erase(const std::string& customer_id, const std::string& reason,
                                int64_t at_ms) = 0;
};

// 'RGHQ': an HQ database, never mistaken for a till's ledger.
inline constexpr int64_t kHqApplicationId = 0x52474851;

class SqliteHqStore final : public HqStore {
 public:
  // The SQLite file at `path`, created when absent unless `if_missing` refuses.
  static Result<std::unique_ptr<SqliteHqStore>> Open(const std::string& path,
                                                     IfMissing if_missing = IfMissing::kCreate);
  Result<IngestResult> Ingest(const HqBatch& batch) override;
  Result<int64_t> EventCount() override;
  Result<PullPage> Pull(const PullQuery& query) override;
  Result<std::vector<HqEvent>> EventsSince(int64_t since, int64_t limit) override;
  Result<int64_t> ReadCursor(const std::string& name) override;
  Status WriteCursor(const std::string& name, int64_t value) override;
  Result<HqEvent> Erase(const std::string& customer_id, const std::string& reason,
                        int64_t at_ms) override;
  Result<CustomerHistory> LookUpCustomer(const std::string& store_id, const std::string& kind,
                                         const std::string& value, int64_t limit) override;
  Database& db() { return *db_; }

 private:
  explicit SqliteHqStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  std::unique_ptr<Database> db_;
};

}  // namespace regulars
