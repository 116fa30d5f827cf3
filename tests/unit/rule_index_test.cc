// The rule index: which rules a basket line may match, and rules by id.
#include "rewards/rule_index.h"

#include <gtest/gtest.h>

namespace regulars {
namespace {

using Names = std::vector<std::string>;

Rule RuleOf(std::string id, RuleKind kind, Names skus, Names brands, Names categories) {
  Rule rule;
  rule.id = std::move(id);
  rule.kind = kind;
  rule.match.skus = std::move(skus);
  rule.match.brands = std::move(brands);
  rule.match.categories = std::move(categories);
  return rule;
}

BasketLine LineOf(std::string sku, std::string brand, std::string category) {
  BasketLine line;
  line.sku = std::move(sku);
  line.brand = std::move(brand);
  line.categories = {std::move(category)};
  return line;
}

std::vector<Rule> Rules() {
  return {RuleOf("by-sku", RuleKind::kNthUnit, {"111"}, {}, {}),
          RuleOf("by-brand", RuleKind::kNthUnit, {}, {"Dodo"}, {}),
          RuleOf("baby", RuleKind::kMilestone, {}, {}, {"baby/"}),
          RuleOf("diapers", RuleKind::kNthUnit, {}, {}, {"baby/diapers"}),
          RuleOf("gold", RuleKind::kTier, {}, {}, {}),
          RuleOf("babyfood", RuleKind::kNthUnit, {}, {}, {"babyfood"})};
}

TEST(RuleIndex, CandidatesComeBySkuBrandAndCategoryPrefixOnceAscending) {
  std::vector<Rule> rules = Rules();
  RuleIndex index(rules);
  std::vector<uint32_t> out = {99};  // appended to, never cleared
  index.Candidates(LineOf("111", "Dodo", "baby/diapers/night"), out);
  EXPECT_EQ(out, (std::vector<uint32_t>{99, 0, 1, 2, 3, 4}));
  out.clear();
  index.Candidates(LineOf("222", "Other", "babyfood/jars"), out);
  EXPECT_EQ(out, (std::vector<uint32_t>{4, 5}));  // the tier matches every line
}

TEST(RuleIndex, FindsARuleByIdAndListsTheTiers) {
  std::vector<Rule> rules = Rules();
  RuleIndex index(rules);
  EXPECT_EQ(index.Find("diapers"), 3u);
  EXPECT_EQ(index.Find(std::string_view("by-brand-and-more").substr(0, 8)), 1u);
  EXPECT_EQ(index.Find("nope"), std::nullopt);
  EXPECT_EQ(index.tiers(), (std::vector<uint32_t>{4}));
  EXPECT_EQ(RuleIndex().Find("gold"), std::nullopt);
}

}  // namespace
}  // namespace regulars
