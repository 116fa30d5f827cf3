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
                                    const std::vector<size_t>& matched) {
  NthUnitOutcome out;
  for (size_t index : matched) {
    auto units = AddMinor(out.units, lines[index].qty);
    if (!units) return Error::BadInput("invalid_basket", "too many units in the basket");
    out.units = *units;
  }
  auto reached = AddMinor(progress_before, out.units);
  if (!reached || every <= 0 || progress_before < 0) {
    return Error::Internal("nth_unit counter out of range");
  }
  out.rewards = std::min(*reached / every, out.units);
  out.progress_after = *reached - out.rewards * every;

  std::vector<size_t> order = matched;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (lines[a].unit_price != lines[b].unit_price)
      return lines[a].unit_price < lines[b].unit_price;
    return lines[a].line < lines[b].line;
  });
  int64_t left = out.rewards;
  for (size_t index : order) {
    if (left == 0) break;
    int64_t units = std::min(left, lines[index].qty);
    if (units == 0) continue;
    auto per_unit = reward.DiscountOn(lines[index].unit_price);
    auto amount = per_unit ? MulMinor(*per_unit, units) : std::nullopt;
    if (!amount) return Error::BadInput("invalid_basket", "discount overflows a 64-bit amount");
    out.line_rewards.push_back({index, units, *amount});
    left -= units;
  }
  std::sort(out.line_rewards.begin(), out.line_rewards.end(),
            [](const LineReward& a, const LineReward& b) { return a.line_index < b.line_index; });
  return out;
}

}  // namespace regulars
