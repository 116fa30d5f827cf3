#include "store/wal_checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

namespace regulars {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(Database& db, int threshold_pages) {
  REGULARS_ASSIGN_OR_RETURN(auto own, Database::Open(db.path()));
  // A connection finds the file in WAL mode on its first read; until then a checkpoint
  // would do nothing and report success.
  auto tables = own->QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return tables.error();
  sqlite3_busy_timeout(own->handle(), 0);  // never wait on the till
  std::unique_ptr<WalCheckpointer> checkpointer(
      new WalCheckpointer(db, std::move(own), threshold_pages));
  sqlite3_wal_hook(db.handle(), &WalCheckpointer::OnCommit, checkpointer.get());
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(Database& db, std::unique_ptr<Database> own, int threshold_pages)
    : db_(db), own_(std::move(own)), threshold_pages_(threshold_pages) {
  thread_ = std::thread([this] { Run(); });
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(db_.handle(), kDefaultThresholdPages);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

// Runs on the till's thread, after its commit: it only takes a lock and may wake the
// checkpointer, once per threshold of pages written, as often as SQLite's own would run.
int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  bool due = false;
  {
    std::lock_guard lock(checkpointer->mutex_);
    if (wal_pages < checkpointer->last_commit_pages_) {
      checkpointer->pages_at_last_wake_ = 0;  // the WAL started again from its beginning
    }
    checkpointer->last_commit_pages_ = wal_pages;
    if (wal_pages - checkpointer->pages_at_last_wake_ >= checkpointer->threshold_pages_) {
      checkpointer->pages_at_last_wake_ = wal_pages;
      checkpointer->due_ = due = true;
    }
  }
  if (due) checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mutex_);
  auto retry_in = std::chrono::milliseconds(0);  // while a restart is owed
  while (true) {
    if (retry_in.count() > 0) {
      wake_.wait_for(lock, retry_in, [this] { return stopping_; });
    } else {
      wake_.wait(lock, [this] { return due_ || stopping_; });
    }
    if (stopping_) return;
    due_ = false;
    running_ = true;
    lock.unlock();
    // PASSIVE never waits on the till: it copies what no reader still needs. Frames it
    // leaves are copied by the next one.
    int wal_frames = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &wal_frames, &copied);
    bool complete = rc == SQLITE_OK && wal_frames >= 0 && copied == wal_frames;
    // The WAL starts again from its beginning when the till begins a write with every
    // frame copied. Under a steady stream of checkouts a commit lands during each
    // checkpoint, so that moment may not come and the WAL would grow without end. Past
    // kRestartFactor thresholds, restart it here: RESTART holds writers out while it
    // copies the few frames PASSIVE left, so it is only tried without waiting (busy
    // timeout 0), between the till's transactions, and retried soon when it met one.
    bool owed = wal_frames >= kRestartFactor * threshold_pages_;
    bool restarted = owed && complete &&
                     sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_RESTART,
                                               nullptr, nullptr) == SQLITE_OK;
    lock.lock();
    running_ = false;
    ++stats_.checkpoints;
    if (!complete) ++stats_.incomplete;
    if (restarted) ++stats_.restarts;
    if (owed && !restarted) {
      retry_in = std::min(std::max(2 * retry_in, std::chrono::milliseconds(2)),
                          std::chrono::milliseconds(100));
      due_ = true;
    } else {
      retry_in = std::chrono::milliseconds(0);
    }
  }
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool WalCheckpointer::idle() const {
  std::lock_guard lock(mutex_);
  return !due_ && !running_;
}

}  // namespace regulars
