// Shared pieces of the `regulars` command line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "regulars/regulars.h"
#include "result.h"

namespace regulars_cli {

// Exit statuses of Contract v1: 0 success, 2 bad input, 1 any other failure.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

// The exit status for a C ABI result code.
int ExitStatusOf(int code);

// Runs `regulars demo`: a day at one store on a fresh ledger. `db_path` empty means a new
// file in a temporary folder. With `hq` (HOST:PORT of a regulars-hq) and `pki` (the
// folder of installer/provision-pki.sh), the day ends with the nightly sync.
int RunDemo(const std::string& db_path, bool keep, const std::string& hq = "",
            const std::string& pki = "");

extern const char* const kDemoConfig;

// `regulars card issue --first DIGITS12 --count N --key FILE --key-id N --out DIR`.
int RunCardIssue(const std::map<std::string, std::string>& options);
// `regulars scan IMAGE`: the codes in the image, and who they recognize.
int RunScanImage(regulars_till* till, const std::string& path);

// `regulars db init --config FILE --db FILE`: a new ledger for the config's till; an existing
// file is refused ("database_exists"), untouched.
int RunDbInit(const std::string& config_path, const std::string& db_path);

// Every command but `db init` opens an existing ledger only. Returns -1 when the --db FILE
// exists; otherwise prints why not ("database_not_found", "folder_not_found", `where`
// "--db") and returns exit status 2, having created nothing.
int RefuseAMissingLedger(const std::string& db_path);

// An error about the --db FILE as the command line shows it: `where` is the flag, and the
// message names the file.
regulars::Error NamingTheDbFlag(regulars::Error error, const std::string& db_path);

// Prints regulars_open's error JSON (then frees it), naming --db when it is about the
// ledger file; returns the exit status for `code`.
int ReportOpenFailure(int code, char* error_json, const std::string& db_path);

// `regulars sync now|status` (what: "now" or "status").
int RunSync(const std::string& what, const std::string& config_path, const std::string& db_path,
            bool quiet);

// The nightly sync of `regulars serve`, on its own ledger connection; never returns.
void RunNightlySync(const std::string& config_path, const std::string& db_path);

struct ServeOptions {
  std::string config_path;
  std::string db_path;
  int port = -1;             // --port N: instead of the config's (0: any free port)
  std::string port_file;     // --port-file FILE: where to write the port listened on
  bool nightly_sync = true;  // false with --no-nightly-sync: the systemd timer syncs
};

// `regulars serve`: the HTTP service and cashier panel (the config's "http"), and the
// nightly sync (its "sync"), until SIGINT or SIGTERM.
int RunServe(const ServeOptions& options);

// `regulars scanner --device PATH|-`: each line a scanner sends, to the running service's
// POST /v1/recognize (which shows it on the panel); one JSON line out per scan.
// `port` >= 0 replaces the config's (a service started with --port).
int RunScanner(const std::string& config_path, const std::string& device, int port = -1);

// `regulars import-poslog FILE --config FILE --db FILE [--offset +HH:MM]`: `args` are the
// words after the command. Prints the import's report (docs/poslog.md).
int RunImportPoslog(const std::vector<std::string>& args);

}  // namespace regulars_cli
