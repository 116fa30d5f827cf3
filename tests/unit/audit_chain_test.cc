// The goodwill audit chain on a real ledger file: entries edited, removed or moved by hand
// with SQL are found, each at its entry, and only there.
#include "store/audit_chain.h"

#include <gtest/gtest.h>

#include "store/ledger.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::TempDir;

constexpr int64_t kMorning = 1795424400000;  // 2026-11-23T09:00:00Z
constexpr int64_t kHour = 3600 * 1000;

AuditEntry Grant(const std::string& cashier, const std::string& txn, int64_t amount,
                 int64_t at_ms) {
  return {at_ms, "grant", "S001", "T01", cashier, "c_alice", txn, amount, "late delivery"};
}

AuditEntry Reversal(const std::string& cashier, const std::string& txn, int64_t amount,
                    int64_t at_ms) {
  return {at_ms, "reversal", "S001", "T01", cashier, "c_alice", txn, -amount, "sale voided"};
}

std::string Describe(const AuditReport& report) {
  std::string text;
  for (const auto& p : report.problems) text += "\n  " + std::to_string(p.seq) + ": " + p.what;
  return text.empty() ? " (no problems)" : text;
}

class AuditChain : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = Ledger::Open(dir_.path() + "/ledger.sqlite", {"S001", "T01", "EUR"});
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    ledger_ = std::move(ledger).value();
  }

  Database& db() { return ledger_->db(); }

  void Append(const AuditEntry& entry) {
    WriteTransaction txn(db());
    ASSERT_TRUE(txn.Begin().ok());
    Status appended = AppendAudit(db(), key_, entry);
    ASSERT_TRUE(appended.ok()) << appended.error().message;
    ASSERT_TRUE(txn.Commit().ok());
  }

  // Entries 1..n, every one different: grants by two cashiers, a reversal at 4.
  void AppendEntries(int n) {
    for (int i = 1; i <= n; ++i) {
      std::string txn = "S001-T01-" + std::to_string(i);
      int64_t at = kMorning + i * kHour;
      Append(i == 4 ? Reversal("C07", "S001-T01-1", 100, at)
                    : Grant(i % 2 ? "C07" : "C08", txn, 100 * i, at));
    }
  }

  AuditReport Verify(const std::vector<unsigned char>& key) {
    auto report = VerifyAudit(db(), key);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : AuditReport{};
  }
  AuditReport Verify() { return Verify(key_); }

  void Sql(const std::string& sql) {
    Status done = db().Exec(sql);
    ASSERT_TRUE(done.ok()) << sql << ": " << done.error().message;
  }

  TempDir dir_;
  std::vector<unsigned char> key_ = std::vector<unsigned char>(32, 0x5a);
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(AuditChain, AnIntactChainVerifies) {
  EXPECT_TRUE(Verify().ok());
  AppendEntries(6);
  AuditReport report = Verify();
  EXPECT_EQ(report.entries, 6);
  EXPECT_TRUE(report.ok()) << Describe(report);
}

TEST_F(AuditChain, EachEntryChainsToThePreviousOne) {
  AppendEntries(3);
  auto stmt = db().Prepare("SELECT seq, prev_mac, mac FROM goodwill_audit ORDER BY seq");
  ASSERT_TRUE(stmt.ok());
  std::string previous;
  for (int64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_TRUE(*(*stmt)->Step());
    EXPECT_EQ((*stmt)->Int(0), seq);
    EXPECT_EQ((*stmt)->Text(1), previous);
    previous = (*stmt)->Text(2);
    EXPECT_EQ(previous.size(), 64u);  // hex of 32 bytes
  }
  (*stmt)->Reset();
}

TEST_F(AuditChain, AlteredAmountIsReportedAtItsEntry) {
  AppendEntries(5);
  Sql("UPDATE goodwill_audit SET amount = 9900 WHERE seq = 3");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 3);
  EXPECT_EQ(report.problems[0].what, "entry 3 was altered (its MAC does not match)");
}

