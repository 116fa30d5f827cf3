#include "recognition/payment_token.h"

#include <openssl/crypto.h>

#include <cctype>

#include "domain/hex.h"
#include "domain/hmac.h"

namespace regulars {

SensitiveText::~SensitiveText() { Wipe(text_); }

void Wipe(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

Result<PaymentSource> ClassifyPaymentValue(std::string_view value, std::string_view source,
                                           std::string* normalized) {
  normalized->clear();
  normalized->reserve(value.size());  // no reallocation leaves a copy of the digits behind
  if (source == "alias") {
    // A processor's alias is opaque: kept as given, case and all.
    bool ok = !value.empty() && value.size() <= 64;
    for (char c : value) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
                  c == ':');
    }
    if (!ok) {
      return Error::BadInput("invalid_payment_token",
                             "an alias is 1 to 64 letters, digits, '_', '-', '.' or ':'");
    }
    normalized->assign(value);
    return PaymentSource::kAlias;
  }
  for (char c : value) {
    if (c == ' ' || c == '-') continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      Wipe(*normalized);
      return Error::BadInput("invalid_payment_token",
                             "a payment card value holds only letters, digits, spaces and dashes");
    }
    normalized->push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  bool all_digits = normalized->find_first_not_of("0123456789") == std::string::npos;
  auto fail = [&](std::string message) {
    Wipe(*normalized);
    return Error::BadInput("invalid_payment_token", std::move(message));
  };
  bool pan_shape = all_digits && normalized->size() >= 12 && normalized->size() <= 19;
  bool par_shape = normalized->size() == 29;
  if (source == "pan" || (source.empty() && pan_shape)) {
    if (!pan_shape || !LuhnValid(*normalized)) return fail("not a valid card number (PAN)");
    return PaymentSource::kPan;
  }
  if (source == "par" || (source.empty() && par_shape)) {
    if (!par_shape) return fail("a Payment Account Reference is 29 letters and digits");
    return PaymentSource::kPar;
  }
  if (!source.empty()) return fail("source must be pan, par or alias");
  return fail(
      "neither a card number (PAN) nor a Payment Account Reference; "
      "give \"source\": \"alias\" for a processor's alias");
}

Result<std::string> PaymentTokenHash(const TokenKey& key, PaymentSource source,
                                     std::string_view normalized) {
  const char* tag = source == PaymentSource::kPan   ? "pan:"
                    : source == PaymentSource::kPar ? "par:"
                                                    : "alias:";
  std::string input;
  input.reserve(8 + normalized.size());
  input.append(tag).append(normalized);
  auto mac = HmacSha256(key.secret, input);
  Wipe(input);
  if (!mac.ok()) return mac.error();
  return "v" + std::to_string(key.version) + ":" + ToHex(mac->data(), mac->size());
}

}  // namespace regulars
