// HQ's TLS server under a crowd (sync/wire/tls_transport.h): a fixed number of threads
// whatever the number of stores, a cap on connections, a bounded queue of requests, and a
// deadline on every step, over real mutual TLS on loopback.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include "test_certificates.h"
#include "test_till.h"
#include "wire/tls_transport.h"

namespace regulars::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// This process's threads, as the kernel counts them.
int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

class HqServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    ok_ = ProvisionPki(pki_->path(), {"ca", "hq localhost 127.0.0.1", "store S001"});
  }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override { ASSERT_TRUE(ok_) << "provision-pki.sh failed"; }

  static std::string P(const std::string& name) { return pki_->path() + "/" + name; }
  static TlsFiles HqFiles() { return {P("ca.pem"), P("hq.pem"), P("hq.key")}; }
  static TlsFiles StoreFiles() { return {P("ca.pem"), P("store-S001.pem"), P("store-S001.key")}; }

  std::unique_ptr<TlsServer> Start(const TlsServerOptions& options, HttpHandler handler) {
    auto server = TlsServer::Start("127.0.0.1", 0, HqFiles(), std::move(handler), options);
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
    return server.ok() ? std::move(server).value() : nullptr;
  }

  // One request on a new connection: its status, or -1 when the connection failed.
  Result<HttpAnswer> PostOnce(uint16_t port) {
    auto client = TlsClient::Connect("127.0.0.1", port, StoreFiles());
    if (!client.ok()) return client.error();
    return (*client)->Post("/v1/events", "{}");
  }

  static TempDir* pki_;
  static bool ok_;
};
TempDir* HqServer::pki_ = nullptr;
bool HqServer::ok_ = false;

HttpHandler Ok(std::atomic<int>* calls) {
  return [calls](const HttpRequest& r) {
    ++*calls;
    return HttpAnswer{200, TJson{{"store", r.store_id}}.dump()};
  };
}

// The Contract v1 error code of a 503's body, or "" when the body is not that JSON.
std::string ErrorCode(const HttpAnswer& answer) {
  auto json = TJson::parse(answer.body, nullptr, false);
  if (json.is_discarded() || !json.contains("error")) return "";
  const TJson& e = json["error"];
  if (!e.contains("message") || !e["message"].is_string() || e.value("where", "x") != "") return "";
  return e.value("code", "");
}

TEST_F(HqServer, ThreeHundredConcurrentStoresAreServedOrRefusedCleanly) {
  constexpr int kClientThreads = 6, kPerThread = 50, kCap = 64;
  TlsServerOptions options;
  options.max_connections = kCap;
  options.max_queued_requests = kClientThreads * kPerThread;  // no hq_busy in this test
  const int before = ThreadCount();
  std::atomic<int> calls{0};
  auto server = Start(options, Ok(&calls));
  ASSERT_TRUE(server);

  // Each client thread holds its 50 connections open at once; all 300 are open before
  // any request is sent, so exactly the first 64 accepted are served.
  std::latch connected(kClientThreads + 1);
  std::latch go(1);
  std::vector<std::vector<Result<HttpAnswer>>> answers(kClientThreads);
  std::atomic<int> connect_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClientThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<TlsClient>> clients;
      for (int i = 0; i < kPerThread; ++i) {
        auto client = TlsClient::Connect("127.0.0.1", server->port(), StoreFiles());
        if (client.ok()) {
          clients.push_back(std::move(client).value());
        } else {
          ++connect_failures;
        }
      }
      connected.count_down();
      go.wait();
      for (auto& client : clients) answers[t].push_back(client->Post("/v1/events", "{}"));
    });
  }
  connected.arrive_and_wait();
  const int during = ThreadCount();
  go.count_down();
  for (auto& t : threads) t.join();

  EXPECT_EQ(connect_failures, 0);
  RecordProperty("server_threads_with_300_stores", during - before - kClientThreads);
  // The server's own: its network threads and workers, whatever the number of stores.
  EXPECT_LE(during - before, options.network_threads + options.workers + kClientThreads + 2)
      << "threads before " << before << ", with 300 stores connected " << during;
  int served = 0, refused = 0;
  for (const auto& per_thread : answers) {
    for (const auto& answer : per_thread) {
      ASSERT_TRUE(answer.ok()) << answer.error().message;
      if (answer->status == 200) {
        EXPECT_EQ(TJson::parse(answer->body)["store"], "S001");
        ++served;
      } else {
        EXPECT_EQ(answer->status, 503) << answer->body;
        EXPECT_EQ(ErrorCode(*answer), "too_many_connections") << answer->body;
        ++refused;
      }
    }
  }
  EXPECT_EQ(served, kCap);
  EXPECT_EQ(refused, kClientThreads * kPerThread - kCap);
  EXPECT_EQ(calls, kCap) << "a refused connection never reaches the handler";
  EXPECT_GE(server->connections(), kClientThreads * kPerThread);

  // The stores have gone: their connections end on the server soon after, and the next
  // store is served.
  bool served_after = false;
  for (auto until = Clock::now() + std::chrono::seconds(10);
       !served_after && Clock::now() < until;) {
    auto answer = PostOnce(server->port());
    served_after = answer.ok() && answer->status == 200;
    if (!served_after) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(served_after);
  server->Stop();
}

