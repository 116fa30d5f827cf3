#include "checkout/customer_state.h"

#include <algorithm>

#include "checkout/pricing.h"
#include "checkout/receipt.h"
#include "store/audit_chain.h"

namespace regulars {

CustomerStateQuery QueryFor(const Basket& basket, const RuleBook& book) {
  const Config& config = book.config;
  CustomerStateQuery query;
  query.day = LocalDayOf(basket.at, basket.at_ms);
  int64_t history_days = -1;
  for (uint32_t r : book.index.tiers()) {
    const auto& tier = config.rules.rules[r].tier;
    history_days = std::max(history_days, tier.window_days + tier.grace_days);
  }
  if (history_days >= 0) query.visits_from_ms = basket.at_ms - history_days * kDayMs;
  query.day_totals = config.rules.caps.per_day || basket.goodwill || config.goodwill.enabled;
  if (basket.goodwill && config.goodwill.enabled && config.goodwill.per_cashier_per_day) {
    query.cashier_goodwill_of = basket.goodwill->cashier_id;
  }
  return query;
}

Result<CustomerState> LoadCustomerState(Ledger& ledger, const std::string& customer_id,
                                        const CustomerStateQuery& query) {
  ReadTransaction snapshot(ledger.db());
  REGULARS_TRY(snapshot.BeginUnlessOpen());
  CustomerState state;
  state.customer_id = customer_id;
  REGULARS_ASSIGN_OR_RETURN(state.first_name, ledger.customers().FirstName(customer_id));
  REGULARS_ASSIGN_OR_RETURN(state.counters, ledger.counters().Of(customer_id));
  if (query.visits_from_ms) {
    REGULARS_ASSIGN_OR_RETURN(auto rows,
                              ledger.visits().Since(customer_id, *query.visits_from_ms, false));
    state.visits.reserve(rows.size());
    for (const auto& row : rows) {
      state.visits.push_back({row.at_ms, row.delta.visits, row.delta.spend});
    }
  }
  if (query.day_totals) {
    REGULARS_ASSIGN_OR_RETURN(state.today, ledger.visits().DayTotals(customer_id, query.day.date));
  }
  if (query.cashier_goodwill_of) {
    REGULARS_ASSIGN_OR_RETURN(state.cashier_goodwill_today,
                              GoodwillGivenBy(ledger.db(), *query.cashier_goodwill_of,
                                              query.day.start_ms, query.day.end_ms));
  }
  REGULARS_ASSIGN_OR_RETURN(auto recent,
                            ledger.visits().RecentSales(customer_id, query.recent_sales));
  for (auto& sale : recent) state.recent_sales.push_back(std::move(sale.delta.skus));
  REGULARS_TRY(snapshot.Commit());
  return state;
}

Result<OrderedJson> StoredProgress(Ledger& ledger, const RuleBook& book,
                                   const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(auto counters, ledger.counters().Of(customer_id));
  OrderedJson progress = OrderedJson::array();
  for (const Rule& rule : book.config.rules.rules) {
    auto it = counters.find(rule.id);
    if (it == counters.end() || !rule.IsCounted()) continue;
    progress.push_back(RenderRuleProgress(TermsOf(rule), it->second.progress, book));
  }
  return progress;
}

}  // namespace regulars
