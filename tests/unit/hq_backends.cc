#include "hq_backends.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <string_view>

#include "hq/pg_hq_store.h"

namespace regulars::testing {
namespace {

void SkipPostgreSql() { GTEST_SKIP() << "REGULARS_SKIP_PG=1: the PostgreSQL tests are skipped"; }

}  // namespace

Result<std::string> FreshPgSchema() {
  const char* server = std::getenv("REGULARS_TEST_PG");
  if (server == nullptr || *server == '\0') {
    const char* skip = std::getenv("REGULARS_SKIP_PG");
    if (skip != nullptr && std::string_view(skip) == "1") {
      SkipPostgreSql();
      return Error::Internal("skipped (REGULARS_SKIP_PG=1)");
    }
    return Error::Internal(
        "REGULARS_TEST_PG is not set: the PostgreSQL tests need a server (run "
        "installer/test.sh, which starts a throwaway one, or set REGULARS_TEST_PG to a libpq "
        "conninfo; REGULARS_SKIP_PG=1 skips them)");
  }
  // Random, so that runs against a long-lived server do not collide either.
  std::random_device random;
  std::string schema = "regulars_test_" + std::to_string(random()) + std::to_string(random());
  PGconn* conn = PQconnectdb(server);
  std::string failure;
  if (PQstatus(conn) != CONNECTION_OK) {
    failure =
        "cannot reach REGULARS_TEST_PG (" + std::string(server) + "): " + PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, ("CREATE SCHEMA " + schema).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) failure = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  if (!failure.empty()) return Error::Internal(failure);
  return std::string(server) + " options='-csearch_path=" + schema + "'";
}

std::vector<HqBackend> HqBackends() {
  std::vector<HqBackend> backends;
  backends.push_back({"SQLite", [](const std::string& scratch) -> Result<std::unique_ptr<HqStore>> {
                        auto store = SqliteHqStore::Open(scratch + "/hq.db");
                        if (!store.ok()) return store.error();
                        return std::unique_ptr<HqStore>(std::move(store).value());
                      }});
  // Always listed, so that a missing server is a failure to see, not a silent pass.
  backends.push_back({"PostgreSQL", [](const std::string&) -> Result<std::unique_ptr<HqStore>> {
                        auto conninfo = FreshPgSchema();
                        if (!conninfo.ok()) return conninfo.error();
                        auto store = PgHqStore::Open(*conninfo);
                        if (!store.ok()) return store.error();
                        return std::unique_ptr<HqStore>(std::move(store).value());
                      }});
  return backends;
}

}  // namespace regulars::testing
