#include "test_till.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "config/config.h"

namespace regulars::testing {

const char* const kDiapersConfig = R"({
  "store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [{"id": "diapers-5th", "kind": "nth_unit", "every": 5,
             "match": {"brands": ["Dodo"], "categories": ["baby/diapers"], "skus": []},
             "reward": {"percent": 100},
             "unit_name": {"fr": "paquet", "en": "pack"},
             "text": {"fr": "5e paquet offert", "en": "5th pack free"}}]
})";

std::string MakeTempDir() {
  std::string path = (std::filesystem::temp_directory_path() / "regulars-test-XXXXXX").string();
  if (mkdtemp(path.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return path;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

TJson Packs(int64_t line, int64_t qty, int64_t price) {
  return {{"line", line},        {"sku", kDodo},    {"qty", qty},
          {"unit_price", price}, {"brand", "Dodo"}, {"categories", {"baby/diapers"}}};
}

TJson Other(int64_t line, const std::string& sku, int64_t qty, int64_t price) {
  return {{"line", line},
          {"sku", sku},
          {"qty", qty},
          {"unit_price", price},
          {"categories", {"grocery/dairy"}}};
}

TJson Basket(const std::string& txn, const std::string& card, std::vector<TJson> lines,
             const std::string& at) {
  TJson basket{{"pos_txn_id", txn},
               {"store_id", "S001"},
               {"till_id", "T01"},
               {"cashier_id", "C07"},
               {"at", at},
               {"currency", "EUR"},
               {"identifiers", TJson::array()},
               {"lines", lines}};
  if (!card.empty()) basket["identifiers"].push_back({{"kind", "card"}, {"value", card}});
  return basket;
}

namespace {
uint64_t NextSeed() {
  static std::atomic<uint64_t> seed{1};
  return seed++;
}
}  // namespace

TestTill::TestTill(const std::string& config)
    : dir_(MakeTempDir()),
      config_text_(config),
      db_path_(dir_ + "/ledger.sqlite"),
      env_(MemoryEnv::kDefaultNowMs, NextSeed()) {
  Reopen();
}

TestTill::~TestTill() {
  till_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void TestTill::Reopen() {
  till_.reset();
  auto parsed = ParseConfig(config_text_, "test-config.json");
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.error().message << " at " << parsed.error().where;
    return;
  }
  // A clock that stands still, so nothing depends on when the test runs.
  auto till = Till::Open(std::move(parsed).value(), db_path_, &env_);
  if (!till.ok()) {
    ADD_FAILURE() << till.error().message;
    return;
  }
  till_ = std::move(till).value();
}

namespace {
TJson Expect(const Result<std::string>& result, const char* what) {
  if (!result.ok()) {
    ADD_FAILURE() << what << " failed: " << result.error().code << ": " << result.error().message
                  << " at " << result.error().where;
    return TJson();
  }
  return TJson::parse(*result);
}
}  // namespace

std::string TestTill::Enroll(const std::string& card) {
  auto enrolled = till_->EnrollCard(card);
  if (!enrolled.ok()) {
    ADD_FAILURE() << "enrol failed: " << enrolled.error().message;
    return {};
  }
  return enrolled->id;
}

TJson TestTill::Evaluate(const TJson& basket) {
  return Expect(till_->Evaluate(basket.dump()), "evaluate");
}

TJson TestTill::Commit(const TJson& basket) {
  return Expect(till_->Commit(basket.dump()), "commit");
}

TJson TestTill::Void(const std::string& txn) {
  return Expect(till_->Void(TJson{{"pos_txn_id", txn}}.dump()), "void");
}

TJson TestTill::Refund(const std::string& txn, const std::string& of, std::vector<TJson> lines) {
  TJson refund{{"pos_txn_id", txn}, {"refund_of", of}, {"lines", lines}};
  return Expect(till_->Refund(refund.dump()), "refund");
}

int64_t TestTill::Progress(const std::string& customer_id) {
  auto counters = till_->ledger().counters().Of(customer_id);
  if (!counters.ok()) {
    ADD_FAILURE() << counters.error().message;
    return -1;
  }
  auto it = counters->find("diapers-5th");
  return it == counters->end() ? 0 : it->second.progress;
}

int64_t TestTill::CountRows(const std::string& table) {
  auto n = till_->ledger().db().QueryInt("SELECT count(*) FROM " + table);
  return n.ok() ? *n : -1;
}

}  // namespace regulars::testing
