// The nth_unit reward: every Nth unit of a matched set, counted across visits.
#include "rewards/nth_unit.h"

#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::Other;
using testing::Packs;
using testing::TestTill;

BasketLine Line(int64_t number, int64_t qty, int64_t price) {
  BasketLine line;
  line.line = number;
  line.sku = "sku" + std::to_string(number);
  line.qty = qty;
  line.unit_price = price;
  line.gross = qty * price;
  return line;
}

std::vector<size_t> All(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

const UnitReward kFree{100, std::nullopt};

TEST(NthUnit, FifthPackIsFreeAcrossThreeVisits) {
  TestTill t;
  t.Enroll(kAliceCard);
  auto first = t.Commit(Basket("V1", kAliceCard, {Packs(1, 2)}, "2026-11-02T10:00:00+01:00"));
  EXPECT_EQ(first["total_discount"], 0);
  EXPECT_EQ(first["progress"][0]["have"], 2);
  auto second = t.Commit(Basket("V2", kAliceCard, {Packs(1, 2)}, "2026-11-09T10:00:00+01:00"));
  EXPECT_EQ(second["total_discount"], 0);
  EXPECT_EQ(second["progress"][0]["have"], 4);
  EXPECT_EQ(second["progress"][0]["text"]["en"], "4 of 5 packs: the next one is on us");
  auto third = t.Commit(Basket("V3", kAliceCard, {Packs(1, 1), Other(2, "milk", 1, 129)},
                               "2026-11-16T10:00:00+01:00"));
  EXPECT_EQ(third["total_gross"], 1290 + 129);
  EXPECT_EQ(third["total_discount"], 1290);
  EXPECT_EQ(third["total_net"], 129);
  EXPECT_EQ(third["lines"][0]["discounts"][0]["rule"], "diapers-5th");
  EXPECT_EQ(third["lines"][0]["discounts"][0]["text"]["fr"], "5e paquet offert");
  EXPECT_TRUE(third["lines"][1]["discounts"].empty());
  EXPECT_EQ(third["progress"][0]["have"], 0);
}

TEST(NthUnit, ABasketOfTwoOrThreeTimesNEarnsEveryReward) {
  auto ten = ApplyNthUnit(5, kFree, 0, std::vector{Line(1, 10, 1290)}, {0});
  ASSERT_TRUE(ten.ok());
  EXPECT_EQ(ten->rewards, 2);
  EXPECT_EQ(ten->line_rewards[0].amount, 2 * 1290);
  auto fifteen = ApplyNthUnit(5, kFree, 0, std::vector{Line(1, 15, 1290)}, {0});
  EXPECT_EQ(fifteen->rewards, 3);
  EXPECT_EQ(fifteen->progress_after, 0);
}

TEST(NthUnit, ADiscountedUnitIsNotCountedTwice) {
  // 4 before + 1 bought = 5 units, one of them free: the next reward is 5 units away.
  auto outcome = ApplyNthUnit(5, kFree, 4, std::vector{Line(1, 1, 1290)}, {0});
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->units, 1);
  EXPECT_EQ(outcome->rewards, 1);
  EXPECT_EQ(outcome->progress_after, 0);
  auto next = ApplyNthUnit(5, kFree, 0, std::vector{Line(1, 4, 1290)}, {0});
  EXPECT_EQ(next->rewards, 0);
}

TEST(NthUnit, TheCheapestMatchedUnitIsTheDiscountedOne) {
  std::vector lines{Line(1, 3, 1390), Line(2, 2, 1290)};
  auto outcome = ApplyNthUnit(5, kFree, 0, lines, All(2));
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome->line_rewards.size(), 1u);
  EXPECT_EQ(outcome->line_rewards[0].line_index, 1u);
  EXPECT_EQ(outcome->line_rewards[0].amount, 1290);
}

TEST(NthUnit, AFixedAmountIsNotTreatedAsAPercentage) {
  UnitReward two_euros{std::nullopt, 200};
  auto outcome = ApplyNthUnit(5, two_euros, 4, std::vector{Line(1, 1, 1290)}, {0});
  EXPECT_EQ(outcome->line_rewards[0].amount, 200);
  UnitReward more_than_price{std::nullopt, 5000};
  outcome = ApplyNthUnit(5, more_than_price, 4, std::vector{Line(1, 1, 1290)}, {0});
  EXPECT_EQ(outcome->line_rewards[0].amount, 1290);  // never more than the unit
  UnitReward half{50, std::nullopt};
  outcome = ApplyNthUnit(5, half, 4, std::vector{Line(1, 1, 1291)}, {0});
  EXPECT_EQ(outcome->line_rewards[0].amount, 646);  // 645.5 rounds half up
}

TEST(NthUnit, WeighedLinesNeverCount) {
  std::vector lines{Line(1, 5000, 1290)};
  lines[0].unit = QuantityUnit::kGram;
  Match everything{{"sku1"}, {}, {}};
  EXPECT_TRUE(MatchedLines(everything, lines).empty());
}

TEST(NthUnit, MatchIsByAlternativesAndCategoryPrefix) {
  Match m{{"123"}, {"Dodo"}, {"baby"}};
  BasketLine line;
  line.sku = "999";
  EXPECT_FALSE(m.Matches(line));
  line.categories = {"baby/diapers"};
  EXPECT_TRUE(m.Matches(line));
  line.categories = {"babyfood"};
  EXPECT_FALSE(m.Matches(line));
  line.brand = "Dodo";
  EXPECT_TRUE(m.Matches(line));
  line = BasketLine{};
  line.sku = "123";
  EXPECT_TRUE(m.Matches(line));
}

TEST(NthUnit, TheRewardSurvivesReevaluationAndASplitBasket) {
  TestTill t;
  t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 3)}));
  // Evaluated twice (a second till, a re-scan): the same proposal both times.
  auto basket = Basket("V2", kAliceCard, {Packs(1, 2)});
  auto a = t.Evaluate(basket);
  auto b = t.Evaluate(basket);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["total_discount"], 1290);
  // Split into two baskets of one pack: the reward lands on the second.
  EXPECT_EQ(t.Commit(Basket("V2a", kAliceCard, {Packs(1, 1)}))["total_discount"], 0);
  EXPECT_EQ(t.Commit(Basket("V2b", kAliceCard, {Packs(1, 1)}))["total_discount"], 1290);
}

TEST(NthUnit, AnUnrecognizedBasketEarnsNothingAndCountsNothing) {
  TestTill t;
  auto receipt = t.Commit(Basket("A1", "", {Packs(1, 10)}));
  EXPECT_TRUE(receipt["customer"].is_null());
  EXPECT_EQ(receipt["total_discount"], 0);
  EXPECT_TRUE(receipt["progress"].empty());
  EXPECT_EQ(t.CountRows("counters"), 0);
}

}  // namespace
}  // namespace regulars
