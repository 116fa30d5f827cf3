// The ledger file of the command line: `regulars db init` creates it; every other command
// opens an existing one only, so a mistyped --db never starts an empty ledger.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "config/config.h"
#include "env/env.h"
#include "json/error_json.h"
#include "store/ledger.h"

namespace regulars_cli {
namespace {

int Print(const regulars::Error& e) {
  std::cerr << regulars::ErrorJson(e) << "\n";
  return e.kind == regulars::ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

}  // namespace

regulars::Error NamingTheDbFlag(regulars::Error error, const std::string& db_path) {
  if (error.where != db_path) return error;
  error.where = "--db";
  if (error.message.find(db_path) == std::string::npos) error.message += " (" + db_path + ")";
  return error;
}

int ReportOpenFailure(int code, char* error_json, const std::string& db_path) {
  auto parsed = nlohmann::json::parse(error_json ? error_json : "", nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("error")) {
    std::cerr << (error_json ? error_json : "regulars_open failed") << "\n";
  } else {
    const auto& e = parsed["error"];
    regulars::Error error{regulars::ErrorKind::kBadInput, e.value("code", ""),
                          e.value("message", ""), e.value("where", "")};
    std::cerr << regulars::ErrorJson(NamingTheDbFlag(std::move(error), db_path)) << "\n";
  }
  regulars_free(error_json);
  return ExitStatusOf(code);
}

int RefuseAMissingLedger(const std::string& db_path) {
  auto place = regulars::CheckDatabasePlace(db_path, regulars::IfMissing::kRefuse);
  if (place.ok()) return -1;
  return Print(NamingTheDbFlag(place.error(), db_path));
}

int RunDbInit(const std::string& config_path, const std::string& db_path) {
  if (regulars::Env::Default()->StampOf(db_path).exists) {
    return Print(regulars::Error::BadInput(
        "database_exists", db_path + " exists already: db init makes a new ledger only", "--db"));
  }
  auto config = regulars::LoadConfigFile(config_path);
  if (!config.ok()) return Print(config.error());
  const auto& till = config->till;
  auto ledger = regulars::Ledger::Open(db_path, regulars::LedgerOwnerOf(till));
  if (!ledger.ok()) return Print(NamingTheDbFlag(ledger.error(), db_path));
  nlohmann::ordered_json out{{"created", db_path},
                             {"store_id", till.store_id},
                             {"till_id", till.till_id},
                             {"currency", till.currency.code}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace regulars_cli
