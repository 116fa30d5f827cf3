#include "store/schema.h"

#include <string>

namespace regulars {
namespace {

constexpr const char* kVersion1 = R"sql(
-- A customer, or a pseudonymous profile (recognized by a payment card only) that
-- accrues counters until the card is linked to a customer.
CREATE TABLE customers (
  id            TEXT PRIMARY KEY,
  created_at_ms INTEGER NOT NULL,
  store_id      TEXT NOT NULL,
  pseudonymous  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A pseudonymous profile merged into a customer: its events count as theirs.
CREATE TABLE merges (
  from_id TEXT PRIMARY KEY REFERENCES customers(id),
  into_id TEXT NOT NULL REFERENCES customers(id),
  at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX merges_by_customer ON merges (into_id);

-- What a customer agreed to, when and where (a payment card linked for recognition).
CREATE TABLE consents (
  id          INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  purpose     TEXT NOT NULL,
  text        TEXT NOT NULL,
  given_at_ms INTEGER NOT NULL,
  store_id    TEXT NOT NULL,
  till_id     TEXT NOT NULL,
  cashier_id  TEXT NOT NULL
) STRICT;

-- How a customer is recognized: (kind, value) such as ('card', '2900000000018').
CREATE TABLE identifiers (
  kind        TEXT NOT NULL,
  value       TEXT NOT NULL,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  PRIMARY KEY (kind, value)
) STRICT, WITHOUT ROWID;

-- The ledger: append-only; (store_id, till_id, seq) is unique across the chain.
CREATE TABLE events (
  store_id       TEXT NOT NULL,
  till_id        TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  at_ms          INTEGER NOT NULL,
  kind           TEXT NOT NULL,  -- enroll, sale, void, refund (docs/ledger.md); more to come
  customer_id    TEXT,
  pos_txn_id     TEXT,
  ref_pos_txn_id TEXT,
  body           TEXT NOT NULL,
  PRIMARY KEY (store_id, till_id, seq)
) STRICT;
CREATE INDEX events_by_customer ON events (customer_id, at_ms, store_id, till_id, seq)
  WHERE customer_id IS NOT NULL;
CREATE INDEX events_by_reference ON events (ref_pos_txn_id) WHERE ref_pos_txn_id IS NOT NULL;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- Derived from events in the same transaction; `regulars db verify` recomputes them.
CREATE TABLE counters (
  customer_id  TEXT NOT NULL,
  rule_id      TEXT NOT NULL,
  units        INTEGER NOT NULL,
  rewards      INTEGER NOT NULL,
  progress     INTEGER NOT NULL,
  over_granted INTEGER NOT NULL,
  PRIMARY KEY (customer_id, rule_id)
) STRICT, WITHOUT ROWID;

-- What this till answered to each POS transaction, so a retry gets the same answer.
CREATE TABLE transactions (
  pos_txn_id     TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
  request_digest TEXT NOT NULL,
  response       TEXT NOT NULL,
  customer_id    TEXT,
  event_store    TEXT NOT NULL,  -- the event that answered it: (store, till, seq)
  event_till     TEXT NOT NULL,
  event_seq      INTEGER NOT NULL
) STRICT;

-- Dynamic QR codes already used: a shared screenshot recognizes one basket at most.
CREATE TABLE qr_uses (
  code_digest TEXT PRIMARY KEY,
  pos_txn_id  TEXT NOT NULL,
  at_ms       INTEGER NOT NULL
) STRICT;

CREATE TABLE voids (
  pos_txn_id TEXT PRIMARY KEY REFERENCES transactions(pos_txn_id),
  response    TEXT NOT NULL,
  event_store TEXT NOT NULL,
  event_till  TEXT NOT NULL,
  event_seq   INTEGER NOT NULL
) STRICT;
)sql";

// Rewards beyond nth_unit (docs/rules.md) and goodwill (docs/goodwill.md).
constexpr const char* kVersion2 = R"sql(
-- What each sale, void or refund event did to a customer's visits and spend: derived
-- from the event's "visit" member in the same transaction (`regulars db verify` checks
-- it). Tiers, per-day caps, goodwill budgets and suggestions read it.
CREATE TABLE visits (
  store_id    TEXT NOT NULL,  -- the event: (store, till, seq)
  till_id     TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  at_ms       INTEGER NOT NULL,
  day         TEXT NOT NULL,     -- the basket's calendar day where it was sold, YYYY-MM-DD
  visits      INTEGER NOT NULL,  -- +1 for a sale, -1 when it is voided or wholly refunded
  spend       INTEGER NOT NULL,  -- what was paid, minor units; negative when given back
  discount    INTEGER NOT NULL,  -- discounts from rules, minor units
  goodwill    INTEGER NOT NULL,  -- goodwill gestures, minor units
  skus        TEXT NOT NULL,     -- the skus a sale held, as a JSON array (a sku may hold spaces)
  PRIMARY KEY (store_id, till_id, seq)
) STRICT;
CREATE INDEX visits_by_customer ON visits (customer_id, at_ms);

-- Goodwill gestures and their reversals, each entry carrying an HMAC of itself and of the
-- previous entry's HMAC: `regulars audit verify` finds altered, removed or reordered ones.
CREATE TABLE goodwill_audit (
  seq         INTEGER PRIMARY KEY,  -- 1, 2, 3... in this ledger
  at_ms       INTEGER NOT NULL,
  kind        TEXT NOT NULL,        -- grant or reversal
  store_id    TEXT NOT NULL,
  till_id     TEXT NOT NULL,
  cashier_id  TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  pos_txn_id  TEXT NOT NULL,
  amount      INTEGER NOT NULL,     -- minor units; negative for a reversal
  reason      TEXT NOT NULL,
  key_version INTEGER NOT NULL,     -- which audit key made `mac` (keys rotate)
  prev_mac    TEXT NOT NULL,        -- hex; the empty string for the first entry
  mac         TEXT NOT NULL         -- hex HMAC-SHA256
) STRICT;

-- What the nightly sync has done (docs/sync-protocol.md), key -> value: for instance
-- "pushed_seq", the highest seq of this till's own events HQ has acknowledged.
CREATE TABLE sync_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
)sql";

// Erasure (docs/ledger.md, "Erasure"): a customer HQ asked every till to forget. Their
// identifiers and consents are deleted and the identifying values in their events are
// redacted: the only change the append-only log ever allows, and only for them.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE erasures (
  customer_id TEXT PRIMARY KEY,
  at_ms       INTEGER NOT NULL,
  requested_by TEXT NOT NULL  -- the event that asked: (store, till, seq) as "S:T:seq"
) STRICT;
DROP TRIGGER events_are_append_only_update;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
  WHEN NOT EXISTS (SELECT 1 FROM erasures WHERE customer_id = OLD.customer_id)
    OR NEW.store_id IS NOT OLD.store_id OR NEW.till_id IS NOT OLD.till_id
    OR NEW.seq IS NOT OLD.seq OR NEW.at_ms IS NOT OLD.at_ms OR NEW.kind IS NOT OLD.kind
    OR NEW.customer_id IS NOT OLD.customer_id OR NEW.pos_txn_id IS NOT OLD.pos_txn_id
    OR NEW.ref_pos_txn_id IS NOT OLD.ref_pos_txn_id
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
)sql";

