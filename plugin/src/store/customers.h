// Who the till's customers are: `customers` and the identifiers that find them, the
// profiles merged into others (`merges`), first names (`profiles`), consents, the dynamic
// QR codes used (`qr_uses`) and the customers erased (`erasures`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "result.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

// The identifier kind a replaced loyalty card is kept under: it recognizes nobody, and
// says why (docs/recognition.md, "A replaced card").
inline constexpr const char* kRetiredCard = "retired_card";

class Customers {
 public:
  // The customers of this store's till: a customer added here, or a consent given here,
  // is written as theirs.
  Customers(Database& db, std::string store_id, std::string till_id)
      : db_(db), store_id_(std::move(store_id)), till_id_(std::move(till_id)) {}

  // --- Reads ---
  Result<std::optional<CustomerRef>> ByIdentifier(const std::string& kind,
                                                  const std::string& value);
  Result<std::optional<CustomerRef>> Find(const std::string& id);
  // The customer a profile merged into, or `id` itself.
  Result<std::string> RootOf(const std::string& id);
  // The customer a profile merged into, if it did.
  Result<std::optional<std::string>> MergedInto(const std::string& id);
  // The profiles merged into customer `into`.
  Result<std::vector<std::string>> MergedFrom(const std::string& into);
  // A customer's first name, when they gave one (schema v4 `profiles`).
  Result<std::optional<std::string>> FirstName(const std::string& customer_id);
  // The basket a dynamic QR code was used for, if any.
  Result<std::optional<std::string>> QrUsedBy(const std::string& code_digest);
  Result<bool> IsErased(const std::string& customer_id);

  // --- Writes: the caller holds a WriteTransaction ---
  // A customer enrolled here, with the identifier that finds them.
  Status Add(const std::string& customer_id, int64_t at_ms, const std::string& kind,
             const std::string& value, bool pseudonymous = false);
  // A customer another store enrolled, unless held already.
  Status AddForeign(const std::string& id, int64_t at_ms, const std::string& store_id,
                    bool pseudonymous);
  Status AddIdentifier(const std::string& kind, const std::string& value,
                       const std::string& customer_id);
  // An identifier another store gave: one already held by a customer here stays theirs.
  Status AddForeignIdentifier(const std::string& kind, const std::string& value,
                              const std::string& customer_id);
  // Records what a customer agreed to; returns the consent's id.
  Result<int64_t> AddConsent(const Consent& consent);
  Status SetFirstName(const std::string& customer_id, const std::string& first_name);
  Status RecordQrUse(const std::string& code_digest, const std::string& pos_txn_id, int64_t at_ms);
  // Records that profile `from` merged into customer `into`, and moves its identifiers
  // over. Its events and counters are the event log's (EventLog::Merge).
  Status RecordMerge(const std::string& from, const std::string& into, int64_t at_ms);
  // Retires loyalty card `old_card` of `customer_id` (kept as kind "retired_card", so a
  // basket with it can say it was replaced) and gives them `new_card`. A retired card
  // held by nobody here (an enrolment not pulled yet) is recorded as theirs all the same.
  Status ReplaceCard(const std::string& customer_id, const std::string& old_card,
                     const std::string& new_card);
  // Marks one customer (or profile) erased and deletes their identifiers, consents and
  // first name. Their events are the event log's (EventLog::Erase).
  Status Forget(const std::string& customer_id, int64_t at_ms, const std::string& requested_by);

 private:
  Database& db_;
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
