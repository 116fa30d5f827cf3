// Finding the rules a basket line may match without scanning every rule: rules are
// indexed by the skus, brands and category prefixes they list. With thousands of rules,
// a 200-line basket costs a few hash look-ups per line (bench/rules_bench.cc).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/basket.h"
#include "rewards/rule.h"

namespace regulars {

class RuleIndex {
 public:
  RuleIndex() = default;
  explicit RuleIndex(const std::vector<Rule>& rules);

  // Appends to `out` the index of every rule whose match may include `line` (a superset:
  // exclusions are for Match::Matches to apply), each once, ascending.
  void Candidates(const BasketLine& line, std::vector<uint32_t>& out) const;

 private:
  std::unordered_map<std::string, std::vector<uint32_t>> by_sku_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_brand_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_category_;  // prefix, no '/' end
  std::vector<uint32_t> everything_;  // rules matching every line (tiers on the whole basket)
};

}  // namespace regulars
