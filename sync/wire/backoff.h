// How long to wait before retrying a call to the other side: the till's push and pull,
// and HQ's CRM webhook, back off the same way.
#pragma once

#include <cstdint>

namespace regulars {

// The wait before retry number `attempt` (0-based): uniform in [0, min(max_ms,
// initial_ms * 2^attempt)] ("full jitter"), so clients that failed together spread out.
int64_t FullJitterBackoffMs(int64_t initial_ms, int64_t max_ms, int attempt, uint64_t random);

}  // namespace regulars
