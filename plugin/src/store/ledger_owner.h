// Whose a ledger is. A ledger records the store and currency it was created for, and the
// till that created it (the `ledger_owner` table); a config of another store or currency
// is refused before anything is written: two stores' sales, or two currencies, never mix
// in one file. Tills of the same store may share it (docs/ledger.md).
#pragma once

#include <optional>
#include <string>

#include "result.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

// The recorded owner; nullopt for a ledger that has none yet (new, or made by a version
// before the record). Read-only.
Result<std::optional<LedgerOwner>> ReadOwner(Database& db);

// Refuses, with "ledger_belongs_elsewhere" naming both, a ledger recorded for another
// store or currency than `owner`'s. Reads only, so a refused file is left exactly as it was; a
// ledger without the record (or the table) passes.
Status CheckOwner(Database& db, const LedgerOwner& owner);

// Records `owner` when the ledger has no owner yet, leaving a recorded one as it is, and
// returns the recorded owner (refused as CheckOwner does when it is another store's).
Result<LedgerOwner> ClaimOwner(Database& db, const LedgerOwner& owner);

}  // namespace regulars
