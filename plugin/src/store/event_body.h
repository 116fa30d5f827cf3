// What an event's body says of counters and visits, as the ledger writes and reads it:
// its "counts" and "visit" members, and a visit's skus in the `visits` table.
#pragma once

#include <string>
#include <vector>

#include "json/json_input.h"
#include "result.h"
#include "store/ledger_types.h"

namespace regulars {

// The body's "counts" (none when it has no such member); malformed counts are an error.
Result<std::vector<CountDelta>> CountsFromBody(const Json& body);

// The "visit" member Append writes for `visit`.
OrderedJson VisitJson(const VisitDelta& visit);
// An event's "visit" member as Append wrote it. Strict, so that Verify notices any
// other shape.
Result<VisitDelta> VisitFromJson(const Json& visit);

// The `visits.skus` column: the skus as a JSON array. Basket validation lets a sku hold
// spaces, so space-joined text would be ambiguous.
std::string SkusText(const std::vector<std::string>& skus);
Result<std::vector<std::string>> SkusFromText(const std::string& text);

}  // namespace regulars
