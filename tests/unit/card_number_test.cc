#include "domain/card_number.h"

#include <gtest/gtest.h>

namespace regulars {
namespace {

const std::vector<std::string> kInStore = {"2"};

TEST(CardNumber, ComputesTheEan13CheckDigit) {
  EXPECT_EQ(Ean13CheckDigit("290000000001"), 8);
  EXPECT_EQ(Ean13CheckDigit("400638133393"), 1);  // a retail EAN: 4006381333931
}

TEST(CardNumber, AcceptsAValidInStoreNumber) {
  auto card = ValidateCardNumber("2900000000018", kInStore);
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(*card, "2900000000018");
}

TEST(CardNumber, RefusesAWrongCheckDigitAndSaysWhichWasExpected) {
  // The example card of DESIGN.md's Contract v1 has a wrong check digit: 8 is right.
  auto card = ValidateCardNumber("2900000000017", kInStore);
  ASSERT_FALSE(card.ok());
  EXPECT_EQ(card.error().code, "invalid_card");
  EXPECT_NE(card.error().message.find("expected 8"), std::string::npos);
}

TEST(CardNumber, RefusesWrongLengthsAndNonDigits) {
  EXPECT_FALSE(ValidateCardNumber("290000000001", kInStore).ok());
  EXPECT_FALSE(ValidateCardNumber("29000000000188", kInStore).ok());
  EXPECT_FALSE(ValidateCardNumber("29000000000A8", kInStore).ok());
  EXPECT_FALSE(ValidateCardNumber("", kInStore).ok());
  EXPECT_FALSE(ValidateCardNumber(" 2900000000018", kInStore).ok());
}

TEST(CardNumber, RefusesANumberOutsideTheChainsPrefixes) {
  EXPECT_FALSE(ValidateCardNumber("4006381333931", kInStore).ok());  // a product barcode
  EXPECT_FALSE(ValidateCardNumber("2000000000008", {"29"}).ok());
  EXPECT_TRUE(ValidateCardNumber("2900000000018", {"29"}).ok());
}

}  // namespace
}  // namespace regulars
