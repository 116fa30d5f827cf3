// What only the PostgreSQL backend has: a server that may be away, several connections
// (several regulars-hq) writing one database, and a schema version kept in the database.
// The shared semantics are in hq_store_test.cc.
#include "hq/pg_hq_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hq_backends.h"

namespace regulars::testing {
namespace {

// Runs one statement on the test server outside any store.
std::string RunSql(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error = PQstatus(conn) == CONNECTION_OK ? "" : PQerrorMessage(conn);
  if (error.empty()) {
    PGresult* r = PQexec(conn, sql.c_str());
    auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

class PgHqStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = FreshPgSchema();
    if (IsSkipped()) return;
    ASSERT_TRUE(conninfo.ok()) << conninfo.error().message;
    conninfo_ = *conninfo;
  }
  std::string conninfo_;
};

// A batch of `count` enrolments from till T01 of `store`, seqs first.., one customer each.
HqBatch Enrolments(const std::string& store, int64_t first, int count) {
  HqBatch b;
  b.store_id = store;
  b.till_id = "T01";
  b.first_seq = first;
  b.last_seq = first + count - 1;
  for (int64_t seq = first; seq <= b.last_seq; ++seq) {
    HqEvent e;
    e.store_id = store;
    e.till_id = "T01";
    e.seq = seq;
    e.id = store + ":T01:" + std::to_string(seq);
    e.at_ms = 1'795'000'000'000 + seq;
    e.kind = "enroll";
    e.customer_id = "c_" + store + "_" + std::to_string(seq);
    // What COPY's text format must escape, and text beyond ASCII.
    e.body = "{\"note\":\"tab\\there\\\\ \\n café\"}";
    b.events.push_back(std::move(e));
  }
  return b;
}

TEST(PgHqStoreOpen, AnUnreachableServerIsAClearErrorWithoutThePassword) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto store = PgHqStore::Open(
      "host=127.0.0.1 port=1 user=hq password=s3cret-pw dbname=hq connect_timeout=5");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "hq_unavailable");
  EXPECT_EQ(store.error().kind, ErrorKind::kStorage);
  EXPECT_NE(store.error().message.find("cannot reach the PostgreSQL server"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("127.0.0.1"), std::string::npos) << store.error().message;
  EXPECT_EQ(store.error().message.find("s3cret"), std::string::npos) << store.error().message;
}

TEST_F(PgHqStoreTest, TextComesBackAsItWasSent) {
  auto store = PgHqStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.error().message;
  HqBatch batch = Enrolments("S001", 1, 2);
  batch.events[1].pos_txn_id = "S001-T01-000002";
  auto ingested = (*store)->Ingest(batch);
  ASSERT_TRUE(ingested.ok()) << ingested.error().message;
  EXPECT_EQ(ingested->accepted, 2);
  auto all = (*store)->EventsSince(0, 10);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].body, batch.events[0].body);
  EXPECT_EQ((*all)[0].at_ms, batch.events[0].at_ms);
  EXPECT_FALSE((*all)[0].pos_txn_id.has_value());
  EXPECT_EQ((*all)[1].pos_txn_id, "S001-T01-000002");
  EXPECT_FALSE((*all)[1].ref_pos_txn_id.has_value());
}

TEST_F(PgHqStoreTest, ANulInTextIsRefusedAndNothingIsStored) {
  auto store = PgHqStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.error().message;
  HqBatch batch = Enrolments("S001", 1, 2);
  batch.events[1].customer_id = std::string("c\0x", 3);
  auto ingested = (*store)->Ingest(batch);
  ASSERT_FALSE(ingested.ok());
  EXPECT_EQ(ingested.error().code, "invalid_batch");
  EXPECT_EQ(ingested.error().where, "/events/1");
  auto count = (*store)->EventCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
}

