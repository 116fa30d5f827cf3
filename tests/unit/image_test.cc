// Cards as images, and codes read back from images: clean, degraded, several, or none.
#include <gtest/gtest.h>
#include <stb_image.h>

#include <cmath>
#include <fstream>
#include <random>

#include "images/card_image.h"
#include "images/image_scan.h"
#include "recognition/qr_code.h"
#include "test_till.h"

namespace regulars {
namespace {

struct Gray {
  int width = 0, height = 0;
  std::vector<unsigned char> pixels;
  unsigned char at(int x, int y) const {
    if (x < 0 || y < 0 || x >= width || y >= height) return 255;
    return pixels[static_cast<size_t>(y * width + x)];
  }
};

std::string SignedCode(const std::string& card) {
  auto keys = NewQrKeyPair();
  QrPayload payload;
  payload.key_id = 1;
  payload.card_number = card;
  return *SignQr(payload, keys->first);
}

Gray DecodePng(const std::string& png) {
  Gray g;
  int channels = 0;
  unsigned char* data =
      stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                            static_cast<int>(png.size()), &g.width, &g.height, &channels, 1);
  EXPECT_NE(data, nullptr);
  if (data) g.pixels.assign(data, data + g.width * g.height);
  stbi_image_free(data);
  return g;
}

// Rotated by `degrees` about its centre and scaled by `scale` (bilinear), onto a canvas.
Gray Transform(const Gray& in, double degrees, double scale, int width, int height) {
  Gray out{width, height, std::vector<unsigned char>(static_cast<size_t>(width * height), 255)};
  double a = degrees * M_PI / 180, c = std::cos(a), s = std::sin(a);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double dx = (x - width / 2.0) / scale, dy = (y - height / 2.0) / scale;
      double sx = c * dx + s * dy + in.width / 2.0, sy = -s * dx + c * dy + in.height / 2.0;
      int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      double fx = sx - x0, fy = sy - y0;
      double v = in.at(x0, y0) * (1 - fx) * (1 - fy) + in.at(x0 + 1, y0) * fx * (1 - fy) +
                 in.at(x0, y0 + 1) * (1 - fx) * fy + in.at(x0 + 1, y0 + 1) * fx * fy;
      out.pixels[static_cast<size_t>(y * width + x)] = static_cast<unsigned char>(v);
    }
  }
  return out;
}

void AddNoise(Gray& g, int amplitude) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> noise(-amplitude, amplitude);
  for (auto& p : g.pixels) p = static_cast<unsigned char>(std::clamp(p + noise(random), 0, 255));
}

// Camera-sensor-like noise: Gaussian with a standard deviation of `sigma` grey levels,
// from a fixed seed so every run sees the same pixels.
void AddGaussianNoise(Gray& g, double sigma) {
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0, sigma);
  for (auto& p : g.pixels) {
    p = static_cast<unsigned char>(std::clamp<long>(std::lround(p + noise(random)), 0, 255));
  }
}

std::vector<std::string> Texts(const std::vector<ScannedCode>& codes, const std::string& format) {
  std::vector<std::string> out;
  for (const auto& c : codes) {
    if (c.format == format) out.push_back(c.text);
  }
  return out;
}

TEST(CardImage, ACardCarriesItsNumberAndItsSignedCodeInASmallQr) {
  std::string code = SignedCode(testing::kAliceCard);
  auto card = DrawCard(testing::kAliceCard, code);
  ASSERT_TRUE(card.ok()) << card.error().message;
  EXPECT_LE(card->qr_version, 6);
  EXPECT_EQ(card->png.substr(1, 3), "PNG");
  EXPECT_NE(card->svg.find(testing::kAliceCard), std::string::npos);
  Gray image = DecodePng(card->png);
  auto codes = ScanPixels(image.pixels.data(), image.width, image.height);
  EXPECT_EQ(Texts(codes, "QRCode"), std::vector<std::string>{code});
  EXPECT_EQ(Texts(codes, "EAN-13"), std::vector<std::string>{testing::kAliceCard});
}

TEST(CardImage, ADegradedPhotoOfTheCardStillReads) {
  std::string code = SignedCode(testing::kAliceCard);
  Gray card = DecodePng(DrawCard(testing::kAliceCard, code)->png);
  struct Case {
    double degrees, scale;
    int noise;
  };
  for (Case c : {Case{0, 0.7, 0}, Case{0, 1.8, 0}, Case{90, 1.0, 0}, Case{12, 1.2, 0},
                 Case{-25, 0.9, 30}, Case{180, 1.5, 50}}) {
    Gray photo = Transform(card, c.degrees, c.scale, 1280, 720);
    AddNoise(photo, c.noise);
    auto codes = ScanPixels(photo.pixels.data(), photo.width, photo.height);
    EXPECT_EQ(Texts(codes, "QRCode"), std::vector<std::string>{code})
        << c.degrees << " degrees, scale " << c.scale << ", noise " << c.noise;
  }
}

// The card's barcode strip alone (the QR cut off): only the EAN-13 can name the customer.
Gray BarcodeOnly(const Gray& card) {
  Gray out = card;
  out.height = 160;
  out.pixels.resize(static_cast<size_t>(out.width * out.height));
  return out;
}

