// What identifies a person in an event's body, for erasure (docs/ledger.md, "Erasure").
// Customer ids are random pseudonyms: once their identifiers and consents are gone and
// these values redacted, what remains (purchases, counters) names nobody.
#pragma once

#include "json/json_input.h"

namespace regulars {

inline constexpr const char* kErased = "erased";

// Replaces an identifier's value (a loyalty card number, a payment card's keyed hash, a
// replaced card's "old_identifier"), an enrolment's first name, and a consent's text and cashier
// with "erased". Returns true when something changed.
bool RedactIdentity(Json& body);

}  // namespace regulars
