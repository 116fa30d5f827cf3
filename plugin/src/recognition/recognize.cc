#include "recognition/recognize.h"

#include <openssl/evp.h>

#include <algorithm>

#include "domain/card_number.h"

namespace regulars {
namespace {

int Precedence(const std::string& kind) {
  if (kind == "card" || kind == "scan") return 0;
  if (kind == "qr") return 1;
  if (kind == "payment_token") return 2;
  return 3;
}

// A scanner may prefix an AIM symbology identifier ("]E0" for EAN-13) and add a line end.
std::string StripScan(std::string_view raw) {
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n' || raw.back() == ' ')) {
    raw.remove_suffix(1);
  }
  while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
  if (raw.size() >= 3 && raw[0] == ']') raw.remove_prefix(3);
  return std::string(raw);
}

// What one identifier says: a customer, or a notice saying why not.
struct Resolved {
  std::optional<CustomerRef> customer;
  std::optional<std::string> new_profile_token;
  std::optional<Notice> notice;
};

Result<Resolved> ResolveCard(Ledger& ledger, const Config& config, const Identifier& id) {
  std::string number = id.kind == "scan" ? StripScan(id.value) : id.value;
  auto card = ValidateCardNumber(number, config.card_prefixes);
  if (!card.ok()) {
    return Resolved{{},
                    {},
                    Notice{id.kind == "scan" ? "unrecognized_scan" : "invalid_card",
                           "customer not recognized: " + card.error().message, id.where}};
  }
  auto customer = ledger.CustomerByIdentifier("card", *card);
  if (!customer.ok()) return customer.error();
  if (!*customer) {
    return Resolved{
        {},
        {},
        Notice{"unknown_card", "customer not recognized: this card is not enrolled yet", id.where}};
  }
  return Resolved{*customer, {}, {}};
}

Result<Resolved> ResolvePaymentCard(Ledger& ledger, const Config& config, Identifier& id) {
  auto found = LookUpPaymentCard(ledger, config.payment_tokens, id.value, id.source);
  if (!found.ok()) {
    if (found.error().kind != ErrorKind::kBadInput) return found.error();
    return Resolved{{}, {}, Notice{found.error().code, found.error().message, id.where}};
  }
  if (found->customer) return Resolved{found->customer, {}, {}};
  if (config.payment_tokens.pseudonymous_profiles) {
    return Resolved{CustomerRef{PseudonymFor(found->current_hash), true}, found->current_hash, {}};
  }
  return Resolved{{},
                  {},
                  Notice{"unknown_payment_card",
                         "customer not recognized: this payment card is not linked to a "
                         "customer",
                         id.where}};
}

}  // namespace

std::string PseudonymFor(const std::string& token_hash) {
  std::string input = "profile:" + token_hash;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "p_";
  for (unsigned int i = 0; i < 8; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
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
    auto hash = PaymentTokenHash(key, *kind, card.view());
    if (!hash.ok()) return hash.error();
    if (lookup.current_hash.empty()) lookup.current_hash = *hash;
    auto customer = ledger.CustomerByIdentifier("payment_token", *hash);
    if (!customer.ok()) return customer.error();
    if (*customer) {
      lookup.customer = **customer;
      break;
    }
  }
  return lookup;
}

Result<Recognition> Recognize(Ledger& ledger, const Config& config,
                              std::vector<Identifier>& identifiers) {
  std::vector<size_t> order(identifiers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Precedence(identifiers[a].kind) < Precedence(identifiers[b].kind);
  });

  Recognition who;
  for (size_t index : order) {
    Identifier& id = identifiers[index];
    Resolved resolved;
    if (id.kind == "card" || id.kind == "scan") {
      auto r = ResolveCard(ledger, config, id);
      if (!r.ok()) return r.error();
      resolved = std::move(r).value();
    } else if (id.kind == "payment_token") {
      auto r = ResolvePaymentCard(ledger, config, id);
      if (!r.ok()) return r.error();
      resolved = std::move(r).value();
    } else if (id.kind == "qr") {
      resolved.notice = Notice{"unsupported_identifier",
                               "recognition by qr is not available in this version", id.where};
    } else {
      // Never repeat the value: it may be a payment card number sent under a wrong kind.
      resolved.notice = Notice{
          "unknown_identifier_kind",
          "identifier kind '" + id.kind + "' is unknown (expected card, qr, payment_token or scan)",
          id.where};
    }
    if (resolved.notice) {
      who.notices.push_back(*resolved.notice);
      continue;
    }
    if (!who.customer_id) {
      who.customer_id = resolved.customer->id;
      who.pseudonymous = resolved.customer->pseudonymous;
      who.recognized_by = id.kind == "scan" ? "card" : id.kind;
      who.new_profile_token = resolved.new_profile_token;
    } else if (*who.customer_id != resolved.customer->id) {
      who.notices.push_back({"conflicting_identifiers",
                             "this " + id.kind + " belongs to another customer (" +
                                 resolved.customer->id + "); the basket is recognized by the " +
                                 who.recognized_by + ", which takes precedence",
                             id.where});
    }
  }
  return who;
}

}  // namespace regulars
