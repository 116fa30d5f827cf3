// Every bad basket is refused with a Contract v1 error naming what and where.
#include "domain/basket.h"

#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::Packs;
using testing::TJson;

const TillIdentity kTill{"S001", "T01", *FindCurrency("EUR")};

Error Refused(const TJson& json) {
  auto basket = ParseBasket(json, kTill, 0);
  EXPECT_FALSE(basket.ok()) << json.dump();
  return basket.ok() ? Error{} : basket.error();
}

TJson Good() { return Basket("S001-T01-000001", "", {Packs(1, 2)}); }

TEST(Basket, AGoodBasketParsesWithItsTotals) {
  auto basket = ParseBasket(Good(), kTill, 0);
  ASSERT_TRUE(basket.ok()) << basket.error().message;
  EXPECT_EQ(basket->lines.size(), 1u);
  EXPECT_EQ(basket->lines[0].gross, 2580);
  EXPECT_EQ(basket->total_gross, 2580);
  EXPECT_EQ(basket->at_ms, 1795425300000 - 15 * 60 * 1000);
}

TEST(Basket, MalformedJsonNamesLineAndColumn) {
  auto json = ParseJson("{\n  \"pos_txn_id\": \"X\",\n  \"lines\": [1,]\n}", "invalid_basket");
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().code, "invalid_basket");
  EXPECT_EQ(json.error().where, "line 3, column 15");
}

TEST(Basket, HostileNestingIsRefusedBeforeParsing) {
  std::string deep(100000, '[');
  auto json = ParseJson(deep, "invalid_basket");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.error().message.find("nests deeper"), std::string::npos);
}

TEST(Basket, MissingFieldIsNamed) {
  TJson b = Good();
  b.erase("pos_txn_id");
  EXPECT_EQ(Refused(b).where, "/pos_txn_id");
  b = Good();
  b["lines"][0].erase("unit_price");
  Error e = Refused(b);
  EXPECT_EQ(e.where, "/lines/0/unit_price");
  EXPECT_EQ(e.code, "invalid_basket");
}

TEST(Basket, MistypedFieldIsNamed) {
  TJson b = Good();
  b["lines"][0]["qty"] = "2";
  Error e = Refused(b);
  EXPECT_EQ(e.where, "/lines/0/qty");
  EXPECT_NE(e.message.find("must be an integer"), std::string::npos);
  b = Good();
  b["lines"][0]["unit_price"] = 12.90;
  EXPECT_EQ(Refused(b).where, "/lines/0/unit_price");
  b = Good();
  b["lines"] = "none";
  EXPECT_EQ(Refused(b).where, "/lines");
  EXPECT_EQ(Refused(TJson::array()).where, "");
}

TEST(Basket, ZeroOrNegativeQuantityIsRefused) {
  TJson b = Good();
  b["lines"][0]["qty"] = 0;
  Error e = Refused(b);
  EXPECT_EQ(e.where, "/lines/0/qty");
  EXPECT_EQ(e.message, "qty must be a positive integer");
  b["lines"][0]["qty"] = -3;
  EXPECT_EQ(Refused(b).where, "/lines/0/qty");
}

TEST(Basket, NegativePriceIsRefused) {
  TJson b = Good();
  b["lines"][0]["unit_price"] = -1;
  EXPECT_EQ(Refused(b).where, "/lines/0/unit_price");
}

TEST(Basket, UnknownOrMixedCurrencyIsRefused) {
  TJson b = Good();
  b["currency"] = "XYZ";
  EXPECT_EQ(Refused(b).where, "/currency");
  b["currency"] = "USD";
  EXPECT_NE(Refused(b).message.find("sells in EUR"), std::string::npos);
  b = Good();
  b["lines"][0]["currency"] = "USD";
  Error e = Refused(b);
  EXPECT_EQ(e.where, "/lines/0/currency");
  EXPECT_NE(e.message.find("mixed"), std::string::npos);
}

TEST(Basket, AmountThatWouldOverflowIsRefused) {
  TJson b = Good();
  b["lines"][0]["qty"] = 4000000000;
  b["lines"][0]["unit_price"] = 4000000000000;
  EXPECT_EQ(Refused(b).where, "/lines/0/qty");
  b = Basket("S001-T01-000001", "", {Packs(1, 1, kMaxBasketTotal), Packs(2, 1, 1)});
  EXPECT_EQ(Refused(b).where, "/lines/1/unit_price");
  b = Good();
  b["lines"][0]["unit_price"] = 18446744073709551615ull;
  EXPECT_EQ(Refused(b).where, "/lines/0/unit_price");
}

