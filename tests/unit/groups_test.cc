// Exclusivity groups exclude: of the rules sharing a group, the one that gives the
// customer the most on a basket applies, and the others count nothing from that basket
// (docs/rules.md, "Exclusivity groups").
#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars::testing {
namespace {

// Half price on every 3rd pack, or every 5th pack free: alternatives.
const char* const kAlternatives = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [
    {"id": "dodo-3rd-half", "kind": "nth_unit", "every": 3, "group": "dodo",
     "match": {"brands": ["Dodo"]}, "reward": {"percent": 50}},
    {"id": "dodo-5th-free", "kind": "nth_unit", "every": 5, "group": "dodo",
     "match": {"brands": ["Dodo"]}, "reward": {"free": true}}]})";

constexpr const char* kMonday = "2026-11-16T10:00:00+01:00";
constexpr const char* kWednesday = "2026-11-18T10:00:00+01:00";

// The progress a receipt shows for `rule` (-1 when it shows none).
int64_t Have(const TJson& receipt, const std::string& rule) {
  for (const auto& p : receipt["progress"]) {
    if (p["rule"] == rule) return p["have"];
  }
  return -1;
}

int64_t StoredProgress(TestTill& t, const std::string& customer, const std::string& rule) {
  auto counters = t.till().ledger().counters().Of(customer);
  if (!counters.ok()) return -1;
  auto it = counters->find(rule);
  return it == counters->end() ? 0 : it->second.progress;
}

void ExpectVerified(TestTill& t) {
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok()) << verify.error().message;
  EXPECT_TRUE(verify->mismatches.empty());
}

TEST(Groups, ALosingRuleEarnsNothingFromTheBasketItLost) {
  TestTill t(kAlternatives);
  std::string alice = t.Enroll(kAliceCard);
  auto five = t.Commit(Basket("V1", kAliceCard, {Packs(1, 5)}, kMonday));
  EXPECT_EQ(five["total_discount"], kPackPrice) << "a free pack beats half a pack";
  EXPECT_EQ(Have(five, "dodo-3rd-half"), 0) << "the loser counted none of the five";
  EXPECT_EQ(Have(five, "dodo-5th-free"), 0);
  EXPECT_EQ(StoredProgress(t, alice, "dodo-3rd-half"), 0);
  ExpectVerified(t);
}

TEST(Groups, TheLoserIsNotGivenOnTheNextBasket) {
  TestTill t(kAlternatives);
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 5)}, kMonday));
  auto one = t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));
  EXPECT_EQ(one["total_discount"], 0) << "no half-price pack owed from Monday";
  // A basket no member rewards is no contest: it counts for both.
  EXPECT_EQ(Have(one, "dodo-3rd-half"), 1);
  EXPECT_EQ(Have(one, "dodo-5th-free"), 1);
  ExpectVerified(t);
}

TEST(Groups, ABasketTheOtherMemberWinsLeavesTheFirstWhereItWas) {
  TestTill t(kAlternatives);
  std::string alice = t.Enroll(kAliceCard);
  auto two = t.Commit(Basket("V1", kAliceCard, {Packs(1, 2)}, kMonday));  // 2 and 2
  EXPECT_EQ(two["total_discount"], 0);
  // One more: the 3rd is half price (6.45) and the free pack is still 3 packs away.
  auto third = t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));
  EXPECT_EQ(third["total_discount"], (kPackPrice + 1) / 2);
  EXPECT_EQ(Have(third, "dodo-3rd-half"), 0);
  EXPECT_EQ(Have(third, "dodo-5th-free"), 2) << "it lost the basket: its pack is not counted";
  EXPECT_EQ(StoredProgress(t, alice, "dodo-5th-free"), 2);
  ExpectVerified(t);
}

TEST(Groups, ARefundOfTheBasketALoserLostCountsWhatIsKeptForItsNewWinner) {
  TestTill t(kAlternatives);
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 5)}, kMonday));  // free pack, 5th-free won
  // Four packs kept: on their own they earn a half-price pack (645) and no free one.
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  // Paid 51.60 for five; four with a half-price one cost 45.15: 6.45 back.
  EXPECT_EQ(refund["total_refund"], 645);
  EXPECT_EQ(StoredProgress(t, alice, "dodo-3rd-half"), 1);
  EXPECT_EQ(StoredProgress(t, alice, "dodo-5th-free"), 0);
  ExpectVerified(t);
}

}  // namespace
}  // namespace regulars::testing
