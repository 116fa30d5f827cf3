// The till's configuration file (Contract v1 "Config"), validated with precise errors.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/basket.h"
#include "env/env.h"
#include "json/json_input.h"
#include "recognition/qr_code.h"
#include "recognition/recognition_policy.h"
#include "result.h"
#include "rewards/rule.h"
#include "store/audit_chain.h"
#include "store/ledger_types.h"

namespace regulars {

// Staff latitude (docs/goodwill.md): what a cashier may give a customer per day, by the
// customer's tier ("" for a recognized customer without one), and per cashier per day.
// Every gesture is audited in a chain keyed by `audit_key`. Off when `enabled` is false.
struct GoodwillPolicy {
  bool enabled = false;
  std::map<std::string, int64_t> per_customer_per_day;  // tier id or "" -> minor units
  std::optional<int64_t> per_cashier_per_day;
  AuditKey audit_key;                        // writes; at least 32 bytes
  std::vector<AuditKey> retired_audit_keys;  // still verify the entries they wrote

  // Every key that verifies, newest first.
  std::vector<AuditKey> AuditKeys() const {
    std::vector<AuditKey> keys{audit_key};
    keys.insert(keys.end(), retired_audit_keys.begin(), retired_audit_keys.end());
    return keys;
  }
};

// The nightly sync to headquarters (docs/sync-protocol.md). Off when `hq_host` is empty.
struct SyncPolicy {
  std::string hq_host;
  uint16_t hq_port = 0;
  std::string ca, cert, key;  // PEM files, relative paths resolved against the config's folder
  int nightly_minute = 150;   // minutes after midnight in the till's local time: "02:30"
  int jitter_minutes = 60;    // each store starts at its own point of this window
  int64_t batch_events = 2000;
  int64_t batch_bytes = 4 << 20;
  int64_t pull_page = 2000;
  int64_t retry_initial_ms = 1000;  // exponential backoff with full jitter
  int64_t retry_max_ms = 300'000;
  int64_t give_up_after_ms = int64_t{4} * 3'600'000;  // then tomorrow night goes on from the cursor
  int connect_timeout_ms = 5000;
  int handshake_timeout_ms = 5000;
  int request_timeout_ms = 30'000;
  // The online look-up of a loyalty card the till does not know; 0: off.
  int lookup_timeout_ms = 300;

  bool enabled() const { return !hq_host.empty(); }
};

// The local HTTP/JSON service, `regulars serve` (docs/http-service.md). Off without a token.
struct HttpPolicy {
  std::string listen = "127.0.0.1";  // another address only when configured
  uint16_t port = 8420;
  std::string token;  // the bearer token: the hex text of a secret of at least 32 bytes
  int64_t max_body_bytes = 1 << 20;
  int64_t max_header_bytes = 16 << 10;
  int request_timeout_ms = 10'000;  // a request must arrive whole within this
  int idle_timeout_ms = 60'000;     // a keep-alive connection with nothing to say is closed
  int max_connections = 64;
  int threads = 2;

  bool enabled() const { return !token.empty(); }
};

struct Config {
  TillIdentity till;                       // store_id, till_id, currency
  std::vector<std::string> card_prefixes;  // default {"2"}: GS1's in-store range 20-29
  RuleSet rules;
  PaymentTokenPolicy payment_tokens;
  QrPolicy qr;  // no public keys: QR codes are not recognized
  ScannerFraming scanner;
  GoodwillPolicy goodwill;
  // Catalogue sentences overridden by this config: key -> text (docs/rules.md).
  std::map<std::string, LocalText> messages;
  // Product names by sku, for the sentences that name a product (a usual item).
  std::map<std::string, LocalText> products;
  SyncPolicy sync;
  HttpPolicy http;

  // A view of the policies recognition reads; valid while this config lives.
  RecognitionPolicy recognition() const { return {card_prefixes, payment_tokens, qr, scanner}; }
};

// `path` as written in the config file `source`: a relative path is relative to its folder.
std::string RelativeToConfig(const std::string& source, const std::string& path);

// Whose ledger a till with this identity opens: its store, till and currency.
inline LedgerOwner LedgerOwnerOf(const TillIdentity& till) {
  return {till.store_id, till.till_id, till.currency.code};
}

// Reads (through `env`) and validates a config file. Errors have code "invalid_config";
// `where` is "FILE#/json/pointer" for a bad field, or "FILE: line L, column C" for bad JSON.
// Secret files it names are read from the disk.
Result<Config> LoadConfigFile(const std::string& path, Env* env = Env::Default());

// The same from text already in memory; `source` names it in errors.
Result<Config> ParseConfig(std::string_view text, const std::string& source);

// A rule set as the ledger keeps it (RuleSet::kept: {"rules": [...], "caps": {...}}),
// read back under `version` with the config's checks; `source` names it in errors.
Result<RuleSet> ParseKeptRuleSet(std::string_view kept, const std::string& version,
                                 const std::string& source);

// Validates one rule object (Contract v1's rule form, rules.cc); `pointer` locates it in
// errors.
Result<Rule> ParseRule(const Json& json, const std::string& pointer);

}  // namespace regulars
