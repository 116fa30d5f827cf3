#include "checkout/till.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

#include "checkout/receipt.h"
#include "checkout/sale_record.h"
#include "domain/card_number.h"
#include "domain/hex.h"
#include "domain/timestamp.h"
#include "store/audit_chain.h"

namespace regulars {
namespace {

// A fingerprint of a request: the same JSON, whatever its key order or spacing, gives the
// same digest, so a retried commit is told apart from a different basket. The identifiers
// are left out: one may be a payment card number (even under another kind), and an
// unkeyed hash of it must never be stored. A retry is the same basket by its lines.
std::string Digest(const Json& request) {
  constexpr auto kReplace = Json::error_handler_t::replace;
  if (!request.is_object()) return Sha256Hex(request.dump(-1, ' ', false, kReplace));
  // The object's members in key order, as dump() writes them, without copying the basket.
  std::string canonical = "{";
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() == "identifiers") continue;
    if (canonical.size() > 1) canonical += ',';
    canonical += Json(it.key()).dump(-1, ' ', false, kReplace) + ':' +
                 it.value().dump(-1, ' ', false, kReplace);
  }
  return Sha256Hex(canonical + '}');
}

// Customer ids are random, so tills that enrol offline never collide.
Result<std::string> NewCustomerId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error::Internal("no randomness for an id");
  return "c_" + ToHex(bytes, sizeof bytes);
}

// Overwrites identifier values in a parsed request once they have been read: any of them
// may be a payment card number, whatever kind it was sent as.
void WipeIdentifierValues(Json& request) {
  if (!request.is_object() || !request.contains("identifiers")) return;
  for (auto& id : request["identifiers"]) {
    if (id.is_object() && id.contains("value") && id["value"].is_string()) {
      Wipe(id["value"].get_ref<std::string&>());
    }
  }
}

// Wipes the identifier values a parsed basket holds when it goes out of scope, whichever
// way the call returns.
struct IdentifierWiper {
  std::vector<Identifier>* identifiers;
  ~IdentifierWiper() {
    for (auto& id : *identifiers) Wipe(id.value);
  }
};

}  // namespace

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Till>> Till::Open(Config config, const std::string& db_path, Clock clock) {
  auto ledger = Ledger::Open(db_path, config.till.store_id, config.till.till_id);
  if (!ledger.ok()) return ledger.error();
  return std::unique_ptr<Till>(
      new Till(std::move(config), std::move(ledger).value(), std::move(clock)));
}

namespace {
// What identifies a file's content without reading it: a changed file (even rewritten in
// the same second, or replaced by a rename) gets a different stamp.
std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}
constexpr size_t kKeptRuleBooks = 3;
}  // namespace

Result<std::unique_ptr<Till>> Till::OpenFile(const std::string& config_path,
                                             const std::string& db_path, Clock clock) {
  std::string stamp = FileStamp(config_path);
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) return config.error();
  auto till = Open(std::move(config).value(), db_path, std::move(clock));
  if (!till.ok()) return till.error();
  (*till)->config_path_ = config_path;
  (*till)->config_stamp_ = stamp;
  return till;
}

void Till::Refresh() {
  if (config_path_.empty()) return;
  std::string stamp = FileStamp(config_path_);
  if (stamp == config_stamp_) return;
  config_stamp_ = stamp;
  auto config = LoadConfigFile(config_path_);
  if (!config.ok()) {
    reload_error_ = config.error();
    return;
  }
  const TillIdentity& now = book_->config.till;
  if (config->till.store_id != now.store_id || config->till.till_id != now.till_id ||
      config->till.currency.code != now.currency.code) {
    reload_error_ = Error::BadInput("invalid_config",
                                    "store, till and currency cannot change while the till is open",
                                    config_path_);
    return;
  }
  if (config->rules.version == book_->config.rules.version &&
      config->rules.digest != book_->config.rules.digest) {
    // A basket shown one set and committed under its version must get that same set.
    reload_error_ =
        Error::BadInput("invalid_config",
                        "the rules changed but rules_version is still " + config->rules.version +
                            ": give changed rules a new version",
                        config_path_ + "#/rules_version");
    return;
  }
  reload_error_.reset();
  if (config->rules.version == book_->config.rules.version) {
    book_ = std::make_shared<const RuleBook>(std::move(config).value());
    return;
  }
  std::erase_if(previous_, [&](const auto& book) {
    return book->config.rules.version == config->rules.version;
  });
  previous_.insert(previous_.begin(), book_);
  if (previous_.size() > kKeptRuleBooks) previous_.resize(kKeptRuleBooks);
  book_ = std::make_shared<const RuleBook>(std::move(config).value());
}

std::shared_ptr<const RuleBook> Till::BookFor(const std::string& rules_version) const {
  if (rules_version.empty() || rules_version == book_->config.rules.version) return book_;
  for (const auto& book : previous_) {
    if (book->config.rules.version == rules_version) return book;
  }
  return book_;
}

namespace {

LocalText DiscountText(const Rule& rule, const MessageCatalogue& messages,
                       const Currency& currency) {
  if (!rule.text.empty()) return rule.text;
  switch (rule.kind) {
    case RuleKind::kNthUnit: {
      MessageArgs args{{"nth", OrdinalText(rule.every)},
                       {"unit", rule.unit_name},
                       {"every", std::to_string(rule.every)}};
      if (rule.reward.IsFree()) return messages.Format("nth_unit.discount.free", args);
      if (rule.reward.percent) {
        args.push_back({"percent", std::to_string(*rule.reward.percent)});
        return messages.Format("nth_unit.discount.percent", args);
      }
      args.push_back({"amount", MoneyText(rule.reward.amount.value_or(0), currency)});
      return messages.Format("nth_unit.discount.amount", args);
    }
    case RuleKind::kMilestone:
      return messages.Format("milestone.discount", {{"amount", MoneyText(rule.amount, currency)},
                                                    {"step", MoneyText(rule.every, currency)}});
    case RuleKind::kTier:
      return messages.Format(
          "tier.discount",
          {{"tier", rule.tier.name}, {"percent", std::to_string(rule.tier.percent.value_or(0))}});
  }
  return {};
}

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

}  // namespace