// A first name a customer gave at enrolment, for the cashier panel's greeting. Apart from
// the customer so erasure deletes it whole; the enrolment event carries it to other tills.
constexpr const char* kVersion4 = R"sql(
CREATE TABLE profiles (
  customer_id TEXT PRIMARY KEY,
  first_name  TEXT NOT NULL
) STRICT;
)sql";

// Whose the ledger is (docs/ledger.md, "Whose a ledger is"): one row, written when the
// ledger is created; a ledger made before this version adopts the first config that opens
// it after the upgrade.
constexpr const char* kVersion5 = R"sql(
CREATE TABLE ledger_owner (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  store_id TEXT NOT NULL,
  till_id  TEXT NOT NULL,
  currency TEXT NOT NULL
) STRICT;
)sql";

// The rule sets put in force (docs/rules.md, "Changing rules"), by version: a basket
// shown under one is committed under the same by any process on the ledger. The newest
// few are kept (store/rule_sets.h).
constexpr const char* kVersion6 = R"sql(
CREATE TABLE rule_sets (
  version    TEXT PRIMARY KEY,
  digest     TEXT NOT NULL,
  rules      TEXT NOT NULL,     -- {"rules": [...], "caps": {...}} as written, compact
  kept_seq   INTEGER NOT NULL,  -- the order they were put in force: the highest is newest
  kept_at_ms INTEGER NOT NULL
) STRICT;
)sql";

