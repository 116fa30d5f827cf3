// The answers given to each POS transaction (`transactions`: sales and refunds; `voids`),
// kept under its id so that a retried commit gets the same answer.
#pragma once

#include <optional>
#include <string>

#include "result.h"
#include "store/ledger_types.h"
#include "store/sqlite.h"

namespace regulars {

class Transactions {
 public:
  explicit Transactions(Database& db) : db_(db) {}

  Result<std::optional<StoredTransaction>> Find(const std::string& pos_txn_id);
  // The answer given to the void of a sale, if it was voided.
  Result<std::optional<std::string>> FindVoid(const std::string& pos_txn_id);

  // --- Writes: the caller holds a WriteTransaction ---
  Status Record(const std::string& pos_txn_id, const StoredTransaction& txn);
  Status RecordVoid(const std::string& pos_txn_id, const std::string& response,
                    const EventKey& event);

 private:
  Database& db_;
};

}  // namespace regulars
