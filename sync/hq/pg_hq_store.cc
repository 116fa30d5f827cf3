#include "hq/pg_hq_store.h"

#include <libpq-fe.h>

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

namespace regulars {
namespace {

// Advisory lock keys, the same in every regulars-hq ('RGHQ' and a number). A lock is
// database-wide: two HQ schemas in one database only wait for each other a little.
constexpr const char* kLockSchema = "SELECT pg_advisory_xact_lock(1380403281000001)";
constexpr const char* kLockNumbering = "SELECT pg_advisory_xact_lock(1380403281000002)";

constexpr const char* kSchemaVersion1 = R"sql(
-- Every event of every till, once (id = store:till:seq), numbered by hq_seq in the
-- order HQ committed them (see Ingest).
CREATE TABLE events (
  hq_seq         bigint PRIMARY KEY,
  id             text NOT NULL UNIQUE,
  store_id       text NOT NULL,
  till_id        text NOT NULL,
  seq            bigint NOT NULL,
  at_ms          bigint NOT NULL,
  kind           text NOT NULL,
  customer_id    text,
  pos_txn_id     text,
  ref_pos_txn_id text,
  body           text NOT NULL,  -- JSON as the till sent it (jsonb would reorder it)
  UNIQUE (store_id, till_id, seq)
);
CREATE INDEX events_by_customer ON events (customer_id, hq_seq) WHERE customer_id IS NOT NULL;
CREATE FUNCTION regulars_hq_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION regulars_hq_append_only();
CREATE TRIGGER events_are_never_truncated BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION regulars_hq_append_only();
-- A store knows a customer from the first event it pushed naming them (known_since is
-- that event's hq_seq): its pulls then bring that customer's events from other stores.
CREATE TABLE store_customers (
  store_id    text NOT NULL,
  customer_id text NOT NULL,
  known_since bigint NOT NULL,
  PRIMARY KEY (store_id, customer_id)
);
CREATE INDEX store_customers_by_time ON store_customers (store_id, known_since);
)sql";

// Erasure: customers the chain must forget (hq_seq of HQ's "erase" event). Redacting their
// events' identifying values is the only update the append-only table allows.
constexpr const char* kSchemaVersion2 = R"sql(
CREATE TABLE erasures (
  customer_id text PRIMARY KEY,
  hq_seq      bigint NOT NULL
);
CREATE OR REPLACE FUNCTION regulars_hq_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM erasures WHERE customer_id = OLD.customer_id)
     AND (NEW.hq_seq, NEW.id, NEW.store_id, NEW.till_id, NEW.seq, NEW.at_ms, NEW.kind,
          NEW.customer_id, NEW.pos_txn_id, NEW.ref_pos_txn_id)
         IS NOT DISTINCT FROM
         (OLD.hq_seq, OLD.id, OLD.store_id, OLD.till_id, OLD.seq, OLD.at_ms, OLD.kind,
          OLD.customer_id, OLD.pos_txn_id, OLD.ref_pos_txn_id) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'events are append-only';
END $$;
)sql";

// The online look-up: which customer an identifier names, on an index.
constexpr const char* kSchemaVersion3 = R"sql(
CREATE INDEX events_by_identifier ON events (((body::jsonb) -> 'identifier' ->> 'value'))
  WHERE kind IN ('enroll', 'link');
)sql";

// The columns HqEvent is read from, in ReadEvents' order.
#define REGULARS_EVENT_COLUMNS                                                         \
  "e.id, e.store_id, e.till_id, e.seq, e.at_ms, e.kind, e.customer_id, e.pos_txn_id, " \
  "e.ref_pos_txn_id, e.body, e.hq_seq"

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;
using Param = std::optional<std::string>;  // text; nullopt is NULL

Param Int(int64_t v) { return std::to_string(v); }

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

Error Unavailable(PGconn* conn) {
  return {ErrorKind::kStorage,
          "hq_unavailable",
          "cannot reach the PostgreSQL server: " + Trimmed(PQerrorMessage(conn)),
          {}};
}

