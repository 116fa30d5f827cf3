// The rules engine as rules grow (issue #4): a 200-line basket priced for an enrolled
// customer with some history, under 10 to 10,000 active rules. Every iteration is timed on
// its own, so each benchmark reports its median (p50_us) and p99 (p99_us).
//
//   regulars_rules_bench [--benchmark_...]
//
// Everything is generated from fixed seeds: a catalogue of 50,000 skus (2,000 brands,
// 40 departments of 25 categories each), the rules, the basket and the customer's past
// baskets. Each rule count gets its own ledger in a temporary folder, removed at exit.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "checkout/till.h"
#include "config/config.h"
#include "domain/timestamp.h"
#include "env/memory_env.h"
#include "latencies.h"

namespace regulars::bench {
namespace {

constexpr size_t kSkus = 50'000;
constexpr size_t kBrands = 2'000;
constexpr size_t kDepartments = 40;
constexpr size_t kCategoriesPerDepartment = 25;
constexpr size_t kBasketLines = 200;
constexpr int kPastBaskets = 10;
constexpr const char* kCard = "2900000000018";
// The till's clock and the basket's time: 2026-11-23T09:00:00Z, so nothing depends on
// when the benchmark runs.
constexpr int64_t kNowMs = 1795424400000;
constexpr const char* kBasketAt = "2026-11-23T10:00:00+01:00";

struct Sku {
  std::string sku;
  std::string brand;
  std::string category;  // "dept07/cat12"
  int64_t unit_price = 0;
  bool weighed = false;
};

std::string Numbered(const char* prefix, size_t n, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%s%0*zu", prefix, digits, n);
  return text;
}

std::string DepartmentName(size_t d) { return Numbered("dept", d, 2); }
std::string CategoryName(size_t c) {
  return DepartmentName(c / kCategoriesPerDepartment) + "/" +
         Numbered("cat", c % kCategoriesPerDepartment, 2);
}

const std::vector<Sku>& Catalogue() {
  static const std::vector<Sku> skus = [] {
    std::mt19937_64 rng(4001);
    std::vector<Sku> out;
    out.reserve(kSkus);
    for (size_t i = 0; i < kSkus; ++i) {
      Sku s;
      s.sku = Numbered("37", i, 11);
      s.brand = Numbered("brand-", rng() % kBrands, 4);
      s.category = CategoryName(rng() % (kDepartments * kCategoriesPerDepartment));
      s.weighed = rng() % 20 == 0;  // fruit, cheese at the counter: priced per kilogram
      s.unit_price = s.weighed ? 300 + static_cast<int64_t>(rng() % 3000)
                               : 50 + static_cast<int64_t>(rng() % 3000);
      out.push_back(std::move(s));
    }
    return out;
  }();
  return skus;
}

const std::vector<size_t>& BasketSkus();
const std::vector<std::vector<size_t>>& PastBaskets();

// Skus neither the benchmark basket nor the customer's past ones hold.
bool OutsideHistory(size_t sku) {
  static const std::vector<bool> seen = [] {
    std::vector<bool> out(kSkus, false);
    for (size_t s : BasketSkus()) out[s] = true;
    for (const auto& basket : PastBaskets()) {
      for (size_t s : basket) out[s] = true;
    }
    return out;
  }();
  return !seen[sku];
}

// A realistic mix for `count` rules: three tiers (bronze and silver by visits, gold by
// spend), then nth_unit rules (80% on one to five skus, 10% on a brand, 5% on a category
// or, one in ten, a whole department) and 5% spend milestones on a category or department.
// Rule i is the same whatever `count` is, so 100 rules are the first 100 of 10,000.
// With `tail`, rules past the first 100 are nth_unit rules on skus this customer never
// bought: a long tail of product promotions that the basket's rules stay the same under.
OrderedJson Rules(size_t count, bool tail) {
  OrderedJson rules = OrderedJson::array();
  rules.push_back(OrderedJson::parse(R"({"id": "bronze", "kind": "tier", "rank": 1,
      "name": {"fr": "Bronze", "en": "Bronze"}, "reach": {"purchases": 3, "window_days": 365},
      "grace_days": 30, "benefits": {"percent": 2}})"));
  rules.push_back(OrderedJson::parse(R"({"id": "silver", "kind": "tier", "rank": 2,
      "name": {"fr": "Argent", "en": "Silver"}, "reach": {"purchases": 12, "window_days": 365},
      "grace_days": 30, "benefits": {"percent": 5, "services": ["priority_lane"]}})"));
  rules.push_back(OrderedJson::parse(R"({"id": "gold", "kind": "tier", "rank": 3,
      "name": {"fr": "Or", "en": "Gold"}, "reach": {"spend": 2500000, "window_days": 365},
      "grace_days": 30, "benefits": {"percent": 8, "services": ["free_delivery"]}})"));
  std::mt19937_64 rng(4002);
  const auto& catalogue = Catalogue();
  auto category_or_department = [&] {
    size_t c = rng() % (kDepartments * kCategoriesPerDepartment);
    return rng() % 10 == 0 ? DepartmentName(c / kCategoriesPerDepartment) : CategoryName(c);
  };
  for (size_t i = rules.size(); i < count; ++i) {
    OrderedJson rule{{"id", Numbered("r", i, 5)}};
    size_t kind = rng() % 100;
    if (tail && i >= 100) kind = 0;
    OrderedJson match;
    if (kind < 95) {
      rule["kind"] = "nth_unit";
      rule["every"] = 2 + rng() % 9;
      size_t reward = rng() % 10;
      rule["reward"] = reward < 5   ? OrderedJson{{"free", true}}
                       : reward < 8 ? OrderedJson{{"percent", 20 + rng() % 31}}
                                    : OrderedJson{{"amount", 50 + rng() % 251}};
      if (rng() % 2 == 0) rule["unit_name"] = {{"fr", "paquet"}, {"en", "pack"}};
      if (rng() % 10 == 0) rule["max_per_basket"] = 1 + rng() % 3;
      if (kind < 80) {
        size_t n = 1 + rng() % 5;
        for (size_t k = 0; k < n; ++k) {
          size_t sku = rng() % kSkus;
          while (tail && i >= 100 && !OutsideHistory(sku)) sku = rng() % kSkus;
          match["skus"].push_back(catalogue[sku].sku);
        }
      } else if (kind < 90) {
        match["brands"] = {Numbered("brand-", rng() % kBrands, 4)};
      } else {
        match["categories"] = {category_or_department()};
        if (rng() % 5 == 0) {
          match["exclude"] = {{"brands", {Numbered("brand-", rng() % kBrands, 4)}}};
        }
      }
    } else {
      rule["kind"] = "milestone";
      int64_t step = 2000 + static_cast<int64_t>(rng() % 9) * 1000;
      rule["step"] = step;
      rule["amount"] = step / 10;
      match["categories"] = {category_or_department()};
    }
    rule["match"] = match;
    // Half the rules carry their own sentence; the others use the catalogue's.
    if (rng() % 2 == 0)
      rule["text"] = {{"fr", "Offre " + rule["id"].get<std::string>()},
                      {"en", "Offer " + rule["id"].get<std::string>()}};
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string ConfigText(size_t rule_count, bool tail) {
  OrderedJson config{{"store_id", "S001"},
                     {"till_id", "T01"},
                     {"currency", "EUR"},
                     {"card_prefixes", {"29"}},
                     {"rules", Rules(rule_count, tail)}};
  return ToText(config);
}

OrderedJson Line(size_t number, const Sku& s, int64_t qty) {
  OrderedJson line{{"line", number}, {"sku", s.sku}, {"qty", qty}};
  if (s.weighed) line["unit"] = "g";
  line["unit_price"] = s.unit_price;
  line["brand"] = s.brand;
  line["categories"] = {s.category};
  return line;
}

// The benchmark's basket: 200 distinct skus drawn from the whole catalogue.
const std::vector<size_t>& BasketSkus() {
  static const std::vector<size_t> picks = [] {
    std::mt19937_64 rng(4003);
    std::vector<size_t> out;
    while (out.size() < kBasketLines) {
      size_t pick = rng() % kSkus;
      if (std::find(out.begin(), out.end(), pick) == out.end()) out.push_back(pick);
    }
    return out;
  }();
  return picks;
}

std::string BasketJson(const std::string& pos_txn_id, const std::string& at,
                       const std::vector<size_t>& skus, std::mt19937_64& rng) {
  OrderedJson lines = OrderedJson::array();
  for (size_t i = 0; i < skus.size(); ++i) {
    const Sku& s = Catalogue()[skus[i]];
    int64_t qty = s.weighed ? 100 + static_cast<int64_t>(rng() % 1900)  // grams
                            : 1 + static_cast<int64_t>(rng() % 4);
    lines.push_back(Line(i + 1, s, qty));
  }
  OrderedJson basket{{"pos_txn_id", pos_txn_id},
                     {"store_id", "S001"},
                     {"till_id", "T01"},
                     {"cashier_id", "C07"},
                     {"at", at},
                     {"currency", "EUR"},
                     {"identifiers", {{{"kind", "card"}, {"value", kCard}}}},
                     {"lines", lines}};
  return ToText(basket);
}

// The customer's ten past baskets, of 60 lines each: half from the benchmark basket's
// skus, so counters carry progress and some items are the customer's usual ones, half
// from anywhere.
const std::vector<std::vector<size_t>>& PastBaskets() {
  static const std::vector<std::vector<size_t>> baskets = [] {
    std::mt19937_64 rng(4004);
    std::vector<std::vector<size_t>> out(kPastBaskets);
    for (auto& skus : out) {
      while (skus.size() < 60) {
        size_t pick = skus.size() % 2 == 0 ? BasketSkus()[rng() % 40] : rng() % kSkus;
        if (std::find(skus.begin(), skus.end(), pick) == skus.end()) skus.push_back(pick);
      }
    }
    return out;
  }();
  return baskets;
}

// A till for one rule count, on its own ledger, with the customer and their history, and
// the benchmark's basket both as JSON and parsed.
struct Setup {
  std::string dir;
  MemoryEnv env{kNowMs};  // before the till, which uses it
  std::unique_ptr<Till> till;
  std::string basket_json;
  Basket basket;
  size_t terms = 0;  // rules that apply to the basket, tiers included
  bool tier_held = false;
  size_t suggestions = 0;
};

std::vector<std::unique_ptr<Setup>>& Setups() {
  static std::vector<std::unique_ptr<Setup>> setups;
  return setups;
}

// The past baskets committed over the last 60 days: ten visits hold bronze and leave
// silver two visits away.
Status AddHistory(Till& till) {
  std::mt19937_64 rng(4006);
  for (int b = 0; b < kPastBaskets; ++b) {
    std::string at = FormatTimestampUtc(kNowMs - (60 - 6 * b) * kDayMs);
    auto receipt = till.Commit(BasketJson("PAST-" + std::to_string(b), at, PastBaskets()[b], rng));
    if (!receipt.ok()) return receipt.error();
  }
  return Status::Ok();
}

Result<Setup*> SetupFor(size_t rule_count, bool tail) {
  static std::map<std::pair<size_t, bool>, Setup*> by_count;
  if (auto it = by_count.find({rule_count, tail}); it != by_count.end()) return it->second;
  auto setup = std::make_unique<Setup>();
  std::string dir = (std::filesystem::temp_directory_path() / "regulars-rules-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return Error::Internal("mkdtemp failed");
  setup->dir = dir;
  auto config = ParseConfig(ConfigText(rule_count, tail), "rules-bench");
  if (!config.ok()) return config.error();
  if (config->rules.rules.size() != rule_count) return Error::Internal("wrong rule count");
  auto till = Till::Open(std::move(config).value(), dir + "/ledger.sqlite", &setup->env);
  if (!till.ok()) return till.error();
  setup->till = std::move(till).value();
  auto enrolled = setup->till->EnrollCard(kCard);
  if (!enrolled.ok()) return enrolled.error();
  REGULARS_TRY(AddHistory(*setup->till));

  std::mt19937_64 rng(4005);
  setup->basket_json = BasketJson("BENCH-1", kBasketAt, BasketSkus(), rng);
  auto json = ParseJson(setup->basket_json, "invalid_basket");
  if (!json.ok()) return json.error();
  auto basket = ParseBasket(*json, setup->till->config().till, kNowMs);
  if (!basket.ok()) return basket.error();
  setup->basket = std::move(basket).value();
  // What the basket looks like to the engine, once, for the report.
  Basket copy = setup->basket;
  auto proposal = setup->till->Propose(copy);
  if (!proposal.ok()) return proposal.error();
  if (!proposal->who.customer_id) return Error::Internal("the customer was not recognized");
  setup->terms = proposal->terms.rules.size();
  setup->tier_held = proposal->tier.has_value();
  setup->suggestions = proposal->suggestions.size();
  Setup* raw = setup.get();
  Setups().push_back(std::move(setup));
  by_count[{rule_count, tail}] = raw;
  return raw;
}

void Describe(benchmark::State& state, const Setup& setup) {
  state.counters["terms"] = static_cast<double>(setup.terms);
  state.counters["tier_held"] = setup.tier_held ? 1 : 0;
  state.counters["suggestions"] = static_cast<double>(setup.suggestions);
}

// The engine alone: Till::Propose on the parsed basket (recognition, counters, the rule
// index, pricing, tiers, caps, suggestions), no JSON in or out. The argument is the rule
// count.
void Propose(benchmark::State& state, bool tail) {
  auto setup = SetupFor(static_cast<size_t>(state.range(0)), tail);
  if (!setup.ok()) {
    state.SkipWithError(setup.error().message.c_str());
    return;
  }
  Till& till = *(*setup)->till;
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  for (int i = 0; i < 20; ++i) {
    Basket warm = (*setup)->basket;
    (void)till.Propose(warm);
  }
  for (auto _ : state) {
    Basket basket = (*setup)->basket;  // copied untimed: Propose may wipe identifiers
    auto proposal = latencies.Time(state, [&] { return till.Propose(basket); });
    if (!proposal.ok()) {
      state.SkipWithError(proposal.error().message.c_str());
      break;
    }
  }
  latencies.Report(state);
  Describe(state, **setup);
}

// The realistic mix: more rules, and so more of them about the basket's products.
void BM_Propose200Lines(benchmark::State& state) { Propose(state, false); }

// The first 100 rules of the mix, then rules on products the basket does not hold: what
// the rule count alone costs.
void BM_Propose200LinesSkuTail(benchmark::State& state) { Propose(state, true); }

// The whole evaluate: basket JSON in (5 KB parsed and validated), receipt JSON out.
void BM_Evaluate200Lines(benchmark::State& state) {
  auto setup = SetupFor(static_cast<size_t>(state.range(0)), false);
  if (!setup.ok()) {
    state.SkipWithError(setup.error().message.c_str());
    return;
  }
  Till& till = *(*setup)->till;
  const std::string& basket = (*setup)->basket_json;
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  for (int i = 0; i < 20; ++i) (void)till.Evaluate(basket);
  for (auto _ : state) {
    auto receipt = latencies.Time(state, [&] { return till.Evaluate(basket); });
    if (!receipt.ok()) {
      state.SkipWithError(receipt.error().message.c_str());
      break;
    }
  }
  latencies.Report(state);
  Describe(state, **setup);
  state.counters["basket_bytes"] = static_cast<double>(basket.size());
}

BENCHMARK(BM_Propose200Lines)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(3000);
BENCHMARK(BM_Propose200LinesSkuTail)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(3000);
BENCHMARK(BM_Evaluate200Lines)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(3000);

}  // namespace
}  // namespace regulars::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("catalogue_skus", std::to_string(regulars::bench::kSkus));
  benchmark::AddCustomContext("basket_lines", std::to_string(regulars::bench::kBasketLines));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& setup : regulars::bench::Setups()) {
    setup->till.reset();
    std::error_code ignored;
    std::filesystem::remove_all(setup->dir, ignored);
  }
  return 0;
}
