// The ledger's schema and its migrations. A file carries its version in
// PRAGMA user_version and Regulars' mark in PRAGMA application_id.
#pragma once

#include <span>

#include "store/sqlite.h"

namespace regulars {

// 'RGLR': marks a file as a Regulars ledger, so another application's database is refused.
inline constexpr int64_t kApplicationId = 0x52474c52;

// One step of the schema: applied in a transaction, moving the file to `version`.
struct Migration {
  int version;
  const char* sql;
};

// The migrations of this build, oldest first. Never edit a released step: add one.
std::span<const Migration> LedgerMigrations();

// Prepares `db` for use: WAL, synchronous=FULL, then brings the schema to the last of
// `migrations`. A new empty file is initialised; an older one upgraded step by step; a
// file of a newer version, or not a Regulars ledger, is refused (code "database_too_new"
// or "database_unreadable") and left untouched.
// `application_id` marks which kind of Regulars file it is (a till's ledger by default).
Status PrepareLedger(Database& db, std::span<const Migration> migrations,
                     int64_t application_id = kApplicationId);

}  // namespace regulars
