// The till's HTTP service (docs/http-service.md): a real server on loopback over a real
// till (the C ABI on a SQLite ledger), driven by a real HTTP client.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "http/assets.h"
#include "http/http_server.h"
#include "http/till_service.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using regulars::http::Limits;

const std::string kToken(64, 'c');
const std::string kCard = "2900000000018";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Answer {
  int status = 0;
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  Json json() const { return Json::parse(body, nullptr, false); }
  std::map<std::string, std::string> headers;
};

// A keep-alive HTTP client on one connection.
class Client {
 public:
  explicit Client(uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  Answer Send(bhttp::verb verb, const std::string& target, const std::string& body = "",
              const std::string& token = kToken,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    bhttp::request<bhttp::string_body> request(verb, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    if (!token.empty()) request.set(bhttp::field::authorization, "Bearer " + token);
    for (const auto& [name, value] : headers) request.set(name, value);
    request.keep_alive(true);
    if (verb == bhttp::verb::post) {
      request.body() = body;
      request.prepare_payload();
    }
    stream_.expires_after(std::chrono::seconds(10));
    bhttp::write(stream_, request);
    return Read();
  }
  Answer Post(const std::string& target, const Json& body, const std::string& token = kToken) {
    return Send(bhttp::verb::post, target, body.dump(), token);
  }
  Answer Get(const std::string& target, const std::string& token = kToken) {
    return Send(bhttp::verb::get, target, "", token);
  }
  Answer Read() {
    bhttp::response<bhttp::string_body> response;
    stream_.expires_after(std::chrono::seconds(10));
    bhttp::read(stream_, buffer_, response);
    Answer a{static_cast<int>(response.result_int()), response.body(), {}};
    for (const auto& field : response) {
      a.headers[std::string(field.name_string())] = std::string(field.value());
    }
    return a;
  }
  beast::tcp_stream& stream() { return stream_; }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// Reads raw bytes until the connection closes or `until` appears (or 10 s pass).
std::string ReadRaw(tcp::socket& socket, const std::string& until = "") {
  std::string out;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    if (socket.available(ec) == 0) {
      // Poll: the socket may also have been closed by the server.
      socket.non_blocking(true);
      size_t n = socket.read_some(asio::buffer(buffer), ec);
      socket.non_blocking(false);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (ec) break;
      out.append(buffer, n);
    } else {
      size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) break;
      out.append(buffer, n);
    }
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

Json Basket(const std::string& id, int64_t packs, const std::string& card = kCard) {
  Json basket = {
      {"pos_txn_id", id},
      {"store_id", "S001"},
      {"till_id", "T01"},
      {"cashier_id", "C07"},
      {"at", "2026-11-23T10:15:00+01:00"},
      {"currency", "EUR"},
      {"lines", {{{"line", 1}, {"sku", "3400000000001"}, {"qty", packs}, {"unit_price", 1290}}}}};
  if (!card.empty()) basket["identifiers"] = {{{"kind", "card"}, {"value", card}}};
  return basket;
}

class HttpService : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("regulars-http-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Json config = Json::parse(
        ReadFile(std::string(REGULARS_SOURCE_DIR) + "/config/examples/demo-store.json"));
    config_path_ = (dir_ / "store.json").string();
    std::ofstream(config_path_) << config.dump();
    char* error = nullptr;
    ASSERT_EQ(regulars_open(&till_, config_path_.c_str(), (dir_ / "ledger.sqlite").c_str(), &error),
              REGULARS_OK)
        << (error ? error : "");
  }

  void Start(Limits limits = {}, bool goodwill = true) {
    regulars::http::TillServiceOptions options;
    options.token = kToken;
    options.goodwill_enabled = goodwill;
    options.readiness = [this] { return ready_problem_; };
    options.extra_metrics = [] { return std::string("regulars_sync_backlog_events 7\n"); };
    // As on the journal: each line starts with its priority.
    options.logger = std::make_shared<regulars::Logger>(
        "S001", "T01",
        [this](const std::string& line) {
          std::lock_guard<std::mutex> lock(log_mutex_);
          logged_.push_back({line.rfind("<3>", 0) == 0, line.substr(3)});
        },
        /*journal=*/true);
    service_ = std::make_unique<regulars::http::TillService>(till_, options);
    regulars::http::Observer observer;
    auto* metrics = &service_->metrics();
    observer.refused = [metrics](std::string_view reason) { metrics->Refused(reason); };
    observer.connections = [metrics](int open) { metrics->Connections(open); };
    auto server = regulars::http::Server::Start(
        "127.0.0.1", 0, limits,
        [s = service_.get()](const regulars::http::Request& r) { return s->Handle(r); }, observer);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    service_.reset();
    regulars_close(till_);
    std::filesystem::remove_all(dir_);
  }

  uint16_t port() const { return server_->port(); }

  std::filesystem::path dir_;
  std::string config_path_;
  regulars_till* till_ = nullptr;
  std::string ready_problem_;
  std::mutex log_mutex_;
  std::vector<std::pair<bool, std::string>> logged_;  // (error, line) told to the log
  std::unique_ptr<regulars::http::TillService> service_;
  std::unique_ptr<regulars::http::Server> server_;
};

TEST_F(HttpService, EveryRouteIsInTheOpenApiDocumentAndNothingElse) {
  Start();
  Json document = Json::parse(ReadFile(std::string(REGULARS_SOURCE_DIR) + "/docs/openapi.json"));
  std::set<std::string> documented;
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      documented.insert(method + " " + path);
      // Documented security matches the code's: an empty list means no token.
      bool needs_token = !operation.contains("security") || !operation["security"].empty();
      for (const auto& route : regulars::http::Routes()) {
        std::string m = route.method;
        std::transform(m.begin(), m.end(), m.begin(), ::tolower);
        if (m == method && route.path == path) {
          EXPECT_EQ(route.needs_token, needs_token) << method << " " << path;
        }
      }
    }
  }
  std::set<std::string> served;
  for (const auto& route : regulars::http::Routes()) {
    std::string m = route.method;
    std::transform(m.begin(), m.end(), m.begin(), ::tolower);
    served.insert(m + " " + route.path);
  }
  EXPECT_EQ(served, documented);
  // And the service serves that very document.
  Client client(port());
  Answer a = client.Get("/openapi.json");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.json(), document);
}

