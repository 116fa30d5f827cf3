#include "checkout/receipt.h"

namespace regulars {

LocalText ProgressText(int64_t have, int64_t need, const LocalText& unit_name, bool free) {
  if (have >= need) {
    return {std::string("le prochain ") + unit_name.fr + (free ? " est offert" : " est remisé"),
            "the next " + unit_name.en + (free ? " is on us" : " is discounted")};
  }
  std::string h = std::to_string(have), n = std::to_string(need);
  LocalText text{h + " " + unit_name.fr + (have > 1 ? "s" : "") + " sur " + n,
                 h + " of " + n + " " + unit_name.en + "s"};
  if (have == need - 1) {
    text.fr += free ? " : le prochain est offert" : " : le prochain est remisé";
    text.en += free ? ": the next one is on us" : ": the next one is discounted";
  }
  return text;
}

OrderedJson RenderText(const LocalText& text) { return {{"fr", text.fr}, {"en", text.en}}; }

OrderedJson RenderProgress(const std::string& rule, int64_t have, int64_t need,
                           const LocalText& text) {
  return {{"rule", rule}, {"have", have}, {"need", need}, {"text", RenderText(text)}};
}

OrderedJson RenderNotices(const std::vector<Notice>& notices) {
  OrderedJson out = OrderedJson::array();
  for (const auto& n : notices) {
    out.push_back({{"code", n.code}, {"message", n.message}, {"where", n.where}});
  }
  return out;
}

OrderedJson RenderCustomer(const Recognition& who) {
  if (!who.customer_id) return nullptr;
  OrderedJson customer{
      {"id", *who.customer_id}, {"tier", nullptr}, {"recognized_by", who.recognized_by}};
  if (who.pseudonymous) customer["pseudonymous"] = true;
  return customer;
}

OrderedJson RenderReceipt(const Basket& basket, const Proposal& proposal, std::string_view status,
                          const std::string& rules_version) {
  OrderedJson receipt;
  receipt["pos_txn_id"] = basket.pos_txn_id;
  receipt["status"] = status;
  receipt["customer"] = RenderCustomer(proposal.who);
  receipt["currency"] = basket.currency.code;
  OrderedJson lines = OrderedJson::array();
  for (size_t i = 0; i < basket.lines.size(); ++i) {
    const BasketLine& line = basket.lines[i];
    const PricedLine& priced = proposal.pricing.lines[i];
    OrderedJson out{{"line", line.line}, {"sku", line.sku}, {"qty", line.qty}};
    if (line.unit == QuantityUnit::kGram) out["unit"] = "g";
    out["gross"] = priced.gross;
    out["net"] = priced.net;
    OrderedJson discounts = OrderedJson::array();
    for (const auto& d : priced.discounts) {
      discounts.push_back({{"rule", d.rule},
                           {"amount", d.amount},
                           {"units", d.units},
                           {"text", RenderText(d.text)}});
    }
    out["discounts"] = std::move(discounts);
    lines.push_back(std::move(out));
  }
  receipt["lines"] = std::move(lines);
  receipt["total_gross"] = proposal.pricing.total_gross;
  receipt["total_discount"] = proposal.pricing.total_discount;
  receipt["total_net"] = proposal.pricing.total_net;
  OrderedJson progress = OrderedJson::array();
  for (size_t i = 0; i < proposal.terms.size(); ++i) {
    const RuleTerms& t = proposal.terms[i];
    int64_t have = proposal.pricing.outcomes[i].progress_after;
    bool free = t.reward.percent && *t.reward.percent == 100;
    progress.push_back(
        RenderProgress(t.rule, have, t.every, ProgressText(have, t.every, t.unit_name, free)));
  }
  receipt["progress"] = progress;
  receipt["notices"] = RenderNotices(proposal.who.notices);
  receipt["rules_version"] = rules_version;
  return receipt;
}

}  // namespace regulars
