#include "store/ledger.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <set>
#include <utility>

#include "store/audit_chain.h"
#include "store/erasure.h"
#include "store/schema.h"

namespace regulars {
namespace {

Result<std::vector<CountDelta>> CountsFromBody(const Json& body) {
  std::vector<CountDelta> counts;
  if (!body.contains("counts")) return counts;
  auto malformed = [](const std::string& what) {
    return Error::BadInput("database_unreadable", "an event's counts are malformed: " + what);
  };
  const Json& list = body.at("counts");
  if (!list.is_array()) return malformed("counts is not an array");
  for (const auto& c : list) {
    if (!c.is_object()) return malformed("a count is not an object");
    auto rule = c.find("rule");
    if (rule == c.end() || !rule->is_string()) return malformed("rule is not text");
    CountDelta delta{rule->get<std::string>()};
    for (auto [name, field] : {std::pair{"every", &delta.every}, std::pair{"units", &delta.units},
                               std::pair{"rewards", &delta.rewards}}) {
      auto it = c.find(name);
      auto value = it == c.end() ? std::nullopt : AsInt64(*it);
      if (!value) return malformed(std::string(name) + " is not a 64-bit integer");
      *field = *value;
    }
    counts.push_back(std::move(delta));
  }
  return counts;
}

// The `visits.skus` column: the skus as a JSON array. Basket validation lets a sku hold
// spaces, so space-joined text would be ambiguous.
std::string SkusText(const std::vector<std::string>& skus) { return ToText(OrderedJson(skus)); }

OrderedJson VisitJson(const VisitDelta& v) {
  OrderedJson json{{"day", v.day},           {"visits", v.visits},     {"spend", v.spend},
                   {"discount", v.discount}, {"goodwill", v.goodwill}, {"skus", v.skus}};
  if (v.at_ms) json["at_ms"] = *v.at_ms;
  return json;
}

Error MalformedVisit(const std::string& what) {
  return Error::BadInput("database_unreadable", "a visit is malformed: " + what);
}

// An event's "visit" member as Append wrote it. Strict, so that Verify notices any
// other shape.
Result<VisitDelta> VisitFromJson(const Json& visit) {
  if (!visit.is_object()) return MalformedVisit("it is not an object");
  VisitDelta v;
  auto day = visit.find("day");
  if (day == visit.end() || !day->is_string()) return MalformedVisit("day is not text");
  v.day = day->get<std::string>();
  for (auto [name, field] :
       {std::pair{"visits", &v.visits}, std::pair{"spend", &v.spend},
        std::pair{"discount", &v.discount}, std::pair{"goodwill", &v.goodwill}}) {
    auto it = visit.find(name);
    auto value = it == visit.end() ? std::nullopt : AsInt64(*it);
    if (!value) return MalformedVisit(std::string(name) + " is not a 64-bit integer");
    *field = *value;
  }
  if (auto at = visit.find("at_ms"); at != visit.end()) {
    auto value = AsInt64(*at);
    if (!value) return MalformedVisit("at_ms is not a 64-bit integer");
    v.at_ms = *value;
  }
  auto skus = visit.find("skus");
  if (skus == visit.end() || !skus->is_array()) return MalformedVisit("skus is not an array");
  for (const auto& sku : *skus) {
    if (!sku.is_string()) return MalformedVisit("a sku is not text");
    v.skus.push_back(sku.get<std::string>());
  }
  return v;
}

Result<std::vector<std::string>> SkusFromText(const std::string& text) {
  // Fast path for what SkusText writes when no sku needs escaping: ["a","b"]. Read on
  // every recognized basket (suggestions), so worth sparing a JSON parser.
  if (text.size() >= 4 && text.starts_with("[\"") && text.ends_with("\"]") &&
      text.find('\\') == std::string::npos) {
    std::vector<std::string> skus;
    std::string_view rest(text.data() + 2, text.size() - 4);
    for (;;) {
      size_t end = rest.find("\",\"");
      skus.emplace_back(rest.substr(0, end));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 3);
    }
    bool plain = std::none_of(skus.begin(), skus.end(), [](const std::string& sku) {
      return sku.empty() || sku.find('"') != std::string::npos;
    });
    if (plain) return skus;
  }
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(text, "database_unreadable", "a visit's skus"));
  std::vector<std::string> skus;
  if (!json.is_array()) return MalformedVisit("its skus are not an array");
  for (const auto& sku : json) {
    if (!sku.is_string()) return MalformedVisit("a sku is not text");
    skus.push_back(sku.get<std::string>());
  }
  return skus;
}

// The rows of a customer and of the profiles merged into them (replay's rule), with ?1
// the customer; served by visits_by_customer.
constexpr const char* kVisitsOfCustomer =
    "SELECT at_ms, day, visits, spend, discount, goodwill, skus FROM visits "
    "WHERE (customer_id = ?1 OR customer_id IN (SELECT from_id FROM merges WHERE into_id = ?1)) ";
