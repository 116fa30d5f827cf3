// Reward rules as data (Contract v1's rule form). Parsing lives in config/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/basket.h"

namespace regulars {

// A short text in the languages receipts and the cashier panel show.
struct LocalText {
  std::string fr;
  std::string en;
};

// Which lines a rule is about. Alternatives: a line matches if its sku, its brand, or one
// of its categories (by path prefix: "baby" matches "baby/diapers") is listed.
struct Match {
  std::vector<std::string> skus;
  std::vector<std::string> brands;
  std::vector<std::string> categories;

  bool Matches(const BasketLine& line) const;
};

// What a rewarded unit gets: a percentage of its price, or a fixed amount off it (never
// more than the price). "free" in a rule file is 100 percent.
struct UnitReward {
  std::optional<int64_t> percent;  // 1..100
  std::optional<int64_t> amount;   // minor units, > 0

  // The discount on one unit priced `unit_price`; nullopt on overflow.
  std::optional<int64_t> DiscountOn(int64_t unit_price) const;
};

// `nth_unit`: every `every`-th unit of the matched set, counted across visits and
// stores, gets `reward`.
struct Rule {
  std::string id;
  std::string kind;  // "nth_unit"
  int64_t every = 0;
  Match match;
  UnitReward reward;
  LocalText text;       // the rule's own sentence for a discount
  LocalText unit_name;  // singular noun for progress lines ("paquet"/"pack")
};

// The rules a till prices with. `version` is recorded with every basket it priced.
struct RuleSet {
  std::string version;
  std::vector<Rule> rules;
};

}  // namespace regulars