RuleBook::RuleBook(Config c)
    : config(std::move(c)), index(config.rules.rules), messages(config.messages) {
  // Sentences are the same for every basket: written once per rule set.
  discount_texts.reserve(config.rules.rules.size());
  for (const Rule& rule : config.rules.rules) {
    discount_texts.push_back(DiscountText(rule, messages, config.till.currency));
  }
}

Result<Proposal> Till::Propose(Basket& basket) {
  Proposal proposal;
  proposal.book = BookFor(basket.rules_version);
  const Config& config = proposal.book->config;
  proposal.day = LocalDayOf(basket.at, basket.at_ms);
  // A code shown at the start of a basket stays good while the customer pays: its window
  // is checked at the basket's time when that is within the last 15 minutes.
  int64_t now = clock_();
  std::optional<int64_t> presented;
  if (basket.at_ms <= now && now - basket.at_ms <= 15 * 60 * 1000) presented = basket.at_ms;
  auto who = Recognize(*ledger_, book_->config.recognition(), basket.identifiers,
                       {basket.pos_txn_id, now, presented});
  if (!who.ok()) return who.error();
  proposal.who = std::move(who).value();
  if (proposal.who.customer_id) {
    auto name = ledger_->FirstName(*proposal.who.customer_id);
    if (!name.ok()) return name.error();
    proposal.who.first_name = std::move(name).value();
  }
  proposal.who.notices.insert(proposal.who.notices.begin(), basket.notices.begin(),
                              basket.notices.end());
  if (reload_error_) {
    proposal.who.notices.push_back(
        {"config_not_reloaded",
         "the changed config was refused, the previous rules stay in force: " +
             reload_error_->message,
         reload_error_->where});
  }
  if (!basket.rules_version.empty() &&
      basket.rules_version != proposal.book->config.rules.version) {
    proposal.who.notices.push_back({"rules_version_unknown",
                                    "rules " + basket.rules_version +
                                        " are no longer kept; priced with " + config.rules.version,
                                    "/rules_version"});
  }
  if (basket.goodwill && !proposal.who.customer_id) {
    return Error::BadInput("goodwill_needs_customer",
                           "a goodwill gesture is for a recognized customer (its budget grows "
                           "with their loyalty)",
                           "/goodwill");
  }

  if (proposal.who.customer_id) {
    const auto& rules = config.rules.rules;
    // The lines each rule matches, found through the index: never rules x lines.
    std::vector<std::pair<uint32_t, uint32_t>> hits;  // (rule, line)
    std::vector<uint32_t> candidates;
    for (uint32_t i = 0; i < basket.lines.size(); ++i) {
      candidates.clear();
      proposal.book->index.Candidates(basket.lines[i], candidates);
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
    auto counters = ledger_->CountersOf(*proposal.who.customer_id);
    if (!counters.ok()) return counters.error();
    // Rules to consider: those the basket matches, and counted rules with progress (an
    // owed reward, or a progress line to show).
    std::vector<uint32_t> considered;
    for (const auto& [r, line] : hits) {
      if (considered.empty() || considered.back() != r) considered.push_back(r);
    }
    if (!counters->empty()) {
      for (const auto& [id, counter] : *counters) {
        // A rule the basket does not touch matters only when its reward is near (the
        // cashier may say so) or owed: a regular with progress on hundreds of rules
        // must not get hundreds of lines.
        auto r = proposal.book->index.Find(id);
        if (!r || counter.progress <= 0) continue;
        const Rule& rule = rules[*r];
        if (counter.progress >= rule.every - 2) considered.push_back(*r);
      }
      std::sort(considered.begin(), considered.end());
      considered.erase(std::unique(considered.begin(), considered.end()), considered.end());
    }
    size_t hit = 0;
    for (uint32_t r : considered) {
      const Rule& rule = rules[r];
      if (!rule.IsCounted()) continue;
      std::vector<size_t> matched;
      while (hit < hits.size() && hits[hit].first < r) ++hit;
      for (size_t h = hit; h < hits.size() && hits[h].first == r; ++h) {
        matched.push_back(hits[h].second);
      }
      auto it = counters->find(rule.id);
      int64_t progress = it == counters->end() ? 0 : it->second.progress;
      bool active = rule.ActiveAt(basket.at_ms);
      // Outside its dates a rule counts nothing; a reward already earned is still given.
      if (!active && progress < rule.every) continue;
      if (matched.empty() && progress == 0) continue;
      RuleTerms t = TermsOf(rule);
      t.counting = active;
      t.progress_before = progress;
      t.matched = std::move(matched);
      t.text = proposal.book->discount_texts[r];
      proposal.terms.rules.push_back(std::move(t));
    }
    REGULARS_TRY(AddCustomerTerms(basket, proposal));
    // Stacking order: nth_unit, then the tier, then milestones; rule-file order within,
    // which is the order the terms were added in (the tier, added last, is alone).
    std::stable_sort(
        proposal.terms.rules.begin(), proposal.terms.rules.end(),
        [](const RuleTerms& a, const RuleTerms& b) { return Stage(a.kind) < Stage(b.kind); });
    REGULARS_TRY(ChooseInGroups(basket.lines, proposal.terms));
    if (basket.imported) CountOnly(proposal.terms);
  }
  auto pricing = PriceBasket(basket.lines, proposal.terms);
  if (!pricing.ok()) return pricing.error();
  proposal.pricing = std::move(pricing).value();
  if (proposal.who.customer_id) {
    // Suggestions need the basket's outcome: how close each reward is after it.
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
        LocalText money = MoneyText(left, config.till.currency);
        near.spend_left_text = {money.fr, money.en + " more"};
      }
      in.tiers.push_back(std::move(near));
    }
    auto recent = ledger_->RecentSales(*proposal.who.customer_id, 10);
    if (!recent.ok()) return recent.error();
    for (const auto& sale : *recent) in.recent_sales.push_back(sale.delta.skus);
    for (const auto& line : basket.lines) in.basket_skus.push_back(line.sku);
    proposal.suggestions = Suggest(in, proposal.book->messages);
  }
  return proposal;
}

