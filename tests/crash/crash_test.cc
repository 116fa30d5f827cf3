// Crash safety: SIGKILL a process in the middle of committing checkouts, many times;
// every checkout it reported as committed must be there exactly once, nothing
// half-written, and the counters equal to their recomputation from the events.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "checkout/till.h"
#include "config/config.h"

namespace regulars {
namespace {

const std::string kConfig = std::string(REGULARS_SOURCE_DIR) + "/config/examples/store.json";

struct RunResult {
  std::vector<std::string> reported;
  bool killed = false;
};

// Starts the child, lets it run for `millis`, kills it with SIGKILL, and returns what it
// reported as committed.
RunResult RunAndKill(const std::string& db, long first, int millis) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::string start = std::to_string(first);
    execl(REGULARS_CRASH_CHILD, REGULARS_CRASH_CHILD, kConfig.c_str(), db.c_str(), start.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  usleep(static_cast<useconds_t>(millis) * 1000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult result;
  result.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  // Only complete lines count: a line cut by the kill was never fully reported.
  FILE* in = fdopen(pipe_fds[0], "r");
  std::string line;
  for (int c = fgetc(in); c != EOF; c = fgetc(in)) {
    if (c == '\n') {
      result.reported.push_back(line);
      line.clear();
    } else {
      line += static_cast<char>(c);
    }
  }
  fclose(in);
  return result;
}

TEST(CrashSafety, KilledMidCommitLosesNothingAndDuplicatesNothing) {
  char dir_template[] = "/tmp/regulars-crash-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string db = std::string(dir_template) + "/ledger.sqlite";
  std::mt19937 random(20261123);
  std::set<std::string> reported;
  long next = 0;
  int kills = 0;
  for (int run = 0; run < 30; ++run) {
    // The first run also covers start-up (opening, migrating, enrolling) being killed.
    int millis = run == 0 ? 5 : std::uniform_int_distribution<int>(50, 400)(random);
    RunResult result = RunAndKill(db, next, millis);
    if (result.killed) ++kills;
    for (const auto& txn : result.reported) reported.insert(txn);
    // Go back a little: the next run retries ids that may or may not have committed.
    next += static_cast<long>(result.reported.size());
    next = std::max(0L, next - 2);
  }
  EXPECT_GE(kills, 20);
  ASSERT_GT(reported.size(), 100u) << "the child committed too little to prove anything";

  auto config = LoadConfigFile(kConfig);
  ASSERT_TRUE(config.ok());
  auto till = Till::Open(std::move(config).value(), db);
  ASSERT_TRUE(till.ok()) << till.error().message;
  Database& sql = (*till)->ledger().db();
  for (const auto& txn : reported) {
    auto stmt = sql.Prepare(
        "SELECT (SELECT count(*) FROM transactions WHERE pos_txn_id = ?1), "
        "(SELECT count(*) FROM events WHERE pos_txn_id = ?1 AND kind = 'sale')");
    ASSERT_TRUE(stmt.ok());
    (*stmt)->Bind(1, txn);
    ASSERT_TRUE(*(*stmt)->Step());
    EXPECT_EQ((*stmt)->Int(0), 1) << txn;
    EXPECT_EQ((*stmt)->Int(1), 1) << txn;
    (*stmt)->Reset();
  }
  // Nothing half-written: every answered transaction has its event and vice versa.
  EXPECT_EQ(*sql.QueryInt("SELECT count(*) FROM events WHERE kind = 'sale'"),
            *sql.QueryInt("SELECT count(*) FROM transactions"));
  auto verify = (*till)->Verify();
  ASSERT_TRUE(verify.ok()) << verify.error().message;
  EXPECT_TRUE(verify->mismatches.empty());
  EXPECT_TRUE(verify->problems.empty());
  EXPECT_EQ(*sql.QueryInt("SELECT count(*) FROM customers"), 3);
  std::printf("crash test: %d kills, %zu checkouts reported committed, %lld sales in the ledger\n",
              kills, reported.size(),
              static_cast<long long>(*sql.QueryInt("SELECT count(*) FROM transactions")));
  till->reset();
  std::filesystem::remove_all(dir_template);
}

}  // namespace
}  // namespace regulars
