#include "hq/hq_store.h"

#include <sqlite3.h>

#include <climits>

#include "domain/timestamp.h"
#include "json/json_input.h"
#include "store/erasure.h"
#include "store/schema.h"

namespace regulars {
namespace {

constexpr const char* kCode = "invalid_batch";

constexpr const char* kHqVersion1 = R"sql(
-- Every event of every till, once (id = store:till:seq).
CREATE TABLE events (
  id             TEXT PRIMARY KEY,
  store_id       TEXT NOT NULL,
  till_id        TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  at_ms          INTEGER NOT NULL,
  kind           TEXT NOT NULL,
  customer_id    TEXT,
  pos_txn_id     TEXT,
  ref_pos_txn_id TEXT,
  body           TEXT NOT NULL,
  UNIQUE (store_id, till_id, seq)
) STRICT;
CREATE INDEX events_by_customer ON events (customer_id) WHERE customer_id IS NOT NULL;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql";

// Pull (docs/sync-protocol.md): the order HQ stored events in, and which store knows which
// customer. hq_seq is an explicit column, not the rowid, which VACUUM may renumber.
constexpr const char* kHqVersion2 = R"sql(
DROP TRIGGER events_are_append_only_update;
ALTER TABLE events ADD COLUMN hq_seq INTEGER;
UPDATE events SET hq_seq = rowid;
CREATE UNIQUE INDEX events_by_hq_seq ON events (hq_seq);
CREATE INDEX events_by_customer_seq ON events (customer_id, hq_seq) WHERE customer_id IS NOT NULL;
DROP INDEX events_by_customer;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- A store knows a customer from the first event it pushed naming them (known_since is
-- that event's hq_seq): its pulls then bring that customer's events from other stores.
CREATE TABLE store_customers (
  store_id    TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  known_since INTEGER NOT NULL,
  PRIMARY KEY (store_id, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX store_customers_by_time ON store_customers (store_id, known_since);
INSERT INTO store_customers
  SELECT store_id, customer_id, MIN(hq_seq) FROM events
  WHERE customer_id IS NOT NULL GROUP BY store_id, customer_id;
)sql";

// Positions HQ's own readers keep (the CRM webhook).
constexpr const char* kHqVersion3 = R"sql(
CREATE TABLE cursors (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
)sql";

// Erasure: customers the chain must forget (hq_seq of HQ's "erase" event). Their events'
// identifying values are redacted: the only update the append-only table allows.
constexpr const char* kHqVersion4 = R"sql(
CREATE TABLE erasures (
  customer_id TEXT PRIMARY KEY,
  hq_seq      INTEGER NOT NULL
) STRICT;
DROP TRIGGER events_are_append_only_update;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
  WHEN NOT EXISTS (SELECT 1 FROM erasures WHERE customer_id = OLD.customer_id)
    OR NEW.id IS NOT OLD.id OR NEW.store_id IS NOT OLD.store_id
    OR NEW.till_id IS NOT OLD.till_id OR NEW.seq IS NOT OLD.seq OR NEW.at_ms IS NOT OLD.at_ms
    OR NEW.kind IS NOT OLD.kind OR NEW.customer_id IS NOT OLD.customer_id
    OR NEW.pos_txn_id IS NOT OLD.pos_txn_id OR NEW.ref_pos_txn_id IS NOT OLD.ref_pos_txn_id
    OR NEW.hq_seq IS NOT OLD.hq_seq
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql";

// The online look-up: which customer an identifier names, on an index.
constexpr const char* kHqVersion5 = R"sql(
CREATE INDEX events_by_identifier ON events (json_extract(body, '$.identifier.value'))
  WHERE kind IN ('enroll', 'link');
)sql";

constexpr Migration kHqMigrations[] = {
    {1, kHqVersion1}, {2, kHqVersion2}, {3, kHqVersion3}, {4, kHqVersion4}, {5, kHqVersion5}};

constexpr const char* kEventColumns =
    "e.id, e.store_id, e.till_id, e.seq, e.at_ms, e.kind, e.customer_id, e.pos_txn_id, "
    "e.ref_pos_txn_id, e.body, e.hq_seq";

HqEvent ReadEvent(const Statement& s) {
  HqEvent e;
  e.id = s.Text(0);
  e.store_id = s.Text(1);
  e.till_id = s.Text(2);
  e.seq = s.Int(3);
  e.at_ms = s.Int(4);
  e.kind = s.Text(5);
  if (!s.IsNull(6)) e.customer_id = s.Text(6);
  if (!s.IsNull(7)) e.pos_txn_id = s.Text(7);
  if (!s.IsNull(8)) e.ref_pos_txn_id = s.Text(8);
  e.body = s.Text(9);
  e.hq_seq = s.Int(10);
  return e;
}

// Steps `s` to the end, reading each row as an event.
Result<std::vector<HqEvent>> ReadEvents(Statement& s) {
  std::vector<HqEvent> events;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.error();
    }
    if (!*row) break;
    events.push_back(ReadEvent(s));
  }
  s.Reset();
  return events;
}

Result<std::optional<std::string>> OptionalText(const FieldReader& r, std::string_view key) {
  if (!r.Has(key)) return std::optional<std::string>();
  REGULARS_ASSIGN_OR_RETURN(auto text, r.String(key, 200));
  return std::optional<std::string>(text);
}

}  // namespace

