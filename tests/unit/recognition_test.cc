// Recognizing the customer from the card they pay with: keyed hashes, links with
// consent, pseudonymous profiles that merge, and precedence between identifiers.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "domain/hex.h"
#include "recognition/payment_token.h"
#include "recognition/recognize.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::kBobCard;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

constexpr const char* kKeyV1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr const char* kKeyV2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
// Luhn-valid test card numbers, and a PAR (29 characters).
constexpr const char* kVisa = "4111111111111111";
constexpr const char* kMastercard = "5555555555554444";
constexpr const char* kAmex = "378282246310005";
constexpr const char* kPar = "V0010013816180398947217215133";

std::string ConfigWith(const std::string& keys, bool pseudonymous) {
  TJson config = TJson::parse(testing::kDiapersConfig);
  config["payment_tokens"] = {{"keys", TJson::parse(keys)},
                              {"pseudonymous_profiles", pseudonymous}};
  return config.dump();
}

std::string OneKey(bool pseudonymous = false) {
  return ConfigWith(std::string(R"([{"version": 1, "secret_hex": ")") + kKeyV1 + "\"}]",
                    pseudonymous);
}

TJson PayingWith(const std::string& txn, const std::string& card, const std::string& payment,
                 int64_t packs, const std::string& source = "") {
  TJson basket = Basket(txn, card, {Packs(1, packs)});
  TJson token{{"kind", "payment_token"}, {"value", payment}};
  if (!source.empty()) token["source"] = source;
  basket["identifiers"].push_back(token);
  return basket;
}

TJson LinkRequest(const std::string& card, const std::string& payment,
                  const std::string& source = "") {
  TJson token{{"value", payment}};
  if (!source.empty()) token["source"] = source;
  return {{"card", card},
          {"payment_token", token},
          {"consent",
           {{"text", "I agree that my payment card recognizes me for loyalty rewards."},
            {"at", "2026-11-23T10:00:00+01:00"},
            {"cashier_id", "C07"}}}};
}

TJson Link(TestTill& t, const TJson& request) {
  auto linked = t.till().Link(request.dump());
  if (!linked.ok()) {
    ADD_FAILURE() << linked.error().code << ": " << linked.error().message;
    return {};
  }
  return TJson::parse(*linked);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PaymentToken, LuhnAndClassification) {
  EXPECT_TRUE(LuhnValid(kVisa));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  std::string normalized;
  EXPECT_EQ(*ClassifyPaymentValue("4111 1111 1111 1111", "", &normalized), PaymentSource::kPan);
  EXPECT_EQ(normalized, kVisa);
  EXPECT_EQ(*ClassifyPaymentValue(kPar, "", &normalized), PaymentSource::kPar);
  EXPECT_EQ(*ClassifyPaymentValue("tok_8f3a", "alias", &normalized), PaymentSource::kAlias);
  auto bad = ClassifyPaymentValue("4111111111111112", "", &normalized);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("4111"), std::string::npos);
  EXPECT_TRUE(normalized.empty());
}

TEST(PaymentToken, EveryTillComputesTheSameKeyedHash) {
  TokenKey key{1, {}};
  for (size_t i = 0; i < 32; ++i) key.secret.push_back(static_cast<unsigned char>(i % 16 * 17));
  // HMAC-SHA256(key, "pan:4111111111111111"), computed independently.
  EXPECT_EQ(*PaymentTokenHash(key, PaymentSource::kPan, kVisa),
            "v1:8112eb6a7e8f0e943eb9f58ca022f2b5a4db36c8ea414fe3f60bcf991d5f5382");
  TokenKey other{2, std::vector<unsigned char>(32, 7)};
  EXPECT_NE(PaymentTokenHash(other, PaymentSource::kPan, kVisa)->substr(3),
            PaymentTokenHash(key, PaymentSource::kPan, kVisa)->substr(3));
  EXPECT_NE(*PaymentTokenHash(key, PaymentSource::kAlias, kVisa),
            *PaymentTokenHash(key, PaymentSource::kPan, kVisa));
}

