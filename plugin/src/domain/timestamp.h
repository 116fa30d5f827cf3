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
Result<int64_t> ParseTimestamp(std::string_view s);

// Formats milliseconds since the epoch as "2026-11-23T09:15:00Z".
std::string FormatTimestampUtc(int64_t epoch_ms);

// The calendar day an instant falls on where it was sold: the date written in the POS's
// own timestamp ("2026-11-23T00:30:00+01:00" is the 23rd), and when that day began.
struct LocalDay {
  std::string date;  // YYYY-MM-DD
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // the next day's start (days are taken as 24 h long)
};
// `text` is the timestamp as sent and `at_ms` the same instant parsed; a text that is not
// RFC 3339 gives the UTC day.
LocalDay LocalDayOf(std::string_view text, int64_t at_ms);

}  // namespace regulars