// A failed statement; a lost connection is "hq_unavailable" (the caller may retry).
Error Failed(PGconn* conn, const PGresult* r, std::string_view what) {
  if (PQstatus(conn) == CONNECTION_BAD) return Unavailable(conn);
  return Error::Storage(std::string(what) + ": " +
                        Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn)));
}

// One statement, parameters always sent apart from the SQL text.
Result<PgResult> Exec(PGconn* conn, const char* sql, const std::vector<Param>& params = {}) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult r(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0));
  auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failed(conn, r.get(), "PostgreSQL refused a statement");
  }
  return r;
}

Result<int64_t> IntAt(const PGresult* r, int row, int column) {
  const char* text = PQgetvalue(r, row, column);
  const char* end = text + PQgetlength(r, row, column);
  int64_t value = 0;
  auto [stop, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || stop != end) {
    return Error::Internal("PostgreSQL returned " + std::string(text) + " for an integer");
  }
  return value;
}

Result<int64_t> QueryInt(PGconn* conn, const char* sql) {
  REGULARS_ASSIGN_OR_RETURN(auto r, Exec(conn, sql));
  return IntAt(r.get(), 0, 0);
}

Result<std::vector<HqEvent>> ReadEvents(const PGresult* r) {
  std::vector<HqEvent> events;
  auto text = [r](int row, int column) -> std::optional<std::string> {
    if (PQgetisnull(r, row, column)) return std::nullopt;
    return std::string(PQgetvalue(r, row, column), PQgetlength(r, row, column));
  };
  for (int row = 0; row < PQntuples(r); ++row) {
    HqEvent e;
    e.id = *text(row, 0);
    e.store_id = *text(row, 1);
    e.till_id = *text(row, 2);
    for (auto [column, field] :
         {std::pair{3, &e.seq}, std::pair{4, &e.at_ms}, std::pair{10, &e.hq_seq}}) {
      REGULARS_ASSIGN_OR_RETURN(auto value, IntAt(r, row, column));
      *field = value;
    }
    e.kind = *text(row, 5);
    e.customer_id = text(row, 6);
    e.pos_txn_id = text(row, 7);
    e.ref_pos_txn_id = text(row, 8);
    e.body = *text(row, 9);
    events.push_back(std::move(e));
  }
  return events;
}

