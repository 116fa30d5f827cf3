// `regulars-hq`: headquarters' side of the nightly sync (docs/sync-protocol.md).
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hq_service.h"
#include "hq_store.h"
#include "tls_transport.h"

namespace regulars {
namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2;

constexpr const char* kUsage = R"(usage: regulars-hq COMMAND [OPTIONS]

Commands (the store is --db FILE, a SQLite file created if absent):
  serve --listen ADDRESS:PORT --ca FILE --cert FILE --key FILE [--rules FILE] [--port-file FILE]
        take the tills' batches and answer their pulls over mutual-TLS HTTPS until
        SIGINT or SIGTERM; port 0 picks a free port (written to --port-file)
  status                        the events held, per store
  help                          this text

Exit status: 0 success, 2 bad input, 1 any other failure. Errors are JSON on stderr.
)";

int Report(const Error& e) {
  std::cerr << ErrorBody(e) << "\n";
  return e.kind == ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

int BadUsage(const std::string& message, const std::string& where) {
  return Report(Error::BadInput("invalid_arguments", message, where));
}

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
};

const std::vector<std::string> kValueOptions = {"--db",    "--listen", "--ca",        "--cert",
                                                "--key",   "--rules",  "--port-file", "--since",
                                                "--limit", "--format", "--table"};

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
    } else {
      *problem = "unexpected argument " + a;
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<HqStore>> OpenStore(const Args& args) {
  auto db = args.options.find("--db");
  if (db == args.options.end()) {
    return Error::BadInput("invalid_arguments", "--db FILE is required", "--db");
  }
  auto store = SqliteHqStore::Open(db->second);
  if (!store.ok()) return store.error();
  return std::unique_ptr<HqStore>(std::move(store).value());
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
  auto store = OpenStore(args);
  if (!store.ok()) return Report(store.error());
  auto rules = args.options.find("--rules");
  HqService service(**store, rules == args.options.end() ? "" : rules->second);

  // Signals are taken by this thread alone (sigwait), never by a connection's thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = TlsServer::Start(
      listen.substr(0, colon), static_cast<uint16_t>(port),
      {args.options.at("--ca"), args.options.at("--cert"), args.options.at("--key")},
      [&service](const HttpRequest& request) { return service.Handle(request); });
  if (!server.ok()) return Report(server.error());
  uint16_t bound = (*server)->port();
  if (auto file = args.options.find("--port-file"); file != args.options.end()) {
    // Written whole, then renamed: a reader never sees half a number.
    std::string temporary = file->second + ".new";
    std::ofstream(temporary) << bound << "\n";
    std::rename(temporary.c_str(), file->second.c_str());
  }
  std::cout
      << nlohmann::json{{"listening", listen.substr(0, colon) + ":" + std::to_string(bound)}}.dump()
      << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  (*server)->Stop();
  std::cout << nlohmann::json{{"stopped", signal == SIGINT ? "SIGINT" : "SIGTERM"}}.dump()
            << std::endl;
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

int Main(int argc, char** argv) {
  Args args;
  std::string problem;
  if (!Parse(argc, argv, &args, &problem)) return BadUsage(problem, "");
  if (args.command.empty() || args.command == "help") {
    std::cout << kUsage;
    return args.command.empty() ? kExitBadInput : kExitOk;
  }
  if (args.command == "serve") return Serve(args);
  if (args.command == "status") return Status(args);
  return BadUsage("unknown command '" + args.command + "' (see regulars-hq --help)", args.command);
}

}  // namespace
}  // namespace regulars

int main(int argc, char** argv) {
  try {
    return regulars::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << regulars::ErrorBody(regulars::Error::Internal(e.what())) << "\n";
    return 1;
  }
}
