// The checkout lifecycle: evaluate, commit, void, refund, and what each leaves behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::kBobCard;
using testing::Other;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything the ledger holds, as one comparable string.
std::string Snapshot(TestTill& t) {
  std::string out;
  for (const char* table :
       {"customers", "identifiers", "events", "counters", "transactions", "voids"}) {
    out += std::string(table) + "=" + std::to_string(t.CountRows(table)) + ";";
  }
  auto sum = t.till().ledger().db().QueryInt("SELECT total(progress + units * 7) FROM counters");
  return out + "counters:" + std::to_string(sum.ok() ? *sum : -1);
}

TEST(Checkout, EvaluateIsPureAndWritesNothing) {
  TestTill t;
  t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}));
  std::string before = Snapshot(t);
  auto wal_before = FileBytes(t.db_path() + "-wal");
  auto basket = Basket("V2", kAliceCard, {Packs(1, 1)});
  auto first = t.Evaluate(basket);
  auto second = t.Evaluate(basket);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first["status"], "proposed");
  EXPECT_EQ(first["total_discount"], 1290);
  EXPECT_EQ(Snapshot(t), before);
  EXPECT_EQ(FileBytes(t.db_path() + "-wal"), wal_before);
}

TEST(Checkout, CommittingTheSameBasketTwiceReturnsTheSameReceiptAndWritesNothing) {
  TestTill t;
  t.Enroll(kAliceCard);
  auto basket = Basket("S001-T01-000042", kAliceCard, {Packs(1, 5)});
  auto first = t.till().Commit(basket.dump());
  ASSERT_TRUE(first.ok());
  std::string after_first = Snapshot(t);
  // A retry with the keys in another order and other spacing is the same basket.
  auto again = t.till().Commit(TJson::parse(basket.dump()).dump(2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(Snapshot(t), after_first);
  EXPECT_EQ(t.Progress(TJson::parse(*first)["customer"]["id"]), 0);
  // After a restart too.
  t.Reopen();
  EXPECT_EQ(*t.till().Commit(basket.dump()), *first);
  EXPECT_EQ(Snapshot(t), after_first);
  // Evaluating a committed basket shows the committed receipt, not a second count.
  EXPECT_EQ(t.Evaluate(basket), TJson::parse(*first));
}

TEST(Checkout, TheSameIdWithAnotherBasketIsAConflict) {
  TestTill t;
  t.Commit(Basket("S001-T01-000042", "", {Packs(1, 1)}));
  std::string before = Snapshot(t);
  auto other = t.till().Commit(Basket("S001-T01-000042", "", {Packs(1, 2)}).dump());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "pos_txn_id_conflict");
  EXPECT_EQ(other.error().where, "/pos_txn_id");
  EXPECT_EQ(Snapshot(t), before);
}

TEST(Checkout, ACommittedReceiptCarriesItsEventAndRulesVersion) {
  TestTill t;
  auto receipt = t.Commit(Basket("X1", "", {Packs(1, 1)}));
  EXPECT_EQ(receipt["status"], "committed");
  EXPECT_EQ(receipt["event_id"], "S001:T01:1");
  EXPECT_EQ(receipt["rules_version"], t.till().config().rules.version);
}

TEST(Checkout, VoidPutsTheCountersBack) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}));
  auto sale = t.Commit(Basket("V2", kAliceCard, {Packs(1, 2)}));
  EXPECT_EQ(sale["total_discount"], 1290);
  EXPECT_EQ(t.Progress(alice), 1);
  auto voided = t.Void("V2");
  EXPECT_EQ(voided["status"], "voided");
  EXPECT_EQ(voided["total_refund"], 1290);  // what was paid: two packs, one free
  EXPECT_EQ(t.Progress(alice), 4);
  EXPECT_EQ(voided["progress"][0]["have"], 4);
  // Nothing was deleted: the sale and its void are both in the ledger.
  EXPECT_EQ(t.CountRows("events"), 4);
  // The next pack is free again.
  EXPECT_EQ(t.Evaluate(Basket("V3", kAliceCard, {Packs(1, 1)}))["total_discount"], 1290);
}