TEST_F(HqServer, AStoreThatConnectsAndNeverSpeaksIsCutAtTheHandshakeDeadline) {
  TlsServerOptions options;
  options.handshake_timeout_ms = 300;
  std::atomic<int> calls{0};
  auto server = Start(options, Ok(&calls));
  ASSERT_TRUE(server);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval wait{10, 0};  // far past the deadline: a server that never cuts fails here
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  auto started = Clock::now();
  char byte = 0;
  ssize_t got = recv(fd, &byte, 1, 0);
  auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  close(fd);
  EXPECT_TRUE(got == 0 || (got < 0 && errno == ECONNRESET)) << "recv " << got << " errno " << errno;
  EXPECT_GE(waited.count(), 250);
  EXPECT_LT(waited.count(), 5000);
  auto answer = PostOnce(server->port());
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  server->Stop();
}

TEST_F(HqServer, ARequestPastAFullWorkerQueueGets503HqBusyAndTheOthersAreServed) {
  TlsServerOptions options;
  options.workers = 1;
  options.max_queued_requests = 1;
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  auto server = Start(options, [&](const HttpRequest&) {
    // The first request holds the one worker until the test lets it go.
    if (calls++ == 0) {
      entered.set_value();
      released.wait();
    }
    return HttpAnswer{200, "{}"};
  });
  ASSERT_TRUE(server);
  uint16_t port = server->port();
  auto held = std::async(std::launch::async, [&] { return PostOnce(port); });
  entered.get_future().wait();
  // Of the next two, one waits in the queue and the other finds it full, whatever their
  // order: the refused one answers at once, the queued one once the worker is free.
  auto b = std::async(std::launch::async, [&] { return PostOnce(port); });
  auto c = std::async(std::launch::async, [&] { return PostOnce(port); });
  while (b.wait_for(milliseconds(5)) != std::future_status::ready &&
         c.wait_for(milliseconds(5)) != std::future_status::ready) {
  }
  release.set_value();
  std::vector<Result<HttpAnswer>> answers;
  answers.push_back(held.get());
  answers.push_back(b.get());
  answers.push_back(c.get());
  int ok = 0, busy = 0;
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    if (answer->status == 200) ++ok;
    if (answer->status == 503 && ErrorCode(*answer) == "hq_busy") ++busy;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(busy, 1);
  EXPECT_EQ(PostOnce(port)->status, 200) << "the queue empties and HQ serves again";
  server->Stop();
}

TEST_F(HqServer, StopEndsOpenConnectionsAndJoinsEveryThread) {
  const int before = ThreadCount();
  std::atomic<int> calls{0};
  auto server = Start({}, Ok(&calls));
  ASSERT_TRUE(server);
  auto client = TlsClient::Connect("127.0.0.1", server->port(), StoreFiles());
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_EQ((*client)->Post("/v1/events", "{}")->status, 200);
  server->Stop();
  EXPECT_EQ(ThreadCount(), before);
  EXPECT_FALSE((*client)->Post("/v1/events", "{}").ok()) << "the kept-alive connection ended";
}

}  // namespace
}  // namespace regulars::testing