HqEvent EraseEvent(const std::string& customer_id, const std::string& reason, int64_t at_ms,
                   int64_t seq, int64_t hq_seq) {
  HqEvent e;
  e.store_id = e.till_id = kHqStoreId;
  e.seq = seq;
  e.id = e.store_id + ":" + e.till_id + ":" + std::to_string(seq);
  e.at_ms = at_ms;
  e.kind = "erase";
  e.customer_id = customer_id;
  OrderedJson body{{"customer", customer_id},
                   {"reason", reason},
                   {"requested_at", FormatTimestampUtc(at_ms)},
                   {"counts", OrderedJson::array()}};
  e.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  e.hq_seq = hq_seq;
  return e;
}

std::optional<std::string> RedactedBody(const std::string& body) {
  auto json = ParseJson(body, "database_unreadable");
  if (!json.ok() || !RedactIdentity(*json)) return std::nullopt;
  return json->dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool SameEvent(const HqEvent& held, const HqEvent& received) {
  return held.id == received.id && held.store_id == received.store_id &&
         held.till_id == received.till_id && held.seq == received.seq &&
         held.at_ms == received.at_ms && held.kind == received.kind &&
         held.customer_id == received.customer_id && held.pos_txn_id == received.pos_txn_id &&
         held.ref_pos_txn_id == received.ref_pos_txn_id && held.body == received.body;
}

Error EventIdReused(const HqEvent& received, size_t index) {
  return Error::Conflict(
      "event_id_reused",
      "event " + received.id + " (store " + received.store_id + ", till " + received.till_id +
          ", seq " + std::to_string(received.seq) +
          ") is held at HQ with other content: this till's ledger was replaced or restored "
          "from an older copy; nothing of this batch is stored",
      "/events/" + std::to_string(index));
}

Result<HqBatch> ParseBatch(const std::string& certificate_store, std::string_view text) {
  if (certificate_store == kHqStoreId) {
    return Error::BadInput("wrong_store", "store id HQ is HQ's own; no till may push as HQ",
                           "/store_id");
  }
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(text, kCode));
  FieldReader r(json, "", kCode);
  REGULARS_TRY(r.RequireObject("a batch"));
  HqBatch batch;
  auto store = r.String("store_id", 64);
  if (!store.ok()) return store.error();
  // The certificate says who is calling; a body never speaks for another store.
  if (*store != certificate_store) {
    return Error::BadInput("wrong_store",
                           "this certificate is store " + certificate_store + "'s, not " + *store,
                           "/store_id");
  }
  batch.store_id = *store;
  REGULARS_ASSIGN_OR_RETURN(auto till, r.String("till_id", 64));
  batch.till_id = till;
  REGULARS_ASSIGN_OR_RETURN(auto first, r.Integer("first_seq", 1, INT64_MAX));
  REGULARS_ASSIGN_OR_RETURN(auto last, r.Integer("last_seq", first, INT64_MAX));
  batch.first_seq = first;
  batch.last_seq = last;
  auto events = r.Array("events");
  if (!events.ok()) return events.error();
  if ((*events)->size() > kMaxEventsPerBatch) {
    return r.Fail("events",
                  "a batch holds at most " + std::to_string(kMaxEventsPerBatch) + " events");
  }
  if (static_cast<int64_t>((*events)->size()) != last - first + 1) {
    return r.Fail("events", "a batch holds every seq from first_seq to last_seq, once");
  }
  for (size_t i = 0; i < (*events)->size(); ++i) {
    FieldReader e((**events)[i], JsonPointer(r.PointerTo("events"), i), kCode);
    REGULARS_TRY(e.RequireObject("an event"));
    HqEvent event;
    event.store_id = batch.store_id;
    event.till_id = batch.till_id;
    event.seq = first + static_cast<int64_t>(i);
    auto id = e.String("id", 200);
    if (!id.ok()) return id.error();
    std::string expected = event.store_id + ":" + event.till_id + ":" + std::to_string(event.seq);
    if (*id != expected) {
      bool own = id->starts_with(event.store_id + ":");
      return Error::BadInput(
          own ? kCode : "wrong_store",
          "event " + std::to_string(i) + " should be " + expected + ", not " + *id,
          e.PointerTo("id"));
    }
    event.id = *id;
    REGULARS_ASSIGN_OR_RETURN(auto at, e.Integer("at_ms", INT64_MIN, INT64_MAX));
    event.at_ms = at;
    REGULARS_ASSIGN_OR_RETURN(auto kind, e.String("kind", 32));
    event.kind = kind;
    for (auto [key, field] :
         {std::pair{"customer_id", &event.customer_id}, std::pair{"pos_txn_id", &event.pos_txn_id},
          std::pair{"ref_pos_txn_id", &event.ref_pos_txn_id}}) {
      REGULARS_ASSIGN_OR_RETURN(auto value, OptionalText(e, key));
      *field = value;
    }
    if (!e.Has("body") || !e.Get("body").is_object()) return e.Fail("body", "body is an object");
    event.body = e.Get("body").dump(-1, ' ', false, Json::error_handler_t::replace);
    batch.events.push_back(std::move(event));
  }
  return batch;
}

