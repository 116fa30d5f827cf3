// Loyalty card numbers: EAN-13 in the chain's in-store (restricted circulation) range.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace regulars {

// The EAN-13 check digit for the first 12 digits of `digits` (weights 1,3,1,3... from the left).
int Ean13CheckDigit(std::string_view first_twelve);

// Validates a loyalty card number: 13 ASCII digits, a correct check digit, and one of
// `prefixes` (the chain's in-store ranges; GS1 reserves 20-29 for in-store use).
// Returns the number unchanged, or a BadInput error with code "invalid_card".
Result<std::string> ValidateCardNumber(std::string_view number,
                                       const std::vector<std::string>& prefixes);

}  // namespace regulars
