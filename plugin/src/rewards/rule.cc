#include "rewards/rule.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {
namespace {
// "baby" matches "baby" and "baby/diapers", never "babyfood".
bool CategoryHasPrefix(const std::string& category, const std::string& prefix) {
  if (!category.starts_with(prefix)) return false;
  return category.size() == prefix.size() || category[prefix.size()] == '/' ||
         prefix.ends_with('/');
}
}  // namespace

bool Match::Matches(const BasketLine& line) const {
  if (std::find(skus.begin(), skus.end(), line.sku) != skus.end()) return true;
  if (!line.brand.empty() && std::find(brands.begin(), brands.end(), line.brand) != brands.end()) {
    return true;
  }
  for (const auto& category : line.categories) {
    for (const auto& prefix : categories) {
      if (CategoryHasPrefix(category, prefix)) return true;
    }
  }
  return false;
}

std::optional<int64_t> UnitReward::DiscountOn(int64_t unit_price) const {
  if (percent) return PercentOf(unit_price, *percent);
  if (amount) return std::min(*amount, unit_price);
  return 0;
}

}  // namespace regulars
