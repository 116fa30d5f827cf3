#include "checkout/sale_record.h"

#include <map>
#include <stdexcept>

#include "checkout/receipt.h"

namespace regulars {

namespace {
// An integer of a stored body. Json's own get<int64_t>() would cast a float or a large
// unsigned (undefined past range); this throws like its other accessors instead.
int64_t Int(const Json& v) {
  auto n = AsInt64(v);
  if (!n) throw std::domain_error("a number is not a 64-bit integer");
  return *n;
}
}  // namespace

OrderedJson SaleEventBody(const Basket& basket, const Proposal& proposal) {
  OrderedJson body;
  body["pos_txn_id"] = basket.pos_txn_id;
  body["at"] = basket.at;
  body["cashier_id"] = basket.cashier_id;
  body["customer"] = proposal.who.customer_id ? OrderedJson(*proposal.who.customer_id) : nullptr;
  body["recognized_by"] = proposal.who.recognized_by;
  body["currency"] = basket.currency.code;
  body["rules_version"] = proposal.book->config.rules.version;
  body["day"] = proposal.day.date;
  if (basket.imported) body["imported"] = true;
  OrderedJson lines = OrderedJson::array();
  for (size_t i = 0; i < basket.lines.size(); ++i) {
    const BasketLine& l = basket.lines[i];
    const PricedLine& p = proposal.pricing.lines[i];
    lines.push_back({{"line", l.line},
                     {"sku", l.sku},
                     {"qty", l.qty},
                     {"unit", l.unit == QuantityUnit::kGram ? "g" : "each"},
                     {"unit_price", l.unit_price},
                     {"brand", l.brand},
                     {"categories", l.categories},
                     {"gross", p.gross},
                     {"discount", p.gross - p.net},
                     {"net", p.net}});
  }
  body["lines"] = lines;
  OrderedJson applications = OrderedJson::array();
  for (const auto& t : proposal.terms.rules) {
    OrderedJson matched = OrderedJson::array();
    for (size_t index : t.matched) matched.push_back(basket.lines[index].line);
    OrderedJson a{{"rule", t.rule}, {"kind", KindName(t.kind)}};
    if (t.kind != RuleKind::kTier) {
      a["every"] = t.every;
      a["progress_before"] = t.progress_before;
      a["counting"] = t.counting;
      if (t.max_per_basket) a["max_per_basket"] = *t.max_per_basket;
    }
    if (t.kind == RuleKind::kNthUnit) {
      OrderedJson reward;
      if (t.reward.percent) reward["percent"] = *t.reward.percent;
      if (t.reward.amount) reward["amount"] = *t.reward.amount;
      a["reward"] = reward;
      a["unit_name"] = RenderText(t.unit_name);
    }
    if (t.kind == RuleKind::kMilestone) a["amount"] = t.amount;
    if (t.percent) a["percent"] = *t.percent;
    a["applies"] = t.applies;
    if (!t.group.empty()) a["group"] = t.group;
    a["matched_lines"] = matched;
    a["text"] = RenderText(t.text);
    applications.push_back(std::move(a));
  }
  body["applications"] = applications;
  body["cap"] = proposal.terms.cap ? OrderedJson(*proposal.terms.cap) : nullptr;
  if (proposal.terms.goodwill) {
    const GoodwillTerms& g = *proposal.terms.goodwill;
    body["goodwill"] = {{"requested", g.amount},
                        {"amount", proposal.pricing.goodwill},
                        {"cashier_id", g.cashier_id},
                        {"reason", g.reason},
                        {"text", RenderText(g.text)}};
  }
  body["total_gross"] = proposal.pricing.total_gross;
  body["total_discount"] = proposal.pricing.total_discount;
  body["total_net"] = proposal.pricing.total_net;
  return body;
}

Result<std::map<int64_t, int64_t>> ReturnedQuantities(const std::vector<Json>& refund_bodies) {
  std::map<int64_t, int64_t> returned;
  try {
    for (const auto& body : refund_bodies) {
      for (const auto& l : body.at("lines")) {
        returned[Int(l.at("line"))] += Int(l.at("qty"));
      }
    }
  } catch (const std::exception& e) {
    return Error::BadInput("database_unreadable",
                           std::string("a refund event in the ledger is malformed: ") + e.what());
  }
  return returned;
}

Result<SaleRecord> ReadSaleRecord(const Json& body) {
  try {
    SaleRecord sale;
    if (!body.at("customer").is_null()) sale.customer_id = body.at("customer").get<std::string>();
    sale.recognized_by = body.value("recognized_by", "");
    std::map<int64_t, size_t> index_of;
    for (const auto& l : body.at("lines")) {
      BasketLine line;
      line.line = Int(l.at("line"));
      line.sku = l.at("sku").get<std::string>();
      line.qty = Int(l.at("qty"));
      line.unit =
          l.at("unit").get<std::string>() == "g" ? QuantityUnit::kGram : QuantityUnit::kEach;
      line.unit_price = Int(l.at("unit_price"));
      line.gross = Int(l.at("gross"));
      index_of[line.line] = sale.lines.size();
      sale.lines.push_back(std::move(line));
    }
    auto text_of = [](const Json& t) -> LocalText {
      return {t.at("fr").get<std::string>(), t.at("en").get<std::string>()};
    };
    sale.has_visit = body.contains("visit");
    sale.imported = body.value("imported", false);
    sale.day = body.value("day", body.at("at").get<std::string>().substr(0, 10));
    // Sales written before tiers and milestones existed hold nth_unit terms only.
    for (const auto& a : body.at("applications")) {
      RuleTerms t;
      t.rule = a.at("rule").get<std::string>();
      std::string kind = a.value("kind", "nth_unit");
      t.kind = kind == "tier"        ? RuleKind::kTier
               : kind == "milestone" ? RuleKind::kMilestone
                                     : RuleKind::kNthUnit;
      if (t.kind != RuleKind::kTier) {
        t.every = Int(a.at("every"));
        t.progress_before = Int(a.at("progress_before"));
        t.counting = a.value("counting", true);
        if (a.contains("max_per_basket")) t.max_per_basket = Int(a.at("max_per_basket"));
      }
      if (t.kind == RuleKind::kNthUnit) {
        const auto& reward = a.at("reward");
        if (reward.contains("percent")) t.reward.percent = Int(reward.at("percent"));
        if (reward.contains("amount")) t.reward.amount = Int(reward.at("amount"));
        t.unit_name = text_of(a.at("unit_name"));
      }
      if (t.kind == RuleKind::kMilestone) t.amount = Int(a.at("amount"));
      if (a.contains("percent")) t.percent = Int(a.at("percent"));
      t.applies = a.value("applies", true);
      t.group = a.value("group", "");
      for (const auto& n : a.at("matched_lines")) t.matched.push_back(index_of.at(Int(n)));
      t.text = text_of(a.at("text"));
      sale.terms.rules.push_back(std::move(t));
    }
    if (body.contains("cap") && !body.at("cap").is_null()) {
      sale.terms.cap = Int(body.at("cap"));
    }
    if (body.contains("goodwill")) {
      const auto& g = body.at("goodwill");
      // The amount given, so a reversal gives back exactly what was given.
      sale.terms.goodwill =
          GoodwillTerms{Int(g.at("amount")), g.at("cashier_id").get<std::string>(),
                        g.at("reason").get<std::string>(), text_of(g.at("text"))};
    }
    return sale;
  } catch (const std::exception& e) {
    return Error::BadInput("database_unreadable",
                           std::string("a sale event in the ledger is malformed: ") + e.what());
  }
}

}  // namespace regulars
