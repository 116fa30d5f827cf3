#include "checkout/till.h"

#include <algorithm>

#include "checkout/customer_state.h"
#include "checkout/receipt.h"
#include "checkout/reversal.h"
#include "checkout/sale_record.h"
#include "domain/card_number.h"
#include "domain/hex.h"
#include "domain/timestamp.h"
#include "recognition/payment_token.h"
#include "store/audit_chain.h"

namespace regulars {
namespace {

// What a priced basket counts: each counted rule's units and rewards.
std::vector<CountDelta> CountsOf(const Proposal& proposal) {
  std::vector<CountDelta> counts;
  for (size_t i = 0; i < proposal.terms.rules.size(); ++i) {
    const RuleTerms& t = proposal.terms.rules[i];
    const auto& outcome = proposal.pricing.outcomes[i];
    if (t.kind == RuleKind::kTier || (outcome.units == 0 && outcome.rewards == 0)) continue;
    counts.push_back({t.rule, t.every, outcome.units, outcome.rewards});
  }
  return counts;
}

// The visit a priced basket is for its customer: the day, what they paid, the skus.
VisitDelta VisitOf(const Basket& basket, const Proposal& proposal) {
  VisitDelta visit;
  visit.day = proposal.day.date;
  visit.visits = 1;
  visit.spend = proposal.pricing.total_net;
  visit.discount = proposal.pricing.rule_discount;
  visit.goodwill = proposal.pricing.goodwill;
  for (const auto& line : basket.lines) {
    if (std::find(visit.skus.begin(), visit.skus.end(), line.sku) == visit.skus.end()) {
      visit.skus.push_back(line.sku);
    }
  }
  return visit;
}

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

Result<std::unique_ptr<Till>> Till::Open(Config config, const std::string& db_path, Env* env) {
  REGULARS_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(db_path, LedgerOwnerOf(config.till)));
  RuleBooks books(std::move(config));
  REGULARS_TRY(books.KeepIn(ledger->rule_sets(), env));
  return std::unique_ptr<Till>(new Till(std::move(books), std::move(ledger), env));
}

Result<std::unique_ptr<Till>> Till::OpenFile(const std::string& config_path,
                                             const std::string& db_path, Env* env) {
  REGULARS_ASSIGN_OR_RETURN(auto books, RuleBooks::Load(config_path, env));
  const TillIdentity& till = books.current()->config.till;
  REGULARS_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(db_path, LedgerOwnerOf(till)));
  REGULARS_TRY(books.KeepIn(ledger->rule_sets(), env));
  return std::unique_ptr<Till>(new Till(std::move(books), std::move(ledger), env));
}

Result<Proposal> Till::Propose(Basket& basket) {
  REGULARS_ASSIGN_OR_RETURN(std::shared_ptr<const RuleBook> book, books_.For(basket.rules_version));
  // A code shown at the start of a basket stays good while the customer pays: its window
  // is checked at the basket's time when that is within the last 15 minutes.
  int64_t now = env_->NowMs();
  std::optional<int64_t> presented;
  if (basket.at_ms <= now && now - basket.at_ms <= int64_t{15} * 60 * 1000)
    presented = basket.at_ms;
  ReadTransaction snapshot(ledger_->db());
  REGULARS_TRY(snapshot.BeginUnlessOpen());
  REGULARS_ASSIGN_OR_RETURN(Recognition who,
                            Recognize(*ledger_, config().recognition(), basket.identifiers,
                                      {basket.pos_txn_id, now, presented}));
  std::optional<CustomerState> state;
  if (who.customer_id) {
    REGULARS_ASSIGN_OR_RETURN(
        state, LoadCustomerState(*ledger_, *who.customer_id, QueryFor(basket, *book)));
    who.first_name = state->first_name;
  }
  REGULARS_TRY(snapshot.Commit());
  AddTillNotices(basket, *book, who);
  return ProposeFor(basket, std::move(who), state ? &*state : nullptr, std::move(book));
}

void Till::AddTillNotices(const Basket& basket, const RuleBook& book, Recognition& who) const {
  who.notices.insert(who.notices.begin(), basket.notices.begin(), basket.notices.end());
  if (const auto& refused = books_.reload_error()) {
    who.notices.push_back(
        {"config_not_reloaded",
         "the changed config was refused, the previous rules stay in force: " + refused->message,
         refused->where});
  }
  const std::string& version = book.config.rules.version;
  if (!basket.rules_version.empty() && basket.rules_version != version) {
    who.notices.push_back(
        {"rules_version_unknown",
         "rules " + basket.rules_version + " are no longer kept; priced with " + version,
         "/rules_version"});
  }
}

