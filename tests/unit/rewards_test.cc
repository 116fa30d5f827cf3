// Tiers, milestones, campaigns, exclusions, caps, exclusivity, sentences and suggestions:
// the rewards engine beyond the fifth pack (docs/rules.md has each example).
#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars::testing {
namespace {

// A config around `rules` (a JSON array) with optional extra top-level members.
std::string ConfigWith(const std::string& rules, const std::string& extra = "") {
  return R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": )" + rules +
         (extra.empty() ? "" : ", " + extra) + "}";
}

const char* const kDiapers5th =
    R"({"id": "diapers-5th", "kind": "nth_unit", "every": 5, "match": {"brands": ["Dodo"]},
        "reward": {"free": true}, "unit_name": {"fr": "paquet", "en": "pack"}})";
const char* const kGoldTier =
    R"({"id": "gold", "kind": "tier", "rank": 2, "name": {"fr": "Or", "en": "Gold"},
        "reach": {"purchases": 3, "window_days": 30}, "grace_days": 10,
        "benefits": {"percent": 10, "services": ["free_delivery"]}})";
const char* const kSpendMilestone =
    R"({"id": "every-50", "kind": "milestone", "step": 5000, "amount": 500,
        "match": {"categories": ["grocery"]}})";

// Day `d` of a month starting 2026-11-01, at 10:00 in Paris.
std::string Day(int d) {
  int month = 11, day = d;
  if (day > 30) {
    month = 12;
    day -= 30;
  }
  if (day > 31 && month == 12) {
    month = 13;
    day -= 31;
  }
  char text[40];
  if (month == 13) {
    std::snprintf(text, sizeof text, "2027-01-%02dT10:00:00+01:00", day);
  } else {
    std::snprintf(text, sizeof text, "2026-%02d-%02dT10:00:00+01:00", month, day);
  }
  return text;
}

TJson Grocery(int64_t line, int64_t qty, int64_t price, const std::string& sku = "MILK") {
  return Other(line, sku, qty, price);  // categories grocery/dairy
}

const TJson* FindDiscount(const TJson& receipt, const std::string& rule) {
  for (const auto& line : receipt["lines"]) {
    for (const auto& d : line["discounts"]) {
      if (d["rule"] == rule) return &d;
    }
  }
  return nullptr;
}

int64_t DiscountOf(const TJson& receipt, const std::string& rule) {
  int64_t sum = 0;
  for (const auto& line : receipt["lines"]) {
    for (const auto& d : line["discounts"]) {
      if (d["rule"] == rule) sum += d["amount"].get<int64_t>();
    }
  }
  return sum;
}

// --- nth_unit, completed ---

TEST(Rewards, APerBasketCapLeavesTheOtherRewardsOwedForTheNextVisit) {
  TestTill t(ConfigWith(R"([{"id": "diapers-5th", "kind": "nth_unit", "every": 5,
      "match": {"brands": ["Dodo"]}, "reward": {"free": true}, "max_per_basket": 1}])"));
  t.Enroll(kAliceCard);
  TJson first = t.Commit(Basket("T1", kAliceCard, {Packs(1, 10)}));
  EXPECT_EQ(first["total_discount"], kPackPrice);
  TJson second = t.Commit(Basket("T2", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(second["total_discount"], kPackPrice) << "the owed reward lands on the next pack";
}

TEST(Rewards, AnExcludedSkuNeverCountsNorGetsTheReward) {
  TestTill t(ConfigWith(R"([{"id": "dairy-3rd", "kind": "nth_unit", "every": 3,
      "match": {"categories": ["grocery"], "exclude": {"skus": ["CREAM"]}},
      "reward": {"amount": 50}}])"));
  t.Enroll(kAliceCard);
  TJson receipt =
      t.Commit(Basket("T1", kAliceCard, {Grocery(1, 2, 100), Grocery(2, 5, 100, "CREAM")}));
  EXPECT_EQ(receipt["total_discount"], 0);
  ASSERT_EQ(receipt["progress"].size(), 1u);
  EXPECT_EQ(receipt["progress"][0]["have"], 2);
}

