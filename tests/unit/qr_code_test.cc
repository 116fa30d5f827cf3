// Signed QR codes: compact, verifiable at the till, never forgeable there.
#include "recognition/qr_code.h"

#include <gtest/gtest.h>

#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

constexpr int64_t kNow = 1795424400000;  // TestTill's clock: 2026-11-23T09:00:00Z

std::vector<unsigned char> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

struct Keys {
  Ed25519PrivateKey private_key;
  Ed25519PublicKey public_key;
};

Keys NewKeys() {
  auto pair = NewQrKeyPair();
  EXPECT_TRUE(pair.ok());
  return {pair->first, pair->second};
}

QrPolicy PolicyFor(int key_id, const Keys& keys) {
  QrPolicy policy;
  policy.public_keys[key_id] = keys.public_key;
  return policy;
}

std::string Code(const Keys& keys, int key_id, std::optional<uint32_t> step = std::nullopt,
                 const std::string& card = kAliceCard) {
  QrPayload payload;
  payload.key_id = key_id;
  payload.card_number = card;
  payload.time_step = step;
  auto text = SignQr(payload, keys.private_key);
  EXPECT_TRUE(text.ok());
  return text.ok() ? *text : "";
}

uint32_t StepAt(int64_t ms) { return static_cast<uint32_t>(ms / 1000 / 30); }

TEST(Base45, MatchesTheRfc9285Examples) {
  EXPECT_EQ(Base45Encode(Bytes("AB")), "BB8");
  EXPECT_EQ(Base45Encode(Bytes("Hello!!")), "%69 VD92EX0");
  EXPECT_EQ(Base45Encode(Bytes("base-45")), "UJCLQE7W581");
  EXPECT_EQ(*Base45Decode("QED8WEX0"), Bytes("ietf!"));
  EXPECT_FALSE(Base45Decode("GGW").has_value());  // 65535 < value: not Base45
  EXPECT_FALSE(Base45Decode("A").has_value());
  EXPECT_FALSE(Base45Decode("ab#").has_value());
}

TEST(QrCode, ASignedCodeVerifiesAndFitsAVersion6Code) {
  Keys keys = NewKeys();
  for (auto step : {std::optional<uint32_t>(), std::optional<uint32_t>(StepAt(kNow))}) {
    std::string text = Code(keys, 7, step);
    // QR alphanumeric mode holds 122 characters in a version 6 code at level M.
    EXPECT_LE(text.size(), 122u);
    EXPECT_EQ(text.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"),
              std::string::npos);
    auto payload = VerifyQr(text, PolicyFor(7, keys), kNow);
    ASSERT_TRUE(payload.ok()) << payload.error().message;
    EXPECT_EQ(payload->card_number, kAliceCard);
    EXPECT_EQ(payload->key_id, 7);
    EXPECT_EQ(payload->time_step, step);
  }
}

TEST(QrCode, AnAlteredOrForgedCodeIsRefused) {
  Keys keys = NewKeys();
  std::string text = Code(keys, 1);
  for (size_t i = 3; i < text.size(); i += 7) {
    std::string altered = text;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    auto payload = VerifyQr(altered, PolicyFor(1, keys), kNow);
    EXPECT_FALSE(payload.ok()) << i;
  }
  // Signed by someone else's key under our key id: a forgery.
  Keys forger = NewKeys();
  auto forged = VerifyQr(Code(forger, 1), PolicyFor(1, keys), kNow);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, "invalid_qr");
}

TEST(QrCode, AnUnknownOrRetiredKeyIsRefused) {
  Keys old_key = NewKeys(), new_key = NewKeys();
  QrPolicy both = PolicyFor(1, old_key);
  both.public_keys[2] = new_key.public_key;
  EXPECT_TRUE(VerifyQr(Code(old_key, 1), both, kNow).ok());  // rotation: both accepted
  EXPECT_TRUE(VerifyQr(Code(new_key, 2), both, kNow).ok());
  auto retired = VerifyQr(Code(old_key, 1), PolicyFor(2, new_key), kNow);
  ASSERT_FALSE(retired.ok());
  EXPECT_EQ(retired.error().code, "unknown_qr_key");
}

TEST(QrCode, APayloadFromAFutureVersionIsRefused) {
  Keys keys = NewKeys();
  auto bytes = Base45Decode(Code(keys, 1).substr(3));
  (*bytes)[0] = 2;
  auto future = VerifyQr("RG:" + Base45Encode(*bytes), PolicyFor(1, keys), kNow);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, "unsupported_qr_version");
}

TEST(QrCode, ADynamicCodeExpiresAfterItsWindow) {
  Keys keys = NewKeys();
  QrPolicy policy = PolicyFor(1, keys);
  EXPECT_TRUE(VerifyQr(Code(keys, 1, StepAt(kNow) - 1), policy, kNow).ok());  // clock skew
  EXPECT_TRUE(VerifyQr(Code(keys, 1, StepAt(kNow) + 1), policy, kNow).ok());
  auto stale = VerifyQr(Code(keys, 1, StepAt(kNow) - 3), policy, kNow);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "qr_expired");
}

