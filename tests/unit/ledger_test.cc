// The ledger file: append-only events, versioned schema, and refusing what is not ours.
#include "store/ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include "store/schema.h"
#include "store/sync_state.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::kBobCard;
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

TEST(Ledger, OnlyAnErasedCustomersEventBodiesMayChangeAndNothingElse) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  std::string bob = t.Enroll(kBobCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 2)}));
  Database& db = t.till().ledger().db();
  EXPECT_FALSE(db.Exec("UPDATE events SET body = '{}' WHERE customer_id = '" + alice + "'").ok())
      << "not erased: append-only";
  {
    WriteTransaction txn(db);
    ASSERT_TRUE(txn.Begin().ok());
    auto redacted = t.till().ledger().events().Erase(alice, 1, "HQ:HQ:1");
    ASSERT_TRUE(redacted.ok()) << redacted.error().message;
    EXPECT_EQ(*redacted, 1) << "her enrolment";
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_FALSE(db.Exec("UPDATE events SET at_ms = 0 WHERE customer_id = '" + alice + "'").ok())
      << "erased: still only the body";
  EXPECT_FALSE(db.Exec("UPDATE events SET body = '{}' WHERE customer_id = '" + bob + "'").ok());
  EXPECT_FALSE(db.Exec("DELETE FROM events WHERE customer_id = '" + alice + "'").ok());
  auto found = t.till().ledger().customers().ByIdentifier("card", kAliceCard);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value()) << "her card recognizes nobody";
  EXPECT_EQ(t.Progress(alice), 2) << "her counters stay, under a pseudonym nothing leads to";
  auto bob_found = t.till().ledger().customers().ByIdentifier("card", kBobCard);
  ASSERT_TRUE(bob_found.ok() && bob_found->has_value());
}

TEST(Ledger, AFirstNameGreetsOnEvaluateIsNeverStoredInAReceiptAndIsErasedWhole) {
  TestTill t;
  auto enrolled =
      t.till().Enroll(R"({"card": ")" + std::string(kAliceCard) + R"(", "first_name": "Amélie"})");
  ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
  std::string alice = testing::TJson::parse(*enrolled)["customer"]["id"];
  auto basket = Basket("V1", kAliceCard, {Packs(1, 1)});
  EXPECT_EQ(t.Evaluate(basket)["customer"]["first_name"], "Amélie");
  auto recognized = t.till().RecognizeOnly(R"({"identifiers": [{"kind": "card", "value": ")" +
                                           std::string(kAliceCard) + R"("}]})");
  ASSERT_TRUE(recognized.ok());
  EXPECT_EQ(testing::TJson::parse(*recognized)["customer"]["first_name"], "Amélie");
  testing::TJson committed = t.Commit(basket);
  EXPECT_FALSE(committed["customer"].contains("first_name")) << "receipts are kept for retries";
  auto stored = t.till().ledger().db().QueryInt(
      "SELECT count(*) FROM transactions WHERE response LIKE '%Amélie%'");
  EXPECT_EQ(*stored, 0);
  Database& db = t.till().ledger().db();
  {
    WriteTransaction txn(db);
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(t.till().ledger().events().Erase(alice, 1, "HQ:HQ:1").ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  auto name = t.till().ledger().customers().FirstName(alice);
  ASSERT_TRUE(name.ok());
  EXPECT_FALSE(name->has_value());
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM events WHERE body LIKE '%Amélie%'"), 0);
  // Names with control characters, or too long, are refused with their pointer.
  auto bad = t.till().Enroll(R"({"card": ")" + std::string(kBobCard) +
                             R"(", "first_name": "Bob
DROP"})");
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(t.till()
                   .Enroll(R"({"card": ")" + std::string(kBobCard) + R"(", "first_name": ")" +
                           std::string(51, 'b') + R"("})")
                   .ok());
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
    auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE(
        (*ledger)->db().Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99").ok());
  }
  std::string before = FileBytes(path);
  auto again = Ledger::Open(path, {"S001", "T01", "EUR"});
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

