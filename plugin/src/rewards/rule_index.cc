#include "rewards/rule_index.h"

#include <algorithm>

namespace regulars {
namespace {
void AddTo(std::unordered_map<std::string, std::vector<uint32_t>>& index, std::string key,
           uint32_t rule) {
  auto& list = index[std::move(key)];
  if (list.empty() || list.back() != rule) list.push_back(rule);
}

void AppendHits(const std::unordered_map<std::string, std::vector<uint32_t>>& index,
                const std::string& key, std::vector<uint32_t>& out) {
  auto it = index.find(key);
  if (it != index.end()) out.insert(out.end(), it->second.begin(), it->second.end());
}
}  // namespace

RuleIndex::RuleIndex(const std::vector<Rule>& rules) {
  for (uint32_t i = 0; i < rules.size(); ++i) {
    by_id_.emplace(rules[i].id, i);
    if (rules[i].kind == RuleKind::kTier) tiers_.push_back(i);
    const Match& m = rules[i].match;
    if (m.MatchesEverything()) {
      everything_.push_back(i);
      continue;
    }
    for (const auto& sku : m.skus) AddTo(by_sku_, sku, i);
    for (const auto& brand : m.brands) AddTo(by_brand_, brand, i);
    for (std::string prefix : m.categories) {
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      AddTo(by_category_, prefix, i);
    }
  }
}

void RuleIndex::Candidates(const BasketLine& line, std::vector<uint32_t>& out) const {
  size_t start = out.size();
  out.insert(out.end(), everything_.begin(), everything_.end());
  AppendHits(by_sku_, line.sku, out);
  if (!line.brand.empty()) AppendHits(by_brand_, line.brand, out);
  // "baby/diapers/night" looks up "baby", "baby/diapers" and "baby/diapers/night".
  for (const auto& category : line.categories) {
    for (size_t slash = category.find('/'); slash != std::string::npos;
         slash = category.find('/', slash + 1)) {
      // A leading '/' is a prefix of its own ("/" matches "/food").
      AppendHits(by_category_, category.substr(0, std::max<size_t>(slash, 1)), out);
    }
    AppendHits(by_category_, category, out);
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(start), out.end()), out.end());
}

std::optional<uint32_t> RuleIndex::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

}  // namespace regulars
