#include "json/near_keys.h"

#include <algorithm>

namespace regulars {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Three rows of the distance table: two back for a transposition, one back, this one.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

std::optional<std::string> NearKnownKey(std::string_view key,
                                        const std::vector<std::string>& known) {
  if (std::find(known.begin(), known.end(), key) != known.end()) return std::nullopt;
  // Far longer or shorter keys are never near: skip the table for them.
  size_t limit = key.size() <= 4 ? 1 : 2;
  std::optional<std::string> nearest;
  size_t best = limit + 1;
  for (const auto& candidate : known) {
    size_t gap = candidate.size() > key.size() ? candidate.size() - key.size()
                                               : key.size() - candidate.size();
    if (gap >= best) continue;
    size_t distance = EditDistance(key, candidate);
    if (distance < best) {
      best = distance;
      nearest = candidate;
    }
  }
  return nearest;
}

}  // namespace regulars
