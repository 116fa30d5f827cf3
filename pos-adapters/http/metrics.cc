#include "http/metrics.h"

#include <algorithm>

namespace regulars::http {
namespace {

// Microseconds as seconds, in decimal: "0.001250".
std::string Seconds(int64_t micros) {
  std::string fraction = std::to_string(micros % 1'000'000);
  return std::to_string(micros / 1'000'000) + "." + std::string(6 - fraction.size(), '0') +
         fraction;
}

// Label values are route patterns and error codes of our own; quote them safely anyway.
std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Request(std::string_view route, int status, int64_t micros) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{std::string(route), status}];
  Latency& l = latency_[std::string(route)];
  auto bucket = std::lower_bound(kBucketsUs.begin(), kBucketsUs.end(), micros);
  if (bucket != kBucketsUs.end()) ++l.buckets[static_cast<size_t>(bucket - kBucketsUs.begin())];
  ++l.count;
  l.sum_us += micros;
}

void Metrics::Refused(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++refused_[std::string(reason)];
}

void Metrics::Commit() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++commits_;
}

void Metrics::Error(std::string_view code) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[std::string(code)];
}

void Metrics::Connections(int open) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_ = open;
}

std::string Metrics::Render(const std::string& extra) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP regulars_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE regulars_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "regulars_http_requests_total{route=\"" + Label(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP regulars_http_request_duration_seconds Time to answer a request, by route.\n";
  out += "# TYPE regulars_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    std::string name = "regulars_http_request_duration_seconds";
    std::string label = "route=\"" + Label(route) + "\"";
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBucketsUs.size(); ++i) {
      cumulative += l.buckets[i];
      out += name + "_bucket{" + label + ",le=\"" + Seconds(kBucketsUs[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += name + "_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(l.count) + "\n";
    out += name + "_sum{" + label + "} " + Seconds(l.sum_us) + "\n";
    out += name + "_count{" + label + "} " + std::to_string(l.count) + "\n";
  }
  out += "# HELP regulars_http_refused_total Requests or connections refused by a limit.\n";
  out += "# TYPE regulars_http_refused_total counter\n";
  for (const auto& [reason, n] : refused_) {
    out +=
        "regulars_http_refused_total{reason=\"" + Label(reason) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP regulars_errors_total Contract v1 errors answered, by code.\n";
  out += "# TYPE regulars_errors_total counter\n";
  for (const auto& [code, n] : errors_) {
    out += "regulars_errors_total{code=\"" + Label(code) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP regulars_commits_total Baskets committed through the service.\n";
  out += "# TYPE regulars_commits_total counter\n";
  out += "regulars_commits_total " + std::to_string(commits_) + "\n";
  out += "# HELP regulars_http_connections Connections open now.\n";
  out += "# TYPE regulars_http_connections gauge\n";
  out += "regulars_http_connections " + std::to_string(connections_) + "\n";
  return out + extra;
}

}  // namespace regulars::http