Result<std::unique_ptr<SqliteHqStore>> SqliteHqStore::Open(const std::string& path,
                                                           IfMissing if_missing) {
  REGULARS_ASSIGN_OR_RETURN(auto db, Database::Open(path, if_missing));
  REGULARS_TRY(PrepareLedger(*db, kHqMigrations, kHqApplicationId));
  return std::unique_ptr<SqliteHqStore>(new SqliteHqStore(std::move(db)));
}

Result<IngestResult> SqliteHqStore::Ingest(const HqBatch& batch) {
  WriteTransaction txn(*db_);
  REGULARS_TRY(txn.Begin());
  // The write lock is held from here on, so hq_seqs follow commit order.
  REGULARS_ASSIGN_OR_RETURN(auto last,
                            db_->QueryInt("SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
  int64_t hq_seq = last;
  REGULARS_ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare(
          "INSERT INTO events (id, store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id, "
          "ref_pos_txn_id, body, hq_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
          "ON CONFLICT DO NOTHING"));
  REGULARS_ASSIGN_OR_RETURN(
      auto know,
      db_->Prepare(
          "INSERT INTO store_customers (store_id, customer_id, known_since) VALUES (?1, ?2, ?3) "
          "ON CONFLICT DO NOTHING"));
  REGULARS_ASSIGN_OR_RETURN(auto held, db_->Prepare(std::string("SELECT ") + kEventColumns +
                                                    " FROM events e WHERE e.id = ?1"));
  IngestResult result;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const HqEvent& e = batch.events[i];
    Statement& s = *insert;
    s.Bind(1, e.id).Bind(2, e.store_id).Bind(3, e.till_id).Bind(4, e.seq).Bind(5, e.at_ms);
    s.Bind(6, e.kind);
    e.customer_id ? s.Bind(7, *e.customer_id) : s.BindNull(7);
    e.pos_txn_id ? s.Bind(8, *e.pos_txn_id) : s.BindNull(8);
    e.ref_pos_txn_id ? s.Bind(9, *e.ref_pos_txn_id) : s.BindNull(9);
    std::optional<std::string> redacted;
    if (e.customer_id && IsIdentityKind(e.kind)) {
      REGULARS_ASSIGN_OR_RETURN(auto erased,
                                db_->Prepare("SELECT 1 FROM erasures WHERE customer_id = ?1"));
      erased->Bind(1, *e.customer_id);
      auto row = erased->Step();
      erased->Reset();
      if (!row.ok()) return row.error();
      if (*row) redacted = RedactedBody(e.body);
    }
    s.Bind(10, redacted ? *redacted : e.body).Bind(11, hq_seq + 1);
    auto ran = s.Run();
    bool stored = sqlite3_changes(db_->handle()) > 0;
    s.Reset();
    if (!ran.ok()) return ran.error();
    if (!stored) {
      // Returning before Commit rolls the whole batch back.
      held->Bind(1, e.id);
      REGULARS_ASSIGN_OR_RETURN(auto found, ReadEvents(*held));
      HqEvent received = e;
      if (redacted) received.body = *redacted;
      if (found.empty() || !SameEvent(found.front(), received)) return EventIdReused(e, i);
      ++result.duplicates;
      continue;
    }
    ++result.accepted;
    ++hq_seq;
    if (e.customer_id) {
      REGULARS_TRY(know->Bind(1, e.store_id).Bind(2, *e.customer_id).Bind(3, hq_seq).Run());
    }
  }
  REGULARS_TRY(txn.Commit());
  result.acknowledged_seq = batch.last_seq;
  return result;
}

