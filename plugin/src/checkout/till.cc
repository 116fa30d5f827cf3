#include "checkout/till.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "checkout/receipt.h"
#include "checkout/sale_record.h"
#include "domain/card_number.h"
#include "domain/hex.h"
#include "domain/timestamp.h"

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

bool IsFree(const UnitReward& reward) { return reward.percent && *reward.percent == 100; }

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

Result<Proposal> Till::Propose(Basket& basket) {
  Proposal proposal;
  // A code shown at the start of a basket stays good while the customer pays: its window
  // is checked at the basket's time when that is within the last 15 minutes.
  int64_t now = clock_();
  std::optional<int64_t> presented;
  if (basket.at_ms <= now && now - basket.at_ms <= 15 * 60 * 1000) presented = basket.at_ms;
  auto who = Recognize(*ledger_, config_, basket.identifiers, {basket.pos_txn_id, now, presented});
  if (!who.ok()) return who.error();
  proposal.who = std::move(who).value();
  proposal.who.notices.insert(proposal.who.notices.begin(), basket.notices.begin(),
                              basket.notices.end());
  if (proposal.who.customer_id) {
    auto counters = ledger_->CountersOf(*proposal.who.customer_id);
    if (!counters.ok()) return counters.error();
    for (const Rule& rule : config_.rules.rules) {
      auto matched = MatchedLines(rule.match, basket.lines);
      auto it = counters->find(rule.id);
      int64_t progress = it == counters->end() ? 0 : it->second.progress;
      if (matched.empty() && progress == 0) continue;
      proposal.terms.push_back(
          {rule.id, rule.every, rule.reward, rule.text, rule.unit_name, progress, matched});
    }
  }
  auto pricing = PriceBasket(basket.lines, proposal.terms);
  if (!pricing.ok()) return pricing.error();
  proposal.pricing = std::move(pricing).value();
  return proposal;
}

Result<std::string> Till::Evaluate(std::string_view basket_json) {
  auto json = ParseJson(basket_json, "invalid_basket");
  if (!json.ok()) return json.error();
  auto basket = ParseBasket(*json, config_.till, clock_());
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
  auto proposal = Propose(*basket);
  if (!proposal.ok()) return proposal.error();
  return ToText(RenderReceipt(*basket, *proposal, "proposed", config_.rules.version));
}

Result<std::string> Till::Commit(std::string_view basket_json) {
  auto json = ParseJson(basket_json, "invalid_basket");
  if (!json.ok()) return json.error();
  auto basket = ParseBasket(*json, config_.till, clock_());
  std::string digest = Digest(*json);
  WipeIdentifierValues(*json);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};

  WriteTransaction txn(ledger_->db());
  REGULARS_TRY(txn.Begin());
  auto existing = ledger_->FindTransaction(basket->pos_txn_id);
  if (!existing.ok()) return existing.error();
  if (*existing) {
    if ((*existing)->kind != "sale" || (*existing)->request_digest != digest) {
      return Error::Conflict(
          "pos_txn_id_conflict",
          "pos_txn_id " + basket->pos_txn_id + " was already committed with a different basket",
          "/pos_txn_id");
    }
    return (*existing)->response;  // a retry: same receipt, nothing written
  }

  auto proposal = Propose(*basket);
  if (!proposal.ok()) return proposal.error();
  if (proposal->who.dynamic_qr_digest) {
    REGULARS_TRY(
        ledger_->RecordQrUse(*proposal->who.dynamic_qr_digest, basket->pos_txn_id, clock_()));
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
        StartProfile(*proposal->who.customer_id, *proposal->who.new_profile_token, basket->at_ms));
  }
  NewEvent event;
  event.kind = "sale";
  event.at_ms = basket->at_ms;
  event.customer_id = proposal->who.customer_id;
  event.pos_txn_id = basket->pos_txn_id;
  for (size_t i = 0; i < proposal->terms.size(); ++i) {
    const auto& outcome = proposal->pricing.outcomes[i];
    if (outcome.units == 0 && outcome.rewards == 0) continue;
    event.counts.push_back(
        {proposal->terms[i].rule, proposal->terms[i].every, outcome.units, outcome.rewards});
  }
  event.body = SaleEventBody(*basket, *proposal, config_.rules.version);
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();

  OrderedJson receipt = RenderReceipt(*basket, *proposal, "committed", config_.rules.version);
  receipt["event_id"] = key->ToString();
  std::string response = ToText(receipt);
  REGULARS_TRY(ledger_->RecordTransaction(
      basket->pos_txn_id, {"sale", digest, response, proposal->who.customer_id, *key}));
  REGULARS_TRY(txn.Commit());
  return response;
}

