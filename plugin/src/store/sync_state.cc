#include "store/sync_state.h"

#include <charconv>

namespace regulars {

Result<std::optional<std::string>> SyncState::Read(const std::string& key) {
  return db_.QueryText("SELECT value FROM sync_state WHERE key = ?1", key);
}

Result<int64_t> SyncState::ReadNumber(const std::string& key, int64_t fallback) {
  REGULARS_ASSIGN_OR_RETURN(auto text, Read(key));
  if (!text) return fallback;
  int64_t number = 0;
  const std::string& t = *text;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), number);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return Error::BadInput("database_unreadable", "the sync's " + key + " is not a number");
  }
  return number;
}

Status SyncState::Write(const std::string& key, const std::string& value) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt,
                            db_.Prepare("INSERT INTO sync_state (key, value) VALUES (?1, ?2) "
                                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  return stmt->Bind(1, key).Bind(2, value).Run();
}

}  // namespace regulars
