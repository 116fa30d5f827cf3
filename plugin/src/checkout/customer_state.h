// What pricing needs to know about a recognized customer, read from the ledger once per
// basket in one read transaction, so that pricing itself (checkout/propose.h) touches no
// database.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checkout/rule_book.h"
#include "domain/basket.h"
#include "domain/timestamp.h"
#include "result.h"
#include "rewards/tier.h"
#include "store/ledger.h"

namespace regulars {

// Which of a customer's history a basket's pricing reads, worked out from the basket and
// the rules alone.
struct CustomerStateQuery {
  // Visits since then count toward tiers; none when no tier is configured.
  std::optional<int64_t> visits_from_ms;
  LocalDay day;             // the basket's calendar day where it is sold
  bool day_totals = false;  // a per-day cap or the goodwill budget needs the day's sums
  // The cashier whose goodwill given on `day` counts against their own budget.
  std::optional<std::string> cashier_goodwill_of;
  int recent_sales = 10;  // the suggestions look at the last sales
};

CustomerStateQuery QueryFor(const Basket& basket, const RuleBook& book);

// A customer's standing when the basket is priced.
struct CustomerState {
  std::string customer_id;
  std::optional<std::string> first_name;
  std::map<std::string, Counter> counters;             // by rule id
  std::vector<VisitPoint> visits;                      // since query.visits_from_ms, oldest first
  VisitDelta today;                                    // the day's sums (when query.day_totals)
  int64_t cashier_goodwill_today = 0;                  // (when query.cashier_goodwill_of)
  std::vector<std::vector<std::string>> recent_sales;  // skus of each, newest first
};

// Reads the customer's state as the query asks, in one read transaction (or inside the
// caller's transaction when one is open).
Result<CustomerState> LoadCustomerState(Ledger& ledger, const std::string& customer_id,
                                        const CustomerStateQuery& query);

// The customer's progress toward each configured counted rule, from the stored counters,
// as receipts show it.
Result<OrderedJson> StoredProgress(Ledger& ledger, const RuleBook& book,
                                   const std::string& customer_id);

}  // namespace regulars
