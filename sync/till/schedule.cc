#include "till/schedule.h"

#include <algorithm>
#include <ctime>

namespace regulars {

int64_t StoreJitterSeconds(const std::string& store_id, int jitter_minutes) {
  if (jitter_minutes <= 0) return 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : store_id) hash = (hash ^ c) * 1099511628211ull;
  return static_cast<int64_t>(hash % static_cast<uint64_t>(jitter_minutes * 60));
}

int64_t NextNightlyRunMs(int64_t now_ms, int nightly_minute, int jitter_minutes,
                         const std::string& store_id) {
  time_t now = static_cast<time_t>(now_ms / 1000);
  int64_t jitter = StoreJitterSeconds(store_id, jitter_minutes);
  for (int day = -1; day <= 2; ++day) {
    std::tm local{};
    localtime_r(&now, &local);
    local.tm_mday += day;
    local.tm_hour = nightly_minute / 60;
    local.tm_min = nightly_minute % 60;
    local.tm_sec = static_cast<int>(jitter);  // mktime normalises seconds past 59
    local.tm_isdst = -1;
    int64_t at = static_cast<int64_t>(mktime(&local)) * 1000;
    if (at > now_ms) return at;
  }
  return now_ms + int64_t{24} * 3'600'000;  // unreachable in practice
}

void SleepUntilMs(Env& env, int64_t at_ms) {
  constexpr int64_t kLongestSleepMs = 60'000;
  for (int64_t now = env.NowMs(); now < at_ms; now = env.NowMs()) {
    env.SleepMs(std::min(at_ms - now, kLongestSleepMs));
  }
}

}  // namespace regulars
