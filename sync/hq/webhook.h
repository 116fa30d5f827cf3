// Forwarding HQ's events to the CRM's webhook (docs/crm-export.md): each accepted batch
// goes on, in hq_seq order, at least once, with its own retries. A durable cursor at HQ
// ("webhook") says what the CRM has acknowledged with a 2xx, so a restart of HQ or a CRM
// down for days loses nothing; the CRM deduplicates by event id.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "hq/hq_store.h"
#include "wire/tls_transport.h"

namespace regulars {

struct WebhookSettings {
  std::string host;
  uint16_t port = 443;
  std::string path = "/";
  // The CA that signs the CRM's certificate (such as /etc/ssl/certs/ca-certificates.crt);
  // cert and key only when the CRM asks HQ for a client certificate.
  TlsFiles files;
  int64_t batch_events = 1000;
  int64_t retry_initial_ms = 1000;
  int64_t retry_max_ms = 300'000;
  TlsTimeouts timeouts;
};

// "https://crm.example/hooks/regulars" or with a port. Only https: the events name
// customers.
Result<WebhookSettings> ParseWebhookUrl(const std::string& url);

class WebhookForwarder {
 public:
  // `store` is the forwarder's own connection to HQ's storage.
  WebhookForwarder(std::unique_ptr<HqStore> store, WebhookSettings settings)
      : store_(std::move(store)), settings_(std::move(settings)) {}
  ~WebhookForwarder() { Stop(); }

  // Sends what is past the cursor, batch by batch, until nothing is left; returns how
  // many events the CRM acknowledged. Fails on the first refusal or transport error,
  // with the cursor after the last acknowledged batch.
  Result<int64_t> ForwardPending();

  // A thread that forwards when notified (a batch was accepted) and every 30 s, backing
  // off exponentially with full jitter while the CRM fails.
  void Start();
  void Notify();
  void Stop();

  int64_t forwarded() const { return forwarded_; }
  int64_t failures() const { return failures_; }

 private:
  void Loop();

  std::unique_ptr<HqStore> store_;
  WebhookSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<int64_t> forwarded_{0};
  std::atomic<int64_t> failures_{0};
};

}  // namespace regulars
