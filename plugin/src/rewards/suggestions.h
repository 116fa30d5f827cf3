// "One to few": up to three things the cashier might mention to a recognized customer,
// each with its reason, from their own history and the rules. Deterministic; never an
// offer the customer has to act on (docs/rules.md, "Suggestions").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rewards/messages.h"
#include "rewards/rule.h"

namespace regulars {

struct Suggestion {
  std::string kind;     // reward_near, tier_near, usual_item
  std::string subject;  // the rule id, tier id or sku it is about
  int64_t left = 0;     // units, visits or minor units still to go (reward_near, tier_near)
  int64_t times = 0;    // usual_item: in how many of the last `of` visits
  int64_t of = 0;
  std::optional<LocalText> name;  // usual_item: the product's name, when the config's has one
  LocalText text;
};

// A counted rule after this basket: `have` of `need` toward its next reward.
struct NearReward {
  std::string rule;
  int64_t have = 0;
  int64_t need = 0;
  bool free = false;
  LocalText unit_name;
};

// A tier the customer does not hold, and how far they are after this basket.
struct NearTier {
  std::string tier;
  LocalText name;
  int64_t visits_left = 0;    // 0: not a visits tier or already reached
  int64_t spend_left = 0;     // minor units; 0 as above
  LocalText spend_left_text;  // "4.00 EUR" / "4.00 EUR more"
};

struct SuggestionInput {
  std::vector<NearReward> rewards;
  std::vector<NearTier> tiers;
  std::vector<std::vector<std::string>> recent_sales;  // skus of each, newest first
  std::vector<std::string> basket_skus;
  // The config's product names by sku (may be null): a usual item is named, not numbered.
  const std::map<std::string, LocalText>* product_names = nullptr;
};

inline constexpr size_t kMaxSuggestions = 3;

// Rewards one or two units away first, then tiers within two visits or a fifth of their
// spend, then items bought in at least 3 and half of the last 10 visits and missing
// today. Ties broken by id, so the same history always gives the same list.
std::vector<Suggestion> Suggest(const SuggestionInput& in, const MessageCatalogue& messages);

}  // namespace regulars
