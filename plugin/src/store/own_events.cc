#include "store/own_events.h"

namespace regulars {

Status OwnEvents::ForEachAfter(int64_t after_seq, int64_t limit,
                               const std::function<bool(const OwnEvent&)>& visit) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * stmt,
      db_.Prepare("SELECT seq, at_ms, kind, customer_id, pos_txn_id, ref_pos_txn_id, body "
                  "FROM events WHERE store_id = ?1 AND till_id = ?2 AND seq > ?3 "
                  "ORDER BY seq LIMIT ?4"));
  stmt->Bind(1, store_id_).Bind(2, till_id_).Bind(3, after_seq).Bind(4, limit);
  auto text_or_null = [&](int column) {
    return stmt->IsNull(column) ? std::optional<std::string>() : stmt->Text(column);
  };
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) {
      stmt->Reset();
      return row.error();
    }
    if (!*row) break;
    OwnEvent event{stmt->Int(0),    stmt->Int(1),    stmt->Text(2), text_or_null(3),
                   text_or_null(4), text_or_null(5), stmt->Text(6)};
    if (!visit(event)) break;
  }
  stmt->Reset();
  return Status::Ok();
}

Result<int64_t> OwnEvents::LastSeq() {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * stmt,
      db_.Prepare("SELECT COALESCE(MAX(seq), 0) FROM events WHERE store_id = ?1 AND "
                  "till_id = ?2"));
  stmt->Bind(1, store_id_).Bind(2, till_id_);
  auto row = stmt->Step();
  int64_t last = row.ok() && *row ? stmt->Int(0) : 0;
  stmt->Reset();
  if (!row.ok()) return row.error();
  return last;
}

Result<OwnBacklog> OwnEvents::BacklogAfter(int64_t after_seq) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * stmt,
      db_.Prepare("SELECT count(*), MIN(at_ms) FROM events WHERE store_id = ?1 AND "
                  "till_id = ?2 AND seq > ?3"));
  stmt->Bind(1, store_id_).Bind(2, till_id_).Bind(3, after_seq);
  auto row = stmt->Step();
  OwnBacklog backlog;
  if (row.ok() && *row) {
    backlog.events = stmt->Int(0);
    if (!stmt->IsNull(1)) backlog.oldest_at_ms = stmt->Int(1);
  }
  stmt->Reset();
  if (!row.ok()) return row.error();
  return backlog;
}

}  // namespace regulars
