#include "recognition/qr_code.h"

#include <openssl/evp.h>

#include <memory>

namespace regulars {
namespace {

constexpr char kBase45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
// Signed bytes start with this, so a signature made for something else never verifies here.
constexpr std::string_view kDomain = "regulars-qr";
constexpr unsigned char kDynamicFlag = 1;
constexpr size_t kSignatureSize = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// version, flags, key id, card number (48-bit big-endian), [time step (32-bit)].
std::vector<unsigned char> SignedPart(const QrPayload& p) {
  std::vector<unsigned char> out = {static_cast<unsigned char>(p.version),
                                    static_cast<unsigned char>(p.time_step ? kDynamicFlag : 0),
                                    static_cast<unsigned char>(p.key_id)};
  uint64_t number = std::stoull(p.card_number);
  for (int shift = 40; shift >= 0; shift -= 8) {
    out.push_back(static_cast<unsigned char>(number >> shift));
  }
  if (p.time_step) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<unsigned char>(*p.time_step >> shift));
    }
  }
  return out;
}

std::vector<unsigned char> WithDomain(const std::vector<unsigned char>& bytes) {
  std::vector<unsigned char> message;
  message.reserve(kDomain.size() + bytes.size());
  for (char c : kDomain) message.push_back(static_cast<unsigned char>(c));
  for (unsigned char b : bytes) message.push_back(b);
  return message;
}

Error Invalid(std::string message) { return Error::BadInput("invalid_qr", std::move(message)); }

template <size_t N>
std::optional<std::array<unsigned char, N>> FromHex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<unsigned char, N> out{};
  for (size_t i = 0; i < N; ++i) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

std::string Base45Encode(const std::vector<unsigned char>& bytes) {
  std::string out;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    unsigned n = bytes[i] * 256u + bytes[i + 1];
    out += kBase45[n % 45];
    out += kBase45[n / 45 % 45];
    out += kBase45[n / 2025];
  }
  if (bytes.size() % 2 == 1) {
    unsigned n = bytes.back();
    out += kBase45[n % 45];
    out += kBase45[n / 45];
  }
  return out;
}

std::optional<std::vector<unsigned char>> Base45Decode(std::string_view text) {
  auto value = [](char c) -> int {
    for (int i = 0; i < 45; ++i) {
      if (kBase45[i] == c) return i;
    }
    return -1;
  };
  if (text.size() % 3 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  for (size_t i = 0; i < text.size(); i += 3) {
    int c = value(text[i]), d = value(text[i + 1]);
    if (c < 0 || d < 0) return std::nullopt;
    if (i + 2 < text.size()) {
      int e = value(text[i + 2]);
      if (e < 0) return std::nullopt;
      unsigned n = static_cast<unsigned>(c + d * 45 + e * 2025);
      if (n > 0xffff) return std::nullopt;
      out.push_back(static_cast<unsigned char>(n >> 8));
      out.push_back(static_cast<unsigned char>(n & 0xff));
    } else {
      unsigned n = static_cast<unsigned>(c + d * 45);
      if (n > 0xff) return std::nullopt;
      out.push_back(static_cast<unsigned char>(n));
    }
  }
  return out;
}

Result<std::pair<Ed25519PrivateKey, Ed25519PublicKey>> NewQrKeyPair() {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return Error::Internal("Ed25519 key generation failed");
  std::pair<Ed25519PrivateKey, Ed25519PublicKey> pair;
  size_t private_size = pair.first.size(), public_size = pair.second.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), pair.first.data(), &private_size) != 1 ||
      EVP_PKEY_get_raw_public_key(key.get(), pair.second.data(), &public_size) != 1) {
    return Error::Internal("cannot read the Ed25519 key");
  }
  return pair;
}