std::string Till::ConfigStatus() {
  books_.Refresh();
  OrderedJson out{{"state", "in_force"},
                  {"file", books_.config_path()},
                  {"rules_version", config().rules.version}};
  const auto& refused = books_.reload_error();
  if (!refused) return ToText(out);
  // A config error's `where` is FILE#/pointer: the file is said once, beside it.
  std::string where = refused->where;
  if (where.starts_with(books_.config_path())) where.erase(0, books_.config_path().size());
  if (where.starts_with("#")) where.erase(0, 1);
  int64_t since = books_.refused_since_ms().value_or(env_->NowMs());
  out["state"] = "refused";
  out["where"] = where;
  out["message"] = refused->message;
  out["since"] = FormatTimestampUtc(since);
  out["since_ms"] = since;
  return ToText(out);
}

Result<std::string> Till::Evaluate(std::string_view basket_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(basket_json, "invalid_basket"));
  auto basket = ParseBasket(json, config().till, env_->NowMs());
  if (!basket.ok()) {
    WipeIdentifierValues(json);
    return basket.error();
  }
  IdentifierWiper wiper{&basket->identifiers};
  // Before the snapshot: the look-up talks to HQ and stores what it learns.
  LookUpHistories(*basket);
  ReadTransaction snapshot(ledger_->db());
  REGULARS_TRY(snapshot.Begin());
  // A basket already committed is shown as committed, not counted a second time. (The
  // digest costs a serialisation: only computed when there is something to compare.)
  REGULARS_ASSIGN_OR_RETURN(auto existing, ledger_->transactions().Find(basket->pos_txn_id));
  bool same = existing && existing->kind == "sale" && existing->request_digest == Digest(json);
  WipeIdentifierValues(json);
  if (same) return existing->response;
  REGULARS_ASSIGN_OR_RETURN(auto proposal, Propose(*basket));
  REGULARS_TRY(snapshot.Commit());
  return ToText(RenderReceipt(*basket, proposal, "proposed"));
}

Result<std::string> Till::Commit(std::string_view basket_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(basket_json, "invalid_basket"));
  auto basket = ParseBasket(json, config().till, env_->NowMs());
  std::string digest = Digest(json);
  WipeIdentifierValues(json);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};
  // Before the write lock: the look-up talks to HQ.
  LookUpHistories(*basket);

  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto recorded, RecordSale(*basket, digest));
  if (!recorded.replayed) REGULARS_TRY(txn.Commit());
  return std::move(recorded.receipt);
}