TEST(Checkout, VoidingTwiceReturnsTheFirstAnswer) {
  TestTill t;
  t.Commit(Basket("V1", "", {Packs(1, 1)}));
  auto first = t.Void("V1");
  std::string before = Snapshot(t);
  EXPECT_EQ(t.Void("V1"), first);
  EXPECT_EQ(Snapshot(t), before);
}

TEST(Checkout, VoidOfAnUnknownTransactionIsRefused) {
  TestTill t;
  auto voided = t.till().Void(R"({"pos_txn_id": "NOPE"})");
  ASSERT_FALSE(voided.ok());
  EXPECT_EQ(voided.error().code, "unknown_transaction");
  EXPECT_EQ(voided.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(voided.error().where, "/pos_txn_id");
  EXPECT_EQ(t.CountRows("events"), 0);
}

TEST(Checkout, PartialRefundReturnsSomeQuantitiesAndCounters) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 3), Other(2, "milk", 2, 129)}));
  EXPECT_EQ(t.Progress(alice), 3);
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}, {{"line", 2}, {"qty", 1}}});
  EXPECT_EQ(refund["status"], "refunded");
  EXPECT_EQ(refund["total_refund"], 1290 + 129);
  EXPECT_EQ(t.Progress(alice), 2);
  // What is left can still be returned, and no more.
  auto rest = t.Refund("R2", "V1", {{{"line", 1}, {"qty", 2}}});
  EXPECT_EQ(rest["total_refund"], 2 * 1290);
  EXPECT_EQ(t.Progress(alice), 0);
  auto too_many = t.till().Refund(
      TJson{{"pos_txn_id", "R3"}, {"refund_of", "V1"}, {"lines", {{{"line", 1}, {"qty", 1}}}}}
          .dump());
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, "refund_exceeds_sale");
  EXPECT_EQ(too_many.error().where, "/lines/0/qty");
}

TEST(Checkout, RefundingTheFreePackGivesNoMoneyBackAndRestoresProgress) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}));
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 1)}));  // the free fifth pack
  auto refund = t.Refund("R1", "V2", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(refund["total_refund"], 0);
  EXPECT_EQ(refund["lines"][0]["reward_withdrawn"], 1290);
  EXPECT_EQ(t.Progress(alice), 4);
}

TEST(Checkout, RefundingOnePackOfARewardedBasketIsAsIfItWasNeverBought) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 5)}));  // 4 paid, 1 free
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  // Four packs bought and none free costs what the customer paid: nothing comes back.
  EXPECT_EQ(refund["total_refund"], 0);
  EXPECT_EQ(t.Progress(alice), 4);
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
}

TEST(Checkout, RefundIsIdempotentAndRefusedAfterAVoid) {
  TestTill t;
  t.Commit(Basket("V1", "", {Packs(1, 3)}));
  auto first = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}}), first);
  t.Void("V1");
  EXPECT_EQ(t.CountRows("events"), 3);
  auto late = t.till().Refund(
      TJson{{"pos_txn_id", "R2"}, {"refund_of", "V1"}, {"lines", {{{"line", 1}, {"qty", 1}}}}}
          .dump());
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "sale_voided");
}

TEST(Checkout, RefundOfALineTheSaleDoesNotHoldIsRefused) {
  TestTill t;
  t.Commit(Basket("V1", "", {Packs(1, 3)}));
  auto bad = t.till().Refund(
      TJson{{"pos_txn_id", "R1"}, {"refund_of", "V1"}, {"lines", {{{"line", 7}, {"qty", 1}}}}}
          .dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "/lines/0/line");
  auto unknown = t.till().Refund(
      TJson{{"pos_txn_id", "R1"}, {"refund_of", "V9"}, {"lines", {{{"line", 1}, {"qty", 1}}}}}
          .dump());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "unknown_transaction");
  EXPECT_EQ(unknown.error().where, "/refund_of");
  EXPECT_EQ(t.CountRows("events"), 1);
}

