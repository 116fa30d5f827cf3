#include "domain/card_number.h"

#include <algorithm>

namespace regulars {

int Ean13CheckDigit(std::string_view first_twelve) {
  int sum = 0;
  for (size_t i = 0; i < 12 && i < first_twelve.size(); ++i) {
    int digit = first_twelve[i] - '0';
    sum += (i % 2 == 0) ? digit : 3 * digit;
  }
  return (10 - sum % 10) % 10;
}

Result<std::string> ValidateCardNumber(std::string_view number,
                                       const std::vector<std::string>& prefixes) {
  if (number.size() != 13 ||
      !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::BadInput("invalid_card", "a card number is 13 digits (EAN-13)");
  }
  int expected = Ean13CheckDigit(number.substr(0, 12));
  if (number[12] - '0' != expected) {
    return Error::BadInput("invalid_card", "card number check digit is wrong (expected " +
                                               std::to_string(expected) + ")");
  }
  bool in_range = std::any_of(prefixes.begin(), prefixes.end(),
                              [&](const std::string& p) { return number.starts_with(p); });
  if (!in_range) {
    std::string list;
    for (const auto& p : prefixes) list += (list.empty() ? "" : ", ") + p;
    return Error::BadInput(
        "invalid_card", "card number is not in this chain's card range (prefixes: " + list + ")");
  }
  return std::string(number);
}

}  // namespace regulars
