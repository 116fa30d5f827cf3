// `regulars`: Contract v1's command line over the C ABI.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "json/error_json.h"

namespace regulars_cli {

int ExitStatusOf(int code) {
  switch (code) {
    case REGULARS_OK:
      return kExitOk;
    case REGULARS_E_INVALID_INPUT:
    case REGULARS_E_NOT_FOUND:
    case REGULARS_E_CONFLICT:
    case REGULARS_E_ARGUMENT:
      return kExitBadInput;
    default:
      return kExitFailure;
  }
}

namespace {

constexpr const char* kUsage = R"(usage: regulars COMMAND [OPTIONS]

Commands (all take --config FILE and --db FILE; every one but db init refuses a --db FILE
that does not exist):
  db init                       create the ledger for the config's till (refused if it exists)
  enroll --card NUMBER [--first-name NAME]
                                enrol a loyalty card; prints {"customer": {"id": ...}}
  checkout [--dry-run] FILE|-   evaluate and commit a basket; prints the receipt
  void POS_TXN_ID               cancel a committed sale
  refund FILE|-                 return lines of a sale (a basket with "refund_of")
  link FILE|-                   link a payment card to a customer, with their consent
  import-poslog FILE [--offset +HH:MM]
                                count the sales of an ARTS POSLog file toward rewards
  scan IMAGE                    decode QR codes and barcodes in a PNG or JPEG; recognize
  card issue --first DIGITS --count N --key FILE --key-id N --out DIR
                                make signed cards as PNG and SVG (HQ; no --config/--db)
  card replace --card OLD --new-card NEW [--cashier ID]
                                give a customer a new card for a lost one, with their history
  db verify                     recompute every counter from the events; exit 1 if one differs
  audit verify                  check the goodwill audit chain's MACs; exit 1 if one is wrong
  sync now [--quiet]            push this till's events to HQ, then pull the other stores'
                                (the config's "sync" section); a progress bar on stderr
  sync status                   last success, backlog, oldest unsent event, next run
  serve [--port N] [--port-file FILE] [--no-nightly-sync]
                                the HTTP/JSON service and cashier panel (the config's
                                "http"), and the nightly sync (its "sync"), until stopped;
                                --no-nightly-sync leaves the sync to regulars-sync.timer
  scanner --device PATH|- [--port N]
                                read scanner lines (a tty, a file, - for stdin), recognize
                                each through the running service and show it on the panel
  config check FILE             validate a config file (no --db); errors name FILE#/pointer
  demo [--db FILE] [--keep] [--hq HOST:PORT --pki DIR]
                                a day at one store on a fresh ledger (no --config needed);
                                with a running regulars-hq, the night's sync ends it
  version                       print the library and ABI versions

Exit status: 0 success, 2 bad input, 1 any other failure. Errors are JSON on stderr.
)";

constexpr size_t kMaxInputBytes = size_t{16} * 1024 * 1024;

using regulars::ErrorJson;

int BadUsage(const std::string& message, const std::string& where) {
  std::cerr << ErrorJson("invalid_arguments", message, where) << "\n";
  return kExitBadInput;
}

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --config, --db, --card, ...
  bool dry_run = false;
  bool keep = false;
  bool quiet = false;
  bool no_nightly_sync = false;  // serve: the systemd timer runs `sync now` instead
  std::string input;             // the basket or refund read from FILE or stdin
};

bool Parse(int argc, char** argv, Args* args, std::string* problem) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      args->command = "help";
    } else if (a == "--dry-run") {
      args->dry_run = true;
    } else if (a == "--keep") {
      args->keep = true;
    } else if (a == "--quiet") {
      args->quiet = true;
    } else if (a == "--no-nightly-sync") {
      args->no_nightly_sync = true;
    } else if (a == "--config" || a == "--db" || a == "--card" || a == "--first" ||
               a == "--count" || a == "--key" || a == "--key-id" || a == "--out" || a == "--hq" ||
               a == "--pki" || a == "--port" || a == "--port-file" || a == "--device" ||
               a == "--first-name" || a == "--new-card" || a == "--cashier") {
      if (i + 1 >= argc) {
        *problem = a + " needs a value";
        return false;
      }
      args->options[a] = argv[++i];
    } else if (a.rfind("--", 0) == 0 && a.size() > 2) {
      *problem = "unknown option " + a;
      return false;
    } else if (args->command.empty()) {
      args->command = a;
    } else {
      args->positional.push_back(a);
    }
  }
  return true;
}