// Sales to a loyalty card nobody was known by, or a payment card linked to nobody (its
// keyed hash): credited to the customer the identifier turns out to name when its
// enrolment or link reaches this till (docs/ledger.md, "Sales to an unknown card").
constexpr const char* kVersion7 = R"sql(
CREATE TABLE unattributed_sales (
  kind  TEXT NOT NULL,     -- card, or payment_token (then value is the keyed hash)
  value TEXT NOT NULL,
  seq   INTEGER NOT NULL,  -- the sale, one of this till's own events
  at_ms INTEGER NOT NULL,
  pos_txn_id TEXT NOT NULL,
  credit TEXT NOT NULL,    -- {"counts", "visit"}: what the sale counts for a customer
  PRIMARY KEY (kind, value, seq)
) STRICT, WITHOUT ROWID;
-- Each unknown-card sale prunes rows past their 30 days: on this index, not a scan.
CREATE INDEX unattributed_sales_by_time ON unattributed_sales (at_ms);
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1}, {2, kVersion2}, {3, kVersion3}, {4, kVersion4},
    {5, kVersion5}, {6, kVersion6}, {7, kVersion7},
};

}  // namespace

std::span<const Migration> LedgerMigrations() { return kMigrations; }

Status PrepareLedger(Database& db, std::span<const Migration> migrations, int64_t application_id) {
  // Reading the schema first: a file that is not SQLite fails here, before any write.
  REGULARS_ASSIGN_OR_RETURN(auto tables, db.QueryInt("SELECT count(*) FROM sqlite_schema"));
  REGULARS_ASSIGN_OR_RETURN(auto app_id, db.QueryInt("PRAGMA application_id"));
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.error();

  bool fresh = tables == 0 && *version == 0 && app_id == 0;
  if (!fresh && app_id != application_id) {
    return Error::BadInput("database_unreadable",
                           application_id == kApplicationId
                               ? "this SQLite file is not a Regulars till ledger"
                               : "this SQLite file is not the kind of Regulars file expected here",
                           db.path());
  }
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*version > latest) {
    return Error::BadInput("database_too_new",
                           "database schema version " + std::to_string(*version) +
                               " is newer than this Regulars understands (up to " +
                               std::to_string(latest) + "); upgrade Regulars to open it",
                           db.path());
  }
  REGULARS_TRY(db.Exec("PRAGMA journal_mode=WAL"));
  REGULARS_TRY(db.Exec("PRAGMA synchronous=FULL"));
  REGULARS_TRY(db.Exec("PRAGMA foreign_keys=ON"));

  for (const auto& step : migrations) {
    if (step.version <= *version) continue;
    WriteTransaction txn(db);
    REGULARS_TRY(txn.Begin());
    // Another process may have upgraded the file while we waited for the lock.
    REGULARS_ASSIGN_OR_RETURN(auto now, db.QueryInt("PRAGMA user_version"));
    if (now >= step.version) continue;
    REGULARS_TRY(db.Exec(step.sql));
    REGULARS_TRY(db.Exec("PRAGMA application_id=" + std::to_string(application_id)));
    REGULARS_TRY(db.Exec("PRAGMA user_version=" + std::to_string(step.version)));
    REGULARS_TRY(txn.Commit());
  }
  return Status::Ok();
}

}  // namespace regulars