// What a refused open must leave as it was: the file's bytes and its modification time.
struct FileState {
  std::string bytes;
  std::filesystem::file_time_type modified;
  bool operator==(const FileState&) const = default;
};

FileState StateOf(const std::string& path) {
  return {FileBytes(path), std::filesystem::last_write_time(path)};
}

// A ledger made for S001/T01/EUR with one customer in it, closed.
std::string LedgerOfS001(const TempDir& temp) {
  std::string path = temp.path() + "/ledger.sqlite";
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
  EXPECT_TRUE(ledger.ok());
  EXPECT_TRUE(
      (*ledger)
          ->db()
          .Exec("INSERT INTO customers (id, created_at_ms, store_id) VALUES ('c_1', 0, 'S001')")
          .ok());
  return path;
}

TEST(Ledger, AConfigOfAnotherStoreIsRefusedAtOpenAndTheFileIsUntouched) {
  TempDir temp;
  std::string path = LedgerOfS001(temp);
  FileState before = StateOf(path);
  auto refused = Ledger::Open(path, {"S009", "T01", "EUR"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ledger_belongs_elsewhere");
  EXPECT_EQ(refused.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(refused.error().where, path);
  EXPECT_EQ(refused.error().message,
            path + " belongs to store S001 in EUR; the config says store S009 in EUR");
  EXPECT_TRUE(StateOf(path) == before) << "the file is untouched";
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  // Another till of the same store may share the file (docs/ledger.md); the record keeps
  // the till that created it.
  auto shared = Ledger::Open(path, {"S001", "T02", "EUR"});
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  EXPECT_EQ(*(*shared)->db().QueryInt("SELECT count(*) FROM customers"), 1);
  EXPECT_EQ((*shared)->owner(), (LedgerOwner{"S001", "T01", "EUR"}));
}

TEST(Ledger, AConfigOfAnotherCurrencyIsRefusedAtOpenAndTheFileIsUntouched) {
  TempDir temp;
  std::string path = LedgerOfS001(temp);
  FileState before = StateOf(path);
  auto refused = Ledger::Open(path, {"S001", "T01", "USD"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ledger_belongs_elsewhere");
  EXPECT_EQ(refused.error().message,
            path + " belongs to store S001 in EUR; the config says store S001 in USD");
  EXPECT_TRUE(StateOf(path) == before) << "the file is untouched";
}

TEST(Ledger, VerifyNamesWhoseTheLedgerIs) {
  TempDir temp;
  auto ledger = Ledger::Open(temp.path() + "/ledger.sqlite", {"S002", "T07", "JPY"});
  ASSERT_TRUE(ledger.ok());
  auto report = (*ledger)->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->owner, (LedgerOwner{"S002", "T07", "JPY"}));
}

// A ledger made before the ledger recorded its owner (schema version 4) adopts the first
// config that opens it after the upgrade, keeps its data, and then refuses another.
TEST(Ledger, ALedgerOfThePreviousSchemaAdoptsTheFirstConfigThatOpensIt) {
  TempDir temp;
  std::string path = temp.path() + "/ledger.sqlite";
  auto current = LedgerMigrations();
  std::span<const Migration> previous = current.first(4);
  ASSERT_EQ(previous.back().version, 4);
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(PrepareLedger(**db, previous).ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("INSERT INTO customers (id, created_at_ms, store_id) VALUES ('c_1', 0, 'S003')")
            .ok());
  }
  {
    auto adopted = Ledger::Open(path, {"S003", "T02", "EUR"});
    ASSERT_TRUE(adopted.ok()) << adopted.error().message;
    EXPECT_EQ(*(*adopted)->db().QueryInt("PRAGMA user_version"), current.back().version);
    EXPECT_EQ(*(*adopted)->db().QueryInt("SELECT count(*) FROM customers"), 1);
  }
  FileState before = StateOf(path);
  auto refused = Ledger::Open(path, {"S001", "T01", "EUR"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ledger_belongs_elsewhere");
  EXPECT_NE(refused.error().message.find("belongs to store S003 in EUR"), std::string::npos);
  EXPECT_TRUE(StateOf(path) == before);
  EXPECT_TRUE(Ledger::Open(path, {"S003", "T02", "EUR"}).ok());
}

// Schema version 6 keeps the rule sets put in force (store/rule_sets.h), version 7 the
// sales to unknown cards: a ledger of version 5 gains both empty tables, keeps its data
// and verifies as before.
TEST(Ledger, ALedgerOfSchemaFiveGainsKeptRuleSetsAndKeepsItsData) {
  TempDir temp;
  std::string path = temp.path() + "/ledger.sqlite";
  auto current = LedgerMigrations();
  ASSERT_EQ(current.back().version, 7);
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(PrepareLedger(**db, current.first(5)).ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("INSERT INTO customers (id, created_at_ms, store_id) VALUES ('c_1', 0, 'S001')")
            .ok());
    EXPECT_FALSE((*db)->QueryInt("SELECT count(*) FROM rule_sets").ok());
  }
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  EXPECT_EQ(*(*ledger)->db().QueryInt("PRAGMA user_version"), 7);
  EXPECT_EQ(*(*ledger)->db().QueryInt("SELECT count(*) FROM customers"), 1);
  EXPECT_EQ(*(*ledger)->db().QueryInt("SELECT count(*) FROM rule_sets"), 0);
  EXPECT_EQ(*(*ledger)->db().QueryInt("SELECT count(*) FROM unattributed_sales"), 0);
  KeptRuleSet set{"2026-12", "sha256:0123456789ab", R"({"rules":[]})"};
  ASSERT_TRUE((*ledger)->rule_sets().Keep(set, 0).ok());
  auto found = (*ledger)->rule_sets().Find("2026-12");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, set);
  auto report = (*ledger)->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty());
  EXPECT_TRUE(report->problems.empty());
}

TEST(RuleSets, ASetPutInForceAgainIsTheNewestAndOnlyTheNewestAreKept) {
  TempDir temp;
  auto ledger = Ledger::Open(temp.path() + "/ledger.sqlite", {"S001", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok());
  RuleSets& sets = (*ledger)->rule_sets();
  auto set = [](int n) {
    return KeptRuleSet{"v" + std::to_string(n), "sha256:" + std::to_string(n), "{\"rules\":[]}"};
  };
  ASSERT_TRUE(sets.Keep(set(0), 0).ok());
  for (int n = 1; n < RuleSets::kKept; ++n) ASSERT_TRUE(sets.Keep(set(n), n).ok());
  ASSERT_TRUE(sets.Keep(set(0), 100).ok());  // back in force: the newest again
  ASSERT_TRUE(sets.Keep(set(RuleSets::kKept), 101).ok());
  EXPECT_TRUE(sets.Find("v0")->has_value());
  EXPECT_FALSE(sets.Find("v1")->has_value()) << "the oldest of the eight is forgotten";
  EXPECT_EQ(*(*ledger)->db().QueryInt("SELECT count(*) FROM rule_sets"), RuleSets::kKept);
  KeptRuleSet changed = set(0);
  changed.rules = R"({"rules":[],"caps":{"per_day":100}})";
  ASSERT_TRUE(sets.Keep(changed, 102).ok());
  EXPECT_EQ(**sets.Find("v0"), changed) << "a version put in force again with other rules";
}

TEST(Ledger, AnotherApplicationsDatabaseIsRefused) {
  TempDir temp;
  std::string path = temp.path() + "/other.sqlite";
  {
    auto db = Database::Open(path);
    ASSERT_TRUE((*db)->Exec("CREATE TABLE photos (id INTEGER)").ok());
  }
  std::string before = FileBytes(path);
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
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
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
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
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
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

// --- Visits: derived from the events' "visit" member, like counters from "counts" ---

constexpr int64_t kMonday = 1795424400000;  // 2026-11-23T09:00:00Z
constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;

// A ledger file of its own, written as the till writes it: each call one transaction.
class VisitLedger {
 public:
  VisitLedger() {
    auto ledger = Ledger::Open(temp_.path() + "/ledger.sqlite", {"S001", "T01", "EUR"});
    if (!ledger.ok()) ADD_FAILURE() << ledger.error().message;
    ledger_ = std::move(ledger).value();
  }
  Ledger& ledger() { return *ledger_; }
  Database& db() { return ledger_->db(); }

  void AddCustomer(const std::string& id, const std::string& card, bool pseudonymous = false) {
    Write([&] { return ledger_->customers().Add(id, kMonday, "card", card, pseudonymous); });
  }
  EventKey Append(const NewEvent& event) {
    EventKey key;
    Write([&]() -> Status {
      auto appended = ledger_->events().Append(event);
      if (!appended.ok()) return appended.error();
      key = *appended;
      return Status::Ok();
    });
    return key;
  }
  void Merge(const std::string& from, const std::string& into) {
    Write([&] { return ledger_->events().Merge(from, into, kMonday + kDay); });
  }
  VerifyReport Verify() {
    auto report = ledger_->Verify();
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : VerifyReport{};
  }

 private:
  template <typename F>
  void Write(F step) {
    WriteTransaction txn(ledger_->db());
    ASSERT_TRUE(txn.Begin().ok());
    Status done = step();
    ASSERT_TRUE(done.ok()) << done.error().message;
    ASSERT_TRUE(txn.Commit().ok());
  }

  TempDir temp_;
  std::unique_ptr<Ledger> ledger_;
};

VisitDelta SaleVisit(const std::string& day, int64_t spend, std::vector<std::string> skus = {},
                     int64_t discount = 0, int64_t goodwill = 0) {
  return {day, 1, spend, discount, goodwill, std::move(skus)};
}

// What a void or refund gives back: `visits` is -1 when it leaves the sale empty.
VisitDelta ReversalVisit(const std::string& day, int64_t visits, int64_t spend) {
  return {day, visits, spend, 0, 0, {}};
}

NewEvent Event(const std::string& kind, std::optional<std::string> customer, int64_t at_ms,
               std::optional<VisitDelta> visit) {
  NewEvent event;
  event.kind = kind;
  event.at_ms = at_ms;
  event.customer_id = std::move(customer);
  event.visit = std::move(visit);
  return event;
}

std::vector<int64_t> Times(const std::vector<VisitRow>& rows) {
  std::vector<int64_t> times;
  for (const auto& row : rows) times.push_back(row.at_ms);
  return times;
}

bool HasProblem(const VerifyReport& report, const std::string& text) {
  for (const auto& problem : report.problems) {
    if (problem == text) return true;
  }
  return false;
}

TEST(Visits, ASaleWritesItsVisitRowAndTheEventCarriesIt) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  VisitDelta bought = SaleVisit("2026-11-23", 5160, {"3400000000001", "MILK 1L"}, 1290, 200);
  EventKey key = l.Append(Event("sale", "c_alice", kMonday, bought));

  auto rows = l.ledger().visits().Since("c_alice", 0);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].at_ms, kMonday);
  EXPECT_EQ((*rows)[0].delta, bought);  // a sku holding a space comes back whole
  auto event = l.ledger().events().Find(key);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->body["visit"]["spend"], 5160);
  EXPECT_EQ(event->body["visit"]["skus"], Json::array({"3400000000001", "MILK 1L"}));
  EXPECT_TRUE(l.Verify().problems.empty());
}

