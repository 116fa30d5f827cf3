// Hex text for bytes and digests (ids, keys, fingerprints).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace regulars {

inline std::string ToHex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

// SHA-256 of `text`, as 64 hex digits.
inline std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return ToHex(digest, length);
}

}  // namespace regulars
