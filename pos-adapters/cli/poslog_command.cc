// `regulars import-poslog FILE`: sales a POS completed without Regulars, read from its
// ARTS POSLog export and counted toward the customers' rewards (docs/poslog.md).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkout/till.h"
#include "cli/cli.h"
#include "config/config.h"
#include "json/error_json.h"
#include "poslog/poslog.h"

namespace regulars_cli {
namespace {

using regulars::Error;
using Json = nlohmann::ordered_json;

constexpr const char* kUsage =
    "usage: regulars import-poslog FILE --config FILE --db FILE [--offset +HH:MM]";

int Fail(const Error& e) {
  std::cerr << regulars::ErrorJson(e) << "\n";
  bool bad_input = e.kind == regulars::ErrorKind::kBadInput ||
                   e.kind == regulars::ErrorKind::kConflict ||
                   e.kind == regulars::ErrorKind::kNotFound;
  return bad_input ? kExitBadInput : kExitFailure;
}

int BadArguments(const std::string& message, const std::string& where) {
  return Fail(Error::BadInput("invalid_arguments", message, where));
}

// An error from Till::Import names a basket by its index ("/3/lines/0/qty"): name the
// transaction and element of the file instead.
Error InFile(Error e, const regulars::poslog::Log& log, const std::string& file) {
  if (e.where.empty() || e.where[0] != '/') return e;  // not about one basket
  size_t slash = e.where.find('/', 1);
  std::string index = e.where.substr(1, slash == std::string::npos ? slash : slash - 1);
  std::string rest = slash == std::string::npos ? "" : e.where.substr(slash);
  size_t i = 0;
  try {
    i = std::stoul(index);
  } catch (const std::exception&) {
    return e;
  }
  if (i >= log.sales.size()) return e;
  e.where = regulars::poslog::WhereInLog(log.sales[i], file, rest);
  if (e.code == "invalid_basket") e.code = "invalid_poslog";
  return e;
}

}  // namespace

int RunImportPoslog(const std::vector<std::string>& args) {
  std::string file, config_path, db_path;
  regulars::poslog::Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" || a == "--db" || a == "--offset") {
      if (i + 1 >= args.size()) return BadArguments(a + " needs a value", a);
      const std::string& value = args[++i];
      (a == "--config" ? config_path : a == "--db" ? db_path : options.default_offset) = value;
    } else if (a.rfind("--", 0) == 0 && a.size() > 2) {
      return BadArguments("unknown option " + a + " (" + kUsage + ")", a);
    } else if (file.empty()) {
      file = a;
    } else {
      return BadArguments("import-poslog takes one FILE (" + std::string(kUsage) + ")", a);
    }
  }
  if (file.empty()) return BadArguments(kUsage, "FILE");
  if (config_path.empty()) return BadArguments("--config FILE is required", "--config");
  if (db_path.empty()) return BadArguments("--db FILE is required", "--db");
  if (!options.default_offset.empty() && !regulars::poslog::IsUtcOffset(options.default_offset)) {
    return BadArguments("--offset must be +HH:MM, -HH:MM or Z, not " + options.default_offset,
                        "--offset");
  }

  auto config = regulars::LoadConfigFile(config_path);
  if (!config.ok()) return Fail(config.error());
  options.store_id = config->till.store_id;
  options.currency = config->till.currency;
  // The whole file is read and checked before the ledger is even opened.
  auto log = regulars::poslog::ReadLog(file, options);
  if (!log.ok()) return Fail(log.error());

  if (int refused = RefuseAMissingLedger(db_path); refused >= 0) return refused;
  auto till = regulars::Till::Open(std::move(config).value(), db_path);
  if (!till.ok()) return Fail(NamingTheDbFlag(till.error(), db_path));
  std::vector<regulars::Json> baskets;
  baskets.reserve(log->sales.size());
  for (const auto& sale : log->sales) baskets.push_back(sale.basket);
  auto imported = (*till)->Import(baskets);
  if (!imported.ok()) return Fail(InFile(imported.error(), *log, file));

  Json report{{"file", file}, {"transactions", log->transactions}};
  int64_t fresh = 0, again = 0, recognized = 0;
  for (const auto& sale : *imported) {
    (sale.already_imported ? again : fresh) += 1;
    if (sale.customer_id) ++recognized;
  }
  Json skipped = Json::array();
  for (const auto& s : log->skipped) {
    skipped.push_back({{"index", s.index}, {"line", s.line}, {"reason", s.reason}});
  }
  report["imported"] = fresh;
  report["already_imported"] = again;
  report["skipped"] = std::move(skipped);
  report["recognized"] = recognized;
  report["unrecognized"] = static_cast<int64_t>(imported->size()) - recognized;
  std::cout << report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace regulars_cli
