// ARTS POSLog import (docs/poslog.md): logged sales count toward rewards, give nothing
// after the fact, and show at the next visit; a bad file is refused whole.
#include "poslog/poslog.h"

#include <gtest/gtest.h>

#include <string>

#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::kBobCard;
using testing::kPackPrice;
using testing::Other;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

std::string Sample(const std::string& name) {
  return std::string(REGULARS_SOURCE_DIR) + "/tests/data/poslog/" + name;
}

poslog::Options TillOptions(const std::string& offset = "") {
  return {"S001", *FindCurrency("EUR"), offset};
}

std::vector<Json> Baskets(const poslog::Log& log) {
  std::vector<Json> baskets;
  for (const auto& sale : log.sales) baskets.push_back(sale.basket);
  return baskets;
}

// Reads a sample and imports it; fails the test on any error.
std::vector<ImportedSale> ImportSample(TestTill& t, const std::string& name,
                                       const std::string& offset = "") {
  auto log = poslog::ReadLog(Sample(name), TillOptions(offset));
  EXPECT_TRUE(log.ok()) << log.error().message << " at " << log.error().where;
  if (!log.ok()) return {};
  auto imported = t.till().Import(Baskets(*log));
  EXPECT_TRUE(imported.ok()) << imported.error().message << " at " << imported.error().where;
  return imported.ok() ? *imported : std::vector<ImportedSale>{};
}

void ExpectLedgerAgreesWithItsEvents(TestTill& t) {
  auto report = t.till().Verify();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->mismatches.empty());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST(PoslogImport, TheWeekIsReadAsContractBaskets) {
  auto log = poslog::ReadLog(Sample("week.xml"), TillOptions());
  ASSERT_TRUE(log.ok()) << log.error().message << " at " << log.error().where;
  EXPECT_EQ(log->transactions, 6u);
  ASSERT_EQ(log->sales.size(), 3u);
  ASSERT_EQ(log->skipped.size(), 3u);
  EXPECT_EQ(log->skipped[0].index, 2u);
  EXPECT_EQ(log->skipped[0].reason, "not a retail sale: ControlTransaction");
  EXPECT_EQ(log->skipped[1].reason, "cancelled");
  EXPECT_EQ(log->skipped[2].reason, "training mode");

  const Json& first = log->sales[0].basket;
  EXPECT_EQ(first["pos_txn_id"], "S001-POS2-1001");
  EXPECT_EQ(first["at"], "2026-11-16T10:01:40+01:00");
  EXPECT_EQ(first["cashier_id"], "C07");
  EXPECT_EQ(first["currency"], "EUR");
  // The loyalty account only: the tender's card number is never read.
  EXPECT_EQ(first["identifiers"], Json::parse(R"([{"kind": "card", "value": "2900000000018"}])"));
  EXPECT_EQ(first["lines"][0], Json::parse(R"({"line": 1, "sku": "3400000000001", "qty": 2,
      "unit_price": 1290, "brand": "Dodo", "categories": ["baby/diapers"]})"));
  EXPECT_EQ(first["lines"].size(), 2u) << "the tender is not a line";

  const Json& second = log->sales[1].basket;
  ASSERT_EQ(second["lines"].size(), 2u) << "the voided line is left out";
  EXPECT_EQ(second["lines"][1], Json::parse(R"({"line": 3, "sku": "2001234000000", "qty": 532,
      "unit": "g", "unit_price": 2490, "categories": ["fresh/cheese"]})"));
  EXPECT_EQ(second["identifiers"][0]["value"], kAliceCard) << "found under LoyaltyReward";

  const Json& third = log->sales[2].basket;
  EXPECT_EQ(third["identifiers"], Json::array());
  EXPECT_EQ(third["lines"][0]["unit_price"], 1290) << "from ExtendedAmount / Quantity";
}