TEST(Rewards, ACampaignCountsOnlyBetweenItsDatesAndWhatWasEarnedStays) {
  TestTill t(ConfigWith(R"([{"id": "xmas", "kind": "nth_unit", "every": 3,
      "match": {"brands": ["Dodo"]}, "reward": {"free": true}, "max_per_basket": 1,
      "valid_from": "2026-12-01T00:00:00+01:00", "valid_until": "2026-12-25T00:00:00+01:00"}])"));
  t.Enroll(kAliceCard);
  TJson before = t.Commit(Basket("T1", kAliceCard, {Packs(1, 3)}, Day(20)));
  EXPECT_EQ(before["total_discount"], 0) << "before the campaign nothing counts";
  EXPECT_EQ(before["progress"].size(), 0u);
  TJson during = t.Commit(Basket("T2", kAliceCard, {Packs(1, 6)}, "2026-12-02T10:00:00+01:00"));
  EXPECT_EQ(during["total_discount"], kPackPrice) << "capped at one: the second stays owed";
  TJson after = t.Commit(Basket("T3", kAliceCard, {Packs(1, 1)}, "2026-12-28T10:00:00+01:00"));
  EXPECT_EQ(after["total_discount"], kPackPrice) << "the owed reward survives the campaign";
  TJson later = t.Commit(Basket("T4", kAliceCard, {Packs(1, 3)}, "2026-12-29T10:00:00+01:00"));
  EXPECT_EQ(later["total_discount"], 0) << "after the campaign nothing new counts";
}

// --- tiers ---

TEST(Rewards, ATierIsReachedAfterNPurchasesAndAppliesToEveryBasketWhileHeld) {
  TestTill t(ConfigWith(std::string("[") + kGoldTier + "]"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    TJson r = t.Commit(Basket("T" + std::to_string(d), kAliceCard, {Grocery(1, 1, 1000)}, Day(d)));
    EXPECT_TRUE(r["customer"]["tier"].is_null()) << "visit " << d;
    EXPECT_EQ(r["total_discount"], 0);
  }
  TJson fourth = t.Commit(Basket("T4", kAliceCard, {Grocery(1, 2, 1000)}, Day(4)));
  EXPECT_EQ(fourth["customer"]["tier"], "gold");
  EXPECT_EQ(fourth["customer"]["tier_status"]["services"][0], "free_delivery");
  EXPECT_EQ(fourth["customer"]["tier_status"]["in_grace"], false);
  EXPECT_EQ(DiscountOf(fourth, "gold"), 200);
  EXPECT_EQ(fourth["total_net"], 1800);
}

TEST(Rewards, ATierIsKeptThroughItsGracePeriodThenLost) {
  TestTill t(ConfigWith(std::string("[") + kGoldTier + "]"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard, {Grocery(1, 1, 1000)}, Day(d)));
  }
  // Day 1's visit leaves the 30-day window on day 31: qualified until then, then 10 days.
  TJson grace = t.Evaluate(Basket("G", kAliceCard, {Grocery(1, 1, 1000)}, Day(35)));
  EXPECT_EQ(grace["customer"]["tier"], "gold");
  EXPECT_EQ(grace["customer"]["tier_status"]["in_grace"], true);
  EXPECT_EQ(grace["customer"]["tier_status"]["held_until"], "2026-12-11");
  EXPECT_EQ(DiscountOf(grace, "gold"), 100);
  TJson lost = t.Evaluate(Basket("L", kAliceCard, {Grocery(1, 1, 1000)}, Day(42)));
  EXPECT_TRUE(lost["customer"]["tier"].is_null());
  EXPECT_EQ(lost["total_discount"], 0);
  ASSERT_FALSE(lost["progress"].empty()) << "the cashier sees how far the tier is";
  EXPECT_EQ(lost["progress"][0]["rule"], "gold");
}

