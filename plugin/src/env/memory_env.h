// An Env for tests, benchmarks and fuzzing, kept out of the shipped library: a clock that
// moves only when told or slept on (a sleep returns at once and is recorded), seeded
// randomness, and files in memory. The ledger's SQLite files stay on disk. A test may
// derive from it to make something happen during a wait (HQ coming back at night).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "env/env.h"

namespace regulars {

class MemoryEnv : public Env {
 public:
  // 2026-11-23T09:00:00Z, the tests' usual "now".
  static constexpr int64_t kDefaultNowMs = 1'795'424'400'000;

  // Two envs with different seeds give different random bytes (tills that must not make
  // the same customer ids); the same seed, the same bytes.
  explicit MemoryEnv(int64_t now_ms = kDefaultNowMs, uint64_t seed = 1);

  int64_t NowMs() override;
  // Moves the clock `ms` forward and records the wait; never blocks.
  void SleepMs(int64_t ms) override;
  Status RandomBytes(std::span<unsigned char> out) override;
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override;
  FileStamp StampOf(const std::string& path) override;
  Status WriteFileAtomically(const std::string& path, std::string_view bytes,
                             int mode = 0644) override;

  void SetNowMs(int64_t now_ms);
  void AdvanceMs(int64_t ms);
  // Every SleepMs so far, in order.
  std::vector<int64_t> sleeps() const;

 private:
  struct File {
    std::string content;
    uint64_t id = 0;  // the write that made it
    int64_t modified_ms = 0;
  };

  mutable std::mutex mutex_;
  int64_t now_ms_;
  uint64_t random_state_;
  std::vector<int64_t> sleeps_;
  std::map<std::string, File> files_;
  uint64_t writes_ = 0;
};

}  // namespace regulars
