// The ledger file: append-only events, versioned schema, and refusing what is not ours.
#include "store/ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/schema.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::Packs;
using testing::TempDir;
using testing::TestTill;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(Ledger, EventsCannotBeUpdatedOrDeleted) {
  TestTill t;
  t.Commit(Basket("V1", "", {Packs(1, 1)}));
  Database& db = t.till().ledger().db();
  EXPECT_FALSE(db.Exec("UPDATE events SET at_ms = 0").ok());
  EXPECT_FALSE(db.Exec("DELETE FROM events").ok());
  EXPECT_EQ(t.CountRows("events"), 1);
}

TEST(Ledger, UsesWalAndFullSync) {
  TestTill t;
  Database& db = t.till().ledger().db();
  auto mode = db.Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*(*mode)->Step());
  EXPECT_EQ((*mode)->Text(0), "wal");
  (*mode)->Reset();
  EXPECT_EQ(*db.QueryInt("PRAGMA synchronous"), 2);  // FULL
}

TEST(Ledger, NewerSchemaVersionIsRefusedWithAClearMessage) {
  TempDir temp;
  std::string path = temp.path() + "/ledger.sqlite";
  {
    auto ledger = Ledger::Open(path, "S001", "T01");
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE(
        (*ledger)->db().Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99").ok());
  }
  std::string before = FileBytes(path);
  auto again = Ledger::Open(path, "S001", "T01");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "database_too_new");
  EXPECT_NE(again.error().message.find("upgrade Regulars"), std::string::npos);
  EXPECT_EQ(again.error().where, path);
  EXPECT_EQ(FileBytes(path), before);
}

TEST(Ledger, AnOlderSchemaIsUpgradedStepByStepKeepingItsData) {
  TempDir temp;
  std::string path = temp.path() + "/ledger.sqlite";
  auto v1 = LedgerMigrations();
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(PrepareLedger(**db, v1).ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("INSERT INTO customers (id, created_at_ms, store_id) VALUES ('c_1', 0, 'S001')")
            .ok());
  }
  // A later release adds a step; opening the old file applies it once.
  std::vector<Migration> v2(v1.begin(), v1.end());
  v2.push_back({v1.back().version + 1, "ALTER TABLE customers ADD COLUMN first_name TEXT;"});
  for (int open = 0; open < 2; ++open) {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    auto prepared = PrepareLedger(**db, v2);
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    EXPECT_EQ(*(*db)->QueryInt("PRAGMA user_version"), v2.back().version);
    EXPECT_EQ(*(*db)->QueryInt("SELECT count(*) FROM customers WHERE first_name IS NULL"), 1);
  }
}

TEST(Ledger, AnotherApplicationsDatabaseIsRefused) {
  TempDir temp;
  std::string path = temp.path() + "/other.sqlite";
  {
    auto db = Database::Open(path);
    ASSERT_TRUE((*db)->Exec("CREATE TABLE photos (id INTEGER)").ok());
  }
  std::string before = FileBytes(path);
  auto ledger = Ledger::Open(path, "S001", "T01");
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.error().code, "database_unreadable");
  EXPECT_EQ(ledger.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(FileBytes(path), before);
}

TEST(Ledger, AFileThatIsNotSqliteIsRefusedAndLeftUntouched) {
  TempDir temp;
  std::string path = temp.path() + "/junk.sqlite";
  std::string junk(8192, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919) % 251);
  WriteFile(path, junk);
  auto ledger = Ledger::Open(path, "S001", "T01");
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.error().code, "database_unreadable");
  EXPECT_EQ(FileBytes(path), junk);
}

TEST(Ledger, ADamagedLedgerIsReportedNotCrashedOn) {
  TempDir temp;
  std::string dir = temp.path();
  std::string path = dir + "/ledger.sqlite";
  {
    TestTill t;
    t.Enroll(kAliceCard);
    for (int i = 0; i < 200; ++i)
      t.Commit(Basket("V" + std::to_string(i), kAliceCard, {Packs(1, 1)}));
    ASSERT_TRUE(t.till().ledger().db().Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
    std::filesystem::copy_file(t.db_path(), path);
  }
  std::string bytes = FileBytes(path);
  // Scribble over the middle pages, keeping the header intact.
  for (size_t i = bytes.size() / 3; i < bytes.size() * 2 / 3; ++i) bytes[i] = '\x5a';
  WriteFile(path, bytes);
  auto ledger = Ledger::Open(path, "S001", "T01");
  if (ledger.ok()) {
    auto verify = (*ledger)->Verify();
    EXPECT_TRUE(!verify.ok() || !verify->problems.empty() || !verify->mismatches.empty());
    if (!verify.ok()) {
      EXPECT_EQ(verify.error().code, "database_unreadable");
    }
  } else {
    EXPECT_EQ(ledger.error().code, "database_unreadable");
  }
}

TEST(Ledger, VerifyFindsACounterThatDiffersFromItsEvents) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 3)}));
  auto clean = t.till().Verify();
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->mismatches.empty());
  ASSERT_TRUE(t.till().ledger().db().Exec("UPDATE counters SET progress = 1").ok());
  auto tampered = t.till().Verify();
  ASSERT_TRUE(tampered.ok());
  ASSERT_EQ(tampered->mismatches.size(), 1u);
  EXPECT_EQ(tampered->mismatches[0].customer_id, alice);
  EXPECT_EQ(tampered->mismatches[0].stored.progress, 1);
  EXPECT_EQ(tampered->mismatches[0].recomputed.progress, 3);
}

TEST(Ledger, TwoTillsGrantingTheSameRewardNeverLeaveADebt) {
  // Store A and store B both saw progress 4 and both gave the fifth pack.
  Counter c;
  EXPECT_TRUE(c.Apply({"diapers-5th", 5, 4, 0}));
  EXPECT_TRUE(c.Apply({"diapers-5th", 5, 1, 1}));
  EXPECT_TRUE(c.Apply({"diapers-5th", 5, 1, 1}));
  EXPECT_EQ(c.progress, 0);
  EXPECT_EQ(c.over_granted, 4);
  EXPECT_EQ(c.units, 6);
  EXPECT_EQ(c.rewards, 2);
}

}  // namespace
}  // namespace regulars
