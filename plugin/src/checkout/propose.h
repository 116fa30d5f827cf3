// What a basket costs its customer: DESIGN.md's "evaluate is pure": basket + customer
// state + rules + now (the basket's time). No database, no clock: the till reads the
// customer's state first (checkout/customer_state.h) and records the proposal after.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "checkout/customer_state.h"
#include "checkout/pricing.h"
#include "checkout/rule_book.h"
#include "domain/basket.h"
#include "recognition/recognize.h"
#include "result.h"
#include "rewards/suggestions.h"
#include "rewards/tier.h"

namespace regulars {

// The tier a customer holds, as the receipt and the cashier show it.
struct HeldTier {
  const Rule* rule = nullptr;
  TierStanding standing;
};

// How far a customer is from a tier they do not hold (after this basket).
struct TierProgress {
  const Rule* rule = nullptr;
  int64_t have = 0;
  int64_t need = 0;
  bool by_spend = false;
};

// A basket priced for its customer: what evaluate proposes and commit records.
struct Proposal {
  std::shared_ptr<const RuleBook> book;  // the rules it was priced with
  Recognition who;
  BasketTerms terms;
  Pricing pricing;
  LocalDay day;
  std::optional<HeldTier> tier;
  std::vector<TierProgress> tier_progress;
  std::vector<Suggestion> suggestions;
  std::optional<int64_t> goodwill_left;  // the gesture budget left before this basket
};

// Prices `basket` under `book` for `who`. `state` is the recognized customer's state
// (loaded with QueryFor(basket, *book)); null for an unrecognized basket, which gets no
// reward. Refuses a goodwill gesture the customer's or the cashier's budget cannot cover.
Result<Proposal> ProposeFor(const Basket& basket, Recognition who, const CustomerState* state,
                            std::shared_ptr<const RuleBook> book);

}  // namespace regulars
