// Goodwill: a cashier's gesture within a budget that grows with the customer's loyalty,
// every gesture in the audit chain (docs/goodwill.md).
#include <gtest/gtest.h>

#include "store/audit_chain.h"
#include "test_till.h"

namespace regulars::testing {
namespace {

const std::string kAuditKeyHex(64, 'a');

std::string GoodwillConfig() {
  return R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
    "rules": [{"id": "gold", "kind": "tier", "rank": 1, "name": {"fr": "Or", "en": "Gold"},
               "reach": {"purchases": 2}, "benefits": {"services": ["priority"]}}],
    "goodwill": {"per_customer_per_day": {"default": 300, "tiers": {"gold": 1000}},
                 "per_cashier_per_day": 1500,
                 "audit_key": {"secret_hex": ")" +
         kAuditKeyHex + R"("}}})";
}

TJson WithGoodwill(TJson basket, int64_t amount, const std::string& reason = "box damaged") {
  basket["goodwill"] = {{"amount", amount}, {"reason", reason}};
  return basket;
}

std::vector<unsigned char> FirstAuditKey() { return std::vector<unsigned char>(32, 0xaa); }

TEST(Goodwill, AGestureWithinTheBudgetComesOffTheBasketAndIsAudited) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  TJson proposed = t.Evaluate(Basket("T1", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(proposed["goodwill"]["budget_left"], 300) << "the cashier sees the budget";
  TJson r = t.Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 200));
  EXPECT_EQ(r["total_discount"], 200);
  EXPECT_EQ(r["lines"][0]["discounts"][0]["rule"], "goodwill");
  EXPECT_EQ(r["lines"][0]["discounts"][0]["text"]["en"], "Goodwill gesture: box damaged");
  EXPECT_EQ(r["goodwill"]["budget_left"], 100);
  auto report = VerifyAudit(t.till().ledger().db(), FirstAuditKey());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->entries, 1);
  EXPECT_TRUE(report->ok());
}

TEST(Goodwill, AGestureOverTheBudgetIsRefusedWithWhatIsLeft) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  t.Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 200));
  auto refused = t.till().Commit(WithGoodwill(Basket("T2", kAliceCard, {Packs(1, 1)}), 200).dump());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "goodwill_over_budget");
  EXPECT_EQ(refused.error().where, "/goodwill/amount");
  EXPECT_NE(refused.error().message.find("1.00 EUR"), std::string::npos) << refused.error().message;
  EXPECT_EQ(t.CountRows("goodwill_audit"), 1) << "nothing written";
}

TEST(Goodwill, TheBudgetGrowsWithTheCustomersTierAndRenewsEachDay) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  t.Commit(Basket("T1", kAliceCard, {Packs(1, 1)}, "2026-11-20T10:00:00+01:00"));
  t.Commit(Basket("T2", kAliceCard, {Packs(1, 1)}, "2026-11-21T10:00:00+01:00"));
  TJson gold = t.Commit(WithGoodwill(Basket("T3", kAliceCard, {Packs(1, 1)}), 800));
  EXPECT_EQ(gold["customer"]["tier"], "gold");
  EXPECT_EQ(gold["total_discount"], 800);
  TJson tomorrow = t.Evaluate(Basket("T4", kAliceCard, {Packs(1, 1)}, "2026-11-24T10:00:00+01:00"));
  EXPECT_EQ(tomorrow["goodwill"]["budget_left"], 1000);
}

TEST(Goodwill, RecognizeShowsTheTierAndTheBudgetEvaluateWouldShow) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  // Two purchases today (the till's clock is 2026-11-23T09:00Z): she holds gold.
  t.Commit(Basket("T1", kAliceCard, {Packs(1, 1)}, "2026-11-23T08:00:00+01:00"));
  t.Commit(WithGoodwill(Basket("T2", kAliceCard, {Packs(1, 1)}, "2026-11-23T08:30:00+01:00"), 100));
  TJson evaluated =
      t.Evaluate(Basket("T3", kAliceCard, {Packs(1, 1)}, "2026-11-23T10:00:00+01:00"));
  ASSERT_EQ(evaluated["customer"]["tier"], "gold");
  auto text = t.till().RecognizeOnly(
      TJson{{"identifiers", {{{"kind", "card"}, {"value", kAliceCard}}}}}.dump());
  ASSERT_TRUE(text.ok()) << text.error().message;
  TJson scanned = TJson::parse(*text);
  EXPECT_EQ(scanned["customer"]["tier"], "gold") << "not null at the first scan";
  EXPECT_EQ(scanned["customer"]["tier_status"], evaluated["customer"]["tier_status"]);
  EXPECT_EQ(scanned["goodwill"]["budget_left"], 900) << "gold's 1000 less today's 100";
  EXPECT_EQ(scanned["goodwill"]["budget_left"], evaluated["goodwill"]["budget_left"]);
  EXPECT_EQ(t.CountRows("transactions"), 2) << "recognize writes nothing";
}

