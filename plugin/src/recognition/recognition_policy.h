// What recognition needs from the till's configuration, and nothing else: recognition
// sits below the config loader, which fills these from the config file.
#pragma once

#include <string>
#include <vector>

#include "recognition/payment_token.h"
#include "recognition/qr_code.h"

namespace regulars {

// Recognition by the card a customer pays with (docs/recognition.md).
struct PaymentTokenPolicy {
  std::vector<TokenKey> keys;          // newest version first; empty: not configured
  bool pseudonymous_profiles = false;  // may an unknown card start a profile? Off by default
};

// What a keyboard-wedge or serial scanner adds around the code it read.
struct ScannerFraming {
  std::string prefix;
  std::string suffix;
};

// The policies one recognition reads. It refers to them rather than copying them, so
// recognizing a basket copies no key: what it refers to must outlive it.
struct RecognitionPolicy {
  const std::vector<std::string>& card_prefixes;  // loyalty card ranges, such as {"2"}
  const PaymentTokenPolicy& payment_tokens;
  const QrPolicy& qr;  // no public keys: QR codes are not recognized
  const ScannerFraming& scanner;
};

}  // namespace regulars