TEST(Rewards, ATierReachedBySpendCountsWhatWasPaidAndTheHighestHeldApplies) {
  TestTill t(ConfigWith(std::string(R"([{"id": "silver", "kind": "tier", "rank": 1,
      "name": {"fr": "Argent", "en": "Silver"}, "reach": {"spend": 3000},
      "benefits": {"percent": 5}}, )") +
                        kGoldTier + "]"));
  t.Enroll(kAliceCard);
  t.Commit(Basket("T1", kAliceCard, {Grocery(1, 3, 1000)}, Day(1)));
  TJson second = t.Commit(Basket("T2", kAliceCard, {Grocery(1, 1, 1000)}, Day(2)));
  EXPECT_EQ(second["customer"]["tier"], "silver");
  EXPECT_EQ(DiscountOf(second, "silver"), 50);
  t.Commit(Basket("T3", kAliceCard, {Grocery(1, 1, 1000)}, Day(3)));
  TJson fourth = t.Evaluate(Basket("T4", kAliceCard, {Grocery(1, 1, 1000)}, Day(4)));
  EXPECT_EQ(fourth["customer"]["tier"], "gold") << "both held: the higher rank applies";
  EXPECT_EQ(DiscountOf(fourth, "gold"), 100);
  EXPECT_EQ(DiscountOf(fourth, "silver"), 0);
}

TEST(Rewards, AVoidedVisitNoLongerCountsTowardATier) {
  TestTill t(ConfigWith(std::string("[") + kGoldTier + "]"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard, {Grocery(1, 1, 1000)}, Day(d)));
  }
  t.Void("T3");  // on the till's clock: 2026-11-23
  TJson r = t.Evaluate(Basket("T4", kAliceCard, {Grocery(1, 1, 1000)}, Day(24)));
  EXPECT_TRUE(r["customer"]["tier"].is_null());
}

// --- milestones ---

TEST(Rewards, AMilestoneTakesItsAmountOffEachTimeSpendCrossesAStep) {
  TestTill t(ConfigWith(std::string("[") + kSpendMilestone + "]"));
  t.Enroll(kAliceCard);
  TJson first = t.Commit(Basket("T1", kAliceCard, {Grocery(1, 3, 1000)}));
  EXPECT_EQ(first["total_discount"], 0);
  EXPECT_EQ(first["progress"][0]["have"], 3000);
  TJson second = t.Commit(Basket("T2", kAliceCard, {Grocery(1, 3, 1000)}));
  EXPECT_EQ(DiscountOf(second, "every-50"), 500);
  EXPECT_EQ(second["progress"][0]["have"], 1000);
  TJson big = t.Commit(Basket("T3", kAliceCard, {Grocery(1, 10, 1000)}));
  EXPECT_EQ(DiscountOf(big, "every-50"), 1000) << "two steps crossed in one basket";
}

TEST(Rewards, AMilestoneSentenceWritesMoneyAsEachLanguageDoes) {
  TestTill t(ConfigWith(std::string("[") + kSpendMilestone + "]"));
  t.Enroll(kAliceCard);
  TJson first = t.Commit(Basket("T1", kAliceCard, {Grocery(1, 3, 1000)}));
  EXPECT_EQ(first["progress"][0]["text"]["fr"],
            "30,00\u00a0€ sur 50,00\u00a0€ d'achats : prochain palier 5,00\u00a0€");
  EXPECT_EQ(first["progress"][0]["text"]["en"], "€30.00 of €50.00 spent: next step €5.00 off");
  TestTill dollars(R"({"store_id": "S001", "till_id": "T01", "currency": "USD", "rules": [
      {"id": "every-5000", "kind": "milestone", "step": 500000, "amount": 5000,
       "match": {"categories": ["grocery"]}}]})");
  dollars.Enroll(kAliceCard);
  TJson basket = Basket("T1", kAliceCard, {Grocery(1, 3, 1000)});
  basket["currency"] = "USD";
  TJson usd = dollars.Commit(basket);
  EXPECT_EQ(usd["progress"][0]["text"]["en"], "$30.00 of $5,000.00 spent: next step $50.00 off");
  EXPECT_EQ(usd["progress"][0]["text"]["fr"],
            "30,00\u00a0$US sur 5\u202f000,00\u00a0$US d'achats : prochain palier 50,00\u00a0$US");
}