TEST(Visits, AVisitWithoutCountsStillWritesItsRowAndCountsStillUpdateCounters) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("sale", "c_alice", kMonday, SaleVisit("2026-11-23", 300)));
  NewEvent packs = Event("sale", "c_alice", kMonday + kHour, SaleVisit("2026-11-23", 2580));
  packs.counts = {{"diapers-5th", 5, 2, 0}};
  l.Append(packs);

  auto rows = l.ledger().visits().Since("c_alice", 0);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Times(*rows), (std::vector<int64_t>{kMonday, kMonday + kHour}));
  auto counters = l.ledger().counters().Of("c_alice");
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ((*counters)["diapers-5th"].progress, 2);
  VerifyReport report = l.Verify();
  EXPECT_TRUE(report.problems.empty());
  EXPECT_TRUE(report.mismatches.empty());
}

TEST(Visits, VisitsSinceStartsAtTheGivenTimeInCanonicalOrder) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  // Committed out of time order, as a basket rung up earlier but committed later is.
  l.Append(Event("sale", "c_alice", kMonday + 2 * kDay, SaleVisit("2026-11-25", 300)));
  l.Append(Event("sale", "c_alice", kMonday, SaleVisit("2026-11-23", 100)));
  l.Append(Event("sale", "c_alice", kMonday + kDay, SaleVisit("2026-11-24", 200)));

  auto rows = l.ledger().visits().Since("c_alice", kMonday + kDay);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Times(*rows), (std::vector<int64_t>{kMonday + kDay, kMonday + 2 * kDay}));
  auto other = l.ledger().visits().Since("c_bob", 0);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST(Visits, VisitOfAMergedProfileCountsForTheCustomer) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.AddCustomer("p_card", "hash-of-her-payment-card", /*pseudonymous=*/true);
  l.Append(Event("sale", "p_card", kMonday, SaleVisit("2026-11-23", 700, {"BREAD"})));
  l.Append(Event("sale", "c_alice", kMonday + kHour, SaleVisit("2026-11-23", 500, {"MILK"})));
  l.Merge("p_card", "c_alice");
  // A refund of the profile's sale after the merge is hers.
  l.Append(Event("refund", "p_card", kMonday + 2 * kDay, ReversalVisit("2026-11-23", 0, -200)));

  auto rows = l.ledger().visits().Since("c_alice", 0);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Times(*rows), (std::vector<int64_t>{kMonday, kMonday + kHour, kMonday + 2 * kDay}));
  EXPECT_EQ((*rows)[0].delta.skus, std::vector<std::string>{"BREAD"});
  auto day = l.ledger().visits().DayTotals("c_alice", "2026-11-23");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->visits, 2);
  EXPECT_EQ(day->spend, 1000);
  EXPECT_TRUE(l.Verify().problems.empty());
}

