// Per-iteration latencies for Google Benchmark, so reports carry the percentiles the
// performance goals are about (p50_us, p99_us, max_us counters).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace regulars::bench {

// Per-iteration latencies, so the report carries the percentiles the goals are about.
class Latencies {
 public:
  explicit Latencies(size_t expected) { ns_.reserve(expected); }

  // Times `call` and hands the time to Google Benchmark (UseManualTime).
  template <typename Call>
  auto Time(benchmark::State& state, Call&& call) {
    auto start = std::chrono::steady_clock::now();
    auto result = call();
    auto elapsed = std::chrono::steady_clock::now() - start;
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    return result;
  }

  void Report(benchmark::State& state) {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    state.counters["p50_us"] = Percentile(50);
    state.counters["p99_us"] = Percentile(99);
    state.counters["max_us"] = static_cast<double>(ns_.back()) / 1000;
  }

 private:
  // Nearest rank: the smallest latency at least `percent` % of iterations did not exceed.
  double Percentile(int percent) const {
    size_t rank = (ns_.size() * static_cast<size_t>(percent) + 99) / 100;
    return static_cast<double>(ns_[std::max<size_t>(rank, 1) - 1]) / 1000;
  }

  std::vector<int64_t> ns_;
};

}  // namespace regulars::bench
