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
#include "config/config.h"
#include "domain/basket.h"
#include "domain/timestamp.h"
#include "recognition/recognize.h"
#include "result.h"
#include "rewards/messages.h"
#include "rewards/rule_index.h"
#include "rewards/suggestions.h"
#include "rewards/tier.h"
#include "store/ledger.h"

namespace regulars {

// Milliseconds since the Unix epoch, UTC. A seam so tests and the demo control time.
using Clock = std::function<int64_t()>;
int64_t SystemClockMs();

struct EnrolledCustomer {
  std::string id;
  bool created = false;  // false when the card was already enrolled
};

// A config and what is derived from it once: the rule index and the message catalogue.
// Immutable, shared: a basket priced with one keeps it alive whatever is reloaded.
struct RuleBook {
  explicit RuleBook(Config c);
  Config config;
  RuleIndex index;
  MessageCatalogue messages;
  std::vector<LocalText> discount_texts;  // parallel to config.rules.rules
};

// The tier a customer holds, as the receipt and the cashier show it.
struct HeldTier {
  const Rule* rule = nullptr;
  TierStanding standing;
};

// How far a customer is from a tier they do not hold (after this basket).
struct TierProgress {
  const Rule* rule = nullptr;
  int64_t have = 0;
  int64_t need = 0;
  bool by_spend = false;
};

// A basket priced for its customer: what evaluate proposes and commit records.
struct Proposal {
  std::shared_ptr<const RuleBook> book;  // the rules it was priced with
  Recognition who;
  BasketTerms terms;
  Pricing pricing;
  LocalDay day;
  std::optional<HeldTier> tier;
  std::vector<TierProgress> tier_progress;
  std::vector<Suggestion> suggestions;
  std::optional<int64_t> goodwill_left;  // the gesture budget left before this basket
};

// Asks headquarters who an identifier the till does not know belongs to (the online
// look-up, sync/src/customer_lookup.h): their events from other stores, or none. Bounded
// in time by whoever makes it.
using CustomerLookup = std::function<Result<std::vector<ForeignEvent>>(const std::string& kind,
                                                                       const std::string& value)>;

// What importing one sale did.
struct ImportedSale {
  bool already_imported = false;  // recorded before: nothing written
  std::optional<std::string> customer_id;
};

// One till's view of its ledger. Not thread-safe: callers serialise (the C ABI does).
// Every JSON call takes and returns Contract v1 documents; an error is an Error value.
class Till {
 public:
  static Result<std::unique_ptr<Till>> Open(Config config, const std::string& db_path,
                                            Clock clock = SystemClockMs);
  // Opens with the config file at `config_path`, and picks up a changed file before the
  // next call (docs/rules.md, "Changing rules"): a bad file is refused whole, the rules in
  // force stay, and receipts carry a notice until it is fixed.
  static Result<std::unique_ptr<Till>> OpenFile(const std::string& config_path,
                                                const std::string& db_path,
                                                Clock clock = SystemClockMs);

  // {"card": NUMBER} -> {"customer": {"id": ..., "created": bool}}. Idempotent per card.
  Result<std::string> Enroll(std::string_view request_json);
  // Basket -> receipt, status "proposed". Reads the ledger, writes nothing.
  Result<std::string> Evaluate(std::string_view basket_json);
  // Basket -> receipt, status "committed", in one durable transaction. Committing the
  // same pos_txn_id again returns the first receipt and writes nothing; the same id with
  // a different basket is a conflict.
  Result<std::string> Commit(std::string_view basket_json);
  // Records sales a POS completed without Regulars, read from its log (docs/poslog.md):
  // each Contract v1 basket is priced without rewards (nothing can be given after the
  // fact), while its units, spend and visit count toward the customer's rewards; what it
  // earned stays owed and is given at their next visit. All baskets in one transaction:
  // on any error nothing is written, and the error's `where` starts with the basket's
  // index ("/3/lines/0/qty"). A basket already recorded (same pos_txn_id, same content)
  // writes nothing and says so; the same id with other content is a conflict.
  Result<std::vector<ImportedSale>> Import(const std::vector<Json>& baskets);
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

  // `first_name`, when not empty, is kept for the cashier panel's greeting.
  Result<EnrolledCustomer> EnrollCard(const std::string& number,
                                      const std::string& first_name = "");
  Result<VerifyReport> Verify() { return ledger_->Verify(); }

  // Typed evaluate, for tests and benchmarks: the proposal for a parsed basket. Payment
  // card values in the basket are wiped once hashed.
  Result<Proposal> Propose(Basket& basket);

  // Turns the online look-up on: evaluate and commit ask it about a loyalty card this till
  // does not know, before pricing. What it answers is stored as a pull stores it; a
  // failure becomes a notice and the sale goes on.
  void SetCustomerLookup(CustomerLookup lookup) { lookup_ = std::move(lookup); }

  const Config& config() const { return book_->config; }
  Ledger& ledger() { return *ledger_; }
  int64_t now_ms() const { return clock_(); }

 private:
  Till(Config config, std::unique_ptr<Ledger> ledger, Clock clock)
      : book_(std::make_shared<const RuleBook>(std::move(config))),
        ledger_(std::move(ledger)),
        clock_(std::move(clock)) {}

  // What recording a sale did: its receipt, and whether it was recorded before.
  struct Recorded {
    std::string receipt;
    bool replayed = false;
    std::optional<std::string> customer_id;
  };
  // Commits a parsed basket inside the caller's write transaction, idempotently on its
  // pos_txn_id (`digest` tells a retry from a conflicting basket).
  Result<Recorded> RecordSale(Basket& basket, const std::string& digest);
  // Reloads the config file if it changed since it was last read.
  void Refresh();
  // The rule book a basket is priced with: the one it names if still kept, else the
  // current one.
  std::shared_ptr<const RuleBook> BookFor(const std::string& rules_version) const;
  // Tiers, caps, goodwill budget and suggestions of a recognized customer.
  Status AddCustomerTerms(const Basket& basket, Proposal& proposal);
  // The customer's progress toward each configured rule, from the stored counters.
  Result<OrderedJson> StoredProgress(const std::string& customer_id);
  // The online look-up of the basket's loyalty cards this till does not know.
  void LookUpUnknownCards(Basket& basket);
  // Creates the pseudonymous profile a payment card is first recognized as.
  Status StartProfile(const std::string& id, const std::string& token_hash, int64_t at_ms);
  Result<std::string> Reverse(const std::string& sale_txn_id, const std::string& where,
                              const std::string& kind, const RefundRequest* refund, int64_t at_ms,
                              const std::string& request_digest);

  std::shared_ptr<const RuleBook> book_;
  std::vector<std::shared_ptr<const RuleBook>> previous_;  // newest first, a few kept
  std::string config_path_;                                // empty: no reloading
  std::string config_stamp_;  // what the file looked like when last read
  std::optional<Error> reload_error_;
  std::unique_ptr<Ledger> ledger_;
  Clock clock_;
  CustomerLookup lookup_;
};

}  // namespace regulars
