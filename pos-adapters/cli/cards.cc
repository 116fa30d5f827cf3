// `regulars card issue` and `regulars scan IMAGE`: cards as images, and images back to
// codes. These need ZXing and the signing side, so they link the C++ core directly.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli.h"
#include "domain/card_number.h"
#include "images/card_image.h"
#include "images/image_scan.h"
#include "json/error_json.h"
#include "recognition/qr_code.h"

namespace regulars_cli {
namespace {

int Bad(const std::string& message, const std::string& where) {
  std::cerr << regulars::ErrorJson("invalid_arguments", message, where) << "\n";
  return kExitBadInput;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int RunCardIssue(const std::map<std::string, std::string>& options) {
  auto get = [&](const char* name) {
    auto it = options.find(name);
    return it == options.end() ? std::string() : it->second;
  };
  std::string first = get("--first"), key_file = get("--key"), out_dir = get("--out");
  if (first.size() != 12 || first.find_first_not_of("0123456789") != std::string::npos) {
    return Bad("--first is the first card's 12 digits (the check digit is computed)", "--first");
  }
  if (key_file.empty()) return Bad("--key FILE (from regulars-keys new) is required", "--key");
  if (out_dir.empty()) return Bad("--out DIR is required", "--out");
  long count = std::strtol(get("--count").empty() ? "1" : get("--count").c_str(), nullptr, 10);
  std::string key_id_text = get("--key-id");
  char* key_id_end = nullptr;
  long key_id = std::strtol(key_id_text.c_str(), &key_id_end, 10);
  if (count < 1 || count > 10000) return Bad("--count is 1 to 10000", "--count");
  if (key_id_text.empty() || *key_id_end != '\0' || key_id < 0 || key_id > 255) {
    return Bad("--key-id is 0 to 255", "--key-id");
  }
  auto key = regulars::PrivateKeyFromHex(FirstLine(key_file));
  if (!key) return Bad("not a private key made by regulars-keys", "--key");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Bad("cannot create " + out_dir, "--out");

  nlohmann::ordered_json issued = nlohmann::ordered_json::array();
  unsigned long long body = std::stoull(first);
  for (long i = 0; i < count; ++i, ++body) {
    std::string twelve = std::to_string(body);
    if (twelve.size() != 12) return Bad("the batch runs past 12 digits", "--count");
    std::string number = twelve + std::to_string(regulars::Ean13CheckDigit(twelve));
    regulars::QrPayload payload;
    payload.key_id = static_cast<int>(key_id);
    payload.card_number = number;
    auto qr = regulars::SignQr(payload, *key);
    if (!qr.ok()) return Bad(qr.error().message, "--first");
    auto images = regulars::DrawCard(number, *qr);
    if (!images.ok()) {
      std::cerr << regulars::ErrorJson(images.error().code, images.error().message, number) << "\n";
      return kExitFailure;
    }
    // A folder given as "cards/" still names "cards/1234.png", never "cards//1234.png".
    const std::filesystem::path folder(out_dir);
    std::string png = (folder / (number + ".png")).lexically_normal().string();
    std::string svg = (folder / (number + ".svg")).lexically_normal().string();
    std::ofstream png_file(png, std::ios::binary), svg_file(svg);
    png_file << images->png;
    svg_file << images->svg;
    png_file.close();
    svg_file.close();
    if (!png_file || !svg_file) {
      std::cerr << regulars::ErrorJson("io_error", "cannot write the card images", out_dir) << "\n";
      return kExitFailure;
    }
    issued.push_back({{"card", number},
                      {"qr", *qr},
                      {"qr_version", images->qr_version},
                      {"png", png},
                      {"svg", svg}});
  }
  std::cout << issued.dump(2) << "\n";
  return kExitOk;
}

int RunScanImage(regulars_till* till, const std::string& path) {
  auto codes = regulars::ScanImageFile(path);
  if (!codes.ok()) {
    std::cerr << regulars::ErrorJson(codes.error()) << "\n";
    return codes.error().kind == regulars::ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
  }
  nlohmann::json identifiers = nlohmann::json::array();
  nlohmann::ordered_json found = nlohmann::ordered_json::array();
  for (const auto& code : *codes) {
    identifiers.push_back({{"kind", "scan"}, {"value", code.text}});
    found.push_back({{"format", code.format}, {"text", code.text}, {"x", code.x}, {"y", code.y}});
  }
  nlohmann::json request{{"identifiers", identifiers}};
  char* out = nullptr;
  int status = regulars_recognize(till, request.dump().c_str(), &out);
  if (status != REGULARS_OK || out == nullptr) {
    std::cerr << (out ? out : "") << "\n";
    regulars_free(out);
    return ExitStatusOf(status);
  }
  auto recognized = nlohmann::ordered_json::parse(out);
  regulars_free(out);
  nlohmann::ordered_json result{{"image", path}, {"codes", found}};
  for (auto& [key, value] : recognized.items()) result[key] = value;
  std::cout << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace regulars_cli
