#define ZX_USE_UTF8 1
#include "images/image_scan.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/ReadBarcode.h>
#include <stb_image.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <optional>

#include "images/gray_image.h"

namespace regulars {
namespace {

// The second EAN-13 pass works on a copy shrunk to at most this size (a 4K frame is halved),
// so its buffers stay a few megabytes whatever the image.
constexpr long long kSecondPassMaxPixels = 4'000'000;

ZXing::DecodeHints Hints(ZXing::BarcodeFormat format) {
  ZXing::DecodeHints h;
  h.setFormats(format).setTryHarder(true).setTryRotate(true).setTryDownscale(true);
  return h;
}

ScannedCode CodeOf(const ZXing::Result& result) {
  auto corner = result.position().topLeft();
  return {ZXing::ToString(result.format()), result.text(), corner.x, corner.y};
}

std::optional<ScannedCode> ReadEan13(const GrayImage& image) {
  ZXing::ImageView view(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum);
  auto result = ZXing::ReadBarcode(view, Hints(ZXing::BarcodeFormat::EAN13));
  if (!result.isValid()) return std::nullopt;
  return CodeOf(result);
}

// ZXing's linear readers scan rows (and columns, with try-rotate): a barcode tilted past
// about 15 degrees puts too few bars on any one row, and noise splits thin bars. This pass
// reads a 3x3-smoothed copy, then the image turned 30 degrees each way, as is and smoothed
// (smoothing alone loses some sharp tilted bars; noise needs it), so with ZXing's own
// right-angle turns every tilt is within 15 degrees of one of them.
std::optional<ScannedCode> SecondEan13Pass(const unsigned char* pixels, int width, int height) {
  int factor = 1;
  GrayImage image = Shrunk(pixels, width, height, kSecondPassMaxPixels, &factor);
  auto in_image = [&](ScannedCode code, double degrees) {
    double x = code.x, y = code.y;
    if (degrees != 0) PointBeforeTurn(image, degrees, &x, &y);
    code.x = static_cast<int>(std::lround(x * factor));
    code.y = static_cast<int>(std::lround(y * factor));
    return code;
  };
  if (auto code = ReadEan13(Smoothed(image))) return in_image(*code, 0);
  for (double degrees : {30.0, -30.0}) {
    GrayImage turned = Turned(image, degrees);
    auto code = ReadEan13(turned);
    if (!code) code = ReadEan13(Smoothed(turned));
    if (code) return in_image(*code, degrees);
  }
  return std::nullopt;
}

}  // namespace

std::vector<ScannedCode> ScanPixels(const unsigned char* pixels, int width, int height) {
  ZXing::ImageView view(pixels, width, height, ZXing::ImageFormat::Lum);
  std::vector<ScannedCode> codes;
  // Every QR code in the image.
  for (const auto& result :
       ZXing::ReadBarcodes(view, Hints(ZXing::BarcodeFormat::QRCode).setMaxNumberOfSymbols(16))) {
    if (result.isValid()) codes.push_back(CodeOf(result));
  }
  // One EAN-13: ZXing 1.4's multi-symbol reader aborts on an assertion when it merges some
  // linear results (Result.cpp: lineCount() == 1), so linear codes are read one per image.
  auto ean = ZXing::ReadBarcode(view, Hints(ZXing::BarcodeFormat::EAN13));
  if (ean.isValid()) {
    codes.push_back(CodeOf(ean));
  } else if (auto tilted = SecondEan13Pass(pixels, width, height)) {
    codes.push_back(*tilted);
  }
  return codes;
}

Result<std::vector<ScannedCode>> ScanImageFile(const std::string& path) {
  // Read once, bounded, and only PNG or JPEG: stb_image knows more formats (GIF, PSD, ...)
  // than a till needs, and each is more code exposed to whatever file is handed in.
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::BadInput("invalid_image", "cannot read the image file", path);
  std::string bytes(kMaxImageFileBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > kMaxImageFileBytes) {
    return Error::BadInput("image_too_large", "image file is larger than 64 MiB", path);
  }
  bool png = bytes.starts_with("\x89PNG\r\n\x1a\n");
  bool jpeg = bytes.starts_with("\xff\xd8\xff");
  if (!png && !jpeg) return Error::BadInput("invalid_image", "not a PNG or JPEG image", path);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  int length = static_cast<int>(bytes.size());
  int width = 0, height = 0, channels = 0;
  // The header first: the size is checked before any pixel is decoded.
  if (stbi_info_from_memory(data, length, &width, &height, &channels) == 0) {
    return Error::BadInput("invalid_image", "the image is damaged", path);
  }
  if (static_cast<long long>(width) * height > kMaxImagePixels) {
    return Error::BadInput("image_too_large",
                           "image is " + std::to_string(width) + " x " + std::to_string(height) +
                               " pixels; at most 40 megapixels are decoded",
                           path);
  }
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(data, length, &width, &height, &channels, 1), stbi_image_free);
  if (!pixels) {
    return Error::BadInput("invalid_image",
                           std::string("cannot decode the image: ") + stbi_failure_reason(), path);
  }
  try {
    return ScanPixels(pixels.get(), width, height);
  } catch (const std::exception& e) {
    return Error::Internal(std::string("barcode decoding failed: ") + e.what());
  }
}

}  // namespace regulars
