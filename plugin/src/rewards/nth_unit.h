// The nth_unit reward: every Nth unit of a matched set, counted across visits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "domain/basket.h"
#include "result.h"
#include "rewards/rule.h"

namespace regulars {

// Units of one basket line that a rule rewards, and the discount on them.
struct LineReward {
  size_t line_index = 0;  // index into the basket's lines
  int64_t units = 0;
  int64_t amount = 0;
};

// What one nth_unit rule does to one basket.
struct NthUnitOutcome {
  int64_t units = 0;    // matched units the basket counts
  int64_t rewards = 0;  // units rewarded in the basket
  int64_t progress_after = 0;
  std::vector<LineReward> line_rewards;
};

// What limits the rewards of one basket.
struct NthUnitLimits {
  bool counting = true;                   // false: the basket's units count for nothing
  std::optional<int64_t> max_per_basket;  // rewards
  std::optional<int64_t> budget;          // minor units of discount left under the caps
};

// The indexes of the lines `match` selects. Weighed lines never count toward nth_unit.
std::vector<size_t> MatchedLines(const Match& match, std::span<const BasketLine> lines);

// Applies every-`every`-units-get-`reward` to the `matched` lines of a basket for a
// customer whose progress toward the next reward is `progress_before` units. The basket
// earns rewards = (progress_before + units) / every, within the limits and never more
// than its matched units. Which units: the cheapest matched units first, then the lowest
// line number, so the outcome is deterministic and the store's cost bounded. A unit earns
// at most one reward: `already_rewarded[i]` units of line i (rewarded by an earlier rule)
// are skipped. A reward that cannot be given (no unit left to land on, a limit) stays
// owed: progress stays at or above `every`, and the next basket gets it. Pure.
Result<NthUnitOutcome> ApplyNthUnit(int64_t every, const UnitReward& reward,
                                    int64_t progress_before, std::span<const BasketLine> lines,
                                    const std::vector<size_t>& matched,
                                    std::span<const int64_t> already_rewarded = {},
                                    const NthUnitLimits& limits = {});

}  // namespace regulars