TEST_F(AuditChain, EveryColumnIsCoveredByTheMac) {
  AppendEntries(3);
  for (const char* text : {"kind", "store_id", "till_id", "cashier_id", "customer_id", "pos_txn_id",
                           "reason", "prev_mac", "mac"}) {
    std::string column = text;
    Sql("UPDATE goodwill_audit SET " + column + " = " + column + " || 'x' WHERE seq = 2");
    AuditReport report = Verify();
    ASSERT_EQ(report.problems.size(), 1u) << column << Describe(report);
    EXPECT_EQ(report.problems[0].seq, 2) << column;
    Sql("UPDATE goodwill_audit SET " + column + " = substr(" + column + ", 1, length(" + column +
        ") - 1) WHERE seq = 2");
  }
  for (const char* number : {"at_ms", "amount"}) {
    std::string column = number;
    Sql("UPDATE goodwill_audit SET " + column + " = " + column + " + 1 WHERE seq = 2");
    AuditReport report = Verify();
    ASSERT_EQ(report.problems.size(), 1u) << column << Describe(report);
    EXPECT_EQ(report.problems[0].seq, 2) << column;
    Sql("UPDATE goodwill_audit SET " + column + " = " + column + " - 1 WHERE seq = 2");
  }
  EXPECT_TRUE(Verify().ok());
}

TEST_F(AuditChain, MovingTextBetweenTwoFieldsIsReported) {
  // "S001" + "T01" and "S001T" + "01" concatenate alike; the lengths in the encoding differ.
  AppendEntries(2);
  Sql("UPDATE goodwill_audit SET store_id = 'S001T', till_id = '01' WHERE seq = 1");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 1);
}

TEST_F(AuditChain, DeletedMiddleEntryIsReportedAsMissing) {
  AppendEntries(5);
  Sql("DELETE FROM goodwill_audit WHERE seq = 3");
  AuditReport report = Verify();
  EXPECT_EQ(report.entries, 4);
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 3);
  EXPECT_EQ(report.problems[0].what, "entry 3 is missing (removed)");
}

TEST_F(AuditChain, DeletedFirstEntriesAreReportedAsMissing) {
  AppendEntries(5);
  Sql("DELETE FROM goodwill_audit WHERE seq <= 2");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 1);
  EXPECT_EQ(report.problems[0].what, "entries 1 to 2 are missing (removed)");
}

TEST_F(AuditChain, RenumberingAfterARemovalIsReportedAtEachMovedEntry) {
  AppendEntries(5);
  // Closing the gap by hand: the MAC covers seq, so the moved entries no longer verify.
  Sql("DELETE FROM goodwill_audit WHERE seq = 3;"
      "UPDATE goodwill_audit SET seq = 3 WHERE seq = 4;"
      "UPDATE goodwill_audit SET seq = 4 WHERE seq = 5;");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 2u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 3);
  EXPECT_EQ(report.problems[1].seq, 4);
}

TEST_F(AuditChain, SwappedEntriesAreReportedOutOfOrder) {
  AppendEntries(6);
  // Swapping the seqs of two rows swaps their contents.
  Sql("UPDATE goodwill_audit SET seq = -1 WHERE seq = 2;"
      "UPDATE goodwill_audit SET seq = 2 WHERE seq = 5;"
      "UPDATE goodwill_audit SET seq = 5 WHERE seq = -1;");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 2u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 2);
  EXPECT_EQ(report.problems[0].what, "entries out of order at 2: it holds entry 5");
  EXPECT_EQ(report.problems[1].seq, 5);
  EXPECT_EQ(report.problems[1].what, "entries out of order at 5: it holds entry 2");
}

TEST_F(AuditChain, SwappedNeighboursAreReportedOutOfOrder) {
  AppendEntries(4);
  Sql("UPDATE goodwill_audit SET seq = -1 WHERE seq = 2;"
      "UPDATE goodwill_audit SET seq = 2 WHERE seq = 3;"
      "UPDATE goodwill_audit SET seq = 3 WHERE seq = -1;");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 2u) << Describe(report);
  EXPECT_EQ(report.problems[0].what, "entries out of order at 2: it holds entry 3");
  EXPECT_EQ(report.problems[1].what, "entries out of order at 3: it holds entry 2");
}

TEST_F(AuditChain, AnEntryAddedByHandIsReported) {
  AppendEntries(3);
  Sql("INSERT INTO goodwill_audit SELECT 4, at_ms, kind, store_id, till_id, cashier_id, "
      "customer_id, 'S001-T01-99', 5000, reason, key_version, mac, mac FROM goodwill_audit "
      "WHERE seq = 3");
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 4);
}

