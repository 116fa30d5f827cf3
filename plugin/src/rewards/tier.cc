#include "rewards/tier.h"

#include <algorithm>
#include <vector>

#include "domain/money.h"

namespace regulars {
namespace {

struct Window {
  int64_t visits = 0;
  int64_t spend = 0;
};

Window WindowAt(std::span<const VisitPoint> points, int64_t window_ms, int64_t s) {
  Window w;
  for (const auto& p : points) {
    if (p.at_ms > s - window_ms && p.at_ms <= s) {
      // Saturating: a corrupt or hostile history must not overflow.
      w.visits = AddMinor(w.visits, p.visits).value_or(w.visits);
      w.spend = AddMinor(w.spend, p.spend).value_or(w.spend);
    }
  }
  return w;
}

bool Qualifies(const TierTerms& tier, const Window& w) {
  return (tier.purchases && w.visits >= *tier.purchases) || (tier.spend && w.spend >= *tier.spend);
}

}  // namespace

TierStanding StandingAt(const TierTerms& tier, std::span<const VisitPoint> all, int64_t at_ms) {
  std::vector<VisitPoint> points;
  for (const auto& p : all) {
    if (p.at_ms <= at_ms) points.push_back(p);
  }
  const int64_t window_ms = tier.window_days * kDayMs;
  const int64_t grace_ms = tier.grace_days * kDayMs;
  auto qualified = [&](int64_t s) { return Qualifies(tier, WindowAt(points, window_ms, s)); };

  TierStanding standing;
  Window now = WindowAt(points, window_ms, at_ms);
  standing.visits = now.visits;
  standing.spend = now.spend;

  // Qualification only rises when a visit arrives and only falls when one leaves the
  // window, so the last qualified moment is now, an arrival, or just before a departure.
  std::vector<int64_t> moments{at_ms};
  for (const auto& p : points) {
    moments.push_back(p.at_ms);
    int64_t leaves = p.at_ms + window_ms;  // first moment p is out of the window
    moments.push_back(leaves - 1);
  }
  std::sort(moments.begin(), moments.end());
  moments.erase(std::unique(moments.begin(), moments.end()), moments.end());

  std::optional<int64_t> last_qualified;
  if (Qualifies(tier, now)) {
    // With no new visit, qualification lasts until enough visits leave the window.
    last_qualified = at_ms;
    for (int64_t m : moments) {
      if (m <= at_ms) continue;
      if (!qualified(m)) break;
      last_qualified = m;
    }
  } else {
    for (auto it = moments.rbegin(); it != moments.rend(); ++it) {
      if (*it > at_ms || *it < at_ms - grace_ms) continue;
      if (qualified(*it)) {
        last_qualified = *it;
        break;
      }
    }
  }
  if (!last_qualified) return standing;
  standing.held = true;
  standing.in_grace = !Qualifies(tier, now);
  standing.held_until_ms = *last_qualified + grace_ms;
  return standing;
}

}  // namespace regulars