// The same without the skus, which tiers never need (reading them is most of the cost).
constexpr const char* kVisitsOfCustomerNoSkus =
    "SELECT at_ms, day, visits, spend, discount, goodwill, '[]' FROM visits "
    "WHERE (customer_id = ?1 OR customer_id IN (SELECT from_id FROM merges WHERE into_id = ?1)) ";

// Every row of a statement over kVisitsOfCustomer's columns; the statement is reset after.
Result<std::vector<VisitRow>> VisitRows(Statement& stmt) {
  std::vector<VisitRow> rows;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt.Step());
    if (!row) break;
    std::string text = stmt.Text(6);
    auto skus = text == "[]" ? Result<std::vector<std::string>>(std::vector<std::string>{})
                             : SkusFromText(text);
    if (!skus.ok()) {
      stmt.Reset();
      return skus.error();
    }
    rows.push_back({stmt.Int(0),
                    {stmt.Text(1), stmt.Int(2), stmt.Int(3), stmt.Int(4), stmt.Int(5),
                     std::move(skus).value()}});
  }
  stmt.Reset();
  return rows;
}

// True when an event's body (of the events row `e`) has a "visit" member. The cheap text
// test skips the events that have none; json_valid keeps a damaged body from failing the
// whole query.
constexpr const char* kEventHasVisit =
    "(instr(e.body, '\"visit\":') > 0 AND "
    "CASE WHEN json_valid(e.body) THEN json_type(e.body, '$.visit') IS NOT NULL ELSE 0 END)";

// Verify lists this many visit problems, then counts the rest: a damaged ledger of
// millions of events should not produce millions of lines.
constexpr int64_t kMaxListedVisitProblems = 50;

}  // namespace

bool Counter::Apply(const CountDelta& delta) {
  Counter next = *this;
  int64_t cost = 0, change = 0;
  if (__builtin_add_overflow(units, delta.units, &next.units) ||
      __builtin_add_overflow(rewards, delta.rewards, &next.rewards) ||
      __builtin_mul_overflow(delta.rewards, delta.every, &cost) ||
      __builtin_sub_overflow(delta.units, cost, &change) ||
      __builtin_add_overflow(progress, change, &next.progress)) {
    return false;
  }
  if (next.progress < 0) {
    if (__builtin_sub_overflow(over_granted, next.progress, &next.over_granted)) return false;
    next.progress = 0;
  }
  *this = next;
  return true;
}

namespace {
// Every row's first column, as text; the statement is reset after.
Result<std::vector<std::string>> FirstColumn(Statement& stmt) {
  std::vector<std::string> texts;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt.Step());
    if (!row) break;
    texts.push_back(stmt.Text(0));
  }
  stmt.Reset();
  return texts;
}

Error CounterOverflow(const std::string& customer) {
  return Error::BadInput("counter_overflow",
                         "a counter of customer " + customer + " would overflow 64 bits");
}
}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path, std::string store_id,
                                             std::string till_id) {
  REGULARS_ASSIGN_OR_RETURN(auto db, Database::Open(path));
  REGULARS_TRY(PrepareLedger(*db, LedgerMigrations()));
  std::unique_ptr<Ledger> ledger(
      new Ledger(std::move(db), std::move(store_id), std::move(till_id)));
  if (path != ":memory:") {
    REGULARS_ASSIGN_OR_RETURN(auto checkpointer, WalCheckpointer::Start(*ledger->db_));
    ledger->checkpointer_ = std::move(checkpointer);
  }
  return ledger;
}

Result<std::optional<CustomerRef>> Ledger::CustomerByIdentifier(const std::string& kind,
                                                                const std::string& value) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "SELECT c.id, c.pseudonymous FROM identifiers i JOIN customers c ON c.id = i.customer_id "
          "WHERE i.kind = ?1 AND i.value = ?2"));
  stmt->Bind(1, kind).Bind(2, value);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<CustomerRef> customer;
  if (row) customer = CustomerRef{stmt->Text(0), stmt->Int(1) != 0};
  stmt->Reset();
  return customer;
}

Result<std::string> Ledger::RootOf(const std::string& id) {
  REGULARS_ASSIGN_OR_RETURN(auto root,
                            TextByKey("SELECT into_id FROM merges WHERE from_id = ?1", id));
  return root.value_or(id);
}

Result<std::optional<std::string>> Ledger::TextByKey(const std::string& sql,
                                                     const std::string& key) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  stmt->Bind(1, key);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<std::string> text;
  if (row) text = stmt->Text(0);
  stmt->Reset();
  return text;
}

Result<std::optional<CustomerRef>> Ledger::FindCustomer(const std::string& id) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt,
                            db_->Prepare("SELECT id, pseudonymous FROM customers WHERE id = ?1"));
  stmt->Bind(1, id);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<CustomerRef> customer;
  if (row) customer = CustomerRef{stmt->Text(0), stmt->Int(1) != 0};
  stmt->Reset();
  return customer;
}

