#include "store/counters.h"

namespace regulars {

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

Result<std::map<std::string, Counter>> Counters::Of(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare("SELECT rule_id, units, rewards, progress, over_granted FROM counters "
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

Status Counters::Store(const std::string& customer_id,
                       const std::map<std::string, Counter>& counters) {
  REGULARS_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare(
          "INSERT INTO counters (customer_id, rule_id, units, rewards, progress, over_granted) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (customer_id, rule_id) DO UPDATE SET "
          "units = excluded.units, rewards = excluded.rewards, progress = excluded.progress, "
          "over_granted = excluded.over_granted"));
  for (const auto& [rule, c] : counters) {
    REGULARS_TRY((stmt)
                     ->Bind(1, customer_id)
                     .Bind(2, rule)
                     .Bind(3, c.units)
                     .Bind(4, c.rewards)
                     .Bind(5, c.progress)
                     .Bind(6, c.over_granted)
                     .Run());
  }
  return Status::Ok();
}

Status Counters::Drop(const std::string& customer_id) {
  REGULARS_ASSIGN_OR_RETURN(auto drop, db_.Prepare("DELETE FROM counters WHERE customer_id = ?1"));
  return drop->Bind(1, customer_id).Run();
}

}  // namespace regulars
