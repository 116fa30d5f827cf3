// Pricing a basket under the rules that apply to it (docs/rules.md, "Stacking"). Pure:
// no clock, no database.
#pragma once

#include <cstdint>
#include <optional>
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
  RuleKind kind = RuleKind::kNthUnit;
  int64_t every = 0;                      // nth_unit: units per reward; milestone: the spend step
  UnitReward reward;                      // nth_unit
  int64_t amount = 0;                     // milestone: off per step
  std::optional<int64_t> percent;         // tier
  std::optional<int64_t> max_per_basket;  // nth_unit and milestone
  bool counting = true;     // false outside a campaign's dates: owed rewards still apply
  bool applies = true;      // false when another rule of its exclusivity group was better
  bool lost_group = false;  // that rule gave something: this one counts nothing here
  std::string group;        // the rule's exclusivity group, if any
  int64_t progress_before = 0;
  std::vector<size_t> matched;  // indexes of the basket lines the rule matches
  LocalText text;               // the discount's sentence
  LocalText unit_name;          // nth_unit
  LocalText unit_plural;        // nth_unit; empty: unit_name + "s"
};

// The terms a rule gives a basket, before anything about this basket or customer
// (matched lines, progress, campaign dates, group choice) is filled in.
RuleTerms TermsOf(const Rule& rule);

// A cashier's discretionary discount, within the customer's budget (docs/goodwill.md).
struct GoodwillTerms {
  int64_t amount = 0;
  std::string cashier_id;
  std::string reason;
  LocalText text;
};

// Everything that prices one basket, in stacking order: nth_unit rules, then the tier,
// then milestones, then goodwill. `cap` is what the customer's caps leave for rule
// discounts on this basket (none: no cap).
struct BasketTerms {
  std::vector<RuleTerms> rules;
  std::optional<int64_t> cap;
  std::optional<GoodwillTerms> goodwill;
};

struct Discount {
  std::string rule;  // "goodwill" for a gesture
  int64_t units = 0;
  int64_t amount = 0;  // positive, minor units
  LocalText text;
};

struct PricedLine {
  int64_t gross = 0;
  int64_t net = 0;
  std::vector<Discount> discounts;
};

// What one rule did to the basket: for counted rules, `units` is what it counted (units
// for nth_unit, minor units spent for milestone) and `rewards` what it granted.
struct RuleOutcome {
  int64_t units = 0;
  int64_t rewards = 0;
  int64_t progress_after = 0;
  int64_t discount = 0;
};

struct Pricing {
  std::vector<PricedLine> lines;      // parallel to the basket's lines
  std::vector<RuleOutcome> outcomes;  // parallel to the terms' rules
  int64_t total_gross = 0;
  int64_t total_discount = 0;  // rules and goodwill
  int64_t rule_discount = 0;   // rules only (what caps count)
  int64_t goodwill = 0;
  int64_t total_net = 0;
};

// Applies `terms` in order. A unit earns at most one nth_unit reward; a line's discounts
// never exceed its price; the cap is never exceeded (a reward that does not fit stays
// owed). So totals are never negative.
Result<Pricing> PriceBasket(std::span<const BasketLine> lines, const BasketTerms& terms);

// Makes every rule count but give nothing: an imported sale was paid before Regulars saw
// it (docs/poslog.md). What it earned stays owed, like a reward a cap held back, and the
// customer gets it at their next visit.
void CountOnly(BasketTerms& terms);

// Of each exclusivity group (in order of first appearance), keeps the rule that gives the
// customer the most on these lines, pricing the basket with each member alone (the first
// in stacking order on a tie): sets `applies`. When the winner gives something, the others
// lose the basket (`lost_group`): they count nothing from it, so nothing is owed later.
// When no member gives anything, there is no loser and every member counts.
Status ChooseInGroups(std::span<const BasketLine> lines, BasketTerms& terms);

}  // namespace regulars