Result<std::map<std::string, Counter>> Ledger::CountersOf(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT rule_id, units, rewards, progress, over_granted FROM counters "
                   "WHERE customer_id = ?1"));
  stmt->Bind(1, customer_id);
  std::map<std::string, Counter> counters;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
    if (!row) break;
    counters[stmt->Text(0)] = {stmt->Int(1), stmt->Int(2), stmt->Int(3), stmt->Int(4)};
  }
  stmt->Reset();
  return counters;
}

Result<std::optional<StoredTransaction>> Ledger::FindTransaction(const std::string& pos_txn_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
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

Result<std::optional<std::string>> Ledger::FindVoid(const std::string& pos_txn_id) {
  return TextByKey("SELECT response FROM voids WHERE pos_txn_id = ?1", pos_txn_id);
}

Result<StoredEvent> Ledger::FindEvent(const EventKey& key) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
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

Result<std::optional<std::string>> Ledger::QrUsedBy(const std::string& code_digest) {
  return TextByKey("SELECT pos_txn_id FROM qr_uses WHERE code_digest = ?1", code_digest);
}

Status Ledger::RecordQrUse(const std::string& code_digest, const std::string& pos_txn_id,
                           int64_t at_ms) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO qr_uses (code_digest, pos_txn_id, at_ms) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (code_digest) DO NOTHING"));
  return stmt->Bind(1, code_digest).Bind(2, pos_txn_id).Bind(3, at_ms).Run();
}

Result<int64_t> Ledger::LatestReversalTime(const std::string& sale_txn_id) {
  // Served by the events_by_reference index.
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT COALESCE(max(at_ms), 0) FROM events WHERE ref_pos_txn_id = ?1"));
  stmt->Bind(1, sale_txn_id);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  int64_t latest = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return latest;
}

Result<std::vector<Json>> Ledger::RefundsOf(const std::string& sale_txn_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT body FROM events WHERE ref_pos_txn_id = ?1 AND kind = 'refund' "
                   "ORDER BY at_ms, store_id, till_id, seq"));
  stmt->Bind(1, sale_txn_id);
  REGULARS_ASSIGN_OR_RETURN(auto texts, FirstColumn(*stmt));
  std::vector<Json> bodies;
  for (const auto& text : texts) {
    REGULARS_ASSIGN_OR_RETURN(auto body, ParseJson(text, "database_unreadable", "a refund event"));
    bodies.push_back(std::move(body));
  }
  return bodies;
}

Result<std::vector<VisitRow>> Ledger::VisitsSince(const std::string& customer_id, int64_t from_ms,
                                                  bool with_skus) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare(std::string(with_skus ? kVisitsOfCustomer : kVisitsOfCustomerNoSkus) +
                              "AND at_ms >= ?2 ORDER BY at_ms, store_id, till_id, seq"));
  stmt->Bind(1, customer_id).Bind(2, from_ms);
  return VisitRows(*stmt);
}

Result<VisitDelta> Ledger::DayTotals(const std::string& customer_id, const std::string& day) {
  // A refund's day is its sale's, whenever it happened: no time range narrows this, and a
  // customer's rows are few.
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "SELECT COALESCE(sum(visits), 0), COALESCE(sum(spend), 0), COALESCE(sum(discount), 0), "
          "COALESCE(sum(goodwill), 0) FROM visits WHERE (customer_id = ?1 OR customer_id IN "
          "(SELECT from_id FROM merges WHERE into_id = ?1)) AND day = ?2"));
  stmt->Bind(1, customer_id).Bind(2, day);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  VisitDelta totals;
  totals.day = day;
  if (row) {
    totals.visits = stmt->Int(0);
    totals.spend = stmt->Int(1);
    totals.discount = stmt->Int(2);
    totals.goodwill = stmt->Int(3);
  }
  stmt->Reset();
  return totals;
}

Result<std::vector<VisitRow>> Ledger::RecentSales(const std::string& customer_id, int limit) {
  // A sale voided (or wholly refunded) since is no visit: its reversal's row carries the
  // sale's time. SQLite reads a negative LIMIT as none at all.
  if (limit <= 0) return std::vector<VisitRow>{};
  // The customer's own rows and their merged profiles' apart, each newest first with its
  // own LIMIT: the first walks visits_by_customer backwards and stops after `limit` rows.
  // One query with `customer_id = ?1 OR customer_id IN (...)` sorted every visit the
  // customer ever made, each checkout: 25 ms for a customer of 3,000 visits.
  static const std::string kNewestFirst =
      " ORDER BY at_ms DESC, store_id DESC, till_id DESC, seq DESC LIMIT ?2";
  static const std::string kSales =
      "SELECT at_ms, day, visits, spend, discount, goodwill, skus, store_id, till_id, seq "
      "FROM visits WHERE visits > 0 AND NOT EXISTS (SELECT 1 FROM visits r WHERE "
      "r.customer_id = visits.customer_id AND r.at_ms = visits.at_ms AND r.visits < 0) AND ";
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT at_ms, day, visits, spend, discount, goodwill, skus FROM ("
                   "SELECT * FROM (" +
                   kSales + "customer_id = ?1" + kNewestFirst + ") UNION ALL SELECT * FROM (" +
                   kSales + "customer_id IN (SELECT from_id FROM merges WHERE into_id = ?1)" +
                   kNewestFirst + "))" + kNewestFirst));
  stmt->Bind(1, customer_id).Bind(2, static_cast<int64_t>(limit));
  return VisitRows(*stmt);
}

