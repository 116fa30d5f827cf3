#include "config/config_fields.h"

#include <algorithm>

#include "json/near_keys.h"

namespace regulars::config_fields {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

Result<LocalText> ParseText(const FieldReader& parent, std::string_view key) {
  FieldReader r(parent.Get(key), parent.PointerTo(key), kCode);
  REGULARS_TRY(r.RequireObject(std::string(key)));
  REGULARS_ASSIGN_OR_RETURN(auto fr, r.String("fr", 200));
  REGULARS_ASSIGN_OR_RETURN(auto en, r.String("en", 200));
  return LocalText{fr, en};
}

Status RequireKnownKeys(const FieldReader& r, const std::vector<std::string>& known,
                        const std::string& what) {
  for (const auto& [key, value] : r.object().items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown field '" + key + "' in " + what;
    if (auto near = NearKnownKey(key, known)) {
      return r.Fail(key, message + ": did you mean " + r.PointerTo(*near) + "?");
    }
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return r.Fail(key, message + " (known: " + list + ")");
  }
  return Status::Ok();
}

}  // namespace regulars::config_fields