Result<std::vector<ImportedSale>> Till::Import(const std::vector<Json>& baskets) {
  books_.Refresh();
  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  std::vector<ImportedSale> out;
  out.reserve(baskets.size());
  for (size_t i = 0; i < baskets.size(); ++i) {
    auto in_file = [&](Error e) {
      e.where = JsonPointer("", i) + e.where;
      return e;
    };
    auto basket = ParseBasket(baskets[i], config().till, env_->NowMs());
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

Status Till::RecordRecognition(const Basket& basket, const Recognition& who) {
  if (who.dynamic_qr_digest) {
    REGULARS_TRY(
        ledger_->customers().RecordQrUse(*who.dynamic_qr_digest, basket.pos_txn_id, env_->NowMs()));
  }
  for (const auto& hash : who.token_upgrades) {
    REGULARS_ASSIGN_OR_RETURN(auto known, ledger_->customers().ByIdentifier("payment_token", hash));
    if (!known)
      REGULARS_TRY(ledger_->customers().AddIdentifier("payment_token", hash, *who.customer_id));
  }
  if (who.new_profile_token) {
    REGULARS_TRY(StartProfile(*ledger_, *who.customer_id, *who.new_profile_token, basket.at_ms));
  }
  return Status::Ok();
}

Status Till::RememberUnattributed(const Basket& basket, const Proposal& proposal,
                                  const EventKey& sale) {
  // What the basket counts for a customer with no history yet: units, no rewards (it
  // paid full price), as an imported basket counts.
  Basket counted = basket;
  counted.imported = true;
  CustomerState nobody;
  REGULARS_ASSIGN_OR_RETURN(auto would, ProposeFor(counted, Recognition{}, &nobody, proposal.book));
  UnattributedSale pending{sale.seq, basket.at_ms, basket.pos_txn_id, CountsOf(would),
                           VisitOf(basket, proposal)};
  for (const auto& [kind, value] : proposal.who.unknown_identifiers) {
    REGULARS_TRY(ledger_->events().RememberUnattributed(kind, value, pending));
  }
  return Status::Ok();
}

Result<Till::Recorded> Till::RecordSale(Basket& basket, const std::string& digest) {
  REGULARS_ASSIGN_OR_RETURN(auto existing, ledger_->transactions().Find(basket.pos_txn_id));
  if (existing) {
    if (existing->kind != "sale" || existing->request_digest != digest) {
      return Error::Conflict(
          "pos_txn_id_conflict",
          "pos_txn_id " + basket.pos_txn_id + " was already committed with a different basket",
          "/pos_txn_id");
    }
    // A retry: same receipt, nothing written.
    return Recorded{existing->response, true, existing->customer_id};
  }

  REGULARS_ASSIGN_OR_RETURN(auto proposal, Propose(basket));
  REGULARS_TRY(RecordRecognition(basket, proposal.who));
  NewEvent event;
  event.kind = "sale";
  event.at_ms = basket.at_ms;
  event.customer_id = proposal.who.customer_id;
  event.pos_txn_id = basket.pos_txn_id;
  event.counts = CountsOf(proposal);
  if (proposal.who.customer_id) event.visit = VisitOf(basket, proposal);
  if (proposal.pricing.goodwill > 0) {
    const GoodwillTerms& g = *proposal.terms.goodwill;
    REGULARS_TRY(AppendAudit(
        ledger_->db(), config().goodwill.audit_key,
        {basket.at_ms, "grant", config().till.store_id, config().till.till_id, g.cashier_id,
         *proposal.who.customer_id, basket.pos_txn_id, proposal.pricing.goodwill, g.reason}));
  }
  event.body = SaleEventBody(basket, proposal);
  REGULARS_ASSIGN_OR_RETURN(auto key, ledger_->events().Append(event));
  if (!proposal.who.customer_id && !proposal.who.unknown_identifiers.empty()) {
    REGULARS_TRY(RememberUnattributed(basket, proposal, key));
  }

  OrderedJson receipt = RenderReceipt(basket, proposal, basket.imported ? "imported" : "committed");
  receipt["event_id"] = key.ToString();
  std::string response = ToText(receipt);
  REGULARS_TRY(ledger_->transactions().Record(
      basket.pos_txn_id, {"sale", digest, response, proposal.who.customer_id, key}));
  return Recorded{std::move(response), false, proposal.who.customer_id};
}

Result<std::string> Till::Void(std::string_view request_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(request_json, "invalid_request"));
  FieldReader r(json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a void request"));
  REGULARS_ASSIGN_OR_RETURN(auto id, r.String("pos_txn_id", kMaxTxnIdLength));
  REGULARS_TRY(ValidateTxnId(id, r.code(), r.PointerTo("pos_txn_id")));
  int64_t at_ms = env_->NowMs();
  REGULARS_ASSIGN_OR_RETURN(auto at, r.OptionalString("at", 64));
  if (at) {
    auto ms = ParseTimestamp(*at);
    if (!ms.ok()) return r.Fail("at", ms.error().message);
    at_ms = *ms;
  }
  return ReverseSale(*ledger_, *books_.current(), {id, "/pos_txn_id", nullptr, at_ms, ""});
}

Result<std::string> Till::Refund(std::string_view refund_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(refund_json, "invalid_refund"));
  REGULARS_ASSIGN_OR_RETURN(auto refund, ParseRefund(json, config().till, env_->NowMs()));
  return ReverseSale(*ledger_, *books_.current(),
                     {refund.refund_of, "/refund_of", &refund, refund.at_ms, Digest(json)});
}

Result<std::string> Till::RecognizeOnly(std::string_view request_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(request_json, "invalid_request"));
  FieldReader r(json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a recognition request"));
  // The identifiers are read as a basket's are: problems become notices.
  Json shaped{{"pos_txn_id", "recognize"},
              {"identifiers", r.Has("identifiers") ? r.Get("identifiers") : Json::array()},
              {"lines", {{{"line", 1}, {"sku", "-"}, {"qty", 1}, {"unit_price", 0}}}}};
  WipeIdentifierValues(json);
  auto basket = ParseBasket(shaped, config().till, env_->NowMs());
  WipeIdentifierValues(shaped);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};
  // Priced as a basket of nothing, so the customer's tier, its progress and the goodwill
  // budget are the ones evaluate would show at this moment: the panel is right at the scan.
  ReadTransaction snapshot(ledger_->db());
  REGULARS_TRY(snapshot.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto proposal, Propose(*basket));
  OrderedJson receipt = RenderReceipt(*basket, proposal, "proposed");
  OrderedJson out{{"customer", std::move(receipt["customer"])},
                  {"notices", std::move(receipt["notices"])}};
  if (proposal.who.customer_id) {
    REGULARS_ASSIGN_OR_RETURN(OrderedJson progress,
                              StoredProgress(*ledger_, *proposal.book, *proposal.who.customer_id));
    for (auto& p : receipt["progress"]) {
      const std::string kind = p.value("kind", "");
      if (kind == "tier_visits" || kind == "tier_spend") progress.push_back(std::move(p));
    }
    out["progress"] = std::move(progress);
    if (receipt.contains("goodwill")) out["goodwill"] = std::move(receipt["goodwill"]);
  }
  REGULARS_TRY(snapshot.Commit());
  return ToText(out);
}

