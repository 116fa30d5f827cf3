// Who is at the till: from the identifiers of a basket, in a fixed order of precedence.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/basket.h"
#include "recognition/recognition_policy.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

struct Recognition {
  std::optional<std::string> customer_id;
  std::string recognized_by;  // the identifier kind that recognized them
  bool pseudonymous = false;  // a profile known only by a payment card
  // Given at enrolment; shown on proposals and recognitions, never stored in a receipt.
  std::optional<std::string> first_name;
  // Set when the customer is a pseudonymous profile that does not exist yet: commit
  // creates it, known by this payment token hash. Evaluate writes nothing.
  std::optional<std::string> new_profile_token;
  // Set when a dynamic QR code recognized the basket: commit records its use.
  std::optional<std::string> dynamic_qr_digest;
  // Payment token hashes under the newest key for a card found under an older one: commit
  // stores them, so retiring the old key never unlinks the customer.
  std::vector<std::string> token_upgrades;
  // Valid identifiers that name nobody here: a loyalty card's number, a payment card's
  // keyed hash. A sale nobody is recognized for remembers them, to be credited later.
  std::vector<std::pair<std::string, std::string>> unknown_identifiers;
  std::vector<Notice> notices;
};

// The basket being recognized: a dynamic QR code is good for one basket, and expires.
struct RecognitionContext {
  std::string pos_txn_id;
  int64_t now_ms = 0;
  // When the code was shown: the basket's time when it is recent, so a code that was
  // valid at the scan does not expire while the customer pays. Defaults to now_ms.
  std::optional<int64_t> presented_ms;
};

// What a scanner line says once its framing is removed: the line end, the configured
// prefix and suffix, an AIM symbology identifier ("]E0", "]Q1").
std::string Unframe(std::string_view raw, const ScannerFraming& framing);

// A payment card looked up under every key version, newest first.
struct PaymentCardLookup {
  std::string current_hash;  // under the newest key: what a new link stores
  std::string matched_hash;  // the stored hash that found the customer, if any
  std::optional<CustomerRef> customer;
};

// Hashes the card value (then wipes `value`) and finds who it belongs to. Errors
// ("invalid_payment_token", "payment_tokens_not_configured") never repeat the value.
Result<PaymentCardLookup> LookUpPaymentCard(Ledger& ledger, const PaymentTokenPolicy& policy,
                                            std::string& value, const std::string& source);

// The id of the pseudonymous profile for a payment token hash: derived, so every till of
// the chain names the same card's profile the same way.
std::string PseudonymFor(const std::string& token_hash);

// Recognizes the customer. Precedence: a loyalty card (typed or scanned) first, then a
// QR code, then a payment card (its PAR, then a processor alias, then the PAN). The first
// identifier that names someone wins; one that names someone else adds a
// "conflicting_identifiers" notice for the cashier. A pseudonymous profile that does not
// exist yet is only a fallback: it never outranks anyone, nor conflicts. Problems never
// fail the sale: they become notices. Payment card values are wiped once hashed.
Result<Recognition> Recognize(Ledger& ledger, const RecognitionPolicy& policy,
                              std::vector<Identifier>& identifiers,
                              const RecognitionContext& context);

}  // namespace regulars
