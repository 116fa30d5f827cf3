// Reward rules as data (Contract v1's rule form, docs/rules.md). Parsing lives in config/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/basket.h"

namespace regulars {

// A short text in the languages receipts and the cashier panel show.
struct LocalText {
  std::string fr;
  std::string en;

  bool empty() const { return fr.empty() && en.empty(); }
};

// Which lines a rule is about. Alternatives: a line matches if its sku, its brand, or one
// of its categories (by path prefix: "baby" matches "baby/diapers") is listed, and none
// of the exclusions names it. A match with no alternative at all matches every line
// (a tier's benefit on the whole basket); exclusions still apply.
struct Match {
  std::vector<std::string> skus;
  std::vector<std::string> brands;
  std::vector<std::string> categories;
  std::vector<std::string> exclude_skus{};
  std::vector<std::string> exclude_brands{};
  std::vector<std::string> exclude_categories{};

  bool Matches(const BasketLine& line) const;
  bool MatchesEverything() const { return skus.empty() && brands.empty() && categories.empty(); }
  bool Excludes(const BasketLine& line) const;
};

// "baby" is a prefix of "baby" and "baby/diapers", never of "babyfood".
bool CategoryHasPrefix(const std::string& category, const std::string& prefix);

// What a rewarded unit gets: a percentage of its price, or a fixed amount off it (never
// more than the price). "free" in a rule file is 100 percent.
struct UnitReward {
  std::optional<int64_t> percent;  // 1..100
  std::optional<int64_t> amount;   // minor units, > 0

  // The discount on one unit priced `unit_price`; nullopt on overflow.
  std::optional<int64_t> DiscountOn(int64_t unit_price) const;
  bool IsFree() const { return percent && *percent == 100; }
};

enum class RuleKind { kNthUnit, kTier, kMilestone };
const char* KindName(RuleKind kind);

// A tier: held while the customer made `purchases` visits or spent `spend` (either
// reaches it) within the last `window_days`, and for `grace_days` after they last did.
// While held, `percent` comes off the lines `benefit` matches, and `services` are flags
// the POS can read (free delivery, priority lane). Only the highest-ranked held tier
// applies.
struct TierTerms {
  int64_t rank = 0;
  std::optional<int64_t> purchases;
  std::optional<int64_t> spend;  // minor units, what was paid (after discounts)
  int64_t window_days = 365;
  int64_t grace_days = 30;
  std::optional<int64_t> percent;
  std::vector<std::string> services;
  LocalText name;  // "Or" / "Gold"
};

// One rule. Which fields matter depends on the kind:
// - nth_unit: every `every`-th unit of `match`, counted across visits, gets `reward`;
//   at most `max_per_basket` rewards on one basket (the rest stay owed).
// - milestone: each time the spend on `match` crosses a multiple of `step` (minor units),
//   `amount` comes off the current basket; at most `max_per_basket` steps per basket.
// - tier: see TierTerms; `match` selects the lines the tier's percent applies to.
// A rule with `valid_from`/`valid_until` (a campaign) counts and rewards only between
// them; what a customer earned stays theirs after it ends.
struct Rule {
  std::string id;
  RuleKind kind = RuleKind::kNthUnit;
  Match match;
  std::string group;  // exclusivity: of the rules sharing a group, only the best applies
  std::optional<int64_t> valid_from_ms;
  std::optional<int64_t> valid_until_ms;  // exclusive
  int64_t every = 0;                      // nth_unit: units; milestone: the step
  UnitReward reward;                      // nth_unit
  int64_t amount = 0;                     // milestone: minor units off per step
  std::optional<int64_t> max_per_basket;  // nth_unit and milestone
  TierTerms tier;
  LocalText text;         // the rule's own sentence for its discount (empty: catalogue's)
  LocalText unit_name;    // singular noun for nth_unit progress lines ("paquet"/"pack")
  LocalText unit_plural;  // its plural when not just an added "s" ("paquets de café")

  bool ActiveAt(int64_t at_ms) const {
    return (!valid_from_ms || at_ms >= *valid_from_ms) &&
           (!valid_until_ms || at_ms < *valid_until_ms);
  }
  // Rules whose state is a per-customer counter: nth_unit and milestone.
  bool IsCounted() const { return kind != RuleKind::kTier; }
};

// Limits per customer on the discounts of the rules (goodwill has its own budget).
struct Caps {
  std::optional<int64_t> per_basket;  // minor units of discount on one basket
  std::optional<int64_t> per_day;     // minor units of discount per calendar day
};

// The rules a till prices with. `version` is recorded with every basket it priced.
struct RuleSet {
  std::string version;
  std::string digest;  // of the rules as written, whatever `version` the file gives
  std::vector<Rule> rules;
  Caps caps;
  // The rules and caps as written, compact: {"rules": [...], "caps": {...}} (caps when
  // given). What the ledger keeps, so that any process can price with this set again.
  std::string kept;
};

}  // namespace regulars
