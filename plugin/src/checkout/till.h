// The checkout lifecycle at one till: recognize, evaluate, commit, void, refund. The front:
// it reads the Contract v1 requests and hands each step to its module (checkout/propose.h
// prices, checkout/customer_state.h reads, checkout/reversal.h and checkout/membership.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checkout/membership.h"
#include "checkout/propose.h"
#include "checkout/rule_book.h"
#include "config/config.h"
#include "domain/basket.h"
#include "env/env.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

// Asks headquarters who an identifier the till does not know belongs to (the online
// look-up, sync/till/customer_lookup.h): their events from other stores, or none. Bounded
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
  // `env` (the clock, randomness for ids, the config file) must outlive the till.
  static Result<std::unique_ptr<Till>> Open(Config config, const std::string& db_path,
                                            Env* env = Env::Default());
  // Opens with the config file at `config_path`, and picks up a changed file before the
  // next call (docs/rules.md, "Changing rules"): a bad file is refused whole, the rules in
  // force stay, and receipts carry a notice until it is fixed.
  static Result<std::unique_ptr<Till>> OpenFile(const std::string& config_path,
                                                const std::string& db_path,
                                                Env* env = Env::Default());

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
  // Replaces a lost loyalty card: {"card": OLD, "new_card": NEW, "cashier_id": optional}
  // -> {"customer": {"id"}, "replaced": {"old_card", "new_card", "at"}, "event_id"}. The old
  // card recognizes nobody from then on (a basket with it has a "card_replaced" notice);
  // the new one carries the customer's counters, tier and visits.
  Result<std::string> ReplaceCard(std::string_view request_json);
  // {"identifiers": [...]} -> {"customer": ..., "notices": [...], "progress": [...],
  // "goodwill": {...}}: the customer, tier, progress and goodwill budget evaluate would
  // show now. Writes nothing.
  Result<std::string> RecognizeOnly(std::string_view request_json);

  // `first_name`, when not empty, is kept for the cashier panel's greeting.
  Result<EnrolledCustomer> EnrollCard(const std::string& number,
                                      const std::string& first_name = "");
  Result<VerifyReport> Verify() { return ledger_->Verify(); }
  // The config in force and, when the file on disk was changed and refused, why and since
  // when: {"state": "in_force"|"refused", "file", "rules_version"[, "where", "message",
  // "since", "since_ms"]}. Rereads a changed file first, as every call does.
  std::string ConfigStatus();

  // Typed evaluate, for tests and benchmarks: the proposal for a parsed basket. Payment
  // card values in the basket are wiped once hashed. Recognizes the customer and reads
  // their state in one read transaction (or the caller's), then prices with no I/O.
  Result<Proposal> Propose(Basket& basket);

  // Turns the online look-up on: evaluate and commit ask it about a loyalty card this till
  // does not know, or whose customer's history it never received (enrolled at another
  // store, known here from the pull's enrolments only), before pricing. What it answers is
  // stored as a pull stores it; a failure becomes a notice and the sale goes on.
  void SetCustomerLookup(CustomerLookup lookup) { lookup_ = std::move(lookup); }

  const Config& config() const { return books_.current()->config; }
  Ledger& ledger() { return *ledger_; }

 private:
  Till(RuleBooks books, std::unique_ptr<Ledger> ledger, Env* env)
      : books_(std::move(books)), ledger_(std::move(ledger)), env_(env) {}

  // What recording a sale did: its receipt, and whether it was recorded before.
  struct Recorded {
    std::string receipt;
    bool replayed = false;
    std::optional<std::string> customer_id;
  };
  // Commits a parsed basket inside the caller's write transaction, idempotently on its
  // pos_txn_id (`digest` tells a retry from a conflicting basket).
  Result<Recorded> RecordSale(Basket& basket, const std::string& digest);
  // Remembers a sale nobody was recognized for under the basket's unknown identifiers,
  // with what it counts for a customer, to credit it once one of them names someone.
  Status RememberUnattributed(const Basket& basket, const Proposal& proposal, const EventKey& sale);
  // Writes what recognition learnt (a dynamic QR code's use, a payment card's newer hash,
  // a new pseudonymous profile), inside the caller's write transaction.
  Status RecordRecognition(const Basket& basket, const Recognition& who);
  // The notices the till adds to a basket's: a refused reload, an unknown rules version.
  void AddTillNotices(const Basket& basket, const RuleBook& book, Recognition& who) const;
  // The online look-up of the basket's loyalty cards this till does not know, or whose
  // customer's history it does not hold.
  void LookUpHistories(Basket& basket);
  // Whether a known customer's history is to be asked of HQ: not held here, and not asked
  // already by this process (a customer with no purchases anywhere has none to bring).
  bool HistoryMissing(const std::string& customer_id);

  RuleBooks books_;
  std::unique_ptr<Ledger> ledger_;
  Env* env_;
  CustomerLookup lookup_;
  std::set<std::string> histories_asked_;
};

}  // namespace regulars
