#include "rewards/suggestions.h"

#include <algorithm>
#include <string_view>

namespace regulars {

std::vector<Suggestion> Suggest(const SuggestionInput& in, const MessageCatalogue& messages) {
  std::vector<Suggestion> out;

  std::vector<Suggestion> near;
  for (const auto& r : in.rewards) {
    int64_t left = r.need - r.have;
    if (r.have <= 0 || left < 1 || left > 2) continue;
    Suggestion s{"reward_near", r.rule, left, 0, 0, {}, {}};
    // left 1: the next unit is the rewarded one; left 2: one more, then the next.
    if (left == 1) {
      s.text =
          messages.Format(r.free ? "suggestion.reward_next" : "suggestion.reward_next_discounted",
                          {{"unit", r.unit_name}, {"rule", r.rule}});
    } else {
      s.text = messages.Format(
          r.free ? "suggestion.reward_near" : "suggestion.reward_near_discounted",
          {{"buy", std::to_string(left - 1)}, {"unit", r.unit_name}, {"rule", r.rule}});
    }
    near.push_back(std::move(s));
  }
  std::stable_sort(near.begin(), near.end(), [](const Suggestion& a, const Suggestion& b) {
    return a.left != b.left ? a.left < b.left : a.subject < b.subject;
  });
  out.insert(out.end(), near.begin(), near.end());

  for (const auto& t : in.tiers) {
    Suggestion s{"tier_near", t.tier, 0, 0, 0, {}, {}};
    if (t.visits_left >= 1 && t.visits_left <= 2) {
      s.left = t.visits_left;
      std::string n = std::to_string(t.visits_left);
      LocalText left{n + (t.visits_left > 1 ? " visites" : " visite"),
                     n + (t.visits_left > 1 ? " more visits" : " more visit")};
      s.text = messages.Format("suggestion.tier_near", {{"left", left}, {"tier", t.name}});
    } else if (t.spend_left > 0) {
      s.left = t.spend_left;
      s.text =
          messages.Format("suggestion.tier_near", {{"left", t.spend_left_text}, {"tier", t.name}});
    } else {
      continue;
    }
    out.push_back(std::move(s));
  }

  // Items this customer usually buys, from their last visits.
  const size_t of = std::min<size_t>(in.recent_sales.size(), 10);
  // Sorted vectors rather than maps: this runs on every recognized basket.
  std::vector<std::string_view> bought;
  for (size_t i = 0; i < of; ++i) {
    size_t start = bought.size();
    bought.insert(bought.end(), in.recent_sales[i].begin(), in.recent_sales[i].end());
    std::sort(bought.begin() + static_cast<std::ptrdiff_t>(start), bought.end());
    bought.erase(std::unique(bought.begin() + static_cast<std::ptrdiff_t>(start), bought.end()),
                 bought.end());  // once per visit
  }
  std::sort(bought.begin(), bought.end());
  std::vector<std::string_view> today(in.basket_skus.begin(), in.basket_skus.end());
  std::sort(today.begin(), today.end());
  std::vector<Suggestion> usual;
  for (size_t i = 0; i < bought.size();) {
    size_t j = i;
    while (j < bought.size() && bought[j] == bought[i]) ++j;
    int64_t n = static_cast<int64_t>(j - i);
    std::string_view sku = bought[i];
    i = j;
    if (n < 3 || 2 * n < static_cast<int64_t>(of)) continue;
    if (std::binary_search(today.begin(), today.end(), sku)) continue;
    Suggestion s{"usual_item", std::string(sku), 0, n, static_cast<int64_t>(of), {}, {}};
    if (in.product_names) {
      if (auto it = in.product_names->find(s.subject); it != in.product_names->end()) {
        s.name = it->second;
      }
    }
    s.text = messages.Format("suggestion.usual_item",
                             {{"sku", s.subject},
                              {"item", s.name ? *s.name : LocalText{s.subject, s.subject}},
                              {"times", std::to_string(n)},
                              {"of", std::to_string(of)}});
    usual.push_back(std::move(s));
  }
  std::stable_sort(usual.begin(), usual.end(), [](const Suggestion& a, const Suggestion& b) {
    return a.times != b.times ? a.times > b.times : a.subject < b.subject;
  });
  out.insert(out.end(), usual.begin(), usual.end());
  if (out.size() > kMaxSuggestions) out.resize(kMaxSuggestions);
  return out;
}

}  // namespace regulars