TEST(Goodwill, ACashiersOwnDailyBudgetSpansCustomers) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  t.Enroll(kBobCard);
  t.Enroll("2900000000032");
  t.Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 300));
  t.Commit(WithGoodwill(Basket("T2", kBobCard, {Packs(1, 1)}), 300));
  // 6.00 given by C07 today: 15.00 - 6.00 = 9.00 left for the cashier, 3.00 for Carol.
  auto third =
      t.till().Commit(WithGoodwill(Basket("T3", "2900000000032", {Packs(1, 1)}), 300).dump());
  EXPECT_TRUE(third.ok()) << third.error().message;
}

TEST(Goodwill, AnUnrecognizedCustomerGetsNoGesture) {
  TestTill t(GoodwillConfig());
  auto refused = t.till().Evaluate(WithGoodwill(Basket("T1", "", {Packs(1, 1)}), 100).dump());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "goodwill_needs_customer");
}

TEST(Goodwill, AVoidGivesTheBudgetBackAndIsAuditedAsAReversal) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  t.Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 300));
  TJson voided = t.Void("T1");
  EXPECT_EQ(voided["total_refund"], kPackPrice - 300);
  TJson again = t.Evaluate(Basket("T2", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(again["goodwill"]["budget_left"], 300);
  EXPECT_EQ(t.CountRows("goodwill_audit"), 2);
  auto report = VerifyAudit(t.till().ledger().db(), FirstAuditKey());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->problems.empty());
}

TEST(Goodwill, AnAlteredGestureIsFoundByTheAuditAndARemovedOneByDbVerify) {
  TestTill t(GoodwillConfig());
  t.Enroll(kAliceCard);
  t.Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 100));
  t.Commit(WithGoodwill(Basket("T2", kAliceCard, {Packs(1, 1)}), 100));
  Database& db = t.till().ledger().db();
  ASSERT_TRUE(db.Exec("UPDATE goodwill_audit SET amount = 1 WHERE seq = 1").ok());
  auto report = VerifyAudit(db, FirstAuditKey());
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].seq, 1);
  // Removing the last entry leaves a consistent chain: the sale events still hold it.
  ASSERT_TRUE(db.Exec("DELETE FROM goodwill_audit WHERE seq = 2").ok());
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  ASSERT_FALSE(verify->problems.empty());
  EXPECT_NE(verify->problems.back().find("T2"), std::string::npos) << verify->problems.back();
}

TEST(Goodwill, ARotatedAuditKeyStillVerifiesTheEntriesTheOldOneWrote) {
  TempDir dir;
  MemoryEnv env;
  std::string path = dir.path() + "/store.json";
  auto write = [&](const std::string& goodwill) {
    EXPECT_TRUE(env.WriteFileAtomically(path, R"({"store_id": "S001", "till_id": "T01",
        "currency": "EUR", "rules": [], "goodwill": )" +
                                                  goodwill + "}")
                    .ok());
  };
  const std::string v1 = R"({"version": 1, "secret_hex": ")" + std::string(64, 'a') + R"("})";
  const std::string v2 = R"({"version": 2, "secret_hex": ")" + std::string(64, 'b') + R"("})";
  write(R"({"per_customer_per_day": {"default": 500}, "audit_key": )" + v1 + "}");
  auto till = Till::OpenFile(path, dir.path() + "/ledger.sqlite", &env);
  ASSERT_TRUE(till.ok());
  ASSERT_TRUE((*till)->EnrollCard(kAliceCard).ok());
  ASSERT_TRUE(
      (*till)->Commit(WithGoodwill(Basket("T1", kAliceCard, {Packs(1, 1)}), 100).dump()).ok());
  write(R"({"per_customer_per_day": {"default": 500}, "audit_key": )" + v2 +
        R"(, "retired_audit_keys": [)" + v1 + "]}");
  ASSERT_TRUE(
      (*till)->Commit(WithGoodwill(Basket("T2", kAliceCard, {Packs(1, 1)}), 100).dump()).ok());
  auto keys = (*till)->config().goodwill.AuditKeys();
  auto report = VerifyAudit((*till)->ledger().db(), keys);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->entries, 2);
  EXPECT_TRUE(report->ok()) << report->problems[0].what;
  std::vector<AuditKey> newest_only{(*till)->config().goodwill.audit_key};
  auto partial = VerifyAudit((*till)->ledger().db(), newest_only);
  ASSERT_TRUE(partial.ok());
  ASSERT_EQ(partial->problems.size(), 1u);
  EXPECT_EQ(partial->problems[0].seq, 1);
  EXPECT_NE(partial->problems[0].what.find("version 1"), std::string::npos);
}

}  // namespace
}  // namespace regulars::testing
