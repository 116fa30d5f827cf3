// What the cashier panel shows (docs/http-service.md, "Cashier panel"): the last thing the
// POS did at this till, kept here and pushed to every open panel as a server-sent event.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_server.h"

namespace regulars::http {

class PanelHub {
 public:
  explicit PanelHub(std::string lang) : lang_(std::move(lang)) {}

  // `event` is "evaluate", "commit", "recognize", "void", "refund", "goodwill" or "idle";
  // `output` the JSON the call answered (a receipt, a recognition, a reversal).
  void Publish(const std::string& event, std::string output);

  // The state as JSON: {"seq", "event", "pos_txn_id", "customer", "receipt", "lang"}.
  std::string State() const;

  // Sends the state to `sink` at once, then every new one.
  void Subscribe(const std::shared_ptr<EventSink>& sink);

  // One SSE message carrying `state`.
  static std::string Message(const std::string& state);

 private:
  std::string StateLocked() const;

  mutable std::mutex mutex_;
  std::string lang_;
  int64_t seq_ = 0;
  std::string event_ = "idle";
  std::string output_;
  std::vector<std::weak_ptr<EventSink>> sinks_;
};

}  // namespace regulars::http