TEST(PaymentToken, ACustomerIsRecognizedByTheCardTheyPayWith) {
  TestTill t(OneKey());
  std::string alice = t.Enroll(kAliceCard);
  auto linked = Link(t, LinkRequest(kAliceCard, kVisa));
  EXPECT_EQ(linked["customer"]["id"], alice);
  EXPECT_EQ(linked["linked"], true);
  EXPECT_TRUE(linked["merged_from"].is_null());
  t.Commit(Basket("V1", kAliceCard, {Packs(1, 4)}));
  // No loyalty card today: she pays by card, and the fifth pack is free all the same.
  auto receipt = t.Commit(PayingWith("V2", "", "4111-1111-1111-1111", 1));
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_EQ(receipt["customer"]["recognized_by"], "payment_token");
  EXPECT_EQ(receipt["total_discount"], 1290);
}

TEST(PaymentToken, ThePhoneAndThePlasticCardShareTheirPar) {
  TestTill t(OneKey());
  std::string alice = t.Enroll(kAliceCard);
  Link(t, LinkRequest(kAliceCard, kPar, "par"));
  EXPECT_EQ(t.Commit(PayingWith("V1", "", kPar, 1))["customer"]["id"], alice);
  // An alias from the payment processor is a source of its own.
  Link(t, LinkRequest(kAliceCard, "tok_processor_8f3a", "alias"));
  EXPECT_EQ(t.Commit(PayingWith("V2", "", "tok_processor_8f3a", 1, "alias"))["customer"]["id"],
            alice);
}

TEST(PaymentToken, LinkingNeedsConsentAndRecordsIt) {
  TestTill t(OneKey());
  t.Enroll(kAliceCard);
  TJson request = LinkRequest(kAliceCard, kVisa);
  request.erase("consent");
  auto refused = t.till().Link(request.dump());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().where, "/consent");
  EXPECT_EQ(t.CountRows("consents"), 0);
  auto linked = Link(t, LinkRequest(kAliceCard, kVisa));
  EXPECT_EQ(t.CountRows("consents"), 1);
  auto text = t.till().ledger().db().Prepare(
      "SELECT purpose, text, given_at_ms, store_id, till_id, cashier_id FROM consents");
  ASSERT_TRUE(*(*text)->Step());
  EXPECT_EQ((*text)->Text(0), "loyalty_recognition");
  EXPECT_NE((*text)->Text(1).find("I agree"), std::string::npos);
  EXPECT_EQ((*text)->Int(2), 1795424400000);
  EXPECT_EQ((*text)->Text(3), "S001");
  EXPECT_EQ((*text)->Text(5), "C07");
  (*text)->Reset();
  // Linking again is a no-op; linking the card to someone else is a conflict.
  EXPECT_EQ(Link(t, LinkRequest(kAliceCard, kVisa))["already_linked"], true);
  t.Enroll(kBobCard);
  auto elsewhere = t.till().Link(LinkRequest(kBobCard, kVisa).dump());
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, "payment_card_linked_elsewhere");
}

TEST(PaymentToken, OldKeyVersionsStillRecognizeAfterRotation) {
  TestTill v1(OneKey());
  std::string alice = v1.Enroll(kAliceCard);
  Link(v1, LinkRequest(kAliceCard, kVisa));
  std::string db = v1.db_path();
  auto rotated =
      ParseConfig(ConfigWith(std::string(R"([{"version": 2, "secret_hex": ")") + kKeyV2 +
                                 R"("}, {"version": 1, "secret_hex": ")" + kKeyV1 + "\"}]",
                             false),
                  "rotated.json");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->payment_tokens.keys[0].version, 2);
  auto till = Till::Open(std::move(rotated).value(), db);
  ASSERT_TRUE(till.ok());
  auto receipt = (*till)->Evaluate(PayingWith("V1", "", kVisa, 1).dump());
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(TJson::parse(*receipt)["customer"]["id"], alice);
}