TEST(Visits, DayTotalsSumOneDayOnly) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("sale", "c_alice", kMonday, SaleVisit("2026-11-23", 1000, {"A"}, 100, 50)));
  l.Append(Event("sale", "c_alice", kMonday + kHour, SaleVisit("2026-11-23", 400, {"B"}, 0, 0)));
  l.Append(Event("sale", "c_alice", kMonday + kDay, SaleVisit("2026-11-24", 9999, {"C"}, 9, 9)));
  // Tuesday's void of Monday's second sale counts on Monday, the sale's day.
  l.Append(Event("void", "c_alice", kMonday + kDay + kHour, ReversalVisit("2026-11-23", -1, -400)));

  auto monday = l.ledger().visits().DayTotals("c_alice", "2026-11-23");
  ASSERT_TRUE(monday.ok()) << monday.error().message;
  EXPECT_EQ(*monday, (VisitDelta{"2026-11-23", 1, 1000, 100, 50, {}}));
  auto sunday = l.ledger().visits().DayTotals("c_alice", "2026-11-22");
  ASSERT_TRUE(sunday.ok());
  EXPECT_EQ(*sunday, (VisitDelta{"2026-11-22", 0, 0, 0, 0, {}}));
}

TEST(Visits, RecentSalesAreNewestFirstAndSkipReversals) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  for (int i = 0; i < 4; ++i) {
    l.Append(Event("sale", "c_alice", kMonday + i * kDay,
                   SaleVisit("2026-11-2" + std::to_string(3 + i), 100 * (i + 1))));
  }
  l.Append(Event("refund", "c_alice", kMonday + 5 * kDay, ReversalVisit("2026-11-26", 0, -100)));
  l.Append(Event("void", "c_alice", kMonday + 6 * kDay, ReversalVisit("2026-11-25", -1, -300)));

  auto recent = l.ledger().visits().RecentSales("c_alice", 3);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(Times(*recent),
            (std::vector<int64_t>{kMonday + 3 * kDay, kMonday + 2 * kDay, kMonday + kDay}));
  auto none = l.ledger().visits().RecentSales("c_alice", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto all = l.ledger().visits().RecentSales("c_alice", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
}

TEST(Visits, RecentSalesInterleaveAMergedProfilesSalesNewestFirst) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.AddCustomer("p_card", "hash-of-her-payment-card", /*pseudonymous=*/true);
  l.Append(Event("sale", "p_card", kMonday, SaleVisit("2026-11-23", 100)));
  l.Append(Event("sale", "c_alice", kMonday + kHour, SaleVisit("2026-11-23", 200)));
  l.Append(Event("sale", "p_card", kMonday + 2 * kHour, SaleVisit("2026-11-23", 300)));
  l.Merge("p_card", "c_alice");
  l.Append(Event("sale", "c_alice", kMonday + 3 * kHour, SaleVisit("2026-11-23", 400)));

  auto recent = l.ledger().visits().RecentSales("c_alice", 3);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  EXPECT_EQ(Times(*recent),
            (std::vector<int64_t>{kMonday + 3 * kHour, kMonday + 2 * kHour, kMonday + kHour}));
  auto all = l.ledger().visits().RecentSales("c_alice", 10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Times(*all), (std::vector<int64_t>{kMonday + 3 * kHour, kMonday + 2 * kHour,
                                               kMonday + kHour, kMonday}));
}