Result<int64_t> SqliteHqStore::EventCount() { return db_->QueryInt("SELECT count(*) FROM events"); }

Result<PullPage> SqliteHqStore::Pull(const PullQuery& q) {
  PullPage page;
  page.upto = q.upto;
  if (page.upto == 0) {
    REGULARS_ASSIGN_OR_RETURN(auto last,
                              db_->QueryInt("SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
    page.upto = last;
  }
  // Two parts, each on an index: what is new in the window, and the history of the
  // customers the store came to know in it.
  auto select =
      db_->Prepare(std::string("SELECT ") + kEventColumns +
                   " FROM events e WHERE e.hq_seq > max(?2, ?3) AND e.hq_seq <= ?4"
                   " AND e.store_id <> ?1 AND (e.kind IN ('enroll', 'link', 'card_replaced', "
                   "'merge', 'erase') OR"
                   " EXISTS (SELECT 1 FROM store_customers k WHERE k.store_id = ?1"
                   " AND k.customer_id = e.customer_id AND k.known_since <= ?4))"
                   " UNION ALL SELECT " +
                   kEventColumns +
                   " FROM store_customers k JOIN events e ON e.customer_id = k.customer_id"
                   " WHERE k.store_id = ?1 AND k.known_since > ?2 AND k.known_since <= ?4"
                   " AND e.hq_seq > ?3 AND e.hq_seq <= ?2 AND e.store_id <> ?1"
                   " ORDER BY 11 LIMIT ?5");
  if (!select.ok()) return select.error();
  (*select)->Bind(1, q.store_id).Bind(2, q.since).Bind(3, q.after).Bind(4, page.upto);
  (*select)->Bind(5, q.limit + 1);
  REGULARS_ASSIGN_OR_RETURN(auto events, ReadEvents(**select));
  page.events = std::move(events);
  page.more = TrimToLimit(page.events, q.limit);
  return page;
}

Result<std::vector<HqEvent>> SqliteHqStore::EventsSince(int64_t since, int64_t limit) {
  REGULARS_ASSIGN_OR_RETURN(
      auto select, db_->Prepare(std::string("SELECT ") + kEventColumns +
                                " FROM events e WHERE e.hq_seq > ?1 ORDER BY e.hq_seq LIMIT ?2"));
  select->Bind(1, since).Bind(2, limit);
  return ReadEvents(*select);
}

Result<int64_t> SqliteHqStore::ReadCursor(const std::string& name) {
  REGULARS_ASSIGN_OR_RETURN(auto select, db_->Prepare("SELECT value FROM cursors WHERE name = ?1"));
  select->Bind(1, name);
  REGULARS_ASSIGN_OR_RETURN(auto row, select->Step());
  int64_t value = row ? select->Int(0) : 0;
  select->Reset();
  return value;
}

Status SqliteHqStore::WriteCursor(const std::string& name, int64_t value) {
  REGULARS_ASSIGN_OR_RETURN(
      auto upsert, db_->Prepare("INSERT INTO cursors (name, value) VALUES (?1, ?2) "
                                "ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
  return upsert->Bind(1, name).Bind(2, value).Run();
}

Result<HqEvent> SqliteHqStore::Erase(const std::string& customer_id, const std::string& reason,
                                     int64_t at_ms) {
  WriteTransaction txn(*db_);
  REGULARS_TRY(txn.Begin());
  auto find = [&](const std::string& sql, const std::string& key) -> Result<std::vector<HqEvent>> {
    REGULARS_ASSIGN_OR_RETURN(auto select, db_->Prepare(sql));
    select->Bind(1, key);
    return ReadEvents(*select);
  };
  // Asked before: the same event.
  REGULARS_ASSIGN_OR_RETURN(auto earlier,
                            find(std::string("SELECT ") + kEventColumns +
                                     " FROM erasures x JOIN events e ON e.hq_seq = x.hq_seq"
                                     " WHERE x.customer_id = ?1",
                                 customer_id));
  if (!earlier.empty()) return earlier.front();

  REGULARS_ASSIGN_OR_RETURN(auto last,
                            db_->QueryInt("SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
  auto seq = db_->QueryInt(
      "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE store_id = 'HQ' AND till_id = 'HQ'");
  if (!seq.ok()) return seq.error();
  HqEvent e = EraseEvent(customer_id, reason, at_ms, *seq, last + 1);
  REGULARS_ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare(
          "INSERT INTO events (id, store_id, till_id, seq, at_ms, kind, customer_id, body, hq_seq) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  REGULARS_TRY((insert)
                   ->Bind(1, e.id)
                   .Bind(2, e.store_id)
                   .Bind(3, e.till_id)
                   .Bind(4, e.seq)
                   .Bind(5, e.at_ms)
                   .Bind(6, e.kind)
                   .Bind(7, customer_id)
                   .Bind(8, e.body)
                   .Bind(9, e.hq_seq)
                   .Run());

  // The customer and the pseudonymous profiles merged into them.
  REGULARS_ASSIGN_OR_RETURN(
      auto merged,
      db_->Prepare("SELECT json_extract(body, '$.from') FROM events WHERE kind = 'merge' AND "
                   "customer_id = ?1 AND json_valid(body)"));
  merged->Bind(1, customer_id);
  std::vector<std::string> family{customer_id};
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, merged->Step());
    if (!row) break;
    if (!merged->IsNull(0)) family.push_back(merged->Text(0));
  }
  merged->Reset();
  for (const auto& id : family) {
    REGULARS_ASSIGN_OR_RETURN(
        auto mark,
        db_->Prepare(
            "INSERT INTO erasures (customer_id, hq_seq) VALUES (?1, ?2) ON CONFLICT DO NOTHING"));
    REGULARS_TRY(mark->Bind(1, id).Bind(2, e.hq_seq).Run());
    REGULARS_ASSIGN_OR_RETURN(auto identity,
                              find(std::string("SELECT ") + kEventColumns +
                                       " FROM events e WHERE e.customer_id = ?1 AND"
                                       " e.kind IN ('enroll', 'link', 'card_replaced')",
                                   id));
    for (const auto& event : identity) {
      auto redacted = RedactedBody(event.body);
      if (!redacted) continue;
      REGULARS_ASSIGN_OR_RETURN(auto update,
                                db_->Prepare("UPDATE events SET body = ?2 WHERE id = ?1"));
      REGULARS_TRY(update->Bind(1, event.id).Bind(2, *redacted).Run());
    }
  }
  REGULARS_TRY(txn.Commit());
  return e;
}

Result<CustomerHistory> SqliteHqStore::LookUpCustomer(const std::string& store_id,
                                                      const std::string& kind,
                                                      const std::string& value, int64_t limit) {
  WriteTransaction txn(*db_);
  REGULARS_TRY(txn.Begin());
  CustomerHistory history;
  REGULARS_ASSIGN_OR_RETURN(
      auto who,
      db_->Prepare(
          "SELECT customer_id FROM events WHERE kind IN ('enroll', 'link') AND "
          "json_extract(body, '$.identifier.value') = ?1 AND "
          "json_extract(body, '$.identifier.kind') = ?2 AND customer_id IS NOT NULL AND "
          "customer_id NOT IN (SELECT customer_id FROM erasures) AND NOT EXISTS (SELECT 1 FROM "
          "events r WHERE r.customer_id = events.customer_id AND r.kind = 'card_replaced' AND "
          "json_extract(r.body, '$.old_identifier.value') = ?1) ORDER BY hq_seq LIMIT 1"));
  who->Bind(1, value).Bind(2, kind);
  REGULARS_ASSIGN_OR_RETURN(auto row, who->Step());
  if (row) history.customer_id = who->Text(0);
  who->Reset();
  if (!history.customer_id) return history;

  REGULARS_ASSIGN_OR_RETURN(
      auto select, db_->Prepare(std::string("SELECT ") + kEventColumns +
                                " FROM events e WHERE e.customer_id = ?1 AND e.store_id <> ?2"
                                " ORDER BY e.hq_seq LIMIT ?3"));
  select->Bind(1, *history.customer_id).Bind(2, store_id).Bind(3, limit + 1);
  auto events = ReadEvents(*select);
  if (!events.ok()) return events.error();
  history.events = std::move(events).value();
  history.truncated = TrimToLimit(history.events, limit);
  // Known from now on: the next pulls bring what they do next, and the rest of a long
  // history (known_since is now, so the backfill covers everything before).
  REGULARS_ASSIGN_OR_RETURN(auto last,
                            db_->QueryInt("SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
  REGULARS_ASSIGN_OR_RETURN(
      auto know,
      db_->Prepare(
          "INSERT INTO store_customers (store_id, customer_id, known_since) VALUES (?1, ?2, ?3) "
          "ON CONFLICT DO NOTHING"));
  REGULARS_TRY(know->Bind(1, store_id).Bind(2, *history.customer_id).Bind(3, last).Run());
  REGULARS_TRY(txn.Commit());
  return history;
}

}  // namespace regulars
