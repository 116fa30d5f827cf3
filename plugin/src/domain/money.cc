#include "domain/money.h"

#include <algorithm>
#include <limits>

namespace regulars {
namespace {

struct CurrencyEntry {
  const char* code;
  int minor_units;
};

// Active ISO 4217 codes with their minor units (list published by SIX, amendment 176),
// without the precious metals and testing codes, which have no minor unit.
constexpr CurrencyEntry kCurrencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2},
    {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
    {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0},
    {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
    {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2},
    {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2},
    {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
    {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2},
    {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2},
    {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2},
    {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
    {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XOF", 0},
    {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

}  // namespace

std::optional<Currency> FindCurrency(std::string_view code) {
  for (const auto& entry : kCurrencies) {
    if (code == entry.code) return Currency{entry.code, entry.minor_units};
  }
  return std::nullopt;
}

std::optional<int64_t> AddMinor(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<int64_t> MulMinor(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

namespace {
// round_half_up(numerator / denominator) for numerator >= 0, denominator > 0.
std::optional<int64_t> DivideHalfUp(int64_t a, int64_t b, int64_t denominator) {
  if (a < 0 || b < 0) return std::nullopt;
  auto product = MulMinor(a, b);
  if (!product) return std::nullopt;
  // q*d + r with 0 <= r < d: round up when 2r >= d. No addition can overflow here.
  int64_t quotient = *product / denominator;
  int64_t remainder = *product % denominator;
  return remainder * 2 >= denominator ? quotient + 1 : quotient;
}
}  // namespace

std::optional<int64_t> PercentOf(int64_t amount, int64_t percent) {
  if (percent < 0 || percent > 100) return std::nullopt;
  return DivideHalfUp(amount, percent, 100);
}

std::optional<int64_t> PriceOfWeight(int64_t grams, int64_t price_per_kg) {
  return DivideHalfUp(grams, price_per_kg, 1000);
}

std::optional<int64_t> ParseDecimal(std::string_view text, int places) {
  if (places < 0 || places > 18) return std::nullopt;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? "" : text.substr(point + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  auto digits_only = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits_only(whole) || !digits_only(fraction)) return std::nullopt;
  // Accumulated as a negative number so INT64_MIN is reachable and nothing else overflows.
  int64_t value = 0;
  auto push = [&](char digit) {
    auto shifted = MulMinor(value, 10);
    if (!shifted) return false;
    auto next = AddMinor(*shifted, -(digit - '0'));
    if (!next) return false;
    value = *next;
    return true;
  };
  for (char c : whole) {
    if (!push(c)) return std::nullopt;
  }
  for (size_t i = 0; i < fraction.size(); ++i) {
    if (static_cast<int>(i) < places) {
      if (!push(fraction[i])) return std::nullopt;
    } else if (fraction[i] != '0') {
      return std::nullopt;  // more precision than the unit has
    }
  }
  for (int i = static_cast<int>(fraction.size()); i < places; ++i) {
    if (!push('0')) return std::nullopt;
  }
  if (negative) return value;
  if (value == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return -value;
}

std::string FormatMoney(int64_t minor, const Currency& currency) {
  std::string sign = minor < 0 ? "-" : "";
  // Work in unsigned so INT64_MIN has a magnitude.
  uint64_t magnitude = minor < 0 ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  uint64_t scale = 1;
  for (int i = 0; i < currency.minor_units; ++i) scale *= 10;
  std::string units = std::to_string(magnitude / scale);
  if (currency.minor_units == 0) return sign + units + " " + currency.code;
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, static_cast<size_t>(currency.minor_units) - fraction.size(), '0');
  return sign + units + "." + fraction + " " + currency.code;
}

}  // namespace regulars
