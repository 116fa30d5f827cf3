// The `counters` table: each (customer, rule) counter as the events made it. The event
// log keeps it up to date (store/event_log.h); replay recomputes it from the events.
#pragma once

#include <map>
#include <string>

#include "result.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

class Counters {
 public:
  explicit Counters(Database& db) : db_(db) {}

  // A customer's counters by rule.
  Result<std::map<std::string, Counter>> Of(const std::string& customer_id);

  // --- Writes: the caller holds a WriteTransaction ---
  // Sets each of `counters` (by rule) for the customer; other rules' stay as they are.
  Status Store(const std::string& customer_id, const std::map<std::string, Counter>& counters);
  // Removes all of a customer's counters (a profile merged into another).
  Status Drop(const std::string& customer_id);

 private:
  Database& db_;
};

}  // namespace regulars
