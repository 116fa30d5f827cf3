#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "json/near_keys.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::TJson;

TJson GoodConfig() { return TJson::parse(testing::kDiapersConfig); }

Error Refused(const TJson& json) {
  auto config = ParseConfig(json.dump(), "store.json");
  EXPECT_FALSE(config.ok()) << json.dump();
  return config.ok() ? Error{} : config.error();
}

TEST(Config, TheContractExampleLoads) {
  auto config = ParseConfig(testing::kDiapersConfig, "store.json");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->till.store_id, "S001");
  EXPECT_EQ(config->till.currency.code, "EUR");
  ASSERT_EQ(config->rules.rules.size(), 1u);
  EXPECT_EQ(config->rules.rules[0].every, 5);
  EXPECT_EQ(config->rules.rules[0].reward.percent, 100);
  EXPECT_EQ(config->card_prefixes, std::vector<std::string>{"2"});
  EXPECT_EQ(config->rules.version.rfind("sha256:", 0), 0u);
}

TEST(Config, TheExampleFilesInTheRepositoryLoad) {
  for (const char* name : {"store.json", "demo-store.json"}) {
    auto config = LoadConfigFile(std::string(REGULARS_SOURCE_DIR) + "/config/examples/" + name);
    EXPECT_TRUE(config.ok()) << name << ": " << config.error().message;
  }
}

TEST(Config, ErrorsNameTheFileAndTheJsonPointer) {
  TJson c = GoodConfig();
  c["rules"][0]["every"] = 0;
  Error e = Refused(c);
  EXPECT_EQ(e.code, "invalid_config");
  EXPECT_EQ(e.where, "store.json#/rules/0/every");
  c = GoodConfig();
  c["rules"][0]["reward"] = {{"percent", 150}};
  EXPECT_EQ(Refused(c).where, "store.json#/rules/0/reward/percent");
  c = GoodConfig();
  c["rules"][0]["reward"] = {{"percent", 10}, {"amount", 100}};
  EXPECT_EQ(Refused(c).where, "store.json#/rules/0/reward");
  c = GoodConfig();
  c["currency"] = "EURO";
  EXPECT_EQ(Refused(c).where, "store.json#/currency");
  c = GoodConfig();
  c.erase("till_id");
  EXPECT_EQ(Refused(c).where, "store.json#/till_id");
}

TEST(Config, TheSyncSectionIsCheckedAndItsPathsAreRelativeToTheFile) {
  TJson c = GoodConfig();
  c["sync"] = {{"hq", "hq.example:8443"},
               {"ca", "pki/ca.pem"},
               {"cert", "/etc/s.pem"},
               {"key", "pki/s.key"},
               {"nightly_at", "03:15"},
               {"jitter_minutes", 90},
               {"timeouts_ms", {{"connect", 700}}}};
  auto config = ParseConfig(c.dump(), "/etc/regulars/store.json");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->sync.hq_host, "hq.example");
  EXPECT_EQ(config->sync.hq_port, 8443);
  EXPECT_EQ(config->sync.ca, "/etc/regulars/pki/ca.pem");
  EXPECT_EQ(config->sync.cert, "/etc/s.pem");
  EXPECT_EQ(config->sync.nightly_minute, 3 * 60 + 15);
  EXPECT_EQ(config->sync.jitter_minutes, 90);
  EXPECT_EQ(config->sync.connect_timeout_ms, 700);
  EXPECT_EQ(config->sync.request_timeout_ms, 30'000) << "the default";
  EXPECT_FALSE(ParseConfig(testing::kDiapersConfig, "s.json")->sync.enabled());

  for (const char* hq : {"hq.example", "hq.example:0", "hq.example:70000", ":8443", "h:8x"}) {
    TJson bad = c;
    bad["sync"]["hq"] = hq;
    EXPECT_EQ(Refused(bad).where, "store.json#/sync/hq") << hq;
  }
  for (const char* at : {"24:00", "3:15", "03:60", "ab:cd"}) {
    TJson bad = c;
    bad["sync"]["nightly_at"] = at;
    EXPECT_EQ(Refused(bad).where, "store.json#/sync/nightly_at") << at;
  }
  TJson bad = c;
  bad["sync"]["retry_max_ms"] = 0;
  EXPECT_EQ(Refused(bad).where, "store.json#/sync/retry_max_ms");
  bad = c;
  bad["sync"]["batch_event"] = 10;
  EXPECT_EQ(Refused(bad).where, "store.json#/sync/batch_event");
  bad = c;
  bad["sync"].erase("key");
  EXPECT_EQ(Refused(bad).where, "store.json#/sync/key");
}

