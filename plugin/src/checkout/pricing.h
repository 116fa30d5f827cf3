// Pricing a basket under the rules that apply to it. Pure: no clock, no database.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "domain/basket.h"
#include "result.h"
#include "rewards/nth_unit.h"
#include "rewards/rule.h"

namespace regulars {

// One rule as it applies to one basket: its terms at the time of sale, and the
// customer's progress toward its next reward before this basket. A sale records these,
// so a later refund reprices the same basket the same way whatever the rules are then.
struct RuleTerms {
  std::string rule;
  int64_t every = 0;
  UnitReward reward;
  LocalText text;
  LocalText unit_name;
  int64_t progress_before = 0;
  std::vector<size_t> matched;  // indexes of the basket lines the rule matches
};

struct Discount {
  std::string rule;
  int64_t units = 0;
  int64_t amount = 0;  // positive, minor units
  LocalText text;
};

struct PricedLine {
  int64_t gross = 0;
  int64_t net = 0;
  std::vector<Discount> discounts;
};

struct Pricing {
  std::vector<PricedLine> lines;         // parallel to the basket's lines
  std::vector<NthUnitOutcome> outcomes;  // parallel to the terms
  int64_t total_gross = 0;
  int64_t total_discount = 0;
  int64_t total_net = 0;
};

// Applies `terms` in order. Stacking: a unit earns at most one reward (the first rule's),
// and a discount never takes a line below zero, so a line's discounts never exceed its
// price.
Result<Pricing> PriceBasket(std::span<const BasketLine> lines, std::span<const RuleTerms> terms);

}  // namespace regulars
