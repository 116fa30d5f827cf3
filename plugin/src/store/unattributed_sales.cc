// Sales to an identifier nobody was known by, credited when it turns out to name someone
// (docs/ledger.md, "Sales to an unknown card"). Part of the event log: a credit is an
// event of this till, counted like the sale it credits.
#include <vector>

#include "store/event_body.h"
#include "store/event_log.h"

namespace regulars {
namespace {

constexpr int64_t kDayMs = 86'400'000;

std::string CreditText(const UnattributedSale& sale) {
  OrderedJson counts = OrderedJson::array();
  for (const auto& c : sale.counts) {
    counts.push_back(
        {{"rule", c.rule}, {"every", c.every}, {"units", c.units}, {"rewards", c.rewards}});
  }
  return ToText(OrderedJson{{"counts", counts}, {"visit", VisitJson(sale.visit)}});
}

Result<UnattributedSale> CreditFrom(const std::string& text) {
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(text, "database_unreadable", "a sale to credit"));
  UnattributedSale sale;
  REGULARS_ASSIGN_OR_RETURN(sale.counts, CountsFromBody(json));
  if (!json.contains("visit")) {
    return Error::BadInput("database_unreadable", "a sale to credit has no visit");
  }
  REGULARS_ASSIGN_OR_RETURN(sale.visit, VisitFromJson(json.at("visit")));
  return sale;
}

}  // namespace

Status EventLog::RememberUnattributed(const std::string& kind, const std::string& value,
                                      const UnattributedSale& sale) {
  // Kept a bounded time only: a payment card's hash is not kept for a card never linked.
  REGULARS_ASSIGN_OR_RETURN(auto prune,
                            db_.Prepare("DELETE FROM unattributed_sales WHERE at_ms < ?1"));
  REGULARS_TRY(prune->Bind(1, sale.at_ms - kUnattributedDays * kDayMs).Run());
  REGULARS_ASSIGN_OR_RETURN(
      auto insert,
      db_.Prepare("INSERT INTO unattributed_sales (kind, value, seq, at_ms, pos_txn_id, credit) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING"));
  insert->Bind(1, kind).Bind(2, value).Bind(3, sale.seq).Bind(4, sale.at_ms);
  return insert->Bind(5, sale.pos_txn_id).Bind(6, CreditText(sale)).Run();
}

Result<int64_t> EventLog::CreditUnattributed(const std::string& kind, const std::string& value,
                                             int64_t now_ms) {
  REGULARS_ASSIGN_OR_RETURN(auto owner, customers_.ByIdentifier(kind, value));
  if (!owner) return 0;
  REGULARS_ASSIGN_OR_RETURN(auto customer, customers_.RootOf(owner->id));
  REGULARS_ASSIGN_OR_RETURN(
      auto select,
      db_.Prepare("SELECT seq, at_ms, pos_txn_id, credit FROM unattributed_sales WHERE kind = ?1 "
                  "AND value = ?2 AND at_ms >= ?3 ORDER BY seq"));
  select->Bind(1, kind).Bind(2, value).Bind(3, now_ms - kUnattributedDays * kDayMs);
  std::vector<UnattributedSale> sales;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, select->Step());
    if (!row) break;
    REGULARS_ASSIGN_OR_RETURN(auto sale, CreditFrom(select->Text(3)));
    sale.seq = select->Int(0);
    sale.at_ms = select->Int(1);
    sale.pos_txn_id = select->Text(2);
    sales.push_back(std::move(sale));
  }
  select->Reset();
  int64_t credited = 0;
  for (auto& sale : sales) {
    // A sale voided or refunded before its customer was known is not credited: what it
    // would have counted was taken back before anyone could count it.
    REGULARS_ASSIGN_OR_RETURN(int64_t reversed, LatestReversalTime(sale.pos_txn_id));
    if (reversed != 0) continue;
    NewEvent credit;
    credit.kind = "credit";
    credit.at_ms = sale.at_ms;  // counted where the sale was, in canonical order
    credit.customer_id = customer;
    credit.counts = std::move(sale.counts);
    credit.visit = std::move(sale.visit);
    credit.body = {{"customer", customer},
                   {"sale", EventKey{store_id_, till_id_, sale.seq}.ToString()},
                   {"pos_txn_id", sale.pos_txn_id},
                   {"identifier_kind", kind},
                   {"credited_at_ms", now_ms}};
    REGULARS_TRY(Append(credit));
    ++credited;
  }
  REGULARS_ASSIGN_OR_RETURN(
      auto forget, db_.Prepare("DELETE FROM unattributed_sales WHERE kind = ?1 AND value = ?2"));
  REGULARS_TRY(forget->Bind(1, kind).Bind(2, value).Run());
  return credited;
}

}  // namespace regulars
