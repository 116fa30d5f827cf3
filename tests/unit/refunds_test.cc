// Refunds on a later visit: a returned unit takes back the reward it earned on a later
// basket (docs/rules.md, "Refunds and voids"). The rule: every 5th Dodo pack free.
#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars::testing {
namespace {

constexpr const char* kMonday = "2026-11-16T10:00:00+01:00";
constexpr const char* kWednesday = "2026-11-18T10:00:00+01:00";
constexpr const char* kFriday = "2026-11-20T10:00:00+01:00";

Counter DiapersCounter(TestTill& t, const std::string& customer) {
  auto counters = t.till().ledger().counters().Of(customer);
  if (!counters.ok() || !counters->contains("diapers-5th")) {
    ADD_FAILURE() << "no diapers-5th counter";
    return {};
  }
  return counters->at("diapers-5th");
}

// Counters replayed from the events agree with the stored ones.
void ExpectVerified(TestTill& t) {
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok()) << verify.error().message;
  EXPECT_TRUE(verify->mismatches.empty());
}

TEST(Refunds, ReturningOneOfTheFourCountedPacksTakesBackTheFreeFifth) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));  // 4 × 12.90 = 51.60
  auto fifth = t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));
  ASSERT_EQ(fifth["total_net"], 0);
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  // 12.90 for the pack, less the free fifth it no longer earns: 12.90 − 12.90.
  EXPECT_EQ(refund["lines"][0]["amount"], 1290);
  EXPECT_EQ(refund["reward_deduction"], 1290);
  EXPECT_EQ(refund["rewards_unearned"],
            TJson::parse(R"([{"rule": "diapers-5th", "rewards": 1, "amount": 1290}])"));
  EXPECT_EQ(refund["total_refund"], 0);
  EXPECT_FALSE(refund.contains("waived"));
  // As if three packs then one had been bought: 4 of 5, nothing over-granted.
  Counter c = DiapersCounter(t, alice);
  EXPECT_EQ(c.units, 4);
  EXPECT_EQ(c.rewards, 0);
  EXPECT_EQ(c.progress, 4);
  EXPECT_EQ(c.over_granted, 0);
  ExpectVerified(t);
  EXPECT_EQ(t.Evaluate(Basket("V3", kAliceCard, {Packs(1, 1)}, kFriday))["total_discount"], 1290);
}

TEST(Refunds, TheDeductionNeverExceedsTheRefundAndTheRestIsWaived) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4, 990)}, kMonday));      // small packs, 9.90
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1, 1290)}, kWednesday));  // a big one, free
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  // 9.90 back less the 12.90 pack no longer earned: nothing back, 3.00 waived.
  EXPECT_EQ(refund["reward_deduction"], 1290);
  EXPECT_EQ(refund["total_refund"], 0);
  EXPECT_EQ(refund["waived"], 300);
  Counter c = DiapersCounter(t, alice);
  EXPECT_EQ(c.rewards, 0);
  EXPECT_EQ(c.progress, 4);
  EXPECT_EQ(c.over_granted, 0);
  ExpectVerified(t);
}

TEST(Refunds, ARefundAfterTheCounterMovedOnDeductsOnlyWhatItUnearns) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));
  auto stock_up = t.Commit(Basket("V2", kAliceCard, {Packs(1, 6)}, kWednesday));  // 2 free
  ASSERT_EQ(stock_up["total_discount"], 2 * 1290);
  t.Commit(Basket("V3", kAliceCard, {Packs(1, 3)}, kFriday));  // 3 of 5
  // Without V1's four packs, V2 and V3 make 9: one free pack earned, two given.
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 4}}});
  EXPECT_EQ(refund["reward_deduction"], 1290);
  EXPECT_EQ(refund["total_refund"], 4 * 1290 - 1290);
  Counter c = DiapersCounter(t, alice);
  EXPECT_EQ(c.units, 9);
  EXPECT_EQ(c.rewards, 1);
  EXPECT_EQ(c.progress, 4);
  EXPECT_EQ(c.over_granted, 0);
  ExpectVerified(t);
}

TEST(Refunds, UnitsBoughtSinceKeepTheRewardEarnedAndTheRefundIsWhole) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));  // free
  t.Commit(Basket("V3", kAliceCard, {Packs(1, 4)}, kFriday));     // 4 of 5
  // 3 + 1 + 4 packs still earn one free pack: the refund is whole.
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(refund["total_refund"], 1290);
  EXPECT_FALSE(refund.contains("rewards_unearned"));
  EXPECT_FALSE(refund.contains("reward_deduction"));
  EXPECT_EQ(DiapersCounter(t, alice).progress, 3);
  EXPECT_EQ(DiapersCounter(t, alice).rewards, 1);
  ExpectVerified(t);
}

TEST(Refunds, AVoidTakesBackTheRewardItsUnitsEarnedLater) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));  // free
  auto voided = t.Void("V1");
  // 51.60 paid, less the free pack the void un-earns: 38.70.
  EXPECT_EQ(voided["total_refund"], 4 * 1290 - 1290);
  EXPECT_EQ(voided["reward_deduction"], 1290);
  Counter c = DiapersCounter(t, alice);
  EXPECT_EQ(c.units, 1);
  EXPECT_EQ(c.rewards, 0);
  EXPECT_EQ(c.progress, 1);
  EXPECT_EQ(c.over_granted, 0);
  ExpectVerified(t);
}

TEST(Refunds, OnceTheFreePackCameBackARefundOfACountedPackIsWhole) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));  // free
  // The rewarded basket itself: nothing back for the free pack, progress back to 4.
  auto free_back = t.Refund("R1", "V2", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(free_back["total_refund"], 0);
  EXPECT_FALSE(free_back.contains("rewards_unearned"));
  // Then one of the four: no reward is left to take back.
  auto refund = t.Refund("R2", "V1", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(refund["total_refund"], 1290);
  EXPECT_FALSE(refund.contains("reward_deduction"));
  EXPECT_EQ(DiapersCounter(t, alice).progress, 3);
  EXPECT_EQ(DiapersCounter(t, alice).over_granted, 0);
  ExpectVerified(t);
}

TEST(Refunds, TwoPartialRefundsTakeBackEachRewardOnce) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, kMonday));
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}, kWednesday));  // free
  auto first = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(first["total_refund"], 0);
  // Three packs left of V1 and one of V2: 4 of 5, no reward given any more.
  auto second = t.Refund("R2", "V1", {{{"line", 1}, {"qty", 2}}});
  EXPECT_EQ(second["total_refund"], 2 * 1290);
  EXPECT_FALSE(second.contains("reward_deduction"));
  Counter c = DiapersCounter(t, alice);
  EXPECT_EQ(c.progress, 2);
  EXPECT_EQ(c.rewards, 0);
  EXPECT_EQ(c.over_granted, 0);
  ExpectVerified(t);
  // A retry answers the same and takes nothing more.
  EXPECT_EQ(t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}}), first);
  EXPECT_EQ(DiapersCounter(t, alice).progress, 2);
}

}  // namespace
}  // namespace regulars::testing
