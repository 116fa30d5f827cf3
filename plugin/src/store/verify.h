// Verification of a ledger: every counter against the replay of its events, every visit
// row against its event's visit, the goodwill audit chain against the sales, every
// answered transaction against its event, and SQLite's own quick check. Read-only.
#pragma once

#include <string>

#include "result.h"
#include "store/counters.h"
#include "store/event_log.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

class Verifier {
 public:
  // Verifies the ledger of till (store_id, till_id): the goodwill of its own sales is in
  // its audit chain.
  Verifier(Database& db, EventLog& events, Counters& counters, std::string store_id,
           std::string till_id)
      : db_(db),
        events_(events),
        counters_(counters),
        store_id_(std::move(store_id)),
        till_id_(std::move(till_id)) {}

  // All the checks, in one snapshot.
  Result<VerifyReport> Run();

 private:
  // Adds to `report` each counter that differs from its replay.
  Status CheckCounters(VerifyReport& report);
  // Adds to `report` each visit row that differs from its event, or has none.
  Status CheckVisits(VerifyReport& report);
  // Adds to `report` each goodwill gesture without its grant, and each grant without it.
  Status CheckGoodwill(VerifyReport& report);
  // Adds to `report` the transactions without their event, and SQLite's quick check.
  Status CheckTransactionsAndFile(VerifyReport& report);

  Database& db_;
  EventLog& events_;
  Counters& counters_;
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