// The barcodes read in a 1280x720 photo of `card`, turned and scaled 0.9 about the centre.
std::vector<ScannedCode> BarcodesIn(const Gray& card, double degrees, double noise_sigma) {
  Gray photo = Transform(card, degrees, 0.9, 1280, 720);
  AddGaussianNoise(photo, noise_sigma);
  std::vector<ScannedCode> barcodes;
  for (const auto& code : ScanPixels(photo.pixels.data(), photo.width, photo.height)) {
    if (code.format == "EAN-13") barcodes.push_back(code);
  }
  return barcodes;
}

TEST(CardImage, ABarcodeTiltedUpToFortyFiveDegreesEitherWayIsRead) {
  Gray card =
      BarcodeOnly(DecodePng(DrawCard(testing::kAliceCard, SignedCode(testing::kAliceCard))->png));
  for (double degrees : {-25.0, 25.0, -40.0, 45.0, 90.0 + 25.0}) {
    auto barcodes = BarcodesIn(card, degrees, 0);
    ASSERT_EQ(barcodes.size(), 1u) << degrees << " degrees";
    EXPECT_EQ(barcodes[0].text, testing::kAliceCard);
    // Its corner is where the strip is in the photo (within 230 pixels of the centre).
    EXPECT_LT(std::hypot(barcodes[0].x - 640, barcodes[0].y - 360), 230) << degrees << " degrees";
  }
}

TEST(CardImage, ABarcodeUnderModerateNoiseIsRead) {
  // Gaussian noise of 30 grey levels: a dim shop's phone photo at high ISO.
  Gray card =
      BarcodeOnly(DecodePng(DrawCard(testing::kAliceCard, SignedCode(testing::kAliceCard))->png));
  for (double degrees : {0.0, -25.0}) {
    auto barcodes = BarcodesIn(card, degrees, 30);
    ASSERT_EQ(barcodes.size(), 1u) << degrees << " degrees";
    EXPECT_EQ(barcodes[0].text, testing::kAliceCard);
  }
}

TEST(CardImage, EveryCodeInAnImageIsReported) {
  std::string a = SignedCode(testing::kAliceCard), b = SignedCode(testing::kBobCard);
  Gray left = DecodePng(DrawCard(testing::kAliceCard, a)->png);
  Gray right = DecodePng(DrawCard(testing::kBobCard, b)->png);
  Gray both{left.width + right.width + 40, std::max(left.height, right.height), {}};
  both.pixels.assign(static_cast<size_t>(both.width * both.height), 255);
  for (int y = 0; y < both.height; ++y) {
    for (int x = 0; x < both.width; ++x) {
      unsigned char p = x < left.width ? left.at(x, y) : right.at(x - left.width - 40, y);
      both.pixels[static_cast<size_t>(y * both.width + x)] = p;
    }
  }
  auto codes = ScanPixels(both.pixels.data(), both.width, both.height);
  auto qr = Texts(codes, "QRCode");
  std::sort(qr.begin(), qr.end());
  std::vector<std::string> expected{a, b};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(qr, expected);
  EXPECT_EQ(Texts(codes, "EAN-13").size(), 1u);  // linear codes: one per image (ZXing 1.4)
}

TEST(ImageScan, AFileThatIsNotAnImageIsRefused) {
  testing::TempDir dir;
  std::string path = dir.path() + "/card.png";
  std::ofstream(path) << "this is a text file";
  auto codes = ScanImageFile(path);
  ASSERT_FALSE(codes.ok());
  EXPECT_EQ(codes.error().code, "invalid_image");
  EXPECT_EQ(codes.error().where, path);
  EXPECT_FALSE(ScanImageFile(dir.path() + "/missing.png").ok());
}

TEST(ImageScan, AHugeImageIsRefusedBeforeItIsDecoded) {
  testing::TempDir dir;
  std::string path = dir.path() + "/huge.png";
  // A PNG header claiming 40000 x 20000 pixels: 800 MB if it were decoded.
  const unsigned char header[] = {0x89, 'P', 'N',  'G',  '\r', '\n', 0x1a, '\n',  // signature
                                  0,    0,   0,    13,   'I',  'H',  'D',  'R',   // IHDR chunk
                                  0,    0,   0x9c, 0x40, 0,    0,    0x4e, 0x20,
                                  8,    0,   0,    0,    0,  // 40000 x 20000, gray
                                  0,    0,   0,    0};       // CRC (not checked here)
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(header), sizeof header);
  auto codes = ScanImageFile(path);
  ASSERT_FALSE(codes.ok());
  EXPECT_EQ(codes.error().code, "image_too_large");
}

TEST(ImageScan, AnImageWithoutACodeGivesNothing) {
  Gray blank{640, 480, std::vector<unsigned char>(640 * 480, 200)};
  AddNoise(blank, 40);
  EXPECT_TRUE(ScanPixels(blank.pixels.data(), blank.width, blank.height).empty());
}

TEST(ImageScan, StripesAndNoiseNeverCrashTheDecoder) {
  // Bar-like patterns are what trip linear decoders; none may abort the process.
  std::mt19937 random(11);
  for (int round = 0; round < 20; ++round) {
    Gray g{320, 240, std::vector<unsigned char>(320 * 240, 255)};
    int period = 2 + round % 7;
    for (int y = 0; y < g.height; ++y) {
      for (int x = 0; x < g.width; ++x) {
        bool dark = ((x + (round % 3) * y) / period) % 2 == 0 || random() % 17 == 0;
        g.pixels[static_cast<size_t>(y * g.width + x)] = dark ? 0 : 255;
      }
    }
    (void)ScanPixels(g.pixels.data(), g.width, g.height);
  }
}

}  // namespace
}  // namespace regulars
