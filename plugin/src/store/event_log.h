// The ledger's append-only event log (`events`) and what follows from it: each event
// appended here or pulled from HQ updates its customer's counters (store/counters.h) and
// visits (store/visits.h); merges and erasures change who the events belong to and what
// they say of them.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "json/json_input.h"
#include "result.h"
#include "store/counters.h"
#include "store/customers.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"
#include "store/visits.h"

namespace regulars {

// A sale event of a customer, with whether it was voided since.
struct CustomerSale {
  StoredEvent event;
  std::string pos_txn_id;
  bool voided = false;
};

// A sale this till made to an identifier nobody was known by, and what it would have
// counted for a customer (units counted, no rewards: the basket paid full price).
struct UnattributedSale {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string pos_txn_id;
  std::vector<CountDelta> counts;
  VisitDelta visit;
};

class EventLog {
 public:
  static constexpr int64_t kUnattributedDays = 30;

  // The log of till (store_id, till_id): Append writes its events.
  EventLog(Database& db, Customers& customers, Visits& visits, Counters& counters,
           std::string store_id, std::string till_id)
      : db_(db),
        customers_(customers),
        visits_(visits),
        counters_(counters),
        store_id_(std::move(store_id)),
        till_id_(std::move(till_id)) {}

  // --- Reads ---
  Result<StoredEvent> Find(const EventKey& key);
  // The latest time of the events that refer to a sale (its refunds and void), or 0.
  Result<int64_t> LatestReversalTime(const std::string& sale_txn_id);
  // Bodies of the refund events that refer to a sale, oldest first.
  Result<std::vector<Json>> RefundsOf(const std::string& sale_txn_id);
  // A customer's sales (and those of the profiles merged into them) that come after event
  // `after` at `at_ms` in canonical order, newest first.
  Result<std::vector<CustomerSale>> SalesAfter(const std::string& customer_id, int64_t at_ms,
                                               const EventKey& after);
  // A customer's counters recomputed from their events (and those of the profiles merged
  // into them) in canonical order (time, store, till, seq).
  Result<std::map<std::string, Counter>> Replay(const std::string& customer_id);
  // Whether this till holds a customer's history: they enrolled at this store, or it holds
  // an event of theirs beyond the enrolments, links and merges every store receives. A
  // customer another store enrolled arrives with the pull before their purchases do.
  Result<bool> HoldsHistoryOf(const std::string& customer_id);

  // --- Writes: the caller holds a WriteTransaction ---
  // Appends the event at this till and updates the customer's counters from its counts
  // and their visits from its visit.
  Result<EventKey> Append(const NewEvent& event);
  // Remembers that this till's sale went to an identifier nobody is known by, with what
  // it counts for a customer; kept `kUnattributedDays` days for its enrolment or link.
  Status RememberUnattributed(const std::string& kind, const std::string& value,
                              const UnattributedSale& sale);
  // Credits this till's sales remembered for (kind, value) to the customer the identifier
  // names now: one "credit" event per sale not voided or refunded since, carrying its
  // counts and visit. Returns how many were credited; each is credited once.
  Result<int64_t> CreditUnattributed(const std::string& kind, const std::string& value,
                                     int64_t now_ms);
  // Appends events of other tills, each once (an id already held is skipped), and applies
  // what they say: an enrolment adds its customer and identifier, a link its identifier
  // and consent, a merge its merge, a card replacement retires the old card and adds the
  // new one; visit rows come from "visit"; the counters of every
  // customer touched are replayed, so they converge whatever order events arrive in.
  // An identifier already held by another customer here stays theirs. Refuses (writing
  // nothing the caller commits) an event of this till or with a malformed body. Returns
  // how many were new.
  Result<int64_t> AppendForeign(const std::vector<ForeignEvent>& events);
  // Merges pseudonymous profile `from` into customer `into`: its identifiers point to
  // `into`, its events count as theirs (replay follows merges), its counters move over.
  Status Merge(const std::string& from, const std::string& into, int64_t at_ms);
  // Forgets who a customer is (docs/ledger.md, "Erasure"): their identifiers and
  // consents, and those of the profiles merged into them, are deleted, and the
  // identifying values in their events redacted. Their purchases and counters stay, under
  // a pseudonym nothing leads to any more. Idempotent. Returns how many events changed.
  Result<int64_t> Erase(const std::string& customer_id, int64_t at_ms,
                        const std::string& requested_by);

 private:
  // The seq of this till's next event.
  Result<int64_t> NextSeq();
  // Updates a customer's counters for their event `key` at `at_ms` with `counts`.
  Status Count(const std::string& customer_id, const EventKey& key, int64_t at_ms,
               const std::vector<CountDelta>& counts);
  // Replays a customer's counters and stores them.
  Status Recount(const std::string& customer_id);
  // Inserts another till's event unless its id is held; true when it was new. An erased
  // customer's identifying values are redacted on the way in.
  Result<bool> InsertForeign(const ForeignEvent& event, bool erased);
  // What another store's enrolment, link, card replacement or merge says of who a
  // customer is. Adds to
  // `touched` the customers whose counters a merge changes.
  Status ApplyForeignIdentity(const ForeignEvent& event, std::set<std::string>& touched);
  // Redacts the identifying values of one customer's enrolments, links and card
  // replacements; returns how many events changed.
  Result<int64_t> RedactEventsOf(const std::string& customer_id);

  Database& db_;
  Customers& customers_;
  Visits& visits_;
  Counters& counters_;
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
