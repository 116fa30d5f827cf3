// What the ledger's families read and write: events and their counts and visits, counters,
// customers, consents, transactions, and Verify's report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json_input.h"

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

// Whose a ledger is: the store and currency it was created for, and the till that created
// it. Tills of one store may share the file (docs/ledger.md); a config of another store or
// currency is refused at open (store/ledger_owner.h).
struct LedgerOwner {
  std::string store_id;
  std::string till_id;   // the till that created it
  std::string currency;  // ISO 4217 code

  bool operator==(const LedgerOwner&) const = default;
};

struct VerifyReport {
  LedgerOwner owner;  // whose the verified ledger is
  int64_t events = 0;
  int64_t counters = 0;
  std::vector<CounterMismatch> mismatches;
  std::vector<std::string> problems;  // other inconsistencies, in words
};

}  // namespace regulars
