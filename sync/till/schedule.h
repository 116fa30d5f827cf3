// When the nightly sync runs: at the configured local time plus this store's own offset
// in the jitter window, so a thousand stores do not reach HQ in the same second. The
// backoff after a failure is shared with HQ's webhook (wire/backoff.h).
#pragma once

#include <cstdint>
#include <string>

#include "env/env.h"

namespace regulars {

// The store's offset in a window of `jitter_minutes`, in seconds: a hash of its id, so it
// is the same every night and spread evenly across stores.
int64_t StoreJitterSeconds(const std::string& store_id, int jitter_minutes);

// The first run strictly after `now_ms`: local time `nightly_minute` (minutes after
// midnight, in the machine's time zone) plus the store's jitter. Days with a DST change
// are handled by the C library's mktime.
int64_t NextNightlyRunMs(int64_t now_ms, int nightly_minute, int jitter_minutes,
                         const std::string& store_id);

// Waits on `env`'s clock until `at_ms`, a minute at most per sleep, so a clock set forward
// or back (a time server's correction) is noticed within the minute.
void SleepUntilMs(Env& env, int64_t at_ms);

}  // namespace regulars
