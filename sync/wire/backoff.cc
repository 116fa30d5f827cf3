#include "wire/backoff.h"

namespace regulars {

int64_t FullJitterBackoffMs(int64_t initial_ms, int64_t max_ms, int attempt, uint64_t random) {
  int64_t ceiling = initial_ms;
  for (int i = 0; i < attempt && ceiling < max_ms; ++i) ceiling *= 2;
  ceiling = ceiling < max_ms ? ceiling : max_ms;
  return static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1));
}

}  // namespace regulars