Status Ledger::AddCustomer(const std::string& customer_id, int64_t at_ms, const std::string& kind,
                           const std::string& value, bool pseudonymous) {
  REGULARS_ASSIGN_OR_RETURN(auto customer,
                            db_->Prepare("INSERT INTO customers (id, created_at_ms, store_id, "
                                         "pseudonymous) VALUES (?1, ?2, ?3, ?4)"));
  REGULARS_TRY((customer)
                   ->Bind(1, customer_id)
                   .Bind(2, at_ms)
                   .Bind(3, store_id_)
                   .Bind(4, pseudonymous ? 1 : 0)
                   .Run());
  return AddIdentifier(kind, value, customer_id);
}

Status Ledger::AddIdentifier(const std::string& kind, const std::string& value,
                             const std::string& customer_id) {
  auto identifier =
      db_->Prepare("INSERT INTO identifiers (kind, value, customer_id) VALUES (?1, ?2, ?3)");
  if (!identifier.ok()) return identifier.error();
  return (*identifier)->Bind(1, kind).Bind(2, value).Bind(3, customer_id).Run();
}

Result<int64_t> Ledger::AddConsent(const Consent& consent) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
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
  return db_->QueryInt("SELECT last_insert_rowid()");
}

Status Ledger::Merge(const std::string& from, const std::string& into, int64_t at_ms) {
  REGULARS_ASSIGN_OR_RETURN(
      auto merge, db_->Prepare("INSERT INTO merges (from_id, into_id, at_ms) VALUES (?1, ?2, ?3)"));
  REGULARS_TRY(merge->Bind(1, from).Bind(2, into).Bind(3, at_ms).Run());
  REGULARS_ASSIGN_OR_RETURN(
      auto identifiers,
      db_->Prepare("UPDATE identifiers SET customer_id = ?2 WHERE customer_id = ?1"));
  REGULARS_TRY(identifiers->Bind(1, from).Bind(2, into).Run());
  REGULARS_ASSIGN_OR_RETURN(auto counters,
                            db_->Prepare("DELETE FROM counters WHERE customer_id = ?1"));
  REGULARS_TRY(counters->Bind(1, from).Run());
  REGULARS_ASSIGN_OR_RETURN(auto replayed, Replay(into));
  for (const auto& [rule, counter] : replayed) REGULARS_TRY(StoreCounter(into, rule, counter));
  return Status::Ok();
}

