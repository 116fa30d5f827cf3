// Keeps WAL checkpoints off the checkout path. SQLite's automatic checkpoint runs inside
// the commit that crosses its threshold, so about one checkout in 70 paid for copying the
// WAL into the database file and fsyncing it (docs/PERFORMANCE.md). The checkpointer
// replaces that hook on the till's connection: a commit past the threshold only wakes a
// thread, which checkpoints from a connection of its own. Durability is unchanged: each
// commit still fsyncs the WAL before it returns.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

class WalCheckpointer {
 public:
  // SQLite's own default threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT).
  static constexpr int kDefaultThresholdPages = 1000;

  // Takes over `db`'s WAL hook (which turns its automatic checkpoint off) and starts the
  // thread. `db` must outlive the checkpointer.
  static Result<std::unique_ptr<WalCheckpointer>> Start(
      Database& db, int threshold_pages = kDefaultThresholdPages);
  // Gives the hook back to SQLite's automatic checkpoint and joins the thread.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints run so far, and how many of them could not copy every frame (a reader or
  // another checkpoint was in the way; the next one carries on).
  int64_t checkpoints() const;
  int64_t incomplete() const;
  // True once a checkpoint has copied every frame the WAL held after the last commit
  // (or no commit has crossed the threshold yet).
  bool caught_up() const;

 private:
  WalCheckpointer(Database& db, std::unique_ptr<Database> own, int threshold_pages);
  static int OnCommit(void* self, struct sqlite3* db, const char* schema, int wal_pages);
  void Run();

  Database& db_;
  std::unique_ptr<Database> own_;  // the checkpointer's connection, used by its thread only
  const int threshold_pages_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  int64_t checkpoints_ = 0;
  int64_t incomplete_ = 0;
  int64_t commits_ = 0;          // commits seen by the hook
  int last_commit_pages_ = 0;    // the WAL's size after the last one, in frames
  int64_t covered_commits_ = 0;  // commits the last complete checkpoint copied in full
  std::thread thread_;
};

}  // namespace regulars
