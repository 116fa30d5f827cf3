// Whether a customer holds a tier at a moment, from their visits (docs/rules.md, "tier").
#pragma once

#include <cstdint>
#include <span>

#include "rewards/rule.h"

namespace regulars {

// What one event did to a customer's visits and spend, at its time.
struct VisitPoint {
  int64_t at_ms = 0;
  int64_t visits = 0;
  int64_t spend = 0;
};

struct TierStanding {
  bool held = false;
  bool in_grace = false;      // held only thanks to the grace period
  int64_t held_until_ms = 0;  // when held: the moment it ends if they never come back
  int64_t visits = 0;         // in the window ending now
  int64_t spend = 0;
};

// A customer qualifies at moment s when their visits (or spend) within (s - window, s]
// reach the tier's; they hold it at `at_ms` when they qualified at any moment of the
// grace period [at_ms - grace, at_ms]. Only `points` at or before `at_ms` count. Pure.
TierStanding StandingAt(const TierTerms& tier, std::span<const VisitPoint> all, int64_t at_ms);

inline constexpr int64_t kDayMs = 86'400'000;

}  // namespace regulars
