// `regulars serve` and `regulars scanner` as the processes a store runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Json = nlohmann::json;

const std::string kToken(64, 'e');

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/regulars-serve-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    Json config =
        Json::parse(Read(std::string(REGULARS_SOURCE_DIR) + "/config/examples/demo-store.json"));
    config["http"] = {{"token", {{"secret_hex", kToken}}}};
    config["scanner"] = {{"prefix", "#"}, {"suffix", "!"}};
    config_ = dir_ + "/store.json";
    std::ofstream(config_) << config.dump();
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // How a test starts serve besides the usual: more flags, more environment, and stderr
  // as the journal ($JOURNAL_STREAM naming the file it goes to, as systemd sets it).
  struct Launch {
    std::vector<std::string> flags;
    std::vector<std::pair<std::string, std::string>> environment;
    bool stderr_is_journal = false;
  };

  // Starts `regulars serve` on a free port, on a ledger made by `db init`, and waits until
  // it listens. Its stdout goes to serve.out, its stderr to serve.err.
  void StartServe() { StartServe(Launch()); }
  void StartServe(const Launch& launch) {
    std::string init = std::string(REGULARS_CLI) + " db init --config " + config_ + " --db " +
                       dir_ + "/ledger.sqlite > /dev/null";
    ASSERT_EQ(std::system(init.c_str()), 0);
    std::vector<std::string> words{
        REGULARS_CLI, "serve", "--config",    config_,       "--db", dir_ + "/ledger.sqlite",
        "--port",     "0",     "--port-file", dir_ + "/port"};
    words.insert(words.end(), launch.flags.begin(), launch.flags.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::string out = dir_ + "/serve.out", err = dir_ + "/serve.err";
      freopen(out.c_str(), "w", stdout);
      freopen(err.c_str(), "w", stderr);
      for (const auto& [name, value] : launch.environment) setenv(name.c_str(), value.c_str(), 1);
      if (launch.stderr_is_journal) {
        struct stat st {};
        fstat(STDERR_FILENO, &st);
        setenv("JOURNAL_STREAM",
               (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
      } else {
        unsetenv("JOURNAL_STREAM");
      }
      std::vector<char*> argv;
      for (auto& w : words) argv.push_back(w.data());
      argv.push_back(nullptr);
      execv(REGULARS_CLI, argv.data());
      _exit(127);
    }
    for (int i = 0; i < 500 && !std::filesystem::exists(dir_ + "/port"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/port")) << "serve never listened";
    port_ = static_cast<uint16_t>(std::stoi(Read(dir_ + "/port")));
  }

  // One request on a new connection.
  std::pair<int, std::string> Call(bhttp::verb verb, const std::string& target,
                                   const std::string& body = "") {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    bhttp::request<bhttp::string_body> request(verb, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    request.set(bhttp::field::authorization, "Bearer " + kToken);
    if (verb == bhttp::verb::post) {
      request.body() = body;
      request.prepare_payload();
    }
    bhttp::write(stream, request);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response);
    return {static_cast<int>(response.result_int()), response.body()};
  }

  int RunScanner(const std::string& device, std::string* out, std::string* err) {
    std::string command = std::string(REGULARS_CLI) + " scanner --config " + config_ +
                          " --device " + device + " --port " + std::to_string(port_) + " > " +
                          dir_ + "/scan.out 2> " + dir_ + "/scan.err";
    int raw = std::system(command.c_str());
    *out = Read(dir_ + "/scan.out");
    *err = Read(dir_ + "/scan.err");
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }

  // SIGTERM, then waits for the exit; true when it exited 0.
  bool StopServe() {
    if (kill(pid_, SIGTERM) != 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return false;
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  // serve.err's lines.
  std::vector<std::string> StderrLines() {
    std::istringstream in(Read(dir_ + "/serve.err"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::string dir_, config_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST_F(Serve, AnswersOnLoopbackAndStopsCleanlyOnSigterm) {
  StartServe();
  EXPECT_EQ(Call(bhttp::verb::get, "/healthz").first, 200);
  Json ready = Json::parse(Call(bhttp::verb::get, "/readyz").second);
  EXPECT_EQ(ready["status"], "ready");
  EXPECT_EQ(ready["config"]["state"], "in_force") << ready.dump();
  EXPECT_EQ(ready["config"]["file"], config_);
  auto metrics = Call(bhttp::verb::get, "/metrics");
  EXPECT_NE(metrics.second.find("regulars_sync_backlog_events 0\n"), std::string::npos)
      << metrics.second;
  auto enrolled = Call(bhttp::verb::post, "/v1/enroll", R"({"card":"2900000000018"})");
  EXPECT_EQ(enrolled.first, 200) << enrolled.second;
  metrics = Call(bhttp::verb::get, "/metrics");
  EXPECT_NE(metrics.second.find("regulars_sync_backlog_events 1\n"), std::string::npos)
      << "the enrolment waits in the outbox: " << metrics.second;
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string out = Read(dir_ + "/serve.out");
  EXPECT_NE(out.find("\"listening\":\"127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("\"stopped\":\"SIGTERM\""), std::string::npos) << out;
}

TEST_F(Serve, ScannedLinesAreRecognizedThroughTheServiceAndShownOnThePanel) {
  StartServe();
  auto enrolled = Call(bhttp::verb::post, "/v1/enroll", R"({"card":"2900000000018"})");
  ASSERT_EQ(enrolled.first, 200);
  std::string id = Json::parse(enrolled.second)["customer"]["id"];
  // A keyboard wedge's lines, framed by the configured prefix and suffix, CR LF ended.
  std::ofstream(dir_ + "/scans") << "#not-a-code!\r\n\r\n#2900000000018!\r\n";
  std::string out, err;
  ASSERT_EQ(RunScanner(dir_ + "/scans", &out, &err), 0) << err;
  std::istringstream lines(out);
  std::string first, second, extra;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, extra)) << "an empty line is no scan";
  Json unknown = Json::parse(first), known = Json::parse(second);
  EXPECT_EQ(unknown["scan"], 1);
  EXPECT_EQ(unknown["status"], 200);
  EXPECT_TRUE(unknown["answer"]["customer"].is_null());
  EXPECT_FALSE(unknown["answer"]["notices"].empty()) << "the cashier is told why";
  EXPECT_EQ(known["answer"]["customer"]["id"], id);
  Json panel = Json::parse(Call(bhttp::verb::get, "/v1/panel").second);
  EXPECT_EQ(panel["event"], "recognize");
  EXPECT_EQ(panel["customer"]["id"], id);
}

TEST_F(Serve, TheScannerSaysSoWhenTheServiceIsNotRunning) {
  std::ofstream(dir_ + "/scans") << "#2900000000018!\n";
  std::string out, err;
  EXPECT_EQ(RunScanner(dir_ + "/scans", &out, &err), 1);
  EXPECT_NE(err.find("service_unavailable"), std::string::npos) << err;
  EXPECT_NE(err.find("is regulars serve running?"), std::string::npos) << err;
  EXPECT_EQ(RunScanner(dir_ + "/no-such-device", &out, &err), 2);
  EXPECT_NE(err.find("--device"), std::string::npos) << err;
}

TEST_F(Serve, TheScannerExitsNonZeroWhenTheServiceRefusedEveryScan) {
  StartServe();
  // The scanner's copy of the config carries another token than the service's.
  Json config = Json::parse(Read(config_));
  config["http"]["token"]["secret_hex"] = std::string(64, 'f');
  config_ = dir_ + "/scanner.json";
  std::ofstream(config_) << config.dump();
  std::ofstream(dir_ + "/scans") << "#2900000000018!\n#2900000000026!\n";
  std::string out, err;
  EXPECT_EQ(RunScanner(dir_ + "/scans", &out, &err), 1) << out << err;
  EXPECT_NE(out.find("\"status\":401"), std::string::npos) << out;
  EXPECT_NE(err.find("scans_refused"), std::string::npos) << err;
  EXPECT_NE(err.find("http.token"), std::string::npos) << err;
}

TEST_F(Serve, ABusyPortIsNamedAsSuchNotAsADatabaseError) {
  StartServe();
  std::string err_file = dir_ + "/second.err";
  int raw =
      std::system((std::string(REGULARS_CLI) + " serve --config " + config_ + " --db " + dir_ +
                   "/ledger.sqlite --port " + std::to_string(port_) + " > /dev/null 2> " + err_file)
                      .c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  Json error = Json::parse(Read(err_file))["error"];
  EXPECT_EQ(error["code"], "port_in_use") << error;
  EXPECT_NE(error["message"].get<std::string>().find(":" + std::to_string(port_)),
            std::string::npos)
      << error;
}

TEST_F(Serve, BadArgumentsAndAConfigWithNothingToServeAreRefused) {
  std::string cli = REGULARS_CLI;
  std::string plain = std::string(REGULARS_SOURCE_DIR) + "/config/examples/store.json";
  auto run = [&](const std::string& args) {
    int raw = std::system((cli + " " + args + " > /dev/null 2> " + dir_ + "/err").c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  EXPECT_EQ(run("serve --config " + plain + " --db " + dir_ + "/l.sqlite"), 2);
  EXPECT_NE(Read(dir_ + "/err").find("nothing_to_serve"), std::string::npos);
  EXPECT_EQ(run("serve --config " + config_ + " --db " + dir_ + "/l.sqlite --port 70000"), 2);
  EXPECT_EQ(run("serve --config " + config_), 2);
  EXPECT_EQ(run("scanner --config " + config_), 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/l.sqlite")) << "no ledger for a usage error";
}

// No config in force to sell with: the service never starts (nothing listens, so a probe
// sees it down), and the error names the file and the field.
TEST_F(Serve, AServiceStartedOnARefusedConfigExitsTwoNamingItAndNeverListens) {
  Json config = Json::parse(Read(config_));
  config["goodwil"] = config["goodwill"];
  std::ofstream(config_) << config.dump();
  std::string command = std::string(REGULARS_CLI) + " serve --config " + config_ + " --db " + dir_ +
                        "/ledger.sqlite --port 0 --port-file " + dir_ + "/port > " + dir_ +
                        "/out 2> " + dir_ + "/err";
  int raw = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 2);
  Json error = Json::parse(Read(dir_ + "/err"), nullptr, false);
  ASSERT_TRUE(error.is_object()) << Read(dir_ + "/err");
  EXPECT_EQ(error["error"]["code"], "invalid_config");
  EXPECT_EQ(error["error"]["where"], config_ + "#/goodwil");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/port")) << "it never listened";
}

// What systemd's service manager listens on: an AF_UNIX datagram socket of the test's own.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool bound() const { return bound_; }

  // The next datagram, or "" after `ms` milliseconds without one.
  std::string Next(int ms) {
    timeval timeout{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[512];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST_F(Serve, EveryStderrLineIsOneJsonObjectNamingItsEventStoreAndTill) {
  StartServe();
  ASSERT_EQ(Call(bhttp::verb::get, "/readyz").first, 200);
  ASSERT_TRUE(StopServe());
  auto lines = StderrLines();
  ASSERT_GE(lines.size(), 2u);
  for (const auto& line : lines) {
    EXPECT_EQ(line.front(), '{') << "no priority prefix off the journal: " << line;
    Json json = Json::parse(line, nullptr, false);
    ASSERT_TRUE(json.is_object()) << line;
    EXPECT_TRUE(json["event"].is_string()) << line;
    EXPECT_EQ(json["store_id"], "S001") << line;
    EXPECT_EQ(json["till_id"], "T01") << line;
  }
  EXPECT_EQ(Json::parse(lines.front())["event"], "serve_started");
  EXPECT_EQ(Json::parse(lines.back())["event"], "serve_stopped");
  EXPECT_EQ(Json::parse(lines.back())["signal"], "SIGTERM");
}

TEST_F(Serve, AnErrorLineCarriesPriorityErrWhenStderrIsTheJournal) {
  Launch journal;
  journal.stderr_is_journal = true;
  StartServe(journal);
  Json config = Json::parse(Read(config_));
  config["goodwil"] = config["goodwill"];  // a typo: the file on disk is refused
  std::ofstream(config_) << config.dump();
  ASSERT_EQ(Call(bhttp::verb::get, "/readyz").first, 200) << "still selling";
  ASSERT_TRUE(StopServe());
  std::string refused, started;
  for (const auto& line : StderrLines()) {
    ASSERT_EQ(line.front(), '<') << "every line has its priority: " << line;
    if (line.find("\"config_refused\"") != std::string::npos) refused = line;
    if (line.find("\"serve_started\"") != std::string::npos) started = line;
  }
  ASSERT_TRUE(refused.rfind("<3>{", 0) == 0) << refused;
  EXPECT_EQ(Json::parse(refused.substr(3))["where"], "/goodwil");
  EXPECT_TRUE(started.rfind("<6>{", 0) == 0) << started;
}

// A Luhn-valid PAN, a loyalty card number and a first name sent every way a till takes
// them: none is in the service's log, nor the CLI's or the scanner's error output; the PAN
// is in no ledger byte either (only its keyed hash is kept).
TEST_F(Serve, NoPanCardNumberFirstNameOrSecretReachesTheLogs) {
  const std::string pan = "4111111111111111", card = "2900000000018", name = "Ophelie";
  const std::string bad_pan = "4111111111111112";  // fails the check digit: an error
  Launch journal;
  journal.stderr_is_journal = true;
  StartServe(journal);
  EXPECT_EQ(Call(bhttp::verb::post, "/v1/enroll", Json{{"card", card}, {"first_name", name}}.dump())
                .first,
            200);
  EXPECT_EQ(
      Call(bhttp::verb::post, "/v1/link",
           Json{{"card", card},
                {"payment_token", {{"value", pan}, {"source", "pan"}}},
                {"consent",
                 {{"text", "link my card"}, {"at", "2026-12-07T10:00:00Z"}, {"cashier_id", "C07"}}}}
               .dump())
          .first,
      200);
  Json basket = {{"pos_txn_id", "S001-T01-LOG-1"},
                 {"identifiers", {{{"kind", "payment_token"}, {"value", pan}, {"source", "pan"}}}},
                 {"lines",
                  {{{"line", 1},
                    {"sku", "3400000000001"},
                    {"qty", 1},
                    {"unit_price", 1290},
                    {"brand", "Dodo"},
                    {"categories", {"baby/diapers"}}}}}};
  EXPECT_EQ(Call(bhttp::verb::post, "/v1/evaluate", basket.dump()).first, 200);
  EXPECT_EQ(Call(bhttp::verb::post, "/v1/commit", basket.dump()).first, 200);
  EXPECT_EQ(
      Call(bhttp::verb::post, "/v1/recognize",
           Json{{"identifiers", {{{"kind", "payment_token"}, {"value", pan}, {"source", "pan"}}}}}
               .dump())
          .first,
      200);
  Call(bhttp::verb::post, "/v1/recognize",
       Json{{"identifiers", {{{"kind", "payment_token"}, {"value", bad_pan}, {"source", "pan"}}}}}
           .dump());
  Call(bhttp::verb::post, "/v1/enroll", Json{{"card", card + "9"}, {"first_name", name}}.dump());
  // The command line, beside the running service: a sale and refused input.
  basket["pos_txn_id"] = "S001-T01-LOG-2";
  std::ofstream(dir_ + "/basket.json") << basket.dump();
  std::string cli =
      std::string(REGULARS_CLI) + " --config " + config_ + " --db " + dir_ + "/ledger.sqlite ";
  std::system(
      (cli + "checkout " + dir_ + "/basket.json > /dev/null 2> " + dir_ + "/cli.err").c_str());
  std::system((cli + "enroll --card " + card + "9 --first-name " + name + " > /dev/null 2>> " +
               dir_ + "/cli.err")
                  .c_str());
  std::system((cli + "enroll --card " + card + " --first-name " + name + " > /dev/null 2>> " +
               dir_ + "/cli.err")
                  .c_str());
  // The scanner: the card, a QR-like text and a PAN typed where a code goes.
  std::ofstream(dir_ + "/scans") << "#" << card << "!\r\n#" << pan << "!\r\n#" << bad_pan
                                 << "!\r\n";
  std::string out, scanner_err;
  RunScanner(dir_ + "/scans", &out, &scanner_err);
  ASSERT_TRUE(StopServe());

  std::string logs = Read(dir_ + "/serve.err");
  ASSERT_NE(logs.find("serve_started"), std::string::npos) << "the log was captured";
  std::string secret_hex = Json::parse(Read(config_))["payment_tokens"]["keys"][0]["secret_hex"];
  for (const std::string& said : {logs, Read(dir_ + "/cli.err"), scanner_err}) {
    for (const std::string& secret : {pan, bad_pan, card, name, kToken, secret_hex}) {
      EXPECT_EQ(said.find(secret), std::string::npos) << secret << " in:\n" << said;
    }
  }
  for (const char* file : {"/ledger.sqlite", "/ledger.sqlite-wal"}) {
    std::string bytes = Read(dir_ + file);
    EXPECT_EQ(bytes.find(pan), std::string::npos) << "the PAN in " << file;
    EXPECT_EQ(bytes.find(bad_pan), std::string::npos) << "the PAN in " << file;
  }
}

TEST_F(Serve, ReadyIsNotifiedOnceThePortFileIsWrittenThenWatchdogPingsThenStopping) {
  NotifySocket manager(dir_ + "/notify");
  ASSERT_TRUE(manager.bound());
  Launch watched;
  watched.environment = {{"NOTIFY_SOCKET", dir_ + "/notify"}, {"WATCHDOG_USEC", "200000"}};
  StartServe(watched);
  std::string first = manager.Next(5000);
  EXPECT_EQ(first, "READY=1");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/port")) << "ready after the port is known";
  int pings = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (pings < 4 && std::chrono::steady_clock::now() < until) {
    std::string next = manager.Next(1000);
    if (next == "WATCHDOG=1") ++pings;
  }
  EXPECT_GE(pings, 4) << "every WATCHDOG_USEC/2 = 100 ms";
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  std::string said;
  for (int i = 0; i < 50 && said != "STOPPING=1"; ++i) said = manager.Next(200);
  EXPECT_EQ(said, "STOPPING=1");
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
}

TEST_F(Serve, NoWatchdogPingsForAnotherProcesssWatchdog) {
  NotifySocket manager(dir_ + "/notify");
  ASSERT_TRUE(manager.bound());
  Launch elsewhere;
  elsewhere.environment = {
      {"NOTIFY_SOCKET", dir_ + "/notify"}, {"WATCHDOG_USEC", "200000"}, {"WATCHDOG_PID", "1"}};
  StartServe(elsewhere);
  EXPECT_EQ(manager.Next(5000), "READY=1");
  EXPECT_EQ(manager.Next(500), "") << "WATCHDOG_PID names another process";
}

// The sync section is there, but systemd's regulars-sync.timer runs `sync now`: serve
// schedules no night of its own.
TEST_F(Serve, WithNoNightlySyncServeLeavesTheSyncToTheTimer) {
  Json config = Json::parse(Read(config_));
  config["sync"] = {{"hq", "127.0.0.1:9"}, {"ca", "ca.pem"}, {"cert", "s.pem"}, {"key", "s.key"}};
  std::ofstream(config_) << config.dump();
  Launch timer;
  timer.flags = {"--no-nightly-sync"};
  StartServe(timer);
  ASSERT_TRUE(StopServe());
  std::string logs = Read(dir_ + "/serve.err");
  EXPECT_NE(logs.find("\"nightly_sync_off\""), std::string::npos) << logs;
  EXPECT_EQ(logs.find("\"sync_scheduled\""), std::string::npos) << logs;

  // Without the flag, the same config schedules the night.
  std::filesystem::remove(dir_ + "/port");
  std::filesystem::remove(dir_ + "/ledger.sqlite");
  StartServe();
  for (int i = 0; i < 200 && Read(dir_ + "/serve.err").find("sync_scheduled") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(StopServe());
  EXPECT_NE(Read(dir_ + "/serve.err").find("\"sync_scheduled\""), std::string::npos);
}

}  // namespace