TEST(Visits, AnEventWithoutACustomerWritesNoVisitRow) {
  VisitLedger l;
  EventKey key = l.Append(Event("sale", std::nullopt, kMonday, SaleVisit("2026-11-23", 100)));
  EXPECT_EQ(*l.db().QueryInt("SELECT count(*) FROM visits"), 0);
  auto event = l.ledger().events().Find(key);
  ASSERT_TRUE(event.ok());
  EXPECT_TRUE(event->body.contains("visit"));
  EXPECT_TRUE(l.Verify().problems.empty());
}

TEST(Visits, AnEventWithoutAVisitWritesNoVisitRow) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("enroll", "c_alice", kMonday, std::nullopt));
  EXPECT_EQ(*l.db().QueryInt("SELECT count(*) FROM visits"), 0);
  EXPECT_TRUE(l.Verify().problems.empty());
}

TEST(Visits, AppendRefusesABodyThatSetsVisitItself) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  NewEvent event = Event("sale", "c_alice", kMonday, std::nullopt);
  event.body["visit"] = {{"day", "2026-11-23"}};
  WriteTransaction txn(l.db());
  ASSERT_TRUE(txn.Begin().ok());
  auto appended = l.ledger().events().Append(event);
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().kind, ErrorKind::kInternal);
}

