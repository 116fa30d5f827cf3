#include "domain/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace regulars {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(Money, PercentRoundsHalfUpToTheMinorUnit) {
  EXPECT_EQ(PercentOf(1290, 100), 1290);
  EXPECT_EQ(PercentOf(1290, 50), 645);
  EXPECT_EQ(PercentOf(25, 50), 13);   // 12.5 -> 13
  EXPECT_EQ(PercentOf(249, 10), 25);  // 24.9 -> 25
  EXPECT_EQ(PercentOf(244, 10), 24);  // 24.4 -> 24
  EXPECT_EQ(PercentOf(1, 49), 0);     // 0.49 -> 0
  EXPECT_EQ(PercentOf(1, 50), 1);     // 0.5 -> 1
  EXPECT_EQ(PercentOf(0, 100), 0);
}

TEST(Money, PercentRefusesOutOfRangeAndOverflow) {
  EXPECT_FALSE(PercentOf(100, 101).has_value());
  EXPECT_FALSE(PercentOf(100, -1).has_value());
  EXPECT_FALSE(PercentOf(-100, 10).has_value());
  EXPECT_FALSE(PercentOf(kMax, 50).has_value());
  EXPECT_EQ(PercentOf(kMax / 100, 100), kMax / 100);
}

TEST(Money, AdditionAndMultiplicationDetectOverflow) {
  EXPECT_EQ(AddMinor(1, 2), 3);
  EXPECT_FALSE(AddMinor(kMax, 1).has_value());
  EXPECT_EQ(MulMinor(3, 1290), 3870);
  EXPECT_FALSE(MulMinor(kMax / 2 + 1, 2).has_value());
  EXPECT_FALSE(MulMinor(4'000'000'000, 4'000'000'000).has_value());
}

TEST(Money, WeighedGoodsArePricedPerKilogramRoundedHalfUp) {
  EXPECT_EQ(PriceOfWeight(1000, 1990), 1990);
  EXPECT_EQ(PriceOfWeight(250, 1990), 498);  // 497.5 -> 498
  EXPECT_EQ(PriceOfWeight(1, 499), 0);       // 0.499 -> 0
}

TEST(Money, CurrenciesComeFromIso4217WithTheirMinorUnits) {
  EXPECT_EQ(FindCurrency("EUR")->minor_units, 2);
  EXPECT_EQ(FindCurrency("JPY")->minor_units, 0);
  EXPECT_EQ(FindCurrency("KWD")->minor_units, 3);
  EXPECT_FALSE(FindCurrency("XYZ").has_value());
  EXPECT_FALSE(FindCurrency("eur").has_value());
  EXPECT_FALSE(FindCurrency("").has_value());
}

TEST(Money, FormatsForPeopleWithTheCurrencyExponent) {
  EXPECT_EQ(FormatMoney(1290, *FindCurrency("EUR")), "12.90 EUR");
  EXPECT_EQ(FormatMoney(5, *FindCurrency("EUR")), "0.05 EUR");
  EXPECT_EQ(FormatMoney(-1290, *FindCurrency("EUR")), "-12.90 EUR");
  EXPECT_EQ(FormatMoney(1500, *FindCurrency("JPY")), "1500 JPY");
  EXPECT_EQ(FormatMoney(1234, *FindCurrency("KWD")), "1.234 KWD");
  EXPECT_EQ(FormatMoney(std::numeric_limits<int64_t>::min(), *FindCurrency("EUR")),
            "-92233720368547758.08 EUR");
}

TEST(Money, DecimalTextBecomesExactMinorUnits) {
  EXPECT_EQ(ParseDecimal("12.90", 2), 1290);
  EXPECT_EQ(ParseDecimal("12.9", 2), 1290);
  EXPECT_EQ(ParseDecimal("12", 2), 1200);
  EXPECT_EQ(ParseDecimal(".5", 2), 50);
  EXPECT_EQ(ParseDecimal("7.", 2), 700);  // xs:decimal allows it
  EXPECT_EQ(ParseDecimal("-0.01", 2), -1);
  EXPECT_EQ(ParseDecimal("+3", 0), 3);
  EXPECT_EQ(ParseDecimal("2.000", 0), 2);    // trailing zeros are no precision
  EXPECT_EQ(ParseDecimal("0.532", 3), 532);  // a weight in kilograms, as grams
  EXPECT_EQ(ParseDecimal("0.1", 1), 1);      // no binary rounding: 0.1 is exactly 1
  EXPECT_EQ(ParseDecimal("9223372036854775807", 0), kMax);
  EXPECT_EQ(ParseDecimal("-9223372036854775808", 0), std::numeric_limits<int64_t>::min());
}

TEST(Money, DecimalTextThatIsNotExactlyAnAmountIsRefused) {
  for (const char* bad : {"", "-", ".", "1.2.3", "1e3", " 1", "1 ", "12,90", "0x10", "abc", "1.234",
                          "2.5", "9223372036854775808", "92233720368547758.08"}) {
    int places = std::string(bad) == "2.5" ? 0 : 2;
    EXPECT_FALSE(ParseDecimal(bad, places).has_value()) << bad;
  }
}

}  // namespace
}  // namespace regulars
