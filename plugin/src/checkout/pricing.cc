#include "checkout/pricing.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {

Result<Pricing> PriceBasket(std::span<const BasketLine> lines, std::span<const RuleTerms> terms) {
  Pricing pricing;
  for (const auto& line : lines) {
    auto gross = GrossOf(line);
    auto total = gross ? AddMinor(pricing.total_gross, *gross) : std::nullopt;
    if (!total) return Error::BadInput("invalid_basket", "basket total overflows a 64-bit amount");
    pricing.total_gross = *total;
    pricing.lines.push_back({*gross, *gross, {}});
  }
  std::vector<int64_t> rewarded(lines.size(), 0);
  for (const auto& term : terms) {
    auto outcome =
        ApplyNthUnit(term.every, term.reward, term.progress_before, lines, term.matched, rewarded);
    if (!outcome.ok()) return outcome.error();
    for (const auto& reward : outcome->line_rewards) {
      rewarded[reward.line_index] += reward.units;
      PricedLine& priced = pricing.lines[reward.line_index];
      int64_t amount = std::min(reward.amount, priced.net);
      if (amount <= 0) continue;
      priced.net -= amount;
      priced.discounts.push_back({term.rule, reward.units, amount, term.text});
      pricing.total_discount += amount;  // bounded by total_gross, so no overflow
    }
    pricing.outcomes.push_back(std::move(outcome).value());
  }
  pricing.total_net = pricing.total_gross - pricing.total_discount;
  return pricing;
}

}  // namespace regulars