TEST(PoslogImport, FifthPackBoughtInLoggedSalesIsFreeAtTheNextVisit) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  auto imported = ImportSample(t, "week.xml");
  ASSERT_EQ(imported.size(), 3u);
  EXPECT_EQ(imported[0].customer_id, alice);
  EXPECT_EQ(imported[1].customer_id, alice);
  EXPECT_FALSE(imported[2].customer_id) << "no loyalty account: a sale, counted for nobody";
  // Two packs, then three: five counted, none given (they were paid in full).
  EXPECT_EQ(t.Progress(alice), 5);
  auto discounts = t.till().ledger().db().QueryInt(
      "SELECT count(*) FROM events WHERE kind = 'sale' AND "
      "json_extract(body, '$.total_discount') != 0");
  ASSERT_TRUE(discounts.ok());
  EXPECT_EQ(*discounts, 0);

  // The next visit shows the owed pack, and the next pack is free.
  TJson shown = t.Evaluate(Basket("LIVE-1", kAliceCard, {Other(1, "MILK", 1, 115)}));
  ASSERT_EQ(shown["progress"].size(), 1u);
  EXPECT_EQ(shown["progress"][0]["have"], 5);
  EXPECT_EQ(shown["progress"][0]["text"]["en"], "the next pack is on us");
  TJson live = t.Commit(Basket("LIVE-2", kAliceCard, {Packs(1, 1)}, "2026-11-23T10:00:00+01:00"));
  EXPECT_EQ(live["total_discount"], kPackPrice);
  EXPECT_EQ(t.Progress(alice), 1);
  ExpectLedgerAgreesWithItsEvents(t);
}

TEST(PoslogImport, AnImportedSaleGetsNoDiscountEvenWhenARewardIsOwed) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  t.Commit(Basket("LIVE-1", kAliceCard, {Packs(1, 4)}, "2026-11-10T10:00:00+01:00"));
  auto imported = ImportSample(t, "week.xml");
  ASSERT_EQ(imported.size(), 3u);
  EXPECT_EQ(t.Progress(alice), 9) << "4 live, then 5 logged: one reward owed";
  auto receipt = t.till().ledger().transactions().Find("S001-POS2-1001");
  ASSERT_TRUE(receipt.ok() && *receipt);
  TJson r = TJson::parse((*receipt)->response);
  EXPECT_EQ(r["status"], "imported");
  EXPECT_EQ(r["total_discount"], 0);
  TJson live = t.Commit(Basket("LIVE-2", kAliceCard, {Packs(1, 2)}, "2026-11-23T10:00:00+01:00"));
  EXPECT_EQ(live["total_discount"], 2 * kPackPrice) << "(9 + 2) / 5: both packs are free";
  EXPECT_EQ(t.Progress(alice), 1);
  ExpectLedgerAgreesWithItsEvents(t);
}

TEST(PoslogImport, ImportingTheSameFileTwiceWritesNothing) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  ASSERT_EQ(ImportSample(t, "week.xml").size(), 3u);
  int64_t events = t.CountRows("events");
  int64_t transactions = t.CountRows("transactions");
  auto again = ImportSample(t, "week.xml");
  ASSERT_EQ(again.size(), 3u);
  for (const auto& sale : again) EXPECT_TRUE(sale.already_imported);
  EXPECT_EQ(again[0].customer_id, alice);
  EXPECT_EQ(t.CountRows("events"), events);
  EXPECT_EQ(t.CountRows("transactions"), transactions);
  EXPECT_EQ(t.Progress(alice), 5);
}

TEST(PoslogImport, MalformedXmlNamesTheLineAndStoresNothing) {
  auto log = poslog::ReadLog(Sample("malformed.xml"), TillOptions());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.error().code, "invalid_poslog");
  EXPECT_EQ(log.error().kind, ErrorKind::kBadInput);
  EXPECT_NE(log.error().message.find("malformed XML"), std::string::npos);
  EXPECT_EQ(log.error().where, Sample("malformed.xml") + ": line 18, column 7");

  auto parsed = poslog::ParseLog("<POSLog>\n  <Transaction>\n</POSLog>", "f.xml", TillOptions());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().where, "f.xml: line 3, column 3");
}