Result<EventKey> Ledger::Append(const NewEvent& event) {
  REGULARS_ASSIGN_OR_RETURN(
      auto next,
      db_->Prepare(
          "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE store_id = ?1 AND till_id = ?2"));
  next->Bind(1, store_id_).Bind(2, till_id_);
  auto row = next->Step();
  if (!row.ok()) return row.error();
  int64_t seq = next->Int(0);
  next->Reset();

  // An event about a profile that has since merged (a refund of its sale) is its
  // customer's now.
  std::optional<std::string> customer_id = event.customer_id;
  if (customer_id) {
    REGULARS_ASSIGN_OR_RETURN(auto root, RootOf(*customer_id));
    customer_id = root;
  }
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

  REGULARS_ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare(
          "INSERT INTO events (store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id, "
          "ref_pos_txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  Statement& s = *insert;
  s.Bind(1, store_id_).Bind(2, till_id_).Bind(3, seq).Bind(4, event.at_ms).Bind(5, event.kind);
  customer_id ? s.Bind(6, *customer_id) : s.BindNull(6);
  event.pos_txn_id ? s.Bind(7, *event.pos_txn_id) : s.BindNull(7);
  event.ref_pos_txn_id ? s.Bind(8, *event.ref_pos_txn_id) : s.BindNull(8);
  s.Bind(9, body.dump(-1, ' ', false, Json::error_handler_t::replace));
  REGULARS_TRY(s.Run());

  EventKey key{store_id_, till_id_, seq};
  if (customer_id && event.visit) {
    // Keyed by the event's customer, as the event is: reads follow merges, as replay does.
    REGULARS_TRY(InsertVisit(key, *customer_id, event.at_ms, *event.visit));
  }
  if (!customer_id || event.counts.empty()) return key;
  const std::string& customer = *customer_id;

  // Counters are a function of the set of events in canonical order. When this event is
  // the latest of the customer's (the usual case) it applies on top; otherwise replay.
  REGULARS_ASSIGN_OR_RETURN(
      auto later,
      db_->Prepare(
          "SELECT 1 FROM events WHERE (customer_id = ?1 OR customer_id IN "
          "(SELECT from_id FROM merges WHERE into_id = ?1)) AND (at_ms, store_id, till_id, seq) > "
          "(?2, ?3, ?4, ?5) LIMIT 1"));
  later->Bind(1, customer).Bind(2, event.at_ms).Bind(3, store_id_).Bind(4, till_id_).Bind(5, seq);
  REGULARS_ASSIGN_OR_RETURN(auto has_later, later->Step());
  later->Reset();

  std::map<std::string, Counter> counters;
  if (has_later) {
    REGULARS_ASSIGN_OR_RETURN(auto replayed, Replay(customer));
    counters = std::move(replayed);
  } else {
    REGULARS_ASSIGN_OR_RETURN(auto current, CountersOf(customer));
    for (const auto& delta : event.counts) {
      Counter c = (current)[delta.rule];
      if (!c.Apply(delta)) return CounterOverflow(customer);
      counters[delta.rule] = c;
    }
  }
  for (const auto& [rule, counter] : counters) {
    REGULARS_TRY(StoreCounter(customer, rule, counter));
  }
  return key;
}

namespace {

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

Result<bool> Ledger::InsertForeign(const ForeignEvent& e, bool erased) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * insert,
      db_->Prepare("INSERT INTO events (store_id, till_id, seq, at_ms, kind, customer_id, "
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
  return sqlite3_changes(db_->handle()) != 0;
}

Status Ledger::AddForeignCustomer(const std::string& id, int64_t at_ms, const std::string& store_id,
                                  bool pseudonymous) {
  REGULARS_ASSIGN_OR_RETURN(
      Statement * add,
      db_->Prepare("INSERT INTO customers (id, created_at_ms, store_id, pseudonymous) "
                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"));
  return add->Bind(1, id).Bind(2, at_ms).Bind(3, store_id).Bind(4, pseudonymous ? 1 : 0).Run();
}

Status Ledger::ApplyForeignIdentity(const ForeignEvent& e, std::set<std::string>& touched) {
  auto identifier = e.body.find("identifier");
  std::optional<std::string> id_kind, id_value;
  if (identifier != e.body.end() && identifier->is_object()) {
    id_kind = TextMember(*identifier, "kind");
    id_value = TextMember(*identifier, "value");
  }
  if (e.kind == "enroll" && e.customer_id) {
    REGULARS_TRY(AddForeignCustomer(*e.customer_id, e.at_ms, e.key.store_id,
                                    e.body.value("pseudonymous", false)));
    if (auto name = TextMember(e.body, "first_name"); name && *name != kErased) {
      REGULARS_TRY(SetFirstName(*e.customer_id, *name));
    }
  }
  if ((e.kind == "enroll" || e.kind == "link") && e.customer_id && id_kind && id_value) {
    REGULARS_ASSIGN_OR_RETURN(
        Statement * add,
        db_->Prepare("INSERT INTO identifiers (kind, value, customer_id) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT DO NOTHING"));
    REGULARS_TRY(add->Bind(1, *id_kind).Bind(2, *id_value).Bind(3, *e.customer_id).Run());
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
      REGULARS_TRY(AddConsent(consent));
    }
  }
  if (e.kind != "merge") return Status::Ok();
  auto from = TextMember(e.body, "from");
  auto into = TextMember(e.body, "into");
  if (!from || !into) return BadForeign(e.key, "a merge names no \"from\" and \"into\"");
  REGULARS_ASSIGN_OR_RETURN(auto merged,
                            TextByKey("SELECT into_id FROM merges WHERE from_id = ?1", *from));
  if (merged) return Status::Ok();
  for (const auto& id : {*from, *into}) {
    REGULARS_TRY(AddForeignCustomer(id, e.at_ms, e.key.store_id, id == *from));
  }
  REGULARS_TRY(Merge(*from, *into, e.at_ms));
  touched.insert(*into);
  return Status::Ok();
}

Result<int64_t> Ledger::AppendForeign(const std::vector<ForeignEvent>& events) {
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
      REGULARS_ASSIGN_OR_RETURN(erased, IsErased(*e.customer_id));
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
    REGULARS_ASSIGN_OR_RETURN(auto root, RootOf(*e.customer_id));
    if (visit) REGULARS_TRY(InsertVisit(e.key, root, e.at_ms, *visit));
    if (!counts->empty()) touched.insert(root);
  }
  // Counters are a function of the set of events in canonical order: replay each once.
  for (const auto& customer : touched) {
    REGULARS_ASSIGN_OR_RETURN(auto root, RootOf(customer));
    REGULARS_ASSIGN_OR_RETURN(auto replayed, Replay(root));
    for (const auto& [rule, counter] : replayed) REGULARS_TRY(StoreCounter(root, rule, counter));
  }
  return appended;
}

Result<bool> Ledger::IsErased(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto found,
      TextByKey("SELECT customer_id FROM erasures WHERE customer_id = ?1", customer_id));
  return found.has_value();
}

Status Ledger::SetFirstName(const std::string& customer_id, const std::string& first_name) {
  REGULARS_ASSIGN_OR_RETURN(
      auto upsert,
      db_->Prepare("INSERT INTO profiles (customer_id, first_name) VALUES (?1, ?2) "
                   "ON CONFLICT (customer_id) DO UPDATE SET first_name = excluded.first_name"));
  return upsert->Bind(1, customer_id).Bind(2, first_name).Run();
}

Result<std::optional<std::string>> Ledger::FirstName(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(auto select,
                            db_->Prepare("SELECT first_name FROM profiles WHERE customer_id = ?1"));
  select->Bind(1, customer_id);
  REGULARS_ASSIGN_OR_RETURN(auto row, select->Step());
  std::optional<std::string> name;
  if (row) name = select->Text(0);
  select->Reset();
  return name;
}

Result<int64_t> Ledger::Erase(const std::string& customer_id, int64_t at_ms,
                              const std::string& requested_by) {
  // The customer and every profile merged into them.
  REGULARS_ASSIGN_OR_RETURN(auto root, RootOf(customer_id));
  std::vector<std::string> family{root};
  if (root != customer_id) family.push_back(customer_id);
  REGULARS_ASSIGN_OR_RETURN(auto merged,
                            db_->Prepare("SELECT from_id FROM merges WHERE into_id = ?1"));
  merged->Bind(1, root);
  REGULARS_ASSIGN_OR_RETURN(auto from, FirstColumn(*merged));
  family.insert(family.end(), from.begin(), from.end());

  int64_t redacted = 0;
  for (const auto& id : family) {
    REGULARS_ASSIGN_OR_RETURN(
        auto mark,
        db_->Prepare("INSERT INTO erasures (customer_id, at_ms, requested_by) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT DO NOTHING"));
    REGULARS_TRY(mark->Bind(1, id).Bind(2, at_ms).Bind(3, requested_by).Run());
    for (const char* sql : {"DELETE FROM identifiers WHERE customer_id = ?1",
                            "DELETE FROM consents WHERE customer_id = ?1",
                            "DELETE FROM profiles WHERE customer_id = ?1"}) {
      REGULARS_ASSIGN_OR_RETURN(auto del, db_->Prepare(sql));
      REGULARS_TRY(del->Bind(1, id).Run());
    }
    // Their events that say who they are: enrolments and links.
    REGULARS_ASSIGN_OR_RETURN(
        auto select,
        db_->Prepare("SELECT store_id, till_id, seq, body FROM events WHERE customer_id = ?1 AND "
                     "kind IN ('enroll', 'link')"));
    select->Bind(1, id);
    std::vector<std::pair<EventKey, std::string>> bodies;
    for (;;) {
      REGULARS_ASSIGN_OR_RETURN(auto row, select->Step());
      if (!row) break;
      const Statement& r = *select;
      bodies.push_back({{r.Text(0), r.Text(1), r.Int(2)}, r.Text(3)});
    }
    select->Reset();
    for (auto& [key, text] : bodies) {
      auto body = ParseJson(text, "database_unreadable", "event " + key.ToString());
      if (!body.ok()) return body.error();
      if (!RedactIdentity(*body)) continue;
      REGULARS_ASSIGN_OR_RETURN(
          auto update,
          db_->Prepare(
              "UPDATE events SET body = ?4 WHERE store_id = ?1 AND till_id = ?2 AND seq = ?3"));
      REGULARS_TRY((update)
                       ->Bind(1, key.store_id)
                       .Bind(2, key.till_id)
                       .Bind(3, key.seq)
                       .Bind(4, body->dump(-1, ' ', false, Json::error_handler_t::replace))
                       .Run());
      ++redacted;
    }
  }
  return redacted;
}

Status Ledger::InsertVisit(const EventKey& key, const std::string& customer_id, int64_t at_ms,
                           const VisitDelta& v) {
  REGULARS_ASSIGN_OR_RETURN(
      auto visit,
      db_->Prepare(
          "INSERT INTO visits (store_id, till_id, seq, customer_id, at_ms, day, visits, spend, "
          "discount, goodwill, skus) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  return (visit)
      ->Bind(1, key.store_id)
      .Bind(2, key.till_id)
      .Bind(3, key.seq)
      .Bind(4, customer_id)
      .Bind(5, v.at_ms.value_or(at_ms))
      .Bind(6, v.day)
      .Bind(7, v.visits)
      .Bind(8, v.spend)
      .Bind(9, v.discount)
      .Bind(10, v.goodwill)
      .Bind(11, SkusText(v.skus))
      .Run();
}

Status Ledger::StoreCounter(const std::string& customer_id, const std::string& rule,
                            const Counter& c) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO counters (customer_id, rule_id, units, rewards, progress, over_granted) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (customer_id, rule_id) DO UPDATE SET "
          "units = excluded.units, rewards = excluded.rewards, progress = excluded.progress, "
          "over_granted = excluded.over_granted"));
  return (stmt)
      ->Bind(1, customer_id)
      .Bind(2, rule)
      .Bind(3, c.units)
      .Bind(4, c.rewards)
      .Bind(5, c.progress)
      .Bind(6, c.over_granted)
      .Run();
}