TEST_F(HttpService, RequestsWithoutTheTokenAreRefusedButHealthChecksAreNot) {
  Start();
  Client client(port());
  for (const auto& route : regulars::http::Routes()) {
    if (!route.needs_token) continue;
    bhttp::verb verb = std::string(route.method) == "POST" ? bhttp::verb::post : bhttp::verb::get;
    for (const std::string& token : {std::string(), std::string(64, 'd'), kToken + "x"}) {
      Answer a = client.Send(verb, route.path, "{}", token);
      EXPECT_EQ(a.status, 401) << route.path << " with token '" << token << "'";
      EXPECT_EQ(a.json()["error"]["code"], "unauthorized");
      EXPECT_EQ(a.json()["error"]["where"], "Authorization");
      EXPECT_EQ(a.header("WWW-Authenticate"), "Bearer");
    }
  }
  EXPECT_EQ(client.Get("/healthz", "").status, 200);
  EXPECT_EQ(client.Get("/readyz", "").json()["status"], "ready");
  ready_problem_ = "the ledger cannot be read: disk I/O error";
  Answer not_ready = client.Get("/readyz", "");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.json()["error"]["code"], "not_ready");
}

// The value of a metric line "NAME VALUE" in the text format, or "" when absent.
std::string MetricValue(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  size_t from = at + name.size() + 2;
  return text.substr(from, text.find('\n', from) - from);
}

