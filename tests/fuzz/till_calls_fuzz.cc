// libFuzzer target: whole Contract v1 calls on a till (an in-memory ledger with payment
// tokens, QR keys, pseudonymous profiles, every rule kind, caps and goodwill configured):
// recognition, pricing, commit, refund, link. The first byte picks the call.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "checkout/till.h"
#include "config/config.h"
#include "env/memory_env.h"

namespace {

const char kConfig[] = R"({"store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [{"id": "diapers-5th", "kind": "nth_unit", "every": 5, "group": "baby",
             "match": {"brands": ["Dodo"], "categories": ["baby"]}, "reward": {"free": true}},
            {"id": "baby-3rd", "kind": "nth_unit", "every": 3, "group": "baby",
             "match": {"categories": ["baby"], "exclude": {"skus": ["X"]}},
             "reward": {"amount": 150}, "max_per_basket": 2},
            {"id": "gold", "kind": "tier", "rank": 1, "name": {"fr": "Or", "en": "Gold"},
             "reach": {"purchases": 2, "spend": 5000, "window_days": 30}, "grace_days": 5,
             "benefits": {"percent": 7, "services": ["priority"]}},
            {"id": "every-20", "kind": "milestone", "step": 2000, "amount": 300,
             "match": {"categories": ["baby", "grocery"]}}],
  "caps": {"per_basket": 4000, "per_day": 9000},
  "goodwill": {"per_customer_per_day": {"default": 300, "tiers": {"gold": 900}},
               "per_cashier_per_day": 2000, "audit_key": {"secret_hex":
    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"}},
  "payment_tokens": {"keys": [{"version": 1, "secret_hex":
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}],
    "pseudonymous_profiles": true},
  "qr": {"public_keys": [{"key_id": 1, "public_key_hex":
    "01d8490c4d76c79b8fa231f1f3fe4d14384f788fcbb054b9742f1faa1ea1ce8b"}]},
  "scanner": {"prefix": "<", "suffix": ">"}})";

regulars::Till& SharedTill() {
  static std::unique_ptr<regulars::Till> till = [] {
    auto config = regulars::ParseConfig(kConfig, "fuzz.json");
    static regulars::MemoryEnv env;  // a fixed clock: runs repeat
    auto opened = regulars::Till::Open(std::move(config).value(), ":memory:", &env);
    auto t = std::move(opened).value();
    (void)t->EnrollCard("2900000000018");
    return t;
  }();
  return *till;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  regulars::Till& till = SharedTill();
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      (void)till.Evaluate(input);
      break;
    case 1:
      (void)till.Commit(input);
      break;
    case 2:
      (void)till.Refund(input);
      break;
    case 3:
      (void)till.Void(input);
      break;
    case 4:
      (void)till.Link(input);
      break;
    default:
      (void)till.RecognizeOnly(input);
      break;
  }
  return 0;
}
