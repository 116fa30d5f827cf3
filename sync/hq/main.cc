// `regulars-hq`: headquarters' side of the nightly sync (docs/sync-protocol.md).
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "env/env.h"
#include "env/log.h"
#include "env/service_notify.h"
#include "hq/crm_export.h"
#include "hq/hq_service.h"
#include "hq/hq_store.h"
#include "hq/pg_hq_store.h"
#include "hq/webhook.h"
#include "wire/tls_transport.h"

namespace regulars {
namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2;

constexpr const char* kUsage = R"(usage: regulars-hq COMMAND [OPTIONS]

Commands (the store is --db FILE, a SQLite file made by `db init`, or --pg CONNINFO, a
PostgreSQL database given as a libpq conninfo, its tables created if absent; keep the
password out of it, in ~/.pgpass or PGPASSWORD; see docs/hq-storage.md):
  db init                       create the store's SQLite file (refused if it exists); every
                                other command refuses a --db FILE that does not exist
  serve --listen ADDRESS:PORT --ca FILE --cert FILE --key FILE [--rules FILE] [--port-file FILE]
        take the tills' batches and answer their pulls over mutual-TLS HTTPS until
        SIGINT or SIGTERM; port 0 picks a free port (written to --port-file)
        [--webhook https://HOST[:PORT]/PATH --webhook-ca FILE [--webhook-cert F --webhook-key F]]
        also forward every stored event to the CRM's webhook, in order, at least once
        [--max-connections N]  open connections at once (256); one more gets 503
                               too_many_connections and is closed
        [--network-threads N]  threads for TLS and HTTP (2), whatever the connections
        [--workers N] [--max-queued N]
                               threads storing batches (4), and requests waiting for
                               one (64); one more gets 503 hq_busy and is closed
        [--handshake-timeout-ms MS] [--request-timeout-ms MS] [--idle-timeout-ms MS]
        [--shutdown-timeout-ms MS]
                               deadlines: TLS handshake (10000), a whole request and its
                               answer (60000), a quiet keep-alive connection (60000),
                               TLS close (2000); see docs/sync-protocol.md
  export --since CURSOR [--format ndjson|csv] [--table customers|purchases|rewards|consents]
         [--limit N]            the events stored after CURSOR (0: all) for the CRM, on
                                stdout; NDJSON is every event, CSV one table (--table);
                                the next cursor goes to stderr as {"next_since": N}
  erase --customer ID [--reason TEXT]
                                the chain forgets a customer: every till deletes their
                                identifiers and consents at its next pull, and HQ redacts
                                its copies now (docs/sync-protocol.md, "Erasure")
  status                        the events held
  help                          this text

Exit status: 0 success, 2 bad input, 1 any other failure. Errors are JSON on stderr.
)";

// Contract v1's error line; at priority err when standard error is the journal.
int Report(const Error& e) {
  std::cerr << StderrPriorityPrefix(LogPriority::kErr) << ErrorJson(e) << "\n";
  return e.kind == ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

int BadUsage(const std::string& message, const std::string& where) {
  return Report(Error::BadInput("invalid_arguments", message, where));
}

struct Args {
  std::string command;
  std::string subcommand;  // `db init`
  std::map<std::string, std::string> options;
};

const std::vector<std::string> kValueOptions = {"--db",
                                                "--pg",
                                                "--listen",
                                                "--ca",
                                                "--cert",
                                                "--key",
                                                "--rules",
                                                "--port-file",
                                                "--since",
                                                "--limit",
                                                "--format",
                                                "--table",
                                                "--webhook",
                                                "--webhook-ca",
                                                "--webhook-cert",
                                                "--webhook-key",
                                                "--customer",
                                                "--reason",
                                                "--max-connections",
                                                "--network-threads",
                                                "--workers",
                                                "--max-queued",
                                                "--handshake-timeout-ms",
                                                "--request-timeout-ms",
                                                "--idle-timeout-ms",
                                                "--shutdown-timeout-ms"};

bool Parse(int argc, char** argv, Args* args, std::string* problem) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      args->command = "help";
    } else if (std::find(kValueOptions.begin(), kValueOptions.end(), a) != kValueOptions.end()) {
      if (i + 1 >= argc) {
        *problem = a + " needs a value";
        return false;
      }
      args->options[a] = argv[++i];
    } else if (a.starts_with("--")) {
      *problem = "unknown option " + a;
      return false;
    } else if (args->command.empty()) {
      args->command = a;
    } else if (args->command == "db" && args->subcommand.empty()) {
      args->subcommand = a;
    } else {
      *problem = "unexpected argument " + a;
      return false;
    }
  }
  return true;
}

