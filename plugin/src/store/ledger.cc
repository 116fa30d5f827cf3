#include "store/ledger.h"

#include <utility>

#include "store/schema.h"

namespace regulars {

Ledger::Ledger(std::unique_ptr<Database> db, const std::string& store_id,
               const std::string& till_id)
    : db_(std::move(db)),
      customers_(*db_, store_id, till_id),
      visits_(*db_),
      counters_(*db_),
      transactions_(*db_),
      events_(*db_, customers_, visits_, counters_, store_id, till_id),
      verifier_(*db_, events_, counters_, store_id, till_id) {}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path, std::string store_id,
                                             std::string till_id, IfMissing if_missing) {
  REGULARS_ASSIGN_OR_RETURN(auto db, Database::Open(path, if_missing));
  REGULARS_TRY(PrepareLedger(*db, LedgerMigrations()));
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(db), store_id, till_id));
  if (path != ":memory:") {
    REGULARS_ASSIGN_OR_RETURN(auto checkpointer, WalCheckpointer::Start(*ledger->db_));
    ledger->checkpointer_ = std::move(checkpointer);
  }
  return ledger;
}

}  // namespace regulars