TEST(PaymentToken, UnknownCardsAreNotRecognizedUnlessTheStoreAllowsProfiles) {
  TestTill t(OneKey(false));
  auto receipt = t.Commit(PayingWith("V1", "", kVisa, 5));
  EXPECT_TRUE(receipt["customer"].is_null());
  EXPECT_EQ(receipt["notices"][0]["code"], "unknown_payment_card");
  EXPECT_EQ(t.CountRows("customers"), 0);
}

TEST(PaymentToken, ASaleToACardLinkedToNobodyIsCreditedWhenItIsLinked) {
  TestTill t(OneKey(false));  // no pseudonymous profiles
  auto before = t.Commit(PayingWith("V1", "", kMastercard, 4));
  EXPECT_TRUE(before["customer"].is_null());
  EXPECT_EQ(before["notices"][0]["code"], "unknown_payment_card");
  // Only the card's keyed hash waits for the link, never its number.
  EXPECT_EQ(t.CountRows("unattributed_sales WHERE kind = 'payment_token'"), 1);
  EXPECT_EQ(FileBytes(t.dir() + "/ledger.sqlite").find(kMastercard), std::string::npos);
  std::string alice = t.Enroll(kAliceCard);
  Link(t, LinkRequest(kAliceCard, kMastercard));
  EXPECT_EQ(t.Progress(alice), 4);
  EXPECT_EQ(t.CountRows("unattributed_sales"), 0);
  EXPECT_EQ(t.Commit(PayingWith("V2", "", kMastercard, 1))["total_discount"], 1290);
}

TEST(PaymentToken, APseudonymousProfileAccruesAndMergesOnLinkLosingNothing) {
  TestTill t(OneKey(true));
  // Evaluate proposes the profile but creates nothing.
  auto proposed = t.Evaluate(PayingWith("V1", "", kMastercard, 2));
  std::string profile = proposed["customer"]["id"];
  EXPECT_EQ(profile.rfind("p_", 0), 0u);
  EXPECT_EQ(proposed["customer"]["pseudonymous"], true);
  EXPECT_EQ(t.CountRows("customers"), 0);
  // Two visits paying by card: the profile counts 2 + 2 packs.
  EXPECT_EQ(t.Commit(PayingWith("V1", "", kMastercard, 2))["customer"]["id"], profile);
  EXPECT_EQ(t.Commit(PayingWith("V2", "", kMastercard, 2))["progress"][0]["have"], 4);
  EXPECT_EQ(t.Progress(profile), 4);

  // She enrols and links the card: the profile merges, and her count comes with it.
  std::string alice = t.Enroll(kAliceCard);
  auto linked = Link(t, LinkRequest(kAliceCard, kMastercard));
  EXPECT_EQ(linked["merged_from"], profile);
  EXPECT_EQ(t.Progress(alice), 4);
  EXPECT_EQ(t.CountRows("merges"), 1);
  auto merge_events =
      t.till().ledger().db().QueryInt("SELECT count(*) FROM events WHERE kind = 'merge'");
  EXPECT_EQ(*merge_events, 1);
  // The fifth pack is free whether she shows her loyalty card or pays by card.
  EXPECT_EQ(t.Evaluate(Basket("V3", kAliceCard, {Packs(1, 1)}))["total_discount"], 1290);
  auto paid = t.Commit(PayingWith("V3", "", kMastercard, 1));
  EXPECT_EQ(paid["customer"]["id"], alice);
  EXPECT_EQ(paid["total_discount"], 1290);
  // Refunding a sale made under the profile takes the units back from her, and the free
  // pack they earned: 2 + 1 packs kept, 3 of 5.
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 2}}});
  EXPECT_EQ(refund["reward_deduction"], 1290);
  EXPECT_EQ(refund["total_refund"], 2 * 1290 - 1290);
  EXPECT_EQ(t.Progress(alice), 3);
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty()) << verify->mismatches.size();
  EXPECT_TRUE(verify->problems.empty());
}

