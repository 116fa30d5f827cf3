#include "store/customers.h"

namespace regulars {
namespace {

// The row `stmt` (bound) finds, as a customer, if any.
Result<std::optional<CustomerRef>> CustomerRow(Statement& stmt) {
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt.Step());
  std::optional<CustomerRef> customer;
  if (row) customer = CustomerRef{stmt.Text(0), stmt.Int(1) != 0};
  stmt.Reset();
  return customer;
}

}  // namespace

Result<std::optional<CustomerRef>> Customers::ByIdentifier(const std::string& kind,
                                                           const std::string& value) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "SELECT c.id, c.pseudonymous FROM identifiers i JOIN customers c ON c.id = i.customer_id "
          "WHERE i.kind = ?1 AND i.value = ?2"));
  stmt->Bind(1, kind).Bind(2, value);
  return CustomerRow(*stmt);
}

Result<std::optional<CustomerRef>> Customers::Find(const std::string& id) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt,
                            db_.Prepare("SELECT id, pseudonymous FROM customers WHERE id = ?1"));
  stmt->Bind(1, id);
  return CustomerRow(*stmt);
}

Result<std::string> Customers::RootOf(const std::string& id) {
  REGULARS_ASSIGN_OR_RETURN(auto root, MergedInto(id));
  return root.value_or(id);
}

Result<std::optional<std::string>> Customers::MergedInto(const std::string& id) {
  return db_.QueryText("SELECT into_id FROM merges WHERE from_id = ?1", id);
}

Result<std::vector<std::string>> Customers::MergedFrom(const std::string& into) {
  REGULARS_ASSIGN_OR_RETURN(auto merged,
                            db_.Prepare("SELECT from_id FROM merges WHERE into_id = ?1"));
  merged->Bind(1, into);
  return merged->FirstColumn();
}

Result<std::optional<std::string>> Customers::FirstName(const std::string& customer_id) {
  return db_.QueryText("SELECT first_name FROM profiles WHERE customer_id = ?1", customer_id);
}

Result<std::optional<std::string>> Customers::QrUsedBy(const std::string& code_digest) {
  return db_.QueryText("SELECT pos_txn_id FROM qr_uses WHERE code_digest = ?1", code_digest);
}

Result<bool> Customers::IsErased(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto found,
      db_.QueryText("SELECT customer_id FROM erasures WHERE customer_id = ?1", customer_id));
  return found.has_value();
}

Status Customers::Add(const std::string& customer_id, int64_t at_ms, const std::string& kind,
                      const std::string& value, bool pseudonymous) {
  REGULARS_ASSIGN_OR_RETURN(auto customer,
                            db_.Prepare("INSERT INTO customers (id, created_at_ms, store_id, "
                                        "pseudonymous) VALUES (?1, ?2, ?3, ?4)"));
  REGULARS_TRY((customer)
                   ->Bind(1, customer_id)
                   .Bind(2, at_ms)
                   .Bind(3, store_id_)
                   .Bind(4, pseudonymous ? 1 : 0)
                   .Run());
  return AddIdentifier(kind, value, customer_id);
}

Status Customers::AddForeign(const std::string& id, int64_t at_ms, const std::string& store_id,
                             bool pseudonymous) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * add,
      db_.Prepare("INSERT INTO customers (id, created_at_ms, store_id, pseudonymous) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"));
  return add->Bind(1, id).Bind(2, at_ms).Bind(3, store_id).Bind(4, pseudonymous ? 1 : 0).Run();
}

Status Customers::AddIdentifier(const std::string& kind, const std::string& value,
                                const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto identifier,
      db_.Prepare("INSERT INTO identifiers (kind, value, customer_id) VALUES (?1, ?2, ?3)"));
  return identifier->Bind(1, kind).Bind(2, value).Bind(3, customer_id).Run();
}

