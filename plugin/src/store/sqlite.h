// A thin RAII layer over the SQLite C API: one connection, cached prepared statements,
// errors as values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace regulars {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameters by 1-based index.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& BindNull(int index);

  // Runs one step: true when a row is available, false when done.
  Result<bool> Step();
  // Runs to completion, for statements that return no rows, then resets.
  Status Run();
  // Runs to completion and returns every row's first column as text, then resets.
  Result<std::vector<std::string>> FirstColumn();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

  // Clears bindings and rewinds, so the cached statement can be reused.
  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// What opening a database file does when there is none: create it (a new, empty database)
// or refuse, creating nothing. Creating a ledger is a deliberate act (`regulars db init`):
// a mistyped path must not start an empty one.
enum class IfMissing { kCreate, kRefuse };

// What stops opening the file at `path` as asked, said before SQLite tries (its own words
// would be "unable to open database file"): "folder_not_found" when its folder does not
// exist, "database_not_found" when it does not and is not to be created. Touches nothing.
Status CheckDatabasePlace(const std::string& path, IfMissing if_missing);

class Database {
 public:
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens the file at `path`, creating it when absent unless told to refuse. Errors name
  // the file: "database_not_found" (refused, nothing created), "folder_not_found" (its
  // folder does not exist), "database_read_only" (this process may not write it; refused
  // before any read, so no -wal or -shm file is left), "database_unreadable".
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                IfMissing if_missing = IfMissing::kCreate);

  // Runs one or more statements that take no parameters.
  Status Exec(const std::string& sql);

  // A prepared statement, cached by its text; reset and ready to bind. Owned by the
  // Database; valid until it is destroyed.
  Result<Statement*> Prepare(const std::string& sql);

  // The first column of the first row of a parameterless query, as an integer.
  Result<int64_t> QueryInt(const std::string& sql);
  // The first column of the first row `sql` finds with `key` bound as ?1, as text;
  // nullopt when it finds none.
  Result<std::optional<std::string>> QueryText(const std::string& sql, const std::string& key);

  // Maps the connection's last error to an Error (corrupt or foreign files are bad input).
  Error LastError(std::string_view doing) const;

  const std::string& path() const { return path_; }
  // True inside BEGIN ... COMMIT.
  bool InTransaction() const;
  sqlite3* handle() { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements_;
};

// A transaction: ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  ~Transaction();
  Status Commit();

 protected:
  Transaction(Database& db, const char* begin) : db_(db), begin_(begin) {}
  Status Start();
  Database& database() { return db_; }

 private:
  Database& db_;
  const char* begin_;
  bool open_ = false;
};

// BEGIN IMMEDIATE takes the write lock at once, so a checkout reads the counters it updates.
class WriteTransaction : public Transaction {
 public:
  explicit WriteTransaction(Database& db) : Transaction(db, "BEGIN IMMEDIATE") {}
  Status Begin() { return Start(); }
};

// One consistent snapshot for several reads (WAL readers never block the writer).
class ReadTransaction : public Transaction {
 public:
  explicit ReadTransaction(Database& db) : Transaction(db, "BEGIN") {}
  Status Begin() { return Start(); }
  // Begins unless the connection is already inside a transaction, whose snapshot the
  // reads then share (Commit() is then a no-op): a commit prices inside its write.
  Status BeginUnlessOpen();
};

}  // namespace regulars
