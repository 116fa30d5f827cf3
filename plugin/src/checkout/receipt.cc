#include "checkout/receipt.h"

namespace regulars {

OrderedJson RenderText(const LocalText& text) { return {{"fr", text.fr}, {"en", text.en}}; }

OrderedJson RenderRuleProgress(const RuleTerms& t, int64_t have, const RuleBook& book) {
  const MessageCatalogue& messages = book.messages;
  const Currency& currency = book.config.till.currency;
  LocalText text;
  if (t.kind == RuleKind::kMilestone) {
    text = messages.Format("milestone.progress", {{"have", MoneyText(have, currency)},
                                                  {"need", MoneyText(t.every, currency)},
                                                  {"amount", MoneyText(t.amount, currency)}});
  } else {
    bool free = t.reward.IsFree();
    // French makes the noun plural from 2; English says "1 of 5 packs".
    LocalText plural = t.unit_plural.empty() ? LocalText{t.unit_name.fr + "s", t.unit_name.en + "s"}
                                             : t.unit_plural;
    LocalText units{have > 1 ? plural.fr : t.unit_name.fr, plural.en};
    MessageArgs args{{"have", std::to_string(have)},
                     {"need", std::to_string(t.every)},
                     {"unit", t.unit_name},
                     {"units", units}};
    const char* key = "nth_unit.progress";
    if (have >= t.every) {
      key = free ? "nth_unit.progress.due_free" : "nth_unit.progress.due_discounted";
    } else if (have == t.every - 1) {
      key = free ? "nth_unit.progress.next_free" : "nth_unit.progress.next_discounted";
    }
    text = messages.Format(key, args);
  }
  return {{"rule", t.rule}, {"have", have}, {"need", t.every}, {"text", RenderText(text)}};
}

OrderedJson RenderNotices(const std::vector<Notice>& notices) {
  OrderedJson out = OrderedJson::array();
  for (const auto& n : notices) {
    out.push_back({{"code", n.code}, {"message", n.message}, {"where", n.where}});
  }
  return out;
}

OrderedJson RenderCustomer(const Recognition& who, const HeldTier* tier, const RuleBook* book) {
  if (!who.customer_id) return nullptr;
  OrderedJson customer{{"id", *who.customer_id},
                       {"tier", tier ? OrderedJson(tier->rule->id) : OrderedJson(nullptr)},
                       {"recognized_by", who.recognized_by}};
  if (who.pseudonymous) customer["pseudonymous"] = true;
  if (who.first_name) customer["first_name"] = *who.first_name;
  if (tier && book) {
    const TierTerms& terms = tier->rule->tier;
    std::string until = FormatTimestampUtc(tier->standing.held_until_ms).substr(0, 10);
    LocalText text = book->messages.Format(tier->standing.in_grace ? "tier.grace" : "tier.held",
                                           {{"tier", terms.name}, {"until", until}});
    customer["tier_status"] = {{"id", tier->rule->id},    {"name", RenderText(terms.name)},
                               {"rank", terms.rank},      {"in_grace", tier->standing.in_grace},
                               {"held_until", until},     {"services", terms.services},
                               {"text", RenderText(text)}};
  }
  return customer;
}

OrderedJson RenderReceipt(const Basket& basket, const Proposal& proposal, std::string_view status) {
  const RuleBook& book = *proposal.book;
  OrderedJson receipt;
  receipt["pos_txn_id"] = basket.pos_txn_id;
  receipt["status"] = status;
  // A committed receipt is kept for retries: no name in it, so erasure leaves none behind.
  Recognition who = proposal.who;
  if (status != "proposed") who.first_name.reset();
  receipt["customer"] = RenderCustomer(who, proposal.tier ? &*proposal.tier : nullptr, &book);
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
      OrderedJson discount{{"rule", d.rule}, {"amount", d.amount}};
      if (d.units > 0) discount["units"] = d.units;
      discount["text"] = RenderText(d.text);
      discounts.push_back(std::move(discount));
    }
    out["discounts"] = std::move(discounts);
    lines.push_back(std::move(out));
  }
  receipt["lines"] = std::move(lines);
  receipt["total_gross"] = proposal.pricing.total_gross;
  receipt["total_discount"] = proposal.pricing.total_discount;
  receipt["total_net"] = proposal.pricing.total_net;
  OrderedJson progress = OrderedJson::array();
  for (size_t i = 0; i < proposal.terms.rules.size(); ++i) {
    const RuleTerms& t = proposal.terms.rules[i];
    if (t.kind == RuleKind::kTier) continue;
    progress.push_back(RenderRuleProgress(t, proposal.pricing.outcomes[i].progress_after, book));
  }
  for (const auto& p : proposal.tier_progress) {
    const Currency& currency = book.config.till.currency;
    LocalText text =
        p.by_spend
            ? book.messages.Format(
                  "tier.progress.spend",
                  {{"have", MoneyText(p.have, currency)},
                   {"need", MoneyText(p.need, currency)},
                   {"left", MoneyText(std::max<int64_t>(0, p.need - p.have), currency)},
                   {"tier", p.rule->tier.name}})
            : book.messages.Format("tier.progress.visits",
                                   {{"have", std::to_string(p.have)},
                                    {"need", std::to_string(p.need)},
                                    {"left", std::to_string(std::max<int64_t>(0, p.need - p.have))},
                                    {"tier", p.rule->tier.name}});
    progress.push_back({{"rule", p.rule->id},
                        {"have", p.have},
                        {"need", p.need},
                        {"kind", p.by_spend ? "tier_spend" : "tier_visits"},
                        {"text", RenderText(text)}});
  }
  receipt["progress"] = std::move(progress);
  if (proposal.who.customer_id) {
    OrderedJson suggestions = OrderedJson::array();
    for (const auto& s : proposal.suggestions) {
      OrderedJson out{{"kind", s.kind}, {"about", s.subject}};
      if (s.kind == "usual_item") {
        out["times"] = s.times;
        out["of"] = s.of;
        if (s.name) out["name"] = RenderText(*s.name);
      } else {
        out["left"] = s.left;
      }
      out["text"] = RenderText(s.text);
      suggestions.push_back(std::move(out));
    }
    receipt["suggestions"] = std::move(suggestions);
  }
  if (proposal.goodwill_left) {
    receipt["goodwill"] = {{"budget_left", *proposal.goodwill_left - proposal.pricing.goodwill},
                           {"granted", proposal.pricing.goodwill}};
  }
  receipt["notices"] = RenderNotices(proposal.who.notices);
  receipt["rules_version"] = book.config.rules.version;
  return receipt;
}

}  // namespace regulars
