// Evaluate plus commit through the HTTP service on loopback, with 2 tills at once (--tills), next
// to the same work through the C ABI in-process, in the same run (issue #6). A plain timed
// program: docs/PERFORMANCE.md, "HTTP service", has the command and the figures.
//
//   regulars_http_bench [--dir DIR] [--iterations N] [--rounds R] [--lines L] [--tills T]
//                       [--customers C] [--shared]
//
// Each till has its own ledger and its own service, as the product is deployed (one
// service per till); --shared makes the T lanes share one till and one service instead.
// Each round runs the in-process phase then the HTTP phase (a thread per till, N baskets
// per thread), so both see the same machine; latencies of all rounds are pooled per phase.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http/http_server.h"
#include "http/till_service.h"
#include "regulars/regulars.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kToken(64, 'b');

// The i-th loyalty card of the in-store range "29", with its EAN-13 check digit.
std::string Card(int i) {
  std::string digits = "29" + std::string(10 - std::to_string(i).size(), '0') + std::to_string(i);
  int sum = 0;
  for (size_t d = 0; d < 12; ++d) sum += (digits[d] - '0') * (d % 2 ? 3 : 1);
  return digits + std::to_string((10 - sum % 10) % 10);
}

// Now, in RFC 3339: a basket dated before the customer's enrolment would make every
// commit replay their history (an event arriving out of order), which is not a checkout.
std::string Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms.count()));
  return text;
}

std::string TillId(int till) { return "T" + std::to_string(10 + till); }

std::string Basket(const std::string& id, int till, int customer, int lines) {
  Json basket = {{"pos_txn_id", id},
                 {"store_id", "S001"},
                 {"till_id", TillId(till)},
                 {"cashier_id", "C07"},
                 {"at", Now()},
                 {"currency", "EUR"},
                 {"identifiers", {{{"kind", "card"}, {"value", Card(customer)}}}},
                 {"lines", Json::array()}};
  for (int l = 0; l < lines; ++l) {
    basket["lines"].push_back(
        {{"line", l + 1},
         {"sku", l == 0 ? "3400000000001" : "34000000" + std::to_string(10000 + l)},
         {"qty", 1},
         {"unit_price", 199 + l},
         {"categories", {l % 2 ? "grocery/coffee" : "bakery/bread"}}});
  }
  return basket.dump();
}

// Nearest rank, in microseconds.
double Percentile(std::vector<int64_t>& ns, int percent) {
  std::sort(ns.begin(), ns.end());
  size_t rank = (ns.size() * static_cast<size_t>(percent) + 99) / 100;
  return static_cast<double>(ns[std::max<size_t>(rank, 1) - 1]) / 1000.0;
}