Result<std::string> SignQr(const QrPayload& payload, const Ed25519PrivateKey& private_key) {
  if (payload.card_number.size() != 13 ||
      payload.card_number.find_first_not_of("0123456789") != std::string::npos) {
    return Error::BadInput("invalid_card", "a QR code names a 13-digit card number");
  }
  if (payload.key_id < 0 || payload.key_id > 255) {
    return Error::BadInput("invalid_request", "a key id is 0 to 255");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, private_key.data(), private_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::vector<unsigned char> bytes = SignedPart(payload);
  std::vector<unsigned char> message = WithDomain(bytes);
  unsigned char signature[kSignatureSize];
  size_t size = sizeof signature;
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &size, message.data(), message.size()) != 1) {
    return Error::Internal("Ed25519 signing failed");
  }
  for (size_t i = 0; i < size; ++i) bytes.push_back(signature[i]);
  return std::string(kQrPrefix) + Base45Encode(bytes);
}

bool LooksLikeQr(std::string_view text) { return text.starts_with(kQrPrefix); }

Result<QrPayload> VerifyQr(std::string_view text, const QrPolicy& policy, int64_t now_ms) {
  if (!LooksLikeQr(text)) return Invalid("not a Regulars QR code");
  auto bytes = Base45Decode(text.substr(kQrPrefix.size()));
  if (!bytes || bytes->empty()) return Invalid("QR code text is damaged");
  QrPayload p;
  p.version = (*bytes)[0];
  if (p.version != kQrFormatVersion) {
    return Error::BadInput("unsupported_qr_version",
                           "QR code format " + std::to_string(p.version) +
                               " is not supported by this version of Regulars");
  }
  if (bytes->size() < 9) return Invalid("QR code is too short");
  bool dynamic = ((*bytes)[1] & kDynamicFlag) != 0;
  if (((*bytes)[1] & ~kDynamicFlag) != 0) return Invalid("QR code has unknown flags");
  size_t signed_size = dynamic ? 13 : 9;
  if (bytes->size() != signed_size + kSignatureSize) return Invalid("QR code has the wrong length");
  p.key_id = (*bytes)[2];
  uint64_t number = 0;
  for (size_t i = 3; i < 9; ++i) number = number << 8 | (*bytes)[i];
  if (number > 9999999999999ULL) return Invalid("QR code names no card");
  p.card_number = std::to_string(number);
  p.card_number.insert(0, 13 - p.card_number.size(), '0');
  if (dynamic) {
    uint32_t step = 0;
    for (size_t i = 9; i < 13; ++i) step = step << 8 | (*bytes)[i];
    p.time_step = step;
  }

  auto key_it = policy.public_keys.find(p.key_id);
  if (key_it == policy.public_keys.end()) {
    return Error::BadInput("unknown_qr_key",
                           "QR code is signed with key " + std::to_string(p.key_id) +
                               ", which this till does not know (or which is retired)");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, key_it->second.data(), key_it->second.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::vector<unsigned char> message = WithDomain(std::vector<unsigned char>(
      bytes->begin(), bytes->begin() + static_cast<std::ptrdiff_t>(signed_size)));
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Error::Internal("Ed25519 verification could not start");
  }
  if (EVP_DigestVerify(ctx.get(), bytes->data() + signed_size, kSignatureSize, message.data(),
                       message.size()) != 1) {
    return Invalid("QR code signature does not verify: forged or altered");
  }
  if (p.time_step) {
    int64_t now_step = now_ms / 1000 / policy.time_step_seconds;
    int64_t skew = now_step - static_cast<int64_t>(*p.time_step);
    if (skew > policy.tolerance_steps || skew < -policy.tolerance_steps) {
      return Error::BadInput("qr_expired",
                             "this dynamic QR code has expired: ask the customer to refresh it");
    }
  }
  return p;
}

std::optional<Ed25519PublicKey> PublicKeyFromHex(std::string_view hex) { return FromHex<32>(hex); }

std::optional<Ed25519PrivateKey> PrivateKeyFromHex(std::string_view hex) {
  return FromHex<32>(hex);
}

}  // namespace regulars
