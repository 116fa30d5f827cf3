// The till's ledger: one SQLite file holding customers and identifiers, the append-only
// event log, the counters and visits derived from it, and the answers given to each POS
// transaction. Each family of tables has its class; the ledger owns the file and the
// families, and callers reach them from here (`ledger.customers().Find(id)`).
#pragma once

#include <memory>
#include <string>

#include "result.h"
#include "store/counters.h"
#include "store/customers.h"
#include "store/event_log.h"
#include "store/ledger_types.h"
#include "store/rule_sets.h"
#include "store/sqlite.h"
#include "store/transactions.h"
#include "store/verify.h"
#include "store/visits.h"
#include "store/wal_checkpointer.h"

namespace regulars {

class Ledger {
 public:
  // Opens the ledger at `path` for `owner`, this store's till (see PrepareLedger), creating
  // it when absent unless `if_missing` says to refuse ("database_not_found", nothing
  // created). A ledger recorded for another store or currency is refused
  // ("ledger_belongs_elsewhere") before anything is written (store/ledger_owner.h).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& path, const LedgerOwner& owner,
                                              IfMissing if_missing = IfMissing::kCreate);
  // The families hold references to the database and to one another.
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Database& db() { return *db_; }
  Customers& customers() { return customers_; }
  Visits& visits() { return visits_; }
  Counters& counters() { return counters_; }
  Transactions& transactions() { return transactions_; }
  EventLog& events() { return events_; }
  RuleSets& rule_sets() { return rule_sets_; }

  // Recomputes every counter from the events and compares with the stored ones; checks
  // that every visit row equals its event's visit (store/verify.h). Read-only.
  // The report names whose the ledger is.
  Result<VerifyReport> Verify();

  // The recorded owner: this store and currency, and the till that created the ledger.
  const LedgerOwner& owner() const { return owner_; }

 private:
  // `owner` opens it (its till's events are this till's own); `recorded` is the record.
  Ledger(std::unique_ptr<Database> db, const LedgerOwner& owner, LedgerOwner recorded);

  LedgerOwner owner_;
  std::unique_ptr<Database> db_;
  Customers customers_;
  Visits visits_;
  Counters counters_;
  Transactions transactions_;
  EventLog events_;
  RuleSets rule_sets_;
  Verifier verifier_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // after db_: stops before it closes
};

}  // namespace regulars
