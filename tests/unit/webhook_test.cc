// The CRM webhook: HQ's events forwarded in order, at least once, over HTTPS, with a
// durable cursor (docs/crm-export.md).
#include "hq/webhook.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "test_certificates.h"
#include "test_till.h"

namespace regulars::testing {
namespace {

class Webhook : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    ok_ = ProvisionPki(pki_->path(), {"ca", "hq localhost 127.0.0.1", "store S001"});
  }
  static void TearDownTestSuite() { delete pki_; }

  void SetUp() override {
    ASSERT_TRUE(ok_);
    std::string p = pki_->path() + "/";
    // The CRM: an HTTPS server that fails the first `failures_` requests.
    auto server = TlsServer::Start("127.0.0.1", 0, {p + "ca.pem", p + "hq.pem", p + "hq.key"},
                                   [this](const HttpRequest& r) {
                                     std::lock_guard lock(mutex_);
                                     if (failures_ > 0) {
                                       --failures_;
                                       return HttpAnswer{503, "busy"};
                                     }
                                     bodies_.push_back(TJson::parse(r.body));
                                     return HttpAnswer{200, "{}"};
                                   });
    ASSERT_TRUE(server.ok()) << server.error().message;
    crm_ = std::move(server).value();
    auto hq = SqliteHqStore::Open(dir_.path() + "/hq.sqlite");
    ASSERT_TRUE(hq.ok());
    hq_ = std::move(hq).value();
    HqBatch batch{"S001", "T01", 1, 5, {}};
    for (int64_t seq = 1; seq <= 5; ++seq) {
      batch.events.push_back({"S001:T01:" + std::to_string(seq), "S001", "T01", seq,
                              1'795'000'000'000 + seq, "sale", "c1", "T" + std::to_string(seq),
                              std::nullopt, R"({"n":)" + std::to_string(seq) + "}"});
    }
    ASSERT_TRUE(hq_->Ingest(batch).ok());
  }
  void TearDown() override { crm_->Stop(); }

  std::unique_ptr<WebhookForwarder> Forwarder() {
    auto own = SqliteHqStore::Open(dir_.path() + "/hq.sqlite");
    EXPECT_TRUE(own.ok());
    std::string p = pki_->path() + "/";
    auto settings = ParseWebhookUrl("https://127.0.0.1:" + std::to_string(crm_->port()) + "/hook");
    EXPECT_TRUE(settings.ok());
    settings->files = {p + "ca.pem", p + "store-S001.pem", p + "store-S001.key"};
    settings->batch_events = 2;
    settings->retry_initial_ms = 5;
    settings->retry_max_ms = 20;
    return std::make_unique<WebhookForwarder>(std::move(own).value(), *settings);
  }
  std::vector<int64_t> Received() {
    std::lock_guard lock(mutex_);
    std::vector<int64_t> seqs;
    for (const auto& body : bodies_) {
      for (const auto& e : body["events"]) seqs.push_back(e["hq_seq"].get<int64_t>());
    }
    return seqs;
  }

  static TempDir* pki_;
  static bool ok_;
  TempDir dir_;
  std::unique_ptr<TlsServer> crm_;
  std::unique_ptr<SqliteHqStore> hq_;
  std::mutex mutex_;
  int failures_ = 0;
  std::vector<TJson> bodies_;
};
TempDir* Webhook::pki_ = nullptr;
bool Webhook::ok_ = false;

TEST_F(Webhook, EveryEventReachesTheCrmInOrderAndTheCursorSurvivesARestart) {
  failures_ = 1;
  auto forwarder = Forwarder();
  auto refused = forwarder->ForwardPending();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "webhook_refused");
  EXPECT_EQ(*hq_->ReadCursor("webhook"), 0) << "nothing acknowledged, nothing moved";

  auto sent = forwarder->ForwardPending();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(*sent, 5);
  EXPECT_EQ(Received(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(bodies_.size(), 3u) << "batches of 2";
  EXPECT_EQ(bodies_[0]["events"][0]["id"], "S001:T01:1");
  EXPECT_EQ(bodies_[0]["events"][0]["body"]["n"], 1);
  EXPECT_EQ(*hq_->ReadCursor("webhook"), 5);

  auto restarted = Forwarder();  // as after HQ restarts
  auto again = restarted->ForwardPending();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0) << "nothing is sent twice once acknowledged";
}

TEST_F(Webhook, TheForwarderThreadRetriesWithBackoffUntilTheCrmIsBack) {
  failures_ = 3;
  auto forwarder = Forwarder();
  forwarder->Start();
  forwarder->Notify();
  for (int i = 0; i < 500 && Received().size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  forwarder->Stop();
  EXPECT_EQ(Received(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(forwarder->failures(), 3);
}

TEST(WebhookUrl, OnlyHttpsWithAHostAndAValidPort) {
  auto ok = ParseWebhookUrl("https://crm.example:8443/hooks/regulars");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "crm.example");
  EXPECT_EQ(ok->port, 8443);
  EXPECT_EQ(ok->path, "/hooks/regulars");
  auto plain = ParseWebhookUrl("https://crm.example");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 443);
  EXPECT_EQ(plain->path, "/");
  for (const char* bad : {"http://crm.example/", "https://:443/", "https://crm.example:0/",
                          "https://crm.example:99999/", "https://crm.example:x/", "crm.example"}) {
    auto e = ParseWebhookUrl(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().where, "--webhook");
  }
}

}  // namespace
}  // namespace regulars::testing