TEST(QrCode, GarbageNeverCrashes) {
  Keys keys = NewKeys();
  QrPolicy policy = PolicyFor(1, keys);
  for (const char* text : {"", "RG:", "RG:0", "RG:00", "RG:000", "RG:ZZZZZZ", "XX:1234",
                           "RG:\xff\xfe", "RG:::::::::::::::"}) {
    EXPECT_FALSE(VerifyQr(text, policy, kNow).ok()) << text;
  }
}

// At the till.

std::string QrConfig(const Keys& keys) {
  TJson config = TJson::parse(testing::kDiapersConfig);
  config["qr"] = {{"public_keys",
                   {{{"key_id", 1},
                     {"public_key_hex", ToHex(keys.public_key.data(), keys.public_key.size())}}}}};
  config["scanner"] = {{"prefix", "<"}, {"suffix", ">"}};
  return config.dump();
}

TJson WithIdentifier(TJson basket, const std::string& kind, const std::string& value) {
  basket["identifiers"] = {{{"kind", kind}, {"value", value}}};
  return basket;
}

TEST(QrCode, ACustomerIsRecognizedByTheCodeOnTheirPhone) {
  Keys keys = NewKeys();
  TestTill t(QrConfig(keys));
  std::string alice = t.Enroll(kAliceCard);
  auto receipt = t.Commit(WithIdentifier(Basket("V1", "", {Packs(1, 1)}), "qr", Code(keys, 1)));
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_EQ(receipt["customer"]["recognized_by"], "qr");
  // From the scanner: framing, AIM identifier for QR and a line end.
  std::string line = "<]Q1" + Code(keys, 1, StepAt(kNow)) + ">\r\n";
  auto scanned = t.Commit(WithIdentifier(Basket("V2", "", {Packs(1, 1)}), "scan", line));
  EXPECT_EQ(scanned["customer"]["id"], alice);
  EXPECT_EQ(scanned["customer"]["recognized_by"], "qr");
  auto card = t.Commit(WithIdentifier(Basket("V3", "", {Packs(1, 1)}), "scan",
                                      std::string("<]E0") + kAliceCard + ">\n"));
  EXPECT_EQ(card["customer"]["id"], alice);
  auto garbage = t.Commit(WithIdentifier(Basket("V4", "", {Packs(1, 1)}), "scan", "<#!@%>"));
  EXPECT_TRUE(garbage["customer"].is_null());
  EXPECT_EQ(garbage["notices"][0]["code"], "unrecognized_scan");
}

TEST(QrCode, ADynamicCodeRecognizesOneBasketOnly) {
  Keys keys = NewKeys();
  TestTill t(QrConfig(keys));
  std::string alice = t.Enroll(kAliceCard);
  std::string code = Code(keys, 1, StepAt(kNow));
  auto first = WithIdentifier(Basket("V1", "", {Packs(1, 1)}), "qr", code);
  EXPECT_EQ(t.Evaluate(first)["customer"]["id"], alice);
  auto receipt = t.Commit(first);
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_EQ(t.Commit(first), receipt);  // a retry of the same basket is fine
  // The screenshot shared with a friend, presented for another basket.
  auto second = t.Commit(WithIdentifier(Basket("V2", "", {Packs(1, 1)}), "qr", code));
  EXPECT_TRUE(second["customer"].is_null());
  EXPECT_EQ(second["notices"][0]["code"], "qr_already_used");
}

TEST(QrCode, AForgedCodeAtTheTillIsANoticeNotARefusedSale) {
  Keys keys = NewKeys(), forger = NewKeys();
  TestTill t(QrConfig(keys));
  t.Enroll(kAliceCard);
  auto receipt = t.Commit(WithIdentifier(Basket("V1", "", {Packs(1, 5)}), "qr", Code(forger, 1)));
  EXPECT_TRUE(receipt["customer"].is_null());
  EXPECT_EQ(receipt["notices"][0]["code"], "invalid_qr");
  EXPECT_EQ(receipt["total_net"], 5 * 1290);
}

TEST(QrCode, ACodeValidWhenTheBasketStartedStaysGoodAtCommit) {
  Keys keys = NewKeys();
  TestTill t(QrConfig(keys));
  std::string alice = t.Enroll(kAliceCard);
  // Shown 90 s before the till's clock, when the basket started: past its window now.
  std::string code = Code(keys, 1, StepAt(kNow - 90'000));
  auto late =
      WithIdentifier(Basket("V1", "", {Packs(1, 1)}, "2026-11-23T09:58:30+01:00"), "qr", code);
  EXPECT_EQ(t.Commit(late)["customer"]["id"], alice);
  // A basket dated now does not revive it.
  auto now = WithIdentifier(Basket("V2", "", {Packs(1, 1)}), "qr", code);
  EXPECT_EQ(t.Commit(now)["notices"][0]["code"], "qr_expired");
}

}  // namespace
}  // namespace regulars
