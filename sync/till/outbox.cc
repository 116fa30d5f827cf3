#include "till/outbox.h"

#include "json/json_input.h"
#include "till/sync_state.h"

namespace regulars {
namespace {
constexpr const char* kPushedSeq = "pushed_seq";
}  // namespace

Result<int64_t> Outbox::PushedSeq() { return ReadSyncNumber(db_, kPushedSeq); }

Result<std::optional<OutboxBatch>> Outbox::NextBatch(int64_t max_events, size_t max_bytes) {
  if (max_events < 1) return Error::Internal("a batch holds at least one event");
  // One snapshot: the batch's events and the cursor they follow agree.
  ReadTransaction snapshot(db_);
  REGULARS_TRY(snapshot.Begin());
  auto pushed = PushedSeq();
  if (!pushed.ok()) return pushed.error();
  auto stmt = db_.Prepare(
      "SELECT seq, at_ms, kind, customer_id, pos_txn_id, ref_pos_txn_id, body FROM events "
      "WHERE store_id = ?1 AND till_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4");
  if (!stmt.ok()) return stmt.error();
  (*stmt)->Bind(1, store_id_).Bind(2, till_id_).Bind(3, *pushed).Bind(4, max_events);
  OutboxBatch batch;
  std::string events;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    const Statement& s = **stmt;
    int64_t seq = s.Int(0);
    // The stored body is JSON the ledger wrote: carried as is, not re-serialised.
    OrderedJson head{
        {"id", store_id_ + ":" + till_id_ + ":" + std::to_string(seq)},
        {"at_ms", s.Int(1)},
        {"kind", s.Text(2)},
        {"customer_id", s.IsNull(3) ? OrderedJson(nullptr) : OrderedJson(s.Text(3))},
        {"pos_txn_id", s.IsNull(4) ? OrderedJson(nullptr) : OrderedJson(s.Text(4))},
        {"ref_pos_txn_id", s.IsNull(5) ? OrderedJson(nullptr) : OrderedJson(s.Text(5))}};
    std::string text = ToText(head);
    text.pop_back();  // the closing brace: the body follows
    text += ",\"body\":" + s.Text(6) + "}";
    if (batch.events > 0 && events.size() + text.size() + 1 > max_bytes) break;
    if (batch.events > 0) events += ',';
    events += text;
    if (batch.events == 0) batch.first_seq = seq;
    batch.last_seq = seq;
    ++batch.events;
  }
  (*stmt)->Reset();
  if (batch.events == 0) return std::optional<OutboxBatch>();
  batch.body = ToText(OrderedJson{{"store_id", store_id_},
                                  {"till_id", till_id_},
                                  {"first_seq", batch.first_seq},
                                  {"last_seq", batch.last_seq}});
  batch.body.pop_back();
  batch.body += ",\"events\":[" + events + "]}";
  return std::optional<OutboxBatch>(std::move(batch));
}

Status Outbox::Acknowledge(int64_t last_seq) {
  WriteTransaction txn(db_);
  REGULARS_TRY(txn.Begin());
  auto pushed = PushedSeq();
  if (!pushed.ok()) return pushed.error();
  if (last_seq <= *pushed) return txn.Commit();  // already known: a repeated answer
  auto max = db_.Prepare(
      "SELECT COALESCE(MAX(seq), 0) FROM events WHERE store_id = ?1 AND "
      "till_id = ?2");
  if (!max.ok()) return max.error();
  (*max)->Bind(1, store_id_).Bind(2, till_id_);
  auto row = (*max)->Step();
  if (!row.ok()) return row.error();
  int64_t written = (*max)->Int(0);
  (*max)->Reset();
  if (last_seq > written) {
    return Error::BadInput("invalid_acknowledgement",
                           "HQ acknowledged event " + std::to_string(last_seq) +
                               " but this till wrote only up to " + std::to_string(written));
  }
  REGULARS_TRY(WriteSyncState(db_, kPushedSeq, std::to_string(last_seq)));
  return txn.Commit();
}

Result<OutboxStatus> Outbox::Backlog() {
  ReadTransaction snapshot(db_);
  REGULARS_TRY(snapshot.Begin());
  OutboxStatus status;
  auto pushed = PushedSeq();
  if (!pushed.ok()) return pushed.error();
  status.pushed_seq = *pushed;
  auto stmt = db_.Prepare(
      "SELECT count(*), MIN(at_ms) FROM events WHERE store_id = ?1 AND till_id = ?2 AND "
      "seq > ?3");
  if (!stmt.ok()) return stmt.error();
  (*stmt)->Bind(1, store_id_).Bind(2, till_id_).Bind(3, *pushed);
  auto row = (*stmt)->Step();
  if (!row.ok()) return row.error();
  status.backlog = (*stmt)->Int(0);
  if (!(*stmt)->IsNull(1)) status.oldest_unsent_at_ms = (*stmt)->Int(1);
  (*stmt)->Reset();
  return status;
}

}  // namespace regulars