TEST(Visits, VerifyReportsAVisitRowAlteredBySql) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("sale", "c_alice", kMonday, SaleVisit("2026-11-23", 100, {"A"})));
  EventKey second =
      l.Append(Event("sale", "c_alice", kMonday + kHour, SaleVisit("2026-11-23", 200, {"A", "B"})));
  ASSERT_TRUE(l.Verify().problems.empty());

  ASSERT_TRUE(l.db().Exec("UPDATE visits SET spend = 20000 WHERE seq = 2").ok());
  VerifyReport report = l.Verify();
  EXPECT_EQ(report.problems, std::vector<std::string>{"visit row of event " + second.ToString() +
                                                      " differs from its event"});

  // Every column counts, the skus too.
  ASSERT_TRUE(l.db().Exec("UPDATE visits SET spend = 200, skus = '[\"B\",\"A\"]'").ok());
  EXPECT_TRUE(HasProblem(l.Verify(), "visit row of event S001:T01:2 differs from its event"));
}

TEST(Visits, VerifyReportsADeletedVisitRow) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("sale", "c_alice", kMonday, SaleVisit("2026-11-23", 100)));
  ASSERT_TRUE(l.db().Exec("DELETE FROM visits").ok());
  EXPECT_EQ(l.Verify().problems, std::vector<std::string>{"event S001:T01:1 has no visit row"});
}