TEST(Rewards, AMilestoneCountsWhatWasPaidNeverTheDiscount) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + R"(, {"id": "baby-50",
      "kind": "milestone", "step": 5000, "amount": 500, "match": {"brands": ["Dodo"]}}])"));
  t.Enroll(kAliceCard);
  TJson r = t.Commit(Basket("T1", kAliceCard, {Packs(1, 5)}));  // 5 x 12.90, one free
  EXPECT_EQ(DiscountOf(r, "diapers-5th"), kPackPrice);
  EXPECT_EQ(DiscountOf(r, "baby-50"), 500) << "51.60 paid crosses 50.00";
  EXPECT_EQ(r["progress"][1]["have"], 4 * kPackPrice - 5000);
}

TEST(Rewards, RefundingTheUnitsThatCrossedAStepTakesTheMilestoneBack) {
  TestTill t(ConfigWith(std::string("[") + kSpendMilestone + "]"));
  t.Enroll(kAliceCard);
  t.Commit(Basket("T1", kAliceCard, {Grocery(1, 4, 1000), Grocery(2, 2, 1000, "BREAD")}));
  TJson refund = t.Refund("R1", "T1", {{{"line", 2}, {"qty", 2}}});
  // 60.00 paid 55.00; without line 2 it is 40.00 with no milestone: 15.00 comes back.
  EXPECT_EQ(refund["total_refund"], 1500);
  TJson next = t.Evaluate(Basket("T2", kAliceCard, {Grocery(1, 1, 1000)}));
  // 40.00 stays counted: 10.00 more crosses the step again.
  EXPECT_EQ(DiscountOf(next, "every-50"), 500);
  EXPECT_EQ(next["progress"][0]["have"], 0);
  auto report = t.till().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty());
}

// --- stacking ---

TEST(Rewards, OfAnExclusivityGroupTheCustomerGetsTheBetterReward) {
  TestTill t(ConfigWith(R"([
      {"id": "dodo-3rd-half", "kind": "nth_unit", "every": 3, "group": "dodo",
       "match": {"brands": ["Dodo"]}, "reward": {"percent": 50}},
      {"id": "dodo-5th-free", "kind": "nth_unit", "every": 5, "group": "dodo",
       "match": {"brands": ["Dodo"]}, "reward": {"free": true}}])"));
  t.Enroll(kAliceCard);
  TJson r = t.Commit(Basket("T1", kAliceCard, {Packs(1, 5)}));
  EXPECT_EQ(DiscountOf(r, "dodo-5th-free"), kPackPrice);
  EXPECT_EQ(DiscountOf(r, "dodo-3rd-half"), 0);
  EXPECT_EQ(r["total_discount"], kPackPrice);
}

