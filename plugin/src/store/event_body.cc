#include "store/event_body.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace regulars {
namespace {

Error MalformedVisit(const std::string& what) {
  return Error::BadInput("database_unreadable", "a visit is malformed: " + what);
}

}  // namespace

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

std::string SkusText(const std::vector<std::string>& skus) { return ToText(OrderedJson(skus)); }

OrderedJson VisitJson(const VisitDelta& v) {
  OrderedJson json{{"day", v.day},           {"visits", v.visits},     {"spend", v.spend},
                   {"discount", v.discount}, {"goodwill", v.goodwill}, {"skus", v.skus}};
  if (v.at_ms) json["at_ms"] = *v.at_ms;
  return json;
}

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

}  // namespace regulars
