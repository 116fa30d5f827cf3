// `regulars serve` and `regulars scanner` as the processes a store runs.
#include <gtest/gtest.h>
#include <signal.h>
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

  // Starts `regulars serve` on a free port, on a ledger made by `db init`, and waits until
  // it listens.
  void StartServe() {
    std::string init = std::string(REGULARS_CLI) + " db init --config " + config_ + " --db " +
                       dir_ + "/ledger.sqlite > /dev/null";
    ASSERT_EQ(std::system(init.c_str()), 0);
    pid_ = fork();
    if (pid_ == 0) {
      std::string out = dir_ + "/serve.out";
      freopen(out.c_str(), "w", stdout);
      execl(REGULARS_CLI, REGULARS_CLI, "serve", "--config", config_.c_str(), "--db",
            (dir_ + "/ledger.sqlite").c_str(), "--port", "0", "--port-file",
            (dir_ + "/port").c_str(), nullptr);
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

}  // namespace
