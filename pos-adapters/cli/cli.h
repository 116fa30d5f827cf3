// Shared pieces of the `regulars` command line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "regulars/regulars.h"

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

// `regulars sync now|status` and `regulars serve` (what: "now", "status" or "serve").
int RunSync(const std::string& what, const std::string& config_path, const std::string& db_path,
            bool quiet);

// `regulars import-poslog FILE --config FILE --db FILE [--offset +HH:MM]`: `args` are the
// words after the command. Prints the import's report (docs/poslog.md).
int RunImportPoslog(const std::vector<std::string>& args);

}  // namespace regulars_cli
