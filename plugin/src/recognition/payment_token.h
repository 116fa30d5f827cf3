// Payment cards as identifiers: only a keyed hash of the PAN, PAR or processor alias is
// ever kept. The hash key is chain-wide, so every till computes the same value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace regulars {

// A chain-wide secret for payment-card tokens. Versions rotate: the newest hashes new
// links; older ones are still tried so existing links keep working.
struct TokenKey {
  int version = 0;
  std::vector<unsigned char> secret;  // at least 32 bytes
};

// What the terminal gave. A PAR is the same for a plastic card and its phone-wallet
// tokens, so it is preferred; a processor's alias is an opaque reference.
enum class PaymentSource { kPan, kPar, kAlias };

// Holds a card value only as long as needed, then overwrites it (OPENSSL_cleanse).
class SensitiveText {
 public:
  explicit SensitiveText(std::string text) : text_(std::move(text)) {}
  ~SensitiveText();
  SensitiveText(const SensitiveText&) = delete;
  SensitiveText& operator=(const SensitiveText&) = delete;
  const std::string& view() const { return text_; }

 private:
  std::string text_;
};

// Overwrites a string's bytes in place (the caller's copy of a PAN, say).
void Wipe(std::string& text);

// True for a digit string passing the Luhn check.
bool LuhnValid(std::string_view digits);

// Normalises what the terminal gave: spaces and dashes removed; `source` is "pan", "par"
// or "alias", or empty to detect (12-19 Luhn-valid digits: PAN; 29 letters and digits:
// PAR). Errors never repeat the value.
Result<PaymentSource> ClassifyPaymentValue(std::string_view value, std::string_view source,
                                           std::string* normalized);

// "v2:" + hex(HMAC-SHA256(key, source-tag ":" normalized)). The source is part of the
// input, so a PAN and an alias never collide.
Result<std::string> PaymentTokenHash(const TokenKey& key, PaymentSource source,
                                     std::string_view normalized);

}  // namespace regulars