TEST(Config, UnsupportedRuleKindsAreNamed) {
  TJson c = GoodConfig();
  c["rules"][0]["kind"] = "coupon";
  Error e = Refused(c);
  EXPECT_EQ(e.where, "store.json#/rules/0/kind");
  EXPECT_NE(e.message.find("not supported"), std::string::npos);
}

TEST(Config, ARuleMustMatchSomethingAndIdsAreUnique) {
  TJson c = GoodConfig();
  c["rules"][0]["match"] = {{"skus", TJson::array()}};
  EXPECT_EQ(Refused(c).where, "store.json#/rules/0/match");
  c = GoodConfig();
  c["rules"].push_back(c["rules"][0]);
  EXPECT_EQ(Refused(c).where, "store.json#/rules/1/id");
}

TEST(Config, MalformedJsonNamesTheFilePosition) {
  auto config = ParseConfig("{\"store_id\": \"S001\",\n  oops}", "store.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().where, "store.json: line 2, column 3");
}

TEST(Config, AnUnreadableFileIsABadInputNamingThePath) {
  auto config = LoadConfigFile("/nonexistent/store.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(config.error().where, "/nonexistent/store.json");
  testing::TempDir temp;
  std::string dir = temp.path();
  EXPECT_FALSE(LoadConfigFile(dir).ok());  // a folder is not a config
}

TEST(Config, RulesWithoutTextGetCatalogueSentences) {
  TJson c = GoodConfig();
  c["rules"][0].erase("text");
  c["rules"][0]["reward"] = {{"percent", 30}};
  c["rules"][0]["every"] = 2;
  testing::TestTill t(c.dump());
  t.Enroll(testing::kAliceCard);
  TJson receipt = t.Evaluate(testing::Basket("T1", testing::kAliceCard, {testing::Packs(1, 2)}));
  const TJson& text = receipt["lines"][0]["discounts"][0]["text"];
  EXPECT_EQ(text["en"], "2nd pack: 30% off");
  EXPECT_EQ(text["fr"], "2e paquet : -30 %");
}

TEST(Config, EachMistakeInARuleIsReportedWithItsPointer) {
  struct Case {
    const char* rule;
    const char* where;
    const char* says;
  };
  const Case cases[] = {
      {R"({"id": "a", "kind": "nth_unit", "evry": 5, "match": {"skus": ["X"]},
           "reward": {"free": true}})",
       "/rules/0/evry", "unknown field 'evry'"},
      {R"({"id": "a", "kind": "milestone", "step": 100, "amount": 500, "match": {"skus": ["X"]}})",
       "/rules/0/amount", "must not exceed step"},
      {R"({"id": "a", "kind": "tier", "rank": 1, "name": {"fr": "Or", "en": "Gold"},
           "reach": {}, "benefits": {"percent": 5}})",
       "/rules/0/reach", "purchases, spend or both"},
      {R"({"id": "a", "kind": "tier", "rank": 1, "name": {"fr": "Or", "en": "Gold"},
           "reach": {"purchases": 3}, "benefits": {"percent": 500}})",
       "/rules/0/benefits/percent", "100"},
      {R"({"id": "a", "kind": "nth_unit", "every": 5, "match": {"skus": ["X"],
           "exclude": {"sku": ["Y"]}}, "reward": {"free": true}})",
       "/rules/0/match/exclude/sku", "unknown field 'sku'"},
      {R"({"id": "a", "kind": "nth_unit", "every": 5, "match": {"skus": ["X"]},
           "reward": {"free": true}, "valid_from": "2026-12-01"})",
       "/rules/0/valid_from", ""},
      {R"({"id": "a", "kind": "nth_unit", "every": 5, "match": {"skus": ["X"]},
           "reward": {"free": true}, "valid_from": "2026-12-02T00:00:00Z",
           "valid_until": "2026-12-01T00:00:00Z"})",
       "/rules/0/valid_until", "after valid_from"},
  };
  for (const auto& c : cases) {
    std::string text = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": [)" +
                       std::string(c.rule) + "]}";
    auto config = ParseConfig(text, "rules.json");
    ASSERT_FALSE(config.ok()) << c.rule;
    EXPECT_EQ(config.error().where, std::string("rules.json#") + c.where) << c.rule;
    EXPECT_NE(config.error().message.find(c.says), std::string::npos) << config.error().message;
  }
}

