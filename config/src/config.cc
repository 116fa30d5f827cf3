#include "config.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>

#include "domain/hex.h"

namespace regulars {
namespace {

constexpr const char* kCode = "invalid_config";
constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string Ordinal(int64_t n) {
  int64_t tens = n % 100;
  const char* suffix = "th";
  if (tens < 11 || tens > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

// The catalogue sentence for a rule without its own text.
LocalText DefaultRuleText(const Rule& rule) {
  std::string n = std::to_string(rule.every);
  if (rule.reward.percent && *rule.reward.percent == 100) {
    return {n + "e " + rule.unit_name.fr + " offert",
            Ordinal(rule.every) + " " + rule.unit_name.en + " free"};
  }
  if (rule.reward.percent) {
    std::string p = std::to_string(*rule.reward.percent);
    return {n + "e " + rule.unit_name.fr + " : -" + p + " %",
            Ordinal(rule.every) + " " + rule.unit_name.en + ": " + p + "% off"};
  }
  return {n + "e " + rule.unit_name.fr + " : remise",
          Ordinal(rule.every) + " " + rule.unit_name.en + ": money off"};
}

Result<LocalText> ParseText(const FieldReader& parent, std::string_view key) {
  FieldReader r(parent.Get(key), parent.PointerTo(key), kCode);
  REGULARS_TRY(r.RequireObject(std::string(key)));
  auto fr = r.String("fr", 200);
  if (!fr.ok()) return fr.error();
  auto en = r.String("en", 200);
  if (!en.ok()) return en.error();
  return LocalText{*fr, *en};
}

Result<UnitReward> ParseReward(const FieldReader& parent) {
  if (!parent.Has("reward")) return parent.Fail("reward", "reward is required");
  FieldReader r(parent.Get("reward"), parent.PointerTo("reward"), kCode);
  REGULARS_TRY(r.RequireObject("reward"));
  int given = (r.Has("percent") ? 1 : 0) + (r.Has("amount") ? 1 : 0) + (r.Has("free") ? 1 : 0);
  if (given != 1) {
    return Error::BadInput(kCode, "reward has exactly one of percent, amount or free", r.pointer());
  }
  UnitReward reward;
  if (r.Has("free")) {
    if (r.Get("free") != true) return r.Fail("free", "free must be true when given");
    reward.percent = 100;
  } else if (r.Has("percent")) {
    auto p = r.Integer("percent", 1, 100);
    if (!p.ok()) return p.error();
    reward.percent = *p;
  } else {
    auto a = r.Integer("amount", 1, std::numeric_limits<int64_t>::max());
    if (!a.ok()) return a.error();
    reward.amount = *a;
  }
  return reward;
}

std::string RulesVersion(const Json& rules) {
  // A digest of the rules as written, so two tills with the same rules agree on it.
  return "sha256:" + Sha256Hex(rules.dump()).substr(0, 12);
}

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

// "payment_tokens": {"keys": [{"version": 2, "secret_hex": "..."} or {"version": 2,
// "secret_file": "token-v2.key"}], "pseudonymous_profiles": false}. A secret file is
// read relative to the config file's folder.
Result<PaymentTokenPolicy> ParsePaymentTokens(const FieldReader& parent,
                                              const std::string& source) {
  PaymentTokenPolicy policy;
  if (!parent.Has("payment_tokens")) return policy;
  FieldReader r(parent.Get("payment_tokens"), parent.PointerTo("payment_tokens"), kCode);
  REGULARS_TRY(r.RequireObject("payment_tokens"));
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
    auto version = k.Integer("version", 1, 1000000);
    if (!version.ok()) return version.error();
    if (!versions.insert(*version).second) return k.Fail("version", "key version used twice");
    std::string hex;
    if (k.Has("secret_hex")) {
      auto text = k.String("secret_hex", 1024);
      if (!text.ok()) return text.error();
      hex = *text;
    } else {
      auto file = k.String("secret_file", 4096);
      if (!file.ok()) return k.Fail("secret_hex", "secret_hex or secret_file is required");
      std::string path = *file;
      auto slash = source.rfind('/');
      if (!path.starts_with("/") && slash != std::string::npos) {
        path = source.substr(0, slash + 1) + path;
      }
      std::ifstream in(path, std::ios::binary);
      std::string content(4096, '\0');
      in.read(content.data(), static_cast<std::streamsize>(content.size()));
      if (!in.eof() && !in.good()) return k.Fail("secret_file", "cannot read " + path);
      content.resize(static_cast<size_t>(in.gcount()));
      if (content.empty()) return k.Fail("secret_file", "cannot read " + path);
      hex = content;
    }
    auto secret = DecodeHex(hex);
    Wipe(hex);
    if (!secret.ok())
      return k.Fail(k.Has("secret_hex") ? "secret_hex" : "secret_file", secret.error().message);
    if (secret->size() < 32) {
      return k.Fail(k.Has("secret_hex") ? "secret_hex" : "secret_file",
                    "a token secret is at least 32 bytes (64 hex digits)");
    }
    policy.keys.push_back({static_cast<int>(*version), std::move(secret).value()});
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
  auto step = r.OptionalInteger("time_step_seconds", 30, 60);
  if (!step.ok()) return step.error();
  policy.time_step_seconds = static_cast<int>(step->value_or(30));
  auto tolerance = r.OptionalInteger("tolerance_steps", 0, 2);
  if (!tolerance.ok()) return tolerance.error();
  policy.tolerance_steps = static_cast<int>(tolerance->value_or(1));
  auto keys = r.Array("public_keys");
  if (!keys.ok()) return keys.error();
  for (size_t i = 0; i < (*keys)->size(); ++i) {
    FieldReader k((**keys)[i], JsonPointer(r.PointerTo("public_keys"), i), kCode);
    REGULARS_TRY(k.RequireObject("a public key"));
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
  for (auto [key, field] : {std::pair{"prefix", &framing.prefix}, {"suffix", &framing.suffix}}) {
    if (!r.Has(key)) continue;
    if (!r.Get(key).is_string() || r.Get(key).get_ref<const std::string&>().size() > 16) {
      return r.Fail(key, std::string(key) + " is a string of at most 16 characters");
    }
    *field = r.Get(key).get<std::string>();
  }
  return framing;
}

}  // namespace

Result<Rule> ParseRule(const Json& json, const std::string& pointer) {
  FieldReader r(json, pointer, kCode);
  REGULARS_TRY(r.RequireObject("a rule"));
  Rule rule;
  auto id = r.String("id", 64);
  if (!id.ok()) return id.error();
  for (char c : *id) {
    if (!IsIdChar(c)) return r.Fail("id", "a rule id uses only letters, digits, '-', '_' and '.'");
  }
  rule.id = *id;
  auto kind = r.String("kind", 32);
  if (!kind.ok()) return kind.error();
  if (*kind != "nth_unit") {
    return r.Fail("kind", "rule kind '" + *kind + "' is not supported (supported: nth_unit)");
  }
  rule.kind = *kind;
  auto every = r.Integer("every", 1, 1000000);
  if (!every.ok()) return every.error();
  rule.every = *every;

  if (!r.Has("match")) return r.Fail("match", "match is required");
  FieldReader m(r.Get("match"), r.PointerTo("match"), kCode);
  REGULARS_TRY(m.RequireObject("match"));
  auto skus = m.OptionalStrings("skus");
  if (!skus.ok()) return skus.error();
  auto brands = m.OptionalStrings("brands");
  if (!brands.ok()) return brands.error();
  auto categories = m.OptionalStrings("categories");
  if (!categories.ok()) return categories.error();
  rule.match = {*skus, *brands, *categories};
  if (skus->empty() && brands->empty() && categories->empty()) {
    return Error::BadInput(kCode, "match lists at least one sku, brand or category", m.pointer());
  }

  auto reward = ParseReward(r);
  if (!reward.ok()) return reward.error();
  rule.reward = *reward;

  rule.unit_name = {"article", "item"};
  if (r.Has("unit_name")) {
    auto unit = ParseText(r, "unit_name");
    if (!unit.ok()) return unit.error();
    rule.unit_name = *unit;
  }
  if (r.Has("text")) {
    auto text = ParseText(r, "text");
    if (!text.ok()) return text.error();
    rule.text = *text;
  } else {
    rule.text = DefaultRuleText(rule);
  }
  return rule;
}

Result<Config> ParseConfig(std::string_view text, const std::string& source) {
  auto json = ParseJson(text, kCode, source);
  if (!json.ok()) return json.error();
  auto located = [&](Error e) {
    e.where = source + "#" + e.where;
    return e;
  };
  FieldReader r(*json, "", kCode);
  if (auto s = r.RequireObject("a config"); !s.ok()) return located(s.error());

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

  auto rules = r.Array("rules");
  if (!rules.ok()) return located(rules.error());
  std::set<std::string> ids;
  for (size_t i = 0; i < (*rules)->size(); ++i) {
    std::string pointer = JsonPointer("/rules", i);
    auto rule = ParseRule((**rules)[i], pointer);
    if (!rule.ok()) return located(rule.error());
    if (!ids.insert(rule->id).second) {
      return located(Error::BadInput(kCode, "rule id '" + rule->id + "' is used twice",
                                     JsonPointer(pointer, "id")));
    }
    config.rules.rules.push_back(std::move(rule).value());
  }
  auto version = r.OptionalString("rules_version", 64);
  if (!version.ok()) return located(version.error());
  config.rules.version = version->value_or(RulesVersion(**rules));
  auto tokens = ParsePaymentTokens(r, source);
  if (!tokens.ok()) return located(tokens.error());
  config.payment_tokens = std::move(tokens).value();
  auto qr = ParseQr(r);
  if (!qr.ok()) return located(qr.error());
  config.qr = std::move(qr).value();
  auto scanner = ParseScanner(r);
  if (!scanner.ok()) return located(scanner.error());
  config.scanner = std::move(scanner).value();
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::BadInput(kCode, "cannot read the config file", path);
  // Read at most one byte past the limit, so /dev/zero or a huge file is refused quickly.
  std::string content(kMaxConfigBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return Error::BadInput(kCode, "cannot read the config file", path);
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kMaxConfigBytes) {
    return Error::BadInput(kCode, "config file is larger than 16 MiB", path);
  }
  return ParseConfig(content, path);
}

}  // namespace regulars