// Reads FILE, or standard input for "-", up to 16 MiB (reading one byte past the limit,
// so /dev/zero is refused quickly). The C ABI takes NUL-terminated text: a NUL inside
// would silently cut the input, so it is refused.
bool ReadInput(const std::string& name, std::string* text, std::string* problem) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (name != "-") {
    file.open(name, std::ios::binary);
    if (!file) {
      *problem = "cannot read " + name;
      return false;
    }
    in = &file;
  }
  text->assign(kMaxInputBytes + 1, '\0');
  in->read(text->data(), static_cast<std::streamsize>(text->size()));
  if (in->bad()) {
    *problem = "cannot read " + name;
    return false;
  }
  text->resize(static_cast<size_t>(in->gcount()));
  if (text->size() > kMaxInputBytes) {
    *problem = name + " is larger than 16 MiB";
    return false;
  }
  if (text->find('\0') != std::string::npos) {
    *problem = name + " holds a NUL byte at offset " + std::to_string(text->find('\0'));
    return false;
  }
  return true;
}

// Prints the call's text (stdout on success, stderr on failure) and frees it.
int Report(int code, char* text) {
  if (text != nullptr) {
    (code == REGULARS_OK ? std::cout : std::cerr) << text << "\n";
    regulars_free(text);
  } else if (code != REGULARS_OK) {
    std::cerr << ErrorJson("internal", "the library gave no message (out of memory?)", "") << "\n";
  }
  return ExitStatusOf(code);
}

// As Report, for a call that read the input file `name`: an error placed at a line and
// column of the JSON names the file too ("basket.json: line 4, column 20"), since the
// library never saw the file's name.
int ReportForInput(int code, char* text, const std::string& name) {
  if (code == REGULARS_OK || text == nullptr) return Report(code, text);
  auto error = nlohmann::json::parse(text, nullptr, false);
  regulars_free(text);
  if (error.is_discarded() || !error.contains("error") || !error["error"].is_object()) {
    std::cerr << ErrorJson("internal", "the library's error is not JSON", "") << "\n";
    return ExitStatusOf(code);
  }
  auto& where = error["error"]["where"];
  if (where.is_string() && where.get<std::string>().rfind("line ", 0) == 0) {
    where = (name == "-" ? std::string("standard input") : name) + ": " + where.get<std::string>();
  }
  std::cerr << error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return ExitStatusOf(code);
}

// Exit status 2 when --config or --db is missing, -1 when both are given.
int RequireConfigAndDb(const Args& args) {
  for (const char* required : {"--config", "--db"}) {
    if (!args.options.count(required)) {
      return BadUsage(std::string(required) + " FILE is required", required);
    }
  }
  return -1;
}

int WithTill(const Args& args, int (*run)(regulars_till*, const Args&)) {
  if (int missing = RequireConfigAndDb(args); missing >= 0) return missing;
  auto config = args.options.find("--config");
  auto db = args.options.find("--db");
  regulars_till* till = nullptr;
  char* error = nullptr;
  if (int refused = RefuseAMissingLedger(db->second); refused >= 0) return refused;
  int code = regulars_open(&till, config->second.c_str(), db->second.c_str(), &error);
  if (code != REGULARS_OK) return ReportOpenFailure(code, error, db->second);
  int status = run(till, args);
  regulars_close(till);
  return status;
}

// Checks a command's own arguments before anything is opened, so a usage error never
// creates or touches a ledger file. Returns an exit status, or -1 when all is well.
int CheckArguments(const Args& args) {
  const std::string& c = args.command;
  if ((c == "enroll" || c == "card") && !args.options.count("--card")) {
    return BadUsage("--card NUMBER is required", "--card");
  }
  if (c == "card" && !args.options.count("--new-card")) {
    return BadUsage("--new-card NUMBER is required", "--new-card");
  }
  if ((c == "checkout" || c == "refund" || c == "link") && args.positional.size() != 1) {
    return BadUsage(c + " takes one FILE (or - for stdin)", "FILE");
  }
  if (c == "scan" && args.positional.size() != 1) {
    return BadUsage("scan takes one IMAGE (PNG or JPEG)", "IMAGE");
  }
  if (c == "void" && args.positional.size() != 1) {
    return BadUsage("void takes one POS_TXN_ID", "POS_TXN_ID");
  }
  if (c == "db" && (args.positional.size() != 1 ||
                    (args.positional[0] != "verify" && args.positional[0] != "init"))) {
    return BadUsage("usage: regulars db verify|init --config FILE --db FILE", "db");
  }
  if (c == "audit" && (args.positional.size() != 1 || args.positional[0] != "verify")) {
    return BadUsage("usage: regulars audit verify --config FILE --db FILE", "audit");
  }
  return -1;
}

