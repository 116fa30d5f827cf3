// The rules a till prices with: the config and what is derived from it once, and the rule
// sets a till keeps (in its ledger) so that a basket shown under one is committed under the
// same.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "env/env.h"
#include "result.h"
#include "rewards/messages.h"
#include "rewards/rule_index.h"
#include "store/rule_sets.h"

namespace regulars {

// A config and what is derived from it once: the rule index and the message catalogue.
// Immutable, shared: a basket priced with one keeps it alive whatever is reloaded.
struct RuleBook {
  explicit RuleBook(Config c);
  Config config;
  RuleIndex index;
  MessageCatalogue messages;
  std::vector<LocalText> discount_texts;  // parallel to config.rules.rules
};

// The rule book in force and those before it (docs/rules.md, "Changing rules"): the last
// few in memory, the last RuleSets::kKept in the ledger, which every process on it shares.
// When opened on a file, Refresh() picks up a changed file: a bad one is refused whole,
// the rules in force stay, and reload_error() says why until it is fixed. Not
// thread-safe: the till serialises its calls.
class RuleBooks {
 public:
  // Rules that are never reloaded.
  explicit RuleBooks(Config config);
  // The rules of the config file at `path`, read through `env` and reloaded by Refresh()
  // when the file's stamp changes.
  static Result<RuleBooks> Load(const std::string& path, Env* env = Env::Default());

  // Keeps every rule set put in force from now on in `kept` (the ledger's, which must
  // outlive this), starting with the one in force; `env` gives the time they were kept.
  Status KeepIn(RuleSets& kept, Env* env);
  // Reloads the config file if it changed since it was last read, and keeps a new rule set
  // in the ledger (tried again on the next call if the ledger was busy).
  void Refresh();
  // The rule book a basket is priced with: the one it names if still kept, in memory or
  // in the ledger, else the current one. Fails only when the ledger cannot be read.
  Result<std::shared_ptr<const RuleBook>> For(const std::string& rules_version);
  const std::shared_ptr<const RuleBook>& current() const { return current_; }
  const std::optional<Error>& reload_error() const { return reload_error_; }
  // Since when (the Env's clock) the file on disk has been refused, while it is: the first
  // refusal's time, kept through later bad versions, cleared by a good one.
  std::optional<int64_t> refused_since_ms() const { return refused_since_ms_; }
  // The config file reloaded from; empty when the rules are never reloaded.
  const std::string& config_path() const { return config_path_; }

 private:
  void Reload();
  // Records the set in force in the ledger; unkept_ says whether that is still to do.
  Status KeepCurrent();
  // Puts `book` first among the previous ones in memory, a few kept.
  void Remember(std::shared_ptr<const RuleBook> book);

  std::shared_ptr<const RuleBook> current_;
  std::vector<std::shared_ptr<const RuleBook>> previous_;  // newest first, a few kept
  Env* env_ = nullptr;
  std::string config_path_;  // empty: no reloading
  FileStamp config_stamp_;   // what the file looked like when last read
  std::optional<Error> reload_error_;
  std::optional<int64_t> refused_since_ms_;
  RuleSets* kept_ = nullptr;  // none: versions are kept in memory only
  bool unkept_ = false;       // the set in force is not in the ledger yet
};

}  // namespace regulars
