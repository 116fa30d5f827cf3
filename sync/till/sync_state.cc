#include "till/sync_state.h"

#include <charconv>

namespace regulars {

Result<std::optional<std::string>> ReadSyncState(Database& db, const std::string& key) {
  auto stmt = db.Prepare("SELECT value FROM sync_state WHERE key = ?1");
  if (!stmt.ok()) return stmt.error();
  (*stmt)->Bind(1, key);
  auto row = (*stmt)->Step();
  if (!row.ok()) return row.error();
  std::optional<std::string> value;
  if (*row) value = (*stmt)->Text(0);
  (*stmt)->Reset();
  return value;
}

Result<int64_t> ReadSyncNumber(Database& db, const std::string& key, int64_t fallback) {
  auto text = ReadSyncState(db, key);
  if (!text.ok()) return text.error();
  if (!*text) return fallback;
  int64_t number = 0;
  const std::string& t = **text;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), number);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return Error::BadInput("database_unreadable", "the sync's " + key + " is not a number");
  }
  return number;
}

Status WriteSyncState(Database& db, const std::string& key, const std::string& value) {
  auto stmt = db.Prepare(
      "INSERT INTO sync_state (key, value) VALUES (?1, ?2) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!stmt.ok()) return stmt.error();
  return (*stmt)->Bind(1, key).Bind(2, value).Run();
}

}  // namespace regulars
