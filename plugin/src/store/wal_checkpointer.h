// Keeps WAL checkpoints off the checkout path. SQLite's automatic checkpoint runs inside
// the commit that crosses its threshold, so about one checkout in 70 paid for copying the
// WAL into the database file and fsyncing it (docs/PERFORMANCE.md). The checkpointer
// replaces that hook on the till's connection: a commit that has added another threshold
// of pages only wakes a thread, which checkpoints from a connection of its own.
// Durability is unchanged: each commit still fsyncs the WAL before it returns.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "result.h"
#include "store/sqlite.h"

namespace regulars {

class WalCheckpointer {
 public:
  // SQLite's own default threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT).
  static constexpr int kDefaultThresholdPages = 1000;
  // How many thresholds long the WAL may grow before the checkpointer restarts it itself.
  static constexpr int kRestartFactor = 4;

  // Takes over `db`'s WAL hook (which turns its automatic checkpoint off) and starts the
  // thread. `db` must outlive the checkpointer.
  static Result<std::unique_ptr<WalCheckpointer>> Start(
      Database& db, int threshold_pages = kDefaultThresholdPages);
  // Gives the hook back to SQLite's automatic checkpoint and joins the thread.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  struct Stats {
    int64_t checkpoints = 0;  // PASSIVE checkpoints run
    int64_t incomplete = 0;   // of which a reader kept some frames back
    int64_t restarts = 0;     // the WAL restarted by the checkpointer itself
  };
  Stats stats() const;
  // True when no checkpoint is due or running.
  bool idle() const;

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
  bool running_ = false;
  bool stopping_ = false;
  int last_commit_pages_ = 0;  // the WAL's length after the last commit, in frames
  int pages_at_last_wake_ = 0;
  Stats stats_;
  std::thread thread_;
};

}  // namespace regulars
