// `regulars serve`: the till's local HTTP/JSON service and cashier panel
// (docs/http-service.md) through the C ABI, beside the nightly sync, until stopped.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.h"
#include "config/config.h"
#include "env/env.h"
#include "env/log.h"
#include "env/service_notify.h"
#include "http/http_server.h"
#include "http/till_service.h"
#include "json/error_json.h"
#include "store/ledger.h"
#include "store/sync_state.h"
#include "till/outbox.h"

namespace regulars_cli {
namespace {

using Json = nlohmann::ordered_json;

int Fail(const regulars::Error& e) {
  std::cerr << regulars::StderrPriorityPrefix(regulars::LogPriority::kErr) << regulars::ErrorJson(e)
            << "\n";
  return e.kind == regulars::ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

// Readiness and the sync backlog, read on a ledger connection of their own (SQLite WAL:
// checkouts go on meanwhile).
class LedgerProbe {
 public:
  explicit LedgerProbe(std::unique_ptr<regulars::Ledger> ledger, const regulars::Config& config)
      : ledger_(std::move(ledger)), config_(config) {}

  std::string Readiness() {
    std::lock_guard<std::mutex> lock(mutex_);
    regulars::Outbox outbox(ledger_->db(), config_.till.store_id, config_.till.till_id);
    auto backlog = outbox.Backlog();
    return backlog.ok() ? "" : "the ledger cannot be read: " + backlog.error().message;
  }

  std::string Metrics() {
    std::lock_guard<std::mutex> lock(mutex_);
    regulars::Outbox outbox(ledger_->db(), config_.till.store_id, config_.till.till_id);
    auto backlog = outbox.Backlog();
    auto success = regulars::SyncState(ledger_->db()).ReadNumber("last_success_at_ms");
    std::string out =
        "# HELP regulars_sync_backlog_events Events of this till not yet acknowledged by HQ.\n"
        "# TYPE regulars_sync_backlog_events gauge\n";
    if (backlog.ok())
      out += "regulars_sync_backlog_events " + std::to_string(backlog->backlog) + "\n";
    out +=
        "# HELP regulars_sync_last_success_timestamp_seconds When the last sync succeeded.\n"
        "# TYPE regulars_sync_last_success_timestamp_seconds gauge\n";
    if (success.ok()) {
      out +=
          "regulars_sync_last_success_timestamp_seconds " + std::to_string(*success / 1000) + "\n";
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<regulars::Ledger> ledger_;
  const regulars::Config& config_;
};

// Asks the till every few seconds whether its config file changed and was refused, so the
// log says so at once, even while no request comes.
class ConfigWatch {
 public:
  explicit ConfigWatch(regulars::http::TillService* service)
      : thread_([this, service] { Run(service); }) {}
  ~ConfigWatch() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  ConfigWatch(const ConfigWatch&) = delete;
  ConfigWatch& operator=(const ConfigWatch&) = delete;

 private:
  void Run(regulars::http::TillService* service) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      service->CheckConfig();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; });
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: it starts once the rest is made
};

}  // namespace

int RunServe(const ServeOptions& options) {
  auto config = regulars::LoadConfigFile(options.config_path);
  if (!config.ok()) return Fail(config.error());
  if (!config->http.enabled() && !config->sync.enabled()) {
    return Fail(regulars::Error::BadInput(
        "nothing_to_serve", "this till's config has neither an \"http\" nor a \"sync\" section",
        options.config_path));
  }
  if (int refused = RefuseAMissingLedger(options.db_path); refused >= 0) return refused;
  auto logger = std::make_shared<const regulars::Logger>(
      regulars::Logger::ToStderr(config->till.store_id, config->till.till_id));
  // SIGINT and SIGTERM are waited for below; blocked before any thread starts, so every
  // thread inherits the mask and none is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Declared first, so an early return (a busy port) closes it after what uses it.
  struct CloseTill {
    void operator()(regulars_till* t) const { regulars_close(t); }
  };
  std::unique_ptr<regulars_till, CloseTill> till;
  std::unique_ptr<regulars::http::TillService> service;
  std::unique_ptr<regulars::http::Server> server;
  std::unique_ptr<LedgerProbe> probe;
  std::unique_ptr<ConfigWatch> watch;
  std::unique_ptr<regulars::WatchdogPinger> watchdog;
  if (config->http.enabled()) {
    char* error = nullptr;
    regulars_till* opened = nullptr;
    int code = regulars_open(&opened, options.config_path.c_str(), options.db_path.c_str(), &error);
    if (code != REGULARS_OK) return ReportOpenFailure(code, error, options.db_path);
    till.reset(opened);
    auto ledger = regulars::Ledger::Open(options.db_path, regulars::LedgerOwnerOf(config->till));
    if (!ledger.ok()) return Fail(ledger.error());
    probe = std::make_unique<LedgerProbe>(std::move(ledger).value(), *config);
    regulars::http::TillServiceOptions service_options;
    service_options.token = config->http.token;
    service_options.goodwill_enabled = config->goodwill.enabled;
    service_options.readiness = [p = probe.get()] { return p->Readiness(); };
    service_options.extra_metrics = [p = probe.get()] { return p->Metrics(); };
    service_options.logger = logger;
    service = std::make_unique<regulars::http::TillService>(till.get(), std::move(service_options));
    watch = std::make_unique<ConfigWatch>(service.get());
    const auto& http = config->http;
    regulars::http::Limits limits{http.max_body_bytes,     http.max_header_bytes,
                                  http.request_timeout_ms, http.idle_timeout_ms,
                                  http.max_connections,    http.threads};
    regulars::http::Observer observer;
    auto* metrics = &service->metrics();
    observer.refused = [metrics](std::string_view reason) { metrics->Refused(reason); };
    observer.connections = [metrics](int open) { metrics->Connections(open); };
    uint16_t port = options.port >= 0 ? static_cast<uint16_t>(options.port) : http.port;
    auto started = regulars::http::Server::Start(
        http.listen, port, limits,
        [s = service.get()](const regulars::http::Request& r) { return s->Handle(r); },
        std::move(observer));
    if (!started.ok()) return Fail(started.error());
    server = std::move(started).value();
    if (!options.port_file.empty()) {
      // Written whole, then renamed: a reader never sees half a number.
      auto written = regulars::Env::Default()->WriteFileAtomically(
          options.port_file, std::to_string(server->port()) + "\n");
      if (!written.ok()) Fail(written.error());  // serving goes on
    }
    std::cout << Json{{"listening", http.listen + ":" + std::to_string(server->port())},
                      {"panel", "http://" + http.listen + ":" + std::to_string(server->port()) +
                                    "/panel/#token=TOKEN&lang=fr"}}
                     .dump()
              << std::endl;
    logger->Info("serve_started", {{"listen", http.listen}, {"port", server->port()}});
    if (int64_t every = regulars::WatchdogPingIntervalMs(); every > 0) {
      watchdog = std::make_unique<regulars::WatchdogPinger>(
          every, [s = server.get()](std::function<void()> ping) { s->Post(std::move(ping)); });
    }
  }
  // The port is bound and the ledger read (or only the nightly sync runs).
  regulars::NotifyServiceManager("READY=1");
  bool syncing = config->sync.enabled() && options.nightly_sync;
  if (config->sync.enabled() && !options.nightly_sync) logger->Info("nightly_sync_off");
  if (syncing) {
    std::thread([config_path = options.config_path, db_path = options.db_path] {
      RunNightlySync(config_path, db_path);
    }).detach();
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  regulars::NotifyServiceManager("STOPPING=1");
  watchdog.reset();
  // The server first, whole: its last connections end by telling the service's metrics.
  if (server) server->Stop();
  server.reset();
  watch.reset();
  service.reset();
  till.reset();
  std::cout << Json{{"stopped", signal == SIGINT ? "SIGINT" : "SIGTERM"}}.dump() << std::endl;
  logger->Info("serve_stopped", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  // The nightly sync may be mid-run on its own connection: end the process without
  // unwinding it. Every ledger write is a whole SQLite transaction, so nothing is half-done.
  if (syncing) std::_Exit(kExitOk);
  return kExitOk;
}

}  // namespace regulars_cli
