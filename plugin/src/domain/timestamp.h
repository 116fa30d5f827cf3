// Instants as the POS sends them: RFC 3339 with an explicit offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "result.h"

namespace regulars {

// Parses "2026-11-23T10:15:00+01:00" (or "...Z", optional fraction of a second) into
// milliseconds since the Unix epoch, UTC. A missing offset is an error: a till's local
// time without its offset cannot be ordered against another store's.
Result<int64_t> ParseTimestamp(std::string_view text);

// Formats milliseconds since the epoch as "2026-11-23T09:15:00Z".
std::string FormatTimestampUtc(int64_t epoch_ms);

}  // namespace regulars
