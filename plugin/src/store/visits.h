// The `visits` table: what each event of a customer did to their visits and spend, the
// rows tiers, per-day caps, goodwill budgets and suggestions sum. The event log writes
// them (store/event_log.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

class Visits {
 public:
  explicit Visits(Database& db) : db_(db) {}

  // A customer's visits: `customer_id` is a customer as identifiers find them, and the
  // rows of the profiles merged into them count as theirs (replay's rule).
  // Their rows with at_ms >= from_ms, in canonical order (time, store, till, seq).
  // Without `with_skus`, the rows' skus are left empty (cheaper: tiers need none).
  Result<std::vector<VisitRow>> Since(const std::string& customer_id, int64_t from_ms,
                                      bool with_skus = true);
  // The sums of their rows on `day` (YYYY-MM-DD): visits, spend, discount and goodwill;
  // skus is empty. A void or refund counts on its sale's day, which is its row's `day`.
  Result<VisitDelta> DayTotals(const std::string& customer_id, const std::string& day);
  // Their last `limit` sales (rows with visits > 0), newest first; none when limit <= 0.
  // A sale voided or wholly refunded since is left out: its reversal's row carries the
  // sale's time (VisitDelta::at_ms) and visits -1.
  Result<std::vector<VisitRow>> RecentSales(const std::string& customer_id, int limit);

  // The row of event `key` (at `at_ms`), for its customer; the caller holds a
  // WriteTransaction.
  Status Insert(const EventKey& key, const std::string& customer_id, int64_t at_ms,
                const VisitDelta& visit);

 private:
  Database& db_;
};

}  // namespace regulars
