// A large, consistent ledger for the benchmarks: generated once, then reused from disk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "result.h"

namespace regulars::bench {

struct LedgerScale {
  int64_t customers = 1'000'000;
  int64_t events = 10'000'000;  // enrolments included: one per customer, the rest sales
};

// The till the benchmarks run as (S001/T01) and its two nth_unit rules.
extern const char kBenchConfig[];

// A product the chain sells. Prices are integer cents (per kilogram when weighed).
struct Product {
  std::string sku;
  std::string brand;
  std::string category;
  int64_t unit_price = 0;
  bool weighed = false;
};

// Fifty products: 0-5 match "diapers-5th", 7-9 match "coffee-10th", the rest no rule.
const std::vector<Product>& Catalogue();

// The loyalty card of generated customer `index` (0-based): "29", the index on ten
// digits, and the EAN-13 check digit.
std::string CardNumberOf(int64_t index);

// Makes sure `path` holds a complete generated ledger of `scale` for `config`: reuses it
// when a marker file beside it says so, otherwise generates it (minutes at full scale).
// It holds what Till::Commit would have written (events with their "visit", the `visits`
// rows, counters, this till's answers), so `regulars db verify` passes on it. `config`
// must be one the generator prices as the engine does: nth_unit rules with a text, no
// dates, groups, caps or goodwill (kBenchConfig is). Generated pos_txn_ids look like
// "S001-T01-000000042"; the benchmarks must use others.
Status EnsureBigLedger(const std::string& path, const Config& config, const LedgerScale& scale);

}  // namespace regulars::bench