TEST_F(AuditChain, AnotherKeyReportsEveryEntry) {
  AppendEntries(4);
  AuditReport report = Verify(std::vector<unsigned char>(32, 0x77));
  EXPECT_EQ(report.entries, 4);
  ASSERT_EQ(report.problems.size(), 4u) << Describe(report);
  for (int64_t seq = 1; seq <= 4; ++seq) {
    EXPECT_EQ(report.problems[seq - 1].seq, seq);
    EXPECT_NE(report.problems[seq - 1].what.find("does not verify under this key"),
              std::string::npos);
  }
}

TEST_F(AuditChain, EntriesAppendedAfterAnAlterationStillVerify) {
  AppendEntries(3);
  Sql("UPDATE goodwill_audit SET reason = 'nothing to see' WHERE seq = 2");
  Append(Grant("C07", "S001-T01-10", 250, kMorning + 10 * kHour));
  AuditReport report = Verify();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].seq, 2);
}

TEST_F(AuditChain, AShortKeyIsRefused) {
  std::vector<unsigned char> short_key(16, 0x5a);
  WriteTransaction txn(db());
  ASSERT_TRUE(txn.Begin().ok());
  Status appended = AppendAudit(db(), short_key, Grant("C07", "S001-T01-1", 100, kMorning));
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().code, "invalid_audit_key");
  ASSERT_TRUE(txn.Commit().ok());
  auto report = VerifyAudit(db(), short_key);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "invalid_audit_key");
}

TEST_F(AuditChain, AGrantIsPositiveAndAReversalNegative) {
  WriteTransaction txn(db());
  ASSERT_TRUE(txn.Begin().ok());
  AuditEntry zero = Grant("C07", "S001-T01-1", 0, kMorning);
  AuditEntry adds = Reversal("C07", "S001-T01-1", -100, kMorning);
  AuditEntry unknown = Grant("C07", "S001-T01-1", 100, kMorning);
  unknown.kind = "gift";
  AuditEntry nobody = Grant("", "S001-T01-1", 100, kMorning);
  for (const AuditEntry& entry : {zero, adds, unknown, nobody}) {
    Status appended = AppendAudit(db(), key_, entry);
    ASSERT_FALSE(appended.ok());
    EXPECT_EQ(appended.error().code, "invalid_goodwill");
  }
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(*db().QueryInt("SELECT count(*) FROM goodwill_audit"), 0);
}

TEST_F(AuditChain, GoodwillGivenBySumsACashiersEntriesInTheWindow) {
  Append(Grant("C07", "S001-T01-1", 300, kMorning));
  Append(Grant("C08", "S001-T01-2", 500, kMorning + kHour / 2));
  Append(Grant("C07", "S001-T01-3", 200, kMorning + kHour));
  Append(Reversal("C07", "S001-T01-3", 200, kMorning + 2 * kHour));
  Append(Grant("C07", "S001-T01-4", 700, kMorning + 24 * kHour));  // the next day

  int64_t day_end = kMorning + 24 * kHour;
  EXPECT_EQ(*GoodwillGivenBy(db(), "C07", kMorning, day_end), 300);
  EXPECT_EQ(*GoodwillGivenBy(db(), "C08", kMorning, day_end), 500);
  EXPECT_EQ(*GoodwillGivenBy(db(), "C09", kMorning, day_end), 0);
  // From is included, until is not: the reversal at 11:00 falls outside [10:00, 11:00).
  EXPECT_EQ(*GoodwillGivenBy(db(), "C07", kMorning + kHour, kMorning + 2 * kHour), 200);
  EXPECT_EQ(*GoodwillGivenBy(db(), "C07", day_end, day_end + kHour), 700);
}

TEST_F(AuditChain, AuditedTransactionsAreTheGrantedOnesEachOnce) {
  Append(Grant("C07", "S001-T01-2", 300, kMorning));
  Append(Grant("C07", "S001-T01-1", 100, kMorning + 1));
  Append(Reversal("C07", "S001-T01-1", 100, kMorning + 2));
  Append(Grant("C07", "S001-T01-1", 100, kMorning + 3));
  Append(Reversal("C07", "S001-T01-9", 50, kMorning + 4));
  auto ids = AuditedTransactions(db());
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"S001-T01-1", "S001-T01-2"}));
}

}  // namespace
}  // namespace regulars
