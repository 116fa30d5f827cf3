// Finding the rules a basket line may match without scanning every rule: rules are
// indexed by the skus, brands and category prefixes they list. With thousands of rules,
// a 200-line basket costs a few hash look-ups per line (bench/rules_bench.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

  // The index of the rule with this id, if any. Built once, so a basket that needs to go
  // from ids (counters, terms) back to rules never builds a map of every rule.
  std::optional<uint32_t> Find(std::string_view id) const;
  // The tier rules' indexes, ascending.
  const std::vector<uint32_t>& tiers() const { return tiers_; }

 private:
  std::unordered_map<std::string, std::vector<uint32_t>> by_sku_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_brand_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_category_;  // prefix, no '/' end
  std::vector<uint32_t> everything_;  // rules matching every line (tiers on the whole basket)
  // Ids are unique (the config refuses duplicates); the keys are copies, so an index never
  // depends on where its rules live.
  struct IdHash {
    using is_transparent = void;  // looks up a string_view without copying it
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_map<std::string, uint32_t, IdHash, std::equal_to<>> by_id_;
  std::vector<uint32_t> tiers_;
};

}  // namespace regulars