bool Till::HistoryMissing(const std::string& customer_id) {
  if (histories_asked_.contains(customer_id)) return false;
  auto holds = ledger_->events().HoldsHistoryOf(customer_id);
  return holds.ok() && !*holds;
}

void Till::LookUpHistories(Basket& basket) {
  if (!lookup_) return;
  for (const Identifier& id : basket.identifiers) {
    if (id.kind != "card") continue;
    auto card = ValidateCardNumber(id.value, config().card_prefixes);
    if (!card.ok()) continue;  // recognition says what is wrong with it
    auto known = ledger_->customers().ByIdentifier("card", *card);
    if (!known.ok() || (*known && !HistoryMissing((*known)->id))) continue;
    if (!*known) {
      // A card replaced here is known: HQ would only name its customer again.
      auto retired = ledger_->customers().ByIdentifier(kRetiredCard, *card);
      if (!retired.ok() || *retired) continue;
    }
    auto events = lookup_("card", *card);
    if (!events.ok()) {
      std::string what =
          *known ? "send this customer's purchases at other stores" : "say who this card is";
      basket.notices.push_back({"customer_lookup_failed",
                                "headquarters could not " + what + " (" + events.error().message +
                                    "); it is looked at again tonight",
                                id.where});
      continue;
    }
    // Asked once per process: HQ now counts this store among those that know the
    // customer, so the nightly pulls bring the rest.
    if (*known) histories_asked_.insert((*known)->id);
    if (events->empty()) continue;
    // Stored as the night's pull stores them: the same events, merged by id.
    WriteTransaction txn(ledger_->db());
    if (!txn.Begin().ok()) continue;
    auto merged = ledger_->events().AppendForeign(*events);
    if (!merged.ok() || !txn.Commit().ok()) {
      basket.notices.push_back({"customer_lookup_failed",
                                "headquarters' answer about this card could not be stored",
                                id.where});
    }
  }
}

Result<std::string> Till::Link(std::string_view request_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(request_json, "invalid_request"));
  return LinkPaymentCard(*ledger_, config(), json, env_->NowMs());
}

Result<std::string> Till::ReplaceCard(std::string_view request_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(request_json, "invalid_request"));
  return ReplaceLoyaltyCard(*ledger_, config(), json, env_->NowMs());
}

Result<EnrolledCustomer> Till::EnrollCard(const std::string& number,
                                          const std::string& first_name) {
  return regulars::EnrollCard(*ledger_, config(), number, first_name, *env_);
}

Result<std::string> Till::Enroll(std::string_view request_json) {
  books_.Refresh();
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(request_json, "invalid_request"));
  FieldReader r(json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("an enrolment"));
  // {"card": N}, or an identifier as in a basket: {"kind": "card", "value": N}.
  std::string key = r.Has("card") ? "card" : "value";
  if (r.Has("kind")) {
    REGULARS_ASSIGN_OR_RETURN(auto kind, r.String("kind", 32));
    if (kind != "card") {
      return r.Fail("kind", "enrolment by " + kind + " is not available (card only)");
    }
  } else if (!r.Has("card")) {
    return r.Fail("card", "card is required");
  }
  REGULARS_ASSIGN_OR_RETURN(auto number, r.String(key, 64));
  // A first name for the panel's greeting: printable text, no control characters.
  REGULARS_ASSIGN_OR_RETURN(auto first_name, r.OptionalString("first_name", 50));
  if (first_name) {
    for (unsigned char c : *first_name) {
      if (c < 0x20 || c == 0x7f)
        return r.Fail("first_name", "first_name holds a control character");
    }
  }
  auto enrolled = EnrollCard(number, first_name.value_or(""));
  if (!enrolled.ok()) {
    Error e = enrolled.error();
    if (e.code == "invalid_card" || e.code == "card_replaced") e.where = r.PointerTo(key);
    return e;
  }
  OrderedJson out{{"customer", {{"id", enrolled->id}, {"created", enrolled->created}}}};
  return ToText(out);
}

}  // namespace regulars