TEST(Checkout, AnUnknownOrMisreadCardNeverStopsTheSale) {
  TestTill t;
  auto unknown = t.Commit(Basket("V1", kBobCard, {Packs(1, 5)}));
  EXPECT_TRUE(unknown["customer"].is_null());
  EXPECT_EQ(unknown["notices"][0]["code"], "unknown_card");
  EXPECT_EQ(unknown["notices"][0]["where"], "/identifiers/0");
  EXPECT_EQ(unknown["total_net"], 5 * 1290);
  auto misread = t.Commit(Basket("V2", "2900000000017", {Packs(1, 1)}));
  EXPECT_TRUE(misread["customer"].is_null());
  EXPECT_EQ(misread["notices"][0]["code"], "invalid_card");
  auto basket = Basket("V3", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", "telepathy"}, {"value", "x"}}};
  EXPECT_EQ(t.Commit(basket)["notices"][0]["code"], "unknown_identifier_kind");
}

TEST(Checkout, PacksBoughtWithACardBeforeItsEnrolmentCountOnceItIsEnrolled) {
  TestTill t;
  t.Commit(Basket("V0", kBobCard, {Packs(1, 1)}));
  t.Void("V0");  // taken back before anyone knew the card: never credited
  auto before = t.Commit(Basket("V1", kBobCard, {Packs(1, 3)}));
  EXPECT_TRUE(before["customer"].is_null());
  EXPECT_EQ(before["total_discount"], 0);
  std::string bob = t.Enroll(kBobCard);
  auto fourth = t.Commit(Basket("V2", kBobCard, {Packs(1, 1)}));
  EXPECT_EQ(fourth["customer"]["id"], bob);
  EXPECT_EQ(fourth["total_discount"], 0) << "three packs before enrolment, this is the fourth";
  auto fifth = t.Commit(Basket("V3", kBobCard, {Packs(1, 1)}));
  EXPECT_EQ(fifth["total_discount"], 1290) << fifth.dump();
  // Credited once: enrolling again (a no-op) credits nothing more.
  t.Enroll(kBobCard);
  EXPECT_EQ(t.CountRows("events WHERE kind = 'credit'"), 1);
  auto report = t.till().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
}

TEST(Checkout, AScannedCardWithAnAimPrefixRecognizesTheCustomer) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  auto basket = Basket("V1", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", "scan"}, {"value", std::string("]E0") + kAliceCard + "\r\n"}}};
  auto receipt = t.Commit(basket);
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_EQ(receipt["customer"]["recognized_by"], "card");
}

