// Signed QR codes: headquarters signs with Ed25519; tills hold only public keys, so they
// verify and never forge. The text is "RG:" + Base45 (RFC 9285) of a compact binary
// payload, all in the QR alphanumeric set, so a code fits QR version 6 at level M.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/hex.h"
#include "result.h"

namespace regulars {

inline constexpr int kQrFormatVersion = 1;
inline constexpr std::string_view kQrPrefix = "RG:";

// What a code says. A static code (printed on the card, in a wallet app) names the card;
// a dynamic one also carries the time step it was made for, so a screenshot stops working.
struct QrPayload {
  int version = kQrFormatVersion;
  int key_id = 0;                     // which HQ key signed it (0..255)
  std::string card_number;            // 13 digits
  std::optional<uint32_t> time_step;  // dynamic codes: unix seconds / step length
};

using Ed25519PublicKey = std::array<unsigned char, 32>;
using Ed25519PrivateKey = std::array<unsigned char, 32>;

// What a till needs to check codes.
struct QrPolicy {
  std::map<int, Ed25519PublicKey> public_keys;  // by key id; a retired key is removed
  int time_step_seconds = 30;                   // 30 to 60
  int tolerance_steps = 1;                      // clock skew allowed, in steps either way
};

// RFC 9285 Base45, as used by QR codes in alphanumeric mode.
std::string Base45Encode(const std::vector<unsigned char>& bytes);
std::optional<std::vector<unsigned char>> Base45Decode(std::string_view text);

// HQ side: a new key pair, and a signed code for a payload.
Result<std::pair<Ed25519PrivateKey, Ed25519PublicKey>> NewQrKeyPair();
Result<std::string> SignQr(const QrPayload& payload, const Ed25519PrivateKey& key);

// True when `text` looks like one of ours (its prefix), whether or not it verifies.
bool LooksLikeQr(std::string_view text);

// Till side: decodes and verifies a code at `now_ms`. Errors (code, for the notice):
// "invalid_qr" (malformed, or the signature fails: forged or altered), "unknown_qr_key",
// "unsupported_qr_version", "qr_expired" (a dynamic code outside its time window).
Result<QrPayload> VerifyQr(std::string_view text, const QrPolicy& policy, int64_t now_ms);

// Keys in config files and on the command line are hex (ToHex in domain/hex.h).
std::optional<Ed25519PublicKey> PublicKeyFromHex(std::string_view hex);
std::optional<Ed25519PrivateKey> PrivateKeyFromHex(std::string_view hex);

}  // namespace regulars
