// The till's outbox for the nightly sync (docs/sync-protocol.md): this till's own events
// that HQ has not acknowledged yet, in bounded batches. Delivery is at least once: an
// event stays in the outbox until HQ acknowledges it, and HQ deduplicates by event id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "result.h"
#include "store/own_events.h"
#include "store/sqlite.h"

namespace regulars {

// One batch to push: events with seq in [first_seq, last_seq], as the JSON body of
// POST /v1/events.
struct OutboxBatch {
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  int64_t events = 0;
  std::string body;
};

struct OutboxStatus {
  int64_t pushed_seq = 0;  // the highest seq HQ acknowledged (0: none)
  int64_t backlog = 0;     // events not acknowledged yet
  std::optional<int64_t> oldest_unsent_at_ms;
};

class Outbox {
 public:
  // The outbox of till (store_id, till_id) in `db` (a ledger, schema v2 or later).
  Outbox(Database& db, std::string store_id, std::string till_id)
      : db_(db),
        own_(db, store_id, till_id),
        store_id_(std::move(store_id)),
        till_id_(std::move(till_id)) {}

  // The next batch after what HQ acknowledged: at most `max_events` events and, past the
  // first event, at most `max_bytes` of body, so memory stays bounded however long the
  // backlog. nullopt when nothing is left to send. Read-only.
  Result<std::optional<OutboxBatch>> NextBatch(int64_t max_events, size_t max_bytes);

  // Records that HQ acknowledged every event up to `last_seq`. Idempotent; never moves
  // back; refuses a seq this till never wrote.
  Status Acknowledge(int64_t last_seq);

  Result<OutboxStatus> Backlog();

 private:
  Result<int64_t> PushedSeq();

  Database& db_;
  OwnEvents own_;  // the events, read through the store
  std::string store_id_;
  std::string till_id_;
};

}  // namespace regulars
