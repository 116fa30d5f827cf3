#include "store/ledger.h"

#include <utility>

#include "store/ledger_owner.h"
#include "store/schema.h"

namespace regulars {

Ledger::Ledger(std::unique_ptr<Database> db, const LedgerOwner& owner, LedgerOwner recorded)
    : owner_(std::move(recorded)),
      db_(std::move(db)),
      customers_(*db_, owner.store_id, owner.till_id),
      visits_(*db_),
      counters_(*db_),
      transactions_(*db_),
      events_(*db_, customers_, visits_, counters_, owner.store_id, owner.till_id),
      rule_sets_(*db_),
      verifier_(*db_, events_, counters_, owner.store_id, owner.till_id) {}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path, const LedgerOwner& owner,
                                             IfMissing if_missing) {
  REGULARS_ASSIGN_OR_RETURN(auto db, Database::Open(path, if_missing));
  // Before PrepareLedger, which may write (WAL mode, migrations): a refused file is untouched.
  REGULARS_TRY(CheckOwner(*db, owner));
  REGULARS_TRY(PrepareLedger(*db, LedgerMigrations()));
  REGULARS_ASSIGN_OR_RETURN(auto recorded, ClaimOwner(*db, owner));
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(db), owner, std::move(recorded)));
  if (path != ":memory:") {
    REGULARS_ASSIGN_OR_RETURN(auto checkpointer, WalCheckpointer::Start(*ledger->db_));
    ledger->checkpointer_ = std::move(checkpointer);
  }
  return ledger;
}

Result<VerifyReport> Ledger::Verify() {
  REGULARS_ASSIGN_OR_RETURN(auto report, verifier_.Run());
  report.owner = owner_;
  return report;
}

}  // namespace regulars