Status Ledger::RecordTransaction(const std::string& pos_txn_id, const StoredTransaction& txn) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO transactions (pos_txn_id, kind, request_digest, response, customer_id, "
          "event_store, event_till, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  Statement& s = *stmt;
  s.Bind(1, pos_txn_id).Bind(2, txn.kind).Bind(3, txn.request_digest).Bind(4, txn.response);
  txn.customer_id ? s.Bind(5, *txn.customer_id) : s.BindNull(5);
  s.Bind(6, txn.event.store_id).Bind(7, txn.event.till_id).Bind(8, txn.event.seq);
  return s.Run();
}

Status Ledger::RecordVoid(const std::string& pos_txn_id, const std::string& response,
                          const EventKey& event) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO voids (pos_txn_id, response, event_store, event_till, event_seq) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)"));
  return (stmt)
      ->Bind(1, pos_txn_id)
      .Bind(2, response)
      .Bind(3, event.store_id)
      .Bind(4, event.till_id)
      .Bind(5, event.seq)
      .Run();
}

Result<std::map<std::string, Counter>> Ledger::Replay(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT body FROM events WHERE customer_id = ?1 OR customer_id IN "
                              "(SELECT from_id FROM merges WHERE into_id = ?1) ORDER BY at_ms, "
                              "store_id, till_id, seq"));
  stmt->Bind(1, customer_id);
  REGULARS_ASSIGN_OR_RETURN(auto bodies, FirstColumn(*stmt));
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

