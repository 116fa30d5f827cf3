// Contract v1's HTTP API over the C ABI (docs/http-service.md): the routes, the bearer
// token, the cashier panel and its live state, health, readiness and metrics. The server
// (http_server.h) carries requests here; this file decides what they mean.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "env/log.h"
#include "http/http_server.h"
#include "http/metrics.h"
#include "http/panel_hub.h"
#include "regulars/regulars.h"

namespace regulars::http {

// A route the service answers; the OpenAPI document lists exactly these.
struct Route {
  const char* method;
  const char* path;  // "/panel/{file}" stands for every panel file
  bool needs_token;
};

const std::vector<Route>& Routes();

struct TillServiceOptions {
  std::string token;              // the bearer token (hex text)
  bool goodwill_enabled = false;  // the config has a goodwill section
  std::string panel_lang = "fr";  // the panel's language until the cashier switches
  // Is the ledger usable? An empty string when ready, else why not.
  std::function<std::string()> readiness;
  // More metrics, already in the text format (the sync backlog).
  std::function<std::string()> extra_metrics;
  // Told `config_refused` (priority err) when the config file on disk becomes refused and
  // `config_in_force` when a good one is in force again; null: not logged.
  std::shared_ptr<const regulars::Logger> logger;
};

class TillService {
 public:
  // `till` stays owned by the caller and must outlive the service. The C ABI serialises
  // calls on it, so the service may be called from several threads.
  TillService(regulars_till* till, TillServiceOptions options);

  Response Handle(const Request& request);

  // The till's config status (regulars_config_status): the file rereads when changed, and a
  // refusal, or its end, is logged once.
  nlohmann::json CheckConfig();

  Metrics& metrics() { return metrics_; }
  PanelHub& panel() { return panel_; }

 private:
  using AbiCall = int (*)(regulars_till*, const char*, char**);

  Response Dispatch(const Request& request, std::string& route);
  Response CallTill(const char* event, AbiCall call, const std::string& body);
  Response EvaluateOrCommit(bool commit, const Request& request);
  Response ReadBasket(bool commit, const char* event, AbiCall call, const Request& request);
  Response Goodwill(const Request& request);
  Response Panel(const Request& request);
  bool Authorized(const Request& request) const;

  // A gesture the cashier made on the panel, added to the basket's later evaluations
  // and its commit (and a retried commit) until it leaves the recent window.
  struct Recent {
    std::string basket;    // the basket last evaluated, as the POS sent it
    std::string goodwill;  // the gesture's JSON, or ""
  };
  std::string WithGesture(const std::string& pos_txn_id, const std::string& basket);
  void Remember(const std::string& pos_txn_id, nlohmann::json* basket, const std::string* goodwill);

  regulars_till* till_;
  TillServiceOptions options_;
  Metrics metrics_;
  PanelHub panel_;
  std::mutex config_mutex_;
  std::string config_logged_;  // the refusal last logged; empty: the config is in force
  std::mutex recent_mutex_;
  std::map<std::string, Recent> recent_;
  std::deque<std::string> recent_order_;
};

}  // namespace regulars::http
