#include "store/erasure.h"

namespace regulars {
namespace {

bool Redact(Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || *it == kErased) return false;
  *it = kErased;
  return true;
}

}  // namespace

bool RedactIdentity(Json& body) {
  if (!body.is_object()) return false;
  bool changed = false;
  for (const char* key : {"identifier", "old_identifier"}) {
    if (auto id = body.find(key); id != body.end() && id->is_object()) {
      changed |= Redact(*id, "value");
    }
  }
  changed |= Redact(body, "first_name");
  if (auto consent = body.find("consent"); consent != body.end() && consent->is_object()) {
    changed |= Redact(*consent, "text");
    changed |= Redact(*consent, "cashier_id");
  }
  return changed;
}

}  // namespace regulars
