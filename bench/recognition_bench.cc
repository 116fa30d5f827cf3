// Recognition costs: identifier look-up with 1 million customers and 3 million
// identifiers, the keyed hash of a payment card, QR signature verification, and decoding
// a 1280x720 frame holding one card: upright, tilted 25 degrees, noisy, or without its
// barcode (every EAN-13 pass fails). Every iteration is timed (p50_us, p99_us).
//
//   regulars_recognition_bench [--identifiers=PATH] [--benchmark_...]
//
// PATH defaults to /tmp/regulars-bench/identifiers.sqlite, generated on the first run.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stb_image.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "big_ledger.h"
#include "images/card_image.h"
#include "images/image_scan.h"
#include "latencies.h"
#include "recognition/payment_token.h"
#include "recognition/qr_code.h"
#include "recognition/recognize.h"
#include "store/ledger.h"

namespace regulars::bench {
namespace {

constexpr int64_t kCustomers = 1'000'000;
const TokenKey kTokenKey{1, std::vector<unsigned char>(32, 0x5a)};

// A Luhn-valid 16-digit test card number for customer `index`.
std::string PanOf(int64_t index) {
  char digits[20];
  std::snprintf(digits, sizeof digits, "49%013" PRId64, index);
  std::string pan = digits;
  for (char check = '0'; check <= '9'; ++check) {
    if (LuhnValid(pan + check)) return pan + check;
  }
  return pan;
}

// Three identifiers a customer: a loyalty card, a payment card (PAN hash) and a
// processor alias (hash).
Status Generate(const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::filesystem::remove(path);
  {
    auto ledger = Ledger::Open(path, {"S001", "T01", "EUR"});
    if (!ledger.ok()) return ledger.error();
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* customer = nullptr;
  sqlite3_stmt* identifier = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO customers (id, created_at_ms, store_id) VALUES (?1, 0, 'S001')",
                     -1, &customer, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO identifiers (kind, value, customer_id) VALUES (?1, ?2, ?3)",
                     -1, &identifier, nullptr);
  auto add = [&](const char* kind, const std::string& value, const std::string& id) {
    sqlite3_bind_text(identifier, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(identifier, 2, value.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(identifier, 3, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(identifier);
    sqlite3_reset(identifier);
  };
  for (int64_t i = 0; i < kCustomers; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "c_%016" PRIx64, static_cast<uint64_t>(i) * 2654435761u);
    sqlite3_bind_text(customer, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_step(customer);
    sqlite3_reset(customer);
    add("card", CardNumberOf(i), id);
    add("payment_token", *PaymentTokenHash(kTokenKey, PaymentSource::kPan, PanOf(i)), id);
    add("payment_token",
        *PaymentTokenHash(kTokenKey, PaymentSource::kAlias, "tok_" + std::to_string(i)), id);
    if (i % 100000 == 0) std::fprintf(stderr, "generating: %" PRId64 " customers\n", i);
  }
  sqlite3_finalize(customer);
  sqlite3_finalize(identifier);
  int rc = sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return Error::Storage("generation failed");
  std::ofstream(path + ".complete") << kCustomers << "\n";
  return Status::Ok();
}

std::unique_ptr<Ledger> g_ledger;

void BM_CardLookup(benchmark::State& state) {
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  std::mt19937_64 random(1);
  for (auto _ : state) {
    std::string card = CardNumberOf(static_cast<int64_t>(random() % kCustomers));
    auto found =
        latencies.Time(state, [&] { return g_ledger->customers().ByIdentifier("card", card); });
    if (!found.ok() || !*found) state.SkipWithError("a generated card was not found");
  }
  latencies.Report(state);
}

void BM_PaymentCardRecognition(benchmark::State& state) {
  PaymentTokenPolicy policy;
  policy.keys.push_back(kTokenKey);
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  std::mt19937_64 random(2);
  for (auto _ : state) {
    std::string pan = PanOf(static_cast<int64_t>(random() % kCustomers));
    auto found =
        latencies.Time(state, [&] { return LookUpPaymentCard(*g_ledger, policy, pan, ""); });
    if (!found.ok() || !found->customer) state.SkipWithError("a generated card was not found");
  }
  latencies.Report(state);
}

void BM_PaymentTokenHmac(benchmark::State& state) {
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  std::string pan = PanOf(12345);
  for (auto _ : state) {
    auto hash = latencies.Time(
        state, [&] { return PaymentTokenHash(kTokenKey, PaymentSource::kPan, pan); });
    benchmark::DoNotOptimize(hash);
  }
  latencies.Report(state);
}

void BM_QrSignatureVerification(benchmark::State& state) {
  auto keys = NewQrKeyPair();
  QrPolicy policy;
  policy.public_keys[1] = keys->second;
  QrPayload payload;
  payload.key_id = 1;
  payload.card_number = CardNumberOf(42);
  std::string code = *SignQr(payload, keys->first);
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    auto verified = latencies.Time(state, [&] { return VerifyQr(code, policy, 0); });
    if (!verified.ok()) state.SkipWithError("the code did not verify");
  }
  latencies.Report(state);
}

void BM_DecodeOneQrIn1280x720(benchmark::State& state) {
  auto keys = NewQrKeyPair();
  QrPayload payload;
  payload.key_id = 1;
  payload.card_number = CardNumberOf(42);
  std::string code = *SignQr(payload, keys->first);
  auto card = DrawCard(payload.card_number, code);
  int w = 0, h = 0, n = 0;
  unsigned char* pixels =
      stbi_load_from_memory(reinterpret_cast<const unsigned char*>(card->png.data()),
                            static_cast<int>(card->png.size()), &w, &h, &n, 1);
  // The card, as a camera frame: mid-grey background, card off-centre.
  std::vector<unsigned char> frame(1280 * 720, 160);
  for (int y = 0; y < h && y + 150 < 720; ++y) {
    for (int x = 0; x < w && x + 400 < 1280; ++x)
      frame[(y + 150) * 1280 + x + 400] = pixels[y * w + x];
  }
  stbi_image_free(pixels);
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    auto codes = latencies.Time(state, [&] { return ScanPixels(frame.data(), 1280, 720); });
    bool found = std::any_of(codes.begin(), codes.end(),
                             [&](const ScannedCode& c) { return c.text == code; });
    if (!found) state.SkipWithError("the QR code was not found");
  }
  latencies.Report(state);
}

// A 1280x720 frame of a card turned `degrees` about the centre on a mid-grey background,
// with Gaussian noise of `noise_sigma` grey levels (fixed seed); `barcode` false blanks the
// EAN-13 strip, as on a phone screen showing only the QR code.
std::vector<unsigned char> PhotoOfCard(const std::string& code, double degrees, double noise_sigma,
                                       bool barcode) {
  auto card = DrawCard(CardNumberOf(42), code);
  int w = 0, h = 0, n = 0;
  unsigned char* pixels =
      stbi_load_from_memory(reinterpret_cast<const unsigned char*>(card->png.data()),
                            static_cast<int>(card->png.size()), &w, &h, &n, 1);
  if (!barcode) std::fill(pixels, pixels + 150 * w, 255);
  double a = degrees * M_PI / 180, c = std::cos(a), s = std::sin(a);
  std::vector<unsigned char> frame(1280 * 720, 160);
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0, noise_sigma);
  for (int y = 0; y < 720; ++y) {
    for (int x = 0; x < 1280; ++x) {
      double dx = x - 640.0, dy = y - 360.0;
      int sx = static_cast<int>(std::lround(c * dx + s * dy + w / 2.0));
      int sy = static_cast<int>(std::lround(-s * dx + c * dy + h / 2.0));
      double v = sx >= 0 && sy >= 0 && sx < w && sy < h ? pixels[sy * w + sx] : 160;
      if (noise_sigma > 0) v += noise(random);
      frame[y * 1280 + x] = static_cast<unsigned char>(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  stbi_image_free(pixels);
  return frame;
}

// Decodes `frame` every iteration; the QR code must be found, and the counter ean13 says
// whether the barcode was (1) or not (0).
void DecodePhoto(benchmark::State& state, double degrees, double noise_sigma, bool barcode) {
  auto keys = NewQrKeyPair();
  QrPayload payload;
  payload.key_id = 1;
  payload.card_number = CardNumberOf(42);
  std::string code = *SignQr(payload, keys->first);
  std::vector<unsigned char> frame = PhotoOfCard(code, degrees, noise_sigma, barcode);
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  bool ean13 = false;
  for (auto _ : state) {
    auto codes = latencies.Time(state, [&] { return ScanPixels(frame.data(), 1280, 720); });
    bool found = std::any_of(codes.begin(), codes.end(),
                             [&](const ScannedCode& c) { return c.text == code; });
    if (!found) state.SkipWithError("the QR code was not found");
    ean13 = std::any_of(codes.begin(), codes.end(),
                        [&](const ScannedCode& c) { return c.text == payload.card_number; });
  }
  state.counters["ean13"] = ean13 ? 1 : 0;
  latencies.Report(state);
}

void BM_DecodeCardTilted25In1280x720(benchmark::State& state) { DecodePhoto(state, -25, 0, true); }
void BM_DecodeNoisyCardIn1280x720(benchmark::State& state) { DecodePhoto(state, 0, 30, true); }
void BM_DecodeQrWithoutBarcodeIn1280x720(benchmark::State& state) {
  DecodePhoto(state, 0, 0, false);
}

BENCHMARK(BM_CardLookup)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200000);
BENCHMARK(BM_PaymentCardRecognition)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(200000);
BENCHMARK(BM_PaymentTokenHmac)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200000);
BENCHMARK(BM_QrSignatureVerification)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(20000);
BENCHMARK(BM_DecodeOneQrIn1280x720)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(200);
BENCHMARK(BM_DecodeCardTilted25In1280x720)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(100);
BENCHMARK(BM_DecodeNoisyCardIn1280x720)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(100);
BENCHMARK(BM_DecodeQrWithoutBarcodeIn1280x720)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(100);

}  // namespace
}  // namespace regulars::bench

int main(int argc, char** argv) {
  std::string path = "/tmp/regulars-bench/identifiers.sqlite";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--identifiers=", 0) == 0) {
      path = a.substr(14);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!std::filesystem::exists(path + ".complete")) {
    auto generated = regulars::bench::Generate(path);
    if (!generated.ok()) {
      std::fprintf(stderr, "%s\n", generated.error().message.c_str());
      return 1;
    }
  }
  auto ledger = regulars::Ledger::Open(path, {"S001", "T01", "EUR"});
  if (!ledger.ok()) {
    std::fprintf(stderr, "%s\n", ledger.error().message.c_str());
    return 1;
  }
  regulars::bench::g_ledger = std::move(ledger).value();
  auto identifiers = regulars::bench::g_ledger->db().QueryInt("SELECT count(*) FROM identifiers");
  std::fprintf(stderr, "identifiers in the ledger: %lld\n",
               static_cast<long long>(identifiers.ok() ? *identifiers : -1));
  int count = static_cast<int>(rest.size());
  benchmark::Initialize(&count, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  regulars::bench::g_ledger.reset();
  return 0;
}
