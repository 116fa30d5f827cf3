// Contract v1 receipts and the sentences on them.
#pragma once

#include <string>
#include <string_view>

#include "checkout/till.h"
#include "json/json_input.h"

namespace regulars {

// "3 of 5 packs" / "3 paquets sur 5"; near and at the goal, says what comes next.
LocalText ProgressText(int64_t have, int64_t need, const LocalText& unit_name, bool free);

OrderedJson RenderProgress(const std::string& rule, int64_t have, int64_t need,
                           const LocalText& text);
OrderedJson RenderNotices(const std::vector<Notice>& notices);
OrderedJson RenderCustomer(const Recognition& who);
OrderedJson RenderText(const LocalText& text);

// The receipt for a priced basket. `status` is "proposed" (evaluate) or "committed".
OrderedJson RenderReceipt(const Basket& basket, const Proposal& proposal, std::string_view status,
                          const std::string& rules_version);

}  // namespace regulars
