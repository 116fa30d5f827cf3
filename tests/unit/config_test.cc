#include "config.h"

#include <gtest/gtest.h>

#include <fstream>

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
  auto config = ParseConfig(c.dump(), "store.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->rules.rules[0].text.en, "5th pack: 30% off");
  EXPECT_EQ(config->rules.rules[0].text.fr, "5e paquet : -30 %");
}

}  // namespace
}  // namespace regulars
