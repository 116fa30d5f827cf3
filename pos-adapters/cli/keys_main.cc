// `regulars-keys`: headquarters' key tool. It makes the Ed25519 key pairs that sign QR
// codes and the secrets that hash payment cards, and signs QR codes. Tills never run
// it: they hold only public keys.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/timestamp.h"
#include "json/error_json.h"
#include "recognition/qr_code.h"

namespace {

constexpr const char* kUsage = R"(usage: regulars-keys COMMAND [OPTIONS]

  new --key-id N --out FILE     make an Ed25519 key pair for QR codes; the private key goes
                                to FILE (mode 0600), the public key (for tills) is printed
  sign --key FILE --key-id N --card NUMBER [--dynamic --at TIME --count K --step-seconds S]
                                print signed QR code texts, one per line: a static code, or
                                K dynamic codes for consecutive time steps from TIME
  token-secret --out FILE       make a 32-byte secret for hashing payment cards (mode 0600)

Exit status: 0 success, 2 bad input, 1 any other failure.
)";

int Fail(int status, const std::string& code, const std::string& message,
         const std::string& where) {
  std::cerr << regulars::ErrorJson(code, message, where) << "\n";
  return status;
}

// Writes a secret readable by its owner only.
bool WriteSecret(const std::string& path, const std::string& hex) {
  // Created 0600 in one step, never over an existing file: no moment where others can read.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return false;
  std::string line = hex + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  return close(fd) == 0 && ok;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

int Run(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string command = argv[1];
  std::map<std::string, std::string> options;
  bool dynamic = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dynamic") {
      dynamic = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      options[a] = argv[++i];
    } else {
      return Fail(2, "invalid_arguments", "unexpected argument " + a, a);
    }
  }
  auto need = [&](const std::string& name) -> const std::string* {
    auto it = options.find(name);
    return it == options.end() ? nullptr : &it->second;
  };
  auto integer = [&](const std::string& name, long min, long max, long fallback) -> long {
    const std::string* text = need(name);
    if (text == nullptr) return fallback;
    char* end = nullptr;
    long value = std::strtol(text->c_str(), &end, 10);
    return (*end != '\0' || value < min || value > max) ? min - 1 : value;
  };

  if (command == "help" || command == "--help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "token-secret") {
    const std::string* out = need("--out");
    if (out == nullptr) return Fail(2, "invalid_arguments", "--out FILE is required", "--out");
    unsigned char secret[32];
    if (RAND_bytes(secret, sizeof secret) != 1) return Fail(1, "internal", "no randomness", "");
    if (!WriteSecret(*out, regulars::ToHex(secret, sizeof secret))) {
      return Fail(1, "io_error", "cannot create " + *out + " (it must not exist yet)", "--out");
    }
    std::cout << nlohmann::json{{"secret_file", *out}}.dump() << "\n";
    return 0;
  }
  long key_id = integer("--key-id", 0, 255, -1);
  if (key_id < 0) return Fail(2, "invalid_arguments", "--key-id is 0 to 255", "--key-id");
  if (command == "new") {
    const std::string* out = need("--out");
    if (out == nullptr) return Fail(2, "invalid_arguments", "--out FILE is required", "--out");
    auto pair = regulars::NewQrKeyPair();
    if (!pair.ok()) return Fail(1, "internal", pair.error().message, "");
    if (!WriteSecret(*out, regulars::ToHex(pair->first.data(), pair->first.size()))) {
      return Fail(1, "io_error", "cannot create " + *out + " (it must not exist yet)", "--out");
    }
    nlohmann::ordered_json key{
        {"key_id", key_id},
        {"public_key_hex", regulars::ToHex(pair->second.data(), pair->second.size())}};
    std::cout << key.dump() << "\n";
    return 0;
  }
  if (command == "sign") {
    const std::string* key_file = need("--key");
    const std::string* card = need("--card");
    if (key_file == nullptr) return Fail(2, "invalid_arguments", "--key FILE is required", "--key");
    if (card == nullptr) return Fail(2, "invalid_arguments", "--card NUMBER is required", "--card");
    auto key = regulars::PrivateKeyFromHex(ReadFirstLine(*key_file));
    if (!key) return Fail(2, "invalid_key", "not a private key made by regulars-keys", "--key");
    regulars::QrPayload payload;
    payload.key_id = static_cast<int>(key_id);
    payload.card_number = *card;
    long count = 1;
    long step = 30;
    int64_t first_step = 0;
    if (dynamic) {
      count = integer("--count", 1, 100000, 1);
      step = integer("--step-seconds", 30, 60, 30);
      if (count < 1) return Fail(2, "invalid_arguments", "--count is 1 to 100000", "--count");
      if (step < 30)
        return Fail(2, "invalid_arguments", "--step-seconds is 30 to 60", "--step-seconds");
      const std::string* at = need("--at");
      if (at == nullptr) return Fail(2, "invalid_arguments", "--at TIME is required", "--at");
      auto ms = regulars::ParseTimestamp(*at);
      if (!ms.ok()) return Fail(2, "invalid_arguments", ms.error().message, "--at");
      first_step = *ms / 1000 / step;
    }
    for (long i = 0; i < count; ++i) {
      if (dynamic) payload.time_step = static_cast<uint32_t>(first_step + i);
      auto text = regulars::SignQr(payload, *key);
      if (!text.ok()) return Fail(2, text.error().code, text.error().message, "--card");
      std::cout << *text << "\n";
    }
    return 0;
  }
  return Fail(2, "invalid_arguments", "unknown command '" + command + "'", command);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(1, "internal", e.what(), "");
  }
}
