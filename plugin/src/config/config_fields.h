// Helpers every section of the config loader shares: the error code, ids, texts and
// the refusal of unknown fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json/json_input.h"
#include "result.h"
#include "rewards/rule.h"

namespace regulars::config_fields {

inline constexpr const char* kCode = "invalid_config";

// Amounts in a config: far above any price, far below overflow in any sum of a day.
inline constexpr int64_t kMaxMoney = 1'000'000'000'000;

// Letters, digits, '-', '_' and '.': what store, till and rule ids are made of.
bool IsIdChar(char c);

// {"fr": ..., "en": ...} under `key`, each at most 200 bytes.
Result<LocalText> ParseText(const FieldReader& parent, std::string_view key);

// Fails on a field the object does not define, naming it and the known field it
// resembles ("did you mean /goodwill?"), or else every known one.
Status RequireKnownKeys(const FieldReader& r, const std::vector<std::string>& known,
                        const std::string& what);

// The "rules" and "caps" of the object `r` reads, checked (ids and tier ranks unique), with
// their digest and their canonical JSON (RuleSet::kept); the version is the caller's.
Result<RuleSet> ParseRulesAndCaps(const FieldReader& r);

}  // namespace regulars::config_fields
