// Checkout latency on a large ledger: evaluate, evaluate plus durable commit, and a bare
// SQLite durable insert on the same disk for comparison. Every iteration is timed on its
// own, so each benchmark reports its median (p50_us) and p99 (p99_us) in microseconds.
//
//   regulars_bench [--ledger=PATH] [--benchmark_...]
//
// PATH defaults to $REGULARS_BENCH_DB, then /tmp/regulars-bench/ledger.sqlite; the
// ledger is generated there on the first run (see big_ledger.h) and reused afterwards.
// REGULARS_BENCH_CUSTOMERS and REGULARS_BENCH_EVENTS shrink it to try the harness quickly.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "big_ledger.h"
#include "checkout/till.h"
#include "domain/timestamp.h"
#include "latencies.h"

namespace regulars::bench {
namespace {

struct Fixture {
  std::string ledger_path;
  LedgerScale scale;
  std::unique_ptr<Till> till;
};
Fixture* fixture = nullptr;

// A 50-line basket (Contract v1) for the card of generated customer `customer`: six lines
// match "diapers-5th", three "coffee-10th", the rest no rule.
std::string BasketJson(const std::string& pos_txn_id, int64_t customer) {
  static const OrderedJson lines = [] {
    OrderedJson out = OrderedJson::array();
    const auto& products = Catalogue();
    for (size_t i = 0; i < products.size(); ++i) {
      const Product& p = products[i];
      OrderedJson line{{"line", i + 1}, {"sku", p.sku}};
      if (p.weighed) {
        line["qty"] = 350 + 97 * i;  // grams
        line["unit"] = "g";
      } else {
        line["qty"] = 1 + i % 3;
      }
      line["unit_price"] = p.unit_price;
      line["brand"] = p.brand;
      line["categories"] = {p.category};
      out.push_back(line);
    }
    return out;
  }();
  OrderedJson basket{{"pos_txn_id", pos_txn_id},
                     {"store_id", "S001"},
                     {"till_id", "T01"},
                     {"cashier_id", "C07"},
                     {"at", FormatTimestampUtc(Env::Default()->NowMs())},
                     {"currency", "EUR"},
                     {"identifiers", {{{"kind", "card"}, {"value", CardNumberOf(customer)}}}},
                     {"lines", lines}};
  return ToText(basket);
}

// Benchmark-owned pos_txn_ids: the run's start time keeps them apart from earlier runs
// on the same cached ledger, and the "B-" prefix from the generated "S001-T01-...".
std::string FreshTxnId() {
  static const std::string run = "B-" + std::to_string(Env::Default()->NowMs()) + "-";
  static int64_t next = 0;
  return run + std::to_string(++next);
}

// Checks once that a receipt is a recognized customer's, so a broken ledger cannot pass
// for a fast one.
bool Recognized(const std::string& receipt) {
  auto json = nlohmann::json::parse(receipt, nullptr, false);
  return !json.is_discarded() && json.contains("customer") && !json["customer"].is_null();
}

struct RandomCustomer {
  std::mt19937_64 rng{42};
  int64_t operator()() {
    return static_cast<int64_t>(rng() % static_cast<uint64_t>(fixture->scale.customers));
  }
};

void BM_Evaluate50Lines(benchmark::State& state) {
  Till& till = *fixture->till;
  RandomCustomer customer;
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  bool checked = false;
  for (int i = 0; i < 200; ++i) (void)till.Evaluate(BasketJson(FreshTxnId(), customer()));
  for (auto _ : state) {
    std::string basket = BasketJson(FreshTxnId(), customer());
    auto receipt = latencies.Time(state, [&] { return till.Evaluate(basket); });
    if (!receipt.ok() || (!checked && !Recognized(*receipt))) {
      state.SkipWithError(receipt.ok() ? "customer not recognized"
                                       : receipt.error().message.c_str());
      break;
    }
    checked = true;
  }
  latencies.Report(state);
}

// The typed evaluate on an already parsed basket: recognition, counters and pricing,
// without JSON in or out.
void BM_Propose50Lines(benchmark::State& state) {
  Till& till = *fixture->till;
  RandomCustomer customer;
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  auto parse = [&] {
    auto json = nlohmann::json::parse(BasketJson(FreshTxnId(), customer()));
    return ParseBasket(json, till.config().till, Env::Default()->NowMs());
  };
  for (int i = 0; i < 200; ++i) {
    auto basket = parse();
    if (basket.ok()) (void)till.Propose(*basket);
  }
  for (auto _ : state) {
    auto basket = parse();
    if (!basket.ok()) {
      state.SkipWithError(basket.error().message.c_str());
      break;
    }
    auto proposal = latencies.Time(state, [&] { return till.Propose(*basket); });
    if (!proposal.ok() || !proposal->who.customer_id) {
      state.SkipWithError(proposal.ok() ? "customer not recognized"
                                        : proposal.error().message.c_str());
      break;
    }
  }
  latencies.Report(state);
}

// What the till does per checkout: evaluate the basket, then commit it durably (one
// SQLite transaction, synchronous=FULL in WAL mode, as the ledger always opens).
void BM_EvaluateAndCommit50Lines(benchmark::State& state) {
  Till& till = *fixture->till;
  RandomCustomer customer;
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  auto checkout = [&](const std::string& basket) -> Result<std::string> {
    auto proposed = till.Evaluate(basket);
    if (!proposed.ok()) return proposed;
    return till.Commit(basket);
  };
  bool checked = false;
  for (int i = 0; i < 20; ++i) (void)checkout(BasketJson(FreshTxnId(), customer()));
  for (auto _ : state) {
    std::string basket = BasketJson(FreshTxnId(), customer());
    auto receipt = latencies.Time(state, [&] { return checkout(basket); });
    if (!receipt.ok() || (!checked && !Recognized(*receipt))) {
      state.SkipWithError(receipt.ok() ? "customer not recognized"
                                       : receipt.error().message.c_str());
      break;
    }
    checked = true;
  }
  latencies.Report(state);
}

// The floor for a durable write on this disk: one small row per transaction in a fresh
// SQLite file beside the ledger, WAL and synchronous=FULL, the statement prepared once.
void BM_BareDurableInsert(benchmark::State& state) {
  namespace fs = std::filesystem;
  std::string path = (fs::path(fixture->ledger_path).parent_path() / "bare-insert.sqlite").string();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  bool ready = sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
               sqlite3_exec(db,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "CREATE TABLE rows (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, "
                            "note TEXT NOT NULL) STRICT",
                            nullptr, nullptr, nullptr) == SQLITE_OK &&
               sqlite3_prepare_v2(db, "INSERT INTO rows (at_ms, note) VALUES (?1, ?2)", -1, &insert,
                                  nullptr) == SQLITE_OK;
  auto insert_row = [&] {
    sqlite3_bind_int64(insert, 1, Env::Default()->NowMs());
    sqlite3_bind_text(insert, 2, "S001-T01 sale", -1, SQLITE_STATIC);
    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    return rc;
  };
  if (ready) {
    for (int i = 0; i < 20; ++i) insert_row();
  } else {
    state.SkipWithError(sqlite3_errmsg(db));
  }
  Latencies latencies(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    if (!ready) break;
    if (latencies.Time(state, insert_row) != SQLITE_DONE) {
      state.SkipWithError(sqlite3_errmsg(db));
      break;
    }
  }
  latencies.Report(state);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

// Fixed iteration counts: enough for a stable p99, and the same for the two durable
// benchmarks that the goal compares.
BENCHMARK(BM_Evaluate50Lines)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(20000);
BENCHMARK(BM_Propose50Lines)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(20000);
BENCHMARK(BM_EvaluateAndCommit50Lines)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(5000);
BENCHMARK(BM_BareDurableInsert)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(5000);

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoll(value, nullptr, 10) : fallback;
}

}  // namespace
}  // namespace regulars::bench