TEST(Config, TwoTiersOfTheSameRankAndAnUnknownMessageAreRefused) {
  const char* tier = R"({"id": "%s", "kind": "tier", "rank": 1, "name": {"fr": "A", "en": "A"},
                        "reach": {"purchases": 3}, "benefits": {"percent": 5}})";
  char a[300], b[300];
  std::snprintf(a, sizeof a, tier, "a");
  std::snprintf(b, sizeof b, tier, "b");
  std::string text = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR", "rules": [)" +
                     std::string(a) + "," + b + "]}";
  auto config = ParseConfig(text, "rules.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().where, "rules.json#/rules/1/rank");

  std::string messages = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
      "rules": [], "messages": {"nth_unit.progress": {"fr": "{have} {oops}", "en": "x"}}})";
  auto bad = ParseConfig(messages, "m.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "m.json#/messages/nth_unit.progress");
  EXPECT_NE(bad.error().message.find("{oops}"), std::string::npos);
}

TEST(ConfigCheck, UnknownTopLevelKeyIsRefusedWithItsPointer) {
  struct Case {
    const char* typo;
    const char* says;
  };
  for (const Case& c :
       {Case{"goodwil", "did you mean /goodwill?"}, Case{"htpp", "did you mean /http?"},
        Case{"curency", "did you mean /currency?"},
        Case{"colour", "(known: store_id, till_id, currency"}}) {
    TJson config = GoodConfig();
    config[c.typo] = TJson::object();
    Error e = Refused(config);
    EXPECT_EQ(e.code, "invalid_config");
    EXPECT_EQ(e.where, std::string("store.json#/") + c.typo);
    EXPECT_NE(e.message.find(std::string("unknown field '") + c.typo + "' in the config"),
              std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find(c.says), std::string::npos) << e.message;
  }
}

TEST(ConfigCheck, UnknownKeyInEverySectionIsRefusedWithItsPointer) {
  const char* key = R"({"version": 1, "secret_hex": ")"
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                    R"("})";
  struct Case {
    const char* section;
    const char* value;
    const char* where;
    const char* near;
  };
  const Case cases[] = {
      {"scanner", R"({"prefx": "]C1"})", "/scanner/prefx", "/scanner/prefix"},
      {"qr", R"({"public_keys": [], "time_step_second": 30})", "/qr/time_step_second",
       "/qr/time_step_seconds"},
      {"qr", R"({"public_keys": [{"key_id": 1, "public_key_hx": "00"}]})",
       "/qr/public_keys/0/public_key_hx", "/qr/public_keys/0/public_key_hex"},
      {"payment_tokens", R"({"keys": [], "pseudonymous_profile": true})",
       "/payment_tokens/pseudonymous_profile", "/payment_tokens/pseudonymous_profiles"},
      {"payment_tokens", R"({"keys": [{"version": 1, "secrte_file": "k.key"}]})",
       "/payment_tokens/keys/0/secrte_file", "/payment_tokens/keys/0/secret_file"},
      {"caps", R"({"per_dya": 100})", "/caps/per_dya", "/caps/per_day"},
      {"http", R"({"token": {"secret_fil": "http.token"}})", "/http/token/secret_fil",
       "/http/token/secret_file"},
  };
  for (const Case& c : cases) {
    TJson config = GoodConfig();
    config[c.section] = TJson::parse(c.value);
    Error e = Refused(config);
    EXPECT_EQ(e.where, std::string("store.json#") + c.where) << c.value;
    EXPECT_NE(e.message.find(std::string("did you mean ") + c.near + "?"), std::string::npos)
        << e.message;
  }
  // The goodwill section, whose audit key is a secret: its typo is named, never the key.
  TJson config = GoodConfig();
  config["goodwill"] = {{"per_customer_per_day", {{"default", 200}}},
                        {"audit_key", TJson::parse(key)},
                        {"per_cashier_per_dy", 5000}};
  Error e = Refused(config);
  EXPECT_EQ(e.where, "store.json#/goodwill/per_cashier_per_dy");
  EXPECT_EQ(e.message.find("0011"), std::string::npos);
}

TEST(ConfigCheck, NearKeysCountATranspositionAsOneEditAndShortKeysNeedACloseMatch) {
  EXPECT_EQ(EditDistance("http", "htpp"), 1u);
  EXPECT_EQ(EditDistance("goodwill", "godowill"), 1u) << "one transposition";
  EXPECT_EQ(EditDistance("identifiers", "identifers"), 1u);
  EXPECT_EQ(EditDistance("categories", "categroies"), 1u);
  EXPECT_EQ(EditDistance("", "sku"), 3u);
  std::vector<std::string> known = {"at", "lines", "identifiers", "http"};
  EXPECT_EQ(NearKnownKey("identifers", known), "identifiers");
  EXPECT_EQ(NearKnownKey("htpp", known), "http");
  EXPECT_EQ(NearKnownKey("lines", known), std::nullopt) << "a known key is no near miss";
  EXPECT_EQ(NearKnownKey("id", known), std::nullopt) << "two edits from 'at', but short";
  EXPECT_EQ(NearKnownKey("colour", known), std::nullopt);
}

}  // namespace
}  // namespace regulars
