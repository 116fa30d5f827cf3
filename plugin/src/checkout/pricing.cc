#include "checkout/pricing.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {
namespace {

// Takes up to `amount` off the lines, in the order given, never below a line's zero;
// returns what was taken.
int64_t SpreadOver(Pricing& pricing, const std::vector<size_t>& order, int64_t amount,
                   const std::string& rule, const LocalText& text) {
  int64_t taken = 0;
  for (size_t index : order) {
    if (taken == amount) break;
    PricedLine& line = pricing.lines[index];
    int64_t part = std::min(amount - taken, line.net);
    if (part <= 0) continue;
    line.net -= part;
    line.discounts.push_back({rule, 0, part, text});
    taken += part;
  }
  return taken;
}

// The matched lines first, in line order, then the rest of the basket.
std::vector<size_t> MatchedThenRest(const std::vector<size_t>& matched, size_t line_count) {
  std::vector<size_t> order = matched;
  std::vector<bool> seen(line_count, false);
  for (size_t i : matched) seen[i] = true;
  for (size_t i = 0; i < line_count; ++i) {
    if (!seen[i]) order.push_back(i);
  }
  return order;
}

}  // namespace

RuleTerms TermsOf(const Rule& rule) {
  RuleTerms t;
  t.rule = rule.id;
  t.kind = rule.kind;
  t.every = rule.every;
  t.reward = rule.reward;
  t.amount = rule.amount;
  if (rule.kind == RuleKind::kTier) t.percent = rule.tier.percent;
  t.max_per_basket = rule.max_per_basket;
  t.group = rule.group;
  t.text = rule.text;
  t.unit_name = rule.unit_name;
  t.unit_plural = rule.unit_plural;
  return t;
}

Result<Pricing> PriceBasket(std::span<const BasketLine> lines, const BasketTerms& terms) {
  Pricing pricing;
  for (const auto& line : lines) {
    auto gross = GrossOf(line);
    auto total = gross ? AddMinor(pricing.total_gross, *gross) : std::nullopt;
    if (!total) return Error::BadInput("invalid_basket", "basket total overflows a 64-bit amount");
    pricing.total_gross = *total;
    pricing.lines.push_back({*gross, *gross, {}});
  }
  auto net_of = [&](const std::vector<size_t>& indexes) {
    int64_t sum = 0;  // bounded by total_gross
    for (size_t i : indexes) sum += pricing.lines[i].net;
    return sum;
  };
  std::optional<int64_t> budget = terms.cap;
  auto spend_budget = [&](int64_t amount) {
    if (budget) *budget -= amount;
  };
  std::vector<int64_t> rewarded(lines.size(), 0);

  for (const auto& term : terms.rules) {
    RuleOutcome outcome;
    switch (term.kind) {
      case RuleKind::kNthUnit: {
        NthUnitLimits limits{term.counting && !term.lost_group, term.max_per_basket, budget};
        if (!term.applies) limits.max_per_basket = 0;
        REGULARS_ASSIGN_OR_RETURN(auto nth,
                                  ApplyNthUnit(term.every, term.reward, term.progress_before, lines,
                                               term.matched, rewarded, limits));
        outcome.units = nth.units;
        outcome.rewards = nth.rewards;
        outcome.progress_after = nth.progress_after;
        for (const auto& reward : nth.line_rewards) {
          rewarded[reward.line_index] += reward.units;
          PricedLine& priced = pricing.lines[reward.line_index];
          int64_t amount = std::min(reward.amount, priced.net);
          if (amount <= 0) continue;
          priced.net -= amount;
          priced.discounts.push_back({term.rule, reward.units, amount, term.text});
          outcome.discount += amount;
        }
        break;
      }
      case RuleKind::kTier: {
        if (!term.applies || !term.percent) break;
        for (size_t index : term.matched) {
          PricedLine& priced = pricing.lines[index];
          auto amount = PercentOf(priced.net, *term.percent);
          if (!amount) return Error::BadInput("invalid_basket", "discount overflows");
          int64_t take = budget ? std::min(*amount, *budget - outcome.discount) : *amount;
          if (take <= 0) continue;
          priced.net -= take;
          priced.discounts.push_back({term.rule, 0, take, term.text});
          outcome.discount += take;
        }
        break;
      }
      case RuleKind::kMilestone: {
        // Spend is what the customer pays for the matched lines after the rewards before
        // it: a discount is never counted as spend.
        outcome.units = term.counting && !term.lost_group ? net_of(term.matched) : 0;
        auto reached = AddMinor(term.progress_before, outcome.units);
        if (!reached || term.every <= 0 || term.amount <= 0) {
          return Error::BadInput("counter_overflow", "the customer's spend would overflow");
        }
        int64_t steps = *reached / term.every;
        if (term.max_per_basket) steps = std::min(steps, *term.max_per_basket);
        if (!term.applies) steps = 0;
        // Only whole steps are given; one the basket (or the cap) cannot hold stays owed.
        std::vector<size_t> all(lines.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        int64_t room = net_of(all);
        if (budget) room = std::min(room, *budget);
        steps = std::min(steps, room / term.amount);
        outcome.rewards = steps;
        outcome.progress_after = *reached - steps * term.every;
        if (steps > 0) {
          outcome.discount = SpreadOver(pricing, MatchedThenRest(term.matched, lines.size()),
                                        steps * term.amount, term.rule, term.text);
        }
        break;
      }
    }
    spend_budget(outcome.discount);
    pricing.rule_discount += outcome.discount;
    pricing.outcomes.push_back(outcome);
  }

  if (terms.goodwill && terms.goodwill->amount > 0) {
    std::vector<size_t> order(lines.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    pricing.goodwill =
        SpreadOver(pricing, order, terms.goodwill->amount, "goodwill", terms.goodwill->text);
  }
  pricing.total_discount = pricing.rule_discount + pricing.goodwill;
  pricing.total_net = pricing.total_gross - pricing.total_discount;
  return pricing;
}

void CountOnly(BasketTerms& terms) {
  for (auto& t : terms.rules) t.applies = false;
  terms.goodwill.reset();
}

Status ChooseInGroups(std::span<const BasketLine> lines, BasketTerms& terms) {
  std::vector<std::string> groups;
  for (const auto& t : terms.rules) {
    if (!t.group.empty() && std::find(groups.begin(), groups.end(), t.group) == groups.end()) {
      groups.push_back(t.group);
    }
  }
  for (const auto& group : groups) {
    std::vector<size_t> members;
    for (size_t i = 0; i < terms.rules.size(); ++i) {
      if (terms.rules[i].group == group) members.push_back(i);
    }
    if (members.size() < 2) continue;
    for (size_t m : members) {
      terms.rules[m].applies = false;
      terms.rules[m].lost_group = false;
    }
    REGULARS_ASSIGN_OR_RETURN(auto without, PriceBasket(lines, terms));
    size_t best = members.front();
    int64_t best_discount = -1;
    for (size_t m : members) {
      for (size_t other : members) terms.rules[other].applies = other == m;
      REGULARS_ASSIGN_OR_RETURN(auto priced, PriceBasket(lines, terms));
      if (priced.rule_discount > best_discount) {
        best_discount = priced.rule_discount;
        best = m;
      }
    }
    const bool contested = best_discount > without.rule_discount;
    for (size_t other : members) {
      terms.rules[other].applies = other == best;
      terms.rules[other].lost_group = contested && other != best;
    }
  }
  return Status::Ok();
}

}  // namespace regulars
