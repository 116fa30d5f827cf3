#include "checkout/reversal.h"

#include <algorithm>
#include <map>
#include <span>

#include "checkout/customer_state.h"
#include "checkout/pricing.h"
#include "checkout/receipt.h"
#include "checkout/sale_record.h"
#include "domain/timestamp.h"
#include "store/audit_chain.h"

namespace regulars {
namespace {

// A committed sale and what it still holds after its earlier refunds.
struct HeldSale {
  StoredEvent event;
  SaleRecord record;
  std::vector<BasketLine> before;      // the sale's lines, less what came back already
  std::map<int64_t, size_t> index_of;  // sale line number -> index in `before`
};

// Each side of a return priced with the sale's terms.
struct PricedReturn {
  Pricing before;
  Pricing after;
};

// What a reversal gives back, as its event and its answer say.
struct GivenBack {
  OrderedJson lines;                            // per sale line
  OrderedJson unearned = OrderedJson::array();  // later rewards taken back
  int64_t deduction = 0;                        // what those rewards were worth
  int64_t total = 0;                            // the money back
  int64_t waived = 0;                           // what the customer was not asked for
};

// What sale event `event` still holds after its refunds (nothing once voided).
Result<HeldSale> HoldingOf(Ledger& ledger, StoredEvent event, const std::string& sale_txn_id,
                           bool voided) {
  HeldSale held;
  held.event = std::move(event);
  REGULARS_ASSIGN_OR_RETURN(held.record, ReadSaleRecord(held.event.body));
  REGULARS_ASSIGN_OR_RETURN(auto earlier, ledger.events().RefundsOf(sale_txn_id));
  held.before = held.record.lines;
  for (size_t i = 0; i < held.before.size(); ++i) held.index_of[held.before[i].line] = i;
  REGULARS_ASSIGN_OR_RETURN(auto returned, ReturnedQuantities(earlier));
  for (const auto& [line, qty] : returned) {
    auto it = held.index_of.find(line);
    if (it == held.index_of.end() || qty > held.before[it->second].qty) {
      return Error::BadInput("database_unreadable", "a refund of " + sale_txn_id +
                                                        " returns a line the sale does not hold");
    }
    held.before[it->second].qty -= qty;
  }
  if (voided) {
    for (auto& line : held.before) line.qty = 0;
  }
  return held;
}

Result<HeldSale> LoadHeldSale(Ledger& ledger, const StoredTransaction& sale,
                              const std::string& sale_txn_id) {
  REGULARS_ASSIGN_OR_RETURN(auto event, ledger.events().Find(sale.event));
  REGULARS_ASSIGN_OR_RETURN(auto held, HoldingOf(ledger, std::move(event), sale_txn_id, false));
  if (held.record.customer_id) {
    // A sale made under a pseudonymous profile that has since merged is its customer's.
    REGULARS_ASSIGN_OR_RETURN(held.record.customer_id,
                              ledger.customers().RootOf(*held.record.customer_id));
  }
  return held;
}

// What the sale holds once the refund's lines (or, for a void, everything) are back.
Result<std::vector<BasketLine>> LinesAfter(const HeldSale& sale, const RefundRequest* refund,
                                           const std::string& sale_txn_id) {
  std::vector<BasketLine> after = sale.before;
  if (!refund) {
    for (auto& line : after) line.qty = 0;
    return after;
  }
  for (const auto& l : refund->lines) {
    auto it = sale.index_of.find(l.line);
    if (it == sale.index_of.end()) {
      return Error::BadInput("invalid_refund",
                             "line " + std::to_string(l.line) + " is not in sale " + sale_txn_id,
                             l.where + "/line");
    }
    BasketLine& line = after[it->second];
    if (l.sku && *l.sku != line.sku) {
      return Error::BadInput(
          "invalid_refund",
          "line " + std::to_string(l.line) + " of the sale is sku " + line.sku + ", not " + *l.sku,
          l.where + "/sku");
    }
    if (l.qty > line.qty) {
      return Error::BadInput("refund_exceeds_sale",
                             "line " + std::to_string(l.line) + " has " + std::to_string(line.qty) +
                                 " left to refund (sold " +
                                 std::to_string(sale.record.lines[it->second].qty) + ")",
                             l.where + "/qty");
    }
    line.qty -= l.qty;
  }
  return after;
}

// What `lines`, some of a sale's, cost under the sale's terms, exclusivity groups chosen
// anew for them. Under a cap, what is kept never gets more discount than the sale gave:
// the day's cap may have been used since.
Result<Pricing> PriceHolding(const SaleRecord& record, std::span<const BasketLine> lines) {
  BasketTerms terms = record.terms;
  if (terms.cap) {
    REGULARS_ASSIGN_OR_RETURN(auto sold, PriceBasket(record.lines, record.terms));
    terms.cap = std::min(*terms.cap, sold.rule_discount);
  }
  REGULARS_TRY(ChooseInGroups(lines, terms));
  // What an imported sale keeps still gives nothing: it was paid in full.
  if (record.imported) CountOnly(terms);
  return PriceBasket(lines, terms);
}

Result<PricedReturn> PriceReturn(const HeldSale& sale, const std::vector<BasketLine>& after) {
  PricedReturn priced;
  REGULARS_ASSIGN_OR_RETURN(priced.before, PriceHolding(sale.record, sale.before));
  REGULARS_ASSIGN_OR_RETURN(priced.after, PriceHolding(sale.record, after));
  return priced;
}

OrderedJson ReturnedLines(const std::vector<BasketLine>& before,
                          const std::vector<BasketLine>& after, const PricedReturn& priced) {
  OrderedJson lines = OrderedJson::array();
  for (size_t i = 0; i < before.size(); ++i) {
    const PricedLine& was = priced.before.lines[i];
    const PricedLine& now = priced.after.lines[i];
    int64_t qty = before[i].qty - after[i].qty;
    int64_t amount = was.net - now.net;
    if (qty == 0 && amount == 0) continue;
    OrderedJson line{
        {"line", before[i].line}, {"sku", before[i].sku}, {"qty", qty}, {"amount", amount}};
    int64_t withdrawn = (was.gross - was.net) - (now.gross - now.net);
    if (withdrawn > 0) line["reward_withdrawn"] = withdrawn;
    lines.push_back(line);
  }
  return lines;
}

bool HoldsUnits(const std::vector<BasketLine>& basket) {
  return std::any_of(basket.begin(), basket.end(), [](const BasketLine& l) { return l.qty > 0; });
}

// The compensating event's counts: what the sale's own repricing gives back.
std::vector<CountDelta> CountsGivenBack(const SaleRecord& record, const PricedReturn& priced) {
  std::vector<CountDelta> counts;
  for (size_t i = 0; i < record.terms.rules.size(); ++i) {
    const RuleTerms& t = record.terms.rules[i];
    int64_t units = priced.after.outcomes[i].units - priced.before.outcomes[i].units;
    int64_t rewards = priced.after.outcomes[i].rewards - priced.before.outcomes[i].rewards;
    if (t.kind == RuleKind::kTier || (units == 0 && rewards == 0)) continue;
    counts.push_back({t.rule, t.every, units, rewards});
  }
  return counts;
}

// The rewards a rule gave on a sale, as the sale stands now, and what they took off.
struct GivenRewards {
  int64_t rewards = 0;
  int64_t discount = 0;
};

Result<GivenRewards> RewardsGivenBy(Ledger& ledger, const CustomerSale& sale,
                                    const std::string& rule) {
  REGULARS_ASSIGN_OR_RETURN(auto held, HoldingOf(ledger, sale.event, sale.pos_txn_id, sale.voided));
  REGULARS_ASSIGN_OR_RETURN(auto pricing, PriceHolding(held.record, held.before));
  GivenRewards given;
  for (size_t i = 0; i < held.record.terms.rules.size(); ++i) {
    if (held.record.terms.rules[i].rule != rule) continue;
    given.rewards += pricing.outcomes[i].rewards;
    given.discount += pricing.outcomes[i].discount;
  }
  return given;
}

// A reward a refund un-earns: given on a later basket only thanks to the units returned.
struct UnearnedReward {
  std::string rule;
  int64_t rewards = 0;
  int64_t amount = 0;  // what those rewards took off their baskets
};

// Where giving `counts` back would take a counter below zero, the customer's later
// baskets were given rewards the returned units earned: the latest of them are taken back
// (out of `counts`), each valued at what it took off its basket (that basket's average
// when only some of its rewards are). A deficit no later sale explains stays over-granted.
Result<std::vector<UnearnedReward>> TakeBackUnearned(Ledger& ledger, const HeldSale& sale,
                                                     const EventKey& sale_key,
                                                     std::vector<CountDelta>& counts) {
  std::vector<UnearnedReward> unearned;
  if (!sale.record.customer_id) return unearned;
  const std::string& customer = *sale.record.customer_id;
  REGULARS_ASSIGN_OR_RETURN(auto counters, ledger.counters().Of(customer));
  std::optional<std::vector<CustomerSale>> later;  // read once, when a counter needs it
  for (CountDelta& delta : counts) {
    auto it = counters.find(delta.rule);
    int64_t progress = it == counters.end() ? 0 : it->second.progress;
    int64_t left = progress + delta.units - delta.rewards * delta.every;
    if (left >= 0 || delta.every <= 0) continue;
    int64_t wanted = (-left + delta.every - 1) / delta.every;
    if (!later) {
      REGULARS_ASSIGN_OR_RETURN(later,
                                ledger.events().SalesAfter(customer, sale.event.at_ms, sale_key));
    }
    UnearnedReward taken{delta.rule};
    for (const CustomerSale& s : *later) {
      if (taken.rewards == wanted) break;
      REGULARS_ASSIGN_OR_RETURN(auto given, RewardsGivenBy(ledger, s, delta.rule));
      int64_t n = std::min(wanted - taken.rewards, given.rewards);
      if (n == 0) continue;
      // discount * n / rewards, without overflow (n <= rewards).
      int64_t d = given.discount;
      int64_t r = given.rewards;
      taken.amount += n == r ? d : d / r * n + d % r * n / r;
      taken.rewards += n;
    }
    if (taken.rewards == 0) continue;
    delta.rewards -= taken.rewards;
    unearned.push_back(std::move(taken));
  }
  return unearned;
}

// The compensating event's visit: what was given back; the visit itself goes when
// nothing of the sale is left.
void AddVisit(const HeldSale& sale, const std::vector<BasketLine>& after,
              const PricedReturn& priced, int64_t total, NewEvent& event) {
  const SaleRecord& record = sale.record;
  if (!record.customer_id || !record.has_visit) return;
  VisitDelta visit;
  visit.at_ms = sale.event.at_ms;
  visit.day = record.day;
  visit.visits = HoldsUnits(sale.before) && !HoldsUnits(after) ? -1 : 0;
  visit.spend = -total;
  visit.discount = priced.after.rule_discount - priced.before.rule_discount;
  visit.goodwill = priced.after.goodwill - priced.before.goodwill;
  event.visit = std::move(visit);
}

// The answer to the POS, as Contract v1 JSON.
Result<OrderedJson> RenderReversal(Ledger& ledger, const RuleBook& book,
                                   const ReversalRequest& request, const SaleRecord& record,
                                   const GivenBack& back) {
  const bool is_void = !request.refund;
  OrderedJson response;
  response["pos_txn_id"] = is_void ? request.sale_txn_id : request.refund->pos_txn_id;
  response[is_void ? "void_of" : "refund_of"] = request.sale_txn_id;
  response["status"] = is_void ? "voided" : "refunded";
  Recognition who;
  who.customer_id = record.customer_id;
  who.recognized_by = record.recognized_by;
  if (record.customer_id) {
    REGULARS_ASSIGN_OR_RETURN(auto customer, ledger.customers().Find(*record.customer_id));
    who.pseudonymous = customer && customer->pseudonymous;
  }
  response["customer"] = RenderCustomer(who);
  response["currency"] = book.config.till.currency.code;
  response["lines"] = back.lines;
  if (!back.unearned.empty()) {
    response["rewards_unearned"] = back.unearned;
    response["reward_deduction"] = back.deduction;
  }
  response["total_refund"] = back.total;
  if (back.waived > 0) response["waived"] = back.waived;
  OrderedJson progress = OrderedJson::array();
  if (record.customer_id) {
    REGULARS_ASSIGN_OR_RETURN(progress, StoredProgress(ledger, book, *record.customer_id));
  }
  response["progress"] = std::move(progress);
  return response;
}

// The answer already given to this refund's pos_txn_id, or a conflict if it was used for
// something else.
Result<std::optional<std::string>> EarlierRefund(Ledger& ledger, const ReversalRequest& request) {
  REGULARS_ASSIGN_OR_RETURN(auto existing, ledger.transactions().Find(request.refund->pos_txn_id));
  if (!existing) return std::optional<std::string>();
  if (existing->kind != "refund" || existing->request_digest != request.request_digest) {
    return Error::Conflict("pos_txn_id_conflict",
                           "pos_txn_id " + request.refund->pos_txn_id +
                               " was already used for a different transaction",
                           "/pos_txn_id");
  }
  return std::optional<std::string>(existing->response);
}

// The sale the request reverses, checked to be one that can be.
Result<StoredTransaction> SaleToReverse(Ledger& ledger, const ReversalRequest& request) {
  const std::string& id = request.sale_txn_id;
  REGULARS_ASSIGN_OR_RETURN(auto sale, ledger.transactions().Find(id));
  if (!sale) {
    return Error::NotFound("unknown_transaction",
                           "no sale with pos_txn_id " + id + " was committed here", request.where);
  }
  if (sale->kind != "sale") {
    return Error::BadInput("not_a_sale", id + " is a refund; only a sale can be voided or refunded",
                           request.where);
  }
  return *std::move(sale);
}

}  // namespace

Result<std::string> ReverseSale(Ledger& ledger, const RuleBook& book,
                                const ReversalRequest& request) {
  const Config& config = book.config;
  const std::string& sale_txn_id = request.sale_txn_id;
  const RefundRequest* refund = request.refund;
  const std::string kind = refund ? "refund" : "void";
  WriteTransaction txn(ledger.db());
  REGULARS_TRY(txn.Begin());
  if (refund) {
    REGULARS_ASSIGN_OR_RETURN(auto earlier, EarlierRefund(ledger, request));
    if (earlier) return *earlier;
  }
  REGULARS_ASSIGN_OR_RETURN(auto sale, SaleToReverse(ledger, request));
  REGULARS_ASSIGN_OR_RETURN(auto voided, ledger.transactions().FindVoid(sale_txn_id));
  if (voided) {
    if (!refund) return *voided;  // voiding twice: the first answer
    return Error::BadInput("sale_voided",
                           "sale " + sale_txn_id + " was voided; nothing is left to refund",
                           request.where);
  }
  REGULARS_ASSIGN_OR_RETURN(auto held, LoadHeldSale(ledger, sale, sale_txn_id));
  REGULARS_ASSIGN_OR_RETURN(auto after, LinesAfter(held, refund, sale_txn_id));
  REGULARS_ASSIGN_OR_RETURN(auto priced, PriceReturn(held, after));
  GivenBack back;
  back.lines = ReturnedLines(held.before, after, priced);
  NewEvent event;
  event.counts = CountsGivenBack(held.record, priced);
  REGULARS_ASSIGN_OR_RETURN(auto taken_back,
                            TakeBackUnearned(ledger, held, sale.event, event.counts));
  for (const auto& u : taken_back) {
    back.unearned.push_back({{"rule", u.rule}, {"rewards", u.rewards}, {"amount", u.amount}});
    back.deduction += u.amount;
  }
  // The customer never owes money for bringing something back: when what they keep
  // would cost more than they paid for everything (a milestone no longer reached, a
  // later reward un-earned), the difference is waived and recorded.
  back.total = priced.before.total_net - priced.after.total_net - back.deduction;
  if (back.total < 0) {
    back.waived = -back.total;
    back.total = 0;
  }

  // A reversal is ordered after what it reverses, whatever the clocks say, so replay
  // never applies it first (where the floor at zero would swallow it).
  REGULARS_ASSIGN_OR_RETURN(int64_t latest, ledger.events().LatestReversalTime(sale_txn_id));
  const SaleRecord& record = held.record;
  event.kind = kind;
  event.at_ms = std::max({request.at_ms, held.event.at_ms, latest});
  event.customer_id = record.customer_id;
  if (refund) event.pos_txn_id = refund->pos_txn_id;
  event.ref_pos_txn_id = sale_txn_id;
  AddVisit(held, after, priced, back.total, event);
  // A reversal is never refused for want of goodwill's config: the event records it, and
  // the chain does too while the audit key is there. It counts on its grant's day.
  int64_t goodwill_back = priced.before.goodwill - priced.after.goodwill;
  if (goodwill_back != 0 && record.customer_id && record.terms.goodwill &&
      !config.goodwill.audit_key.secret.empty()) {
    REGULARS_TRY(AppendAudit(
        ledger.db(), config.goodwill.audit_key,
        {held.event.at_ms, "reversal", config.till.store_id, config.till.till_id,
         record.terms.goodwill->cashier_id, *record.customer_id,
         refund ? refund->pos_txn_id : sale_txn_id, -goodwill_back, kind + " of " + sale_txn_id}));
  }
  event.body = {{refund ? "refund_of" : "void_of", sale_txn_id},
                {"pos_txn_id", refund ? OrderedJson(refund->pos_txn_id) : OrderedJson(nullptr)},
                {"at", FormatTimestampUtc(request.at_ms)},
                {"customer", record.customer_id ? OrderedJson(*record.customer_id) : nullptr},
                {"lines", back.lines},
                {"rewards_unearned", back.unearned},
                {"total_refund", back.total},
                {"waived", back.waived}};
  REGULARS_ASSIGN_OR_RETURN(auto key, ledger.events().Append(event));
  REGULARS_ASSIGN_OR_RETURN(auto response, RenderReversal(ledger, book, request, record, back));
  response["event_id"] = key.ToString();
  std::string text = ToText(response);
  if (refund) {
    REGULARS_TRY(ledger.transactions().Record(
        refund->pos_txn_id, {"refund", request.request_digest, text, record.customer_id, key}));
  } else {
    REGULARS_TRY(ledger.transactions().RecordVoid(sale_txn_id, text, key));
  }
  REGULARS_TRY(txn.Commit());
  return text;
}

}  // namespace regulars