TEST(Basket, DuplicateLineNumbersAreRefused) {
  TJson b = Basket("S001-T01-000001", "", {Packs(1, 1), Packs(1, 2)});
  Error e = Refused(b);
  EXPECT_EQ(e.where, "/lines/1/line");
  EXPECT_NE(e.message.find("appears twice"), std::string::npos);
}

TEST(Basket, AnotherStoresOrTillsBasketIsRefused) {
  TJson b = Good();
  b["store_id"] = "S002";
  EXPECT_EQ(Refused(b).where, "/store_id");
  b = Good();
  b["till_id"] = "T09";
  EXPECT_EQ(Refused(b).where, "/till_id");
}

TEST(Basket, EmptyBasketAndBadTimestampAreRefused) {
  TJson b = Good();
  b["lines"] = TJson::array();
  EXPECT_EQ(Refused(b).where, "/lines");
  b = Good();
  b["at"] = "2026-11-23T10:15:00";
  EXPECT_EQ(Refused(b).where, "/at");
  b = Good();
  b["pos_txn_id"] = "has space";
  EXPECT_EQ(Refused(b).where, "/pos_txn_id");
}

TEST(Basket, UnreadableIdentifiersBecomeNoticesNotErrors) {
  TJson b = Good();
  b["identifiers"] = {{{"kind", "card"}}, 42, {{"kind", "card"}, {"value", 2900000000018}}};
  auto basket = ParseBasket(b, kTill, 0);
  ASSERT_TRUE(basket.ok());
  EXPECT_TRUE(basket->identifiers.empty());
  ASSERT_EQ(basket->notices.size(), 3u);
  EXPECT_EQ(basket->notices[0].where, "/identifiers/0/value");
  EXPECT_EQ(basket->notices[1].where, "/identifiers/1");
  EXPECT_EQ(basket->notices[2].where, "/identifiers/2/value");
}

TEST(Basket, ANearMissOfAKnownFieldAddsANoticeAtTheBasketAndLineLevels) {
  TJson b = Good();
  b["identifers"] = {{{"kind", "card"}, {"value", testing::kAliceCard}}};
  b["lines"][0]["categroies"] = {"baby/diapers"};
  auto basket = ParseBasket(b, kTill, 0);
  ASSERT_TRUE(basket.ok()) << "extra fields are let through (Contract v1)";
  EXPECT_TRUE(basket->identifiers.empty()) << "a misspelt field is not read";
  ASSERT_EQ(basket->notices.size(), 2u);
  EXPECT_EQ(basket->notices[0].code, "misspelt_field");
  EXPECT_EQ(basket->notices[0].where, "/identifers");
  EXPECT_NE(basket->notices[0].message.find("did you mean 'identifiers'?"), std::string::npos)
      << basket->notices[0].message;
  EXPECT_EQ(basket->notices[1].code, "misspelt_field");
  EXPECT_EQ(basket->notices[1].where, "/lines/0/categroies");
  EXPECT_NE(basket->notices[1].message.find("'categories'"), std::string::npos);
}

TEST(Basket, AnExactExtraFieldIsLetThroughWithoutANotice) {
  TJson b = Good();
  b["loyalty_program"] = "spring";
  b["lines"][0]["description"] = "Diapers size 3";
  b["lines"][0]["vat_rate"] = 550;
  auto basket = ParseBasket(b, kTill, 0);
  ASSERT_TRUE(basket.ok());
  EXPECT_TRUE(basket->notices.empty()) << basket->notices[0].where;
}

TEST(Basket, AMisspeltFieldIsANoticeOnTheReceiptAndTheSaleGoesThrough) {
  testing::TestTill till;
  till.Enroll(testing::kAliceCard);
  TJson b = Basket("S001-T01-000002", testing::kAliceCard, {Packs(1, 1)});
  b["lines"][0]["brnad"] = "Dodo";
  TJson receipt = till.Commit(b);
  EXPECT_EQ(receipt["status"], "committed");
  EXPECT_FALSE(receipt["customer"].is_null());
  ASSERT_EQ(receipt["notices"].size(), 1u) << receipt.dump();
  EXPECT_EQ(receipt["notices"][0]["code"], "misspelt_field");
  EXPECT_EQ(receipt["notices"][0]["where"], "/lines/0/brnad");
}

TEST(Basket, WeighedLinesArePricedPerKilogram) {
  TJson b = Good();
  b["lines"][0] = {
      {"line", 1}, {"sku", "apples"}, {"qty", 1250}, {"unit", "g"}, {"unit_price", 349}};
  auto basket = ParseBasket(b, kTill, 0);
  ASSERT_TRUE(basket.ok());
  EXPECT_EQ(basket->lines[0].gross, 436);  // 436.25
  b["lines"][0]["unit"] = "kg";
  EXPECT_EQ(Refused(b).where, "/lines/0/unit");
}

}  // namespace
}  // namespace regulars
