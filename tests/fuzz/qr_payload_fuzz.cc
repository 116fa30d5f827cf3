// libFuzzer target: QR payload bytes, Base45-encoded and verified as a till would.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recognition/qr_code.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const regulars::QrPolicy policy = [] {
    regulars::QrPolicy p;
    p.public_keys[1] = *regulars::PublicKeyFromHex(
        "01d8490c4d76c79b8fa231f1f3fe4d14384f788fcbb054b9742f1faa1ea1ce8b");
    return p;
  }();
  // As bytes inside a well-formed Base45 envelope (reaches the payload parser)...
  std::vector<unsigned char> bytes(data, data + size);
  (void)regulars::VerifyQr("RG:" + regulars::Base45Encode(bytes), policy, 1795424400000);
  // ...and as the text itself (reaches the Base45 decoder).
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)regulars::Base45Decode(text);
  (void)regulars::VerifyQr("RG:" + text, policy, 1795424400000);
  return 0;
}