Status Customers::AddForeignIdentifier(const std::string& kind, const std::string& value,
                                       const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * add,
      db_.Prepare("INSERT INTO identifiers (kind, value, customer_id) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT DO NOTHING"));
  return add->Bind(1, kind).Bind(2, value).Bind(3, customer_id).Run();
}

Result<int64_t> Customers::AddConsent(const Consent& consent) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "INSERT INTO consents (customer_id, purpose, text, given_at_ms, store_id, till_id, "
          "cashier_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  REGULARS_TRY((stmt)
                   ->Bind(1, consent.customer_id)
                   .Bind(2, consent.purpose)
                   .Bind(3, consent.text)
                   .Bind(4, consent.given_at_ms)
                   .Bind(5, consent.store_id.empty() ? store_id_ : consent.store_id)
                   .Bind(6, consent.till_id.empty() ? till_id_ : consent.till_id)
                   .Bind(7, consent.cashier_id)
                   .Run());
  return db_.QueryInt("SELECT last_insert_rowid()");
}

Status Customers::SetFirstName(const std::string& customer_id, const std::string& first_name) {
  REGULARS_ASSIGN_OR_RETURN(
      auto upsert,
      db_.Prepare("INSERT INTO profiles (customer_id, first_name) VALUES (?1, ?2) "
                  "ON CONFLICT (customer_id) DO UPDATE SET first_name = excluded.first_name"));
  return upsert->Bind(1, customer_id).Bind(2, first_name).Run();
}

Status Customers::RecordQrUse(const std::string& code_digest, const std::string& pos_txn_id,
                              int64_t at_ms) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("INSERT INTO qr_uses (code_digest, pos_txn_id, at_ms) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (code_digest) DO NOTHING"));
  return stmt->Bind(1, code_digest).Bind(2, pos_txn_id).Bind(3, at_ms).Run();
}

Status Customers::RecordMerge(const std::string& from, const std::string& into, int64_t at_ms) {
  REGULARS_ASSIGN_OR_RETURN(
      auto merge, db_.Prepare("INSERT INTO merges (from_id, into_id, at_ms) VALUES (?1, ?2, ?3)"));
  REGULARS_TRY(merge->Bind(1, from).Bind(2, into).Bind(3, at_ms).Run());
  REGULARS_ASSIGN_OR_RETURN(
      auto identifiers,
      db_.Prepare("UPDATE identifiers SET customer_id = ?2 WHERE customer_id = ?1"));
  return identifiers->Bind(1, from).Bind(2, into).Run();
}

Status Customers::ReplaceCard(const std::string& customer_id, const std::string& old_card,
                              const std::string& new_card) {
  REGULARS_ASSIGN_OR_RETURN(
      auto retire, db_.Prepare("UPDATE identifiers SET kind = 'retired_card' WHERE kind = 'card' "
                               "AND value = ?1 AND customer_id = ?2"));
  REGULARS_TRY(retire->Bind(1, old_card).Bind(2, customer_id).Run());
  REGULARS_TRY(AddForeignIdentifier(kRetiredCard, old_card, customer_id));
  return AddForeignIdentifier("card", new_card, customer_id);
}

Status Customers::Forget(const std::string& customer_id, int64_t at_ms,
                         const std::string& requested_by) {
  REGULARS_ASSIGN_OR_RETURN(
      auto mark,
      db_.Prepare("INSERT INTO erasures (customer_id, at_ms, requested_by) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT DO NOTHING"));
  REGULARS_TRY(mark->Bind(1, customer_id).Bind(2, at_ms).Bind(3, requested_by).Run());
  for (const char* sql : {"DELETE FROM identifiers WHERE customer_id = ?1",
                          "DELETE FROM consents WHERE customer_id = ?1",
                          "DELETE FROM profiles WHERE customer_id = ?1"}) {
    REGULARS_ASSIGN_OR_RETURN(auto del, db_.Prepare(sql));
    REGULARS_TRY(del->Bind(1, customer_id).Run());
  }
  return Status::Ok();
}

}  // namespace regulars
