// Pricing as a pure function of (basket, customer state, rules, the basket's time): no
// ledger, no SQLite file, no clock. The customer's state is written by hand here.
#include "checkout/propose.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "domain/basket.h"

namespace regulars {
namespace {

constexpr int64_t kNoon = 1'795'867'200'000;  // 2026-11-28T12:00:00Z

const char* const kRules = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [
    {"id": "diapers-5th", "kind": "nth_unit", "every": 5, "match": {"brands": ["Dodo"]},
     "reward": {"free": true}, "unit_name": {"fr": "paquet", "en": "pack"}},
    {"id": "gold", "kind": "tier", "rank": 2, "name": {"fr": "Or", "en": "Gold"},
     "reach": {"purchases": 3, "window_days": 30}, "grace_days": 10,
     "benefits": {"percent": 10}, "match": {"categories": ["grocery"]}}],
  "caps": {"per_day": 1500},
  "goodwill": {"per_customer_per_day": {"default": 1000}, "per_cashier_per_day": 500,
    "audit_key": {"secret_hex": "6a1f0c9d2e4b7a3c5d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"}}})";

std::shared_ptr<const RuleBook> Book() {
  auto config = ParseConfig(kRules, "rules.json");
  EXPECT_TRUE(config.ok()) << config.error().message << " at " << config.error().where;
  return std::make_shared<const RuleBook>(std::move(config).value());
}

// A basket of `diapers` packs at 12.90 and one grocery line at 10.00.
Basket BasketOf(int64_t diapers, const Json& extra = Json::object()) {
  Json json{{"pos_txn_id", "S001-T01-1"},
            {"at", "2026-11-28T12:00:00Z"},
            {"lines",
             {{{"line", 1},
               {"sku", "3400000000001"},
               {"qty", diapers},
               {"unit_price", 1290},
               {"brand", "Dodo"}},
              {{"line", 2},
               {"sku", "3500000000002"},
               {"qty", 1},
               {"unit_price", 1000},
               {"categories", {"grocery"}}}}}};
  json.update(extra);
  auto basket = ParseBasket(json, Book()->config.till, kNoon);
  EXPECT_TRUE(basket.ok()) << basket.error().message;
  return std::move(basket).value();
}

Recognition Alice() {
  Recognition who;
  who.customer_id = "c_alice";
  who.recognized_by = "card";
  return who;
}

CustomerState StateWith(int64_t diaper_progress) {
  CustomerState state;
  state.customer_id = "c_alice";
  if (diaper_progress > 0) state.counters["diapers-5th"] = {diaper_progress, 0, diaper_progress, 0};
  return state;
}

int64_t DiscountOn(const Proposal& p, size_t line) {
  int64_t sum = 0;
  for (const auto& d : p.pricing.lines[line].discounts) sum += d.amount;
  return sum;
}

TEST(Propose, FifthPackIsFreeWhenTheStateHoldsFourPacks) {
  CustomerState state = StateWith(4);
  auto p = ProposeFor(BasketOf(1), Alice(), &state, Book());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(DiscountOn(*p, 0), 1290);
  EXPECT_EQ(p->pricing.total_net, 1000);
}

TEST(Propose, ThreePacksBeforeGiveNothingYet) {
  CustomerState state = StateWith(3);
  auto p = ProposeFor(BasketOf(1), Alice(), &state, Book());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pricing.total_discount, 0);
  ASSERT_FALSE(p->terms.rules.empty());
  EXPECT_EQ(p->pricing.outcomes[0].progress_after, 4);
}

TEST(Propose, AnUnrecognizedBasketGetsNoRewardWhateverItHolds) {
  auto p = ProposeFor(BasketOf(10), Recognition{}, nullptr, Book());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pricing.total_discount, 0);
  EXPECT_TRUE(p->terms.rules.empty());
  EXPECT_TRUE(p->suggestions.empty());
}

