#include "hq_store.h"

#include <sqlite3.h>

#include <climits>

#include "json/json_input.h"
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

constexpr Migration kHqMigrations[] = {{1, kHqVersion1}};

Result<std::optional<std::string>> OptionalText(const FieldReader& r, std::string_view key) {
  if (!r.Has(key)) return std::optional<std::string>();
  auto text = r.String(key, 200);
  if (!text.ok()) return text.error();
  return std::optional<std::string>(*text);
}

}  // namespace

Result<HqBatch> ParseBatch(const std::string& certificate_store, std::string_view text) {
  auto json = ParseJson(text, kCode);
  if (!json.ok()) return json.error();
  FieldReader r(*json, "", kCode);
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
  auto till = r.String("till_id", 64);
  if (!till.ok()) return till.error();
  batch.till_id = *till;
  auto first = r.Integer("first_seq", 1, INT64_MAX);
  if (!first.ok()) return first.error();
  auto last = r.Integer("last_seq", *first, INT64_MAX);
  if (!last.ok()) return last.error();
  batch.first_seq = *first;
  batch.last_seq = *last;
  auto events = r.Array("events");
  if (!events.ok()) return events.error();
  if ((*events)->size() > kMaxEventsPerBatch) {
    return r.Fail("events",
                  "a batch holds at most " + std::to_string(kMaxEventsPerBatch) + " events");
  }
  if (static_cast<int64_t>((*events)->size()) != *last - *first + 1) {
    return r.Fail("events", "a batch holds every seq from first_seq to last_seq, once");
  }
  for (size_t i = 0; i < (*events)->size(); ++i) {
    FieldReader e((**events)[i], JsonPointer(r.PointerTo("events"), i), kCode);
    REGULARS_TRY(e.RequireObject("an event"));
    HqEvent event;
    event.store_id = batch.store_id;
    event.till_id = batch.till_id;
    event.seq = *first + static_cast<int64_t>(i);
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
    auto at = e.Integer("at_ms", INT64_MIN, INT64_MAX);
    if (!at.ok()) return at.error();
    event.at_ms = *at;
    auto kind = e.String("kind", 32);
    if (!kind.ok()) return kind.error();
    event.kind = *kind;
    for (auto [key, field] :
         {std::pair{"customer_id", &event.customer_id}, std::pair{"pos_txn_id", &event.pos_txn_id},
          std::pair{"ref_pos_txn_id", &event.ref_pos_txn_id}}) {
      auto value = OptionalText(e, key);
      if (!value.ok()) return value.error();
      *field = *value;
    }
    if (!e.Has("body") || !e.Get("body").is_object()) return e.Fail("body", "body is an object");
    event.body = e.Get("body").dump(-1, ' ', false, Json::error_handler_t::replace);
    batch.events.push_back(std::move(event));
  }
  return batch;
}

Result<std::unique_ptr<SqliteHqStore>> SqliteHqStore::Open(const std::string& path) {
  auto db = Database::Open(path);
  if (!db.ok()) return db.error();
  REGULARS_TRY(PrepareLedger(**db, kHqMigrations, kHqApplicationId));
  return std::unique_ptr<SqliteHqStore>(new SqliteHqStore(std::move(db).value()));
}

Result<IngestResult> SqliteHqStore::Ingest(const HqBatch& batch) {
  WriteTransaction txn(*db_);
  REGULARS_TRY(txn.Begin());
  auto insert = db_->Prepare(
      "INSERT INTO events (id, store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id, "
      "ref_pos_txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT DO NOTHING");
  if (!insert.ok()) return insert.error();
  IngestResult result;
  for (const auto& e : batch.events) {
    Statement& s = **insert;
    s.Bind(1, e.id).Bind(2, e.store_id).Bind(3, e.till_id).Bind(4, e.seq).Bind(5, e.at_ms);
    s.Bind(6, e.kind);
    e.customer_id ? s.Bind(7, *e.customer_id) : s.BindNull(7);
    e.pos_txn_id ? s.Bind(8, *e.pos_txn_id) : s.BindNull(8);
    e.ref_pos_txn_id ? s.Bind(9, *e.ref_pos_txn_id) : s.BindNull(9);
    s.Bind(10, e.body);
    auto ran = s.Run();
    bool stored = sqlite3_changes(db_->handle()) > 0;
    s.Reset();
    if (!ran.ok()) return ran.error();
    ++(stored ? result.accepted : result.duplicates);
  }
  REGULARS_TRY(txn.Commit());
  result.acknowledged_seq = batch.last_seq;
  return result;
}

Result<int64_t> SqliteHqStore::EventCount() { return db_->QueryInt("SELECT count(*) FROM events"); }

}  // namespace regulars
