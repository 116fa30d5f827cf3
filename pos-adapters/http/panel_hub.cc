#include "http/panel_hub.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace regulars::http {

void PanelHub::Publish(const std::string& event, std::string output) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++seq_;
  event_ = event;
  output_ = std::move(output);
  std::erase_if(sinks_, [](const auto& s) { return s.expired(); });
  if (sinks_.empty()) return;  // the state is built only for someone watching
  std::string message = Message(StateLocked());
  for (const auto& weak : sinks_) {
    if (auto sink = weak.lock()) sink->Send(message);
  }
}

std::string PanelHub::State() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return StateLocked();
}

void PanelHub::Subscribe(const std::shared_ptr<EventSink>& sink) {
  std::lock_guard<std::mutex> lock(mutex_);
  sink->Send(Message(StateLocked()));
  sinks_.push_back(sink);
}

std::string PanelHub::Message(const std::string& state) {
  return "event: state\ndata: " + state + "\n\n";
}

std::string PanelHub::StateLocked() const {
  using Json = nlohmann::ordered_json;
  Json receipt = output_.empty() ? Json(nullptr) : Json::parse(output_, nullptr, false);
  if (receipt.is_discarded()) receipt = nullptr;
  auto member = [&](const char* name) {
    return receipt.is_object() && receipt.contains(name) ? receipt[name] : Json(nullptr);
  };
  Json state{{"seq", seq_},
             {"event", event_},
             {"pos_txn_id", member("pos_txn_id")},
             {"customer", member("customer")},
             {"receipt", receipt},
             {"lang", lang_}};
  // One line: an SSE data field ends at a newline.
  return state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace regulars::http