using AbiCall = int (*)(regulars_till*, const char*, char**);

// Calls `call` with `request`, and reports as Report does; an error about one of the
// request's members names its command-line flag instead (`flags`: member -> flag), while
// an error about the ledger keeps its own `where`.
int CallWithFlags(regulars_till* till, AbiCall call, const nlohmann::json& request,
                  const std::map<std::string, std::string>& flags) {
  char* out = nullptr;
  int code = call(
      till, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str(), &out);
  if (code == REGULARS_OK || out == nullptr) return Report(code, out);
  auto error = nlohmann::json::parse(out, nullptr, false);
  regulars_free(out);
  if (!error.is_discarded() && error.contains("error")) {
    std::string where = error["error"].value("where", "");
    auto flag = where.empty() ? flags.end() : flags.find(where.substr(1));
    if (flag != flags.end()) error["error"]["where"] = flag->second;
  }
  std::cerr << error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return ExitStatusOf(code);
}

int Enroll(regulars_till* till, const Args& args) {
  nlohmann::json request{{"card", args.options.at("--card")}};
  if (auto name = args.options.find("--first-name"); name != args.options.end()) {
    request["first_name"] = name->second;
  }
  return CallWithFlags(till, regulars_enroll, request,
                       {{"card", "--card"}, {"first_name", "--first-name"}});
}

int CardReplace(regulars_till* till, const Args& args) {
  nlohmann::json request{{"card", args.options.at("--card")},
                         {"new_card", args.options.at("--new-card")}};
  if (auto cashier = args.options.find("--cashier"); cashier != args.options.end()) {
    request["cashier_id"] = cashier->second;
  }
  return CallWithFlags(
      till, regulars_replace_card, request,
      {{"card", "--card"}, {"new_card", "--new-card"}, {"cashier_id", "--cashier"}});
}

int Checkout(regulars_till* till, const Args& args) {
  char* out = nullptr;
  int code = args.dry_run ? regulars_evaluate(till, args.input.c_str(), &out)
                          : regulars_commit(till, args.input.c_str(), &out);
  return ReportForInput(code, out, args.positional[0]);
}

int Void(regulars_till* till, const Args& args) {
  nlohmann::json request{{"pos_txn_id", args.positional[0]}};
  char* out = nullptr;
  int code = regulars_void(
      till, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str(), &out);
  return Report(code, out);
}

int Refund(regulars_till* till, const Args& args) {
  char* out = nullptr;
  int code = regulars_refund(till, args.input.c_str(), &out);
  return ReportForInput(code, out, args.positional[0]);
}

int Link(regulars_till* till, const Args& args) {
  char* out = nullptr;
  int code = regulars_link(till, args.input.c_str(), &out);
  return ReportForInput(code, out, args.positional[0]);
}

int ScanImage(regulars_till* till, const Args& args) {
  return RunScanImage(till, args.positional[0]);
}

// Prints a verify report and exits 0 when it says "ok", 1 when it found problems.
int PrintVerifyReport(int code, char* out) {
  if (code != REGULARS_OK || out == nullptr) return Report(code, out);
  auto report = nlohmann::json::parse(out, nullptr, false);
  bool ok = !report.is_discarded() && report.value("ok", false);
  std::cout << out << "\n";
  regulars_free(out);
  return ok ? kExitOk : kExitFailure;
}

int DbVerify(regulars_till* till, const Args&) {
  char* out = nullptr;
  int code = regulars_db_verify(till, &out);
  return PrintVerifyReport(code, out);
}

int AuditVerify(regulars_till* till, const Args&) {
  char* out = nullptr;
  int code = regulars_audit_verify(till, &out);
  return PrintVerifyReport(code, out);
}

