// Headquarters' HTTP API over its store (docs/sync-protocol.md): POST /v1/events takes a
// till's batch, GET /v1/updates gives a pull page, GET /v1/customers answers a till's
// online look-up of an identifier it does not know, GET /healthz says HQ is up. The store
// is the one the client certificate names, never a claim in the body.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "env/env.h"
#include "env/log.h"
#include "hq/hq_store.h"
#include "json/error_json.h"
#include "wire/tls_transport.h"

namespace regulars {

// The HTTP status for an error: 400 bad input, 403 another store's, 503 storage, 500 else.
int StatusOf(const Error& e);

class HqService {
 public:
  // `rules_file`, when not empty, is the rule set HQ hands to tills: a JSON object with
  // "rules_version" and "rules" (and optionally "caps"), sent to a till whose version
  // differs. Read on each pull (through `env`), so a new file is picked up without a
  // restart.
  explicit HqService(HqStore& store, std::string rules_file = "", Env* env = Env::Default())
      : store_(store), rules_file_(std::move(rules_file)), env_(env) {}

  // Thread-safe: calls into the store one at a time.
  HttpAnswer Handle(const HttpRequest& request);

  // Called after a batch is stored (with what was new), outside the store's lock: the
  // CRM webhook forwarder listens here.
  void OnAccepted(std::function<void(const HqBatch&, const IngestResult&)> listener) {
    on_accepted_ = std::move(listener);
  }

  // Told each push stored (`push_stored`: store, till, events, duplicates, ms), each push
  // refused (`push_refused`) and each pull page served (`pull_served`); null: not logged.
  void LogTo(std::shared_ptr<const Logger> logger) { logger_ = std::move(logger); }

 private:
  HttpAnswer Push(const HttpRequest& request);
  HttpAnswer Updates(const HttpRequest& request);
  HttpAnswer Customer(const HttpRequest& request);

  std::mutex mutex_;
  HqStore& store_;
  std::string rules_file_;
  Env* env_;
  std::function<void(const HqBatch&, const IngestResult&)> on_accepted_;
  std::shared_ptr<const Logger> logger_;
};

}  // namespace regulars
