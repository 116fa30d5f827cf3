// Edge cases found in review, each a bug once: refunds under caps, groups and milestones;
// tier windows and reversals; goodwill budgets per day; the rule index; rule reloads.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "checkout/pricing.h"
#include "config/config.h"
#include "rewards/rule_index.h"
#include "store/audit_chain.h"
#include "test_till.h"

namespace regulars::testing {
namespace {

std::string ConfigWith(const std::string& rules, const std::string& extra = "") {
  return R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": )" + rules +
         (extra.empty() ? "" : ", " + extra) + "}";
}

const char* kGoodwill =
    R"("goodwill": {"per_customer_per_day": {"default": 1000}, "per_cashier_per_day": 500,
        "audit_key": {"secret_hex": "6a1f0c9d2e4b7a3c5d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"}})";

// A till on a clock the test moves (env).
struct ClockTill {
  explicit ClockTill(const std::string& config) : dir(MakeTempDir()) {
    auto parsed = ParseConfig(config, "cfg.json");
    if (!parsed.ok()) {
      ADD_FAILURE() << parsed.error().message << " " << parsed.error().where;
      return;
    }
    auto t = Till::Open(std::move(parsed).value(), dir + "/l.sqlite", &env);
    if (!t.ok()) ADD_FAILURE() << t.error().message;
    till = std::move(t).value();
  }
  ~ClockTill() {
    till.reset();
    std::filesystem::remove_all(dir);
  }
  Result<std::string> Commit(const TJson& b) { return till->Commit(b.dump()); }
  TJson C(const TJson& b) {
    auto r = till->Commit(b.dump());
    if (!r.ok()) {
      ADD_FAILURE() << r.error().code << ": " << r.error().message;
      return {};
    }
    return TJson::parse(*r);
  }
  TJson E(const TJson& b) {
    auto r = till->Evaluate(b.dump());
    if (!r.ok()) {
      ADD_FAILURE() << r.error().code << ": " << r.error().message;
      return {};
    }
    return TJson::parse(*r);
  }
  std::string dir;
  MemoryEnv env;  // 2026-11-23T09:00:00Z until moved
  std::unique_ptr<Till> till;
};

TJson Line(int64_t n, const std::string& sku, int64_t qty, int64_t price,
           std::vector<std::string> cats = {"grocery/dairy"}) {
  return {{"line", n}, {"sku", sku}, {"qty", qty}, {"unit_price", price}, {"categories", cats}};
}

// a void long after its sale takes a visit out of a *later* tier window.
TEST(RewardEdges, AVoidLongAfterItsSaleLeavesLaterTierWindowsAlone) {
  ClockTill t(ConfigWith(R"([{"id": "gold", "kind": "tier", "rank": 1,
      "name": {"fr": "Or", "en": "Gold"}, "reach": {"purchases": 2, "window_days": 30},
      "grace_days": 0, "benefits": {"percent": 10}}])"));
  (void)t.till->EnrollCard(kAliceCard);
  t.C(Basket("A", kAliceCard, {Line(1, "M", 1, 1000)}, "2026-10-01T10:00:00+01:00"));
  auto v = t.till->Void(R"({"pos_txn_id": "A", "at": "2026-11-10T10:00:00+01:00"})");
  ASSERT_TRUE(v.ok());
  t.C(Basket("B", kAliceCard, {Line(1, "M", 1, 1000)}, "2026-11-11T10:00:00+01:00"));
  t.C(Basket("C", kAliceCard, {Line(1, "M", 1, 1000)}, "2026-11-12T10:00:00+01:00"));
  TJson d = t.E(Basket("D", kAliceCard, {Line(1, "M", 1, 1000)}, "2026-11-13T10:00:00+01:00"));
  EXPECT_EQ(d["customer"]["tier"], "gold") << "two visits (B, C) in the last 30 days";
  auto verify = t.till->Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->problems.empty());
}