TEST(Propose, ThreeVisitsInTheWindowHoldTheTierAndItsPercent) {
  CustomerState state = StateWith(0);
  for (int d = 1; d <= 3; ++d) state.visits.push_back({kNoon - d * kDayMs, 1, 1000});
  auto p = ProposeFor(BasketOf(1), Alice(), &state, Book());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->tier.has_value());
  EXPECT_EQ(p->tier->rule->id, "gold");
  EXPECT_EQ(DiscountOn(*p, 1), 100);  // 10 % of the grocery line
}

TEST(Propose, VisitsOutsideTheWindowAndGraceHoldNoTier) {
  CustomerState state = StateWith(0);
  for (int d = 1; d <= 3; ++d) state.visits.push_back({kNoon - (60 + d) * kDayMs, 1, 1000});
  auto p = ProposeFor(BasketOf(1), Alice(), &state, Book());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->tier.has_value());
  ASSERT_EQ(p->tier_progress.size(), 1u);
  EXPECT_EQ(p->tier_progress[0].need, 3);
}

TEST(Propose, TheDaysCapCountsWhatTheStateSaysWasGivenToday) {
  CustomerState state = StateWith(4);
  state.today.discount = 1000;  // 15.00 a day, 10.00 already given
  auto p = ProposeFor(BasketOf(1), Alice(), &state, Book());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pricing.rule_discount, 0);  // the 12.90 pack does not fit in 5.00: stays owed
  EXPECT_EQ(p->pricing.outcomes[0].progress_after, 5);
}

TEST(Propose, AGestureOverTheCashiersBudgetLeftIsRefused) {
  CustomerState state = StateWith(0);
  state.cashier_goodwill_today = 400;  // 5.00 a day per cashier
  Json gesture{{"goodwill", {{"amount", 200}, {"cashier_id", "C07"}, {"reason", "late"}}}};
  auto p = ProposeFor(BasketOf(1, gesture), Alice(), &state, Book());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "goodwill_over_budget");
  EXPECT_EQ(p.error().where, "/goodwill/amount");
}

TEST(Propose, AGestureForNobodyIsRefused) {
  Json gesture{{"goodwill", {{"amount", 100}, {"cashier_id", "C07"}, {"reason", "late"}}}};
  auto p = ProposeFor(BasketOf(1, gesture), Recognition{}, nullptr, Book());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "goodwill_needs_customer");
}

TEST(Propose, TheSameInputsGiveTheSameProposal) {
  CustomerState state = StateWith(4);
  state.recent_sales = {{"3400000000001"}, {"3400000000001"}, {"3400000000001"}};
  auto a = ProposeFor(BasketOf(2), Alice(), &state, Book());
  auto b = ProposeFor(BasketOf(2), Alice(), &state, Book());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->pricing.total_net, b->pricing.total_net);
  EXPECT_EQ(a->suggestions.size(), b->suggestions.size());
  EXPECT_EQ(a->terms.rules.size(), b->terms.rules.size());
}

TEST(Propose, AGroupsLoserCountsNothingFromTheBasketItLost) {
  auto config = ParseConfig(R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
    "rules": [
      {"id": "half-3rd", "kind": "nth_unit", "every": 3, "group": "dodo",
       "match": {"brands": ["Dodo"]}, "reward": {"percent": 50}},
      {"id": "free-5th", "kind": "nth_unit", "every": 5, "group": "dodo",
       "match": {"brands": ["Dodo"]}, "reward": {"free": true}}]})",
                            "groups.json");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto book = std::make_shared<const RuleBook>(std::move(config).value());
  CustomerState state;
  state.customer_id = "c_alice";
  auto p = ProposeFor(BasketOf(5), Alice(), &state, book);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->terms.rules.size(), 2u);
  EXPECT_EQ(DiscountOn(*p, 0), 1290) << "the free pack wins";
  EXPECT_EQ(p->pricing.outcomes[0].units, 0);
  EXPECT_EQ(p->pricing.outcomes[0].progress_after, 0);
  EXPECT_EQ(p->pricing.outcomes[1].units, 5);
  // One pack, nobody rewarded: no loser, both count.
  auto one = ProposeFor(BasketOf(1), Alice(), &state, book);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->pricing.outcomes[0].units, 1);
  EXPECT_EQ(one->pricing.outcomes[1].units, 1);
}

}  // namespace
}  // namespace regulars
