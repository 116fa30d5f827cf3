#include "domain/hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

namespace regulars {

Result<HmacSha256Digest> HmacSha256(std::span<const unsigned char> key, std::string_view data) {
  HmacSha256Digest mac{};
  size_t length = 0;
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = hmac ? EVP_MAC_CTX_new(hmac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  bool ok =
      ctx && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, mac.data(), &length, mac.size()) == 1 && length == mac.size();
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(hmac);
  if (!ok) return Error::Internal("HMAC-SHA256 failed");
  return mac;
}

}  // namespace regulars