// BEGIN .. COMMIT, rolled back when left without Commit (an error on the way).
class PgTransaction {
 public:
  explicit PgTransaction(PGconn* conn) : conn_(conn) {}
  ~PgTransaction() {
    if (open_) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  // READ COMMITTED whatever the server's default: each statement sees what committed
  // before it began, which Ingest's numbering relies on.
  Status Begin() {
    auto r = Exec(conn_, "BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!r.ok()) return r.error();
    open_ = true;
    return {};
  }
  Status Commit() {
    open_ = false;
    REGULARS_ASSIGN_OR_RETURN(auto r, Exec(conn_, "COMMIT"));
    // COMMIT of a failed transaction succeeds as ROLLBACK: that is not stored.
    if (std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
      return Error::Storage("PostgreSQL rolled the transaction back");
    }
    return {};
  }

 private:
  PGconn* conn_;
  bool open_ = false;
};

// Creates the schema in an empty database, or checks the version of an existing one.
Status PrepareSchema(PGconn* conn) {
  PgTransaction txn(conn);
  REGULARS_TRY(txn.Begin());
  // Two regulars-hq starting together on an empty database must not both create it.
  REGULARS_TRY(Exec(conn, kLockSchema));
  REGULARS_TRY(Exec(conn,
                    "CREATE TABLE IF NOT EXISTS regulars_hq_meta ("
                    "key text PRIMARY KEY, value bigint NOT NULL)"));
  auto found = Exec(conn, "SELECT value FROM regulars_hq_meta WHERE key = 'schema_version'");
  if (!found.ok()) return found.error();
  if (PQntuples(found->get()) == 0) {
    // PQexec runs the several statements of the script; it takes no input.
    for (const char* script : {kSchemaVersion1, kSchemaVersion2, kSchemaVersion3}) {
      PgResult r(PQexec(conn, script));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        return Failed(conn, r.get(), "cannot create the HQ schema");
      }
    }
    REGULARS_TRY(Exec(conn, "INSERT INTO regulars_hq_meta VALUES ('schema_version', $1)",
                      {Int(kPgHqSchemaVersion)}));
  } else {
    auto version = IntAt(found->get(), 0, 0);
    if (!version.ok()) return version.error();
    if (*version > kPgHqSchemaVersion) {
      return Error{ErrorKind::kStorage,
                   "hq_schema_too_new",
                   "this HQ database has schema version " + std::to_string(*version) +
                       "; this regulars-hq knows up to version " +
                       std::to_string(kPgHqSchemaVersion) + ": upgrade regulars-hq",
                   {}};
    }
    // Step by step from the version found.
    const char* steps[] = {kSchemaVersion2, kSchemaVersion3};
    for (int64_t next = *version + 1; next <= kPgHqSchemaVersion; ++next) {
      PgResult r(PQexec(conn, steps[next - 2]));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        return Failed(conn, r.get(),
                      "cannot upgrade the HQ schema to version " + std::to_string(next));
      }
      REGULARS_TRY(Exec(conn, "UPDATE regulars_hq_meta SET value = $1 WHERE key = 'schema_version'",
                        {Int(next)}));
    }
  }
  return txn.Commit();
}

Status CopyBatch(PGconn* conn, const HqBatch& batch) {
  PgResult start(PQexec(conn,
                        "COPY pg_temp.regulars_hq_staging (ord, id, store_id, till_id, seq, "
                        "at_ms, kind, customer_id, pos_txn_id, ref_pos_txn_id, body) FROM STDIN"));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return Failed(conn, start.get(), "cannot stage the batch");
  }
  std::string chunk;
  bool sent = true;
  for (size_t i = 0; i < batch.events.size() && sent; ++i) {
    const HqEvent& e = batch.events[i];
    AppendCopyField(chunk, Int(static_cast<int64_t>(i)));
    for (const auto* text : {&e.id, &e.store_id, &e.till_id}) AppendCopyField(chunk, *text);
    AppendCopyField(chunk, Int(e.seq));
    AppendCopyField(chunk, Int(e.at_ms));
    AppendCopyField(chunk, e.kind);
    AppendCopyField(chunk, e.customer_id);
    AppendCopyField(chunk, e.pos_txn_id);
    AppendCopyField(chunk, e.ref_pos_txn_id);
    AppendCopyField(chunk, e.body, true);
    // Bounded memory whatever the batch: send about a megabyte at a time.
    if (chunk.size() >= (1 << 20) || i + 1 == batch.events.size()) {
      sent = PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) == 1;
      chunk.clear();
    }
  }
  if (PQputCopyEnd(conn, sent ? nullptr : "sending the batch failed") != 1) {
    return Unavailable(conn);
  }
  Status status;
  while (PgResult r{PQgetResult(conn)}) {
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && status.ok()) {
      status = Failed(conn, r.get(), "cannot stage the batch");
    }
  }
  return status;
}

// Text PostgreSQL cannot hold (a NUL from a JSON "\u0000"): refused before anything is
// stored, as the till's own validation would.
Status CheckStorable(const HqBatch& batch) {
  auto nul = [](size_t i) {
    return Error::BadInput("invalid_batch", "text must not hold a NUL character",
                           "/events/" + std::to_string(i));
  };
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const HqEvent& e = batch.events[i];
    for (const std::optional<std::string>* text :
         {&e.customer_id, &e.pos_txn_id, &e.ref_pos_txn_id}) {
      if (*text && (*text)->find('\0') != std::string::npos) return nul(i);
    }
    for (const std::string* text : {&e.id, &e.store_id, &e.till_id, &e.kind, &e.body}) {
      if (text->find('\0') != std::string::npos) return nul(i);
    }
  }
  return {};
}

}  // namespace

