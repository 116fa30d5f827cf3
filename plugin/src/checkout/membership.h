// Who the till's customers are: enrolment by loyalty card, the pseudonymous profile a
// payment card starts, linking a payment card to an enrolled customer who consents, and
// replacing a lost loyalty card.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "env/env.h"
#include "json/json_input.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

struct EnrolledCustomer {
  std::string id;
  bool created = false;  // false when the card was already enrolled
};

// Enrols a loyalty card (idempotent per card) at `env`'s now, under a random id from `env`,
// in its own write transaction. `first_name`, when not empty, is kept for the cashier
// panel's greeting.
Result<EnrolledCustomer> EnrollCard(Ledger& ledger, const Config& config, const std::string& number,
                                    const std::string& first_name, Env& env);

// Creates the pseudonymous profile a payment card is first recognized as, inside the
// caller's write transaction.
Status StartProfile(Ledger& ledger, const std::string& id, const std::string& token_hash,
                    int64_t at_ms);

// Links a payment card to a customer who is present and consents (Till::Link gives the
// request's shape), in its own write transaction. Reads the card value out of `request`
// and wipes it there. A pseudonymous profile of that card merges into the customer.
Result<std::string> LinkPaymentCard(Ledger& ledger, const Config& config, Json& request,
                                    int64_t now_ms);

// Replaces a customer's loyalty card (Till::ReplaceCard gives the request's shape) at
// `now_ms`, in its own write transaction: the old card is retired, the new one recognizes
// them with everything they had, and a "card_replaced" event carries it to other tills.
Result<std::string> ReplaceLoyaltyCard(Ledger& ledger, const Config& config, const Json& request,
                                       int64_t now_ms);

}  // namespace regulars
