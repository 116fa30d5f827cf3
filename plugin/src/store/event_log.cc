#include "store/event_log.h"

#include <sqlite3.h>

#include <optional>
#include <utility>

#include "store/erasure.h"
#include "store/event_body.h"

namespace regulars {
namespace {

Error CounterOverflow(const std::string& customer) {
  return Error::BadInput("counter_overflow",
                         "a counter of customer " + customer + " would overflow 64 bits");
}

// The body Append stores: the event's own members, its "counts" and its "visit".
Result<std::string> AppendedBody(const NewEvent& event) {
  OrderedJson body = event.body;
  OrderedJson counts = OrderedJson::array();
  for (const auto& c : event.counts) {
    counts.push_back(
        {{"rule", c.rule}, {"every", c.every}, {"units", c.units}, {"rewards", c.rewards}});
  }
  body["counts"] = counts;
  // The row in `visits` is derived from this member: a body that set it on its own would
  // have no row, and Verify would report the event.
  if (body.contains("visit")) {
    return Error::Internal("an event's body sets \"visit\" itself; NewEvent::visit is the way");
  }
  if (event.visit) body["visit"] = VisitJson(*event.visit);
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Error BadForeign(const EventKey& key, const std::string& what) {
  return Error::BadInput("invalid_updates", "event " + key.ToString() + " from HQ: " + what,
                         "/events/" + key.ToString());
}

// The text member `name` of `object`, or nullopt.
std::optional<std::string> TextMember(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Result<StoredEvent> EventLog::Find(const EventKey& key) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "SELECT at_ms, body FROM events WHERE store_id = ?1 AND till_id = ?2 AND seq = ?3"));
  stmt->Bind(1, key.store_id).Bind(2, key.till_id).Bind(3, key.seq);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  if (!row) {
    return Error::BadInput("database_unreadable",
                           "event " + key.ToString() + " is missing from the ledger");
  }
  int64_t at_ms = stmt->Int(0);
  std::string text = stmt->Text(1);
  stmt->Reset();
  REGULARS_ASSIGN_OR_RETURN(auto body,
                            ParseJson(text, "database_unreadable", "event " + key.ToString()));
  return StoredEvent{at_ms, std::move(body)};
}

Result<int64_t> EventLog::LatestReversalTime(const std::string& sale_txn_id) {
  // Served by the events_by_reference index.
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("SELECT COALESCE(max(at_ms), 0) FROM events WHERE ref_pos_txn_id = ?1"));
  stmt->Bind(1, sale_txn_id);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  int64_t latest = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return latest;
}

Result<std::vector<Json>> EventLog::RefundsOf(const std::string& sale_txn_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("SELECT body FROM events WHERE ref_pos_txn_id = ?1 AND kind = 'refund' "
                  "ORDER BY at_ms, store_id, till_id, seq"));
  stmt->Bind(1, sale_txn_id);
  REGULARS_ASSIGN_OR_RETURN(auto texts, stmt->FirstColumn());
  std::vector<Json> bodies;
  for (const auto& text : texts) {
    REGULARS_ASSIGN_OR_RETURN(auto body, ParseJson(text, "database_unreadable", "a refund event"));
    bodies.push_back(std::move(body));
  }
  return bodies;
}

Result<bool> EventLog::HoldsHistoryOf(const std::string& customer_id) {
  // On the customers key and the events_by_customer index: a few rows per customer.
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("SELECT EXISTS (SELECT 1 FROM customers WHERE id = ?1 AND store_id = ?2) OR "
                  "EXISTS (SELECT 1 FROM events WHERE (customer_id = ?1 OR customer_id IN "
                  "(SELECT from_id FROM merges WHERE into_id = ?1)) AND (store_id = ?2 OR "
                  "kind NOT IN ('enroll', 'link', 'merge')))"));
  stmt->Bind(1, customer_id).Bind(2, store_id_);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  bool holds = row && stmt->Int(0) != 0;
  stmt->Reset();
  return holds;
}

Result<std::vector<CustomerSale>> EventLog::SalesAfter(const std::string& customer_id,
                                                       int64_t at_ms, const EventKey& after) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("SELECT e.at_ms, e.body, e.pos_txn_id, EXISTS (SELECT 1 FROM events v WHERE "
                  "v.ref_pos_txn_id = e.pos_txn_id AND v.kind = 'void') FROM events e WHERE "
                  "e.kind = 'sale' AND (e.customer_id = ?1 OR e.customer_id IN (SELECT from_id "
                  "FROM merges WHERE into_id = ?1)) AND (e.at_ms, e.store_id, e.till_id, e.seq) > "
                  "(?2, ?3, ?4, ?5) ORDER BY e.at_ms DESC, e.store_id DESC, e.till_id DESC, "
                  "e.seq DESC"));
  stmt->Bind(1, customer_id).Bind(2, at_ms).Bind(3, after.store_id).Bind(4, after.till_id);
  stmt->Bind(5, after.seq);
  std::vector<CustomerSale> sales;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
    if (!row) break;
    REGULARS_ASSIGN_OR_RETURN(
        auto body, ParseJson(stmt->Text(1), "database_unreadable", "a sale of " + customer_id));
    sales.push_back({{stmt->Int(0), std::move(body)}, stmt->Text(2), stmt->Int(3) != 0});
  }
  stmt->Reset();
  return sales;
}

