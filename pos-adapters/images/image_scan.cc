#define ZX_USE_UTF8 1
#include "image_scan.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/ReadBarcode.h>
#include <stb_image.h>

#include <memory>

namespace regulars {

std::vector<ScannedCode> ScanPixels(const unsigned char* pixels, int width, int height) {
  ZXing::ImageView view(pixels, width, height, ZXing::ImageFormat::Lum);
  auto hints = [](ZXing::BarcodeFormat format) {
    ZXing::DecodeHints h;
    h.setFormats(format).setTryHarder(true).setTryRotate(true).setTryDownscale(true);
    return h;
  };
  std::vector<ScannedCode> codes;
  auto add = [&](const ZXing::Result& result) {
    if (!result.isValid()) return;
    auto corner = result.position().topLeft();
    codes.push_back({ZXing::ToString(result.format()), result.text(), corner.x, corner.y});
  };
  // Every QR code in the image.
  for (const auto& result :
       ZXing::ReadBarcodes(view, hints(ZXing::BarcodeFormat::QRCode).setMaxNumberOfSymbols(16))) {
    add(result);
  }
  // One EAN-13: ZXing 1.4's multi-symbol reader aborts on an assertion when it merges some
  // linear results (Result.cpp: lineCount() == 1), so linear codes are read one per image.
  add(ZXing::ReadBarcode(view, hints(ZXing::BarcodeFormat::EAN13)));
  return codes;
}

Result<std::vector<ScannedCode>> ScanImageFile(const std::string& path) {
  int width = 0, height = 0, channels = 0;
  // Reads only the header: the size is checked before any pixel is decoded.
  if (stbi_info(path.c_str(), &width, &height, &channels) == 0) {
    return Error::BadInput("invalid_image", "not a PNG or JPEG image (or damaged)", path);
  }
  if (static_cast<long long>(width) * height > kMaxImagePixels) {
    return Error::BadInput("image_too_large",
                           "image is " + std::to_string(width) + " x " + std::to_string(height) +
                               " pixels; at most 40 megapixels are decoded",
                           path);
  }
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load(path.c_str(), &width, &height, &channels, 1), stbi_image_free);
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
