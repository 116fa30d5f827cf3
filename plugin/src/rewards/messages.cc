#include "rewards/messages.h"

#include <array>

namespace regulars {
namespace {

struct Entry {
  const char* key;
  const char* fr;
  const char* en;
  const char* placeholders;  // space-separated, for checking overrides
};

// Short enough for a receipt line; thanks, never pressure.
constexpr std::array kCatalogue = {
    Entry{"nth_unit.discount.free", "{nth} {unit} offert, merci de votre fidélité",
          "{nth} {unit} free, thank you for coming back", "nth unit every"},
    Entry{"nth_unit.discount.percent", "{nth} {unit} : -{percent} %",
          "{nth} {unit}: {percent}% off", "nth unit every percent"},
    Entry{"nth_unit.discount.amount", "{nth} {unit} : -{amount}", "{nth} {unit}: {amount} off",
          "nth unit every amount"},
    Entry{"nth_unit.progress", "{have} {units} sur {need}", "{have} of {need} {units}",
          "have need unit units"},
    Entry{"nth_unit.progress.next_free", "{have} {units} sur {need} : le prochain est offert",
          "{have} of {need} {units}: the next one is on us", "have need unit units"},
    Entry{"nth_unit.progress.next_discounted", "{have} {units} sur {need} : le prochain est remisé",
          "{have} of {need} {units}: the next one is discounted", "have need unit units"},
    Entry{"nth_unit.progress.due_free", "le prochain {unit} est offert", "the next {unit} is on us",
          "have need unit units"},
    Entry{"nth_unit.progress.due_discounted", "le prochain {unit} est remisé",
          "the next {unit} is discounted", "have need unit units"},
    Entry{"milestone.discount", "{amount} offerts : {step} d'achats atteints, merci",
          "{amount} off: {step} spent with us, thank you", "amount step"},
    Entry{"milestone.progress", "{have} sur {need} d'achats : prochain palier {amount}",
          "{have} of {need} spent: next step {amount} off", "have need amount"},
    Entry{"tier.discount", "Avantage {tier} : -{percent} %", "{tier} benefit: {percent}% off",
          "tier percent"},
    Entry{"tier.held", "Client {tier}", "{tier} customer", "tier until"},
    Entry{"tier.grace", "{tier} jusqu'au {until}, le temps de revenir",
          "{tier} until {until}, no rush to come back", "tier until"},
    Entry{"tier.progress.visits", "{have} sur {need} visites pour {tier}",
          "{have} of {need} visits to {tier}", "have need left tier"},
    Entry{"tier.progress.spend", "{have} sur {need} d'achats pour {tier}",
          "{have} of {need} spent to {tier}", "have need left tier"},
    Entry{"suggestion.reward_next", "Le prochain {unit} est offert", "The next {unit} is on us",
          "unit rule"},
    Entry{"suggestion.reward_next_discounted", "Le prochain {unit} est remisé",
          "The next {unit} is discounted", "unit rule"},
    Entry{"suggestion.reward_near", "Encore {buy} {unit}, et le suivant est offert",
          "{buy} more {unit}, then the next is on us", "buy unit rule"},
    Entry{"suggestion.reward_near_discounted", "Encore {buy} {unit}, et le suivant est remisé",
          "{buy} more {unit}, then the next is discounted", "buy unit rule"},
    Entry{"suggestion.usual_item", "Achète souvent {item} ({times} visites sur {of}), pas ce jour",
          "Usually buys {item} ({times} of the last {of} visits), not today", "sku item times of"},
    Entry{"suggestion.tier_near", "Plus que {left} pour devenir {tier}", "{left} to become {tier}",
          "left tier"},
    Entry{"goodwill.discount", "Geste commercial : {reason}", "Goodwill gesture: {reason}",
          "reason cashier"},
};

const Entry* Find(std::string_view key) {
  for (const auto& e : kCatalogue) {
    if (key == e.key) return &e;
  }
  return nullptr;
}

std::string Fill(std::string_view text, const MessageArgs& args, bool french) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      size_t close = text.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view name = text.substr(i + 1, close - i - 1);
        for (const auto& arg : args) {
          if (name != arg.name) continue;
          out += french ? arg.value.fr : arg.value.en;
          i = close;
          break;
        }
        if (i == close) continue;
      }
    }
    out += text[i];
  }
  return out;
}

