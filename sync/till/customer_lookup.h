// The online look-up (docs/sync-protocol.md, "Online look-up"): a loyalty card this till
// does not know is asked of HQ within a hard budget (default 300 ms), so a customer who
// enrolled at another store today is recognized here with their history. Checkout never
// waits longer, and goes on the same when HQ is down.
#pragma once

#include "checkout/till.h"
#include "config/config.h"

namespace regulars {

// A look-up over mutual TLS to the HQ of `policy`, each call its own connection within
// `policy.lookup_timeout_ms` from connect to answer.
CustomerLookup MakeHqLookup(const SyncPolicy& policy);

}  // namespace regulars
