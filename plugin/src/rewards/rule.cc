#include "rewards/rule.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {
namespace {
bool Listed(const std::vector<std::string>& list, const std::string& value) {
  return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}

bool AnyCategoryUnder(const std::vector<std::string>& categories,
                      const std::vector<std::string>& prefixes) {
  for (const auto& category : categories) {
    for (const auto& prefix : prefixes) {
      if (CategoryHasPrefix(category, prefix)) return true;
    }
  }
  return false;
}
}  // namespace

bool CategoryHasPrefix(const std::string& category, const std::string& prefix) {
  if (!category.starts_with(prefix)) return false;
  return category.size() == prefix.size() || category[prefix.size()] == '/' ||
         prefix.ends_with('/');
}

bool Match::Excludes(const BasketLine& line) const {
  return Listed(exclude_skus, line.sku) || Listed(exclude_brands, line.brand) ||
         AnyCategoryUnder(line.categories, exclude_categories);
}

bool Match::Matches(const BasketLine& line) const {
  bool included = MatchesEverything() || Listed(skus, line.sku) || Listed(brands, line.brand) ||
                  AnyCategoryUnder(line.categories, categories);
  return included && !Excludes(line);
}

std::optional<int64_t> UnitReward::DiscountOn(int64_t unit_price) const {
  if (percent) return PercentOf(unit_price, *percent);
  if (amount) return std::min(*amount, unit_price);
  return 0;
}

const char* KindName(RuleKind kind) {
  switch (kind) {
    case RuleKind::kNthUnit:
      return "nth_unit";
    case RuleKind::kTier:
      return "tier";
    case RuleKind::kMilestone:
      return "milestone";
  }
  return "unknown";
}

}  // namespace regulars