TEST(Checkout, APaymentCardNumberNeverTouchesTheDisk) {
  TestTill t;
  const std::string pan = "4000056655665556";
  auto basket = Basket("V1", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", "payment_token"}, {"value", pan}}};
  auto receipt = t.Commit(basket);
  EXPECT_EQ(receipt["notices"][0]["code"], "payment_tokens_not_configured");
  EXPECT_EQ(receipt.dump().find(pan), std::string::npos);
  t.Reopen();
  for (const char* suffix : {"", "-wal"}) {
    EXPECT_EQ(FileBytes(t.db_path() + suffix).find(pan), std::string::npos) << suffix;
  }
}

TEST(Checkout, EnrolmentIsIdempotentPerCardAndRefusesBadNumbers) {
  TestTill t;
  auto first = t.till().Enroll(R"({"card": "2900000000018"})");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(TJson::parse(*first)["customer"]["created"]);
  auto again = t.till().Enroll(R"({"kind": "card", "value": "2900000000018"})");
  EXPECT_EQ(TJson::parse(*again)["customer"]["id"], TJson::parse(*first)["customer"]["id"]);
  EXPECT_FALSE(TJson::parse(*again)["customer"]["created"]);
  auto bad = t.till().Enroll(R"({"card": "2900000000017"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_card");
  EXPECT_EQ(bad.error().where, "/card");
  EXPECT_EQ(t.CountRows("customers"), 1);
}

TEST(Checkout, ABadBasketWritesNothing) {
  TestTill t;
  t.Enroll(kAliceCard);
  std::string before = Snapshot(t);
  for (const char* bad :
       {"", "{", "[]", "null", R"({"pos_txn_id": "X", "lines": [{"line": 1}]})",
        R"({"pos_txn_id": "X", "lines": [{"line": 1, "sku": "a", "qty": 1, "unit_price": -5}]})",
        "{\"pos_txn_id\": \"\xff\xfe\", \"lines\": []}"}) {
    auto result = t.till().Commit(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().kind, ErrorKind::kBadInput) << bad;
  }
  EXPECT_EQ(Snapshot(t), before);
}

TEST(Checkout, AnEarlierBasketCommittedLateStillGivesCountersEqualToReplay) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 3)}, "2026-11-23T12:00:00+01:00"));
  // A basket rung up earlier in the day reaches the ledger after the later one.
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 1)}, "2026-11-23T09:00:00+01:00"));
  EXPECT_EQ(t.Progress(alice), 4);
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
  EXPECT_TRUE(verify->problems.empty());
}

TEST(Checkout, ManyBasketsKeepCountersEqualToTheirRecomputation) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  std::string bob = t.Enroll(kBobCard);
  for (int i = 0; i < 60; ++i) {
    std::string card = i % 3 == 0 ? kBobCard : kAliceCard;
    t.Commit(
        Basket("B" + std::to_string(i), card, {Packs(1, 1 + i % 4), Other(2, "milk", 1, 129)}));
    if (i % 7 == 3) t.Void("B" + std::to_string(i));
    if (i % 5 == 1 && i % 7 != 3)
      t.Refund("R" + std::to_string(i), "B" + std::to_string(i), {{{"line", 1}, {"qty", 1}}});
  }
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
  EXPECT_GT(verify->counters, 0);
}

TEST(Checkout, AVoidAtAnotherTillOfTheSameLedgerReversesTheRightSale) {
  TestTill t01;
  std::string alice = t01.Enroll(kAliceCard);
  std::string bob = t01.Enroll(kBobCard);
  t01.Commit(Basket("T1-1", kAliceCard, {Packs(1, 4)}));
  // A second till sharing the file has its own sequence: seq 1 exists at both tills.
  std::string config = testing::kDiapersConfig;
  config.replace(config.find("\"T01\""), 5, "\"T02\"");
  auto t02_config = ParseConfig(config, "t02.json");
  ASSERT_TRUE(t02_config.ok());
  auto t02 = Till::Open(std::move(t02_config).value(), t01.db_path());
  ASSERT_TRUE(t02.ok());
  for (int i = 1; i <= 3; ++i) {
    auto basket = Basket("T2-" + std::to_string(i), kBobCard, {Packs(1, 1, 99999)});
    basket["till_id"] = "T02";
    auto committed = (*t02)->Commit(basket.dump());
    ASSERT_TRUE(committed.ok()) << committed.error().message;
    // T02's third event has the same seq as T01's sale, S001:T01:3.
    EXPECT_EQ(TJson::parse(*committed)["event_id"], "S001:T02:" + std::to_string(i));
  }
  auto voided = (*t02)->Void(R"({"pos_txn_id": "T1-1"})");
  ASSERT_TRUE(voided.ok()) << voided.error().message;
  EXPECT_EQ(TJson::parse(*voided)["total_refund"], 4 * 1290);
  EXPECT_EQ(t01.Progress(alice), 0);
  EXPECT_EQ(t01.Progress(bob), 3);
  auto verify = t01.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
  EXPECT_TRUE(verify->problems.empty());
}

