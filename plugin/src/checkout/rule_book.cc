#include "checkout/rule_book.h"

#include <algorithm>

#include "domain/money.h"

namespace regulars {
namespace {

constexpr size_t kKeptRuleBooks = 3;

LocalText DiscountText(const Rule& rule, const MessageCatalogue& messages,
                       const Currency& currency) {
  if (!rule.text.empty()) return rule.text;
  switch (rule.kind) {
    case RuleKind::kNthUnit: {
      MessageArgs args{{"nth", OrdinalText(rule.every)},
                       {"unit", rule.unit_name},
                       {"every", std::to_string(rule.every)}};
      if (rule.reward.IsFree()) return messages.Format("nth_unit.discount.free", args);
      if (rule.reward.percent) {
        args.push_back({"percent", std::to_string(*rule.reward.percent)});
        return messages.Format("nth_unit.discount.percent", args);
      }
      args.push_back({"amount", MoneyText(rule.reward.amount.value_or(0), currency)});
      return messages.Format("nth_unit.discount.amount", args);
    }
    case RuleKind::kMilestone:
      return messages.Format("milestone.discount", {{"amount", MoneyText(rule.amount, currency)},
                                                    {"step", MoneyText(rule.every, currency)}});
    case RuleKind::kTier:
      return messages.Format(
          "tier.discount",
          {{"tier", rule.tier.name}, {"percent", std::to_string(rule.tier.percent.value_or(0))}});
  }
  return {};
}

// Why a reloaded config cannot replace the one in force, if it cannot.
std::optional<Error> RefusedReload(const Config& next, const Config& now, const std::string& path) {
  if (next.till.store_id != now.till.store_id || next.till.till_id != now.till.till_id ||
      next.till.currency.code != now.till.currency.code) {
    return Error::BadInput("invalid_config",
                           "store, till and currency cannot change while the till is open", path);
  }
  if (next.rules.version == now.rules.version && next.rules.digest != now.rules.digest) {
    // A basket shown one set and committed under its version must get that same set.
    return Error::BadInput("invalid_config",
                           "the rules changed but rules_version is still " + next.rules.version +
                               ": give changed rules a new version",
                           path + "#/rules_version");
  }
  return std::nullopt;
}

}  // namespace

RuleBook::RuleBook(Config c)
    : config(std::move(c)), index(config.rules.rules), messages(config.messages) {
  // Sentences are the same for every basket: written once per rule set.
  discount_texts.reserve(config.rules.rules.size());
  for (const Rule& rule : config.rules.rules) {
    discount_texts.push_back(DiscountText(rule, messages, config.till.currency));
  }
}

RuleBooks::RuleBooks(Config config)
    : current_(std::make_shared<const RuleBook>(std::move(config))) {}

Result<RuleBooks> RuleBooks::Load(const std::string& path, Env* env) {
  // Stamped before reading: a file changed while it is read is read again next time.
  FileStamp stamp = env->StampOf(path);
  REGULARS_ASSIGN_OR_RETURN(auto config, LoadConfigFile(path, env));
  RuleBooks books(std::move(config));
  books.env_ = env;
  books.config_path_ = path;
  books.config_stamp_ = stamp;
  return books;
}

Status RuleBooks::KeepIn(RuleSets& kept, Env* env) {
  kept_ = &kept;
  env_ = env;
  return KeepCurrent();
}

void RuleBooks::Refresh() {
  Reload();
  // A busy ledger leaves the set unkept for now: the call goes on with the rules in force.
  if (unkept_) (void)KeepCurrent();
}

void RuleBooks::Reload() {
  if (config_path_.empty()) return;
  FileStamp stamp = env_->StampOf(config_path_);
  if (stamp == config_stamp_) return;
  config_stamp_ = stamp;
  auto config = LoadConfigFile(config_path_, env_);
  reload_error_ = config.ok() ? RefusedReload(*config, current_->config, config_path_)
                              : std::optional<Error>(config.error());
  if (reload_error_) {
    if (!refused_since_ms_) refused_since_ms_ = env_->NowMs();
    return;
  }
  refused_since_ms_.reset();
  if (config->rules.version != current_->config.rules.version) Remember(current_);
  current_ = std::make_shared<const RuleBook>(std::move(config).value());
  unkept_ = kept_ != nullptr;
}

Status RuleBooks::KeepCurrent() {
  const RuleSet& rules = current_->config.rules;
  Status kept = kept_->Keep({rules.version, rules.digest, rules.kept}, env_->NowMs());
  unkept_ = !kept.ok();
  return kept;
}

void RuleBooks::Remember(std::shared_ptr<const RuleBook> book) {
  const std::string& version = book->config.rules.version;
  std::erase_if(previous_, [&](const auto& b) { return b->config.rules.version == version; });
  previous_.insert(previous_.begin(), std::move(book));
  if (previous_.size() > kKeptRuleBooks) previous_.resize(kKeptRuleBooks);
}

Result<std::shared_ptr<const RuleBook>> RuleBooks::For(const std::string& rules_version) {
  if (rules_version.empty() || rules_version == current_->config.rules.version) return current_;
  for (const auto& book : previous_) {
    if (book->config.rules.version == rules_version) return book;
  }
  if (!kept_) return current_;
  // Another process, or this till before a restart, may have shown the basket these rules.
  REGULARS_ASSIGN_OR_RETURN(auto kept, kept_->Find(rules_version));
  if (!kept) return current_;
  auto rules = ParseKeptRuleSet(kept->rules, kept->version, "rule set " + kept->version);
  if (!rules.ok()) return current_;  // not readable here: priced as no longer kept
  // The kept set brings its rules and caps; the rest of the config is the one in force.
  Config config = current_->config;
  config.rules = std::move(rules).value();
  auto book = std::make_shared<const RuleBook>(std::move(config));
  Remember(book);
  return book;
}

}  // namespace regulars
