#include "config/config.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "config/config_fields.h"
#include "domain/hex.h"
#include "domain/timestamp.h"
#include "rewards/messages.h"

namespace regulars {
namespace {

using config_fields::IsIdChar;
using config_fields::kCode;
using config_fields::kMaxMoney;
using config_fields::ParseText;
using config_fields::RequireKnownKeys;

constexpr size_t kMaxConfigBytes = size_t{16} * 1024 * 1024;

// Every top-level field of a config (config/schema/config.schema.json lists the same).
const std::vector<std::string> kTopLevelKeys = {
    "store_id", "till_id",  "currency", "card_prefixes",  "rules_version",
    "rules",    "qr",       "scanner",  "payment_tokens", "caps",
    "goodwill", "messages", "products", "sync",           "http"};
// The fields of an object that holds a secret (ReadSecret): a token key, an audit key, the
// HTTP token.
const std::vector<std::string> kSecretFields = {"version", "secret_hex", "secret_file"};

Result<std::vector<unsigned char>> DecodeHex(std::string_view hex) {
  std::vector<unsigned char> bytes;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.remove_suffix(1);
  }
  if (hex.size() % 2 != 0)
    return Error::BadInput(kCode, "a secret is an even number of hex digits");
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error::BadInput(kCode, "a secret is written in hex digits");
    bytes.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return bytes;
}

}  // namespace

std::string RelativeToConfig(const std::string& source, const std::string& path) {
  auto slash = source.rfind('/');
  if (path.starts_with("/") || slash == std::string::npos) return path;
  return source.substr(0, slash + 1) + path;
}