TEST(PaymentToken, TheSameCardIsTheSameProfileAtEveryTill) {
  TestTill a(OneKey(true));
  TestTill b(OneKey(true));
  EXPECT_EQ(a.Evaluate(PayingWith("V1", "", kAmex, 1))["customer"]["id"],
            b.Evaluate(PayingWith("V1", "", kAmex, 1))["customer"]["id"]);
}

TEST(Recognition, ALoyaltyCardTakesPrecedenceAndTheConflictIsFlagged) {
  TestTill t(OneKey());
  std::string alice = t.Enroll(kAliceCard);
  std::string bob = t.Enroll(kBobCard);
  Link(t, LinkRequest(kBobCard, kVisa));
  // Alice shows her card but pays with Bob's bank card.
  TJson basket = PayingWith("V1", "", kVisa, 1);
  basket["identifiers"].push_back({{"kind", "card"}, {"value", kAliceCard}});
  auto receipt = t.Commit(basket);
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_EQ(receipt["customer"]["recognized_by"], "card");
  ASSERT_EQ(receipt["notices"].size(), 1u);
  EXPECT_EQ(receipt["notices"][0]["code"], "conflicting_identifiers");
  EXPECT_EQ(receipt["notices"][0]["where"], "/identifiers/0");
}

TEST(Recognition, PaymentCardNumbersNeverReachTheDiskTheReceiptsOrTheErrors) {
  TestTill t(OneKey(true));
  std::vector<std::string> pans = {kVisa, kMastercard, kAmex, "4000056655665556"};
  std::string seen;
  t.Enroll(kAliceCard);
  seen += Link(t, LinkRequest(kAliceCard, pans[0])).dump();
  for (size_t i = 0; i < 40; ++i) {
    const std::string& pan = pans[i % pans.size()];
    auto sale = t.till().Commit(PayingWith("V" + std::to_string(i), "", pan, 1 + i % 3).dump());
    ASSERT_TRUE(sale.ok());
    seen += *sale;
    if (i % 5 == 0)
      seen += *t.till().Refund(TJson{{"pos_txn_id", "R" + std::to_string(i)},
                                     {"refund_of", "V" + std::to_string(i)},
                                     {"lines", {{{"line", 1}, {"qty", 1}}}}}
                                   .dump());
    auto bad = t.till().Link(LinkRequest(kBobCard, pan).dump());
    ASSERT_FALSE(bad.ok());
    seen += bad.error().message + bad.error().where;
  }
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
  t.Reopen();
  std::string disk = FileBytes(t.db_path()) + FileBytes(t.db_path() + "-wal");
  for (const auto& pan : pans) {
    EXPECT_EQ(disk.find(pan), std::string::npos) << pan;
    EXPECT_EQ(disk.find(pan.substr(0, 12)), std::string::npos) << pan;
    EXPECT_EQ(seen.find(pan), std::string::npos) << pan;
  }
}