TEST(Visits, VerifyReportsAVisitRowThatNoEventAccountsFor) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  l.Append(Event("enroll", "c_alice", kMonday, std::nullopt));
  ASSERT_TRUE(l.db()
                  .Exec("INSERT INTO visits VALUES ('S001', 'T01', 1, 'c_alice', 0, '2026-11-23', "
                        "1, 100, 0, 0, '[]'), ('S001', 'T09', 4, 'c_alice', 0, '2026-11-23', 1, "
                        "100, 0, 0, '[]')")
                  .ok());
  VerifyReport report = l.Verify();
  EXPECT_TRUE(HasProblem(report, "visit row of event S001:T01:1 has no visit in its event"));
  EXPECT_TRUE(HasProblem(report, "visit row of event S001:T09:4 has no event"));
  EXPECT_EQ(report.problems.size(), 2u);
}

TEST(Visits, VerifyListsFiftyVisitProblemsAndCountsTheRest) {
  VisitLedger l;
  l.AddCustomer("c_alice", kAliceCard);
  for (int i = 0; i < 60; ++i) {
    l.Append(Event("sale", "c_alice", kMonday + i * kHour, SaleVisit("2026-11-23", 100)));
  }
  ASSERT_TRUE(l.db().Exec("DELETE FROM visits").ok());
  VerifyReport report = l.Verify();
  ASSERT_EQ(report.problems.size(), 51u);
  EXPECT_EQ(report.problems.back(), "10 more visit problem(s), not listed");
}

}  // namespace
}  // namespace regulars

namespace regulars {
namespace {

TEST(Ledger, AForeignEventWhoseCountsAreNotIntegersIsRefusedAndNothingStored) {
  auto ledger = Ledger::Open(":memory:", {"S002", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok());
  // Found by the sync_messages fuzzer: a float past int64 was cast (undefined behaviour).
  for (const char* every : {"1e37", "2.5", "18446744073709551615", "\"5\""}) {
    ForeignEvent event;
    event.key = EventKey{"S001", "T01", 2};
    event.at_ms = 1795424500000;
    event.kind = "sale";
    event.customer_id = "c1";
    event.body = Json::parse(std::string(R"({"counts": [{"rule": "r", "every": )") + every +
                             R"(, "units": 2, "rewards": 0}]})");
    WriteTransaction txn((*ledger)->db());
    ASSERT_TRUE(txn.Begin().ok());
    auto appended = (*ledger)->events().AppendForeign({event});
    ASSERT_FALSE(appended.ok()) << every;
    EXPECT_NE(appended.error().message.find("every is not a 64-bit integer"), std::string::npos)
        << appended.error().message;
  }
  EXPECT_EQ(*(*ledger)->db().QueryInt("SELECT count(*) FROM events"), 0);
}

TEST(SyncState, AValueIsKeptByKeyAcrossOpeningsAndOneThatIsNoNumberIsRefusedAsANumber) {
  TempDir temp;
  std::string path = temp.path() + "/ledger.sqlite";
  {
    auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
    ASSERT_TRUE(ledger.ok());
    SyncState state((*ledger)->db());
    ASSERT_TRUE(state.Write("pull_cursor", "41").ok());
    ASSERT_TRUE(state.Write("pull_cursor", "42").ok());
    ASSERT_TRUE(state.Write("last_error", "tls_failed: no route").ok());
  }
  auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok());
  SyncState state((*ledger)->db());
  EXPECT_EQ(*state.ReadNumber("pull_cursor"), 42);
  EXPECT_EQ(*state.ReadNumber("pushed_seq", 7), 7);  // absent: the fallback
  EXPECT_EQ(*state.Read("pushed_seq"), std::nullopt);
  EXPECT_EQ(*state.Read("last_error"), "tls_failed: no route");
  auto number = state.ReadNumber("last_error");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().message, "the sync's last_error is not a number");
}

}  // namespace
}  // namespace regulars