namespace {

// A secret of at least 32 bytes: {"secret_hex": "..."} or {"secret_file": "name.key"},
// a file read relative to the config file's folder. Never echoed in an error.
Result<std::vector<unsigned char>> ReadSecret(const FieldReader& k, const std::string& source,
                                              const std::string& what) {
  std::string hex;
  if (k.Has("secret_hex")) {
    REGULARS_ASSIGN_OR_RETURN(auto text, k.String("secret_hex", 1024));
    hex = text;
  } else {
    auto file = k.String("secret_file", 4096);
    if (!file.ok()) return k.Fail("secret_hex", "secret_hex or secret_file is required");
    std::string path = RelativeToConfig(source, *file);
    auto content = Env::Default()->ReadFile(path, 4096);
    if (!content.ok() || content->empty()) return k.Fail("secret_file", "cannot read " + path);
    hex = std::move(content).value();
  }
  auto secret = DecodeHex(hex);
  Wipe(hex);
  const char* field = k.Has("secret_hex") ? "secret_hex" : "secret_file";
  if (!secret.ok()) return k.Fail(field, secret.error().message);
  if (secret->size() < 32) return k.Fail(field, what + " is at least 32 bytes (64 hex digits)");
  return secret;
}

// "payment_tokens": {"keys": [{"version": 2, "secret_hex": "..."} or {"version": 2,
// "secret_file": "token-v2.key"}], "pseudonymous_profiles": false}. A secret file is
// read relative to the config file's folder.
Result<PaymentTokenPolicy> ParsePaymentTokens(const FieldReader& parent,
                                              const std::string& source) {
  PaymentTokenPolicy policy;
  if (!parent.Has("payment_tokens")) return policy;
  FieldReader r(parent.Get("payment_tokens"), parent.PointerTo("payment_tokens"), kCode);
  REGULARS_TRY(r.RequireObject("payment_tokens"));
  REGULARS_TRY(RequireKnownKeys(r, {"keys", "pseudonymous_profiles"}, "payment_tokens"));
  if (r.Has("pseudonymous_profiles")) {
    const Json& flag = r.Get("pseudonymous_profiles");
    if (!flag.is_boolean()) return r.Fail("pseudonymous_profiles", "must be true or false");
    policy.pseudonymous_profiles = flag.get<bool>();
  }
  auto keys = r.Array("keys");
  if (!keys.ok()) return keys.error();
  std::set<int64_t> versions;
  for (size_t i = 0; i < (*keys)->size(); ++i) {
    FieldReader k((**keys)[i], JsonPointer(r.PointerTo("keys"), i), kCode);
    REGULARS_TRY(k.RequireObject("a key"));
    REGULARS_TRY(RequireKnownKeys(k, kSecretFields, "a token key"));
    auto version = k.Integer("version", 1, 1000000);
    if (!version.ok()) return version.error();
    if (!versions.insert(*version).second) return k.Fail("version", "key version used twice");
    REGULARS_ASSIGN_OR_RETURN(auto secret, ReadSecret(k, source, "a token secret"));
    policy.keys.push_back({static_cast<int>(*version), std::move(secret)});
  }
  std::sort(policy.keys.begin(), policy.keys.end(),
            [](const TokenKey& a, const TokenKey& b) { return a.version > b.version; });
  return policy;
}

// "qr": {"public_keys": [{"key_id": 1, "public_key_hex": "..."}], "time_step_seconds": 30,
// "tolerance_steps": 1}. A retired key is simply removed from the list.
Result<QrPolicy> ParseQr(const FieldReader& parent) {
  QrPolicy policy;
  if (!parent.Has("qr")) return policy;
  FieldReader r(parent.Get("qr"), parent.PointerTo("qr"), kCode);
  REGULARS_TRY(r.RequireObject("qr"));
  REGULARS_TRY(RequireKnownKeys(r, {"public_keys", "time_step_seconds", "tolerance_steps"}, "qr"));
  REGULARS_ASSIGN_OR_RETURN(auto step, r.OptionalInteger("time_step_seconds", 30, 60));
  policy.time_step_seconds = static_cast<int>(step.value_or(30));
  REGULARS_ASSIGN_OR_RETURN(auto tolerance, r.OptionalInteger("tolerance_steps", 0, 2));
  policy.tolerance_steps = static_cast<int>(tolerance.value_or(1));
  REGULARS_ASSIGN_OR_RETURN(auto keys, r.Array("public_keys"));
  for (size_t i = 0; i < keys->size(); ++i) {
    FieldReader k((*keys)[i], JsonPointer(r.PointerTo("public_keys"), i), kCode);
    REGULARS_TRY(k.RequireObject("a public key"));
    REGULARS_TRY(RequireKnownKeys(k, {"key_id", "public_key_hex"}, "a public key"));
    auto id = k.Integer("key_id", 0, 255);
    if (!id.ok()) return id.error();
    auto hex = k.String("public_key_hex", 64);
    if (!hex.ok()) return hex.error();
    auto key = PublicKeyFromHex(*hex);
    if (!key) return k.Fail("public_key_hex", "an Ed25519 public key is 64 hex digits");
    if (!policy.public_keys.emplace(static_cast<int>(*id), *key).second) {
      return k.Fail("key_id", "key id used twice");
    }
  }
  return policy;
}

Result<ScannerFraming> ParseScanner(const FieldReader& parent) {
  ScannerFraming framing;
  if (!parent.Has("scanner")) return framing;
  FieldReader r(parent.Get("scanner"), parent.PointerTo("scanner"), kCode);
  REGULARS_TRY(r.RequireObject("scanner"));
  REGULARS_TRY(RequireKnownKeys(r, {"prefix", "suffix"}, "scanner"));
  for (auto [key, field] : {std::pair{"prefix", &framing.prefix}, {"suffix", &framing.suffix}}) {
    if (!r.Has(key)) continue;
    if (!r.Get(key).is_string() || r.Get(key).get_ref<const std::string&>().size() > 16) {
      return r.Fail(key, std::string(key) + " is a string of at most 16 characters");
    }
    *field = r.Get(key).get<std::string>();
  }
  return framing;
}

// "goodwill": {"per_customer_per_day": {"default": 200, "tiers": {"gold": 1000}},
// "per_cashier_per_day": 5000, "audit_key": {"secret_hex": ...} or {"secret_file": ...}}.
Result<GoodwillPolicy> ParseGoodwill(const FieldReader& parent, const std::string& source,
                                     const std::vector<Rule>& rules) {
  GoodwillPolicy policy;
  if (!parent.Has("goodwill")) return policy;
  FieldReader g(parent.Get("goodwill"), parent.PointerTo("goodwill"), kCode);
  REGULARS_TRY(g.RequireObject("goodwill"));
  REGULARS_TRY(RequireKnownKeys(
      g, {"per_customer_per_day", "per_cashier_per_day", "audit_key", "retired_audit_keys"},
      "goodwill"));
  if (!g.Has("per_customer_per_day")) {
    return g.Fail("per_customer_per_day", "per_customer_per_day is required");
  }
  FieldReader b(g.Get("per_customer_per_day"), g.PointerTo("per_customer_per_day"), kCode);
  REGULARS_TRY(b.RequireObject("per_customer_per_day"));
  REGULARS_TRY(RequireKnownKeys(b, {"default", "tiers"}, "per_customer_per_day"));
  REGULARS_ASSIGN_OR_RETURN(auto base, b.OptionalInteger("default", 0, kMaxMoney));
  policy.per_customer_per_day[""] = base.value_or(0);
  if (b.Has("tiers")) {
    FieldReader t(b.Get("tiers"), b.PointerTo("tiers"), kCode);
    REGULARS_TRY(t.RequireObject("tiers"));
    for (const auto& item : t.object().items()) {
      const std::string& tier = item.key();
      bool known = std::any_of(rules.begin(), rules.end(), [&](const Rule& rule) {
        return rule.kind == RuleKind::kTier && rule.id == tier;
      });
      if (!known) return t.Fail(tier, "'" + tier + "' is not a tier rule of this config");
      REGULARS_ASSIGN_OR_RETURN(auto amount, t.Integer(tier, 0, kMaxMoney));
      policy.per_customer_per_day[tier] = amount;
    }
  }
  REGULARS_ASSIGN_OR_RETURN(auto cashier, g.OptionalInteger("per_cashier_per_day", 0, kMaxMoney));
  policy.per_cashier_per_day = cashier;
  if (!g.Has("audit_key")) {
    return g.Fail("audit_key", "goodwill needs an audit_key: every gesture is audited");
  }
  // {"version": 2, "secret_hex" or "secret_file": ...}; version 1 when not given.
  auto read_key = [&](const Json& json, const std::string& pointer) -> Result<AuditKey> {
    FieldReader k(json, pointer, kCode);
    REGULARS_TRY(k.RequireObject("an audit key"));
    REGULARS_TRY(RequireKnownKeys(k, kSecretFields, "an audit key"));
    REGULARS_ASSIGN_OR_RETURN(auto version, k.OptionalInteger("version", 1, 1000000));
    REGULARS_ASSIGN_OR_RETURN(auto secret, ReadSecret(k, source, "an audit key"));
    return AuditKey{static_cast<int>(version.value_or(1)), std::move(secret)};
  };
  auto key = read_key(g.Get("audit_key"), g.PointerTo("audit_key"));
  if (!key.ok()) return key.error();
  policy.audit_key = std::move(key).value();
  std::set<int> versions{policy.audit_key.version};
  if (g.Has("retired_audit_keys")) {
    REGULARS_ASSIGN_OR_RETURN(auto retired, g.Array("retired_audit_keys"));
    for (size_t i = 0; i < retired->size(); ++i) {
      std::string pointer = JsonPointer(g.PointerTo("retired_audit_keys"), i);
      REGULARS_ASSIGN_OR_RETURN(auto old, read_key((*retired)[i], pointer));
      if (!versions.insert(old.version).second) {
        return Error::BadInput(kCode, "audit key version used twice", pointer + "/version");
      }
      policy.retired_audit_keys.push_back(std::move(old));
    }
  }
  policy.enabled = true;
  return policy;
}

// "messages": {"nth_unit.discount.free": {"fr": ..., "en": ...}}: catalogue overrides.
Result<std::map<std::string, LocalText>> ParseMessages(const FieldReader& parent) {
  std::map<std::string, LocalText> messages;
  if (!parent.Has("messages")) return messages;
  FieldReader m(parent.Get("messages"), parent.PointerTo("messages"), kCode);
  REGULARS_TRY(m.RequireObject("messages"));
  for (const auto& [key, value] : m.object().items()) {
    REGULARS_ASSIGN_OR_RETURN(auto text, ParseText(m, key));
    auto checked = MessageCatalogue::CheckOverride(key, text);
    if (!checked.ok()) return m.Fail(key, checked.error().message);
    messages[key] = text;
  }
  return messages;
}

// "products": {"3400000000001": {"fr": "Couches Dodo T4", "en": "Dodo nappies size 4"}}.
Result<std::map<std::string, LocalText>> ParseProducts(const FieldReader& parent) {
  std::map<std::string, LocalText> products;
  if (!parent.Has("products")) return products;
  FieldReader p(parent.Get("products"), parent.PointerTo("products"), kCode);
  REGULARS_TRY(p.RequireObject("products"));
  for (const auto& [sku, value] : p.object().items()) {
    REGULARS_ASSIGN_OR_RETURN(auto name, ParseText(p, sku));
    products[sku] = std::move(name);
  }
  return products;
}

// "sync": {"hq": "hq.example:8443", "ca": "pki/ca.pem", "cert": ..., "key": ...,
// "nightly_at": "02:30", "jitter_minutes": 60, ...} (docs/sync-protocol.md).
Result<SyncPolicy> ParseSync(const FieldReader& parent, const std::string& source) {
  SyncPolicy sync;
  if (!parent.Has("sync")) return sync;
  FieldReader r(parent.Get("sync"), parent.PointerTo("sync"), kCode);
  REGULARS_TRY(r.RequireObject("sync"));
  REGULARS_TRY(
      RequireKnownKeys(r,
                       {"hq", "ca", "cert", "key", "nightly_at", "jitter_minutes", "batch_events",
                        "batch_bytes", "pull_page", "retry_initial_ms", "retry_max_ms",
                        "give_up_after_minutes", "timeouts_ms", "lookup_timeout_ms"},
                       "sync"));
  auto hq = r.String("hq", 300);
  if (!hq.ok()) return hq.error();
  auto colon = hq->rfind(':');
  uint16_t port = 0;
  if (colon != std::string::npos && colon > 0 && colon + 1 < hq->size() &&
      hq->find_first_not_of("0123456789", colon + 1) == std::string::npos &&
      hq->size() - colon - 1 <= 5) {
    int value = std::stoi(hq->substr(colon + 1));
    if (value > 0 && value < 65536) port = static_cast<uint16_t>(value);
  }
  if (port == 0) return r.Fail("hq", "hq is HOST:PORT, such as hq.example:8443");
  sync.hq_host = hq->substr(0, colon);
  sync.hq_port = port;
  for (auto [name, field] :
       {std::pair{"ca", &sync.ca}, std::pair{"cert", &sync.cert}, std::pair{"key", &sync.key}}) {
    REGULARS_ASSIGN_OR_RETURN(auto path, r.String(name, 4096));
    *field = RelativeToConfig(source, path);
  }
  REGULARS_ASSIGN_OR_RETURN(auto at, r.OptionalString("nightly_at", 5));
  if (at) {
    const std::string& t = *at;
    bool shaped = t.size() == 5 && t[2] == ':' && std::isdigit(static_cast<unsigned char>(t[0])) &&
                  std::isdigit(static_cast<unsigned char>(t[1])) &&
                  std::isdigit(static_cast<unsigned char>(t[3])) &&
                  std::isdigit(static_cast<unsigned char>(t[4]));
    int hours = shaped ? (t[0] - '0') * 10 + (t[1] - '0') : 99;
    int minutes = shaped ? (t[3] - '0') * 10 + (t[4] - '0') : 99;
    if (hours > 23 || minutes > 59)
      return r.Fail("nightly_at", "nightly_at is HH:MM, 00:00 to 23:59");
    sync.nightly_minute = hours * 60 + minutes;
  }
  struct Bound {
    const char* name;
    int64_t* field;
    int64_t min, max;
  };
  int64_t jitter = sync.jitter_minutes, give_up = sync.give_up_after_ms / 60'000;
  for (const Bound& b : {Bound{"jitter_minutes", &jitter, 0, 720},
                         Bound{"batch_events", &sync.batch_events, 1, 10'000},
                         Bound{"batch_bytes", &sync.batch_bytes, 1024, 64 << 20},
                         Bound{"pull_page", &sync.pull_page, 1, 10'000},
                         Bound{"retry_initial_ms", &sync.retry_initial_ms, 1, 3'600'000},
                         Bound{"retry_max_ms", &sync.retry_max_ms, 1, int64_t{24} * 3'600'000},
                         Bound{"give_up_after_minutes", &give_up, 0, int64_t{24} * 60}}) {
    REGULARS_ASSIGN_OR_RETURN(auto value, r.OptionalInteger(b.name, b.min, b.max));
    if (value) *b.field = *value;
  }
  REGULARS_ASSIGN_OR_RETURN(auto lookup, r.OptionalInteger("lookup_timeout_ms", 0, 5000));
  if (lookup) sync.lookup_timeout_ms = static_cast<int>(*lookup);
  sync.jitter_minutes = static_cast<int>(jitter);
  sync.give_up_after_ms = give_up * 60'000;
  if (r.Has("timeouts_ms")) {
    FieldReader t(r.Get("timeouts_ms"), r.PointerTo("timeouts_ms"), kCode);
    REGULARS_TRY(t.RequireObject("timeouts_ms"));
    REGULARS_TRY(RequireKnownKeys(t, {"connect", "handshake", "request"}, "timeouts_ms"));
    for (auto [name, field] : {std::pair{"connect", &sync.connect_timeout_ms},
                               std::pair{"handshake", &sync.handshake_timeout_ms},
                               std::pair{"request", &sync.request_timeout_ms}}) {
      REGULARS_ASSIGN_OR_RETURN(auto value, t.OptionalInteger(name, 1, 600'000));
      if (value) *field = static_cast<int>(*value);
    }
  }
  return sync;
}

// "http": {"listen": "127.0.0.1", "port": 8420, "token": {"secret_file": "http.token"},
// "max_body_bytes": ..., "max_header_bytes": ..., "request_timeout_ms": ...,
// "idle_timeout_ms": ..., "max_connections": ..., "threads": ...} (docs/http-service.md).
Result<HttpPolicy> ParseHttp(const FieldReader& parent, const std::string& source) {
  HttpPolicy http;
  if (!parent.Has("http")) return http;
  FieldReader r(parent.Get("http"), parent.PointerTo("http"), kCode);
  REGULARS_TRY(r.RequireObject("http"));
  REGULARS_TRY(
      RequireKnownKeys(r,
                       {"listen", "port", "token", "max_body_bytes", "max_header_bytes",
                        "request_timeout_ms", "idle_timeout_ms", "max_connections", "threads"},
                       "http"));
  auto listen = r.OptionalString("listen", 64);
  if (!listen.ok()) return listen.error();
  if (*listen) {
    const std::string& a = **listen;
    if (a.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos) {
      return r.Fail("listen", "listen is an IP address, such as 127.0.0.1");
    }
    http.listen = a;
  }
  if (!r.Has("token")) return r.Fail("token", "token is required: {\"secret_file\": ...}");
  FieldReader t(r.Get("token"), r.PointerTo("token"), kCode);
  REGULARS_TRY(t.RequireObject("token"));
  REGULARS_TRY(RequireKnownKeys(t, kSecretFields, "token"));
  REGULARS_ASSIGN_OR_RETURN(auto secret, ReadSecret(t, source, "the bearer token"));
  http.token = ToHex(secret.data(), secret.size());
  OPENSSL_cleanse(secret.data(), secret.size());
  struct Bound {
    const char* name;
    int64_t min, max;
  };
  int64_t values[7] = {http.port,
                       http.max_body_bytes,
                       http.max_header_bytes,
                       http.request_timeout_ms,
                       http.idle_timeout_ms,
                       http.max_connections,
                       http.threads};
  const Bound bounds[7] = {{"port", 1, 65535},
                           {"max_body_bytes", 1024, 64 << 20},
                           {"max_header_bytes", 1024, 1 << 20},
                           {"request_timeout_ms", 100, 600'000},
                           {"idle_timeout_ms", 100, 3'600'000},
                           {"max_connections", 1, 10'000},
                           {"threads", 1, 64}};
  for (int i = 0; i < 7; ++i) {
    REGULARS_ASSIGN_OR_RETURN(auto value,
                              r.OptionalInteger(bounds[i].name, bounds[i].min, bounds[i].max));
    if (value) values[i] = *value;
  }
  http.port = static_cast<uint16_t>(values[0]);
  http.max_body_bytes = values[1];
  http.max_header_bytes = values[2];
  http.request_timeout_ms = static_cast<int>(values[3]);
  http.idle_timeout_ms = static_cast<int>(values[4]);
  http.max_connections = static_cast<int>(values[5]);
  http.threads = static_cast<int>(values[6]);
  return http;
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& source) {
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(text, kCode, source));
  auto located = [&](Error e) {
    e.where = source + "#" + e.where;
    return e;
  };
  FieldReader r(json, "", kCode);
  if (auto s = r.RequireObject("a config"); !s.ok()) return located(s.error());
  if (auto s = RequireKnownKeys(r, kTopLevelKeys, "the config"); !s.ok()) return located(s.error());

  Config config;
  auto store = r.String("store_id", 64);
  if (!store.ok()) return located(store.error());
  auto till = r.String("till_id", 64);
  if (!till.ok()) return located(till.error());
  for (const auto* id : {&*store, &*till}) {
    for (char c : *id) {
      if (!IsIdChar(c)) {
        return located(r.Fail(id == &*store ? "store_id" : "till_id",
                              "store and till ids use only letters, digits, '-', '_' and '.'"));
      }
    }
  }
  auto currency_code = r.String("currency", 8);
  if (!currency_code.ok()) return located(currency_code.error());
  auto currency = FindCurrency(*currency_code);
  if (!currency) {
    return located(
        r.Fail("currency", "unknown currency '" + *currency_code + "' (ISO 4217 code expected)"));
  }
  config.till = {*store, *till, *currency};

  auto prefixes = r.OptionalStrings("card_prefixes");
  if (!prefixes.ok()) return located(prefixes.error());
  config.card_prefixes = prefixes->empty() ? std::vector<std::string>{"2"} : *prefixes;
  for (size_t i = 0; i < config.card_prefixes.size(); ++i) {
    const auto& p = config.card_prefixes[i];
    if (p.size() > 12 || p.find_first_not_of("0123456789") != std::string::npos) {
      return located(Error::BadInput(kCode, "a card prefix is 1 to 12 digits",
                                     JsonPointer(r.PointerTo("card_prefixes"), i)));
    }
  }

  auto rules = config_fields::ParseRulesAndCaps(r);
  if (!rules.ok()) return located(rules.error());
  config.rules = std::move(rules).value();
  auto version = r.OptionalString("rules_version", 64);
  if (!version.ok()) return located(version.error());
  config.rules.version = version->value_or(config.rules.digest);
  auto tokens = ParsePaymentTokens(r, source);
  if (!tokens.ok()) return located(tokens.error());
  config.payment_tokens = std::move(tokens).value();
  auto qr = ParseQr(r);
  if (!qr.ok()) return located(qr.error());
  config.qr = std::move(qr).value();
  auto scanner = ParseScanner(r);
  if (!scanner.ok()) return located(scanner.error());
  config.scanner = std::move(scanner).value();
  auto goodwill = ParseGoodwill(r, source, config.rules.rules);
  if (!goodwill.ok()) return located(goodwill.error());
  config.goodwill = std::move(goodwill).value();
  auto messages = ParseMessages(r);
  if (!messages.ok()) return located(messages.error());
  config.messages = std::move(messages).value();
  auto products = ParseProducts(r);
  if (!products.ok()) return located(products.error());
  config.products = std::move(products).value();
  auto sync = ParseSync(r, source);
  if (!sync.ok()) return located(sync.error());
  config.sync = std::move(sync).value();
  auto http = ParseHttp(r, source);
  if (!http.ok()) return located(http.error());
  config.http = std::move(http).value();
  return config;
}

Result<Config> LoadConfigFile(const std::string& path, Env* env) {
  // Read at most one byte past the limit, so /dev/zero or a huge file is refused quickly.
  auto content = env->ReadFile(path, kMaxConfigBytes + 1);
  if (!content.ok()) return Error::BadInput(kCode, "cannot read the config file", path);
  if (content->size() > kMaxConfigBytes) {
    return Error::BadInput(kCode, "config file is larger than 16 MiB", path);
  }
  return ParseConfig(*content, path);
}

}  // namespace regulars