// The store of --db or --pg. A SQLite file that does not exist is refused, naming it, unless
// `if_missing` creates it (`db init`): a mistyped path never starts an empty store.
Result<std::unique_ptr<HqStore>> OpenStore(const Args& args,
                                           IfMissing if_missing = IfMissing::kRefuse) {
  auto db = args.options.find("--db");
  auto pg = args.options.find("--pg");
  if ((db == args.options.end()) == (pg == args.options.end())) {
    return Error::BadInput("invalid_arguments",
                           "give one of --db FILE (SQLite) and --pg CONNINFO (PostgreSQL)", "--db");
  }
  if (pg != args.options.end()) {
    REGULARS_ASSIGN_OR_RETURN(auto store, PgHqStore::Open(pg->second));
    return std::unique_ptr<HqStore>(std::move(store));
  }
  auto store = SqliteHqStore::Open(db->second, if_missing);
  if (!store.ok()) {
    Error error = store.error();
    if (error.where == db->second) error.where = "--db";  // the flag that named the file
    return error;
  }
  return std::unique_ptr<HqStore>(std::move(store).value());
}

// Whole number option `name`, or `fallback` when absent.
Result<int64_t> NumberOption(const Args& args, const std::string& name, int64_t fallback) {
  auto it = args.options.find(name);
  if (it == args.options.end()) return fallback;
  const std::string& text = it->second;
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return Error::BadInput("invalid_arguments", name + " is a whole number", name);
  }
  return std::stoll(text);
}

