// A loyalty card as an image: the number as an EAN-13 barcode and a signed static QR code.
#pragma once

#include <string>

#include "result.h"

namespace regulars {

struct CardImages {
  std::string png;  // grayscale PNG bytes
  std::string svg;  // the same card as SVG, with the number printed
  int qr_version = 0;
};

// Draws the card. `qr_text` is the signed code (regulars-keys / SignQr); the QR is drawn
// at error-correction level M in the smallest version that holds it.
Result<CardImages> DrawCard(const std::string& card_number, const std::string& qr_text);

}  // namespace regulars
