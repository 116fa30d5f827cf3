#include "recognition/recognize.h"

#include <algorithm>

#include "domain/card_number.h"

namespace regulars {
namespace {

int Precedence(const Identifier& id) {
  if (id.kind == "card") return 0;
  if (id.kind == "qr") return 1;
  if (id.kind != "payment_token") return 5;
  // The PAR names the account behind the card and its phone tokens: it is preferred.
  size_t characters = 0;
  bool digits = true;
  for (char c : id.value) {
    if (c == ' ' || c == '-') continue;
    ++characters;
    digits = digits && c >= '0' && c <= '9';
  }
  if (id.source == "par" || (id.source.empty() && characters == 29)) return 2;
  if (id.source == "alias") return 3;
  return digits ? 4 : 3;
}

// What one identifier says: a customer, or a notice saying why not.
struct Resolved {
  std::optional<CustomerRef> customer;
  std::optional<std::string> new_profile_token;
  std::optional<std::string> dynamic_qr_digest;
  std::optional<std::string> token_upgrade;
  std::optional<Notice> notice;
  std::optional<std::pair<std::string, std::string>> unknown;  // (kind, value) naming nobody
};

Resolved NotRecognized(std::string code, std::string message, const std::string& where) {
  Resolved r;
  r.notice = Notice{std::move(code), std::move(message), where};
  return r;
}

Result<Resolved> ResolveCard(Ledger& ledger, const RecognitionPolicy& policy,
                             const std::string& number, const std::string& where) {
  auto card = ValidateCardNumber(number, policy.card_prefixes);
  if (!card.ok()) {
    return NotRecognized("invalid_card", "customer not recognized: " + card.error().message, where);
  }
  auto customer = ledger.customers().ByIdentifier("card", *card);
  if (!customer.ok()) return customer.error();
  if (!*customer) {
    auto retired = ledger.customers().ByIdentifier(kRetiredCard, *card);
    if (!retired.ok()) return retired.error();
    if (*retired) {
      return NotRecognized("card_replaced",
                           "customer not recognized: this card was replaced by a new one; ask "
                           "for the new card",
                           where);
    }
    Resolved r = NotRecognized("unknown_card",
                               "customer not recognized: this card is not enrolled yet", where);
    r.unknown = {"card", *card};
    return r;
  }
  Resolved r;
  r.customer = *customer;
  return r;
}

Result<Resolved> ResolveQr(Ledger& ledger, const RecognitionPolicy& policy, const std::string& text,
                           const std::string& where, const RecognitionContext& context) {
  if (policy.qr.public_keys.empty()) {
    return NotRecognized("qr_not_configured",
                         "recognition by QR code is not configured at this till", where);
  }
  auto payload = VerifyQr(text, policy.qr, context.presented_ms.value_or(context.now_ms));
  if (!payload.ok()) {
    return NotRecognized(payload.error().code,
                         "customer not recognized: " + payload.error().message, where);
  }
  auto resolved = ResolveCard(ledger, policy, payload->card_number, where);
  if (!resolved.ok() || !payload->time_step || !resolved->customer) return resolved;
  // A dynamic code recognizes one basket: the same code for another basket is refused.
  std::string digest = Sha256Hex(text);
  REGULARS_ASSIGN_OR_RETURN(auto used_by, ledger.customers().QrUsedBy(digest));
  if (used_by && *used_by != context.pos_txn_id) {
    return NotRecognized("qr_already_used",
                         "customer not recognized: this QR code was already used for another "
                         "basket; ask the customer to refresh it",
                         where);
  }
  resolved->dynamic_qr_digest = digest;
  return resolved;
}

Result<Resolved> ResolvePaymentCard(Ledger& ledger, const RecognitionPolicy& policy,
                                    Identifier& id) {
  auto found = LookUpPaymentCard(ledger, policy.payment_tokens, id.value, id.source);
  if (!found.ok()) {
    if (found.error().kind != ErrorKind::kBadInput) return found.error();
    return NotRecognized(found.error().code, found.error().message, id.where);
  }
  Resolved r;
  if (found->customer) {
    r.customer = found->customer;
    if (found->matched_hash != found->current_hash) r.token_upgrade = found->current_hash;
  } else if (policy.payment_tokens.pseudonymous_profiles) {
    r.customer = CustomerRef{PseudonymFor(found->current_hash), true};
    r.new_profile_token = found->current_hash;
  } else {
    r = NotRecognized("unknown_payment_card",
                      "customer not recognized: this payment card is not linked to a customer",
                      id.where);
    r.unknown = {"payment_token", found->current_hash};
  }
  return r;
}

}  // namespace

std::string Unframe(std::string_view raw, const ScannerFraming& framing) {
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n')) raw.remove_suffix(1);
  if (!framing.prefix.empty() && raw.starts_with(framing.prefix)) {
    raw.remove_prefix(framing.prefix.size());
  }
  if (!framing.suffix.empty() && raw.ends_with(framing.suffix)) {
    raw.remove_suffix(framing.suffix.size());
  }
  if (raw.size() >= 3 && raw[0] == ']') raw.remove_prefix(3);  // AIM symbology identifier
  return std::string(raw);
}

std::string PseudonymFor(const std::string& token_hash) {
  return "p_" + Sha256Hex("profile:" + token_hash).substr(0, 16);
}

Result<PaymentCardLookup> LookUpPaymentCard(Ledger& ledger, const PaymentTokenPolicy& policy,
                                            std::string& value, const std::string& source) {
  if (policy.keys.empty()) {
    Wipe(value);
    return Error::BadInput("payment_tokens_not_configured",
                           "recognition by payment card is not configured at this till");
  }
  std::string normalized;
  auto kind = ClassifyPaymentValue(value, source, &normalized);
  Wipe(value);
  if (!kind.ok()) return kind.error();
  SensitiveText card(std::move(normalized));
  PaymentCardLookup lookup;
  for (const auto& key : policy.keys) {
    REGULARS_ASSIGN_OR_RETURN(auto hash, PaymentTokenHash(key, *kind, card.view()));
    if (lookup.current_hash.empty()) lookup.current_hash = hash;
    REGULARS_ASSIGN_OR_RETURN(auto customer,
                              ledger.customers().ByIdentifier("payment_token", hash));
    if (customer) {
      lookup.customer = *customer;
      lookup.matched_hash = hash;
      break;
    }
  }
  return lookup;
}

Result<Recognition> Recognize(Ledger& ledger, const RecognitionPolicy& policy,
                              std::vector<Identifier>& identifiers,
                              const RecognitionContext& context) {
  // Scanner text is whatever it turns out to be: a QR code, a card, or neither.
  for (auto& id : identifiers) {
    if (id.kind != "scan") continue;
    std::string text = Unframe(id.value, policy.scanner);
    // Spaces are part of a QR code's alphabet; around a card number they are noise.
    if (!LooksLikeQr(text)) {
      auto first = text.find_first_not_of(' ');
      text = first == std::string::npos
                 ? ""
                 : text.substr(first, text.find_last_not_of(' ') - first + 1);
    }
    bool digits = text.size() == 13 && text.find_first_not_of("0123456789") == std::string::npos;
    id.kind = LooksLikeQr(text) ? "qr" : digits ? "card" : "unrecognized_scan";
    id.value = text;
  }
  std::vector<size_t> order(identifiers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Precedence(identifiers[a]) < Precedence(identifiers[b]);
  });

