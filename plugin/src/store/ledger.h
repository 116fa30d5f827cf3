// The till's ledger: customers, identifiers, the append-only event log, the counters
// derived from it, and the answers given to each POS transaction.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "json/json_input.h"
#include "store/sqlite.h"
#include "store/wal_checkpointer.h"

namespace regulars {

// A change to one (customer, rule) counter carried by an event: units bought (negative
// when returned) and rewards granted (negative when withdrawn), under the rule's `every`
// at the time, so replay never depends on today's rules.
struct CountDelta {
  std::string rule;
  int64_t every = 0;
  int64_t units = 0;
  int64_t rewards = 0;
};

// What one event did to a customer's visits and spend (sale: +1 visit and what was paid;
// void or a refund: the negative of what it gave back; -1 visit when a void or refund
// leaves the sale empty). Tiers, per-day caps, goodwill budgets and suggestions sum these.
struct VisitDelta {
  std::string day;  // YYYY-MM-DD, the basket's calendar day where it was sold
  int64_t visits = 0;
  int64_t spend = 0;              // minor units
  int64_t discount = 0;           // minor units of rule discounts
  int64_t goodwill = 0;           // minor units of goodwill
  std::vector<std::string> skus;  // a sale's distinct skus, in basket order
  // When it counts in a tier's window: a reversal counts at its sale's time, so it never
  // takes a visit out of a window the sale was never in. Absent: the event's time.
  std::optional<int64_t> at_ms{};

  bool operator==(const VisitDelta&) const = default;
};

// A row of the `visits` table: when its event happened and what it did.
struct VisitRow {
  int64_t at_ms = 0;
  VisitDelta delta;
};

// A (customer, rule) counter. `progress` is units toward the next reward; it never goes
// below zero: what would, is recorded in `over_granted` (two offline tills both granting).
struct Counter {
  int64_t units = 0;
  int64_t rewards = 0;
  int64_t progress = 0;
  int64_t over_granted = 0;

  // False (and unchanged) if the result would overflow.
  [[nodiscard]] bool Apply(const CountDelta& delta);
  bool operator==(const Counter&) const = default;
};

// An event's chain-wide id: written "S001:T01:42".
struct EventKey {
  std::string store_id;
  std::string till_id;
  int64_t seq = 0;

  std::string ToString() const { return store_id + ":" + till_id + ":" + std::to_string(seq); }
};

struct StoredEvent {
  int64_t at_ms = 0;
  Json body;
};

struct NewEvent {
  std::string kind;  // enroll, sale, void, refund
  int64_t at_ms = 0;
  std::optional<std::string> customer_id;
  std::optional<std::string> pos_txn_id;
  std::optional<std::string> ref_pos_txn_id;
  std::vector<CountDelta> counts;  // written into the body as "counts"
  // Written into the body as "visit": {"day", "visits", "spend", "discount", "goodwill",
  // "skus": [...]}, and into `visits` when the event has a customer. Append owns the
  // member: a `body` that sets "visit" itself is refused.
  std::optional<VisitDelta> visit;
  OrderedJson body;  // everything else the event says
};

// An event of another till, as a pull from HQ brings it (docs/sync-protocol.md).
struct ForeignEvent {
  EventKey key;
  int64_t at_ms = 0;
  std::string kind;
  std::optional<std::string> customer_id{};
  std::optional<std::string> pos_txn_id{};
  std::optional<std::string> ref_pos_txn_id{};
  Json body;  // as its till wrote it: counts, visit, identifier...
};

// A customer as an identifier finds them.
struct CustomerRef {
  std::string id;
  bool pseudonymous = false;
};

struct Consent {
  std::string customer_id;
  std::string purpose;
  std::string text;
  int64_t given_at_ms = 0;
  std::string cashier_id;
  // Where it was given: empty means this till (a consent pulled from HQ names its own).
  std::string store_id{};
  std::string till_id{};
};

struct StoredTransaction {
  std::string kind;  // sale or refund
  std::string request_digest;
  std::string response;
  std::optional<std::string> customer_id;
  EventKey event;
};

// One counter that differs from the recomputation of its events.
struct CounterMismatch {
  std::string customer_id;
  std::string rule;
  Counter stored;
  Counter recomputed;
};

struct VerifyReport {
  int64_t events = 0;
  int64_t counters = 0;
  std::vector<CounterMismatch> mismatches;
  std::vector<std::string> problems;  // other inconsistencies, in words
};

class Ledger {
 public:
  // Opens or creates the ledger at `path` for this store's till (see PrepareLedger).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& path, std::string store_id,
                                              std::string till_id);

  Database& db() { return *db_; }

