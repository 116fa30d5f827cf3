#include "store/sqlite.h"

#include <sqlite3.h>

#include "env/env.h"

namespace regulars {
namespace {

// The folder a file is in ("." for a bare name).
std::string FolderOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Maps the connection's last error. A damaged file, or a ledger whose schema was altered
// by hand, is bad input (retrying will not help); anything else is a storage failure.
Error SqliteError(sqlite3* db, std::string_view doing, const std::string& path) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  std::string_view text = sqlite3_errmsg(db);
  std::string message = std::string(doing) + ": " + std::string(text);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB || text.starts_with("no such table") ||
      text.starts_with("no such column")) {
    return Error::BadInput("database_unreadable",
                           message + " (the file is damaged or is not a Regulars database)", path);
  }
  return Error::Storage(message, path);
}

}  // namespace

Status CheckDatabasePlace(const std::string& path, IfMissing if_missing) {
  Env* env = Env::Default();
  if (path == ":memory:" || env->StampOf(path).exists) return Status::Ok();
  std::string folder = FolderOf(path);
  if (!env->StampOf(folder).exists) {
    return Error::BadInput("folder_not_found",
                           "the folder " + folder + " does not exist (for " + path + ")", path);
  }
  if (if_missing == IfMissing::kRefuse) {
    return Error::BadInput("database_not_found",
                           "there is no " + path + ": a mistyped path? (db init creates one)",
                           path);
  }
  return Status::Ok();
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error error = SqliteError(db_, "database step failed", "");
  sqlite3_reset(stmt_);
  return error;
}

Status Statement::Run() {
  auto more = Step();
  while (more.ok() && *more) more = Step();
  // Ready for the next binding: binding a statement that was run and not reset fails
  // silently in SQLite and would run the old values again.
  Reset();
  if (!more.ok()) return more.error();
  return Status::Ok();
}

Result<std::vector<std::string>> Statement::FirstColumn() {
  std::vector<std::string> texts;
  for (;;) {
    REGULARS_ASSIGN_OR_RETURN(auto row, Step());
    if (!row) break;
    texts.push_back(Text(0));
  }
  Reset();
  return texts;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Database::~Database() {
  statements_.clear();
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, IfMissing if_missing) {
  REGULARS_TRY(CheckDatabasePlace(path, if_missing));
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (if_missing == IfMissing::kCreate) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Error::BadInput("database_unreadable", "cannot open the database: " + message, path);
  }
  // SQLite opens a file it may not write read-only, and the first read of a WAL ledger
  // would then leave -wal and -shm files beside it that nobody may write either: refused
  // here, before any read.
  if (sqlite3_db_readonly(db, "main") == 1) {
    sqlite3_close_v2(db);
    return Error::BadInput("database_read_only",
                           path +
                               " is read-only for this process: Regulars writes to it "
                               "(check its owner and permissions)",
                           path);
  }
  sqlite3_extended_result_codes(db, 1);
  // Another process (a second till adapter, `regulars db verify`) may hold the lock briefly.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Database>(new Database(db, path));
}

Error Database::LastError(std::string_view doing) const { return SqliteError(db_, doing, path_); }

Status Database::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return LastError("SQL failed");
  return Status::Ok();
}

Result<Statement*> Database::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return LastError("cannot prepare a statement");
    }
    it = statements_.emplace(sql, std::make_unique<Statement>(db_, stmt)).first;
  }
  it->second->Reset();
  return it->second.get();
}

Result<int64_t> Database::QueryInt(const std::string& sql) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  int64_t value = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return value;
}

Result<std::optional<std::string>> Database::QueryText(const std::string& sql,
                                                       const std::string& key) {
  REGULARS_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
  stmt->Bind(1, key);
  REGULARS_ASSIGN_OR_RETURN(auto row, stmt->Step());
  std::optional<std::string> text;
  if (row) text = stmt->Text(0);
  stmt->Reset();
  return text;
}

Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Start() {
  REGULARS_TRY(db_.Exec(begin_));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!open_) return Status::Ok();
  REGULARS_TRY(db_.Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

Status ReadTransaction::BeginUnlessOpen() {
  if (database().InTransaction()) return Status::Ok();
  return Start();
}

bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

}  // namespace regulars