TEST(Checkout, AReversalDatedBeforeItsSaleStillTakesTheUnitsBack) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  // The POS clock runs ahead: the sale is dated after the till's own clock.
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}, "2030-01-01T10:00:00+01:00"));
  EXPECT_EQ(t.Void("V1")["progress"][0]["have"], 0);
  EXPECT_EQ(t.Progress(alice), 0);
  t.Commit(Basket("V2", kAliceCard, {Packs(1, 4)}));
  TJson refund{{"pos_txn_id", "R2"},
               {"refund_of", "V2"},
               {"at", "2000-01-01T00:00:00Z"},
               {"lines", {{{"line", 1}, {"qty", 1}}}}};
  ASSERT_TRUE(t.till().Refund(refund.dump()).ok());
  auto counters = t.till().ledger().counters().Of(alice);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->at("diapers-5th").progress, 3);
  EXPECT_EQ(counters->at("diapers-5th").over_granted, 0);
}

TEST(Checkout, MalformedJsonNeverEchoesWhatWasSent) {
  TestTill t;
  for (const char* text :
       {R"({"identifiers":[{"kind":"payment_token","value":"4111111111111111)",
        R"({"identifiers":[{"kind":"payment_token","value":4111111111111111x}]})",
        R"({"lines": 4111111111111111e99999})"}) {
    auto result = t.till().Commit(text);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message.find("4111"), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().where.find("4111"), std::string::npos);
  }
}

TEST(Checkout, AReCommitDiffersOnlyByAPaymentTokenIsTheSameBasket) {
  // The stored request digest leaves payment card values out, so a retry whose token the
  // terminal re-read is the same basket, and no hash of a card number is kept.
  TestTill t;
  auto basket = Basket("V1", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", "payment_token"}, {"value", "4111111111111111"}}};
  auto first = t.Commit(basket);
  basket["identifiers"][0]["value"] = "5555555555554444";
  EXPECT_EQ(t.Commit(basket), first);
}

TEST(Checkout, OverlappingRulesNeverWasteAReward) {
  std::string config = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": [
    {"id": "brand-2nd", "kind": "nth_unit", "every": 2, "match": {"brands": ["Dodo"]},
     "reward": {"percent": 100}},
    {"id": "cat-2nd", "kind": "nth_unit", "every": 2, "match": {"categories": ["baby"]},
     "reward": {"percent": 50}}]})";
  TestTill t(config);
  t.Enroll(kAliceCard);
  auto receipt = t.Commit(Basket("V1", kAliceCard, {Packs(1, 1, 1000), Packs(2, 1, 1200)}));
  // The brand rule frees the cheaper pack; the category rule halves the other one.
  EXPECT_EQ(receipt["lines"][0]["discounts"][0]["rule"], "brand-2nd");
  EXPECT_EQ(receipt["lines"][0]["net"], 0);
  EXPECT_EQ(receipt["lines"][1]["discounts"][0]["rule"], "cat-2nd");
  EXPECT_EQ(receipt["lines"][1]["net"], 600);
  // One pack at a time: when both rules reach their reward on the same single unit, the
  // first rule takes it and the second reward stays owed for the next pack.
  EXPECT_EQ(t.Commit(Basket("V2", kAliceCard, {Packs(1, 1, 1000)}))["total_discount"], 0);
  EXPECT_EQ(t.Commit(Basket("V3", kAliceCard, {Packs(1, 1, 1000)}))["total_discount"], 1000);
  EXPECT_EQ(t.Commit(Basket("V4", kAliceCard, {Packs(1, 1, 1000)}))["total_discount"], 500);
}

TEST(Checkout, QuantitiesBeyondAnyRealBasketAreRefused) {
  TestTill t;
  auto result = t.till().Commit(Basket("V1", "", {Packs(1, 4611686018427387904LL, 1)}).dump());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().where, "/lines/0/qty");
  EXPECT_EQ(result.error().message, "qty must be at most 1000000");
}

}  // namespace
}  // namespace regulars
