// The rule sets this till has put in force, kept in its ledger by version (`rule_sets`,
// schema v6): a basket shown under one is committed under the same in any process on the
// ledger, after a restart too (docs/rules.md, "Changing rules").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

// One rule set as kept: its version, its digest and its rules and caps as canonical JSON
// ({"rules": [...], "caps": {...}}); the config reads it back.
struct KeptRuleSet {
  std::string version;
  std::string digest;
  std::string rules;
  bool operator==(const KeptRuleSet&) const = default;
};

class RuleSets {
 public:
  // How many rule sets the ledger keeps: the newest put in force, whichever till put them.
  static constexpr int64_t kKept = 8;

  explicit RuleSets(Database& db) : db_(db) {}

  Result<std::optional<KeptRuleSet>> Find(const std::string& version);
  // Records `set` as the newest put in force (replacing a set kept under its version) and
  // forgets all but the newest kKept. Writes nothing when it is the newest already. Its own
  // transaction, or the caller's.
  Status Keep(const KeptRuleSet& set, int64_t at_ms);

 private:
  Status Write(const KeptRuleSet& set, int64_t at_ms);

  Database& db_;
};

}  // namespace regulars
