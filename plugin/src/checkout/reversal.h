// Voids and refunds: compensating events for a committed sale (docs/rules.md, "Refunds").
#pragma once

#include <cstdint>
#include <string>

#include "checkout/rule_book.h"
#include "domain/basket.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

struct ReversalRequest {
  std::string sale_txn_id;      // the sale voided or refunded
  std::string where;            // where the request names it, for errors
  const RefundRequest* refund;  // the lines returned; null for a void
  int64_t at_ms = 0;            // when it happened
  std::string request_digest;   // a refund's fingerprint, to tell a retry from a conflict
};

// Reprices what the sale still holds without the returned units, from the progress it
// started with, and records the difference as one compensating event in its own write
// transaction: money and counters then stand as if those units were never sold. Returns
// the answer as Contract v1 JSON; a retried refund or a second void returns the first.
Result<std::string> ReverseSale(Ledger& ledger, const RuleBook& book,
                                const ReversalRequest& request);

}  // namespace regulars
