#include "checkout/membership.h"

#include <memory>
#include <optional>

#include "domain/card_number.h"
#include "domain/hex.h"
#include "domain/timestamp.h"
#include "recognition/payment_token.h"
#include "recognition/recognize.h"

namespace regulars {
namespace {

// Customer ids are random, so tills that enrol offline never collide.
Result<std::string> NewCustomerId(Env& env) {
  unsigned char bytes[8];
  REGULARS_TRY(env.RandomBytes(bytes));
  return "c_" + ToHex(bytes, sizeof bytes);
}

// A link request as read: the card value (wiped in the request), its source, and the
// consent: what they agreed to, when, where (this store and till), and who asked.
struct LinkRequest {
  std::unique_ptr<SensitiveText> card_value;  // wiped when the request goes
  std::string source;
  Consent consent;
};

// Takes the card value out of the parsed request at once, and wipes it there.
LinkRequest TakeCardValue(Json& request) {
  std::string value, source;
  if (request.is_object() && request.contains("payment_token") &&
      request["payment_token"].is_object()) {
    Json& token = request["payment_token"];
    if (token.contains("value") && token["value"].is_string()) {
      value = token["value"].get<std::string>();
      Wipe(token["value"].get_ref<std::string&>());
    }
    if (token.contains("source") && token["source"].is_string()) source = token["source"];
  }
  LinkRequest link{std::make_unique<SensitiveText>(value), source, {}};
  Wipe(value);
  return link;
}

Status ReadConsent(const FieldReader& r, int64_t now_ms, Consent& consent) {
  if (!r.Has("consent")) {
    return r.Fail("consent", "the customer's explicit consent is required to link a payment card");
  }
  FieldReader c(r.Get("consent"), r.PointerTo("consent"), "invalid_request");
  REGULARS_TRY(c.RequireObject("consent"));
  REGULARS_ASSIGN_OR_RETURN(consent.text, c.String("text", 2000));
  REGULARS_ASSIGN_OR_RETURN(auto purpose, c.OptionalString("purpose", 64));
  REGULARS_ASSIGN_OR_RETURN(auto cashier, c.OptionalString("cashier_id", 64));
  REGULARS_ASSIGN_OR_RETURN(auto at, c.OptionalString("at", 64));
  consent.purpose = purpose.value_or("loyalty_recognition");
  consent.cashier_id = cashier.value_or("");
  consent.given_at_ms = now_ms;
  if (at) {
    auto ms = ParseTimestamp(*at);
    if (!ms.ok()) return c.Fail("at", ms.error().message);
    consent.given_at_ms = *ms;
  }
  return Status::Ok();
}

Result<LinkRequest> ReadLinkRequest(Json& request, int64_t now_ms) {
  LinkRequest link = TakeCardValue(request);
  FieldReader r(request, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a link request"));
  if (!r.Has("payment_token") || !r.Get("payment_token").is_object()) {
    return r.Fail("payment_token", "payment_token must be an object with a value");
  }
  if (link.card_value->view().empty()) {
    return Error::BadInput("invalid_request", "payment_token.value must be a non-empty string",
                           "/payment_token/value");
  }
  REGULARS_TRY(ReadConsent(r, now_ms, link.consent));
  return link;
}

// A card number of the request, checked: its digits and the chain's prefixes.
Result<std::string> RequestCard(const FieldReader& r, std::string_view key, const Config& config) {
  REGULARS_ASSIGN_OR_RETURN(auto number, r.String(key, 64));
  auto card = ValidateCardNumber(number, config.card_prefixes);
  if (!card.ok()) return Error::BadInput("invalid_card", card.error().message, r.PointerTo(key));
  return card;
}

Error CardReplaced(const std::string& card, const std::string& where) {
  return Error::Conflict("card_replaced",
                         "card " + card + " was replaced by another card of its customer", where);
}

// The enrolled customer the request names, by id or by loyalty card.
Result<CustomerRef> LinkTarget(Ledger& ledger, const Config& config, const Json& request) {
  FieldReader r(request, "", "invalid_request");
  std::optional<CustomerRef> customer;
  if (r.Has("customer")) {
    REGULARS_ASSIGN_OR_RETURN(auto id, r.String("customer", 64));
    REGULARS_ASSIGN_OR_RETURN(customer, ledger.customers().Find(id));
    if (!customer) return Error::NotFound("unknown_customer", "no customer " + id, "/customer");
  } else if (r.Has("card")) {
    REGULARS_ASSIGN_OR_RETURN(auto card, RequestCard(r, "card", config));
    REGULARS_ASSIGN_OR_RETURN(customer, ledger.customers().ByIdentifier("card", card));
    if (!customer) return Error::NotFound("unknown_card", "this card is not enrolled", "/card");
  } else {
    return r.Fail("customer", "customer (an id) or card is required");
  }
  if (customer->pseudonymous) {
    return Error::BadInput("invalid_request", "a payment card links to an enrolled customer",
                           "/customer");
  }
  return *customer;
}

// Records the consent, the merge of the card's pseudonymous profile if any, the card's
// current hash and the link event. Returns the link event's key.
Result<EventKey> RecordLink(Ledger& ledger, const Config& config, const CustomerRef& customer,
                            const PaymentCardLookup& card, Consent consent,
                            const std::optional<std::string>& merged_from, int64_t& consent_id) {
  consent.customer_id = customer.id;
  const int64_t at_ms = consent.given_at_ms;
  REGULARS_ASSIGN_OR_RETURN(consent_id, ledger.customers().AddConsent(consent));
  if (merged_from) {
    REGULARS_TRY(ledger.events().Merge(*merged_from, customer.id, at_ms));
    NewEvent merge;
    merge.kind = "merge";
    merge.at_ms = at_ms;
    merge.customer_id = customer.id;
    merge.body = {{"from", *merged_from}, {"into", customer.id}};
    REGULARS_TRY(ledger.events().Append(merge));
  }
  REGULARS_ASSIGN_OR_RETURN(auto current,
                            ledger.customers().ByIdentifier("payment_token", card.current_hash));
  if (!current) {
    REGULARS_TRY(ledger.customers().AddIdentifier("payment_token", card.current_hash, customer.id));
  }
  NewEvent link;
  link.kind = "link";
  link.at_ms = at_ms;
  link.customer_id = customer.id;
  link.body = {{"customer", customer.id},
               {"identifier", {{"kind", "payment_token"}, {"value", card.current_hash}}},
               {"consent",
                {{"id", consent_id},
                 {"purpose", consent.purpose},
                 {"text", consent.text},
                 {"at", FormatTimestampUtc(at_ms)},
                 {"store_id", config.till.store_id},
                 {"till_id", config.till.till_id},
                 {"cashier_id", consent.cashier_id}}}};
  REGULARS_ASSIGN_OR_RETURN(auto key, ledger.events().Append(link));
  // What this till sold to the card before it was linked counts as theirs.
  REGULARS_TRY(ledger.events().CreditUnattributed("payment_token", card.current_hash, at_ms));
  return key;
}

}  // namespace

Result<EnrolledCustomer> EnrollCard(Ledger& ledger, const Config& config, const std::string& number,
                                    const std::string& first_name, Env& env) {
  REGULARS_ASSIGN_OR_RETURN(auto card, ValidateCardNumber(number, config.card_prefixes));
  int64_t now_ms = env.NowMs();
  WriteTransaction txn(ledger.db());
  REGULARS_TRY(txn.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto existing, ledger.customers().ByIdentifier("card", card));
  if (existing) return EnrolledCustomer{existing->id, false};
  // A replaced card stays retired: enrolling it would give its history's card to a stranger.
  REGULARS_ASSIGN_OR_RETURN(auto retired, ledger.customers().ByIdentifier(kRetiredCard, card));
  if (retired) return CardReplaced(card, "/card");

  REGULARS_ASSIGN_OR_RETURN(auto id, NewCustomerId(env));
  REGULARS_TRY(ledger.customers().Add(id, now_ms, "card", card));
  NewEvent event;
  event.kind = "enroll";
  event.at_ms = now_ms;
  event.customer_id = id;
  event.body = {{"customer", id}, {"identifier", {{"kind", "card"}, {"value", card}}}};
  if (!first_name.empty()) {
    event.body["first_name"] = first_name;
    REGULARS_TRY(ledger.customers().SetFirstName(id, first_name));
  }
  REGULARS_TRY(ledger.events().Append(event));
  // What this till sold to the card before it was enrolled counts as theirs.
  REGULARS_TRY(ledger.events().CreditUnattributed("card", card, now_ms));
  REGULARS_TRY(txn.Commit());
  return EnrolledCustomer{id, true};
}

Status StartProfile(Ledger& ledger, const std::string& id, const std::string& token_hash,
                    int64_t at_ms) {
  REGULARS_TRY(ledger.customers().Add(id, at_ms, "payment_token", token_hash, true));
  NewEvent event;
  event.kind = "enroll";
  event.at_ms = at_ms;
  event.customer_id = id;
  event.body = {{"customer", id},
                {"pseudonymous", true},
                {"identifier", {{"kind", "payment_token"}, {"value", token_hash}}}};
  REGULARS_TRY(ledger.events().Append(event));
  return Status::Ok();
}

Result<std::string> LinkPaymentCard(Ledger& ledger, const Config& config, Json& request,
                                    int64_t now_ms) {
  REGULARS_ASSIGN_OR_RETURN(auto link, ReadLinkRequest(request, now_ms));
  WriteTransaction txn(ledger.db());
  REGULARS_TRY(txn.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto customer, LinkTarget(ledger, config, request));

  std::string raw(link.card_value->view());
  auto card = LookUpPaymentCard(ledger, config.payment_tokens, raw, link.source);
  if (!card.ok()) {
    Error e = card.error();
    e.where = "/payment_token";
    return e;
  }
  OrderedJson response{{"customer", {{"id", customer.id}}}, {"linked", true}};
  std::optional<std::string> merged_from;
  if (card->customer) {
    if (card->customer->id == customer.id) {
      response["already_linked"] = true;
      if (card->matched_hash == card->current_hash) return ToText(response);
      // Linked under an older key: also store the newest key's hash, so retiring the old
      // key never unlinks the customer.
      REGULARS_TRY(
          ledger.customers().AddIdentifier("payment_token", card->current_hash, customer.id));
      REGULARS_TRY(txn.Commit());
      return ToText(response);
    }
    if (!card->customer->pseudonymous) {
      return Error::Conflict("payment_card_linked_elsewhere",
                             "this payment card is already linked to another customer",
                             "/payment_token");
    }
    merged_from = card->customer->id;
  }
  int64_t consent_id = 0;
  REGULARS_ASSIGN_OR_RETURN(
      auto key, RecordLink(ledger, config, customer, *card, link.consent, merged_from, consent_id));
  REGULARS_TRY(txn.Commit());
  response["merged_from"] = merged_from ? OrderedJson(*merged_from) : OrderedJson(nullptr);
  response["consent_id"] = consent_id;
  response["event_id"] = key.ToString();
  return ToText(response);
}

Result<std::string> ReplaceLoyaltyCard(Ledger& ledger, const Config& config, const Json& request,
                                       int64_t now_ms) {
  FieldReader r(request, "", "invalid_request");
  REGULARS_TRY(r.RequireObject("a card replacement"));
  if (!r.Has("card")) return r.Fail("card", "card (the card being replaced) is required");
  if (!r.Has("new_card")) return r.Fail("new_card", "new_card (the card replacing it) is required");
  REGULARS_ASSIGN_OR_RETURN(auto old_card, RequestCard(r, "card", config));
  REGULARS_ASSIGN_OR_RETURN(auto new_card, RequestCard(r, "new_card", config));
  REGULARS_ASSIGN_OR_RETURN(auto cashier, r.OptionalString("cashier_id", 64));
  if (old_card == new_card) return r.Fail("new_card", "new_card is the card being replaced");

  WriteTransaction txn(ledger.db());
  REGULARS_TRY(txn.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto customer, ledger.customers().ByIdentifier("card", old_card));
  if (!customer) {
    REGULARS_ASSIGN_OR_RETURN(auto retired,
                              ledger.customers().ByIdentifier(kRetiredCard, old_card));
    if (retired) return CardReplaced(old_card, "/card");
    return Error::NotFound("unknown_card", "card " + old_card + " is not enrolled", "/card");
  }
  for (const char* kind : {"card", kRetiredCard}) {
    REGULARS_ASSIGN_OR_RETURN(auto holder, ledger.customers().ByIdentifier(kind, new_card));
    if (holder) {
      return Error::Conflict("card_in_use",
                             "card " + new_card + " already belongs to a customer" +
                                 (std::string_view(kind) == "card" ? "" : " (it was replaced)"),
                             "/new_card");
    }
  }
  REGULARS_TRY(ledger.customers().ReplaceCard(customer->id, old_card, new_card));
  NewEvent event;
  event.kind = "card_replaced";
  event.at_ms = now_ms;
  event.customer_id = customer->id;
  event.body = {{"customer", customer->id},
                {"identifier", {{"kind", "card"}, {"value", new_card}}},
                {"old_identifier", {{"kind", "card"}, {"value", old_card}}},
                {"cashier_id", cashier.value_or("")}};
  REGULARS_ASSIGN_OR_RETURN(auto key, ledger.events().Append(event));
  REGULARS_TRY(txn.Commit());
  OrderedJson response{
      {"customer", {{"id", customer->id}}},
      {"replaced",
       {{"old_card", old_card}, {"new_card", new_card}, {"at", FormatTimestampUtc(now_ms)}}},
      {"event_id", key.ToString()}};
  return ToText(response);
}

}  // namespace regulars
