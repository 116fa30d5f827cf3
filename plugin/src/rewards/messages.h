// The sentences on receipts and the cashier panel, in French and English, from one
// catalogue. A config may override any sentence; a rule's own text overrides its discount
// sentence (docs/rules.md lists every key and its placeholders).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.h"
#include "result.h"
#include "rewards/rule.h"

namespace regulars {

// A placeholder's value: the same in both languages ("3"), or one per language ("5e"/"5th").
struct MessageArg {
  MessageArg(std::string n, const std::string& v) : name(std::move(n)), value{v, v} {}
  MessageArg(std::string n, LocalText v) : name(std::move(n)), value(std::move(v)) {}
  std::string name;
  LocalText value;
};
using MessageArgs = std::vector<MessageArg>;

class MessageCatalogue {
 public:
  MessageCatalogue() = default;
  explicit MessageCatalogue(std::map<std::string, LocalText> overrides)
      : overrides_(std::move(overrides)) {}

  // The sentence `key` with each {name} replaced by its argument.
  LocalText Format(std::string_view key, const MessageArgs& args) const;

  // Checks an override: the key exists and its templates use only that key's
  // placeholders. The error message says which.
  static Status CheckOverride(const std::string& key, const LocalText& text);
  // Every key with its default sentence and placeholders, for docs and tests.
  static std::vector<std::string> Keys();

 private:
  std::map<std::string, LocalText> overrides_;
};

// "5e" / "5th".
LocalText OrdinalText(int64_t n);
// "5,00 €" / "€5.00", as the panel writes money in French and English.
LocalText MoneyText(int64_t minor, const Currency& currency);

}  // namespace regulars