int main(int argc, char** argv) {
  using namespace regulars;
  using namespace regulars::bench;
  benchmark::Initialize(&argc, argv);
  const char* env_path = std::getenv("REGULARS_BENCH_DB");
  std::string path = env_path && *env_path ? env_path : "/tmp/regulars-bench/ledger.sqlite";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("--ledger=")) {
      path = arg.substr(9);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  // Smaller scales only to try the harness quickly; the figures are at the default scale.
  LedgerScale scale;
  scale.customers = EnvInt("REGULARS_BENCH_CUSTOMERS", scale.customers);
  scale.events = EnvInt("REGULARS_BENCH_EVENTS", scale.events);
  if (scale.customers < 1 || scale.events < scale.customers) {
    std::fprintf(stderr, "need 1 <= customers <= events\n");
    return 2;
  }
  auto config = ParseConfig(kBenchConfig, "bench config");
  if (!config.ok()) {
    std::fprintf(stderr, "bench config: %s\n", config.error().message.c_str());
    return 1;
  }
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  if (auto ready = EnsureBigLedger(path, *config, scale); !ready.ok()) {
    std::fprintf(stderr, "cannot prepare the ledger: %s\n", ready.error().message.c_str());
    return 1;
  }
  auto till = Till::Open(*config, path);
  if (!till.ok()) {
    std::fprintf(stderr, "cannot open the ledger: %s\n", till.error().message.c_str());
    return 1;
  }
  Fixture setup{path, scale, std::move(till).value()};
  fixture = &setup;
  benchmark::AddCustomContext("ledger", path);
  benchmark::AddCustomContext("customers", std::to_string(scale.customers));
  benchmark::AddCustomContext("generated_events", std::to_string(scale.events));
  benchmark::AddCustomContext("sqlite", sqlite3_libversion());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
