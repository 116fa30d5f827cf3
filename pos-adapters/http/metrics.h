// The service's counters in the Prometheus text format (GET /metrics): requests and their
// latency by route, refusals, commits, errors by code, open connections.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace regulars::http {

class Metrics {
 public:
  // Upper bounds of the latency histogram's buckets, in microseconds.
  static constexpr std::array<int64_t, 12> kBucketsUs = {
      250, 500, 1000, 2000, 5000, 10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000, 5'000'000};

  void Request(std::string_view route, int status, int64_t micros);
  void Refused(std::string_view reason);
  void Commit();
  void Error(std::string_view code);
  void Connections(int open);

  // Every metric, then `extra` (lines already in the text format: the sync backlog).
  std::string Render(const std::string& extra) const;

 private:
  struct Latency {
    std::array<int64_t, kBucketsUs.size()> buckets{};  // not cumulative here
    int64_t count = 0;
    int64_t sum_us = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;  // (route, status)
  std::map<std::string, Latency> latency_;
  std::map<std::string, int64_t> refused_;
  std::map<std::string, int64_t> errors_;
  int64_t commits_ = 0;
  int connections_ = 0;
};

}  // namespace regulars::http
