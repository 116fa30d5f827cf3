// Near misses of known field names, shared by the config loader (an unknown field is
// refused with the known one it resembles) and the basket (a notice, the sale goes on).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regulars {

// The Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
// substitutions and transpositions of two neighbours, each one edit.
size_t EditDistance(std::string_view a, std::string_view b);

// The known key that `key` most likely misspells, or nullopt when `key` is itself known or
// resembles none. Within 2 edits, or 1 for keys of up to 4 characters (else "id" would be
// a near miss of "at"); the first of the nearest in `known`'s order.
std::optional<std::string> NearKnownKey(std::string_view key,
                                        const std::vector<std::string>& known);

}  // namespace regulars