TEST(PoslogImport, ABadTransactionLeavesTheWholeFileUnimported) {
  // A value the reader refuses: named by transaction, line item and element.
  auto log = poslog::ReadLog(Sample("bad-quantity.xml"), TillOptions());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.error().where,
            Sample("bad-quantity.xml") + ": line 40 (Transaction 2, LineItem 2)/Quantity");
  EXPECT_NE(log.error().message.find("'two'"), std::string::npos);

  // A value only the basket check refuses (a sku longer than 64): nothing of the file,
  // not even the good first sale, is written.
  std::string good = R"(<Transaction><TransactionID>A-1</TransactionID>
    <EndDateTime>2026-11-22T10:00:00+01:00</EndDateTime><RetailTransaction><LineItem><Sale>
    <ItemID>3400000000001</ItemID><Brand>Dodo</Brand><RegularSalesUnitPrice>12.90</RegularSalesUnitPrice>
    <Quantity>4</Quantity></Sale></LineItem><LoyaltyAccount><LoyaltyAccountID>2900000000018
    </LoyaltyAccountID></LoyaltyAccount></RetailTransaction></Transaction>)";
  std::string bad = R"(<Transaction><TransactionID>A-2</TransactionID>
    <EndDateTime>2026-11-22T11:00:00+01:00</EndDateTime><RetailTransaction><LineItem><Sale>
    <ItemID>)" + std::string(65, '9') +
                    R"(</ItemID><RegularSalesUnitPrice>1</RegularSalesUnitPrice>
    </Sale></LineItem></RetailTransaction></Transaction>)";
  auto two =
      poslog::ParseLog("<POSLog>" + good + "\n" + bad + "</POSLog>", "two.xml", TillOptions());
  ASSERT_TRUE(two.ok()) << two.error().message;
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  int64_t events = t.CountRows("events");
  auto imported = t.till().Import(Baskets(*two));
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().where, "/1/lines/0/sku");
  EXPECT_EQ(poslog::WhereInLog(two->sales[1], "two.xml", "/lines/0/sku"),
            "two.xml: line 8 (Transaction 2, LineItem 1)/ItemID");
  EXPECT_EQ(t.CountRows("events"), events);
  EXPECT_EQ(t.CountRows("transactions"), 0);
  EXPECT_EQ(t.Progress(alice), 0);
}

TEST(PoslogImport, PrefixedNamespacesAndLocalTimesAreRead) {
  auto without = poslog::ReadLog(Sample("prefixed.xml"), TillOptions());
  ASSERT_FALSE(without.ok()) << "a local time without an offset cannot be ordered";
  EXPECT_EQ(without.error().where,
            Sample("prefixed.xml") + ": line 10 (Transaction 1)/EndDateTime");

  auto log = poslog::ReadLog(Sample("prefixed.xml"), TillOptions("+01:00"));
  ASSERT_TRUE(log.ok()) << log.error().message << " at " << log.error().where;
  ASSERT_EQ(log->sales.size(), 1u);
  const Json& basket = log->sales[0].basket;
  EXPECT_EQ(basket["pos_txn_id"], "S001-POS4-000077") << "TransactionID wins";
  EXPECT_EQ(basket["at"], "2026-11-20T11:45:00+01:00");
  EXPECT_EQ(basket["lines"][0]["qty"], 2) << "2.000 units are 2";
  EXPECT_EQ(basket["identifiers"][0]["value"], kBobCard);
  ASSERT_EQ(log->skipped.size(), 1u);
  EXPECT_EQ(log->skipped[0].reason, "store S002, not this till's store S001");
}

TEST(PoslogImport, VoidingAnImportedSaleGivesBackWhatWasPaidAndItsCount) {
  TestTill t;
  std::string alice = t.Enroll(kAliceCard);
  ImportSample(t, "week.xml");
  TJson voided = t.Void("S001-POS1-2040");
  EXPECT_EQ(voided["total_refund"], 3870 + 1325) << "three packs and the cheese, as paid";
  EXPECT_EQ(t.Progress(alice), 2);
  ExpectLedgerAgreesWithItsEvents(t);
}

TEST(PoslogImport, ImportedVisitsCountTowardATier) {
  TestTill t(R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": [
      {"id": "gold", "kind": "tier", "rank": 2, "name": {"fr": "Or", "en": "Gold"},
       "reach": {"purchases": 2, "window_days": 30}, "benefits": {"percent": 10}}]})");
  t.Enroll(kAliceCard);
  ImportSample(t, "week.xml");
  TJson live = t.Commit(
      Basket("LIVE-1", kAliceCard, {Other(1, "MILK", 1, 1000)}, "2026-11-23T10:00:00+01:00"));
  EXPECT_EQ(live["customer"]["tier"], "gold") << "two logged visits reach it";
  EXPECT_EQ(live["total_discount"], 100);
  ExpectLedgerAgreesWithItsEvents(t);
}

TEST(PoslogImport, FilesThatAreNotPoslogTextAreRefusedCleanly) {
  auto nul = poslog::ParseLog(std::string("<POSLog>\n\0</POSLog>", 19), "n.xml", TillOptions());
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().where, "n.xml: line 2, column 1");
  auto other = poslog::ParseLog("<Invoice/>", "i.xml", TillOptions());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not an ARTS POSLog"), std::string::npos);
  auto empty = poslog::ParseLog("", "e.xml", TillOptions());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "invalid_poslog");
  auto missing = poslog::ReadLog("/nonexistent/x.xml", TillOptions());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kBadInput);
}

}  // namespace
}  // namespace regulars