Status Till::AddCustomerTerms(const Basket& basket, Proposal& proposal) {
  const Config& config = proposal.book->config;
  const std::string& customer = *proposal.who.customer_id;
  std::vector<const Rule*> tiers;
  int64_t history_days = 0;
  for (uint32_t r : proposal.book->index.tiers()) {
    const Rule& rule = config.rules.rules[r];
    tiers.push_back(&rule);
    history_days = std::max(history_days, rule.tier.window_days + rule.tier.grace_days);
  }
  if (!tiers.empty()) {
    auto rows = ledger_->VisitsSince(customer, basket.at_ms - history_days * kDayMs, false);
    if (!rows.ok()) return rows.error();
    std::vector<VisitPoint> points;
    for (const auto& row : *rows) points.push_back({row.at_ms, row.delta.visits, row.delta.spend});
    // The highest-ranked tier held applies; higher ones show how far they are.
    for (const Rule* rule : tiers) {
      if (!rule->ActiveAt(basket.at_ms)) continue;
      TierStanding standing = StandingAt(rule->tier, points, basket.at_ms);
      if (standing.held) {
        if (!proposal.tier || proposal.tier->rule->tier.rank < rule->tier.rank) {
          proposal.tier = HeldTier{rule, standing};
        }
        continue;
      }
      bool by_spend = !rule->tier.purchases;
      proposal.tier_progress.push_back({rule, by_spend ? standing.spend : standing.visits,
                                        by_spend ? *rule->tier.spend : *rule->tier.purchases,
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
      t.text =
          proposal.book->discount_texts[static_cast<size_t>(&rule - config.rules.rules.data())];
      if (!t.matched.empty()) proposal.terms.rules.push_back(std::move(t));
    }
  }

  const Caps& caps = config.rules.caps;
  std::optional<VisitDelta> today;
  if (caps.per_day || basket.goodwill || config.goodwill.enabled) {
    auto totals = ledger_->DayTotals(customer, proposal.day.date);
    if (!totals.ok()) return totals.error();
    today = *totals;
  }
  if (caps.per_basket) proposal.terms.cap = *caps.per_basket;
  if (caps.per_day) {
    int64_t left = std::max<int64_t>(0, *caps.per_day - today->discount);
    proposal.terms.cap = std::min(proposal.terms.cap.value_or(left), left);
  }

  const GoodwillPolicy& goodwill = config.goodwill;
  if (goodwill.enabled) {
    std::string tier = proposal.tier ? proposal.tier->rule->id : "";
    auto budget = goodwill.per_customer_per_day.find(tier);
    if (budget == goodwill.per_customer_per_day.end())
      budget = goodwill.per_customer_per_day.find("");
    int64_t left = std::max<int64_t>(0, budget->second - today->goodwill);
    proposal.goodwill_left = left;
    if (basket.goodwill) {
      const GoodwillRequest& g = *basket.goodwill;
      if (g.amount > left) {
        return Error::BadInput("goodwill_over_budget",
                               "this customer's goodwill budget left today is " +
                                   FormatMoney(left, config.till.currency) + ", not " +
                                   FormatMoney(g.amount, config.till.currency),
                               "/goodwill/amount");
      }
      if (goodwill.per_cashier_per_day) {
        auto given = GoodwillGivenBy(ledger_->db(), g.cashier_id, proposal.day.start_ms,
                                     proposal.day.end_ms);
        if (!given.ok()) return given.error();
        int64_t cashier_left = std::max<int64_t>(0, *goodwill.per_cashier_per_day - *given);
        if (g.amount > cashier_left) {
          return Error::BadInput("goodwill_over_budget",
                                 "cashier " + g.cashier_id + " has " +
                                     FormatMoney(cashier_left, config.till.currency) +
                                     " of goodwill left today",
                                 "/goodwill/amount");
        }
      }
      proposal.terms.goodwill = GoodwillTerms{
          g.amount, g.cashier_id, g.reason,
          proposal.book->messages.Format("goodwill.discount",
                                         {{"reason", g.reason}, {"cashier", g.cashier_id}})};
    }
  } else if (basket.goodwill) {
    return Error::BadInput("goodwill_not_configured",
                           "goodwill gestures are not enabled in this till's config", "/goodwill");
  }
  return Status::Ok();
}

Result<std::string> Till::Evaluate(std::string_view basket_json) {
  Refresh();
  auto json = ParseJson(basket_json, "invalid_basket");
  if (!json.ok()) return json.error();
  auto basket = ParseBasket(*json, config().till, clock_());
  if (!basket.ok()) {
    WipeIdentifierValues(*json);
    return basket.error();
  }
  IdentifierWiper wiper{&basket->identifiers};
  // A basket already committed is shown as committed, not counted a second time. (The
  // digest costs a serialisation: only computed when there is something to compare.)
  auto existing = ledger_->FindTransaction(basket->pos_txn_id);
  if (!existing.ok()) return existing.error();
  bool same =
      *existing && (*existing)->kind == "sale" && (*existing)->request_digest == Digest(*json);
  WipeIdentifierValues(*json);
  if (same) {
    return (*existing)->response;
  }
  LookUpUnknownCards(*basket);
  auto proposal = Propose(*basket);
  if (!proposal.ok()) return proposal.error();
  return ToText(RenderReceipt(*basket, *proposal, "proposed"));
}

Result<std::string> Till::Commit(std::string_view basket_json) {
  Refresh();
  auto json = ParseJson(basket_json, "invalid_basket");
  if (!json.ok()) return json.error();
  auto basket = ParseBasket(*json, config().till, clock_());
  std::string digest = Digest(*json);
  WipeIdentifierValues(*json);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};
  // Before the write lock: the look-up talks to HQ.
  LookUpUnknownCards(*basket);

  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  auto recorded = RecordSale(*basket, digest);
  if (!recorded.ok()) return recorded.error();
  if (!recorded->replayed) REGULARS_TRY(txn.Commit());
  return std::move(recorded->receipt);
}

Result<std::vector<ImportedSale>> Till::Import(const std::vector<Json>& baskets) {
  Refresh();
  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  std::vector<ImportedSale> out;
  out.reserve(baskets.size());
  for (size_t i = 0; i < baskets.size(); ++i) {
    auto in_file = [&](Error e) {
      e.where = JsonPointer("", i) + e.where;
      return e;
    };
    auto basket = ParseBasket(baskets[i], config().till, clock_());
    if (!basket.ok()) return in_file(basket.error());
    IdentifierWiper wiper{&basket->identifiers};
    basket->imported = true;
    auto recorded = RecordSale(*basket, Digest(baskets[i]));
    if (!recorded.ok()) return in_file(recorded.error());
    out.push_back({recorded->replayed, std::move(recorded->customer_id)});
  }
  REGULARS_TRY(txn.Commit());
  return out;
}

Result<Till::Recorded> Till::RecordSale(Basket& basket, const std::string& digest) {
  auto existing = ledger_->FindTransaction(basket.pos_txn_id);
  if (!existing.ok()) return existing.error();
  if (*existing) {
    if ((*existing)->kind != "sale" || (*existing)->request_digest != digest) {
      return Error::Conflict(
          "pos_txn_id_conflict",
          "pos_txn_id " + basket.pos_txn_id + " was already committed with a different basket",
          "/pos_txn_id");
    }
    // A retry: same receipt, nothing written.
    return Recorded{(*existing)->response, true, (*existing)->customer_id};
  }

  auto proposal = Propose(basket);
  if (!proposal.ok()) return proposal.error();
  if (proposal->who.dynamic_qr_digest) {
    REGULARS_TRY(
        ledger_->RecordQrUse(*proposal->who.dynamic_qr_digest, basket.pos_txn_id, clock_()));
  }
  for (const auto& hash : proposal->who.token_upgrades) {
    auto known = ledger_->CustomerByIdentifier("payment_token", hash);
    if (!known.ok()) return known.error();
    if (!*known) {
      REGULARS_TRY(ledger_->AddIdentifier("payment_token", hash, *proposal->who.customer_id));
    }
  }
  if (proposal->who.new_profile_token) {
    REGULARS_TRY(
        StartProfile(*proposal->who.customer_id, *proposal->who.new_profile_token, basket.at_ms));
  }
  NewEvent event;
  event.kind = "sale";
  event.at_ms = basket.at_ms;
  event.customer_id = proposal->who.customer_id;
  event.pos_txn_id = basket.pos_txn_id;
  for (size_t i = 0; i < proposal->terms.rules.size(); ++i) {
    const RuleTerms& t = proposal->terms.rules[i];
    const auto& outcome = proposal->pricing.outcomes[i];
    if (t.kind == RuleKind::kTier || (outcome.units == 0 && outcome.rewards == 0)) continue;
    event.counts.push_back({t.rule, t.every, outcome.units, outcome.rewards});
  }
  if (proposal->who.customer_id) {
    VisitDelta visit;
    visit.day = proposal->day.date;
    visit.visits = 1;
    visit.spend = proposal->pricing.total_net;
    visit.discount = proposal->pricing.rule_discount;
    visit.goodwill = proposal->pricing.goodwill;
    for (const auto& line : basket.lines) {
      if (std::find(visit.skus.begin(), visit.skus.end(), line.sku) == visit.skus.end()) {
        visit.skus.push_back(line.sku);
      }
    }
    event.visit = std::move(visit);
  }
  if (proposal->pricing.goodwill > 0) {
    const GoodwillTerms& g = *proposal->terms.goodwill;
    REGULARS_TRY(AppendAudit(
        ledger_->db(), config().goodwill.audit_key,
        {basket.at_ms, "grant", config().till.store_id, config().till.till_id, g.cashier_id,
         *proposal->who.customer_id, basket.pos_txn_id, proposal->pricing.goodwill, g.reason}));
  }
  event.body = SaleEventBody(basket, *proposal);
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();

  OrderedJson receipt =
      RenderReceipt(basket, *proposal, basket.imported ? "imported" : "committed");
  receipt["event_id"] = key->ToString();
  std::string response = ToText(receipt);
  REGULARS_TRY(ledger_->RecordTransaction(
      basket.pos_txn_id, {"sale", digest, response, proposal->who.customer_id, *key}));
  return Recorded{std::move(response), false, proposal->who.customer_id};
}

Result<std::string> Till::Void(std::string_view request_json) {
  Refresh();
  auto json = ParseJson(request_json, "invalid_request");
  if (!json.ok()) return json.error();
  FieldReader r(*json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a void request"));
  auto id = r.String("pos_txn_id", kMaxTxnIdLength);
  if (!id.ok()) return id.error();
  REGULARS_TRY(ValidateTxnId(*id, r.code(), r.PointerTo("pos_txn_id")));
  int64_t at_ms = clock_();
  auto at = r.OptionalString("at", 64);
  if (!at.ok()) return at.error();
  if (at->has_value()) {
    auto ms = ParseTimestamp(**at);
    if (!ms.ok()) return r.Fail("at", ms.error().message);
    at_ms = *ms;
  }
  return Reverse(*id, "/pos_txn_id", "void", nullptr, at_ms, "");
}

Result<std::string> Till::Refund(std::string_view refund_json) {
  Refresh();
  auto json = ParseJson(refund_json, "invalid_refund");
  if (!json.ok()) return json.error();
  auto refund = ParseRefund(*json, config().till, clock_());
  if (!refund.ok()) return refund.error();
  return Reverse(refund->refund_of, "/refund_of", "refund", &*refund, refund->at_ms, Digest(*json));
}

// Void and refund are one mechanism: reprice the sale's remaining basket without the
// returned units, from the progress it started with, and record the difference as a
// compensating event. Money and counters then stand as if those units were never sold.
Result<std::string> Till::Reverse(const std::string& sale_txn_id, const std::string& where,
                                  const std::string& kind, const RefundRequest* refund,
                                  int64_t at_ms, const std::string& request_digest) {
  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  if (refund) {
    auto existing = ledger_->FindTransaction(refund->pos_txn_id);
    if (!existing.ok()) return existing.error();
    if (*existing) {
      if ((*existing)->kind != "refund" || (*existing)->request_digest != request_digest) {
        return Error::Conflict(
            "pos_txn_id_conflict",
            "pos_txn_id " + refund->pos_txn_id + " was already used for a different transaction",
            "/pos_txn_id");
      }
      return (*existing)->response;
    }
  }
  auto sale = ledger_->FindTransaction(sale_txn_id);
  if (!sale.ok()) return sale.error();
  if (!*sale) {
    return Error::NotFound("unknown_transaction",
                           "no sale with pos_txn_id " + sale_txn_id + " was committed here", where);
  }
  if ((*sale)->kind != "sale") {
    return Error::BadInput(
        "not_a_sale", sale_txn_id + " is a refund; only a sale can be voided or refunded", where);
  }
  auto voided = ledger_->FindVoid(sale_txn_id);
  if (!voided.ok()) return voided.error();
  if (*voided) {
    if (kind == "void") return **voided;  // voiding twice: the first answer
    return Error::BadInput("sale_voided",
                           "sale " + sale_txn_id + " was voided; nothing is left to refund", where);
  }

  auto sale_event = ledger_->FindEvent((*sale)->event);
  if (!sale_event.ok()) return sale_event.error();
  auto record = ReadSaleRecord(sale_event->body);
  if (!record.ok()) return record.error();
  if (record->customer_id) {
    // A sale made under a pseudonymous profile that has since merged is its customer's.
    auto root = ledger_->RootOf(*record->customer_id);
    if (!root.ok()) return root.error();
    record->customer_id = *root;
  }
  auto earlier = ledger_->RefundsOf(sale_txn_id);
  if (!earlier.ok()) return earlier.error();

  std::vector<BasketLine> before = record->lines;
  std::map<int64_t, size_t> index_of;
  for (size_t i = 0; i < before.size(); ++i) index_of[before[i].line] = i;
  auto returned = ReturnedQuantities(*earlier);
  if (!returned.ok()) return returned.error();
  for (const auto& [line, qty] : *returned) {
    auto it = index_of.find(line);
    if (it == index_of.end() || qty > before[it->second].qty) {
      return Error::BadInput("database_unreadable", "a refund of " + sale_txn_id +
                                                        " returns a line the sale does not hold");
    }
    before[it->second].qty -= qty;
  }
  std::vector<BasketLine> after = before;
  if (refund) {
    for (const auto& l : refund->lines) {
      auto it = index_of.find(l.line);
      if (it == index_of.end()) {
        return Error::BadInput("invalid_refund",
                               "line " + std::to_string(l.line) + " is not in sale " + sale_txn_id,
                               l.where + "/line");
      }
      BasketLine& line = after[it->second];
      if (l.sku && *l.sku != line.sku) {
        return Error::BadInput("invalid_refund",
                               "line " + std::to_string(l.line) + " of the sale is sku " +
                                   line.sku + ", not " + *l.sku,
                               l.where + "/sku");
      }
      if (l.qty > line.qty) {
        return Error::BadInput("refund_exceeds_sale",
                               "line " + std::to_string(l.line) + " has " +
                                   std::to_string(line.qty) + " left to refund (sold " +
                                   std::to_string(record->lines[it->second].qty) + ")",
                               l.where + "/qty");
      }
      line.qty -= l.qty;
    }
  } else {
    for (auto& line : after) line.qty = 0;
  }

  // Each side is priced with the sale's terms, exclusivity groups chosen anew for what it
  // holds. Under a cap, what is kept never gets more discount than the sale gave: the
  // day's cap may have been used since.
  BasketTerms terms_before = record->terms;
  if (terms_before.cap) {
    auto sold = PriceBasket(record->lines, record->terms);
    if (!sold.ok()) return sold.error();
    terms_before.cap = std::min(*terms_before.cap, sold->rule_discount);
  }
  BasketTerms terms_after = terms_before;
  REGULARS_TRY(ChooseInGroups(before, terms_before));
  REGULARS_TRY(ChooseInGroups(after, terms_after));
  if (record->imported) {
    // What an imported sale keeps still gives nothing: it was paid in full.
    CountOnly(terms_before);
    CountOnly(terms_after);
  }
  auto priced_before = PriceBasket(before, terms_before);
  if (!priced_before.ok()) return priced_before.error();
  auto priced_after = PriceBasket(after, terms_after);
  if (!priced_after.ok()) return priced_after.error();

  OrderedJson lines = OrderedJson::array();
  for (size_t i = 0; i < before.size(); ++i) {
    int64_t qty = before[i].qty - after[i].qty;
    int64_t amount = priced_before->lines[i].net - priced_after->lines[i].net;
    if (qty == 0 && amount == 0) continue;
    OrderedJson line{
        {"line", before[i].line}, {"sku", before[i].sku}, {"qty", qty}, {"amount", amount}};
    int64_t withdrawn = (priced_before->lines[i].gross - priced_before->lines[i].net) -
                        (priced_after->lines[i].gross - priced_after->lines[i].net);
    if (withdrawn > 0) line["reward_withdrawn"] = withdrawn;
    lines.push_back(line);
  }
  // The customer never owes money for bringing something back: when what they keep
  // would cost more than they paid for everything (a milestone no longer reached), the
  // difference is waived and recorded, like an over-granted reward.
  int64_t total = priced_before->total_net - priced_after->total_net;
  int64_t waived = 0;
  if (total < 0) {
    waived = -total;
    total = 0;
  }

  // A reversal is ordered after what it reverses, whatever the clocks say, so replay
  // never applies it first (where the floor at zero would swallow it).
  auto latest = ledger_->LatestReversalTime(sale_txn_id);
  if (!latest.ok()) return latest.error();
  NewEvent event;
  event.kind = kind;
  event.at_ms = std::max({at_ms, sale_event->at_ms, *latest});
  event.customer_id = record->customer_id;
  if (refund) event.pos_txn_id = refund->pos_txn_id;
  event.ref_pos_txn_id = sale_txn_id;
  for (size_t i = 0; i < record->terms.rules.size(); ++i) {
    const RuleTerms& t = record->terms.rules[i];
    int64_t units = priced_after->outcomes[i].units - priced_before->outcomes[i].units;
    int64_t rewards = priced_after->outcomes[i].rewards - priced_before->outcomes[i].rewards;
    if (t.kind == RuleKind::kTier || (units == 0 && rewards == 0)) continue;
    event.counts.push_back({t.rule, t.every, units, rewards});
  }
  // The customer's visits and spend: what was given back; the visit itself goes when
  // nothing of the sale is left.
  auto holds_units = [](const std::vector<BasketLine>& basket) {
    return std::any_of(basket.begin(), basket.end(), [](const BasketLine& l) { return l.qty > 0; });
  };
  int64_t goodwill_back = priced_before->goodwill - priced_after->goodwill;
  if (record->customer_id && record->has_visit) {
    VisitDelta visit;
    visit.at_ms = sale_event->at_ms;
    visit.day = record->day;
    visit.visits = holds_units(before) && !holds_units(after) ? -1 : 0;
    visit.spend = -total;
    visit.discount = priced_after->rule_discount - priced_before->rule_discount;
    visit.goodwill = -goodwill_back;
    event.visit = std::move(visit);
  }
  // A reversal is never refused for want of goodwill's config: the event records it, and
  // the chain does too while the audit key is there. It counts on its grant's day.
  if (goodwill_back != 0 && record->customer_id && record->terms.goodwill &&
      !config().goodwill.audit_key.secret.empty()) {
    REGULARS_TRY(AppendAudit(
        ledger_->db(), config().goodwill.audit_key,
        {sale_event->at_ms, "reversal", config().till.store_id, config().till.till_id,
         record->terms.goodwill->cashier_id, *record->customer_id,
         refund ? refund->pos_txn_id : sale_txn_id, -goodwill_back, kind + " of " + sale_txn_id}));
  }
  event.body = {{kind == "void" ? "void_of" : "refund_of", sale_txn_id},
                {"pos_txn_id", refund ? OrderedJson(refund->pos_txn_id) : OrderedJson(nullptr)},
                {"at", FormatTimestampUtc(at_ms)},
                {"customer", record->customer_id ? OrderedJson(*record->customer_id) : nullptr},
                {"lines", lines},
                {"total_refund", total},
                {"waived", waived}};
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();

  OrderedJson response;
  response["pos_txn_id"] = refund ? refund->pos_txn_id : sale_txn_id;
  response[kind == "void" ? "void_of" : "refund_of"] = sale_txn_id;
  response["status"] = kind == "void" ? "voided" : "refunded";
  Recognition who;
  who.customer_id = record->customer_id;
  who.recognized_by = record->recognized_by;
  if (record->customer_id) {
    auto customer = ledger_->FindCustomer(*record->customer_id);
    if (!customer.ok()) return customer.error();
    who.pseudonymous = *customer && (*customer)->pseudonymous;
  }
  response["customer"] = RenderCustomer(who);
  response["currency"] = config().till.currency.code;
  response["lines"] = lines;
  response["total_refund"] = total;
  if (waived > 0) response["waived"] = waived;
  OrderedJson progress = OrderedJson::array();
  if (record->customer_id) {
    auto stored = StoredProgress(*record->customer_id);
    if (!stored.ok()) return stored.error();
    progress = std::move(stored).value();
  }
  response["progress"] = std::move(progress);
  response["event_id"] = key->ToString();
  std::string text = ToText(response);
  if (refund) {
    REGULARS_TRY(ledger_->RecordTransaction(
        refund->pos_txn_id, {"refund", request_digest, text, record->customer_id, *key}));
  } else {
    REGULARS_TRY(ledger_->RecordVoid(sale_txn_id, text, *key));
  }
  REGULARS_TRY(txn.Commit());
  return text;
}

Result<OrderedJson> Till::StoredProgress(const std::string& customer_id) {
  auto counters = ledger_->CountersOf(customer_id);
  if (!counters.ok()) return counters.error();
  OrderedJson progress = OrderedJson::array();
  for (const Rule& rule : config().rules.rules) {
    auto it = counters->find(rule.id);
    if (it == counters->end() || !rule.IsCounted()) continue;
    progress.push_back(RenderRuleProgress(TermsOf(rule), it->second.progress, *book_));
  }
  return progress;
}

Result<std::string> Till::RecognizeOnly(std::string_view request_json) {
  Refresh();
  auto json = ParseJson(request_json, "invalid_request");
  if (!json.ok()) return json.error();
  FieldReader r(*json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a recognition request"));
  // The identifiers are read as a basket's are: problems become notices.
  Json shaped{{"pos_txn_id", "recognize"},
              {"identifiers", r.Has("identifiers") ? r.Get("identifiers") : Json::array()},
              {"lines", {{{"line", 1}, {"sku", "-"}, {"qty", 1}, {"unit_price", 0}}}}};
  WipeIdentifierValues(*json);
  auto basket = ParseBasket(shaped, config().till, clock_());
  WipeIdentifierValues(shaped);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};
  auto who = Recognize(*ledger_, config().recognition(), basket->identifiers,
                       {"", clock_(), std::nullopt});
  if (!who.ok()) return who.error();
  who->notices.insert(who->notices.begin(), basket->notices.begin(), basket->notices.end());
  if (who->customer_id) {
    auto name = ledger_->FirstName(*who->customer_id);
    if (!name.ok()) return name.error();
    who->first_name = std::move(name).value();
  }
  OrderedJson out{{"customer", RenderCustomer(*who)}, {"notices", RenderNotices(who->notices)}};
  if (who->customer_id) {
    auto progress = StoredProgress(*who->customer_id);
    if (!progress.ok()) return progress.error();
    out["progress"] = std::move(progress).value();
  }
  return ToText(out);
}

void Till::LookUpUnknownCards(Basket& basket) {
  if (!lookup_) return;
  for (const Identifier& id : basket.identifiers) {
    if (id.kind != "card") continue;
    auto card = ValidateCardNumber(id.value, config().card_prefixes);
    if (!card.ok()) continue;  // recognition says what is wrong with it
    auto known = ledger_->CustomerByIdentifier("card", *card);
    if (!known.ok() || *known) continue;
    auto events = lookup_("card", *card);
    if (!events.ok()) {
      basket.notices.push_back({"customer_lookup_failed",
                                "headquarters could not say who this card is (" +
                                    events.error().message + "); it is looked at again tonight",
                                id.where});
      continue;
    }
    if (events->empty()) continue;
    // Stored as the night's pull stores them: the same events, merged by id.
    WriteTransaction txn(ledger_->db());
    if (!txn.Begin().ok()) continue;
    auto merged = ledger_->AppendForeign(*events);
    if (!merged.ok() || !txn.Commit().ok()) {
      basket.notices.push_back({"customer_lookup_failed",
                                "headquarters' answer about this card could not be stored",
                                id.where});
    }
  }
}

Status Till::StartProfile(const std::string& id, const std::string& token_hash, int64_t at_ms) {
  REGULARS_TRY(ledger_->AddCustomer(id, at_ms, "payment_token", token_hash, true));
  NewEvent event;
  event.kind = "enroll";
  event.at_ms = at_ms;
  event.customer_id = id;
  event.body = {{"customer", id},
                {"pseudonymous", true},
                {"identifier", {{"kind", "payment_token"}, {"value", token_hash}}}};
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();
  return Status::Ok();
}

Result<std::string> Till::Link(std::string_view request_json) {
  Refresh();
  auto json = ParseJson(request_json, "invalid_request");
  if (!json.ok()) return json.error();
  // Take the card value out of the parsed request at once, and wipe it there.
  std::string value, source;
  if (json->is_object() && json->contains("payment_token") &&
      (*json)["payment_token"].is_object()) {
    Json& token = (*json)["payment_token"];
    if (token.contains("value") && token["value"].is_string()) {
      value = token["value"].get<std::string>();
      Wipe(token["value"].get_ref<std::string&>());
    }
    if (token.contains("source") && token["source"].is_string()) source = token["source"];
  }
  SensitiveText card_value(value);
  Wipe(value);
  FieldReader r(*json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a link request"));
  if (!r.Has("payment_token") || !r.Get("payment_token").is_object()) {
    return r.Fail("payment_token", "payment_token must be an object with a value");
  }
  if (card_value.view().empty()) {
    return Error::BadInput("invalid_request", "payment_token.value must be a non-empty string",
                           "/payment_token/value");
  }

  // The consent: what they agreed to, when, where (this store and till), and who asked.
  if (!r.Has("consent")) {
    return r.Fail("consent", "the customer's explicit consent is required to link a payment card");
  }
  FieldReader c(r.Get("consent"), r.PointerTo("consent"), "invalid_request");
  REGULARS_TRY(c.RequireObject("consent"));
  auto text = c.String("text", 2000);
  if (!text.ok()) return text.error();
  auto purpose = c.OptionalString("purpose", 64);
  if (!purpose.ok()) return purpose.error();
  auto cashier = c.OptionalString("cashier_id", 64);
  if (!cashier.ok()) return cashier.error();
  int64_t at_ms = clock_();
  auto at = c.OptionalString("at", 64);
  if (!at.ok()) return at.error();
  if (at->has_value()) {
    auto ms = ParseTimestamp(**at);
    if (!ms.ok()) return c.Fail("at", ms.error().message);
    at_ms = *ms;
  }

  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  std::optional<CustomerRef> customer;
  if (r.Has("customer")) {
    auto id = r.String("customer", 64);
    if (!id.ok()) return id.error();
    auto found = ledger_->FindCustomer(*id);
    if (!found.ok()) return found.error();
    if (!*found) return Error::NotFound("unknown_customer", "no customer " + *id, "/customer");
    customer = **found;
  } else if (r.Has("card")) {
    auto number = r.String("card", 64);
    if (!number.ok()) return number.error();
    auto card = ValidateCardNumber(*number, config().card_prefixes);
    if (!card.ok()) return Error::BadInput("invalid_card", card.error().message, "/card");
    auto found = ledger_->CustomerByIdentifier("card", *card);
    if (!found.ok()) return found.error();
    if (!*found) return Error::NotFound("unknown_card", "this card is not enrolled", "/card");
    customer = **found;
  } else {
    return r.Fail("customer", "customer (an id) or card is required");
  }
  if (customer->pseudonymous) {
    return Error::BadInput("invalid_request", "a payment card links to an enrolled customer",
                           "/customer");
  }

  std::string raw(card_value.view());
  auto lookup = LookUpPaymentCard(*ledger_, config().payment_tokens, raw, source);
  if (!lookup.ok()) {
    Error e = lookup.error();
    e.where = "/payment_token";
    return e;
  }
  OrderedJson response{{"customer", {{"id", customer->id}}}, {"linked", true}};
  std::optional<std::string> merged_from;
  if (lookup->customer) {
    if (lookup->customer->id == customer->id) {
      response["already_linked"] = true;
      if (lookup->matched_hash == lookup->current_hash) return ToText(response);
      // Linked under an older key: also store the newest key's hash, so retiring the old
      // key never unlinks the customer.
      REGULARS_TRY(ledger_->AddIdentifier("payment_token", lookup->current_hash, customer->id));
      REGULARS_TRY(txn.Commit());
      return ToText(response);
    }
    if (!lookup->customer->pseudonymous) {
      return Error::Conflict("payment_card_linked_elsewhere",
                             "this payment card is already linked to another customer",
                             "/payment_token");
    }
    merged_from = lookup->customer->id;
  }

  Consent consent{customer->id, purpose->value_or("loyalty_recognition"), *text, at_ms,
                  cashier->value_or("")};
  auto consent_id = ledger_->AddConsent(consent);
  if (!consent_id.ok()) return consent_id.error();
  if (merged_from) {
    REGULARS_TRY(ledger_->Merge(*merged_from, customer->id, at_ms));
    NewEvent merge;
    merge.kind = "merge";
    merge.at_ms = at_ms;
    merge.customer_id = customer->id;
    merge.body = {{"from", *merged_from}, {"into", customer->id}};
    auto key = ledger_->Append(merge);
    if (!key.ok()) return key.error();
  }
  auto current = ledger_->CustomerByIdentifier("payment_token", lookup->current_hash);
  if (!current.ok()) return current.error();
  if (!*current) {
    REGULARS_TRY(ledger_->AddIdentifier("payment_token", lookup->current_hash, customer->id));
  }
  NewEvent link;
  link.kind = "link";
  link.at_ms = at_ms;
  link.customer_id = customer->id;
  link.body = {{"customer", customer->id},
               {"identifier", {{"kind", "payment_token"}, {"value", lookup->current_hash}}},
               {"consent",
                {{"id", *consent_id},
                 {"purpose", consent.purpose},
                 {"text", consent.text},
                 {"at", FormatTimestampUtc(at_ms)},
                 {"store_id", config().till.store_id},
                 {"till_id", config().till.till_id},
                 {"cashier_id", consent.cashier_id}}}};
  auto key = ledger_->Append(link);
  if (!key.ok()) return key.error();
  REGULARS_TRY(txn.Commit());
  response["merged_from"] = merged_from ? OrderedJson(*merged_from) : OrderedJson(nullptr);
  response["consent_id"] = *consent_id;
  response["event_id"] = key->ToString();
  return ToText(response);
}

Result<EnrolledCustomer> Till::EnrollCard(const std::string& number,
                                          const std::string& first_name) {
  auto card = ValidateCardNumber(number, config().card_prefixes);
  if (!card.ok()) return card.error();
  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  auto existing = ledger_->CustomerByIdentifier("card", *card);
  if (!existing.ok()) return existing.error();
  if (*existing) return EnrolledCustomer{(*existing)->id, false};

  auto id = NewCustomerId();
  if (!id.ok()) return id.error();
  int64_t now = clock_();
  REGULARS_TRY(ledger_->AddCustomer(*id, now, "card", *card));
  NewEvent event;
  event.kind = "enroll";
  event.at_ms = now;
  event.customer_id = *id;
  event.body = {{"customer", *id}, {"identifier", {{"kind", "card"}, {"value", *card}}}};
  if (!first_name.empty()) {
    event.body["first_name"] = first_name;
    REGULARS_TRY(ledger_->SetFirstName(*id, first_name));
  }
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();
  REGULARS_TRY(txn.Commit());
  return EnrolledCustomer{*id, true};
}

Result<std::string> Till::Enroll(std::string_view request_json) {
  Refresh();
  auto json = ParseJson(request_json, "invalid_request");
  if (!json.ok()) return json.error();
  FieldReader r(*json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("an enrolment"));
  // {"card": N}, or an identifier as in a basket: {"kind": "card", "value": N}.
  std::string key = r.Has("card") ? "card" : "value";
  if (r.Has("kind")) {
    auto kind = r.String("kind", 32);
    if (!kind.ok()) return kind.error();
    if (*kind != "card") {
      return r.Fail("kind", "enrolment by " + *kind + " is not available (card only)");
    }
  } else if (!r.Has("card")) {
    return r.Fail("card", "card is required");
  }
  auto number = r.String(key, 64);
  if (!number.ok()) return number.error();
  // A first name for the panel's greeting: printable text, no control characters.
  auto first_name = r.OptionalString("first_name", 50);
  if (!first_name.ok()) return first_name.error();
  if (*first_name) {
    for (unsigned char c : **first_name) {
      if (c < 0x20 || c == 0x7f) {
        return r.Fail("first_name", "first_name holds a control character");
      }
    }
  }
  auto enrolled = EnrollCard(*number, first_name->value_or(""));
  if (!enrolled.ok()) {
    Error e = enrolled.error();
    if (e.code == "invalid_card") e.where = r.PointerTo(key);
    return e;
  }
  OrderedJson out{{"customer", {{"id", enrolled->id}, {"created", enrolled->created}}}};
  return ToText(out);
}

}  // namespace regulars