// group winner frozen at sale; a refund keeps the loser off.
TEST(RewardEdges, ARefundChoosesTheGroupWinnerAnewForWhatIsKept) {
  ClockTill t(ConfigWith(R"([
    {"id": "x2", "kind": "nth_unit", "every": 2, "group": "g", "match": {"skus": ["X"]},
     "reward": {"free": true}},
    {"id": "t", "kind": "tier", "rank": 1, "group": "g", "name": {"fr": "A", "en": "A"},
     "reach": {"purchases": 1, "window_days": 30}, "benefits": {"percent": 10}}])"));
  (void)t.till->EnrollCard(kAliceCard);
  t.C(Basket("S0", kAliceCard, {Line(1, "Y", 1, 100)}, "2026-11-20T10:00:00+01:00"));
  TJson s = t.C(Basket("S1", kAliceCard, {Line(1, "X", 2, 1000), Line(2, "Y", 1, 1000)},
                       "2026-11-21T10:00:00+01:00"));
  auto r = t.till->Refund(
      R"({"pos_txn_id": "R1", "refund_of": "S1", "lines": [{"line": 1, "qty": 2}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  TJson rj = TJson::parse(*r);
  int64_t paid = s["total_net"].get<int64_t>() - rj["total_refund"].get<int64_t>();
  TJson alone =
      t.E(Basket("S1b", kAliceCard, {Line(2, "Y", 1, 1000)}, "2026-11-21T10:00:00+01:00"));
  EXPECT_EQ(paid, 900);
}

// A gesture counts on its basket's day, even when the till's clock says otherwise (a
// basket committed late, after an outage).
TEST(RewardEdges, ACashiersDayIsTheBasketsDayNotTheTillsClock) {
  ClockTill t(ConfigWith(R"([])", kGoodwill));
  t.env.AdvanceMs(86'400'000);  // the till's clock is on the 24th
  (void)t.till->EnrollCard(kAliceCard);
  (void)t.till->EnrollCard(kBobCard);
  TJson a = Basket("G1", kAliceCard, {Line(1, "M", 1, 2000)}, "2026-11-23T10:00:00+01:00");
  a["goodwill"] = {{"amount", 500}, {"reason", "r"}};
  t.C(a);
  TJson b = Basket("G2", kBobCard, {Line(1, "M", 1, 2000)}, "2026-11-23T23:30:00+01:00");
  b["goodwill"] = {{"amount", 500}, {"reason", "r"}};
  auto rb = t.Commit(b);
  EXPECT_FALSE(rb.ok()) << "cashier C07 gave 500 of 500 already on 2026-11-23";
}

// A void on a later day gives the budget back to the day of the gesture.
TEST(RewardEdges, AReversalGivesBudgetBackToTheGrantsDayNotTheNextOne) {
  ClockTill t(ConfigWith(R"([])", kGoodwill));
  (void)t.till->EnrollCard(kAliceCard);
  (void)t.till->EnrollCard(kBobCard);
  TJson a = Basket("G1", kAliceCard, {Line(1, "M", 1, 2000)}, "2026-11-23T10:00:00+01:00");
  a["goodwill"] = {{"amount", 500}, {"reason", "r"}};
  t.env.SetNowMs(1795424400000);  // 23rd 09:00Z
  t.C(a);
  t.env.AdvanceMs(86'400'000);  // 24th
  ASSERT_TRUE(t.till->Void(R"({"pos_txn_id": "G1"})").ok());
  int ok = 0;
  for (int i = 0; i < 2; ++i) {
    TJson b = Basket("H" + std::to_string(i), i ? kAliceCard : kBobCard, {Line(1, "M", 1, 2000)},
                     "2026-11-24T10:00:00+01:00");
    b["goodwill"] = {{"amount", 500}, {"reason", "r"}};
    if (t.Commit(b).ok()) ++ok;
  }
  EXPECT_EQ(ok, 1) << "cashier budget per day is 500";
}

// Amounts beyond any basket are refused at the door, so a customer's sums never overflow.
TEST(RewardEdges, ABasketBeyondTenBillionIsRefusedSoDaySumsNeverOverflow) {
  ClockTill t(ConfigWith(R"([])", R"("caps": {"per_day": 100})"));
  (void)t.till->EnrollCard(kAliceCard);
  int64_t p = 4'000'000'000'000'000'000;
  auto r = t.Commit(Basket("B0", kAliceCard, {Line(1, "M", 1, p)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where, "/lines/0/unit_price");
  for (int i = 0; i < 4; ++i) {
    auto ok = t.Commit(
        Basket("B" + std::to_string(i + 1), kAliceCard, {Line(1, "M", 1, kMaxBasketTotal)}));
    EXPECT_TRUE(ok.ok()) << i << ": " << ok.error().message;
  }
}

// index misses category prefix "/".
TEST(RewardEdges, TheIndexFindsARuleOnTheRootCategory) {
  auto rule = ParseRule(TJson::parse(R"({"id": "r", "kind": "nth_unit", "every": 2,
      "match": {"categories": ["/"]}, "reward": {"free": true}})"),
                        "/rules/0");
  ASSERT_TRUE(rule.ok()) << rule.error().message;
  std::vector<Rule> rules{*rule};
  RuleIndex index(rules);
  BasketLine line;
  line.sku = "S";
  line.categories = {"/food"};
  std::vector<uint32_t> out;
  index.Candidates(line, out);
  EXPECT_TRUE(rules[0].match.Matches(line));
  EXPECT_EQ(out.size(), 1u) << "linear scan matches, index gives no candidate";
}

// turning goodwill off makes refunds of goodwill sales impossible.
TEST(RewardEdges, ASaleWithGoodwillCanBeVoidedAfterGoodwillIsTurnedOff) {
  TempDir dir;
  MemoryEnv env;
  std::string path = dir.path() + "/c.json";
  ASSERT_TRUE(env.WriteFileAtomically(path, ConfigWith("[]", kGoodwill)).ok());
  auto till = Till::OpenFile(path, dir.path() + "/l.sqlite", &env);
  ASSERT_TRUE(till.ok());
  (void)(*till)->EnrollCard(kAliceCard);
  TJson a = Basket("G1", kAliceCard, {Line(1, "M", 2, 1000)});
  a["goodwill"] = {{"amount", 500}, {"reason", "r"}};
  ASSERT_TRUE((*till)->Commit(a.dump()).ok());
  ASSERT_TRUE(env.WriteFileAtomically(path, ConfigWith("[]")).ok());
  auto v = (*till)->Void(R"({"pos_txn_id": "G1"})");
  EXPECT_TRUE(v.ok()) << v.error().code << ": " << v.error().message;
}

// an explicit rules_version reused with different rules: commit prices with rules
// the basket was not shown, with no notice.
TEST(RewardEdges, ChangedRulesUnderAnUnchangedVersionAreRefused) {
  TempDir dir;
  MemoryEnv env;
  std::string path = dir.path() + "/c.json";
  auto write = [&](int every) {
    EXPECT_TRUE(
        env.WriteFileAtomically(
               path,
               ConfigWith(R"([{"id": "x", "kind": "nth_unit", "every": )" + std::to_string(every) +
                              R"(, "match": {"skus": ["X"]}, "reward": {"free": true}}])",
                          R"("rules_version": "v1")"))
            .ok());
  };
  write(2);
  auto till = Till::OpenFile(path, dir.path() + "/l.sqlite", &env);
  ASSERT_TRUE(till.ok());
  (void)(*till)->EnrollCard(kAliceCard);
  TJson b = Basket("T1", kAliceCard, {Line(1, "X", 2, 1000)});
  auto e = (*till)->Evaluate(b.dump());
  ASSERT_TRUE(e.ok());
  TJson ej = TJson::parse(*e);
  b["rules_version"] = ej["rules_version"];
  write(3);
  auto c = (*till)->Commit(b.dump());
  ASSERT_TRUE(c.ok());
  TJson cj = TJson::parse(*c);
  EXPECT_EQ(ej["total_net"], cj["total_net"]);
  ASSERT_EQ(cj["notices"].size(), 1u);
  EXPECT_EQ(cj["notices"][0]["code"], "config_not_reloaded");
}

// a refund total can be negative (the customer pays to return an item).
TEST(RewardEdges, ARefundNeverAsksTheCustomerForMoney) {
  ClockTill t(ConfigWith(R"([{"id": "m", "kind": "milestone", "step": 1000, "amount": 1000,
      "match": {"skus": ["X"]}}])"));
  (void)t.till->EnrollCard(kAliceCard);
  t.C(Basket("S0", kAliceCard, {Line(1, "X", 1, 990)}, "2026-11-20T10:00:00+01:00"));
  TJson s = t.C(Basket("S1", kAliceCard, {Line(1, "X", 1, 10), Line(2, "Z", 1, 5000)},
                       "2026-11-21T10:00:00+01:00"));
  auto r = t.till->Refund(
      R"({"pos_txn_id": "R1", "refund_of": "S1", "lines": [{"line": 1, "qty": 1}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  TJson rj = TJson::parse(*r);
  EXPECT_GE(rj["total_refund"].get<int64_t>(), 0);
}

// a refund that moves a reward onto a dearer unit passes the day cap.
TEST(RewardEdges, ARefundNeverPushesTheDayPastItsCap) {
  ClockTill t(ConfigWith(R"([{"id": "x2", "kind": "nth_unit", "every": 2,
      "match": {"skus": ["X"]}, "reward": {"free": true}}])",
                         R"("caps": {"per_day": 1000})"));
  (void)t.till->EnrollCard(kAliceCard);
  t.C(Basket("S0", kAliceCard, {Line(1, "X", 1, 50)}, "2026-11-20T10:00:00+01:00"));
  TJson a = t.C(Basket("A", kAliceCard, {Line(1, "X", 1, 100), Line(2, "X", 1, 1000)},
                       "2026-11-21T10:00:00+01:00"));
  TJson b = t.C(Basket("B", kAliceCard, {Line(1, "X", 1, 900)}, "2026-11-21T11:00:00+01:00"));
  auto r =
      t.till->Refund(R"({"pos_txn_id": "R1", "refund_of": "A", "lines": [{"line": 1, "qty": 1}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string cid = (*t.till->ledger().customers().ByIdentifier("card", kAliceCard))->id;
  auto day = t.till->ledger().visits().DayTotals(cid, "2026-11-21");
  ASSERT_TRUE(day.ok());
  EXPECT_LE(day->discount, 1000);
}

// a zero-priced matched unit absorbs an earned reward.
TEST(RewardEdges, AFreeUnitNeverAbsorbsAReward) {
  ClockTill t(ConfigWith(R"([{"id": "x2", "kind": "nth_unit", "every": 2,
      "match": {"skus": ["X", "XG"]}, "reward": {"free": true}}])"));
  (void)t.till->EnrollCard(kAliceCard);
  t.C(Basket("S0", kAliceCard, {Line(1, "X", 1, 1290)}, "2026-11-20T10:00:00+01:00"));
  TJson s = t.C(Basket("S1", kAliceCard, {Line(1, "X", 1, 1290), Line(2, "XG", 1, 0)},
                       "2026-11-21T10:00:00+01:00"));
  EXPECT_GT(s["total_discount"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace regulars::testing
