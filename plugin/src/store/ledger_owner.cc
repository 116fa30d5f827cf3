#include "store/ledger_owner.h"

namespace regulars {

Result<std::optional<LedgerOwner>> ReadOwner(Database& db) {
  REGULARS_ASSIGN_OR_RETURN(
      auto tables, db.QueryInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                               "name = 'ledger_owner'"));
  if (tables == 0) return std::optional<LedgerOwner>();
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT store_id, till_id, currency FROM ledger_owner WHERE id = 1"));
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<LedgerOwner> owner;
  if (row) owner = LedgerOwner{stmt->Text(0), stmt->Text(1), stmt->Text(2)};
  stmt->Reset();
  return owner;
}

Status CheckOwner(Database& db, const LedgerOwner& owner) {
  REGULARS_ASSIGN_OR_RETURN(auto recorded, ReadOwner(db));
  if (!recorded || (recorded->store_id == owner.store_id && recorded->currency == owner.currency)) {
    return Status::Ok();
  }
  return Error::BadInput("ledger_belongs_elsewhere",
                         db.path() + " belongs to store " + recorded->store_id + " in " +
                             recorded->currency + "; the config says store " + owner.store_id +
                             " in " + owner.currency,
                         db.path());
}

Result<LedgerOwner> ClaimOwner(Database& db, const LedgerOwner& owner) {
  REGULARS_ASSIGN_OR_RETURN(auto recorded, ReadOwner(db));
  if (!recorded) {
    REGULARS_ASSIGN_OR_RETURN(
        auto insert, db.Prepare("INSERT INTO ledger_owner (id, store_id, till_id, currency) "
                                "VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO NOTHING"));
    insert->Bind(1, owner.store_id).Bind(2, owner.till_id).Bind(3, owner.currency);
    REGULARS_TRY(insert->Run());
  }
  // Another process may have claimed it meanwhile, for another store.
  REGULARS_TRY(CheckOwner(db, owner));
  REGULARS_ASSIGN_OR_RETURN(recorded, ReadOwner(db));
  return recorded.value_or(owner);
}

}  // namespace regulars