TEST(Rewards, ABasketCapAndADayCapBoundTheRuleDiscounts) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]",
                        R"("caps": {"per_basket": 2000, "per_day": 3000})"));
  t.Enroll(kAliceCard);
  TJson first = t.Commit(Basket("T1", kAliceCard, {Packs(1, 15)}));
  EXPECT_EQ(first["total_discount"], kPackPrice) << "a second free pack would pass 20.00";
  TJson second = t.Commit(Basket("T2", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(second["total_discount"], kPackPrice) << "owed; 25.80 given today";
  TJson third = t.Commit(Basket("T3", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(third["total_discount"], 0) << "the day cap of 30.00 is reached";
  TJson tomorrow = t.Commit(Basket("T4", kAliceCard, {Packs(1, 1)}, "2026-11-24T10:00:00+01:00"));
  EXPECT_EQ(tomorrow["total_discount"], kPackPrice) << "a new day, the owed pack";
}

TEST(Rewards, ALinesDiscountsNeverExceedItsPrice) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "," + kGoldTier + R"(,
      {"id": "baby-10", "kind": "milestone", "step": 1000, "amount": 1000,
       "match": {"brands": ["Dodo"]}}])"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard, {Packs(1, 1)}, Day(d)));
  }
  TJson r = t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 2)}, Day(4)));
  for (const auto& line : r["lines"]) {
    int64_t sum = 0;
    for (const auto& d : line["discounts"]) sum += d["amount"].get<int64_t>();
    EXPECT_LE(sum, line["gross"].get<int64_t>());
    EXPECT_GE(line["net"].get<int64_t>(), 0);
  }
  EXPECT_GE(r["total_net"].get<int64_t>(), 0);
}

// --- words ---

TEST(Rewards, EverySentenceIsInFrenchAndEnglishFromTheCatalogue) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]"));
  t.Enroll(kAliceCard);
  TJson four = t.Commit(Basket("T1", kAliceCard, {Packs(1, 4)}));
  EXPECT_EQ(four["progress"][0]["text"]["fr"], "4 paquets sur 5 : le prochain est offert");
  EXPECT_EQ(four["progress"][0]["text"]["en"], "4 of 5 packs: the next one is on us");
  TJson fifth = t.Commit(Basket("T2", kAliceCard, {Packs(1, 1)}));
  const TJson* d = FindDiscount(fifth, "diapers-5th");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["text"]["fr"], "5e paquet offert, merci de votre fidélité");
  EXPECT_EQ((*d)["text"]["en"], "5th pack free, thank you for coming back");
}

TEST(Rewards, AUnitNameWithItsOwnPluralIsWrittenRight) {
  TestTill t(ConfigWith(R"([{"id": "coffee-10th", "kind": "nth_unit", "every": 10,
      "match": {"brands": ["Dodo"]}, "reward": {"percent": 50},
      "unit_name": {"fr": "paquet de café", "en": "bag of coffee"},
      "unit_plural": {"fr": "paquets de café", "en": "bags of coffee"}}])"));
  t.Enroll(kAliceCard);
  TJson r = t.Commit(Basket("T1", kAliceCard, {Packs(1, 3)}));
  EXPECT_EQ(r["progress"][0]["text"]["fr"], "3 paquets de café sur 10");
  EXPECT_EQ(r["progress"][0]["text"]["en"], "3 of 10 bags of coffee");
}

TEST(Rewards, AConfigMayRewordACatalogueSentence) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]",
                        R"("messages": {"nth_unit.progress": {"fr": "{have}/{need} {units}",
                                                             "en": "{have}/{need} {units}"}})"));
  t.Enroll(kAliceCard);
  TJson r = t.Commit(Basket("T1", kAliceCard, {Packs(1, 2)}));
  EXPECT_EQ(r["progress"][0]["text"]["en"], "2/5 packs");
  EXPECT_EQ(r["progress"][0]["text"]["fr"], "2/5 paquets");
}

// --- suggestions ---

TEST(Rewards, SuggestionsNameARewardCloseByAndAUsualItemMissingToday) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard,
                    {Grocery(1, 1, 300, "COFFEE"), Other(2, "BREAD", 1, 150)}, Day(d)));
  }
  TJson r = t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 4), Other(2, "BREAD", 1, 150)}, Day(4)));
  ASSERT_EQ(r["suggestions"].size(), 2u);
  EXPECT_EQ(r["suggestions"][0]["kind"], "reward_near");
  EXPECT_EQ(r["suggestions"][0]["left"], 1);
  EXPECT_EQ(r["suggestions"][1]["kind"], "usual_item");
  EXPECT_EQ(r["suggestions"][1]["about"], "COFFEE");
  EXPECT_EQ(r["suggestions"][1]["text"]["en"],
            "Usually buys COFFEE (3 of the last 3 visits), not today");
  EXPECT_EQ(t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 4), Other(2, "BREAD", 1, 150)}, Day(4))),
            r)
      << "deterministic";
}