TEST_F(HttpService, AConfigRefusedOnDiskIsNamedByReadyzHealthzAndMetrics) {
  Start();
  Client client(port());
  Answer ready = client.Get("/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["config"]["state"], "in_force") << ready.body;
  EXPECT_EQ(MetricValue(client.Get("/metrics").body, "regulars_config_refused"), "0");

  // A typo in the file on disk: the till keeps selling on the rules in force.
  Json config = Json::parse(ReadFile(config_path_));
  Json typo = config;
  typo["goodwil"] = typo["goodwill"];
  std::ofstream(config_path_) << typo.dump();
  for (const char* path : {"/readyz", "/healthz"}) {
    Answer a = client.Get(path, "");
    EXPECT_EQ(a.status, 200) << path << ": selling on the rules in force is ready";
    Json said = a.json()["config"];
    EXPECT_EQ(said["state"], "refused") << path << ": " << a.body;
    EXPECT_EQ(said["file"], config_path_);
    EXPECT_EQ(said["where"], "/goodwil");
    EXPECT_NE(said["message"].get<std::string>().find("did you mean /goodwill?"), std::string::npos)
        << said["message"];
    EXPECT_TRUE(said["since"].get<std::string>().ends_with("Z")) << said["since"];
  }
  std::string metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "regulars_config_refused"), "1") << metrics;
  EXPECT_GT(std::stoll(MetricValue(metrics, "regulars_config_refused_since_seconds")), 0);
  Answer sale = client.Post("/v1/evaluate", Basket("S001-T01-1", 1));
  EXPECT_EQ(sale.status, 200) << "still selling";
  EXPECT_NE(sale.body.find("config_not_reloaded"), std::string::npos) << sale.body;
  ASSERT_EQ(logged_.size(), 1u) << "logged once, however often asked";
  EXPECT_TRUE(logged_[0].first) << "at error priority";
  Json line = Json::parse(logged_[0].second);
  EXPECT_EQ(line["event"], "config_refused");
  EXPECT_EQ(line["where"], "/goodwil") << logged_[0].second;

  // The typo fixed: nothing is refused any more.
  std::ofstream(config_path_) << config.dump(2);
  Answer fixed = client.Get("/readyz", "");
  EXPECT_EQ(fixed.json()["config"]["state"], "in_force") << fixed.body;
  EXPECT_FALSE(fixed.json()["config"].contains("since"));
  EXPECT_EQ(MetricValue(client.Get("/metrics").body, "regulars_config_refused"), "0");
  ASSERT_EQ(logged_.size(), 2u);
  EXPECT_FALSE(logged_[1].first);
  EXPECT_EQ(Json::parse(logged_[1].second)["event"], "config_in_force") << logged_[1].second;
}