// The server's limits and deadlines from `serve`'s flags, each within its range (a bad
// value names its flag); an absent flag keeps TlsServerOptions' default.
Result<TlsServerOptions> ServerOptions(const Args& args) {
  TlsServerOptions options;
  struct Flag {
    const char* name;
    int* field;
    int64_t min;
    int64_t max;
  };
  const Flag flags[] = {
      {"--max-connections", &options.max_connections, 1, 100'000},
      {"--network-threads", &options.network_threads, 1, 64},
      {"--workers", &options.workers, 1, 256},
      {"--max-queued", &options.max_queued_requests, 1, 100'000},
      {"--handshake-timeout-ms", &options.handshake_timeout_ms, 1, 3'600'000},
      {"--request-timeout-ms", &options.request_timeout_ms, 1, 3'600'000},
      {"--idle-timeout-ms", &options.idle_timeout_ms, 1, 3'600'000},
      {"--shutdown-timeout-ms", &options.shutdown_timeout_ms, 1, 3'600'000},
  };
  for (const Flag& flag : flags) {
    auto value = NumberOption(args, flag.name, *flag.field);
    if (!value.ok() || *value < flag.min || *value > flag.max) {
      return Error::BadInput("invalid_arguments",
                             std::string(flag.name) + " is a whole number from " +
                                 std::to_string(flag.min) + " to " + std::to_string(flag.max),
                             flag.name);
    }
    *flag.field = static_cast<int>(*value);
  }
  // A store turned away at the handshake: a warning (HQ serves on).
  options.log = [log = Logger::ToStderr("", "")](const std::string& line) {
    auto said = nlohmann::ordered_json::parse(line, nullptr, false);
    if (said.is_object() && said.contains("handshake_refused")) {
      log.Warning("handshake_refused", said["handshake_refused"]);
    } else {
      log.Warning("server_said", {{"line", line}});
    }
  };
  return options;
}

int Serve(const Args& args) {
  for (const char* required : {"--listen", "--ca", "--cert", "--key"}) {
    if (!args.options.count(required)) {
      return BadUsage(std::string(required) + " is required", required);
    }
  }
  const std::string& listen = args.options.at("--listen");
  auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon + 1 < listen.size() && listen.size() - colon <= 6 &&
      listen.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    port = std::stoi(listen.substr(colon + 1));
  }
  if (colon == 0 || port < 0 || port > 65535) {
    return BadUsage("--listen is ADDRESS:PORT, such as 127.0.0.1:8443", "--listen");
  }
  auto server_options = ServerOptions(args);
  if (!server_options.ok()) return Report(server_options.error());
  auto store = OpenStore(args);
  if (!store.ok()) return Report(store.error());
  auto rules = args.options.find("--rules");
  HqService service(**store, rules == args.options.end() ? "" : rules->second);
  auto logger = std::make_shared<const Logger>(Logger::ToStderr("", ""));
  service.LogTo(logger);

  // The CRM webhook: its own connection to the store, woken by each accepted batch.
  std::unique_ptr<WebhookForwarder> webhook;
  if (auto url = args.options.find("--webhook"); url != args.options.end()) {
    auto settings = ParseWebhookUrl(url->second);
    if (!settings.ok()) return Report(settings.error());
    if (!args.options.count("--webhook-ca")) {
      return BadUsage("--webhook needs --webhook-ca FILE (the CA of the CRM's certificate)",
                      "--webhook-ca");
    }
    settings->files.ca = args.options.at("--webhook-ca");
    if (args.options.count("--webhook-cert") != args.options.count("--webhook-key")) {
      return BadUsage("--webhook-cert and --webhook-key go together", "--webhook-cert");
    }
    if (args.options.count("--webhook-cert")) {
      settings->files.cert = args.options.at("--webhook-cert");
      settings->files.key = args.options.at("--webhook-key");
    }
    auto own = OpenStore(args);
    if (!own.ok()) return Report(own.error());
    webhook = std::make_unique<WebhookForwarder>(std::move(own).value(), *settings);
    service.OnAccepted([&webhook](const HqBatch&, const IngestResult&) { webhook->Notify(); });
  }

  // Signals are taken by this thread alone (sigwait), never by the server's threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = TlsServer::Start(
      listen.substr(0, colon), static_cast<uint16_t>(port),
      {args.options.at("--ca"), args.options.at("--cert"), args.options.at("--key")},
      [&service](const HttpRequest& request) { return service.Handle(request); }, *server_options);
  if (!server.ok()) return Report(server.error());
  if (webhook) {
    webhook->Start();
    webhook->Notify();  // what an earlier run left unforwarded
  }
  uint16_t bound = (*server)->port();
  if (auto file = args.options.find("--port-file"); file != args.options.end()) {
    // Written whole, then renamed: a reader never sees half a number.
    auto written = Env::Default()->WriteFileAtomically(file->second, std::to_string(bound) + "\n");
    if (!written.ok()) (void)Report(written.error());  // serving goes on
  }
  std::cout
      << nlohmann::json{{"listening", listen.substr(0, colon) + ":" + std::to_string(bound)}}.dump()
      << std::endl;
  logger->Info("hq_started", {{"listen", listen.substr(0, colon)}, {"port", bound}});
  NotifyServiceManager("READY=1");
  std::unique_ptr<WatchdogPinger> watchdog;
  if (int64_t every = WatchdogPingIntervalMs(); every > 0) {
    watchdog = std::make_unique<WatchdogPinger>(
        every, [s = server->get()](std::function<void()> ping) { s->Post(std::move(ping)); });
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  NotifyServiceManager("STOPPING=1");
  watchdog.reset();
  (*server)->Stop();
  if (webhook) webhook->Stop();
  std::cout << nlohmann::json{{"stopped", signal == SIGINT ? "SIGINT" : "SIGTERM"}}.dump()
            << std::endl;
  logger->Info("hq_stopped", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  return kExitOk;
}

int Export(const Args& args) {
  auto since = NumberOption(args, "--since", -1);
  if (!since.ok()) return Report(since.error());
  if (*since < 0) return BadUsage("--since CURSOR is required (0 for everything)", "--since");
  auto limit = NumberOption(args, "--limit", INT64_MAX);
  if (!limit.ok()) return Report(limit.error());
  std::string format = args.options.count("--format") ? args.options.at("--format") : "ndjson";
  if (format != "ndjson" && format != "csv") {
    return BadUsage("--format is ndjson or csv", "--format");
  }
  std::optional<ExportTable> table;
  if (args.options.count("--table")) {
    auto parsed = ParseExportTable(args.options.at("--table"));
    if (!parsed.ok()) return Report(parsed.error());
    table = *parsed;
  }
  if (format == "csv" && !table) {
    return BadUsage("--format csv needs --table customers|purchases|rewards|consents", "--table");
  }
  auto store = OpenStore(args);
  if (!store.ok()) return Report(store.error());
  // Page by page, so memory stays bounded whatever the history.
  int64_t cursor = *since, left = *limit;
  std::vector<SkippedEvent> skipped;
  std::string out;
  if (table && format == "csv") AppendCsvHeader(*table, out);
  while (left > 0) {
    auto events = (*store)->EventsSince(cursor, std::min<int64_t>(left, 5000));
    if (!events.ok()) return Report(events.error());
    if (events->empty()) break;
    ExportResult result =
        format == "csv" ? AppendCsvRows(*table, *events, out) : AppendNdjson(*events, out);
    skipped.insert(skipped.end(), result.skipped.begin(), result.skipped.end());
    cursor = events->back().hq_seq;
    left -= static_cast<int64_t>(events->size());
    std::cout << out;
    out.clear();
  }
  std::cout << out << std::flush;
  nlohmann::json next{{"next_since", cursor}};
  if (!skipped.empty()) next["skipped"] = SkippedSummary(skipped);
  std::cerr << next.dump() << "\n";
  return kExitOk;
}

int Erase(const Args& args) {
  auto customer = args.options.find("--customer");
  if (customer == args.options.end() || customer->second.empty() || customer->second.size() > 64) {
    return BadUsage("--customer ID is required (the customer id the CRM knows)", "--customer");
  }
  auto reason = args.options.find("--reason");
  auto store = OpenStore(args);
  if (!store.ok()) return Report(store.error());
  int64_t now = Env::Default()->NowMs();
  auto event =
      (*store)->Erase(customer->second, reason == args.options.end() ? "" : reason->second, now);
  if (!event.ok()) return Report(event.error());
  std::cout << nlohmann::json{{"erased", customer->second},
                              {"event_id", event->id},
                              {"hq_seq", event->hq_seq}}
                   .dump()
            << "\n";
  return kExitOk;
}

int Status(const Args& args) {
  auto store = OpenStore(args);
  if (!store.ok()) return Report(store.error());
  auto count = (*store)->EventCount();
  if (!count.ok()) return Report(count.error());
  std::cout << nlohmann::json{{"events", *count}}.dump() << "\n";
  return kExitOk;
}

// `db init`: a new store; an existing SQLite file is refused, untouched.
int DbInit(const Args& args) {
  if (args.subcommand != "init") return BadUsage("usage: regulars-hq db init --db FILE", "db");
  if (auto db = args.options.find("--db");
      db != args.options.end() && Env::Default()->StampOf(db->second).exists) {
    return Report(Error::BadInput(
        "database_exists", db->second + " exists already: db init makes a new store only", "--db"));
  }
  auto store = OpenStore(args, IfMissing::kCreate);
  if (!store.ok()) return Report(store.error());
  auto count = (*store)->EventCount();
  if (!count.ok()) return Report(count.error());
  std::cout << nlohmann::json{{"created", args.options.count("--db") ? args.options.at("--db")
                                                                     : args.options.at("--pg")},
                              {"events", *count}}
                   .dump()
            << "\n";
  return kExitOk;
}

int Main(int argc, char** argv) {
  Args args;
  std::string problem;
  if (!Parse(argc, argv, &args, &problem)) return BadUsage(problem, "");
  if (args.command.empty() || args.command == "help") {
    std::cout << kUsage;
    return args.command.empty() ? kExitBadInput : kExitOk;
  }
  if (args.command == "db") return DbInit(args);
  if (!args.subcommand.empty()) return BadUsage("unexpected argument " + args.subcommand, "");
  if (args.command == "serve") return Serve(args);
  if (args.command == "status") return Status(args);
  if (args.command == "export") return Export(args);
  if (args.command == "erase") return Erase(args);
  return BadUsage("unknown command '" + args.command + "' (see regulars-hq --help)", args.command);
}

}  // namespace
}  // namespace regulars

int main(int argc, char** argv) {
  try {
    return regulars::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << regulars::ErrorJson(regulars::Error::Internal(e.what())) << "\n";
    return 1;
  }
}
