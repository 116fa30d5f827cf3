#include "till/foreign_events.h"

#include <cstdint>

namespace regulars {

Error MalformedAnswer(const std::string& what) {
  return Error::BadInput("invalid_updates", "HQ's answer is malformed: " + what);
}

std::optional<int64_t> MemberInt(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  return AsInt64(*it);
}

std::optional<std::string> MemberText(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

namespace {

// One event of a pull page, checked.
Result<ForeignEvent> ReadForeign(const Json& e, size_t i) {
  std::string where = "events[" + std::to_string(i) + "]";
  if (!e.is_object()) return MalformedAnswer(where + " is not an object");
  ForeignEvent f;
  auto store = MemberText(e, "store_id");
  auto till = MemberText(e, "till_id");
  auto kind = MemberText(e, "kind");
  auto seq = MemberInt(e, "seq");
  auto at_ms = MemberInt(e, "at_ms");
  if (!store || !till || !kind || !seq || !at_ms || !e.contains("body") || !e["body"].is_object()) {
    return MalformedAnswer(where + " lacks store_id, till_id, seq, at_ms, kind or body");
  }
  f.key = {*store, *till, *seq};
  f.at_ms = *at_ms;
  f.kind = *kind;
  f.customer_id = MemberText(e, "customer_id");
  f.pos_txn_id = MemberText(e, "pos_txn_id");
  f.ref_pos_txn_id = MemberText(e, "ref_pos_txn_id");
  f.body = e["body"];
  return f;
}

}  // namespace

Result<std::vector<ForeignEvent>> ReadForeignEvents(const Json& events) {
  if (!events.is_array()) return MalformedAnswer("events is not an array");
  std::vector<ForeignEvent> read;
  for (size_t i = 0; i < events.size(); ++i) {
    REGULARS_ASSIGN_OR_RETURN(auto event, ReadForeign(events[i], i));
    read.push_back(std::move(event));
  }
  return read;
}

}  // namespace regulars