Result<VerifyReport> Ledger::Verify() {
  // One snapshot: a commit by another process meanwhile must not look like a mismatch.
  ReadTransaction snapshot(*db_);
  REGULARS_TRY(snapshot.Begin());
  VerifyReport report;
  auto events = db_->QueryInt("SELECT count(*) FROM events");
  if (!events.ok()) return events.error();
  report.events = *events;

  // Every customer that has either events or counters.
  std::set<std::string> customers;
  // A merged profile's events are its customer's.
  for (const char* sql : {"SELECT DISTINCT COALESCE(m.into_id, e.customer_id) FROM events e "
                          "LEFT JOIN merges m ON m.from_id = e.customer_id "
                          "WHERE e.customer_id IS NOT NULL",
                          "SELECT DISTINCT customer_id FROM counters"}) {
    REGULARS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
    for (;;) {
      REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
      if (!row) break;
      customers.insert(stmt->Text(0));
    }
    stmt->Reset();
  }
  for (const auto& customer : customers) {
    REGULARS_ASSIGN_OR_RETURN(auto stored, CountersOf(customer));
    REGULARS_ASSIGN_OR_RETURN(auto recomputed, Replay(customer));
    report.counters += static_cast<int64_t>(stored.size());
    std::set<std::string> rules;
    for (const auto& [rule, c] : stored) rules.insert(rule);
    for (const auto& [rule, c] : recomputed) rules.insert(rule);
    for (const auto& rule : rules) {
      Counter s = stored.count(rule) ? stored.at(rule) : Counter{};
      Counter r = recomputed.count(rule) ? recomputed.at(rule) : Counter{};
      if (!(s == r)) report.mismatches.push_back({customer, rule, s, r});
    }
  }

  REGULARS_TRY(VerifyVisits(report));

  // Every goodwill gesture of a sale here has its grant in the audit chain, and every
  // grant its sale: the chain alone cannot show its last entries removed.
  REGULARS_ASSIGN_OR_RETURN(auto audited, AuditedTransactions(*db_));
  REGULARS_ASSIGN_OR_RETURN(
      auto gestures,
      db_->Prepare("SELECT pos_txn_id FROM events WHERE kind = 'sale' AND store_id = ?1 AND "
                   "till_id = ?2 AND "
                   "json_extract(body, '$.goodwill.amount') > 0 ORDER BY pos_txn_id"));
  gestures->Bind(1, store_id_).Bind(2, till_id_);
  REGULARS_ASSIGN_OR_RETURN(auto granted, FirstColumn(*gestures));
  std::vector<std::string> missing, orphaned;
  std::set_difference(granted.begin(), granted.end(), audited.begin(), audited.end(),
                      std::back_inserter(missing));
  std::set_difference(audited.begin(), audited.end(), granted.begin(), granted.end(),
                      std::back_inserter(orphaned));
  for (const auto& txn : missing) {
    report.problems.push_back("the goodwill gesture of sale " + txn +
                              " has no entry in the audit chain (removed?)");
  }
  for (const auto& txn : orphaned) {
    report.problems.push_back("the audit chain grants goodwill on " + txn +
                              ", which no sale here holds");
  }

  // Every answered transaction has its event at this till.
  REGULARS_ASSIGN_OR_RETURN(
      auto orphans,
      db_->QueryInt(
          "SELECT count(*) FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
          "e.store_id = t.event_store AND e.till_id = t.event_till AND e.seq = t.event_seq AND "
          "e.pos_txn_id = t.pos_txn_id)"));
  if (orphans > 0) {
    report.problems.push_back(std::to_string(orphans) + " transaction(s) have no event");
  }
  REGULARS_ASSIGN_OR_RETURN(auto integrity, db_->Prepare("PRAGMA quick_check"));
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, integrity->Step());
    if (!row) break;
    std::string line = integrity->Text(0);
    if (line != "ok") report.problems.push_back("sqlite quick_check: " + line);
  }
  integrity->Reset();
  return report;
}