// COPY's text format: backslash escapes for the characters that delimit it; \N is NULL.
void AppendCopyField(std::string& out, const std::optional<std::string>& value, bool last) {
  if (!value) {
    out += "\\N";
  } else {
    for (char c : *value) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += c;
      }
    }
  }
  out += last ? '\n' : '\t';
}

Result<std::unique_ptr<PgHqStore>> PgHqStore::Open(const std::string& conninfo) {
  // The conninfo is expanded in place of "dbname": a connect_timeout given there overrides
  // ours (before it), client_encoding cannot be overridden (after it).
  const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {"10", "regulars-hq", conninfo.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return Error::Internal("out of memory connecting to PostgreSQL");
  std::unique_ptr<PgHqStore> store(new PgHqStore(conn));
  if (PQstatus(conn) != CONNECTION_OK) return Unavailable(conn);
  // Notices ("table already exists, skipping") are not for the HQ's log.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  REGULARS_TRY(PrepareSchema(conn));
  return store;
}

PgHqStore::~PgHqStore() { PQfinish(conn_); }

// After a server restart or a network cut, the next call connects again.
Status PgHqStore::Reconnect() {
  if (PQstatus(conn_) == CONNECTION_OK) return {};
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return Unavailable(conn_);
  return {};
}

Result<IngestResult> PgHqStore::Ingest(const HqBatch& batch) {
  REGULARS_TRY(CheckStorable(batch));
  REGULARS_TRY(Reconnect());
  PgTransaction txn(conn_);
  REGULARS_TRY(txn.Begin());
  REGULARS_TRY(Exec(conn_,
                    "CREATE TEMP TABLE IF NOT EXISTS regulars_hq_staging (ord bigint, id text, "
                    "store_id text, till_id text, seq bigint, at_ms bigint, kind text, "
                    "customer_id text, pos_txn_id text, ref_pos_txn_id text, body text) "
                    "ON COMMIT DELETE ROWS"));
  // Identity events of a customer the chain erased are stored redacted.
  const HqBatch* staged = &batch;
  HqBatch redacted;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const HqEvent& e = batch.events[i];
    if (!e.customer_id || !IsIdentityKind(e.kind)) continue;
    REGULARS_ASSIGN_OR_RETURN(
        auto erased,
        Exec(conn_, "SELECT 1 FROM erasures WHERE customer_id = $1", {*e.customer_id}));
    if (PQntuples(erased.get()) == 0) continue;
    if (staged != &redacted) {
      redacted = batch;
      staged = &redacted;
    }
    if (auto body = RedactedBody(e.body)) redacted.events[i].body = *body;
  }
  REGULARS_TRY(CopyBatch(conn_, *staged));
  // hq_seq must follow commit order: a pull reads up to `upto` = the largest hq_seq it
  // sees, and an hq_seq below it still uncommitted (another regulars-hq's batch) would be
  // skipped for good. So numbering is serialized from here to COMMIT by a lock every
  // regulars-hq takes, released only once this transaction is visible; the next one,
  // reading MAX(hq_seq) in a statement begun after it got the lock (READ COMMITTED), sees
  // these rows. No sequence object: a rolled-back batch leaves no gap. Only the short
  // insert is serialized; the batch was sent (COPY) before the lock.
  REGULARS_TRY(Exec(conn_, kLockNumbering));
  // An id held with other content refuses the batch (SameEvent, here in SQL: the staged
  // body is the one HQ would store). After the lock, so a batch committed just before is
  // seen.
  REGULARS_ASSIGN_OR_RETURN(
      auto reused,
      Exec(conn_,
           "SELECT s.ord FROM pg_temp.regulars_hq_staging s JOIN events e ON e.id = s.id"
           " WHERE (s.store_id, s.till_id, s.seq, s.at_ms, s.kind, s.customer_id, s.pos_txn_id,"
           "  s.ref_pos_txn_id, s.body) IS DISTINCT FROM (e.store_id, e.till_id, e.seq, e.at_ms,"
           "  e.kind, e.customer_id, e.pos_txn_id, e.ref_pos_txn_id, e.body)"
           " ORDER BY s.ord LIMIT 1"));
  if (PQntuples(reused.get()) > 0) {
    REGULARS_ASSIGN_OR_RETURN(auto ord, IntAt(reused.get(), 0, 0));
    auto index = static_cast<size_t>(ord);
    return EventIdReused(batch.events.at(index), index);
  }
  // New events (first of each id, not already held) numbered in batch order; the store
  // comes to know their customers. A different id with the same (store, till, seq) fails
  // on the unique constraint: ParseBatch never makes one.
  auto stored = Exec(conn_,
                     "WITH staged AS ("
                     "  SELECT DISTINCT ON (id) * FROM pg_temp.regulars_hq_staging"
                     "  ORDER BY id, ord),"
                     " fresh AS ("
                     "  SELECT s.*, row_number() OVER (ORDER BY s.ord) AS n FROM staged s"
                     "  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.id)),"
                     " stored AS ("
                     "  INSERT INTO events (hq_seq, id, store_id, till_id, seq, at_ms, kind,"
                     "   customer_id, pos_txn_id, ref_pos_txn_id, body)"
                     "  SELECT (SELECT COALESCE(MAX(hq_seq), 0) FROM events) + n, id,"
                     "   store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id,"
                     "   ref_pos_txn_id, body FROM fresh"
                     "  RETURNING hq_seq, store_id, customer_id),"
                     " known AS ("
                     "  INSERT INTO store_customers (store_id, customer_id, known_since)"
                     "  SELECT store_id, customer_id, MIN(hq_seq) FROM stored"
                     "  WHERE customer_id IS NOT NULL GROUP BY store_id, customer_id"
                     "  ON CONFLICT DO NOTHING)"
                     " SELECT count(*) FROM stored");
  if (!stored.ok()) return stored.error();
  REGULARS_ASSIGN_OR_RETURN(auto accepted, IntAt(stored->get(), 0, 0));
  // A lost connection here leaves the outcome unknown: the till sends the batch again
  // and each id is stored once.
  REGULARS_TRY(txn.Commit());
  IngestResult result;
  result.accepted = accepted;
  result.duplicates = static_cast<int64_t>(batch.events.size()) - accepted;
  result.acknowledged_seq = batch.last_seq;
  return result;
}