Result<std::map<std::string, Counter>> EventLog::Replay(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare("SELECT body FROM events WHERE customer_id = ?1 OR customer_id IN "
                             "(SELECT from_id FROM merges WHERE into_id = ?1) ORDER BY at_ms, "
                             "store_id, till_id, seq"));
  stmt->Bind(1, customer_id);
  REGULARS_ASSIGN_OR_RETURN(auto bodies, stmt->FirstColumn());
  std::map<std::string, Counter> counters;
  for (const auto& text : bodies) {
    REGULARS_ASSIGN_OR_RETURN(
        auto body, ParseJson(text, "database_unreadable", "an event of customer " + customer_id));
    REGULARS_ASSIGN_OR_RETURN(auto counts, CountsFromBody(body));
    for (const auto& delta : counts) {
      if (!counters[delta.rule].Apply(delta)) return CounterOverflow(customer_id);
    }
  }
  return counters;
}

Result<int64_t> EventLog::NextSeq() {
  REGULARS_ASSIGN_OR_RETURN(
      auto next,
      db_.Prepare(
          "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE store_id = ?1 AND till_id = ?2"));
  next->Bind(1, store_id_).Bind(2, till_id_);
  auto row = next->Step();
  if (!row.ok()) return row.error();
  int64_t seq = next->Int(0);
  next->Reset();
  return seq;
}

