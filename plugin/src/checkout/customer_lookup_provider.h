// The online look-up of customers the ledger does not know, as the build provides it: the
// C ABI asks for one here and does not know who answers. The sync library's definition
// asks HQ (sync/till/customer_lookup_provider.cc); a build without sync links the one that
// looks nothing up (no_customer_lookup.cc). Exactly one of them is linked.
#pragma once

#include "checkout/till.h"
#include "config/config.h"

namespace regulars {

// The look-up a till opened with `config` makes, or an empty function when it makes none
// (the build has no sync, or the config turns the look-up off).
CustomerLookup MakeCustomerLookup(const Config& config);

}  // namespace regulars
