// Money in integer minor units with an ISO 4217 currency. Never floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regulars {

// An active ISO 4217 currency: its alphabetic code and how many minor units it has.
struct Currency {
  std::string code;     // "EUR"
  int minor_units = 2;  // EUR has cents (2); JPY has none (0); KWD has fils (3)
};

// Looks a code up in the ISO 4217 list; nullopt for an unknown or malformed code.
std::optional<Currency> FindCurrency(std::string_view code);

// Checked integer arithmetic on minor units: nullopt when the result overflows int64.
std::optional<int64_t> AddMinor(int64_t a, int64_t b);
std::optional<int64_t> MulMinor(int64_t a, int64_t b);

// The one rounding rule for percentages (docs/money.md): `percent` of `amount`, rounded
// half up to the nearest minor unit, computed exactly in integers. 12.5 cents becomes 13,
// 12.4 cents 12. `amount` must be >= 0 and `percent` within 0..100; nullopt on overflow.
std::optional<int64_t> PercentOf(int64_t amount, int64_t percent);

// Price of a weighed line: `grams` at `price_per_kg`, rounded half up like PercentOf.
std::optional<int64_t> PriceOfWeight(int64_t grams, int64_t price_per_kg);

// Decimal text ("12.90", "-0.5", "2.000") as an integer count of 10^-`places` units: with
// places 2, "12.90" is 1290; with 3, "0.532" is 532. Exact: no floating point. Trailing
// zeros beyond `places` are fine ("2.000" with 0 places is 2); other digits there, an
// exponent, spaces or an overflow give nullopt. For amounts read from text (POSLog).
std::optional<int64_t> ParseDecimal(std::string_view text, int places);

// "12.90 EUR" for people (receipts, logs); the ledger always keeps the integer.
std::string FormatMoney(int64_t minor, const Currency& currency);

}  // namespace regulars