  // --- Reads ---
  Result<std::optional<CustomerRef>> CustomerByIdentifier(const std::string& kind,
                                                          const std::string& value);
  Result<std::optional<CustomerRef>> FindCustomer(const std::string& id);
  // The customer a profile merged into, or `id` itself.
  Result<std::string> RootOf(const std::string& id);
  Result<std::map<std::string, Counter>> CountersOf(const std::string& customer_id);
  Result<std::optional<StoredTransaction>> FindTransaction(const std::string& pos_txn_id);
  Result<std::optional<std::string>> FindVoid(const std::string& pos_txn_id);
  Result<StoredEvent> FindEvent(const EventKey& key);
  // The basket a dynamic QR code was used for, if any.
  Result<std::optional<std::string>> QrUsedBy(const std::string& code_digest);
  // The latest time of the events that refer to a sale (its refunds and void), or 0.
  Result<int64_t> LatestReversalTime(const std::string& sale_txn_id);
  // Bodies of the refund events that refer to a sale, oldest first.
  Result<std::vector<Json>> RefundsOf(const std::string& sale_txn_id);
  // A customer's visits: `customer_id` is a customer as identifiers find them, and the
  // rows of the profiles merged into them count as theirs (replay's rule).
  // Their rows with at_ms >= from_ms, in canonical order (time, store, till, seq).
  // Without `with_skus`, the rows' skus are left empty (cheaper: tiers need none).
  Result<std::vector<VisitRow>> VisitsSince(const std::string& customer_id, int64_t from_ms,
                                            bool with_skus = true);
  // The sums of their rows on `day` (YYYY-MM-DD): visits, spend, discount and goodwill;
  // skus is empty. A void or refund counts on its sale's day, which is its row's `day`.
  Result<VisitDelta> DayTotals(const std::string& customer_id, const std::string& day);
  // Their last `limit` sales (rows with visits > 0), newest first; none when limit <= 0.
  // A sale voided or wholly refunded since is left out: its reversal's row carries the
  // sale's time (VisitDelta::at_ms) and visits -1.
  Result<std::vector<VisitRow>> RecentSales(const std::string& customer_id, int limit);

  // --- Writes: the caller holds a WriteTransaction ---
  Status AddCustomer(const std::string& customer_id, int64_t at_ms, const std::string& kind,
                     const std::string& value, bool pseudonymous = false);
  Status RecordQrUse(const std::string& code_digest, const std::string& pos_txn_id, int64_t at_ms);
  Status AddIdentifier(const std::string& kind, const std::string& value,
                       const std::string& customer_id);
  // Records what a customer agreed to, here and now; returns the consent's id.
  Result<int64_t> AddConsent(const Consent& consent);
  // Merges pseudonymous profile `from` into customer `into`: its identifiers point to
  // `into`, its events count as theirs (replay follows merges), its counters move over.
  Status Merge(const std::string& from, const std::string& into, int64_t at_ms);
  // Appends the event at this till and updates the customer's counters from its counts
  // and their visits from its visit.
  Result<EventKey> Append(const NewEvent& event);
  // Appends events of other tills, each once (an id already held is skipped), and applies
  // what they say: an enrolment adds its customer and identifier, a link its identifier
  // and consent, a merge its merge; visit rows come from "visit"; the counters of every
  // customer touched are replayed, so they converge whatever order events arrive in.
  // An identifier already held by another customer here stays theirs. Refuses (writing
  // nothing the caller commits) an event of this till or with a malformed body. Returns
  // how many were new.
  Result<int64_t> AppendForeign(const std::vector<ForeignEvent>& events);
  // Forgets who a customer is (docs/ledger.md, "Erasure"): their identifiers and
  // consents, and those of the profiles merged into them, are deleted, and the
  // identifying values in their events redacted. Their purchases and counters stay, under
  // a pseudonym nothing leads to any more. Idempotent. Returns how many events changed.
  Result<int64_t> Erase(const std::string& customer_id, int64_t at_ms,
                        const std::string& requested_by);
  Result<bool> IsErased(const std::string& customer_id);

  // A customer's first name, when they gave one (schema v4 `profiles`).
  Status SetFirstName(const std::string& customer_id, const std::string& first_name);
  Result<std::optional<std::string>> FirstName(const std::string& customer_id);
  Status RecordTransaction(const std::string& pos_txn_id, const StoredTransaction& txn);
  Status RecordVoid(const std::string& pos_txn_id, const std::string& response,
                    const EventKey& event);

  // Recomputes every counter from the events and compares with the stored ones; checks
  // that every visit row equals its event's visit. Read-only.
  Result<VerifyReport> Verify();

 private:
  Ledger(std::unique_ptr<Database> db, std::string store_id, std::string till_id)
      : db_(std::move(db)), store_id_(std::move(store_id)), till_id_(std::move(till_id)) {}

  // The first column of the row `sql` finds for `key` (bound as ?1), if any.
  Result<std::optional<std::string>> TextByKey(const std::string& sql, const std::string& key);
  // Replays a customer's events in canonical order (time, store, till, seq).
  Result<std::map<std::string, Counter>> Replay(const std::string& customer_id);
  Status StoreCounter(const std::string& customer_id, const std::string& rule, const Counter& c);
  // The `visits` row of event `key`, for its customer.
  Status InsertVisit(const EventKey& key, const std::string& customer_id, int64_t at_ms,
                     const VisitDelta& visit);
  // Inserts another till's event unless its id is held; true when it was new. An erased
  // customer's identifying values are redacted on the way in.
  Result<bool> InsertForeign(const ForeignEvent& event, bool erased);
  Status AddForeignCustomer(const std::string& id, int64_t at_ms, const std::string& store_id,
                            bool pseudonymous);
  // What another store's enrolment, link or merge says of who a customer is. Adds to
  // `touched` the customers whose counters a merge changes.
  Status ApplyForeignIdentity(const ForeignEvent& event, std::set<std::string>& touched);
  // Adds to `report` each visit row that differs from its event, or has none.
  Status VerifyVisits(VerifyReport& report);

  std::unique_ptr<Database> db_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // after db_: stops before it closes
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
