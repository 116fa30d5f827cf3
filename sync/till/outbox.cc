#include "till/outbox.h"

#include "json/json_input.h"
#include "store/sync_state.h"

namespace regulars {
namespace {
constexpr const char* kPushedSeq = "pushed_seq";
}  // namespace

Result<int64_t> Outbox::PushedSeq() { return SyncState(db_).ReadNumber(kPushedSeq); }

Result<std::optional<OutboxBatch>> Outbox::NextBatch(int64_t max_events, size_t max_bytes) {
  if (max_events < 1) return Error::Internal("a batch holds at least one event");
  // One snapshot: the batch's events and the cursor they follow agree.
  ReadTransaction snapshot(db_);
  REGULARS_TRY(snapshot.Begin());
  REGULARS_ASSIGN_OR_RETURN(auto pushed, PushedSeq());
  OutboxBatch batch;
  std::string events;
  auto add = [&](const OwnEvent& e) {
    auto text_or_null = [](const std::optional<std::string>& t) {
      return t ? OrderedJson(*t) : OrderedJson(nullptr);
    };
    // The stored body is JSON the ledger wrote: carried as is, not re-serialised.
    OrderedJson head{{"id", store_id_ + ":" + till_id_ + ":" + std::to_string(e.seq)},
                     {"at_ms", e.at_ms},
                     {"kind", e.kind},
                     {"customer_id", text_or_null(e.customer_id)},
                     {"pos_txn_id", text_or_null(e.pos_txn_id)},
                     {"ref_pos_txn_id", text_or_null(e.ref_pos_txn_id)}};
    std::string text = ToText(head);
    text.pop_back();  // the closing brace: the body follows
    text += ",\"body\":" + e.body + "}";
    if (batch.events > 0 && events.size() + text.size() + 1 > max_bytes) return false;
    if (batch.events > 0) events += ',';
    events += text;
    if (batch.events == 0) batch.first_seq = e.seq;
    batch.last_seq = e.seq;
    ++batch.events;
    return true;
  };
  REGULARS_TRY(own_.ForEachAfter(pushed, max_events, add));
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
  REGULARS_ASSIGN_OR_RETURN(auto pushed, PushedSeq());
  if (last_seq <= pushed) return txn.Commit();  // already known: a repeated answer
  REGULARS_ASSIGN_OR_RETURN(int64_t written, own_.LastSeq());
  if (last_seq > written) {
    return Error::BadInput("invalid_acknowledgement",
                           "HQ acknowledged event " + std::to_string(last_seq) +
                               " but this till wrote only up to " + std::to_string(written));
  }
  REGULARS_TRY(SyncState(db_).Write(kPushedSeq, std::to_string(last_seq)));
  return txn.Commit();
}

Result<OutboxStatus> Outbox::Backlog() {
  ReadTransaction snapshot(db_);
  REGULARS_TRY(snapshot.Begin());
  OutboxStatus status;
  REGULARS_ASSIGN_OR_RETURN(auto pushed, PushedSeq());
  status.pushed_seq = pushed;
  REGULARS_ASSIGN_OR_RETURN(auto backlog, own_.BacklogAfter(pushed));
  status.backlog = backlog.events;
  status.oldest_unsent_at_ms = backlog.oldest_at_ms;
  return status;
}

}  // namespace regulars
