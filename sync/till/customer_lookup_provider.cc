// The C ABI's look-up when sync is linked: HQ is asked when the config's sync section
// has an HQ and a look-up budget.
#include "checkout/customer_lookup_provider.h"

#include "till/customer_lookup.h"

namespace regulars {

CustomerLookup MakeCustomerLookup(const Config& config) {
  const SyncPolicy& sync = config.sync;
  if (!sync.enabled() || sync.lookup_timeout_ms <= 0) return {};
  return MakeHqLookup(sync);
}

}  // namespace regulars
