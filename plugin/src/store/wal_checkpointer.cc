#include "store/wal_checkpointer.h"

#include <sqlite3.h>

namespace regulars {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(Database& db, int threshold_pages) {
  auto own = Database::Open(db.path());
  if (!own.ok()) return own.error();
  // A connection finds the file in WAL mode on its first read; until then a checkpoint
  // would do nothing and report success.
  auto tables = (*own)->QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return tables.error();
  std::unique_ptr<WalCheckpointer> checkpointer(
      new WalCheckpointer(db, std::move(own).value(), threshold_pages));
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

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  bool due = wal_pages >= checkpointer->threshold_pages_;
  {
    std::lock_guard lock(checkpointer->mutex_);
    ++checkpointer->commits_;
    checkpointer->last_commit_pages_ = wal_pages;
    if (due) checkpointer->due_ = true;
  }
  if (due) checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    int64_t commits_before = commits_;  // all in the WAL this checkpoint will read
    lock.unlock();
    // PASSIVE never waits on the till: it copies what no reader still needs. Frames it
    // leaves are copied by the next one, woken by a later commit.
    int wal_frames = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &wal_frames, &copied);
    bool complete = rc == SQLITE_OK && wal_frames >= 0 && copied == wal_frames;
    lock.lock();
    ++checkpoints_;
    if (complete) {
      covered_commits_ = commits_before;
    } else {
      ++incomplete_;
    }
  }
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

bool WalCheckpointer::caught_up() const {
  std::lock_guard lock(mutex_);
  return last_commit_pages_ < threshold_pages_ || covered_commits_ == commits_;
}

int64_t WalCheckpointer::incomplete() const {
  std::lock_guard lock(mutex_);
  return incomplete_;
}

}  // namespace regulars