Result<std::string> Till::Void(std::string_view request_json) {
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
  auto json = ParseJson(refund_json, "invalid_refund");
  if (!json.ok()) return json.error();
  auto refund = ParseRefund(*json, config_.till, clock_());
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

  auto priced_before = PriceBasket(before, record->terms);
  if (!priced_before.ok()) return priced_before.error();
  auto priced_after = PriceBasket(after, record->terms);
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
  int64_t total = priced_before->total_net - priced_after->total_net;

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
  for (size_t i = 0; i < record->terms.size(); ++i) {
    int64_t units = priced_after->outcomes[i].units - priced_before->outcomes[i].units;
    int64_t rewards = priced_after->outcomes[i].rewards - priced_before->outcomes[i].rewards;
    if (units == 0 && rewards == 0) continue;
    event.counts.push_back({record->terms[i].rule, record->terms[i].every, units, rewards});
  }
  event.body = {{kind == "void" ? "void_of" : "refund_of", sale_txn_id},
                {"pos_txn_id", refund ? OrderedJson(refund->pos_txn_id) : OrderedJson(nullptr)},
                {"at", FormatTimestampUtc(at_ms)},
                {"customer", record->customer_id ? OrderedJson(*record->customer_id) : nullptr},
                {"lines", lines},
                {"total_refund", total}};
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
  response["currency"] = config_.till.currency.code;
  response["lines"] = lines;
  response["total_refund"] = total;
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
  for (const Rule& rule : config_.rules.rules) {
    auto it = counters->find(rule.id);
    if (it == counters->end()) continue;
    int64_t have = it->second.progress;
    progress.push_back(
        RenderProgress(rule.id, have, rule.every,
                       ProgressText(have, rule.every, rule.unit_name, IsFree(rule.reward))));
  }
  return progress;
}

Result<std::string> Till::RecognizeOnly(std::string_view request_json) {
  auto json = ParseJson(request_json, "invalid_request");
  if (!json.ok()) return json.error();
  FieldReader r(*json, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a recognition request"));
  // The identifiers are read as a basket's are: problems become notices.
  Json shaped{{"pos_txn_id", "recognize"},
              {"identifiers", r.Has("identifiers") ? r.Get("identifiers") : Json::array()},
              {"lines", {{{"line", 1}, {"sku", "-"}, {"qty", 1}, {"unit_price", 0}}}}};
  WipeIdentifierValues(*json);
  auto basket = ParseBasket(shaped, config_.till, clock_());
  WipeIdentifierValues(shaped);
  if (!basket.ok()) return basket.error();
  IdentifierWiper wiper{&basket->identifiers};
  auto who = Recognize(*ledger_, config_, basket->identifiers, {"", clock_(), std::nullopt});
  if (!who.ok()) return who.error();
  who->notices.insert(who->notices.begin(), basket->notices.begin(), basket->notices.end());
  OrderedJson out{{"customer", RenderCustomer(*who)}, {"notices", RenderNotices(who->notices)}};
  if (who->customer_id) {
    auto progress = StoredProgress(*who->customer_id);
    if (!progress.ok()) return progress.error();
    out["progress"] = std::move(progress).value();
  }
  return ToText(out);
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
    auto card = ValidateCardNumber(*number, config_.card_prefixes);
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
  auto lookup = LookUpPaymentCard(*ledger_, config_.payment_tokens, raw, source);
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
                 {"store_id", config_.till.store_id},
                 {"till_id", config_.till.till_id},
                 {"cashier_id", consent.cashier_id}}}};
  auto key = ledger_->Append(link);
  if (!key.ok()) return key.error();
  REGULARS_TRY(txn.Commit());
  response["merged_from"] = merged_from ? OrderedJson(*merged_from) : OrderedJson(nullptr);
  response["consent_id"] = *consent_id;
  response["event_id"] = key->ToString();
  return ToText(response);
}

Result<EnrolledCustomer> Till::EnrollCard(const std::string& number) {
  auto card = ValidateCardNumber(number, config_.card_prefixes);
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
  auto key = ledger_->Append(event);
  if (!key.ok()) return key.error();
  REGULARS_TRY(txn.Commit());
  return EnrolledCustomer{*id, true};
}

Result<std::string> Till::Enroll(std::string_view request_json) {
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
  auto enrolled = EnrollCard(*number);
  if (!enrolled.ok()) {
    Error e = enrolled.error();
    if (e.code == "invalid_card") e.where = r.PointerTo(key);
    return e;
  }
  OrderedJson out{{"customer", {{"id", enrolled->id}, {"created", enrolled->created}}}};
  return ToText(out);
}

}  // namespace regulars
