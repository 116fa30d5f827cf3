#include "checkout/sale_record.h"

#include <map>

#include "checkout/receipt.h"

namespace regulars {

OrderedJson SaleEventBody(const Basket& basket, const Proposal& proposal,
                          const std::string& rules_version) {
  OrderedJson body;
  body["pos_txn_id"] = basket.pos_txn_id;
  body["at"] = basket.at;
  body["cashier_id"] = basket.cashier_id;
  body["customer"] = proposal.who.customer_id ? OrderedJson(*proposal.who.customer_id) : nullptr;
  body["recognized_by"] = proposal.who.recognized_by;
  body["currency"] = basket.currency.code;
  body["rules_version"] = rules_version;
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
  for (const auto& t : proposal.terms) {
    OrderedJson reward;
    if (t.reward.percent) reward["percent"] = *t.reward.percent;
    if (t.reward.amount) reward["amount"] = *t.reward.amount;
    OrderedJson matched = OrderedJson::array();
    for (size_t index : t.matched) matched.push_back(basket.lines[index].line);
    applications.push_back({{"rule", t.rule},
                            {"every", t.every},
                            {"reward", reward},
                            {"progress_before", t.progress_before},
                            {"matched_lines", matched},
                            {"text", RenderText(t.text)},
                            {"unit_name", RenderText(t.unit_name)}});
  }
  body["applications"] = applications;
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
        returned[l.at("line").get<int64_t>()] += l.at("qty").get<int64_t>();
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
      line.line = l.at("line").get<int64_t>();
      line.sku = l.at("sku").get<std::string>();
      line.qty = l.at("qty").get<int64_t>();
      line.unit =
          l.at("unit").get<std::string>() == "g" ? QuantityUnit::kGram : QuantityUnit::kEach;
      line.unit_price = l.at("unit_price").get<int64_t>();
      line.gross = l.at("gross").get<int64_t>();
      index_of[line.line] = sale.lines.size();
      sale.lines.push_back(std::move(line));
    }
    for (const auto& a : body.at("applications")) {
      RuleTerms t;
      t.rule = a.at("rule").get<std::string>();
      t.every = a.at("every").get<int64_t>();
      const auto& reward = a.at("reward");
      if (reward.contains("percent")) t.reward.percent = reward.at("percent").get<int64_t>();
      if (reward.contains("amount")) t.reward.amount = reward.at("amount").get<int64_t>();
      t.progress_before = a.at("progress_before").get<int64_t>();
      for (const auto& n : a.at("matched_lines"))
        t.matched.push_back(index_of.at(n.get<int64_t>()));
      t.text = {a.at("text").at("fr").get<std::string>(), a.at("text").at("en").get<std::string>()};
      t.unit_name = {a.at("unit_name").at("fr").get<std::string>(),
                     a.at("unit_name").at("en").get<std::string>()};
      sale.terms.push_back(std::move(t));
    }
    return sale;
  } catch (const std::exception& e) {
    return Error::BadInput("database_unreadable",
                           std::string("a sale event in the ledger is malformed: ") + e.what());
  }
}

}  // namespace regulars
