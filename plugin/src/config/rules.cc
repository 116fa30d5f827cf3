// The rules section of the config: Contract v1's rule form and its kinds, the caps, and
// the rule set they make together.
#include <limits>
#include <set>

#include "config/config.h"
#include "config/config_fields.h"
#include "domain/hex.h"
#include "domain/timestamp.h"

namespace regulars {
namespace {

using config_fields::IsIdChar;
using config_fields::kCode;
using config_fields::kMaxMoney;
using config_fields::ParseText;
using config_fields::RequireKnownKeys;

Result<UnitReward> ParseReward(const FieldReader& parent) {
  if (!parent.Has("reward")) return parent.Fail("reward", "reward is required");
  FieldReader r(parent.Get("reward"), parent.PointerTo("reward"), kCode);
  REGULARS_TRY(r.RequireObject("reward"));
  REGULARS_TRY(RequireKnownKeys(r, {"percent", "amount", "free"}, "reward"));
  int given = (r.Has("percent") ? 1 : 0) + (r.Has("amount") ? 1 : 0) + (r.Has("free") ? 1 : 0);
  if (given != 1) {
    return Error::BadInput(kCode, "reward has exactly one of percent, amount or free", r.pointer());
  }
  UnitReward reward;
  if (r.Has("free")) {
    if (r.Get("free") != true) return r.Fail("free", "free must be true when given");
    reward.percent = 100;
  } else if (r.Has("percent")) {
    REGULARS_ASSIGN_OR_RETURN(auto p, r.Integer("percent", 1, 100));
    reward.percent = p;
  } else {
    REGULARS_ASSIGN_OR_RETURN(auto a, r.Integer("amount", 1, std::numeric_limits<int64_t>::max()));
    reward.amount = a;
  }
  return reward;
}

// {"skus": [...], "brands": [...], "categories": [...], "exclude": {same three}}.
Result<Match> ParseMatch(const FieldReader& parent) {
  FieldReader m(parent.Get("match"), parent.PointerTo("match"), kCode);
  REGULARS_TRY(m.RequireObject("match"));
  REGULARS_TRY(RequireKnownKeys(m, {"skus", "brands", "categories", "exclude"}, "match"));
  Match match;
  for (auto [key, field] : {std::pair{"skus", &match.skus}, std::pair{"brands", &match.brands},
                            std::pair{"categories", &match.categories}}) {
    REGULARS_ASSIGN_OR_RETURN(auto list, m.OptionalStrings(key));
    *field = std::move(list);
  }
  if (m.Has("exclude")) {
    FieldReader x(m.Get("exclude"), m.PointerTo("exclude"), kCode);
    REGULARS_TRY(x.RequireObject("exclude"));
    REGULARS_TRY(RequireKnownKeys(x, {"skus", "brands", "categories"}, "exclude"));
    for (auto [key, field] :
         {std::pair{"skus", &match.exclude_skus}, std::pair{"brands", &match.exclude_brands},
          std::pair{"categories", &match.exclude_categories}}) {
      REGULARS_ASSIGN_OR_RETURN(auto list, x.OptionalStrings(key));
      *field = std::move(list);
    }
  }
  return match;
}

// "rank": 2, "name": {"fr": "Or", "en": "Gold"},
// "reach": {"purchases": 10, "spend": 50000, "window_days": 365}, "grace_days": 30,
// "benefits": {"percent": 5, "services": ["free_delivery"]}.
Result<TierTerms> ParseTier(const FieldReader& r) {
  TierTerms tier;
  REGULARS_ASSIGN_OR_RETURN(auto rank, r.Integer("rank", 1, 1000));
  tier.rank = rank;
  if (!r.Has("name")) return r.Fail("name", "a tier has a name: {\"fr\": ..., \"en\": ...}");
  REGULARS_ASSIGN_OR_RETURN(auto name, ParseText(r, "name"));
  tier.name = name;
  if (!r.Has("reach")) return r.Fail("reach", "reach is required: purchases and/or spend");
  FieldReader reach(r.Get("reach"), r.PointerTo("reach"), kCode);
  REGULARS_TRY(reach.RequireObject("reach"));
  REGULARS_TRY(RequireKnownKeys(reach, {"purchases", "spend", "window_days"}, "reach"));
  auto purchases = reach.OptionalInteger("purchases", 1, 100000);
  if (!purchases.ok()) return purchases.error();
  tier.purchases = *purchases;
  auto spend = reach.OptionalInteger("spend", 1, kMaxMoney);
  if (!spend.ok()) return spend.error();
  tier.spend = *spend;
  if (!tier.purchases && !tier.spend) {
    return Error::BadInput(kCode, "reach needs purchases, spend or both", reach.pointer());
  }
  REGULARS_ASSIGN_OR_RETURN(auto window, reach.OptionalInteger("window_days", 1, 3660));
  tier.window_days = window.value_or(365);
  REGULARS_ASSIGN_OR_RETURN(auto grace, r.OptionalInteger("grace_days", 0, 3660));
  tier.grace_days = grace.value_or(30);
  if (!r.Has("benefits"))
    return r.Fail("benefits", "benefits is required: percent and/or services");
  FieldReader b(r.Get("benefits"), r.PointerTo("benefits"), kCode);
  REGULARS_TRY(b.RequireObject("benefits"));
  REGULARS_TRY(RequireKnownKeys(b, {"percent", "services"}, "benefits"));
  auto percent = b.OptionalInteger("percent", 1, 100);
  if (!percent.ok()) return percent.error();
  tier.percent = *percent;
  auto services = b.OptionalStrings("services");
  if (!services.ok()) return services.error();
  tier.services = *services;
  if (!tier.percent && tier.services.empty()) {
    return Error::BadInput(kCode, "benefits needs a percent, services or both", b.pointer());
  }
  return tier;
}

// The fields of the rule's own kind: nth_unit's every and reward, milestone's step and
// amount, a tier's reach and benefits.
Status ParseKindFields(const FieldReader& r, Rule& rule) {
  switch (rule.kind) {
    case RuleKind::kNthUnit: {
      REGULARS_ASSIGN_OR_RETURN(auto every, r.Integer("every", 1, 1000000));
      rule.every = every;
      REGULARS_ASSIGN_OR_RETURN(auto reward, ParseReward(r));
      rule.reward = reward;
      rule.unit_name = {"article", "item"};
      if (r.Has("unit_name")) {
        REGULARS_ASSIGN_OR_RETURN(auto unit, ParseText(r, "unit_name"));
        rule.unit_name = unit;
      }
      if (r.Has("unit_plural")) {
        REGULARS_ASSIGN_OR_RETURN(auto plural, ParseText(r, "unit_plural"));
        rule.unit_plural = plural;
      }
      break;
    }
    case RuleKind::kMilestone: {
      auto step = r.Integer("step", 1, kMaxMoney);
      if (!step.ok()) return step.error();
      rule.every = *step;
      auto amount = r.Integer("amount", 1, kMaxMoney);
      if (!amount.ok()) return amount.error();
      if (*amount > *step) return r.Fail("amount", "amount must not exceed step");
      rule.amount = *amount;
      break;
    }
    case RuleKind::kTier: {
      REGULARS_ASSIGN_OR_RETURN(auto tier, ParseTier(r));
      rule.tier = std::move(tier);
      break;
    }
  }
  return Status::Ok();
}

// Its exclusivity group and the dates it is valid between.
Status ParseGroupAndDates(const FieldReader& r, Rule& rule) {
  REGULARS_ASSIGN_OR_RETURN(auto group, r.OptionalString("group", 64));
  rule.group = group.value_or("");
  for (auto [key, field] : {std::pair{"valid_from", &rule.valid_from_ms},
                            std::pair{"valid_until", &rule.valid_until_ms}}) {
    REGULARS_ASSIGN_OR_RETURN(auto text, r.OptionalString(key, 64));
    if (!text.has_value()) continue;
    auto ms = ParseTimestamp(*text);
    if (!ms.ok()) return r.Fail(key, ms.error().message);
    *field = *ms;
  }
  if (rule.valid_from_ms && rule.valid_until_ms && *rule.valid_until_ms <= *rule.valid_from_ms) {
    return r.Fail("valid_until", "valid_until must be after valid_from");
  }

  return Status::Ok();
}

// "caps": {"per_basket": 2000, "per_day": 5000}, per customer, minor units.
Result<Caps> ParseCaps(const FieldReader& parent) {
  Caps caps;
  if (!parent.Has("caps")) return caps;
  FieldReader c(parent.Get("caps"), parent.PointerTo("caps"), kCode);
  REGULARS_TRY(c.RequireObject("caps"));
  REGULARS_TRY(RequireKnownKeys(c, {"per_basket", "per_day"}, "caps"));
  REGULARS_ASSIGN_OR_RETURN(auto basket, c.OptionalInteger("per_basket", 0, kMaxMoney));
  REGULARS_ASSIGN_OR_RETURN(auto day, c.OptionalInteger("per_day", 0, kMaxMoney));
  caps.per_basket = basket;
  caps.per_day = day;
  return caps;
}

}  // namespace

Result<RuleSet> config_fields::ParseRulesAndCaps(const FieldReader& r) {
  RuleSet set;
  REGULARS_ASSIGN_OR_RETURN(const Json* rules, r.Array("rules"));
  std::set<std::string> ids;
  std::set<int64_t> ranks;
  for (size_t i = 0; i < rules->size(); ++i) {
    std::string pointer = JsonPointer(r.PointerTo("rules"), i);
    REGULARS_ASSIGN_OR_RETURN(auto rule, ParseRule((*rules)[i], pointer));
    if (!ids.insert(rule.id).second) {
      return Error::BadInput(kCode, "rule id '" + rule.id + "' is used twice",
                             JsonPointer(pointer, "id"));
    }
    set.rules.push_back(std::move(rule));
  }
  for (size_t i = 0; i < set.rules.size(); ++i) {
    const Rule& rule = set.rules[i];
    if (rule.kind == RuleKind::kTier && !ranks.insert(rule.tier.rank).second) {
      return Error::BadInput(kCode, "two tiers have rank " + std::to_string(rule.tier.rank),
                             JsonPointer(JsonPointer(r.PointerTo("rules"), i), "rank"));
    }
  }
  REGULARS_ASSIGN_OR_RETURN(auto caps, ParseCaps(r));
  set.caps = caps;
  Json kept{{"rules", *rules}};
  if (r.Has("caps")) kept["caps"] = r.Get("caps");
  // A digest of the rules as written, so two tills with the same rules agree on it.
  set.digest = "sha256:" + Sha256Hex((r.Has("caps") ? kept : *rules).dump()).substr(0, 12);
  set.kept = kept.dump();
  return set;
}

Result<RuleSet> ParseKeptRuleSet(std::string_view kept, const std::string& version,
                                 const std::string& source) {
  auto located = [&](Error e) {
    e.where = source + "#" + e.where;
    return e;
  };
  REGULARS_ASSIGN_OR_RETURN(auto json, ParseJson(kept, kCode, source));
  FieldReader r(json, "", kCode);
  if (auto s = r.RequireObject("a rule set"); !s.ok()) return located(s.error());
  if (auto s = RequireKnownKeys(r, {"rules", "caps"}, "a rule set"); !s.ok()) {
    return located(s.error());
  }
  auto set = config_fields::ParseRulesAndCaps(r);
  if (!set.ok()) return located(set.error());
  set->version = version;
  return set;
}

Result<Rule> ParseRule(const Json& json, const std::string& pointer) {
  FieldReader r(json, pointer, kCode);
  REGULARS_TRY(r.RequireObject("a rule"));
  Rule rule;
  auto id = r.String("id", 64);
  if (!id.ok()) return id.error();
  for (char c : *id) {
    if (!IsIdChar(c)) return r.Fail("id", "a rule id uses only letters, digits, '-', '_' and '.'");
  }
  rule.id = *id;
  auto kind = r.String("kind", 32);
  if (!kind.ok()) return kind.error();
  if (*kind == "nth_unit") {
    rule.kind = RuleKind::kNthUnit;
  } else if (*kind == "tier") {
    rule.kind = RuleKind::kTier;
  } else if (*kind == "milestone") {
    rule.kind = RuleKind::kMilestone;
  } else {
    return r.Fail("kind", "rule kind '" + *kind +
                              "' is not supported (supported: nth_unit, tier, milestone)");
  }
  // A misspelt field would otherwise be silently ignored and the rule behave otherwise.
  std::vector<std::string> known = {"id",   "kind",       "match",       "group",
                                    "text", "valid_from", "valid_until", "description"};
  auto add = [&](std::initializer_list<const char*> keys) {
    for (const char* key : keys) known.emplace_back(key);
  };
  if (rule.kind == RuleKind::kNthUnit)
    add({"every", "reward", "max_per_basket", "unit_name", "unit_plural"});
  if (rule.kind == RuleKind::kMilestone) add({"step", "amount", "max_per_basket"});
  if (rule.kind == RuleKind::kTier) add({"rank", "name", "reach", "grace_days", "benefits"});
  REGULARS_TRY(RequireKnownKeys(r, known, "a " + *kind + " rule"));

  if (r.Has("match")) {
    REGULARS_ASSIGN_OR_RETURN(auto match, ParseMatch(r));
    rule.match = std::move(match);
  } else if (rule.kind != RuleKind::kTier) {
    return r.Fail("match", "match is required");
  }
  if (rule.kind != RuleKind::kTier && rule.match.MatchesEverything()) {
    return Error::BadInput(kCode, "match lists at least one sku, brand or category",
                           r.PointerTo("match"));
  }
  REGULARS_TRY(ParseGroupAndDates(r, rule));
  REGULARS_TRY(ParseKindFields(r, rule));
  if (rule.kind != RuleKind::kTier) {
    REGULARS_ASSIGN_OR_RETURN(auto cap, r.OptionalInteger("max_per_basket", 1, 1000000));
    rule.max_per_basket = cap;
  }
  if (r.Has("text")) {
    REGULARS_ASSIGN_OR_RETURN(auto text, ParseText(r, "text"));
    rule.text = text;
  }
  return rule;
}

}  // namespace regulars
