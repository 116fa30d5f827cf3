#include "store/rule_sets.h"

namespace regulars {

Result<std::optional<KeptRuleSet>> RuleSets::Find(const std::string& version) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt,
                            db_.Prepare("SELECT digest, rules FROM rule_sets WHERE version = ?1"));
  stmt->Bind(1, version);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<KeptRuleSet> set;
  if (row) set = KeptRuleSet{version, stmt->Text(0), stmt->Text(1)};
  stmt->Reset();
  return set;
}

Status RuleSets::Keep(const KeptRuleSet& set, int64_t at_ms) {
  // Every open keeps the set in force: most find it kept already and write nothing.
  REGULARS_ASSIGN_OR_RETURN(
      auto newest,
      db_.Prepare("SELECT version, digest, rules FROM rule_sets ORDER BY kept_seq DESC LIMIT 1"));
  REGULARS_ASSIGN_OR_RETURN(auto row, newest->Step());
  bool kept = row && KeptRuleSet{newest->Text(0), newest->Text(1), newest->Text(2)} == set;
  newest->Reset();
  if (kept) return Status::Ok();
  if (db_.InTransaction()) return Write(set, at_ms);
  WriteTransaction txn(db_);
  REGULARS_TRY(txn.Begin());
  REGULARS_TRY(Write(set, at_ms));
  return txn.Commit();
}

Status RuleSets::Write(const KeptRuleSet& set, int64_t at_ms) {
  REGULARS_ASSIGN_OR_RETURN(
      auto upsert,
      db_.Prepare("INSERT INTO rule_sets (version, digest, rules, kept_seq, kept_at_ms) "
                  "VALUES (?1, ?2, ?3, (SELECT coalesce(max(kept_seq), 0) + 1 FROM rule_sets), "
                  "?4) ON CONFLICT (version) DO UPDATE SET digest = excluded.digest, "
                  "rules = excluded.rules, kept_seq = excluded.kept_seq, "
                  "kept_at_ms = excluded.kept_at_ms"));
  REGULARS_TRY(
      upsert->Bind(1, set.version).Bind(2, set.digest).Bind(3, set.rules).Bind(4, at_ms).Run());
  REGULARS_ASSIGN_OR_RETURN(
      auto prune, db_.Prepare("DELETE FROM rule_sets WHERE version NOT IN (SELECT version FROM "
                              "rule_sets ORDER BY kept_seq DESC LIMIT ?1)"));
  return prune->Bind(1, kKept).Run();
}

}  // namespace regulars
