// Contract v1 receipts and the sentences on them.
#pragma once

#include <string>
#include <string_view>

#include "checkout/propose.h"
#include "json/json_input.h"

namespace regulars {

// The progress line of a counted rule with `have` toward `need`: for nth_unit "3 of 5
// packs" (near and at the goal, says what comes next); for milestone the spend so far.
OrderedJson RenderRuleProgress(const RuleTerms& terms, int64_t have, const RuleBook& book);

OrderedJson RenderNotices(const std::vector<Notice>& notices);
// The customer as a receipt shows them; `tier` is the one they hold, if any.
OrderedJson RenderCustomer(const Recognition& who, const HeldTier* tier = nullptr,
                           const RuleBook* book = nullptr);
OrderedJson RenderText(const LocalText& text);

// The receipt for a priced basket. `status` is "proposed" (evaluate) or "committed".
OrderedJson RenderReceipt(const Basket& basket, const Proposal& proposal, std::string_view status);

}  // namespace regulars