TEST(Recognition, AMistypedIdentifierIsANoticeNeverAFailedSale) {
  TestTill t(OneKey());
  TJson basket = Basket("V1", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", 5}, {"value", kAliceCard}}, {{"kind", "card"}, {"value", 7}}};
  auto receipt = t.Commit(basket);
  EXPECT_TRUE(receipt["customer"].is_null());
  ASSERT_EQ(receipt["notices"].size(), 2u);
  EXPECT_EQ(receipt["notices"][0]["code"], "unreadable_identifier");
  EXPECT_TRUE(t.till().RecognizeOnly(TJson{{"identifiers", basket["identifiers"]}}.dump()).ok());
}

TEST(Recognition, TheStoredRequestDigestLeavesEveryIdentifierOut) {
  TestTill t(OneKey());
  TJson basket = Basket("V1", "", {Packs(1, 1)});
  basket["identifiers"] = {{{"kind", "card"}, {"value", kVisa}}};  // a PAN sent as a card
  t.Commit(basket);
  auto stored = t.till().ledger().transactions().Find("V1");
  ASSERT_TRUE(stored.ok() && *stored);
  TJson without = basket;
  without.erase("identifiers");
  EXPECT_EQ((*stored)->request_digest, Sha256Hex(without.dump()));
}

TEST(Recognition, ThePreferredParWinsAndAProfileNeverOutranksACustomer) {
  TestTill t(OneKey(true));
  std::string alice = t.Enroll(kAliceCard);
  Link(t, LinkRequest(kAliceCard, kPar, "par"));
  // The terminal gives both the PAN (never linked) and the PAR, PAN first.
  TJson basket = PayingWith("V1", "", kVisa, 1);
  basket["identifiers"].push_back({{"kind", "payment_token"}, {"value", kPar}});
  auto receipt = t.Commit(basket);
  EXPECT_EQ(receipt["customer"]["id"], alice);
  EXPECT_TRUE(receipt["notices"].empty());
  // Her loyalty card with a bank card she never linked: no profile, no false conflict.
  auto with_card = t.Commit(PayingWith("V2", kAliceCard, kMastercard, 1));
  EXPECT_EQ(with_card["customer"]["id"], alice);
  EXPECT_TRUE(with_card["notices"].empty());
  EXPECT_EQ(t.CountRows("customers"), 1);
}

TEST(Recognition, RetiringAnOldTokenKeyNeverUnlinksACustomer) {
  TestTill v1(OneKey());
  std::string alice = v1.Enroll(kAliceCard);
  Link(v1, LinkRequest(kAliceCard, kVisa));
  std::string both = ConfigWith(std::string(R"([{"version": 2, "secret_hex": ")") + kKeyV2 +
                                    R"("}, {"version": 1, "secret_hex": ")" + kKeyV1 + "\"}]",
                                false);
  std::string only_v2 =
      ConfigWith(std::string(R"([{"version": 2, "secret_hex": ")") + kKeyV2 + "\"}]", false);
  {
    auto till = Till::Open(*ParseConfig(both, "both.json"), v1.db_path());
    ASSERT_TRUE(till.ok());
    // A checkout recognized under v1 stores the v2 hash as well.
    auto receipt = (*till)->Commit(PayingWith("V1", "", kVisa, 1).dump());
    ASSERT_TRUE(receipt.ok());
    EXPECT_EQ(TJson::parse(*receipt)["customer"]["id"], alice);
  }
  auto till = Till::Open(*ParseConfig(only_v2, "v2.json"), v1.db_path());
  ASSERT_TRUE(till.ok());
  auto receipt = (*till)->Evaluate(PayingWith("V2", "", kVisa, 1).dump());
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(TJson::parse(*receipt)["customer"]["id"], alice);
}

TEST(Recognition, ARefundOfAProfilesSaleAfterTheMergeShowsTheCustomer) {
  TestTill t(OneKey(true));
  std::string profile = t.Commit(PayingWith("V1", "", kMastercard, 3))["customer"]["id"];
  std::string alice = t.Enroll(kAliceCard);
  Link(t, LinkRequest(kAliceCard, kMastercard));
  auto refund = t.Refund("R1", "V1", {{{"line", 1}, {"qty", 1}}});
  EXPECT_EQ(refund["customer"]["id"], alice);
  EXPECT_FALSE(refund["customer"].contains("pseudonymous"));
  EXPECT_EQ(refund["progress"][0]["have"], 2);
  EXPECT_NE(profile, alice);
}

}  // namespace
}  // namespace regulars