// The placeholders a template uses, or an error naming the malformed one.
Result<std::vector<std::string>> PlaceholdersOf(std::string_view text) {
  std::vector<std::string> names;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) return Error::BadInput("invalid_config", "unclosed '{'");
    names.emplace_back(text.substr(i + 1, close - i - 1));
    i = close;
  }
  return names;
}

// Digits in groups of three: "1\u202f234" in French (a narrow no-break space), "1,234" in
// English, as the panel's Intl.NumberFormat writes them.
std::string Grouped(const std::string& digits, const char* separator) {
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += separator;
    out += digits[i];
  }
  return out;
}

}  // namespace

// The panel formats its own amounts with Intl.NumberFormat (fr-FR, en-US): sentences write
// money the same way, so one screen never mixes "5,00 EUR" with "5,00 €".
LocalText MoneyText(int64_t minor, const Currency& currency) {
  struct Symbol {
    const char* code;
    const char* fr;
    const char* en;
  };
  constexpr std::array kSymbols = {Symbol{"EUR", "€", "€"}, Symbol{"GBP", "£GB", "£"},
                                   Symbol{"USD", "$US", "$"}};
  std::string plain = FormatMoney(minor, currency);  // "-1234.50 EUR"
  std::string sign = plain.starts_with('-') ? "-" : "";
  std::string number = plain.substr(sign.size(), plain.find(' ') - sign.size());
  size_t dot = number.find('.');
  std::string units = number.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : number.substr(dot + 1);
  std::string fr = sign + Grouped(units, "\u202f") + (fraction.empty() ? "" : "," + fraction);
  std::string en = sign + Grouped(units, ",") + (fraction.empty() ? "" : "." + fraction);
  for (const auto& s : kSymbols) {
    if (currency.code == s.code)
      return {fr + "\u00a0" + s.fr, sign + s.en + en.substr(sign.size())};
  }
  return {fr + "\u00a0" + currency.code, currency.code + "\u00a0" + en};
}

LocalText OrdinalText(int64_t n) {
  int64_t tens = n % 100;
  const char* suffix = "th";
  if (tens < 11 || tens > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return {std::to_string(n) + (n == 1 ? "er" : "e"), std::to_string(n) + suffix};
}

LocalText MessageCatalogue::Format(std::string_view key, const MessageArgs& args) const {
  LocalText text;
  if (auto it = overrides_.find(std::string(key)); it != overrides_.end()) {
    text = it->second;
  } else if (const Entry* e = Find(key)) {
    text = {e->fr, e->en};
  } else {
    return {std::string(key), std::string(key)};
  }
  return {Fill(text.fr, args, true), Fill(text.en, args, false)};
}

Status MessageCatalogue::CheckOverride(const std::string& key, const LocalText& text) {
  const Entry* e = Find(key);
  if (!e) return Error::BadInput("invalid_config", "there is no message '" + key + "'");
  std::string allowed = std::string(" ") + e->placeholders + " ";
  for (const std::string* t : {&text.fr, &text.en}) {
    REGULARS_ASSIGN_OR_RETURN(auto names, PlaceholdersOf(*t));
    for (const auto& name : names) {
      if (allowed.find(" " + name + " ") == std::string::npos) {
        return Error::BadInput("invalid_config", "message '" + key + "' has no placeholder {" +
                                                     name + "} (it has: " + e->placeholders + ")");
      }
    }
  }
  return Status::Ok();
}

std::vector<std::string> MessageCatalogue::Keys() {
  std::vector<std::string> keys;
  keys.reserve(std::size(kCatalogue));
  for (const auto& e : kCatalogue) keys.emplace_back(e.key);
  return keys;
}

}  // namespace regulars
