// Replacing a lost loyalty card: the old card stops recognizing, the new one carries the
// customer's history.
#include <gtest/gtest.h>

#include "store/event_log.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::kBobCard;
using testing::kPackPrice;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

constexpr const char* kNewCard = "2900000000032";

Result<std::string> Replace(TestTill& t, const std::string& old_card, const std::string& new_card) {
  TJson request{{"card", old_card}, {"new_card", new_card}, {"cashier_id", "C07"}};
  return t.till().ReplaceCard(request.dump());
}

TEST(CardReplacement, AReplacedCardStopsRecognizingAndTheNewOneCarriesTheHistory) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("A1", kAliceCard, {Packs(1, 4)}));

  auto replaced = Replace(t, kAliceCard, kNewCard);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  TJson answer = TJson::parse(*replaced);
  EXPECT_EQ(answer["customer"]["id"], alice);
  EXPECT_EQ(answer["replaced"]["old_card"], kAliceCard);
  EXPECT_EQ(answer["replaced"]["new_card"], kNewCard);
  EXPECT_EQ(answer["replaced"]["at"], "2026-11-23T09:00:00Z");
  EXPECT_TRUE(answer["event_id"].is_string());

  // The new card: the same customer, her four packs counted, the fifth free.
  TJson fifth = t.Evaluate(Basket("A2", kNewCard, {Packs(1, 1)}));
  EXPECT_EQ(fifth["customer"]["id"], alice);
  EXPECT_EQ(fifth["total_discount"], kPackPrice) << fifth.dump();
  // The old card: an unknown card, with a notice saying why.
  TJson old = t.Evaluate(Basket("A3", kAliceCard, {Packs(1, 1)}));
  EXPECT_TRUE(old["customer"].is_null()) << old.dump();
  ASSERT_EQ(old["notices"].size(), 1u);
  EXPECT_EQ(old["notices"][0]["code"], "card_replaced");
  EXPECT_EQ(old["notices"][0]["where"], "/identifiers/0");

  auto report = t.till().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
}

TEST(CardReplacement, TheReplacementIsAnEventNamingBothCards) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  ASSERT_TRUE(Replace(t, kAliceCard, kNewCard).ok());
  auto body = t.till().ledger().db().QueryText(
      "SELECT body FROM events WHERE kind = 'card_replaced' AND customer_id = ?1", alice);
  ASSERT_TRUE(body.ok() && body->has_value());
  TJson event = TJson::parse(**body);
  EXPECT_EQ(event["identifier"], (TJson{{"kind", "card"}, {"value", kNewCard}}));
  EXPECT_EQ(event["old_identifier"], (TJson{{"kind", "card"}, {"value", kAliceCard}}));
  EXPECT_EQ(event["cashier_id"], "C07");
}

TEST(CardReplacement, MistakesAreRefusedAndWriteNothing) {
  TestTill t;
  t.Enroll(kAliceCard);
  t.Enroll(kBobCard);
  int64_t events = t.CountRows("events");
  struct Case {
    std::string old_card, new_card, code, where;
  };
  for (const Case& c : std::vector<Case>{
           {"2900000000049", kNewCard, "unknown_card", "/card"},
           {kAliceCard, kBobCard, "card_in_use", "/new_card"},
           {kAliceCard, kAliceCard, "invalid_request", "/new_card"},
           {"2900000000017", kNewCard, "invalid_card", "/card"},
           {kAliceCard, "2900000000033", "invalid_card", "/new_card"},
       }) {
    auto refused = Replace(t, c.old_card, c.new_card);
    ASSERT_FALSE(refused.ok()) << c.old_card << " -> " << c.new_card;
    EXPECT_EQ(refused.error().code, c.code) << refused.error().message;
    EXPECT_EQ(refused.error().where, c.where);
  }
  auto unknown = Replace(t, "2900000000049", kNewCard);
  EXPECT_NE(unknown.error().message.find("2900000000049"), std::string::npos)
      << "names the card: " << unknown.error().message;
  auto missing = t.till().ReplaceCard(R"({"card": "2900000000018"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().where, "/new_card");
  EXPECT_EQ(t.CountRows("events"), events);
}

TEST(CardReplacement, AReplacedCardIsRetiredForGood) {
  TestTill t;
  t.Enroll(kAliceCard);
  ASSERT_TRUE(Replace(t, kAliceCard, kNewCard).ok());
  auto twice = Replace(t, kAliceCard, "2900000000049");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, "card_replaced");
  auto reused = Replace(t, kNewCard, kAliceCard);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, "card_in_use");
  auto enrolled = t.till().Enroll(R"({"card": "2900000000018"})");
  ASSERT_FALSE(enrolled.ok());
  EXPECT_EQ(enrolled.error().code, "card_replaced");
  EXPECT_EQ(enrolled.error().where, "/card");
}

TEST(CardReplacement, ErasureRedactsBothCardsOfTheReplacement) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  ASSERT_TRUE(Replace(t, kAliceCard, kNewCard).ok());
  WriteTransaction txn(t.till().ledger().db());
  ASSERT_TRUE(txn.Begin().ok());
  ASSERT_TRUE(t.till().ledger().events().Erase(alice, 1, "HQ:HQ:1").ok());
  ASSERT_TRUE(txn.Commit().ok());
  auto left = t.till().ledger().db().QueryInt(
      "SELECT count(*) FROM events WHERE body LIKE '%2900000000018%' OR body LIKE "
      "'%2900000000032%'");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0);
  EXPECT_EQ(t.CountRows("identifiers"), 0);
}

}  // namespace
}  // namespace regulars