TEST(Rewards, AUsualItemIsNamedByTheConfigsProductsAndBySkuOtherwise) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]",
                        R"("products": {"COFFEE": {"fr": "Café moulu 250 g",
                                                   "en": "Ground coffee 250 g"}})"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard,
                    {Grocery(1, 1, 300, "COFFEE"), Other(2, "BREAD", 1, 150)}, Day(d)));
  }
  TJson r = t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 1)}, Day(4)));
  ASSERT_EQ(r["suggestions"].size(), 2u) << r["suggestions"].dump();
  const TJson& bread = r["suggestions"][0];
  const TJson& coffee = r["suggestions"][1];
  EXPECT_EQ(coffee["about"], "COFFEE");
  EXPECT_EQ(coffee["name"]["en"], "Ground coffee 250 g");
  EXPECT_EQ(coffee["text"]["fr"], "Achète souvent Café moulu 250 g (3 visites sur 3), pas ce jour");
  EXPECT_EQ(coffee["text"]["en"],
            "Usually buys Ground coffee 250 g (3 of the last 3 visits), not today");
  EXPECT_EQ(bread["about"], "BREAD");
  EXPECT_FALSE(bread.contains("name"));
  EXPECT_EQ(bread["text"]["en"], "Usually buys BREAD (3 of the last 3 visits), not today");
}

TEST(Rewards, AVoidedSaleIsNotAUsualVisit) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]"));
  t.Enroll(kAliceCard);
  for (int d = 1; d <= 3; ++d) {
    t.Commit(Basket("T" + std::to_string(d), kAliceCard, {Grocery(1, 1, 300, "COFFEE")}, Day(d)));
  }
  t.Void("T3");
  TJson r = t.Evaluate(Basket("T4", kAliceCard, {Other(1, "BREAD", 1, 150)}, Day(24)));
  EXPECT_TRUE(r["suggestions"].empty()) << r["suggestions"].dump();
}

TEST(Rewards, AnUnrecognizedBasketHasNoSuggestions) {
  TestTill t(ConfigWith(std::string("[") + kDiapers5th + "]"));
  TJson r = t.Evaluate(Basket("T1", "", {Packs(1, 4)}));
  EXPECT_FALSE(r.contains("suggestions"));
}

}  // namespace
}  // namespace regulars::testing

namespace regulars::testing {
namespace {

// --- changing rules on a running till ---

// The config file is in memory (env_): a rewrite changes its stamp, with the clock still.
class RuleReload : public ::testing::Test {
 protected:
  void Write(const std::string& text) {
    // As an operator or the sync would: a new file renamed over the old one.
    ASSERT_TRUE(env_.WriteFileAtomically(config_, text).ok());
  }
  std::string Every(int n) {
    return ConfigWith(R"([{"id": "diapers", "kind": "nth_unit", "every": )" + std::to_string(n) +
                      R"(, "match": {"brands": ["Dodo"]}, "reward": {"free": true}}])");
  }
  void Open() {
    auto till = Till::OpenFile(config_, dir_.path() + "/ledger.sqlite", &env_);
    ASSERT_TRUE(till.ok()) << till.error().message;
    till_ = std::move(till).value();
    ASSERT_TRUE(till_->EnrollCard(kAliceCard).ok());
  }
  TJson Call(const Result<std::string>& r) {
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? TJson::parse(*r) : TJson();
  }
  TempDir dir_;
  MemoryEnv env_;
  std::string config_ = dir_.path() + "/store.json";
  std::unique_ptr<Till> till_;
};

TEST_F(RuleReload, ANewRuleSetIsPickedUpWithoutARestart) {
  Write(Every(5));
  Open();
  TJson before = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(before["total_discount"], 0);
  Write(Every(3));
  TJson after = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(after["total_discount"], kPackPrice);
  EXPECT_NE(after["rules_version"], before["rules_version"]);
}

TEST_F(RuleReload, ARewriteWithinTheSameClockTickIsPickedUp) {
  Write(Every(5));
  Open();
  int64_t now = env_.NowMs();
  Write(Every(3));
  EXPECT_EQ(Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()))["total_discount"],
            kPackPrice);
  Write(Every(4));
  EXPECT_EQ(Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()))["total_discount"],
            0);
  EXPECT_EQ(env_.NowMs(), now) << "no time passed: the file's stamp alone told the change";
  EXPECT_TRUE(env_.sleeps().empty());
}

