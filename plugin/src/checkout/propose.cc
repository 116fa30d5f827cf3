#include "checkout/propose.h"

#include <algorithm>
#include <utility>

#include "domain/money.h"

namespace regulars {
namespace {

using RuleLine = std::pair<uint32_t, uint32_t>;  // (rule, line)

int Stage(RuleKind kind) {
  switch (kind) {
    case RuleKind::kNthUnit:
      return 0;
    case RuleKind::kTier:
      return 1;
    case RuleKind::kMilestone:
      return 2;
  }
  return 3;
}

// The lines each rule matches, found through the index (never rules x lines), sorted by
// rule then line.
std::vector<RuleLine> MatchLines(const Basket& basket, const RuleBook& book) {
  const auto& rules = book.config.rules.rules;
  std::vector<RuleLine> hits;
  std::vector<uint32_t> candidates;
  for (uint32_t i = 0; i < basket.lines.size(); ++i) {
    candidates.clear();
    book.index.Candidates(basket.lines[i], candidates);
    for (uint32_t r : candidates) {
      const Rule& rule = rules[r];
      // nth_unit counts units: weighed lines never count toward it.
      if (rule.kind == RuleKind::kNthUnit && basket.lines[i].unit != QuantityUnit::kEach) {
        continue;
      }
      if (rule.match.Matches(basket.lines[i])) hits.push_back({r, i});
    }
  }
  std::sort(hits.begin(), hits.end());
  return hits;
}

// Rules to consider: those the basket matches, and counted rules with progress. A rule
// the basket does not touch matters only when its reward is near (the cashier may say
// so) or owed: a regular with progress on hundreds of rules must not get hundreds of lines.
std::vector<uint32_t> ConsideredRules(const std::vector<RuleLine>& hits, const RuleBook& book,
                                      const std::map<std::string, Counter>& counters) {
  std::vector<uint32_t> considered;
  for (const auto& [r, line] : hits) {
    if (considered.empty() || considered.back() != r) considered.push_back(r);
  }
  if (counters.empty()) return considered;
  for (const auto& [id, counter] : counters) {
    auto r = book.index.Find(id);
    if (!r || counter.progress <= 0) continue;
    if (counter.progress >= book.config.rules.rules[*r].every - 2) considered.push_back(*r);
  }
  std::sort(considered.begin(), considered.end());
  considered.erase(std::unique(considered.begin(), considered.end()), considered.end());
  return considered;
}

// The terms of the counted rules (nth_unit, milestone) for this basket and customer.
void AddCountedTerms(const Basket& basket, const RuleBook& book, const CustomerState& state,
                     Proposal& proposal) {
  const auto& rules = book.config.rules.rules;
  std::vector<RuleLine> hits = MatchLines(basket, book);
  size_t hit = 0;
  for (uint32_t r : ConsideredRules(hits, book, state.counters)) {
    const Rule& rule = rules[r];
    if (!rule.IsCounted()) continue;
    std::vector<size_t> matched;
    while (hit < hits.size() && hits[hit].first < r) ++hit;
    for (size_t h = hit; h < hits.size() && hits[h].first == r; ++h) {
      matched.push_back(hits[h].second);
    }
    auto it = state.counters.find(rule.id);
    int64_t progress = it == state.counters.end() ? 0 : it->second.progress;
    bool active = rule.ActiveAt(basket.at_ms);
    // Outside its dates a rule counts nothing; a reward already earned is still given.
    if (!active && progress < rule.every) continue;
    if (matched.empty() && progress == 0) continue;
    RuleTerms t = TermsOf(rule);
    t.counting = active;
    t.progress_before = progress;
    t.matched = std::move(matched);
    t.text = book.discount_texts[r];
    proposal.terms.rules.push_back(std::move(t));
  }
}

// The highest-ranked tier held applies; higher ones show how far they are.
void AddTierTerms(const Basket& basket, const RuleBook& book, const CustomerState& state,
                  Proposal& proposal) {
  const auto& rules = book.config.rules.rules;
  for (uint32_t r : book.index.tiers()) {
    const Rule& rule = rules[r];
    if (!rule.ActiveAt(basket.at_ms)) continue;
    TierStanding standing = StandingAt(rule.tier, state.visits, basket.at_ms);
    if (standing.held) {
      if (!proposal.tier || proposal.tier->rule->tier.rank < rule.tier.rank) {
        proposal.tier = HeldTier{&rule, standing};
      }
      continue;
    }
    bool by_spend = !rule.tier.purchases;
    proposal.tier_progress.push_back({&rule, by_spend ? standing.spend : standing.visits,
                                      by_spend ? *rule.tier.spend : *rule.tier.purchases,
                                      by_spend});
  }
  int64_t held_rank = proposal.tier ? proposal.tier->rule->tier.rank : 0;
  std::erase_if(proposal.tier_progress,
                [&](const TierProgress& p) { return p.rule->tier.rank <= held_rank; });
  std::sort(proposal.tier_progress.begin(), proposal.tier_progress.end(),
            [](const TierProgress& a, const TierProgress& b) {
              return a.rule->tier.rank < b.rule->tier.rank;
            });
  if (proposal.tier && proposal.tier->rule->tier.percent) {
    const Rule& rule = *proposal.tier->rule;
    RuleTerms t = TermsOf(rule);
    for (size_t i = 0; i < basket.lines.size(); ++i) {
      if (rule.match.Matches(basket.lines[i])) t.matched.push_back(i);
    }
    t.text = book.discount_texts[static_cast<size_t>(&rule - rules.data())];
    if (!t.matched.empty()) proposal.terms.rules.push_back(std::move(t));
  }
}

// The basket's and the day's caps, and the cashier's gesture within the budgets left.
Status AddCapsAndGoodwill(const Basket& basket, const RuleBook& book, const CustomerState& state,
                          Proposal& proposal) {
  const Config& config = book.config;
  const Caps& caps = config.rules.caps;
  if (caps.per_basket) proposal.terms.cap = *caps.per_basket;
  if (caps.per_day) {
    int64_t left = std::max<int64_t>(0, *caps.per_day - state.today.discount);
    proposal.terms.cap = std::min(proposal.terms.cap.value_or(left), left);
  }
  const GoodwillPolicy& goodwill = config.goodwill;
  if (!goodwill.enabled) {
    if (!basket.goodwill) return Status::Ok();
    return Error::BadInput("goodwill_not_configured",
                           "goodwill gestures are not enabled in this till's config", "/goodwill");
  }
  std::string tier = proposal.tier ? proposal.tier->rule->id : "";
  auto budget = goodwill.per_customer_per_day.find(tier);
  if (budget == goodwill.per_customer_per_day.end()) {
    budget = goodwill.per_customer_per_day.find("");
  }
  int64_t left = std::max<int64_t>(0, budget->second - state.today.goodwill);
  proposal.goodwill_left = left;
  if (!basket.goodwill) return Status::Ok();
  const GoodwillRequest& g = *basket.goodwill;
  const Currency& currency = config.till.currency;
  if (g.amount > left) {
    return Error::BadInput("goodwill_over_budget",
                           "this customer's goodwill budget left today is " +
                               FormatMoney(left, currency) + ", not " +
                               FormatMoney(g.amount, currency),
                           "/goodwill/amount");
  }
  if (goodwill.per_cashier_per_day) {
    int64_t cashier_left =
        std::max<int64_t>(0, *goodwill.per_cashier_per_day - state.cashier_goodwill_today);
    if (g.amount > cashier_left) {
      return Error::BadInput("goodwill_over_budget",
                             "cashier " + g.cashier_id + " has " +
                                 FormatMoney(cashier_left, currency) + " of goodwill left today",
                             "/goodwill/amount");
    }
  }
  proposal.terms.goodwill = GoodwillTerms{
      g.amount, g.cashier_id, g.reason,
      book.messages.Format("goodwill.discount", {{"reason", g.reason}, {"cashier", g.cashier_id}})};
  return Status::Ok();
}

// Suggestions need the basket's outcome: how close each reward is after it.
void AddSuggestions(const Basket& basket, const RuleBook& book, const CustomerState& state,
                    Proposal& proposal) {
  SuggestionInput in;
  for (size_t i = 0; i < proposal.terms.rules.size(); ++i) {
    const RuleTerms& t = proposal.terms.rules[i];
    if (t.kind != RuleKind::kNthUnit) continue;
    in.rewards.push_back({t.rule, proposal.pricing.outcomes[i].progress_after, t.every,
                          t.reward.IsFree(), t.unit_name});
  }
  for (auto& p : proposal.tier_progress) {
    NearTier near{p.rule->id, p.rule->tier.name, 0, 0, {}};
    int64_t after = p.have + (p.by_spend ? proposal.pricing.total_net : 1);
    p.have = after;
    int64_t left = p.need - after;
    if (left <= 0) continue;
    if (!p.by_spend) {
      near.visits_left = left;
    } else if (left * 5 <= p.need) {
      near.spend_left = left;
      LocalText money = MoneyText(left, book.config.till.currency);
      near.spend_left_text = {money.fr, money.en + " more"};
    }
    in.tiers.push_back(std::move(near));
  }
  in.recent_sales = state.recent_sales;
  for (const auto& line : basket.lines) in.basket_skus.push_back(line.sku);
  in.product_names = &book.config.products;
  proposal.suggestions = Suggest(in, book.messages);
}

}  // namespace

Result<Proposal> ProposeFor(const Basket& basket, Recognition who, const CustomerState* state,
                            std::shared_ptr<const RuleBook> book) {
  Proposal proposal;
  proposal.book = std::move(book);
  proposal.who = std::move(who);
  proposal.day = LocalDayOf(basket.at, basket.at_ms);
  if (basket.goodwill && !state) {
    return Error::BadInput("goodwill_needs_customer",
                           "a goodwill gesture is for a recognized customer (its budget grows "
                           "with their loyalty)",
                           "/goodwill");
  }
  const RuleBook& rules = *proposal.book;
  if (state) {
    AddCountedTerms(basket, rules, *state, proposal);
    AddTierTerms(basket, rules, *state, proposal);
    REGULARS_TRY(AddCapsAndGoodwill(basket, rules, *state, proposal));
    // Stacking order: nth_unit, then the tier, then milestones; rule-file order within,
    // which is the order the terms were added in (the tier, added last, is alone).
    std::stable_sort(
        proposal.terms.rules.begin(), proposal.terms.rules.end(),
        [](const RuleTerms& a, const RuleTerms& b) { return Stage(a.kind) < Stage(b.kind); });
    REGULARS_TRY(ChooseInGroups(basket.lines, proposal.terms));
    if (basket.imported) CountOnly(proposal.terms);
  }
  REGULARS_ASSIGN_OR_RETURN(proposal.pricing, PriceBasket(basket.lines, proposal.terms));
  if (state) AddSuggestions(basket, rules, *state, proposal);
  return proposal;
}

}  // namespace regulars