Result<EventKey> EventLog::Append(const NewEvent& event) {
  REGULARS_ASSIGN_OR_RETURN(int64_t seq, NextSeq());
  // An event about a profile that has since merged (a refund of its sale) is its
  // customer's now.
  std::optional<std::string> customer_id = event.customer_id;
  if (customer_id) {
    REGULARS_ASSIGN_OR_RETURN(auto root, customers_.RootOf(*customer_id));
    customer_id = root;
  }
  REGULARS_ASSIGN_OR_RETURN(std::string body, AppendedBody(event));

  REGULARS_ASSIGN_OR_RETURN(
      auto insert,
      db_.Prepare(
          "INSERT INTO events (store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id, "
          "ref_pos_txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  Statement& s = *insert;
  s.Bind(1, store_id_).Bind(2, till_id_).Bind(3, seq).Bind(4, event.at_ms).Bind(5, event.kind);
  customer_id ? s.Bind(6, *customer_id) : s.BindNull(6);
  event.pos_txn_id ? s.Bind(7, *event.pos_txn_id) : s.BindNull(7);
  event.ref_pos_txn_id ? s.Bind(8, *event.ref_pos_txn_id) : s.BindNull(8);
  s.Bind(9, body);
  REGULARS_TRY(s.Run());

  EventKey key{store_id_, till_id_, seq};
  if (customer_id && event.visit) {
    // Keyed by the event's customer, as the event is: reads follow merges, as replay does.
    REGULARS_TRY(visits_.Insert(key, *customer_id, event.at_ms, *event.visit));
  }
  if (!customer_id || event.counts.empty()) return key;
  REGULARS_TRY(Count(*customer_id, key, event.at_ms, event.counts));
  return key;
}

Status EventLog::Count(const std::string& customer, const EventKey& key, int64_t at_ms,
                       const std::vector<CountDelta>& counts) {
  // Counters are a function of the set of events in canonical order. When this event is
  // the latest of the customer's (the usual case) it applies on top; otherwise replay.
  REGULARS_ASSIGN_OR_RETURN(
      auto later,
      db_.Prepare(
          "SELECT 1 FROM events WHERE (customer_id = ?1 OR customer_id IN "
          "(SELECT from_id FROM merges WHERE into_id = ?1)) AND (at_ms, store_id, till_id, seq) > "
          "(?2, ?3, ?4, ?5) LIMIT 1"));
  later->Bind(1, customer).Bind(2, at_ms).Bind(3, key.store_id).Bind(4, key.till_id);
  later->Bind(5, key.seq);
  REGULARS_ASSIGN_OR_RETURN(auto has_later, later->Step());
  later->Reset();

  std::map<std::string, Counter> counters;
  if (has_later) {
    REGULARS_ASSIGN_OR_RETURN(auto replayed, Replay(customer));
    counters = std::move(replayed);
  } else {
    REGULARS_ASSIGN_OR_RETURN(auto current, counters_.Of(customer));
    for (const auto& delta : counts) {
      Counter c = current[delta.rule];
      if (!c.Apply(delta)) return CounterOverflow(customer);
      counters[delta.rule] = c;
    }
  }
  return counters_.Store(customer, counters);
}

Status EventLog::Recount(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(auto replayed, Replay(customer_id));
  return counters_.Store(customer_id, replayed);
}

Status EventLog::Merge(const std::string& from, const std::string& into, int64_t at_ms) {
  REGULARS_TRY(customers_.RecordMerge(from, into, at_ms));
  REGULARS_TRY(counters_.Drop(from));
  return Recount(into);
}

Result<bool> EventLog::InsertForeign(const ForeignEvent& e, bool erased) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * insert,
      db_.Prepare("INSERT INTO events (store_id, till_id, seq, at_ms, kind, customer_id, "
                  "pos_txn_id, ref_pos_txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                  "ON CONFLICT DO NOTHING"));
  Json body = e.body;
  if (erased) RedactIdentity(body);
  Statement& s = *insert;
  s.Bind(1, e.key.store_id).Bind(2, e.key.till_id).Bind(3, e.key.seq).Bind(4, e.at_ms);
  s.Bind(5, e.kind);
  e.customer_id ? s.Bind(6, *e.customer_id) : s.BindNull(6);
  e.pos_txn_id ? s.Bind(7, *e.pos_txn_id) : s.BindNull(7);
  e.ref_pos_txn_id ? s.Bind(8, *e.ref_pos_txn_id) : s.BindNull(8);
  s.Bind(9, body.dump(-1, ' ', false, Json::error_handler_t::replace));
  REGULARS_TRY(s.Run());
  return sqlite3_changes(db_.handle()) != 0;
}

Status EventLog::ApplyForeignIdentity(const ForeignEvent& e, std::set<std::string>& touched) {
  auto identifier = e.body.find("identifier");
  std::optional<std::string> id_kind, id_value;
  if (identifier != e.body.end() && identifier->is_object()) {
    id_kind = TextMember(*identifier, "kind");
    id_value = TextMember(*identifier, "value");
  }
  if (e.kind == "enroll" && e.customer_id) {
    REGULARS_TRY(customers_.AddForeign(*e.customer_id, e.at_ms, e.key.store_id,
                                       e.body.value("pseudonymous", false)));
    if (auto name = TextMember(e.body, "first_name"); name && *name != kErased) {
      REGULARS_TRY(customers_.SetFirstName(*e.customer_id, *name));
    }
  }
  if ((e.kind == "enroll" || e.kind == "link") && e.customer_id && id_kind && id_value) {
    // A card replaced since (its replacement pulled first) never recognizes again.
    REGULARS_ASSIGN_OR_RETURN(auto retired, customers_.ByIdentifier(kRetiredCard, *id_value));
    if (*id_kind != "card" || !retired) {
      REGULARS_TRY(customers_.AddForeignIdentifier(*id_kind, *id_value, *e.customer_id));
    }
    // This till's sales to that card before anyone here knew it are now theirs.
    REGULARS_TRY(CreditUnattributed(*id_kind, *id_value, e.at_ms));
  }
  if (e.kind == "card_replaced" && e.customer_id && id_value) {
    auto old = e.body.find("old_identifier");
    auto old_value =
        old != e.body.end() && old->is_object() ? TextMember(*old, "value") : std::nullopt;
    if (!old_value) return BadForeign(e.key, "a card replacement names no old_identifier");
    REGULARS_TRY(customers_.AddForeign(*e.customer_id, e.at_ms, e.key.store_id, false));
    REGULARS_ASSIGN_OR_RETURN(auto root, customers_.RootOf(*e.customer_id));
    REGULARS_TRY(customers_.ReplaceCard(root, *old_value, *id_value));
    REGULARS_TRY(CreditUnattributed("card", *id_value, e.at_ms));
  }
  if (e.kind == "link" && e.customer_id) {
    if (auto c = e.body.find("consent"); c != e.body.end() && c->is_object()) {
      Consent consent{*e.customer_id,
                      TextMember(*c, "purpose").value_or(""),
                      TextMember(*c, "text").value_or(""),
                      e.at_ms,
                      TextMember(*c, "cashier_id").value_or(""),
                      e.key.store_id,
                      e.key.till_id};
      REGULARS_TRY(customers_.AddConsent(consent));
    }
  }
  if (e.kind != "merge") return Status::Ok();
  auto from = TextMember(e.body, "from");
  auto into = TextMember(e.body, "into");
  if (!from || !into) return BadForeign(e.key, "a merge names no \"from\" and \"into\"");
  REGULARS_ASSIGN_OR_RETURN(auto merged, customers_.MergedInto(*from));
  if (merged) return Status::Ok();
  for (const auto& id : {*from, *into}) {
    REGULARS_TRY(customers_.AddForeign(id, e.at_ms, e.key.store_id, id == *from));
  }
  REGULARS_TRY(Merge(*from, *into, e.at_ms));
  touched.insert(*into);
  return Status::Ok();
}

Result<int64_t> EventLog::AppendForeign(const std::vector<ForeignEvent>& events) {
  int64_t appended = 0;
  std::set<std::string> touched;
  for (const auto& e : events) {
    if (e.key.store_id == store_id_ && e.key.till_id == till_id_) {
      return BadForeign(e.key, "it is this till's own event");
    }
    if (!e.body.is_object()) return BadForeign(e.key, "its body is not an object");
    auto counts = CountsFromBody(e.body);
    if (!counts.ok()) return BadForeign(e.key, counts.error().message);
    std::optional<VisitDelta> visit;
    if (auto v = e.body.find("visit"); v != e.body.end()) {
      auto parsed = VisitFromJson(*v);
      if (!parsed.ok()) return BadForeign(e.key, parsed.error().message);
      visit = std::move(parsed).value();
    }
    // A customer erased here stays erased, whatever arrives late about them.
    bool erased = false;
    if (e.customer_id) {
      REGULARS_ASSIGN_OR_RETURN(erased, customers_.IsErased(*e.customer_id));
    }
    REGULARS_ASSIGN_OR_RETURN(bool is_new, InsertForeign(e, erased));
    if (!is_new) continue;  // held already
    ++appended;
    if (e.kind == "erase" && e.customer_id) {
      REGULARS_TRY(Erase(*e.customer_id, e.at_ms, e.key.ToString()));
      continue;
    }
    if (erased) continue;  // no identifier or consent of theirs comes back
    // Who the customer is: an enrolment, a link or a merge made at another store.
    REGULARS_TRY(ApplyForeignIdentity(e, touched));
    if (!e.customer_id) continue;
    REGULARS_ASSIGN_OR_RETURN(auto root, customers_.RootOf(*e.customer_id));
    if (visit) REGULARS_TRY(visits_.Insert(e.key, root, e.at_ms, *visit));
    if (!counts->empty()) touched.insert(root);
  }
  // Counters are a function of the set of events in canonical order: replay each once.
  for (const auto& customer : touched) {
    REGULARS_ASSIGN_OR_RETURN(auto root, customers_.RootOf(customer));
    REGULARS_TRY(Recount(root));
  }
  return appended;
}

Result<int64_t> EventLog::Erase(const std::string& customer_id, int64_t at_ms,
                                const std::string& requested_by) {
  // The customer and every profile merged into them.
  REGULARS_ASSIGN_OR_RETURN(auto root, customers_.RootOf(customer_id));
  std::vector<std::string> family{root};
  if (root != customer_id) family.push_back(customer_id);
  REGULARS_ASSIGN_OR_RETURN(auto from, customers_.MergedFrom(root));
  family.insert(family.end(), from.begin(), from.end());

  int64_t redacted = 0;
  for (const auto& id : family) {
    REGULARS_TRY(customers_.Forget(id, at_ms, requested_by));
    REGULARS_ASSIGN_OR_RETURN(int64_t changed, RedactEventsOf(id));
    redacted += changed;
  }
  return redacted;
}

Result<int64_t> EventLog::RedactEventsOf(const std::string& customer_id) {
  // Their events that say who they are: enrolments, links and card replacements.
  REGULARS_ASSIGN_OR_RETURN(
      auto select,
      db_.Prepare("SELECT store_id, till_id, seq, body FROM events WHERE customer_id = ?1 AND "
                  "kind IN ('enroll', 'link', 'card_replaced')"));
  select->Bind(1, customer_id);
  std::vector<std::pair<EventKey, std::string>> bodies;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, select->Step());
    if (!row) break;
    const Statement& r = *select;
    bodies.push_back({{r.Text(0), r.Text(1), r.Int(2)}, r.Text(3)});
  }
  select->Reset();
  int64_t redacted = 0;
  for (auto& [key, text] : bodies) {
    REGULARS_ASSIGN_OR_RETURN(auto body,
                              ParseJson(text, "database_unreadable", "event " + key.ToString()));
    if (!RedactIdentity(body)) continue;
    REGULARS_ASSIGN_OR_RETURN(
        auto update,
        db_.Prepare(
            "UPDATE events SET body = ?4 WHERE store_id = ?1 AND till_id = ?2 AND seq = ?3"));
    REGULARS_TRY((update)
                     ->Bind(1, key.store_id)
                     .Bind(2, key.till_id)
                     .Bind(3, key.seq)
                     .Bind(4, body.dump(-1, ' ', false, Json::error_handler_t::replace))
                     .Run());
    ++redacted;
  }
  return redacted;
}

}  // namespace regulars
