#include "store/verify.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <vector>

#include "store/audit_chain.h"
#include "store/event_body.h"

namespace regulars {
namespace {

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

Result<VerifyReport> Verifier::Run() {
  // One snapshot: a commit by another process meanwhile must not look like a mismatch.
  ReadTransaction snapshot(db_);
  REGULARS_TRY(snapshot.Begin());
  VerifyReport report;
  auto events = db_.QueryInt("SELECT count(*) FROM events");
  if (!events.ok()) return events.error();
  report.events = *events;
  REGULARS_TRY(CheckCounters(report));
  REGULARS_TRY(CheckVisits(report));
  REGULARS_TRY(CheckGoodwill(report));
  REGULARS_TRY(CheckTransactionsAndFile(report));
  return report;
}

Status Verifier::CheckCounters(VerifyReport& report) {
  // Every customer that has either events or counters.
  std::set<std::string> customers;
  // A merged profile's events are its customer's.
  for (const char* sql : {"SELECT DISTINCT COALESCE(m.into_id, e.customer_id) FROM events e "
                          "LEFT JOIN merges m ON m.from_id = e.customer_id "
                          "WHERE e.customer_id IS NOT NULL",
                          "SELECT DISTINCT customer_id FROM counters"}) {
    REGULARS_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    REGULARS_ASSIGN_OR_RETURN(auto ids, stmt->FirstColumn());
    customers.insert(ids.begin(), ids.end());
  }
  for (const auto& customer : customers) {
    REGULARS_ASSIGN_OR_RETURN(auto stored, counters_.Of(customer));
    REGULARS_ASSIGN_OR_RETURN(auto recomputed, events_.Replay(customer));
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
  return Status::Ok();
}

Status Verifier::CheckGoodwill(VerifyReport& report) {
  // Every goodwill gesture of a sale here has its grant in the audit chain, and every
  // grant its sale: the chain alone cannot show its last entries removed.
  REGULARS_ASSIGN_OR_RETURN(auto audited, AuditedTransactions(db_));
  REGULARS_ASSIGN_OR_RETURN(
      auto gestures,
      db_.Prepare("SELECT pos_txn_id FROM events WHERE kind = 'sale' AND store_id = ?1 AND "
                  "till_id = ?2 AND "
                  "json_extract(body, '$.goodwill.amount') > 0 ORDER BY pos_txn_id"));
  gestures->Bind(1, store_id_).Bind(2, till_id_);
  REGULARS_ASSIGN_OR_RETURN(auto granted, gestures->FirstColumn());
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
  return Status::Ok();
}

Status Verifier::CheckTransactionsAndFile(VerifyReport& report) {
  // Every answered transaction has its event at this till.
  REGULARS_ASSIGN_OR_RETURN(
      auto orphans,
      db_.QueryInt(
          "SELECT count(*) FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
          "e.store_id = t.event_store AND e.till_id = t.event_till AND e.seq = t.event_seq AND "
          "e.pos_txn_id = t.pos_txn_id)"));
  if (orphans > 0) {
    report.problems.push_back(std::to_string(orphans) + " transaction(s) have no event");
  }
  REGULARS_ASSIGN_OR_RETURN(auto integrity, db_.Prepare("PRAGMA quick_check"));
  REGULARS_ASSIGN_OR_RETURN(auto lines, integrity->FirstColumn());
  for (const auto& line : lines) {
    if (line != "ok") report.problems.push_back("sqlite quick_check: " + line);
  }
  return Status::Ok();
}

Status Verifier::CheckVisits(VerifyReport& report) {
  int64_t found = 0;
  auto problem = [&](std::string text) {
    if (++found <= kMaxListedVisitProblems) report.problems.push_back(std::move(text));
  };

  // One pass over the events that have a visit, each beside its row if any.
  auto events = db_.Prepare(
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
  REGULARS_ASSIGN_OR_RETURN(auto rows, db_.QueryInt("SELECT count(*) FROM visits"));
  if (rows > rows_with_event) {
    REGULARS_ASSIGN_OR_RETURN(
        auto orphans,
        db_.Prepare(
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
