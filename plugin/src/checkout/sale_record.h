// What a sale event keeps of its basket, so a refund or void can reprice it exactly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checkout/pricing.h"
#include "checkout/propose.h"
#include "json/json_input.h"

namespace regulars {

// The body of a sale event: the lines, the rule terms with the progress they started
// from, and the totals. Never holds a payment card number: identifiers are not stored.
OrderedJson SaleEventBody(const Basket& basket, const Proposal& proposal);

struct SaleRecord {
  std::optional<std::string> customer_id;
  std::string recognized_by;
  std::string day;         // the sale's local calendar day
  bool has_visit = false;  // written since visits are kept (ledger schema v2)
  bool imported = false;   // read from a POS's log: priced without rewards
  std::vector<BasketLine> lines;
  BasketTerms terms;
};

// Units (or grams) already returned per sale line number, from the sale's refund bodies.
Result<std::map<int64_t, int64_t>> ReturnedQuantities(const std::vector<Json>& refund_bodies);

// Reads a sale event body back (code "database_unreadable" if it is not one).
Result<SaleRecord> ReadSaleRecord(const Json& body);

}  // namespace regulars
