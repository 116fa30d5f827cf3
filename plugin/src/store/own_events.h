// This till's own events in sequence order, as the nightly sync reads them: the sync asks
// the store and never writes SQL against the ledger's tables.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

// One of this till's events as the ledger stores it. `body` is the JSON the ledger wrote,
// to be carried as is.
struct OwnEvent {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string kind;
  std::optional<std::string> customer_id;
  std::optional<std::string> pos_txn_id;
  std::optional<std::string> ref_pos_txn_id;
  std::string body;
};

// What is left after a seq: how many events, and when the oldest happened.
struct OwnBacklog {
  int64_t events = 0;
  std::optional<int64_t> oldest_at_ms;
};

// Reads the events of till (store_id, till_id) in `db` (a ledger). Each call is one
// statement: the caller holds a transaction when several must agree.
class OwnEvents {
 public:
  OwnEvents(Database& db, std::string store_id, std::string till_id)
      : db_(db), store_id_(std::move(store_id)), till_id_(std::move(till_id)) {}

  // Calls `visit` with each event whose seq is above `after_seq`, in order, at most
  // `limit` of them; stops at the first for which it returns false.
  Status ForEachAfter(int64_t after_seq, int64_t limit,
                      const std::function<bool(const OwnEvent&)>& visit);
  // The highest seq this till wrote (0: none).
  Result<int64_t> LastSeq();
  Result<OwnBacklog> BacklogAfter(int64_t after_seq);

 private:
  Database& db_;
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