  Recognition who;
  std::optional<Resolved> new_profile;  // the fallback: a profile not created yet
  std::string new_profile_kind;
  for (size_t index : order) {
    Identifier& id = identifiers[index];
    Result<Resolved> resolved = Resolved{};
    if (id.kind == "card") {
      resolved = ResolveCard(ledger, policy, id.value, id.where);
    } else if (id.kind == "qr") {
      resolved = ResolveQr(ledger, policy, id.value, id.where, context);
    } else if (id.kind == "payment_token") {
      resolved = ResolvePaymentCard(ledger, policy, id);
    } else if (id.kind == "unrecognized_scan") {
      resolved = NotRecognized("unrecognized_scan",
                               "the scanned code is neither a loyalty card nor a Regulars QR code",
                               id.where);
    } else {
      // Never repeat the value: it may be a payment card number sent under a wrong kind.
      resolved = NotRecognized(
          "unknown_identifier_kind",
          "identifier kind '" + id.kind + "' is unknown (expected card, qr, payment_token or scan)",
          id.where);
    }
    if (!resolved.ok()) return resolved.error();
    if (resolved->notice) {
      who.notices.push_back(*resolved->notice);
      if (resolved->unknown) who.unknown_identifiers.push_back(*resolved->unknown);
      continue;
    }
    if (resolved->new_profile_token) {
      if (!new_profile) {
        new_profile = *resolved;
        new_profile_kind = id.kind;
      }
      continue;
    }
    if (resolved->token_upgrade &&
        (!who.customer_id || *who.customer_id == resolved->customer->id)) {
      who.token_upgrades.push_back(*resolved->token_upgrade);
    }
    if (!who.customer_id) {
      who.customer_id = resolved->customer->id;
      who.pseudonymous = resolved->customer->pseudonymous;
      who.recognized_by = id.kind;
      who.new_profile_token = resolved->new_profile_token;
      who.dynamic_qr_digest = resolved->dynamic_qr_digest;
    } else if (*who.customer_id != resolved->customer->id) {
      who.notices.push_back({"conflicting_identifiers",
                             "this " + id.kind + " belongs to another customer (" +
                                 resolved->customer->id + "); the basket is recognized by the " +
                                 who.recognized_by + ", which takes precedence",
                             id.where});
    }
  }
  if (!who.customer_id && new_profile) {
    who.customer_id = new_profile->customer->id;
    who.pseudonymous = true;
    who.recognized_by = new_profile_kind;
    who.new_profile_token = new_profile->new_profile_token;
  }
  return who;
}

}  // namespace regulars
