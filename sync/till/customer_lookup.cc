#include "till/customer_lookup.h"

#include <nlohmann/json.hpp>

#include "till/foreign_events.h"
#include "wire/tls_transport.h"

namespace regulars {

CustomerLookup MakeHqLookup(const SyncPolicy& policy) {
  return [policy](const std::string& kind,
                  const std::string& value) -> Result<std::vector<ForeignEvent>> {
    int budget = policy.lookup_timeout_ms;
    auto client =
        TlsClient::Connect(policy.hq_host, policy.hq_port, {policy.ca, policy.cert, policy.key},
                           {budget, budget, budget, budget});
    if (!client.ok()) return client.error();
    // kind and value are a card number or a token hash: letters and digits only.
    auto answer = (*client)->Get("/v1/customers?kind=" + kind + "&value=" + value);
    if (!answer.ok()) return answer.error();
    if (answer->status != 200) {
      return Error::BadInput("sync_refused",
                             "HQ answered " + std::to_string(answer->status) + " to a look-up");
    }
    auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("events")) {
      return Error::BadInput("invalid_updates", "HQ's look-up answer is malformed");
    }
    return ReadForeignEvents(json["events"]);
  };
}

}  // namespace regulars