class HttpTill {
 public:
  explicit HttpTill(uint16_t port) : stream_(ioc_) {
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  }
  int Post(const std::string& target, const std::string& body) {
    bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    request.set(bhttp::field::authorization, "Bearer " + kToken);
    request.set(bhttp::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    bhttp::write(stream_, request);
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream_, buffer_, response);
    return static_cast<int>(response.result_int());
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A till of the run: its ledger, its C ABI handle and its HTTP service.
struct BenchTill {
  regulars_till* till = nullptr;
  std::unique_ptr<regulars::http::TillService> service;
  std::unique_ptr<regulars::http::Server> server;

  ~BenchTill() {
    if (server) server->Stop();
    server.reset();  // before the service its connections report to
    service.reset();
    if (till) regulars_close(till);
  }
};

// Opens till `index` in `dir` with the demo store's config and `customers` enrolled, and
// starts its service on a free port.
std::unique_ptr<BenchTill> OpenTill(const std::string& dir, int index, int customers) {
  std::ifstream in(std::string(REGULARS_SOURCE_DIR) + "/config/examples/demo-store.json");
  Json config = Json::parse(in);
  config["till_id"] = TillId(index);
  std::string prefix = dir + "/" + TillId(index);
  std::ofstream(prefix + "-store.json") << config.dump();
  auto t = std::make_unique<BenchTill>();
  char* out = nullptr;
  if (regulars_open(&t->till, (prefix + "-store.json").c_str(), (prefix + "-ledger.sqlite").c_str(),
                    &out) != REGULARS_OK) {
    std::cerr << (out ? out : "cannot open the till") << "\n";
    return nullptr;
  }
  for (int c = 0; c < customers; ++c) {
    out = nullptr;
    if (regulars_enroll(t->till, Json{{"card", Card(c)}}.dump().c_str(), &out) != REGULARS_OK) {
      std::cerr << out << "\n";
      return nullptr;
    }
    regulars_free(out);
  }
  regulars::http::TillServiceOptions options;
  options.token = kToken;
  options.goodwill_enabled = true;  // as a store with goodwill runs it: baskets are parsed
  t->service = std::make_unique<regulars::http::TillService>(t->till, options);
  regulars::http::Limits limits;  // the defaults: 2 server threads
  auto server = regulars::http::Server::Start(
      "127.0.0.1", 0, limits, [service = t->service.get()](const regulars::http::Request& r) {
        return service->Handle(r);
      });
  if (!server.ok()) {
    std::cerr << server.error().message << "\n";
    return nullptr;
  }
  t->server = std::move(server).value();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/regulars-http-bench";
  int iterations = 500, rounds = 3, lines = 10, tills = 2;
  // Customers the baskets rotate through: with 500 a real till's mix, each seen now and
  // then; with 2, each gains thousands of visits during the run, which shows what a long
  // history costs a checkout.
  int customers = 500;
  bool shared = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shared") {
      shared = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--dir") dir = argv[i + 1];
    if (a == "--iterations") iterations = std::stoi(argv[i + 1]);
    if (a == "--rounds") rounds = std::stoi(argv[i + 1]);
    if (a == "--lines") lines = std::stoi(argv[i + 1]);
    if (a == "--tills") tills = std::stoi(argv[i + 1]);
    if (a == "--customers") customers = std::max(1, std::stoi(argv[i + 1]));
    ++i;
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::unique_ptr<BenchTill>> opened;
  for (int t = 0; t < (shared ? 1 : tills); ++t) {
    opened.push_back(OpenTill(dir, t, customers));
    if (!opened.back()) return 1;
  }
  // The till lane `lane` uses, and the till_id its baskets carry.
  auto till_of = [&](int lane) { return shared ? 0 : lane; };

  std::vector<int64_t> in_process, over_http;
  std::mutex mutex;
  std::atomic<int> failures{0};
  auto phase = [&](bool http, int round) {
    std::vector<std::thread> lanes;
    for (int t = 0; t < tills; ++t) {
      lanes.emplace_back([&, t] {
        std::vector<int64_t> ns;
        std::unique_ptr<HttpTill> client;
        BenchTill& mine = *opened[till_of(t)];
        if (http) client = std::make_unique<HttpTill>(mine.server->port());
        for (int i = 0; i < iterations; ++i) {
          std::string id = std::string(http ? "H" : "P") + "-" + std::to_string(round) + "-" +
                           std::to_string(t) + "-" + std::to_string(i);
          std::string basket = Basket(id, till_of(t), (i * tills + t) % customers, lines);
          auto start = Clock::now();
          bool ok;
          if (http) {
            ok = client->Post("/v1/evaluate", basket) == 200 &&
                 client->Post("/v1/commit", basket) == 200;
          } else {
            char* answer = nullptr;
            ok = regulars_evaluate(mine.till, basket.c_str(), &answer) == REGULARS_OK;
            if (!ok && failures == 0) std::cerr << answer << "\n";
            regulars_free(answer);
            answer = nullptr;
            ok = ok && regulars_commit(mine.till, basket.c_str(), &answer) == REGULARS_OK;
            regulars_free(answer);
          }
          ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
          if (!ok) ++failures;
        }
        std::lock_guard<std::mutex> lock(mutex);
        auto& pool = http ? over_http : in_process;
        pool.insert(pool.end(), ns.begin(), ns.end());
      });
    }
    for (auto& t : lanes) t.join();
  };
  for (int round = 0; round < rounds; ++round) {
    phase(false, round);
    phase(true, round);
  }
  opened.clear();
  if (failures > 0) {
    std::cerr << failures << " baskets failed\n";
    return 1;
  }
  double p50_local = Percentile(in_process, 50), p99_local = Percentile(in_process, 99);
  double p50_http = Percentile(over_http, 50), p99_http = Percentile(over_http, 99);
  std::printf("evaluate+commit, %d lines, %d tills at once (%s), %zu baskets per phase\n", lines,
              tills, shared ? "sharing one till and service" : "each its own ledger and service",
              in_process.size());
  std::printf("| path | p50 µs | p99 µs | max µs |\n|---|---|---|---|\n");
  std::printf("| in-process (C ABI) | %.0f | %.0f | %.0f |\n", p50_local, p99_local,
              Percentile(in_process, 100));
  std::printf("| HTTP on loopback | %.0f | %.0f | %.0f |\n", p50_http, p99_http,
              Percentile(over_http, 100));
  std::printf("HTTP p99 / in-process p99: %.2f (goal < 2); HTTP p99 %.0f µs (goal < 2000)\n",
              p99_http / p99_local, p99_http);
  return 0;
}
