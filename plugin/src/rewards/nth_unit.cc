#include "rewards/nth_unit.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {

std::vector<size_t> MatchedLines(const Match& match, std::span<const BasketLine> lines) {
  std::vector<size_t> matched;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].unit == QuantityUnit::kEach && match.Matches(lines[i])) matched.push_back(i);
  }
  return matched;
}

Result<NthUnitOutcome> ApplyNthUnit(int64_t every, const UnitReward& reward,
                                    int64_t progress_before, std::span<const BasketLine> lines,
                                    const std::vector<size_t>& matched,
                                    std::span<const int64_t> already_rewarded,
                                    const NthUnitLimits& limits) {
  NthUnitOutcome out;
  auto available = [&](size_t index) {
    int64_t taken = index < already_rewarded.size() ? already_rewarded[index] : 0;
    return std::max<int64_t>(0, lines[index].qty - taken);
  };
  int64_t free_units = 0;
  int64_t matched_units = 0;
  for (size_t index : matched) {
    auto units = AddMinor(matched_units, lines[index].qty);
    if (!units) return Error::BadInput("invalid_basket", "too many units in the basket");
    matched_units = *units;
    free_units += available(index);
  }
  out.units = limits.counting ? matched_units : 0;
  if (every <= 0 || progress_before < 0) return Error::Internal("nth_unit terms out of range");
  auto reached = AddMinor(progress_before, out.units);
  if (!reached) return Error::BadInput("counter_overflow", "the customer's count would overflow");
  int64_t wanted = std::min(*reached / every, free_units);
  if (limits.max_per_basket) wanted = std::min(wanted, *limits.max_per_basket);

  std::vector<size_t> order = matched;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (lines[a].unit_price != lines[b].unit_price)
      return lines[a].unit_price < lines[b].unit_price;
    return lines[a].line < lines[b].line;
  });
  int64_t left = wanted;
  std::optional<int64_t> budget = limits.budget;
  for (size_t index : order) {
    if (left == 0) break;
    int64_t units = std::min(left, available(index));
    if (units == 0) continue;
    auto per_unit = reward.DiscountOn(lines[index].unit_price);
    if (!per_unit) return Error::BadInput("invalid_basket", "discount overflows a 64-bit amount");
    // A reward that would be worth nothing (a unit priced 0) is not spent on it.
    if (*per_unit == 0) continue;
    bool budget_short = false;
    if (budget && *per_unit > 0 && units > *budget / *per_unit) {
      units = *budget / *per_unit;  // cheapest first: no dearer unit fits either
      budget_short = true;
    }
    if (units > 0) {
      auto amount = MulMinor(*per_unit, units);
      if (!amount) return Error::BadInput("invalid_basket", "discount overflows a 64-bit amount");
      if (budget) *budget -= *amount;
      out.line_rewards.push_back({index, units, *amount});
      left -= units;
      out.rewards += units;
    }
    if (budget_short) break;
  }
  out.progress_after = *reached - out.rewards * every;
  std::sort(out.line_rewards.begin(), out.line_rewards.end(),
            [](const LineReward& a, const LineReward& b) { return a.line_index < b.line_index; });
  return out;
}

}  // namespace regulars
