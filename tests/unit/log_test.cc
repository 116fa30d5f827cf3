// The long-running programs' log lines (env/log.h) and the service manager's notify
// protocol (env/service_notify.h), on real files and a real AF_UNIX socket.
#include "env/log.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "env/service_notify.h"

namespace regulars {
namespace {

using OJson = nlohmann::ordered_json;

// "DEV:INODE" of the file open on `fd`, as systemd writes $JOURNAL_STREAM.
std::string StreamOf(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

TEST(LogLine, IsOneJsonObjectWithTheEventStoreAndTillFirst) {
  std::string line = FormatLogLine(LogPriority::kInfo, false, "serve_started", "S001", "T01",
                                   OJson{{"port", 8420}, {"listen", "127.0.0.1"}});
  EXPECT_EQ(line, R"({"event":"serve_started","store_id":"S001","till_id":"T01","port":8420,)"
                  R"("listen":"127.0.0.1"})");
}

TEST(LogLine, HqsLinesHaveNoTillOfTheirOwn) {
  std::string line = FormatLogLine(LogPriority::kInfo, false, "pull_served", "", "",
                                   OJson{{"store_id", "S042"}, {"events", 3}});
  EXPECT_EQ(line, R"({"event":"pull_served","store_id":"S042","events":3})");
}

TEST(LogLine, QuotesNewlinesAndControlCharactersAreEscapedSoALineStaysOneLine) {
  std::string line = FormatLogLine(LogPriority::kErr, false, "sync_failed", "S001", "T01",
                                   OJson{{"message", "said \"no\"\nthen\x01 \\"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"(said \"no\"\nthen\u0001 \\)"), std::string::npos) << line;
  EXPECT_EQ(nlohmann::json::parse(line)["message"], "said \"no\"\nthen\x01 \\");
}

TEST(LogLine, InvalidUtf8IsReplacedNotThrown) {
  std::string line = FormatLogLine(LogPriority::kWarning, false, "handshake_refused", "", "",
                                   OJson{{"reason", std::string("bad \xff byte")}});
  EXPECT_TRUE(nlohmann::json::parse(line, nullptr, false).is_object()) << line;
}

TEST(LogLine, ThePrefixIsTheSyslogPriorityOnlyOnTheJournal) {
  const std::pair<LogPriority, std::string> priorities[] = {{LogPriority::kErr, "<3>"},
                                                            {LogPriority::kWarning, "<4>"},
                                                            {LogPriority::kInfo, "<6>"},
                                                            {LogPriority::kDebug, "<7>"}};
  for (const auto& [priority, prefix] : priorities) {
    EXPECT_EQ(FormatLogLine(priority, true, "e", "S", "T", OJson::object()),
              prefix + R"({"event":"e","store_id":"S","till_id":"T"})");
    EXPECT_EQ(FormatLogLine(priority, false, "e", "S", "T", OJson::object()),
              R"({"event":"e","store_id":"S","till_id":"T"})");
  }
}

TEST(JournalStream, NamesTheFileOnlyWhenDeviceAndInodeBothMatch) {
  std::FILE* file = std::tmpfile();
  std::FILE* other = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_NE(other, nullptr);
  int fd = fileno(file);
  EXPECT_TRUE(StreamIsJournal(StreamOf(fd).c_str(), fd));
  EXPECT_FALSE(StreamIsJournal(StreamOf(fileno(other)).c_str(), fd)) << "another file";
  EXPECT_FALSE(StreamIsJournal(nullptr, fd)) << "not run by systemd";
  for (const char* bad : {"", ":", "12", "12:", ":34", "a:b", "1:2:3", "-1:5"}) {
    EXPECT_FALSE(StreamIsJournal(bad, fd)) << bad;
  }
  std::fclose(file);
  std::fclose(other);
}

TEST(Logger, TheSinkGetsWholeLinesPrefixedWhenTheJournalIsStderr) {
  std::vector<std::string> lines;
  Logger journal(
      "S001", "T01", [&](const std::string& l) { lines.push_back(l); }, true);
  journal.Error("sync_failed", {{"code", "hq_unreachable"}});
  journal.Info("sync_done");
  Logger plain(
      "S001", "T01", [&](const std::string& l) { lines.push_back(l); }, false);
  plain.Warning("webhook_failed");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "<3>{\"event\":\"sync_failed\",\"store_id\":\"S001\",\"till_id\":\"T01\","
            "\"code\":\"hq_unreachable\"}\n");
  EXPECT_EQ(lines[1].substr(0, 4), "<6>{");
  EXPECT_EQ(lines[2].substr(0, 2), "{\"");
}

// A datagram socket bound where $NOTIFY_SOCKET points, as systemd's manager listens.
class ServiceManager : public ::testing::Test {
 protected:
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  // `name` starting with '@': in the abstract namespace.
  void Listen(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", name.c_str());
    if (name[0] == '@') {
      address.sun_path[0] = '\0';
    } else {
      path_ = name;
    }
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), size), 0);
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
    timeval timeout{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  std::string Next() {
    char buffer[256];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }
  int fd_ = -1;
  std::string path_;
};

TEST_F(ServiceManager, ReadyArrivesAsOneDatagramOnAPathSocket) {
  Listen("/tmp/regulars-notify-" + std::to_string(getpid()));
  EXPECT_TRUE(NotifyServiceManager("READY=1"));
  EXPECT_EQ(Next(), "READY=1");
}

TEST_F(ServiceManager, AnAtSignNamesTheAbstractNamespace) {
  Listen("@regulars-notify-" + std::to_string(getpid()));
  EXPECT_TRUE(NotifyServiceManager("STOPPING=1"));
  EXPECT_EQ(Next(), "STOPPING=1");
}

TEST_F(ServiceManager, NothingIsSentWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(NotifyServiceManager("READY=1"));
}

TEST_F(ServiceManager, TheWatchdogPingsAtHalfItsTimeoutAndOnlyForItsOwnProcess) {
  unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(WatchdogPingIntervalMs(), 0) << "no watchdog";
  setenv("WATCHDOG_USEC", "200000", 1);
  EXPECT_EQ(WatchdogPingIntervalMs(), 100);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(WatchdogPingIntervalMs(), 100);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(WatchdogPingIntervalMs(), 0) << "another process's watchdog";
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "soon", 1);
  EXPECT_EQ(WatchdogPingIntervalMs(), 0);
}

TEST_F(ServiceManager, APingerPingsOnlyThroughTheExecutorItIsGiven) {
  Listen("/tmp/regulars-notify-" + std::to_string(getpid()));
  std::mutex mutex;
  std::vector<std::function<void()>> posted;  // an executor that runs nothing yet: hung
  {
    WatchdogPinger pinger(10, [&](std::function<void()> ping) {
      std::lock_guard<std::mutex> lock(mutex);
      posted.push_back(std::move(ping));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  timeval timeout{0, 100'000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  EXPECT_EQ(Next(), "") << "a hung executor sends no ping";
  ASSERT_GE(posted.size(), 2u);
  for (auto& ping : posted) ping();  // the executor runs again
  EXPECT_EQ(Next(), "WATCHDOG=1");
}

}  // namespace
}  // namespace regulars
