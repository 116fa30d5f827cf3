// HMAC-SHA256: the library's one keyed hash (payment-card tokens, the goodwill audit
// chain), so there is a single OpenSSL call sequence to get right.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "result.h"

namespace regulars {

inline constexpr size_t kHmacSha256Size = 32;
using HmacSha256Digest = std::array<unsigned char, kHmacSha256Size>;

// HMAC-SHA256 of `data` under `key`. Fails (an Internal error) only when OpenSSL does.
// The caller keeps and wipes its own copies of `key` and `data`.
Result<HmacSha256Digest> HmacSha256(std::span<const unsigned char> key, std::string_view data);

}  // namespace regulars