TEST_F(HttpService, FifthPackIsFreeAcrossVisitsThroughEvaluateAndCommit) {
  Start();
  Client client(port());
  Answer enrolled = client.Post("/v1/enroll", {{"card", kCard}});
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  for (int visit = 1; visit <= 2; ++visit) {
    Answer a = client.Post("/v1/commit", Basket("S001-T01-" + std::to_string(visit), 2));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.json()["total_discount"], 0);
  }
  Json fifth = Basket("S001-T01-3", 1);
  Answer proposed = client.Post("/v1/evaluate", fifth);
  ASSERT_EQ(proposed.status, 200) << proposed.body;
  EXPECT_EQ(proposed.json()["status"], "proposed");
  EXPECT_EQ(proposed.json()["lines"][0]["discounts"][0]["rule"], "diapers-5th");
  EXPECT_EQ(proposed.json()["lines"][0]["discounts"][0]["amount"], 1290);
  Answer committed = client.Post("/v1/commit", fifth);
  ASSERT_EQ(committed.status, 200);
  EXPECT_EQ(committed.json()["status"], "committed");
  // The same commit again answers the same receipt and writes nothing.
  Answer again = client.Post("/v1/commit", fifth);
  EXPECT_EQ(again.json(), committed.json());
  // Reusing the id for another basket is a conflict; voiding what never was, not found.
  EXPECT_EQ(client.Post("/v1/commit", Basket("S001-T01-3", 4)).status, 409);
  Answer unknown = client.Post("/v1/void", {{"pos_txn_id", "S001-T01-999"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(client.Post("/v1/void", {{"pos_txn_id", "S001-T01-3"}}).status, 200);
}

TEST_F(HttpService, ALostCardIsReplacedAndTheNewOneCarriesTheVisits) {
  Start();
  Client client(port());
  const std::string new_card = "2900000000032";
  ASSERT_EQ(client.Post("/v1/enroll", {{"card", kCard}}).status, 200);
  ASSERT_EQ(client.Post("/v1/commit", Basket("S001-T01-1", 4)).status, 200);
  Answer replaced = client.Post("/v1/card/replace",
                                {{"card", kCard}, {"new_card", new_card}, {"cashier_id", "C07"}});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json()["replaced"]["old_card"], kCard);
  EXPECT_EQ(replaced.json()["replaced"]["new_card"], new_card);
  Answer fifth = client.Post("/v1/evaluate", Basket("S001-T01-2", 1, new_card));
  EXPECT_EQ(fifth.json()["total_discount"], 1290) << fifth.body;
  Answer old = client.Post("/v1/evaluate", Basket("S001-T01-3", 1));
  EXPECT_TRUE(old.json()["customer"].is_null()) << old.body;
  EXPECT_EQ(old.json()["notices"][0]["code"], "card_replaced");
  // Again: the old card is replaced already (409); an unknown one is not found (404).
  Answer twice = client.Post("/v1/card/replace", {{"card", kCard}, {"new_card", "2900000000049"}});
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(twice.json()["error"]["code"], "card_replaced");
  Answer unknown =
      client.Post("/v1/card/replace", {{"card", "2900000000049"}, {"new_card", "2900000000025"}});
  EXPECT_EQ(unknown.status, 404);
  Answer bad = client.Post("/v1/card/replace", {{"card", kCard}, {"new_card", "2900000000033"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"]["where"], "/new_card");
}

TEST_F(HttpService, BadInputIsA400NamingWhatAndWhere) {
  Start();
  Client client(port());
  Json basket = Basket("S001-T01-1", 1);
  basket["lines"][0]["qty"] = "two";
  Answer a = client.Post("/v1/evaluate", basket);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.json()["error"]["where"], "/lines/0/qty");
  Answer broken = client.Send(bhttp::verb::post, "/v1/commit", "{\"pos_txn_id\": ");
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(broken.json()["error"]["code"], "invalid_basket");
  Answer nul = client.Send(bhttp::verb::post, "/v1/evaluate", std::string("{\"a\":1}\0x", 9));
  EXPECT_EQ(nul.status, 400);
  EXPECT_EQ(nul.json()["error"]["where"], "body");
  Answer wrong_method = client.Get("/v1/commit");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow"), "POST");
  EXPECT_EQ(client.Get("/v2/nothing").status, 404);
  // Nothing was stored by any of it.
  EXPECT_EQ(client.Post("/v1/void", {{"pos_txn_id", "S001-T01-1"}}).status, 404);
}

TEST_F(HttpService, SeveralTillsCommitAtOnceOnKeepAliveConnections) {
  Start();
  Client(port()).Post("/v1/enroll", {{"card", kCard}});
  std::atomic<int> ok{0};
  std::vector<std::thread> tills;
  for (int t = 0; t < 4; ++t) {
    tills.emplace_back([&, t] {
      Client client(port());  // one connection per till, kept alive
      for (int i = 0; i < 10; ++i) {
        std::string id = "S001-T0" + std::to_string(t) + "-" + std::to_string(i);
        if (client.Post("/v1/evaluate", Basket(id, 1)).status == 200 &&
            client.Post("/v1/commit", Basket(id, 1)).status == 200) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : tills) t.join();
  EXPECT_EQ(ok, 40);
  // 40 packs: every fifth free, 8 in all, whatever the order they came in.
  char* out = nullptr;
  ASSERT_EQ(regulars_db_verify(till_, &out), REGULARS_OK);
  EXPECT_TRUE(Json::parse(out)["ok"].get<bool>()) << out;
  regulars_free(out);
  std::string metrics = Client(port()).Get("/metrics").body;
  EXPECT_NE(metrics.find("regulars_commits_total 40\n"), std::string::npos) << metrics;
}

TEST_F(HttpService, ABodyOverTheLimitIs413AndTheServiceGoesOn) {
  Limits limits;
  limits.max_body_bytes = 4096;
  Start(limits);
  Client client(port());
  Answer a = client.Send(bhttp::verb::post, "/v1/evaluate", std::string(5000, ' '));
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.json()["error"]["code"], "payload_too_large");
  EXPECT_EQ(Client(port()).Get("/healthz").status, 200);
}

TEST_F(HttpService, HeadersOverTheLimitAre431) {
  Limits limits;
  limits.max_header_bytes = 2048;
  Start(limits);
  Client client(port());
  Answer a = client.Send(bhttp::verb::get, "/healthz", "", kToken,
                         {{"X-Padding", std::string(4000, 'a')}});
  EXPECT_EQ(a.status, 431);
  EXPECT_EQ(a.json()["error"]["code"], "headers_too_large");
  EXPECT_EQ(Client(port()).Get("/healthz").status, 200);
}

TEST_F(HttpService, ASlowClientGets408AndAQuietOneIsClosed) {
  Limits limits;
  limits.request_timeout_ms = 300;
  limits.idle_timeout_ms = 300;
  Start(limits);
  asio::io_context ioc;
  tcp::socket slow(ioc);
  slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  asio::write(slow, asio::buffer(std::string(
                        "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")));
  std::string answer = ReadRaw(slow);
  EXPECT_NE(answer.find("HTTP/1.1 408"), std::string::npos) << answer;
  EXPECT_NE(answer.find("request_timeout"), std::string::npos);
  tcp::socket quiet(ioc);
  quiet.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  EXPECT_EQ(ReadRaw(quiet), "") << "a connection that never spoke is closed without an answer";
  EXPECT_EQ(Client(port()).Get("/healthz").status, 200);
  std::string metrics = Client(port()).Get("/metrics").body;
  EXPECT_NE(metrics.find("regulars_http_refused_total{reason=\"request_timeout\"} 1"),
            std::string::npos)
      << metrics;
}

TEST_F(HttpService, OneConnectionTooManyGets503) {
  Limits limits;
  limits.max_connections = 3;
  Start(limits);
  std::vector<std::unique_ptr<Client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<Client>(port()));
    EXPECT_EQ(open.back()->Get("/healthz").status, 200);
  }
  asio::io_context ioc;
  tcp::socket extra(ioc);
  extra.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  std::string answer = ReadRaw(extra);
  EXPECT_NE(answer.find("HTTP/1.1 503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("too_many_connections"), std::string::npos);
  // The connections already open go on; once one closes, a new one is served.
  EXPECT_EQ(open[0]->Get("/healthz").status, 200);
  open.pop_back();
  for (int attempt = 0; attempt < 100; ++attempt) {
    Client again(port());
    try {
      if (again.Get("/healthz").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "a freed connection slot was never served";
}

TEST_F(HttpService, MalformedHttpIsA400AndTheServiceGoesOn) {
  Start();
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("POST /v1/commit HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
    asio::write(socket, asio::buffer(garbage));
    std::string answer = ReadRaw(socket);
    EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << garbage << " -> " << answer;
  }
  EXPECT_EQ(Client(port()).Get("/healthz").status, 200);
}

TEST_F(HttpService, ThePanelStreamShowsEachEvaluateAsItHappens) {
  Start();
  Client client(port());
  client.Post("/v1/enroll", {{"card", kCard}});
  asio::io_context ioc;
  tcp::socket panel(ioc);
  panel.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  asio::write(panel,
              asio::buffer("GET /panel/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           kToken + "\r\n\r\n"));
  std::string first = ReadRaw(panel, "\n\n");
  EXPECT_NE(first.find("Content-Type: text/event-stream"), std::string::npos) << first;
  EXPECT_NE(first.find("\"event\":\"idle\""), std::string::npos) << first;
  ASSERT_EQ(client.Post("/v1/evaluate", Basket("S001-T01-7", 5)).status, 200);
  std::string next = ReadRaw(panel, "}\n\n");
  ASSERT_NE(next.find("event: state\ndata: "), std::string::npos) << next;
  Json state = Json::parse(next.substr(next.find("data: ") + 6));
  EXPECT_EQ(state["event"], "evaluate");
  EXPECT_EQ(state["pos_txn_id"], "S001-T01-7");
  EXPECT_EQ(state["customer"]["recognized_by"], "card");
  EXPECT_EQ(state["receipt"]["lines"][0]["discounts"][0]["rule"], "diapers-5th");
  EXPECT_EQ(client.Get("/v1/panel").json(), state);
}

TEST_F(HttpService, TheGoodwillButtonAddsAGestureToTheBasketAndItsCommit) {
  Start();
  Client client(port());
  client.Post("/v1/enroll", {{"card", kCard}});
  Json basket = Basket("S001-T01-8", 1);
  Answer unknown = client.Post(
      "/v1/goodwill", {{"pos_txn_id", "S001-T01-8"}, {"amount", 150}, {"reason", "waited"}});
  EXPECT_EQ(unknown.status, 404) << "no basket evaluated yet";
  Answer proposed = client.Post("/v1/evaluate", basket);
  int64_t budget = proposed.json()["goodwill"]["budget_left"].get<int64_t>();
  ASSERT_GT(budget, 150);
  Answer over =
      client.Post("/v1/goodwill",
                  {{"pos_txn_id", "S001-T01-8"}, {"amount", budget + 1}, {"reason", "too much"}});
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.json()["error"]["code"], "goodwill_over_budget");
  Answer bad = client.Post("/v1/goodwill", {{"pos_txn_id", "S001-T01-8"}, {"amount", 1.5}});
  EXPECT_EQ(bad.json()["error"]["where"], "/amount");
  Answer granted = client.Post("/v1/goodwill", {{"pos_txn_id", "S001-T01-8"},
                                                {"amount", 150},
                                                {"reason", "waited for the void"},
                                                {"cashier_id", "C07"}});
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(granted.json()["goodwill"]["granted"], 150);
  EXPECT_EQ(granted.json()["goodwill"]["budget_left"], budget - 150);
  EXPECT_EQ(client.Get("/v1/panel").json()["event"], "goodwill");
  // The POS commits the basket as it knows it; the gesture is on the receipt.
  Answer committed = client.Post("/v1/commit", basket);
  ASSERT_EQ(committed.status, 200) << committed.body;
  EXPECT_EQ(committed.json()["goodwill"]["granted"], 150);
  EXPECT_EQ(committed.json()["total_discount"], 150);
  EXPECT_EQ(client.Post("/v1/commit", basket).json(), committed.json()) << "a retry is the same";
}

TEST_F(HttpService, APaidSaleOrOneRecognizedByPaymentCardTakesNoGestureFromThePanel) {
  Start();
  Client client(port());
  client.Post("/v1/enroll", {{"card", kCard}});
  Json basket = Basket("S001-T01-9", 1);
  ASSERT_EQ(client.Post("/v1/evaluate", basket).status, 200);
  ASSERT_EQ(client.Post("/v1/commit", basket).status, 200);
  Answer late = client.Post("/v1/goodwill",
                            {{"pos_txn_id", "S001-T01-9"}, {"amount", 100}, {"reason", "late"}});
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.json()["error"]["code"], "already_committed");
  EXPECT_EQ(client.Post("/v1/commit", basket).status, 200) << "its retry is still the same";
  // The service never keeps a payment card's number, so it cannot re-send such a basket.
  Json paid_by_card = Basket("S001-T01-10", 1, "");
  paid_by_card["identifiers"] = {{{"kind", "payment_token"}, {"value", "4111111111111111"}}};
  ASSERT_EQ(client.Post("/v1/evaluate", paid_by_card).status, 200);
  Answer withheld = client.Post("/v1/goodwill",
                                {{"pos_txn_id", "S001-T01-10"}, {"amount", 100}, {"reason", "x"}});
  EXPECT_EQ(withheld.status, 409);
  EXPECT_EQ(withheld.json()["error"]["code"], "goodwill_needs_pos");
}

TEST_F(HttpService, CommitsAreCountedWithoutGoodwillToo) {
  Start({}, false);
  Client client(port());
  ASSERT_EQ(client.Post("/v1/commit", Basket("S001-T01-1", 1, "")).status, 200);
  EXPECT_NE(client.Get("/metrics").body.find("regulars_commits_total 1\n"), std::string::npos);
  EXPECT_EQ(client.Post("/v1/goodwill", {{"pos_txn_id", "S001-T01-1"}}).json()["error"]["code"],
            "goodwill_not_configured");
}

TEST_F(HttpService, MetricsCountRequestsLatencyErrorsAndTheSyncBacklog) {
  Start();
  Client client(port());
  client.Get("/healthz");
  client.Post("/v1/enroll", {{"card", "123"}});
  std::string m = client.Get("/metrics").body;
  EXPECT_NE(m.find("regulars_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("regulars_http_requests_total{route=\"/v1/enroll\",status=\"400\"} 1"),
            std::string::npos);
  EXPECT_NE(
      m.find("regulars_http_request_duration_seconds_bucket{route=\"/v1/enroll\",le=\"+Inf\"} 1"),
      std::string::npos);
  EXPECT_NE(m.find("regulars_errors_total{code=\"invalid_card\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("regulars_sync_backlog_events 7"), std::string::npos);
  EXPECT_NE(m.find("# TYPE regulars_http_request_duration_seconds histogram"), std::string::npos);
}

TEST_F(HttpService, ThePanelFilesAreServedWithoutATokenAndNothingElseIs) {
  Start();
  Client client(port());
  for (const auto& asset : regulars::http::PanelAssets()) {
    Answer a = client.Get("/panel/" + std::string(asset.name), "");
    EXPECT_EQ(a.status, 200) << asset.name;
    EXPECT_EQ(a.body, asset.bytes);
    EXPECT_EQ(a.header("Content-Type"), asset.content_type);
  }
  EXPECT_EQ(client.Get("/panel/../ledger.sqlite", "").status, 404);
  EXPECT_EQ(client.Get("/panel/events", "").status, 401);
}

}  // namespace
