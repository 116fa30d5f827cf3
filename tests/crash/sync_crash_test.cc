// Crash safety of the nightly sync, with the real programs: `regulars sync now` and
// `regulars-hq serve` are each killed with SIGKILL in the middle of a sync, again and
// again; afterwards HQ holds every event of the till exactly once and the till's
// outbox is empty (docs/sync-protocol.md).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "checkout/till.h"
#include "config/config.h"
#include "hq/hq_store.h"
#include "till/outbox.h"

namespace regulars {
namespace {

namespace fs = std::filesystem;

pid_t Spawn(std::vector<std::string> args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    FILE* err = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    (void)err;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

class SyncCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/regulars-sync-crash-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::string script = std::string(REGULARS_SOURCE_DIR) + "/installer/provision-pki.sh";
    for (const char* args : {" ca", " hq localhost 127.0.0.1", " store S001"}) {
      ASSERT_EQ(std::system((script + " " + dir_ + "/pki" + args + " >/dev/null 2>&1").c_str()), 0);
    }
  }
  void TearDown() override {
    if (hq_ > 0) {
      kill(hq_, SIGKILL);
      Wait(hq_);
    }
    fs::remove_all(dir_);
  }

  void StartHq() {
    std::string port_file = dir_ + "/hq.port";
    fs::remove(port_file);
    std::string p = dir_ + "/pki/";
    if (!fs::exists(dir_ + "/hq.sqlite")) {
      std::string init =
          std::string(REGULARS_HQ) + " db init --db " + dir_ + "/hq.sqlite >/dev/null";
      ASSERT_EQ(std::system(init.c_str()), 0);
    }
    hq_ = Spawn({REGULARS_HQ, "serve", "--db", dir_ + "/hq.sqlite", "--listen",
                 "127.0.0.1:" + std::to_string(port_), "--ca", p + "ca.pem", "--cert", p + "hq.pem",
                 "--key", p + "hq.key", "--port-file", port_file},
                dir_ + "/hq.log");
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(port_file)) << "regulars-hq did not start";
    std::ifstream(port_file) >> port_;
  }

  pid_t StartSync() {
    return Spawn({REGULARS_CLI, "sync", "now", "--quiet", "--config", dir_ + "/store.json", "--db",
                  dir_ + "/ledger.sqlite"},
                 dir_ + "/sync.log");
  }

  std::string dir_;
  pid_t hq_ = -1;
  int port_ = 0;
};

TEST_F(SyncCrash, KillingTheTillOrHqMidSyncLosesNothingAndDuplicatesNothing) {
  StartHq();
  // A store config whose sync goes to this HQ in small batches, so a kill lands mid-way.
  std::string p = dir_ + "/pki/";
  std::ifstream in(std::string(REGULARS_SOURCE_DIR) + "/config/examples/store.json");
  std::string config((std::istreambuf_iterator<char>(in)), {});
  config.insert(config.rfind('}'), R"(, "sync": {"hq": "127.0.0.1:)" + std::to_string(port_) +
                                       R"(", "ca": ")" + p + R"(ca.pem", "cert": ")" + p +
                                       R"(store-S001.pem", "key": ")" + p +
                                       R"(store-S001.key", "batch_events": 25,
                                       "retry_initial_ms": 20, "retry_max_ms": 200,
                                       "give_up_after_minutes": 1})");
  std::ofstream(dir_ + "/store.json") << config;

  {  // A day of 800 sales.
    auto parsed = LoadConfigFile(dir_ + "/store.json");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    auto till = Till::Open(std::move(parsed).value(), dir_ + "/ledger.sqlite");
    ASSERT_TRUE(till.ok());
    ASSERT_TRUE((*till)->EnrollCard("2900000000018").ok());
    for (int n = 0; n < 800; ++n) {
      std::string basket = R"({"pos_txn_id": "D-)" + std::to_string(n) +
                           R"(", "identifiers": [{"kind": "card", "value": "2900000000018"}],
        "lines": [{"line": 1, "sku": "3400000000001", "qty": 1, "unit_price": 1290,
                   "brand": "Dodo", "categories": ["baby/diapers"]}]})";
      ASSERT_TRUE((*till)->Commit(basket).ok());
    }
  }

  std::mt19937 random(20261123);
  int till_kills = 0, hq_kills = 0;
  for (int run = 0; run < 10; ++run) {
    pid_t sync = StartSync();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(30, 150)(random)));
    if (run % 2 == 0) {
      if (kill(sync, SIGKILL) == 0) ++till_kills;
      Wait(sync);
    } else {
      if (kill(hq_, SIGKILL) == 0) ++hq_kills;
      Wait(hq_);
      hq_ = -1;
      StartHq();   // on the same port, while the till backs off and retries
      Wait(sync);  // it finishes against the restarted HQ, or gives up
    }
  }
  pid_t last = StartSync();
  ASSERT_EQ(Wait(last), 0) << "the final sync completes";
  EXPECT_GE(till_kills + hq_kills, 6);

  auto hq = SqliteHqStore::Open(dir_ + "/hq.sqlite");
  ASSERT_TRUE(hq.ok());
  auto held = (*hq)->EventCount();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 801) << "the enrolment and 800 sales, each once";
  auto all = (*hq)->EventsSince(0, 10'000);
  ASSERT_TRUE(all.ok());
  for (size_t i = 0; i < all->size(); ++i) {
    ASSERT_EQ((*all)[i].hq_seq, static_cast<int64_t>(i + 1)) << "hq_seq without a gap";
  }
  auto ledger = Ledger::Open(dir_ + "/ledger.sqlite", {"S001", "T01", "EUR"});
  ASSERT_TRUE(ledger.ok());
  Outbox outbox((*ledger)->db(), "S001", "T01");
  auto backlog = outbox.Backlog();
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(backlog->backlog, 0);
  EXPECT_EQ(backlog->pushed_seq, 801);
  std::printf("sync crash test: %d till kills, %d HQ kills, %lld events at HQ\n", till_kills,
              hq_kills, static_cast<long long>(*held));
}

}  // namespace
}  // namespace regulars
