#include "hq/webhook.h"

#include <charconv>
#include <chrono>
#include <iostream>

#include "env/env.h"
#include "env/log.h"
#include "hq/crm_export.h"
#include "hq/hq_service.h"
#include "wire/backoff.h"

namespace regulars {

Result<WebhookSettings> ParseWebhookUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Error::BadInput("invalid_arguments", "the webhook URL " + why, "--webhook");
  };
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return bad("must start with https://");
  std::string rest = url.substr(kScheme.size());
  WebhookSettings s;
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  s.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return bad("has a bad port");
    }
    s.port = static_cast<uint16_t>(value);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return bad("names no host");
  s.host = authority;
  return s;
}

Result<int64_t> WebhookForwarder::ForwardPending() {
  REGULARS_ASSIGN_OR_RETURN(auto cursor, store_->ReadCursor("webhook"));
  std::unique_ptr<TlsClient> client;
  int64_t sent = 0;
  for (;;) {
    auto events = store_->EventsSince(cursor, settings_.batch_events);
    if (!events.ok()) return events.error();
    if (events->empty()) return sent;
    // The same shape as the NDJSON export (payment-token values removed), as one array.
    std::string lines;
    ExportResult exported = AppendNdjson(*events, lines);
    std::string body = R"({"first_hq_seq":)" + std::to_string(events->front().hq_seq) +
                       R"(,"last_hq_seq":)" + std::to_string(events->back().hq_seq) +
                       R"(,"events":[)";
    for (size_t start = 0, i = 0; start < lines.size(); ++i) {
      size_t end = lines.find('\n', start);
      if (i > 0) body += ",";
      body.append(lines, start, end - start);
      start = end + 1;
    }
    body += "]}";
    if (!client) {
      auto connected =
          TlsClient::Connect(settings_.host, settings_.port, settings_.files, settings_.timeouts);
      if (!connected.ok()) return connected.error();
      client = std::move(connected).value();
    }
    REGULARS_ASSIGN_OR_RETURN(auto answer, client->Post(settings_.path, body));
    if (answer.status < 200 || answer.status > 299) {
      return Error::BadInput(
          "webhook_refused",
          "the CRM answered " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200));
    }
    cursor = exported.last_hq_seq > 0 ? exported.last_hq_seq : events->back().hq_seq;
    REGULARS_TRY(store_->WriteCursor("webhook", cursor));
    sent += static_cast<int64_t>(events->size());
    forwarded_ += static_cast<int64_t>(events->size());
  }
}

void WebhookForwarder::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WebhookForwarder::Notify() {
  std::lock_guard lock(mutex_);
  pending_ = true;
  wake_.notify_one();
}

void WebhookForwarder::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

// The backoff's jitter; without randomness the waits are the plain caps, still bounded.
uint64_t Jitter() {
  auto random = Env::Default()->RandomU64();
  return random.ok() ? *random : 0;
}

void WebhookForwarder::Loop() {
  int attempt = 0;
  std::chrono::milliseconds wait(0);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // After a failure, wait out the backoff even if notified; else a batch or 30 s.
      if (attempt > 0) {
        wake_.wait_for(lock, wait, [this] { return stopping_; });
      } else {
        wake_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_ || pending_; });
      }
      if (stopping_) return;
      pending_ = false;
    }
    auto sent = ForwardPending();
    if (sent.ok()) {
      attempt = 0;
      continue;
    }
    ++failures_;
    // The CRM's answer stays out of the log: it may echo what it was sent.
    std::string said = sent.error().message;
    if (sent.error().code == "webhook_refused") said = said.substr(0, said.find(':'));
    Logger::ToStderr("", "").Warning("webhook_failed", {{"code", sent.error().code},
                                                        {"message", said},
                                                        {"failures", failures_.load()},
                                                        {"attempt", attempt + 1}});
    wait = std::chrono::milliseconds(
        FullJitterBackoffMs(settings_.retry_initial_ms, settings_.retry_max_ms, attempt, Jitter()));
    ++attempt;
  }
}

}  // namespace regulars