// `regulars serve` and `regulars scanner`: their arguments checked, then run.
int ServeOrScanner(const Args& args) {
  const std::string& c = args.command;
  if (!args.positional.empty()) return BadUsage(c + " takes no positional argument", c);
  if (!args.options.count("--config")) return BadUsage("--config FILE is required", "--config");
  if (c == "scanner") {
    if (!args.options.count("--device")) {
      return BadUsage("--device PATH is required (- for standard input)", "--device");
    }
  }
  int port = -1;
  if (auto given = args.options.find("--port"); given != args.options.end()) {
    const std::string& p = given->second;
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(p) > 65535) {
      return BadUsage("--port is a number from 0 to 65535 (0: any free port)", "--port");
    }
    port = std::stoi(p);
  }
  if (c == "scanner") {
    return RunScanner(args.options.at("--config"), args.options.at("--device"), port);
  }
  if (!args.options.count("--db")) return BadUsage("--db FILE is required", "--db");
  ServeOptions serve;
  serve.config_path = args.options.at("--config");
  serve.db_path = args.options.at("--db");
  serve.port = port;
  serve.nightly_sync = !args.no_nightly_sync;
  if (auto file = args.options.find("--port-file"); file != args.options.end()) {
    serve.port_file = file->second;
  }
  return RunServe(serve);
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "import-poslog") {
    return RunImportPoslog(std::vector<std::string>(argv + 2, argv + argc));
  }
  Args args;
  std::string problem;
  if (!Parse(argc, argv, &args, &problem)) return BadUsage(problem, "");
  const std::string& c = args.command;
  if (c.empty() || c == "help") {
    std::cout << kUsage;
    return c.empty() ? kExitBadInput : kExitOk;
  }
  if (c == "version") {
    std::cout << "regulars " << regulars_version() << " (ABI " << regulars_abi_version() << ")\n";
    return kExitOk;
  }
  if (c == "config") {
    if (args.positional.size() != 2 || args.positional[0] != "check") {
      return BadUsage("usage: regulars config check FILE", "config");
    }
    char* out = nullptr;
    int code = regulars_config_check(args.positional[1].c_str(), &out);
    return Report(code, out);
  }
  if (c == "card") {
    if (args.positional.size() == 1 && args.positional[0] == "replace") {
      if (int status = CheckArguments(args); status >= 0) return status;
      return WithTill(args, CardReplace);
    }
    if (args.positional.size() != 1 || args.positional[0] != "issue") {
      return BadUsage(
          "usage: regulars card issue --first DIGITS --count N --key FILE --key-id N "
          "--out DIR, or regulars card replace --card OLD --new-card NEW [--cashier ID]",
          "card");
    }
    return RunCardIssue(args.options);
  }
  if (c == "demo") {
    auto db = args.options.find("--db");
    auto hq = args.options.find("--hq");
    auto pki = args.options.find("--pki");
    if ((hq == args.options.end()) != (pki == args.options.end())) {
      return BadUsage("--hq HOST:PORT and --pki DIR go together", "--hq");
    }
    return RunDemo(db == args.options.end() ? "" : db->second, args.keep,
                   hq == args.options.end() ? "" : hq->second,
                   pki == args.options.end() ? "" : pki->second);
  }
  if (c == "serve" || c == "scanner") return ServeOrScanner(args);
  if (c == "sync") {
    bool now_or_status = args.positional.size() == 1 &&
                         (args.positional[0] == "now" || args.positional[0] == "status");
    if (!now_or_status) {
      return BadUsage("usage: regulars sync now|status --config FILE --db FILE", c);
    }
    if (int missing = RequireConfigAndDb(args); missing >= 0) return missing;
    return RunSync(args.positional[0], args.options.at("--config"), args.options.at("--db"),
                   args.quiet);
  }
  const std::map<std::string, int (*)(regulars_till*, const Args&)> commands = {
      {"enroll", Enroll}, {"checkout", Checkout}, {"void", Void},   {"refund", Refund},
      {"link", Link},     {"scan", ScanImage},    {"db", DbVerify}, {"audit", AuditVerify}};
  auto command = commands.find(c);
  if (command == commands.end()) {
    return BadUsage("unknown command '" + c + "' (see regulars --help)", c);
  }
  if (int status = CheckArguments(args); status >= 0) return status;
  if (c == "db" && args.positional[0] == "init") {
    if (int missing = RequireConfigAndDb(args); missing >= 0) return missing;
    return RunDbInit(args.options.at("--config"), args.options.at("--db"));
  }
  if ((c == "checkout" || c == "refund" || c == "link") &&
      !ReadInput(args.positional[0], &args.input, &problem)) {
    return BadUsage(problem, args.positional[0]);
  }
  return WithTill(args, command->second);
}

}  // namespace
}  // namespace regulars_cli

int main(int argc, char** argv) {
  try {
    return regulars_cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << regulars_cli::ErrorJson("internal", e.what(), "") << "\n";
    return regulars_cli::kExitFailure;
  }
}