Result<int64_t> PgHqStore::EventCount() {
  REGULARS_TRY(Reconnect());
  return QueryInt(conn_, "SELECT count(*) FROM events");
}

Result<PullPage> PgHqStore::Pull(const PullQuery& q) {
  REGULARS_TRY(Reconnect());
  PullPage page;
  page.upto = q.upto;
  if (page.upto == 0) {
    REGULARS_ASSIGN_OR_RETURN(auto last,
                              QueryInt(conn_, "SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
    page.upto = last;
  }
  // As SqliteHqStore: what is new in the window, and the history of the customers the
  // store came to know in it (hq_seq <= since), each part on an index.
  REGULARS_ASSIGN_OR_RETURN(
      auto rows,
      Exec(conn_,
           "SELECT " REGULARS_EVENT_COLUMNS
           " FROM events e WHERE e.hq_seq > greatest($2::bigint, $3::bigint)"
           " AND e.hq_seq <= $4::bigint AND e.store_id <> $1::text"
           " AND (e.kind IN ('enroll', 'link', 'card_replaced', 'merge', 'erase') OR EXISTS ("
           "  SELECT 1 FROM store_customers k WHERE k.store_id = $1"
           "  AND k.customer_id = e.customer_id AND k.known_since <= $4))"
           " UNION ALL SELECT " REGULARS_EVENT_COLUMNS
           " FROM store_customers k JOIN events e ON e.customer_id = k.customer_id"
           " WHERE k.store_id = $1 AND k.known_since > $2 AND k.known_since <= $4"
           " AND e.hq_seq > $3 AND e.hq_seq <= $2 AND e.store_id <> $1"
           " ORDER BY hq_seq LIMIT $5::bigint",
           {q.store_id, Int(q.since), Int(q.after), Int(page.upto), Int(q.limit + 1)}));
  REGULARS_ASSIGN_OR_RETURN(auto events, ReadEvents(rows.get()));
  page.events = std::move(events);
  page.more = TrimToLimit(page.events, q.limit);
  return page;
}

Result<std::vector<HqEvent>> PgHqStore::EventsSince(int64_t since, int64_t limit) {
  REGULARS_TRY(Reconnect());
  REGULARS_ASSIGN_OR_RETURN(auto rows,
                            Exec(conn_,
                                 "SELECT " REGULARS_EVENT_COLUMNS
                                 " FROM events e WHERE e.hq_seq > $1::bigint ORDER BY e.hq_seq"
                                 " LIMIT $2::bigint",
                                 {Int(since), Int(limit)}));
  return ReadEvents(rows.get());
}

// Cursors live in regulars_hq_meta beside the schema version, as "cursor:NAME".
Result<int64_t> PgHqStore::ReadCursor(const std::string& name) {
  REGULARS_TRY(Reconnect());
  REGULARS_ASSIGN_OR_RETURN(
      auto r, Exec(conn_, "SELECT value FROM regulars_hq_meta WHERE key = $1", {"cursor:" + name}));
  if (PQntuples(r.get()) == 0) return int64_t{0};
  return IntAt(r.get(), 0, 0);
}

Status PgHqStore::WriteCursor(const std::string& name, int64_t value) {
  REGULARS_TRY(Reconnect());
  auto r = Exec(conn_,
                "INSERT INTO regulars_hq_meta (key, value) VALUES ($1, $2) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"cursor:" + name, Int(value)});
  if (!r.ok()) return r.error();
  return {};
}

Result<HqEvent> PgHqStore::Erase(const std::string& customer_id, const std::string& reason,
                                 int64_t at_ms) {
  REGULARS_TRY(Reconnect());
  PgTransaction txn(conn_);
  REGULARS_TRY(txn.Begin());
  // The erase event is numbered like a batch: under the same lock, in commit order.
  REGULARS_TRY(Exec(conn_, kLockNumbering));
  REGULARS_ASSIGN_OR_RETURN(
      auto earlier,
      Exec(conn_,
           "SELECT " REGULARS_EVENT_COLUMNS " FROM erasures x JOIN events e ON e.hq_seq = x.hq_seq"
           " WHERE x.customer_id = $1",
           {customer_id}));
  REGULARS_ASSIGN_OR_RETURN(auto found, ReadEvents(earlier.get()));
  if (!found.empty()) return found.front();

  REGULARS_ASSIGN_OR_RETURN(auto last,
                            QueryInt(conn_, "SELECT COALESCE(MAX(hq_seq), 0) FROM events"));
  auto seq = QueryInt(
      conn_,
      "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE store_id = 'HQ' AND till_id = 'HQ'");
  if (!seq.ok()) return seq.error();
  HqEvent e = EraseEvent(customer_id, reason, at_ms, *seq, last + 1);
  REGULARS_TRY(Exec(conn_,
                    "INSERT INTO events (hq_seq, id, store_id, till_id, seq, at_ms, kind,"
                    " customer_id, body) VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6::bigint,"
                    " $7, $8, $9)",
                    {Int(e.hq_seq), e.id, e.store_id, e.till_id, Int(e.seq), Int(e.at_ms), e.kind,
                     customer_id, e.body}));

  // The customer and the pseudonymous profiles merged into them.
  REGULARS_ASSIGN_OR_RETURN(auto merged,
                            Exec(conn_,
                                 "SELECT body::jsonb->>'from' FROM events WHERE kind = 'merge' AND"
                                 " customer_id = $1",
                                 {customer_id}));
  std::vector<std::string> family{customer_id};
  for (int row = 0; row < PQntuples(merged.get()); ++row) {
    if (!PQgetisnull(merged.get(), row, 0)) family.push_back(PQgetvalue(merged.get(), row, 0));
  }
  for (const auto& id : family) {
    REGULARS_TRY(Exec(conn_,
                      "INSERT INTO erasures (customer_id, hq_seq) VALUES ($1, $2::bigint)"
                      " ON CONFLICT DO NOTHING",
                      {id, Int(e.hq_seq)}));
    REGULARS_ASSIGN_OR_RETURN(auto identity, Exec(conn_,
                                                  "SELECT " REGULARS_EVENT_COLUMNS
                                                  " FROM events e WHERE e.customer_id = $1 AND "
                                                  "e.kind IN ('enroll', 'link', 'card_replaced')",
                                                  {id}));
    auto events = ReadEvents(identity.get());
    if (!events.ok()) return events.error();
    for (const auto& event : *events) {
      auto redacted = RedactedBody(event.body);
      if (!redacted) continue;
      REGULARS_TRY(Exec(conn_, "UPDATE events SET body = $2 WHERE id = $1", {event.id, *redacted}));
    }
  }
  REGULARS_TRY(txn.Commit());
  return e;
}

Result<CustomerHistory> PgHqStore::LookUpCustomer(const std::string& store_id,
                                                  const std::string& kind, const std::string& value,
                                                  int64_t limit) {
  REGULARS_TRY(Reconnect());
  PgTransaction txn(conn_);
  REGULARS_TRY(txn.Begin());
  CustomerHistory history;
  REGULARS_ASSIGN_OR_RETURN(
      auto who, Exec(conn_,
                     "SELECT customer_id FROM events WHERE kind IN ('enroll', 'link') AND"
                     " ((body::jsonb) -> 'identifier' ->> 'value') = $1 AND"
                     " ((body::jsonb) -> 'identifier' ->> 'kind') = $2 AND customer_id IS NOT NULL"
                     " AND customer_id NOT IN (SELECT customer_id FROM erasures)"
                     " AND NOT EXISTS (SELECT 1 FROM events r WHERE"
                     "  r.customer_id = events.customer_id AND r.kind = 'card_replaced' AND"
                     "  ((r.body::jsonb) -> 'old_identifier' ->> 'value') = $1)"
                     " ORDER BY hq_seq LIMIT 1",
                     {value, kind}));
  if (PQntuples(who.get()) == 0) return history;
  history.customer_id = PQgetvalue(who.get(), 0, 0);
  REGULARS_ASSIGN_OR_RETURN(auto rows,
                            Exec(conn_,
                                 "SELECT " REGULARS_EVENT_COLUMNS
                                 " FROM events e WHERE e.customer_id = $1 AND e.store_id <> $2"
                                 " ORDER BY e.hq_seq LIMIT $3::bigint",
                                 {*history.customer_id, store_id, Int(limit + 1)}));
  auto events = ReadEvents(rows.get());
  if (!events.ok()) return events.error();
  history.events = std::move(events).value();
  history.truncated = TrimToLimit(history.events, limit);
  REGULARS_TRY(Exec(conn_,
                    "INSERT INTO store_customers (store_id, customer_id, known_since)"
                    " SELECT $1, $2, COALESCE(MAX(hq_seq), 0) FROM events ON CONFLICT DO NOTHING",
                    {store_id, *history.customer_id}));
  REGULARS_TRY(txn.Commit());
  return history;
}

}  // namespace regulars