Status Ledger::VerifyVisits(VerifyReport& report) {
  int64_t found = 0;
  auto problem = [&](std::string text) {
    if (++found <= kMaxListedVisitProblems) report.problems.push_back(std::move(text));
  };

  // One pass over the events that have a visit, each beside its row if any.
  auto events = db_->Prepare(
      std::string("SELECT e.store_id, e.till_id, e.seq, e.at_ms, e.customer_id, "
                  "json_extract(e.body, '$.visit'), v.seq IS NOT NULL, v.customer_id, v.at_ms, "
                  "v.day, v.visits, v.spend, v.discount, v.goodwill, v.skus FROM events e "
                  "LEFT JOIN visits v ON v.store_id = e.store_id AND v.till_id = e.till_id AND "
                  "v.seq = e.seq WHERE ") +
      kEventHasVisit);
  if (!events.ok()) return events.error();
  Statement& s = **events;
  int64_t rows_with_event = 0;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    auto event = [&s] { return EventKey{s.Text(0), s.Text(1), s.Int(2)}.ToString(); };
    bool has_customer = !s.IsNull(4);
    bool has_row = s.Int(6) != 0;
    if (has_row) ++rows_with_event;
    if (!has_customer) {
      // Only a customer's visits are kept.
      if (has_row) problem("visit row of event " + event() + " belongs to no customer's event");
      continue;
    }
    if (!has_row) {
      problem("event " + event() + " has no visit row");
      continue;
    }
    auto json = ParseJson(s.Text(5), "database_unreadable", "the visit of an event");
    Result<VisitDelta> expected =
        json.ok() ? VisitFromJson(*json) : Result<VisitDelta>(json.error());
    if (!expected.ok()) {
      problem("event " + event() + " has a malformed visit: " + expected.error().message);
      continue;
    }
    // The row carries the event's customer (the root when it was appended), not today's root.
    bool same = s.Text(7) == s.Text(4) && s.Int(8) == expected->at_ms.value_or(s.Int(3)) &&
                s.Text(9) == expected->day && s.Int(10) == expected->visits &&
                s.Int(11) == expected->spend && s.Int(12) == expected->discount &&
                s.Int(13) == expected->goodwill && s.Text(14) == SkusText(expected->skus);
    if (!same) problem("visit row of event " + event() + " differs from its event");
  }
  s.Reset();

  // Rows the pass above did not meet have no event with a visit. Counting them first
  // spares a second join over a sound ledger.
  REGULARS_ASSIGN_OR_RETURN(auto rows, db_->QueryInt("SELECT count(*) FROM visits"));
  if (rows > rows_with_event) {
    REGULARS_ASSIGN_OR_RETURN(
        auto orphans,
        db_->Prepare(
            std::string(
                "SELECT v.store_id, v.till_id, v.seq, e.seq IS NULL FROM visits v "
                "LEFT JOIN events e ON e.store_id = v.store_id AND e.till_id = v.till_id AND "
                "e.seq = v.seq WHERE e.seq IS NULL OR NOT ") +
            kEventHasVisit));
    Statement& o = *orphans;
    for (;;) {
      auto row = o.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      std::string event = EventKey{o.Text(0), o.Text(1), o.Int(2)}.ToString();
      problem(o.Int(3) != 0 ? "visit row of event " + event + " has no event"
                            : "visit row of event " + event + " has no visit in its event");
    }
    o.Reset();
  }
  if (found > kMaxListedVisitProblems) {
    report.problems.push_back(std::to_string(found - kMaxListedVisitProblems) +
                              " more visit problem(s), not listed");
  }
  return Status::Ok();
}

}  // namespace regulars