TEST_F(PgHqStoreTest, ADatabaseFromANewerRegularsHqIsRefused) {
  {
    auto store = PgHqStore::Open(conninfo_);
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  ASSERT_EQ(RunSql(conninfo_,
                   "UPDATE regulars_hq_meta SET value = " + std::to_string(kPgHqSchemaVersion + 1) +
                       " WHERE key = 'schema_version'"),
            "");
  auto again = PgHqStore::Open(conninfo_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "hq_schema_too_new");
  EXPECT_NE(again.error().message.find("schema version " + std::to_string(kPgHqSchemaVersion + 1)),
            std::string::npos)
      << again.error().message;
}

TEST_F(PgHqStoreTest, AfterALostConnectionTheNextCallConnectsAgain) {
  // A name to find this store's server process by (the conninfo's overrides Open's).
  std::string name = "regulars_reconnect_" + std::to_string(std::random_device()());
  auto store = PgHqStore::Open(conninfo_ + " application_name=" + name);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Ingest(Enrolments("S001", 1, 3)).ok());
  // As a server restart would: the server ends the connection (waiting up to 5 s).
  ASSERT_EQ(RunSql(conninfo_,
                   "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                   "WHERE application_name = '" +
                       name + "'"),
            "");
  auto lost = (*store)->EventCount();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, "hq_unavailable") << lost.error().message;
  auto count = (*store)->EventCount();
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(*count, 3);
  auto more = (*store)->Ingest(Enrolments("S001", 4, 2));
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(more->accepted, 2);
}

TEST_F(PgHqStoreTest, StoresOpeningAnEmptyDatabaseTogetherMakeOneSchema) {
  std::vector<std::thread> threads;
  std::atomic<int> opened = 0;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (PgHqStore::Open(conninfo_).ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened, 4);
}

// Two regulars-hq writing at once while a third store pulls night after night: hq_seqs are
// unique and without gaps, and the puller, moving its cursor to each pull's `upto`, gets
// every event exactly once. Were hq_seq not in commit order, a pull could fix `upto` above
// a smaller hq_seq still uncommitted and skip it for good.
TEST_F(PgHqStoreTest, ConcurrentWritersNumberInCommitOrderAndPullsMissNothing) {
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 25;
  std::atomic<int> writing = 2;
  std::vector<std::string> failures(3);
  auto writer = [&](const std::string& store_id, std::string& failure) {
    auto store = PgHqStore::Open(conninfo_);
    if (!store.ok()) failure = store.error().message;
    for (int b = 0; store.ok() && b < kBatches && failure.empty(); ++b) {
      auto r = (*store)->Ingest(Enrolments(store_id, 1 + b * kPerBatch, kPerBatch));
      if (!r.ok())
        failure = r.error().message;
      else if (r->accepted != kPerBatch)
        failure = "accepted " + std::to_string(r->accepted);
    }
    --writing;
  };
  std::multiset<std::string> pulled;
  auto puller = [&](std::string& failure) {
    auto store = PgHqStore::Open(conninfo_);
    if (!store.ok()) {
      failure = store.error().message;
      return;
    }
    int64_t since = 0;
    bool last = false;
    while (!last && failure.empty()) {
      last = writing == 0;  // one more pull once both writers are done
      PullQuery q{"S999", since, 0, 0, 7};
      for (;;) {
        auto page = (*store)->Pull(q);
        if (!page.ok()) {
          failure = page.error().message;
          break;
        }
        for (const auto& e : page->events) pulled.insert(e.id);
        q.upto = page->upto;
        if (!page->more) break;
        q.after = page->events.back().hq_seq;
      }
      since = q.upto;
    }
  };
  std::thread a(writer, "S001", std::ref(failures[0]));
  std::thread b(writer, "S002", std::ref(failures[1]));
  std::thread c(puller, std::ref(failures[2]));
  a.join();
  b.join();
  c.join();
  for (const auto& f : failures) ASSERT_EQ(f, "");

  auto store = PgHqStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto all = (*store)->EventsSince(0, 100'000);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u * kBatches * kPerBatch);
  for (size_t i = 0; i < all->size(); ++i) {
    ASSERT_EQ((*all)[i].hq_seq, static_cast<int64_t>(i + 1)) << "unique and without a gap";
  }
  EXPECT_EQ(pulled.size(), all->size()) << "every event pulled once";
  EXPECT_EQ(std::set<std::string>(pulled.begin(), pulled.end()).size(), all->size());
}

}  // namespace
}  // namespace regulars::testing