TEST_F(RuleReload, ABadRuleFileIsRefusedWholeAndThePreviousRulesStayInForce) {
  Write(Every(3));
  Open();
  Write(Every(3).substr(0, 60));  // cut short: not JSON
  TJson r = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(r["total_discount"], kPackPrice);
  ASSERT_EQ(r["notices"].size(), 1u);
  EXPECT_EQ(r["notices"][0]["code"], "config_not_reloaded");
  EXPECT_NE(r["notices"][0]["where"].get<std::string>().find("store.json"), std::string::npos);
  Write(ConfigWith(R"([{"id": "diapers", "kind": "nth_unit", "every": 0,
                       "match": {"brands": ["Dodo"]}, "reward": {"free": true}}])"));
  r = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(r["total_discount"], kPackPrice) << "a rule that fails validation: all refused";
  EXPECT_EQ(r["notices"][0]["where"], config_ + "#/rules/0/every");
  Write(Every(5));
  r = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(r["total_discount"], 0);
  EXPECT_TRUE(r["notices"].empty()) << "fixed: the notice goes";
}

TEST_F(RuleReload, ABasketInProgressIsCommittedWithTheRulesItWasShown) {
  Write(Every(3));
  Open();
  TJson shown = Call(till_->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  Write(Every(5));
  TJson basket = Basket("T1", kAliceCard, {Packs(1, 3)});
  basket["rules_version"] = shown["rules_version"];
  TJson committed = Call(till_->Commit(basket.dump()));
  EXPECT_EQ(committed["total_discount"], kPackPrice);
  EXPECT_EQ(committed["rules_version"], shown["rules_version"]);
  TJson next = Call(till_->Evaluate(Basket("T2", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_NE(next["rules_version"], shown["rules_version"]) << "new baskets get the new rules";
}

}  // namespace
}  // namespace regulars::testing

namespace regulars::testing {
namespace {

// --- the rule sets kept in the ledger, for every process on it ---

class KeptRules : public ::testing::Test {
 protected:
  void Write(const std::string& text) { ASSERT_TRUE(env_.WriteFileAtomically(config_, text).ok()); }
  std::string Every(int n, const std::string& extra = "") {
    return ConfigWith(R"([{"id": "diapers", "kind": "nth_unit", "every": )" + std::to_string(n) +
                          R"(, "match": {"brands": ["Dodo"]}, "reward": {"free": true}}])",
                      extra);
  }
  // A till on the shared ledger, as another process or a restarted service opens it.
  std::unique_ptr<Till> Open() {
    auto till = Till::OpenFile(config_, dir_.path() + "/ledger.sqlite", &env_);
    EXPECT_TRUE(till.ok()) << till.error().message;
    if (!till.ok()) return nullptr;
    EXPECT_TRUE((*till)->EnrollCard(kAliceCard).ok());
    return std::move(till).value();
  }
  TJson Call(const Result<std::string>& r) {
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? TJson::parse(*r) : TJson();
  }
  TJson CommitUnder(Till& till, const std::string& txn, const TJson& version) {
    TJson basket = Basket(txn, kAliceCard, {Packs(1, 3)});
    basket["rules_version"] = version;
    return Call(till.Commit(basket.dump()));
  }
  TempDir dir_;
  MemoryEnv env_;
  std::string config_ = dir_.path() + "/store.json";
};

TEST_F(KeptRules, ARulesVersionFromADryRunIsHonouredByAnotherProcess) {
  Write(Every(3));
  auto first = Open();
  ASSERT_NE(first, nullptr);
  TJson shown = Call(first->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  ASSERT_EQ(shown["total_discount"], kPackPrice);
  Write(Every(5));
  auto second = Open();  // has never held the rules the basket was shown
  ASSERT_NE(second, nullptr);
  TJson committed = CommitUnder(*second, "T1", shown["rules_version"]);
  EXPECT_EQ(committed["total_discount"], kPackPrice) << "the price the customer was shown";
  EXPECT_EQ(committed["rules_version"], shown["rules_version"]);
  EXPECT_TRUE(committed["notices"].empty()) << committed.dump();
  TJson next = Call(second->Evaluate(Basket("T2", kAliceCard, {Packs(1, 3)}).dump()));
  EXPECT_EQ(next["total_discount"], 0) << "new baskets get the rules in force";
  auto report = second->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty());
  EXPECT_TRUE(report->problems.empty());
}

TEST_F(KeptRules, ARulesVersionIsHonouredAfterARestartWithItsCaps) {
  Write(Every(3, R"("caps": {"per_basket": 500})"));
  TJson shown;
  {
    auto till = Open();
    ASSERT_NE(till, nullptr);
    shown = Call(till->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  }
  ASSERT_EQ(shown["total_discount"], 0) << "a free pack would pass the cap: it stays owed";
  Write(Every(3));  // the cap lifted: another version
  auto restarted = Open();
  ASSERT_NE(restarted, nullptr);
  TJson now = Call(restarted->Evaluate(Basket("T1", kAliceCard, {Packs(1, 3)}).dump()));
  ASSERT_EQ(now["total_discount"], kPackPrice);
  TJson committed = CommitUnder(*restarted, "T1", shown["rules_version"]);
  EXPECT_EQ(committed["total_discount"], 0) << "the kept set brings its caps";
  EXPECT_EQ(committed["rules_version"], shown["rules_version"]);
}

TEST_F(KeptRules, AVersionNoTillKeptIsPricedWithTheRulesInForceAndSaysSo) {
  Write(Every(3));
  auto till = Open();
  ASSERT_NE(till, nullptr);
  TJson committed = CommitUnder(*till, "T1", "sha256:000000000000");
  EXPECT_EQ(committed["total_discount"], kPackPrice);
  ASSERT_EQ(committed["notices"].size(), 1u);
  EXPECT_EQ(committed["notices"][0]["code"], "rules_version_unknown");
  EXPECT_EQ(committed["notices"][0]["where"], "/rules_version");
}

TEST_F(KeptRules, TheLedgerKeepsTheLastEightRuleSetsPutInForce) {
  Write(Every(2));
  auto till = Open();
  ASSERT_NE(till, nullptr);
  std::vector<TJson> versions;
  for (int every = 2; every <= 2 + static_cast<int>(RuleSets::kKept); ++every) {
    Write(Every(every));
    versions.push_back(
        Call(till->Evaluate(Basket("T0", kAliceCard, {Packs(1, 3)}).dump()))["rules_version"]);
  }
  ASSERT_EQ(versions.size(), RuleSets::kKept + 1);
  auto other = Open();
  ASSERT_NE(other, nullptr);
  TJson kept = CommitUnder(*other, "T1", versions[1]);  // every 3rd: 3 packs, one free
  EXPECT_EQ(kept["total_discount"], kPackPrice);
  EXPECT_TRUE(kept["notices"].empty()) << kept.dump();
  TJson oldest = CommitUnder(*other, "T2", versions[0]);
  ASSERT_EQ(oldest["notices"].size(), 1u) << "nine sets put in force: the first is forgotten";
  EXPECT_EQ(oldest["notices"][0]["code"], "rules_version_unknown");
}

}  // namespace
}  // namespace regulars::testing
