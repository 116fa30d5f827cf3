// HQ's event store on PostgreSQL (docs/hq-storage.md): for a chain whose headquarters
// runs several stateless regulars-hq processes over one database. Same semantics as
// SqliteHqStore; the shared suite (tests/unit/hq_store_test.cc) runs against both.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "hq/hq_store.h"
#include "result.h"

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace regulars {

// The schema version this build writes; a database with a newer one is refused.
inline constexpr int64_t kPgHqSchemaVersion = 3;

// One field of a COPY ... FROM STDIN row in text format (backslash escapes for the
// characters that delimit it; nullopt is NULL), then a tab, or the newline when `last`.
void AppendCopyField(std::string& out, const std::optional<std::string>& value, bool last = false);

// One connection to the server. Not thread-safe: a store object is used by one thread at a
// time (the HQ server holds a mutex around it, or opens one store per thread). Several
// processes or stores may share one database: Ingest numbers hq_seq in commit order.
class PgHqStore final : public HqStore {
 public:
  // `conninfo` is libpq's ("host=... port=... dbname=... user=..."); tables go to the first
  // schema of the search_path. Creates the schema when absent. Errors: "hq_unavailable" when
  // the server cannot be reached (libpq's message, which never holds the password),
  // "hq_schema_too_new" when the database was written by a newer regulars-hq.
  static Result<std::unique_ptr<PgHqStore>> Open(const std::string& conninfo);
  ~PgHqStore() override;
  PgHqStore(const PgHqStore&) = delete;
  PgHqStore& operator=(const PgHqStore&) = delete;

  Result<IngestResult> Ingest(const HqBatch& batch) override;
  Result<int64_t> EventCount() override;
  Result<PullPage> Pull(const PullQuery& query) override;
  Result<std::vector<HqEvent>> EventsSince(int64_t since, int64_t limit) override;
  Result<int64_t> ReadCursor(const std::string& name) override;
  Status WriteCursor(const std::string& name, int64_t value) override;
  Result<HqEvent> Erase(const std::string& customer_id, const std::string& reason,
                        int64_t at_ms) override;
  Result<CustomerHistory> LookUpCustomer(const std::string& store_id, const std::string& kind,
                                         const std::string& value, int64_t limit) override;

 private:
  explicit PgHqStore(pg_conn* conn) : conn_(conn) {}
  Status Reconnect();
  pg_conn* conn_;
};

}  // namespace regulars
