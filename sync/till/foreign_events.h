// Reading what HQ answers a till (pull pages, look-ups): checked member by member, so a
// malformed answer is an error ("invalid_updates"), never a crash.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json/json_input.h"
#include "result.h"
#include "store/ledger.h"

namespace regulars {

Error MalformedAnswer(const std::string& what);

// Member `name` of `object` when it is text (or a 64-bit integer); nullopt otherwise.
std::optional<std::string> MemberText(const Json& object, const char* name);
std::optional<int64_t> MemberInt(const Json& object, const char* name);

// The events of a pull page or a look-up answer (its "events" array).
Result<std::vector<ForeignEvent>> ReadForeignEvents(const Json& events);

}  // namespace regulars
