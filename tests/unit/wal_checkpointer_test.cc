// WAL checkpoints run on the checkpointer's thread, never inside a till's commit.
#include "store/wal_checkpointer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "store/ledger.h"
#include "test_till.h"

namespace regulars {
namespace {

using testing::TempDir;

constexpr int kThresholdPages = 64;
constexpr int kRounds = 20;
constexpr int kCommitsPerRound = 100;  // each writes a page (or two): past the threshold

std::unique_ptr<Database> OpenWalDatabase(const std::string& path) {
  auto db = Database::Open(path);
  EXPECT_TRUE(db.ok());
  auto& d = **db;
  // synchronous=OFF keeps the test fast; the checkpointer does not depend on it.
  EXPECT_TRUE(d.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                     "CREATE TABLE rows (id INTEGER PRIMARY KEY, bytes BLOB)")
                  .ok());
  return std::move(db).value();
}

void CommitOnePageEach(Database& db, int commits) {
  for (int i = 0; i < commits; ++i) {
    ASSERT_TRUE(db.Exec("INSERT INTO rows (bytes) VALUES (zeroblob(100))").ok());
  }
}

// Waits for the checkpointer (its own thread) to finish what the commits woke it for. The
// limit only ends a broken test; nothing here depends on how fast the machine is.
bool WaitUntilIdle(const WalCheckpointer& checkpointer) {
  for (int i = 0; i < 6000; ++i) {
    if (checkpointer.idle()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(WalCheckpointer, KeepsTheWalBoundedWithoutTheCommitsCheckpointing) {
  TempDir dir;
  std::string path = dir.path() + "/wal.sqlite";
  auto db = OpenWalDatabase(path);
  auto checkpointer = WalCheckpointer::Start(*db, kThresholdPages);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;
  EXPECT_EQ(*db->QueryInt("PRAGMA wal_autocheckpoint"), 0)
      << "the connection's own automatic checkpoint is off";

  for (int round = 0; round < kRounds; ++round) {
    CommitOnePageEach(*db, kCommitsPerRound);
    ASSERT_TRUE(WaitUntilIdle(**checkpointer)) << "round " << round;
  }
  EXPECT_GE((*checkpointer)->stats().checkpoints, kRounds) << "a round crosses the threshold";
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM rows"), kRounds * kCommitsPerRound);

  // The WAL starts again after a complete checkpoint, or is restarted once it holds
  // kRestartFactor thresholds; without checkpoints it would hold every page written
  // (over 2,000).
  auto wal_bytes = std::filesystem::file_size(path + "-wal");
  auto page = static_cast<uintmax_t>(*db->QueryInt("PRAGMA page_size"));
  uintmax_t bound = WalCheckpointer::kRestartFactor * kThresholdPages + 3 * kCommitsPerRound;
  EXPECT_LT(wal_bytes, bound * (page + 24)) << wal_bytes << " bytes of WAL";
}

TEST(WalCheckpointer, UnderASteadyStreamOfCommitsTheCheckpointerRestartsTheWal) {
  TempDir dir;
  std::string path = dir.path() + "/wal.sqlite";
  auto db = OpenWalDatabase(path);
  auto checkpointer = WalCheckpointer::Start(*db, kThresholdPages);
  ASSERT_TRUE(checkpointer.ok());
  // No pause: commits keep landing while it works, so the WAL is never found fully copied
  // between two of them, and only a restart brings it back to its beginning.
  CommitOnePageEach(*db, kRounds * kCommitsPerRound);
  ASSERT_TRUE(WaitUntilIdle(**checkpointer)) << "a restart owed is retried until done";
  EXPECT_GE((*checkpointer)->stats().restarts, 1);

  // A restart takes effect at the next write, which starts the WAL again from its
  // beginning. After it the WAL holds less than a restart's length plus a threshold (the
  // pages since the last wake-up), against over 2,000 frames had it never restarted.
  CommitOnePageEach(*db, 1);
  auto other = Database::Open(path);
  ASSERT_TRUE(other.ok());
  auto wal = (*other)->Prepare("PRAGMA wal_checkpoint(PASSIVE)");
  ASSERT_TRUE(wal.ok());
  ASSERT_TRUE(*(*wal)->Step());
  EXPECT_LT((*wal)->Int(1), (WalCheckpointer::kRestartFactor + 1) * kThresholdPages + 2);
  (*wal)->Reset();
}

TEST(WalCheckpointer, StoppingGivesTheConnectionBackItsAutomaticCheckpoint) {
  TempDir dir;
  auto db = OpenWalDatabase(dir.path() + "/wal.sqlite");
  {
    auto checkpointer = WalCheckpointer::Start(*db, kThresholdPages);
    ASSERT_TRUE(checkpointer.ok());
    CommitOnePageEach(*db, kThresholdPages + 1);
  }
  EXPECT_EQ(*db->QueryInt("PRAGMA wal_autocheckpoint"), WalCheckpointer::kDefaultThresholdPages);
  CommitOnePageEach(*db, 1);  // the hook no longer points at the stopped checkpointer
}

TEST(WalCheckpointer, ATillsLedgerNeverCheckpointsInsideACommit) {
  TempDir dir;
  auto ledger = Ledger::Open(dir.path() + "/ledger.sqlite", {"S001", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  EXPECT_EQ(*(*ledger)->db().QueryInt("PRAGMA wal_autocheckpoint"), 0);
}

}  // namespace
}  // namespace regulars
