// Finding QR codes and EAN-13 barcodes in a PNG or JPEG image (ZXing-cpp 1.4).
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace regulars {

struct ScannedCode {
  std::string format;  // "QRCode" or "EAN-13"
  std::string text;
  int x = 0, y = 0;  // top-left corner in the image, in pixels
};

// Images above this many pixels are refused before they are decoded, so memory stays
// bounded (one byte a pixel: 40 MB at most).
inline constexpr long long kMaxImagePixels = 40'000'000;
inline constexpr size_t kMaxImageFileBytes = size_t{64} * 1024 * 1024;

// Decodes the codes in the image at `path`: every QR code, and one EAN-13 barcode (see
// image_scan.cc for why only one). Errors: "invalid_image" (not a PNG or JPEG,
// or damaged), "image_too_large" (over 64 MiB, or over 40 megapixels). An image without
// codes gives an empty list.
Result<std::vector<ScannedCode>> ScanImageFile(const std::string& path);

// The same for 8-bit grayscale pixels already in memory.
std::vector<ScannedCode> ScanPixels(const unsigned char* pixels, int width, int height);

}  // namespace regulars
