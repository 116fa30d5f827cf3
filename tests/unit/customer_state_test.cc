// A basket reads its customer's state once: every statement of an evaluate runs inside
// one read transaction, so the pricing sees one snapshot of the ledger.
#include "checkout/customer_state.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <iostream>
#include <string>
#include <vector>

#include "test_till.h"

namespace regulars::testing {
namespace {

// The statements a connection runs, in order, as SQLite expands them.
class StatementLog {
 public:
  explicit StatementLog(sqlite3* db) : db_(db) {
    sqlite3_trace_v2(db_, SQLITE_TRACE_STMT, &StatementLog::OnStatement, this);
  }
  ~StatementLog() { sqlite3_trace_v2(db_, 0, nullptr, nullptr); }
  const std::vector<std::string>& statements() const { return statements_; }
  int Count(const std::string& prefix) const {
    int n = 0;
    for (const auto& s : statements_) n += s.rfind(prefix, 0) == 0;
    return n;
  }

 private:
  static int OnStatement(unsigned, void* self, void* stmt, void*) {
    const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
    static_cast<StatementLog*>(self)->statements_.push_back(sql ? sql : "");
    return 0;
  }
  sqlite3* db_;
  std::vector<std::string> statements_;
};

TEST(CustomerState, AnEvaluateReadsTheLedgerInOneReadTransaction) {
  TestTill t;
  t.Enroll(kAliceCard);
  for (int i = 1; i <= 3; ++i) t.Commit(Basket("T" + std::to_string(i), kAliceCard, {Packs(1, 1)}));
  StatementLog log(t.till().ledger().db().handle());
  TJson receipt = t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 2)}));
  EXPECT_EQ(receipt["total_discount"], kPackPrice);  // the 5th pack
  const auto& sql = log.statements();
  ASSERT_GE(sql.size(), 3u);
  EXPECT_EQ(sql.front(), "BEGIN");
  EXPECT_EQ(sql.back(), "COMMIT");
  EXPECT_EQ(log.Count("BEGIN"), 1);
  EXPECT_EQ(log.Count("COMMIT"), 1);
  EXPECT_EQ(log.Count("INSERT") + log.Count("UPDATE") + log.Count("DELETE"), 0);
  // Recognition, then the state: first name, counters, tiers' visits, the day, the last
  // sales. Printed so that a change in the count is seen in the test's log.
  std::cout << "statements in one evaluate: " << sql.size() << "\n";
}

TEST(CustomerState, ACommitPricesInsideItsWriteTransaction) {
  TestTill t;
  t.Enroll(kAliceCard);
  StatementLog log(t.till().ledger().db().handle());
  t.Commit(Basket("T1", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(log.Count("BEGIN IMMEDIATE"), 1);
  EXPECT_EQ(log.Count("BEGIN"), 1);  // the read of the state joins the write
  EXPECT_EQ(log.Count("COMMIT"), 1);
}

TEST(CustomerState, TheStateHoldsWhatTheLedgerSays) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("T1", kAliceCard, {Packs(1, 3)}, "2026-11-23T10:00:00+01:00"));
  t.Commit(Basket("T2", kAliceCard, {Packs(1, 1), Other(2, "3500000000002", 1, 500)},
                  "2026-11-23T11:00:00+01:00"));
  CustomerStateQuery query;
  query.visits_from_ms = 0;
  query.day = LocalDayOf("2026-11-23T12:00:00+01:00", 1'795'431'600'000);
  query.day_totals = true;
  auto state = LoadCustomerState(t.till().ledger(), alice, query);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->counters.at("diapers-5th").progress, 4);
  EXPECT_EQ(state->visits.size(), 2u);
  EXPECT_EQ(state->today.visits, 2);
  EXPECT_EQ(state->today.spend, 4 * kPackPrice + 500);
  ASSERT_EQ(state->recent_sales.size(), 2u);
  EXPECT_EQ(state->recent_sales[0].size(), 2u);  // newest first: the basket with two skus
}

}  // namespace
}  // namespace regulars::testing
