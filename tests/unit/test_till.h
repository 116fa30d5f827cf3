// Shared test fixtures: a till on a fresh ledger in its own folder, and basket builders.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkout/till.h"
#include "env/memory_env.h"

namespace regulars::testing {

using TJson = nlohmann::json;

// The diapers rule of Contract v1: every 5th pack of brand Dodo free.
extern const char* const kDiapersConfig;

inline constexpr const char* kDodo = "3400000000001";
inline constexpr int64_t kPackPrice = 1290;
// Enrolled by TestTill on demand; valid EAN-13 numbers in the in-store range.
inline constexpr const char* kAliceCard = "2900000000018";
inline constexpr const char* kBobCard = "2900000000025";

// A new empty folder under the system's temporary folder, removed with its content.
std::string MakeTempDir();
class TempDir {
 public:
  TempDir() : path_(MakeTempDir()) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A line of `qty` Dodo packs, or of another sku outside the rule.
TJson Packs(int64_t line, int64_t qty, int64_t price = kPackPrice);
TJson Other(int64_t line, const std::string& sku, int64_t qty, int64_t price);
// A basket for `card` (none when empty) at `at`.
TJson Basket(const std::string& txn, const std::string& card, std::vector<TJson> lines,
             const std::string& at = "2026-11-23T10:00:00+01:00");

// A till on a fresh ledger, on its own in-memory Env: its clock stands at
// 2026-11-23T09:00:00Z until a test moves it, and its customer ids are its own (another
// TestTill's seed differs). Calls that should succeed return parsed JSON and record a test
// failure otherwise.
class TestTill {
 public:
  explicit TestTill(const std::string& config = kDiapersConfig);
  ~TestTill();  // closes the ledger and removes its folder
  Till& till() { return *till_; }
  MemoryEnv& env() { return env_; }
  const std::string& db_path() const { return db_path_; }
  const std::string& dir() const { return dir_; }

  std::string Enroll(const std::string& card);
  TJson Evaluate(const TJson& basket);
  TJson Commit(const TJson& basket);
  TJson Void(const std::string& txn);
  TJson Refund(const std::string& txn, const std::string& of, std::vector<TJson> lines);
  // The progress the till shows for rule diapers-5th (0 when none).
  int64_t Progress(const std::string& customer_id);
  int64_t CountRows(const std::string& table);

  // Reopens the till on the same file, as after a restart.
  void Reopen();

 private:
  std::string dir_;
  std::string config_text_;
  std::string db_path_;
  MemoryEnv env_;
  std::unique_ptr<Till> till_;
};

}  // namespace regulars::testing
