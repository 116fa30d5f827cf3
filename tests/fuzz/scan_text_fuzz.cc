// libFuzzer target: raw scanner text, as a keyboard-wedge or serial scanner delivers it,
// through unframing, classification and QR verification.
#include <cstddef>
#include <cstdint>
#include <string>

#include "recognition/qr_code.h"
#include "recognition/recognize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const regulars::QrPolicy policy = [] {
    regulars::QrPolicy p;
    p.public_keys[1] = *regulars::PublicKeyFromHex(
        "01d8490c4d76c79b8fa231f1f3fe4d14384f788fcbb054b9742f1faa1ea1ce8b");
    return p;
  }();
  static const regulars::ScannerFraming framing{"<", ">"};
  std::string raw(reinterpret_cast<const char*>(data), size);
  std::string text = regulars::Unframe(raw, framing);
  if (regulars::LooksLikeQr(text)) (void)regulars::VerifyQr(text, policy, 1795424400000);
  return 0;
}
