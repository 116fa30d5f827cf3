// The checkout lifecycle at one till: recognize, evaluate, commit, void, refund.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checkout/pricing.h"
#include "config.h"
#include "domain/basket.h"
#include "recognition/recognize.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

// Milliseconds since the Unix epoch, UTC. A seam so tests and the demo control time.
using Clock = std::function<int64_t()>;
int64_t SystemClockMs();

struct EnrolledCustomer {
  std::string id;
  bool created = false;  // false when the card was already enrolled
};

// A basket priced for its customer: what evaluate proposes and commit records.
struct Proposal {
  Recognition who;
  std::vector<RuleTerms> terms;
  Pricing pricing;
};

// One till's view of its ledger. Not thread-safe: callers serialise (the C ABI does).
// Every JSON call takes and returns Contract v1 documents; an error is an Error value.
class Till {
 public:
  static Result<std::unique_ptr<Till>> Open(Config config, const std::string& db_path,
                                            Clock clock = SystemClockMs);

  // {"card": NUMBER} -> {"customer": {"id": ..., "created": bool}}. Idempotent per card.
  Result<std::string> Enroll(std::string_view request_json);
  // Basket -> receipt, status "proposed". Reads the ledger, writes nothing.
  Result<std::string> Evaluate(std::string_view basket_json);
  // Basket -> receipt, status "committed", in one durable transaction. Committing the
  // same pos_txn_id again returns the first receipt and writes nothing; the same id with
  // a different basket is a conflict.
  Result<std::string> Commit(std::string_view basket_json);
  // {"pos_txn_id": SALE} -> what was returned. Compensates whatever the sale still holds
  // (after refunds); voiding twice returns the first answer.
  Result<std::string> Void(std::string_view request_json);
  // A basket with "refund_of" and the lines and quantities returned -> what was returned.
  Result<std::string> Refund(std::string_view refund_json);
  // Links a payment card to a customer who is present and consents:
  // {"customer": ID or "card": NUMBER, "payment_token": {"value": ..., "source": ...},
  //  "consent": {"text": ..., "purpose": ..., "at": ..., "cashier_id": ...}}.
  // A pseudonymous profile of that card merges into the customer.
  Result<std::string> Link(std::string_view request_json);
  // {"identifiers": [...]} -> {"customer": ..., "notices": [...]}. Writes nothing.
  Result<std::string> RecognizeOnly(std::string_view request_json);

  Result<EnrolledCustomer> EnrollCard(const std::string& number);
  Result<VerifyReport> Verify() { return ledger_->Verify(); }

  // Typed evaluate, for tests and benchmarks: the proposal for a parsed basket. Payment
  // card values in the basket are wiped once hashed.
  Result<Proposal> Propose(Basket& basket);

  const Config& config() const { return config_; }
  Ledger& ledger() { return *ledger_; }
  int64_t now_ms() const { return clock_(); }

 private:
  Till(Config config, std::unique_ptr<Ledger> ledger, Clock clock)
      : config_(std::move(config)), ledger_(std::move(ledger)), clock_(std::move(clock)) {}

  // The customer's progress toward each configured rule, from the stored counters.
  Result<OrderedJson> StoredProgress(const std::string& customer_id);
  // Creates the pseudonymous profile a payment card is first recognized as.
  Status StartProfile(const std::string& id, const std::string& token_hash, int64_t at_ms);
  Result<std::string> Reverse(const std::string& sale_txn_id, const std::string& where,
                              const std::string& kind, const RefundRequest* refund, int64_t at_ms,
                              const std::string& request_digest);

  Config config_;
  std::unique_ptr<Ledger> ledger_;
  Clock clock_;
};

}  // namespace regulars
