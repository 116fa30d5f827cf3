#define ZX_USE_UTF8 1
#include "images/image_scan.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/ReadBarcode.h>
#include <stb_image.h>

#include <fstream>
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
