#define ZX_USE_UTF8 1
#include "images/card_image.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <stb_image_write.h>

#include <vector>

#include "domain/card_number.h"

namespace regulars {
namespace {

constexpr int kWidth = 480;
constexpr int kBarcodeTop = 24, kBarcodeHeight = 110;
constexpr int kQrTop = kBarcodeTop + kBarcodeHeight + 24;
constexpr int kQrModule = 5;  // pixels per QR module
constexpr int kQuietModules = 4;

void AppendToString(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

}  // namespace

Result<CardImages> DrawCard(const std::string& card_number, const std::string& qr_text) {
  auto valid = ValidateCardNumber(card_number, {""});
  if (!valid.ok()) return valid.error();
  CardImages out;
  try {
    // The QR at its natural size (one pixel a module, no margin) tells its version.
    ZXing::BitMatrix qr = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode)
                              .setEccLevel(4)
                              .setMargin(0)
                              .encode(qr_text, 0, 0);
    out.qr_version = (qr.width() - 17) / 4;
    ZXing::BitMatrix ean = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::EAN13)
                               .setMargin(0)
                               .encode(card_number, 95 * 4, kBarcodeHeight);

    int qr_pixels = (qr.width() + 2 * kQuietModules) * kQrModule;
    int height = kQrTop + qr_pixels + 24;
    std::vector<unsigned char> canvas(static_cast<size_t>(kWidth * height), 255);
    auto paint = [&](int x, int y, int w, int h) {
      for (int yy = y; yy < y + h; ++yy) {
        for (int xx = x; xx < x + w; ++xx) canvas[(static_cast<size_t>(yy) * kWidth) + xx] = 0;
      }
    };
    int ean_left = (kWidth - ean.width()) / 2;
    for (int y = 0; y < ean.height(); ++y) {
      for (int x = 0; x < ean.width(); ++x) {
        if (ean.get(x, y)) paint(ean_left + x, kBarcodeTop + y, 1, 1);
      }
    }
    int qr_left = (kWidth - qr_pixels) / 2 + kQuietModules * kQrModule;
    int qr_top = kQrTop + kQuietModules * kQrModule;
    std::string rects;
    for (int y = 0; y < qr.height(); ++y) {
      for (int x = 0; x < qr.width(); ++x) {
        if (!qr.get(x, y)) continue;
        paint(qr_left + x * kQrModule, qr_top + y * kQrModule, kQrModule, kQrModule);
        rects += "<rect x=\"" + std::to_string(qr_left + x * kQrModule) + "\" y=\"" +
                 std::to_string(qr_top + y * kQrModule) + "\" width=\"" +
                 std::to_string(kQrModule) + "\" height=\"" + std::to_string(kQrModule) + "\"/>";
      }
    }
    // EAN-13 bars for the SVG: one rect per run of dark columns.
    for (int x = 0; x < ean.width();) {
      if (!ean.get(x, 0)) {
        ++x;
        continue;
      }
      int run = x;
      while (run < ean.width() && ean.get(run, 0)) ++run;
      rects += "<rect x=\"" + std::to_string(ean_left + x) + "\" y=\"" +
               std::to_string(kBarcodeTop) + "\" width=\"" + std::to_string(run - x) +
               "\" height=\"" + std::to_string(kBarcodeHeight) + "\"/>";
      x = run;
    }
    if (stbi_write_png_to_func(AppendToString, &out.png, kWidth, height, 1, canvas.data(),
                               kWidth) == 0) {
      return Error::Internal("PNG encoding failed");
    }
    out.svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) +
              "\" height=\"" + std::to_string(height + 16) + "\" viewBox=\"0 0 " +
              std::to_string(kWidth) + " " + std::to_string(height + 16) +
              "\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><g fill=\"#000\">" + rects +
              "</g><text x=\"" + std::to_string(kWidth / 2) + "\" y=\"" +
              std::to_string(kBarcodeTop + kBarcodeHeight + 18) +
              "\" font-family=\"monospace\" font-size=\"16\" text-anchor=\"middle\">" +
              card_number + "</text></svg>\n";
  } catch (const std::exception& e) {
    return Error::Internal(std::string("barcode encoding failed: ") + e.what());
  }
  return out;
}

}  // namespace regulars
