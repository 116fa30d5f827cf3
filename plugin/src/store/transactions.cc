#include "store/transactions.h"

namespace regulars {

Result<std::optional<StoredTransaction>> Transactions::Find(const std::string& pos_txn_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "SELECT kind, request_digest, response, customer_id, event_store, event_till, event_seq "
          "FROM transactions WHERE pos_txn_id = ?1"));
  stmt->Bind(1, pos_txn_id);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<StoredTransaction> txn;
  if (row) {
    Statement& s = *stmt;
    txn = StoredTransaction{s.Text(0), s.Text(1), s.Text(2),
                            s.IsNull(3) ? std::nullopt : std::optional(s.Text(3)),
                            EventKey{s.Text(4), s.Text(5), s.Int(6)}};
  }
  stmt->Reset();
  return txn;
}

Result<std::optional<std::string>> Transactions::FindVoid(const std::string& pos_txn_id) {
  return db_.QueryText("SELECT response FROM voids WHERE pos_txn_id = ?1", pos_txn_id);
}

Status Transactions::Record(const std::string& pos_txn_id, const StoredTransaction& txn) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "INSERT INTO transactions (pos_txn_id, kind, request_digest, response, customer_id, "
          "event_store, event_till, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  Statement& s = *stmt;
  s.Bind(1, pos_txn_id).Bind(2, txn.kind).Bind(3, txn.request_digest).Bind(4, txn.response);
  txn.customer_id ? s.Bind(5, *txn.customer_id) : s.BindNull(5);
  s.Bind(6, txn.event.store_id).Bind(7, txn.event.till_id).Bind(8, txn.event.seq);
  return s.Run();
}

Status Transactions::RecordVoid(const std::string& pos_txn_id, const std::string& response,
                                const EventKey& event) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("INSERT INTO voids (pos_txn_id, response, event_store, event_till, event_seq) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)"));
  return (stmt)
      ->Bind(1, pos_txn_id)
      .Bind(2, response)
      .Bind(3, event.store_id)
      .Bind(4, event.till_id)
      .Bind(5, event.seq)
      .Run();
}

}  // namespace regulars
