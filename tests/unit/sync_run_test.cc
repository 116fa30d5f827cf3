// The nightly sync end to end in one process, over real mutual TLS on loopback: tills
// push and pull through HQ's service and store (docs/sync-protocol.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "hq/hq_service.h"
#include "hq/hq_store.h"
#include "hq_backends.h"
#include "store/sync_state.h"
#include "test_certificates.h"
#include "test_till.h"
#include "till/customer_lookup.h"
#include "till/outbox.h"
#include "till/schedule.h"
#include "till/sync_client.h"
#include "wire/tls_transport.h"

namespace regulars::testing {
namespace {

// A basket of Contract v1 sold at `store`.
TJson At(const std::string& store, TJson basket) {
  basket["store_id"] = store;
  return basket;
}

std::string ConfigFor(const std::string& store) {
  std::string text = kDiapersConfig;
  text.replace(text.find("S001"), 4, store);
  return text;
}

// HQ away all night: every attempt takes 20 s of it (a connect timing out), on a fake clock.
class AttemptsTakeTwentySeconds : public MemoryEnv {
 public:
  void SleepMs(int64_t ms) override {
    MemoryEnv::SleepMs(ms);
    AdvanceMs(20'000);
  }
};

// A fake clock on which HQ comes back during the runner's first wait.
class HqBackAtTheFirstWait : public MemoryEnv {
 public:
  explicit HqBackAtTheFirstWait(std::function<void()> start_hq) : start_hq_(std::move(start_hq)) {}
  void SleepMs(int64_t ms) override {
    MemoryEnv::SleepMs(ms);
    start_hq_();
  }

 private:
  std::function<void()> start_hq_;
};

// Over each HQ storage backend (hq_backends.h): the same nights on SQLite and PostgreSQL.
class SyncRun : public ::testing::TestWithParam<HqBackend> {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    const std::string d = pki_->path();
    ok_ = ProvisionPki(d, {"ca", "hq localhost 127.0.0.1", "store S001", "store S002"}) &&
          ProvisionPki(d + "/rogue", {"ca", "store S001"});  // another chain's CA
    // HQ certificates of the right CA that a till must refuse: another name, expired.
    std::filesystem::create_directories(d + "/other");
    std::filesystem::create_directories(d + "/expired");
    std::filesystem::copy_file(d + "/ca.pem", d + "/other/ca.pem");
    std::filesystem::copy_file(d + "/ca.key", d + "/other/ca.key");
    ok_ = ok_ && ProvisionPki(d + "/other", {"hq hq.example.org"}) &&
          IssueCertificate(d,
                           {.common_name = "localhost",
                            .valid_from_days = -30,
                            .valid_until_days = -1,
                            .extended_key_usage = "serverAuth",
                            .subject_alt_name = "DNS:localhost,IP:127.0.0.1"},
                           d + "/expired/hq.pem", d + "/expired/hq.key");
  }
  static void TearDownTestSuite() { delete pki_; }

  void SetUp() override {
    ASSERT_TRUE(ok_) << "provision-pki.sh failed";
    auto store = GetParam().open_fresh(hq_dir_.path());
    if (IsSkipped()) return;  // PostgreSQL without a server, REGULARS_SKIP_PG=1
    ASSERT_TRUE(store.ok()) << store.error().message;
    hq_ = std::move(store).value();
    service_ = std::make_unique<HqService>(*hq_);
    StartHq(0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // HQ on `port` (0: any) with the certificate `hq_cert`.pem of the PKI's folder.
  void StartHq(uint16_t port, const std::string& hq_cert = "hq") {
    std::string p = pki_->path() + "/";
    TlsServerOptions options;
    options.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      hq_log_.push_back(line);
      logged_.notify_all();
    };
    auto server = TlsServer::Start(
        "127.0.0.1", port, {p + "ca.pem", p + hq_cert + ".pem", p + hq_cert + ".key"},
        [this](const HttpRequest& r) {
          // HQ slow on look-ups: held until the test lets go (5 s at most).
          for (int i = 0; i < 500 && r.target.starts_with("/v1/customers") && hold_lookups_; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          return service_->Handle(r);
        },
        options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
    port_ = server_->port();
  }

  // The till's config with a "sync" section pointing at HQ, as a parsed Config and a file
  // in `env` (the till's own when none).
  Config SyncConfig(TestTill& till, const std::string& store, const std::string& extra = "",
                    Env* env = nullptr) {
    std::string p = pki_->path() + "/";
    std::string text = ConfigFor(store);
    text.insert(text.rfind('}'), R"(, "sync": {"hq": "127.0.0.1:)" + std::to_string(port_) +
                                     R"(", "ca": ")" + p + R"(ca.pem", "cert": ")" + p + "store-" +
                                     store + R"(.pem", "key": ")" + p + "store-" + store +
                                     R"(.key", "retry_initial_ms": 10, "retry_max_ms": 40,
                                     "give_up_after_minutes": 1, "timeouts_ms": {"connect": 2000,
                                     "handshake": 2000, "request": 5000})" +
                                     extra + "}");
    EXPECT_TRUE(
        (env ? env : &till.env())->WriteFileAtomically(till.dir() + "/config.json", text).ok());
    auto config = ParseConfig(text, till.dir() + "/config.json");
    EXPECT_TRUE(config.ok()) << config.error().message << " at " << config.error().where;
    return config.ok() ? *config : Config{};
  }

  // One sync of `till` as store `store` on `env` (the till's own when none): its waits move
  // the fake clock, never this thread.
  Result<SyncReport> Sync(TestTill& till, const std::string& store, const std::string& extra = "",
                          MemoryEnv* env = nullptr) {
    MemoryEnv& on = env ? *env : till.env();
    Config config = SyncConfig(till, store, extra, &on);
    SyncRunner runner(till.till().ledger(), config, till.dir() + "/config.json", &on);
    return runner.Run();
  }

  // One sync of `till` (store S001) whose config has caps of its own (`caps`, JSON), after
  // HQ's rule set is `rules`: the night and the config file as it is then.
  struct CapsNight {
    Result<SyncReport> night;
    nlohmann::json installed;
  };
  CapsNight SyncWithCaps(TestTill& till, const std::string& caps, const std::string& rules) {
    service_ = std::make_unique<HqService>(*hq_, hq_dir_.path() + "/rules.json");
    std::ofstream(hq_dir_.path() + "/rules.json") << rules;
    std::string path = till.dir() + "/config.json";
    SyncConfig(till, "S001");
    auto json = nlohmann::json::parse(*till.env().ReadFile(path, 1 << 20));
    json["caps"] = nlohmann::json::parse(caps);
    EXPECT_TRUE(till.env().WriteFileAtomically(path, json.dump()).ok());
    Config config = *ParseConfig(json.dump(), path);
    SyncRunner runner(till.till().ledger(), config, path, &till.env());
    CapsNight out{runner.Run(), {}};
    out.installed = nlohmann::json::parse(*till.env().ReadFile(path, 1 << 20));
    return out;
  }

  // HQ's first log line, once its network thread has written it (5 s at most).
  std::string FirstHqLogLine() {
    std::unique_lock<std::mutex> lock(log_mutex_);
    logged_.wait_for(lock, std::chrono::seconds(5), [this] { return !hq_log_.empty(); });
    return hq_log_.empty() ? "" : hq_log_.front();
  }

  // A night that failed at once with a refused certificate: no wait, nothing sent, and
  // `sync status` shows it.
  void ExpectRefusedAtOnce(TestTill& till, const Result<SyncReport>& night) {
    ASSERT_FALSE(night.ok());
    EXPECT_EQ(night.error().code, "tls_certificate_refused") << night.error().message;
    EXPECT_NE(night.error().kind, ErrorKind::kBadInput) << "sync now exits 1";
    EXPECT_TRUE(till.env().sleeps().empty()) << "no backoff: a retry is refused the same way";
    auto error = SyncState(till.till().ledger().db()).Read("last_error");
    ASSERT_TRUE(error.ok() && error->has_value());
    EXPECT_EQ(**error, "tls_certificate_refused: " + night.error().message);
    auto held = hq_->EventCount();
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(*held, 0);
  }

  static TempDir* pki_;
  static bool ok_;
  std::mutex log_mutex_;
  std::condition_variable logged_;
  std::vector<std::string> hq_log_;  // the lines HQ logged
  TempDir hq_dir_;
  std::unique_ptr<HqStore> hq_;
  std::unique_ptr<HqService> service_;
  std::unique_ptr<TlsServer> server_;
  uint16_t port_ = 0;
  std::atomic<bool> hold_lookups_{false};  // HQ slow to answer look-ups
};
TempDir* SyncRun::pki_ = nullptr;
bool SyncRun::ok_ = false;

TEST_P(SyncRun, ACustomerBuyingInTwoStoresGetsTheRewardInEitherAfterTheNight) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  std::string alice = a.Enroll(kAliceCard);
  a.Commit(Basket("A1", kAliceCard, {Packs(1, 3)}));
  auto a_first = Sync(a, "S001");
  ASSERT_TRUE(a_first.ok()) << a_first.error().message;
  auto b_first = Sync(b, "S002");  // the enrolment reaches S002
  ASSERT_TRUE(b_first.ok()) << b_first.error().message;
  EXPECT_EQ(b_first->merged_events, 1);

  // Alice's card is known at S002 now; she buys two packs there.
  TJson sale = b.Commit(At("S002", Basket("B1", kAliceCard, {Packs(1, 2)})));
  EXPECT_EQ(sale["customer"]["id"], alice);
  auto b_night = Sync(b, "S002");
  ASSERT_TRUE(b_night.ok()) << b_night.error().message;
  EXPECT_EQ(b_night->pushed_events, 1);
  auto a_night = Sync(a, "S001");
  ASSERT_TRUE(a_night.ok()) << a_night.error().message;
  EXPECT_EQ(a_night->merged_events, 1) << "S002's sale";

  // Five packs across the chain: the next pack is on the house in either store.
  for (auto [till, store] : {std::pair{&a, "S001"}, std::pair{&b, "S002"}}) {
    TJson next = till->Evaluate(At(store, Basket("N", kAliceCard, {Packs(1, 1)})));
    EXPECT_EQ(next["total_discount"], kPackPrice) << next.dump();
    auto report = till->till().Verify();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
  }
  auto ca = a.till().ledger().counters().Of(alice);
  auto cb = b.till().ledger().counters().Of(alice);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(*ca, *cb) << "the same counters on both tills";
  EXPECT_EQ(a.CountRows("visits"), b.CountRows("visits"));
  auto held = hq_->EventCount();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 3) << "enrolment, A1 and B1, each once";
}

TEST_P(SyncRun, AnErasedCustomerIsForgottenOnEveryTillAfterTheNight) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  std::string alice = a.Enroll(kAliceCard);
  a.Commit(Basket("A1", kAliceCard, {Packs(1, 3)}));
  ASSERT_TRUE(Sync(a, "S001").ok());
  ASSERT_TRUE(Sync(b, "S002").ok());  // S002 recognizes her card now
  EXPECT_EQ(b.Evaluate(At("S002", Basket("B0", kAliceCard, {Packs(1, 1)})))["customer"]["id"],
            alice);

  auto erased = hq_->Erase(alice, "GDPR request", 1'795'500'000'000);
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  for (auto [till, store] : {std::pair{&a, "S001"}, std::pair{&b, "S002"}}) {
    auto night = Sync(*till, store);
    ASSERT_TRUE(night.ok()) << night.error().message;
    TJson receipt = till->Evaluate(At(store, Basket("N", kAliceCard, {Packs(1, 1)})));
    EXPECT_TRUE(receipt["customer"]["id"].is_null()) << store << ": " << receipt.dump();
    auto erased_here = till->till().ledger().customers().IsErased(alice);
    ASSERT_TRUE(erased_here.ok());
    EXPECT_TRUE(*erased_here);
    auto card_left = till->till().ledger().db().QueryInt(
        "SELECT count(*) FROM events WHERE body LIKE '%2900000000018%'");
    ASSERT_TRUE(card_left.ok());
    EXPECT_EQ(*card_left, 0) << store << " still holds the card number";
    auto report = till->till().Verify();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
  }
  // The card can be enrolled again, as a new customer with nothing of the old one.
  std::string again = a.Enroll(kAliceCard);
  EXPECT_NE(again, alice);
  EXPECT_EQ(a.Progress(again), 0);
}

TEST_P(SyncRun, ASecondSyncSendsNothingAgainAndAPagedPullMissesNothing) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  a.Enroll(kAliceCard);
  a.Enroll(kBobCard);
  for (int i = 1; i <= 7; ++i) a.Commit(Basket("A" + std::to_string(i), kAliceCard, {Packs(1, 1)}));
  auto first = Sync(a, "S001", R"(, "batch_events": 3)");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->pushed_events, 9);
  EXPECT_EQ(first->pushed_batches, 3);
  auto again = Sync(a, "S001");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pushed_events, 0);
  b.Commit(At("S002", Basket("B1", "", {Packs(1, 1)})));  // anonymous
  ASSERT_TRUE(Sync(b, "S002", R"(, "pull_page": 1)").ok());
  EXPECT_EQ(b.CountRows("customers"), 2) << "both enrolments, one page at a time";
  auto held = hq_->EventCount();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 10);
}

TEST_P(SyncRun, WithHqDownCheckoutGoesOnAndTheBacklogIsSentWhenHqIsBack) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  server_->Stop();
  server_.reset();
  // The whole night refused: the runner backs off, then gives up; the till is untouched.
  AttemptsTakeTwentySeconds refused_night;
  auto night = Sync(a, "S001", "", &refused_night);
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().code, "sync_unavailable");
  std::vector<int64_t> waits = refused_night.sleeps();
  EXPECT_GE(waits.size(), 2u) << "retried before giving up";
  for (int64_t w : waits) EXPECT_LE(w, 40) << "never past retry_max_ms";
  TJson sale = a.Commit(Basket("A1", kAliceCard, {Packs(1, 2)}));
  EXPECT_EQ(sale["status"], "committed") << "checkout never waits for HQ";
  auto error = SyncState(a.till().ledger().db()).Read("last_error");
  ASSERT_TRUE(error.ok() && error->has_value());
  EXPECT_NE((*error)->find("sync_unavailable"), std::string::npos);

  // HQ comes back on the same port during the next night's retries.
  uint16_t port = port_;
  HqBackAtTheFirstWait next_night([&] {
    if (!server_) StartHq(port);
  });
  auto next = Sync(a, "S001", "", &next_night);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->pushed_events, 2);
  Outbox outbox(a.till().ledger().db(), "S001", "T01");
  auto status = outbox.Backlog();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->backlog, 0);
}

TEST_P(SyncRun, ACardEnrolledElsewhereTodayIsLookedUpAtHqWithItsHistory) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  std::string alice = a.Enroll(kAliceCard);
  a.Commit(Basket("A1", kAliceCard, {Packs(1, 4)}));
  ASSERT_TRUE(Sync(a, "S001").ok());
  // S002 has not pulled: it does not know the card, and asks HQ at checkout.
  b.till().SetCustomerLookup(MakeHqLookup(SyncConfig(b, "S002").sync));
  TJson sale = b.Commit(At("S002", Basket("B1", kAliceCard, {Packs(1, 1)})));
  EXPECT_EQ(sale["customer"]["id"], alice) << sale.dump();
  EXPECT_EQ(sale["total_discount"], kPackPrice) << "her fifth pack, four bought at S001";
  auto report = b.till().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
  // The night after, S001 hears of the sale at S002: the same counters on both tills.
  ASSERT_TRUE(Sync(b, "S002").ok());
  ASSERT_TRUE(Sync(a, "S001").ok());
  auto ca = a.till().ledger().counters().Of(alice);
  auto cb = b.till().ledger().counters().Of(alice);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(*ca, *cb);
}

TEST_P(SyncRun, AReplacedCardIsRecognizedNowhereAfterTheNightAndTheNewOneEverywhere) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  constexpr const char* kNewCard = "2900000000032";
  std::string alice = a.Enroll(kAliceCard);
  a.Commit(Basket("A1", kAliceCard, {Packs(1, 3)}));
  ASSERT_TRUE(Sync(a, "S001").ok());
  ASSERT_TRUE(Sync(b, "S002").ok());  // S002 knows her old card
  b.Commit(At("S002", Basket("B0", kAliceCard, {Packs(1, 1)})));
  ASSERT_TRUE(Sync(b, "S002").ok());  // and her history, once she bought there
  // She lost her card: S001 gives her a new one.
  TJson request{{"card", kAliceCard}, {"new_card", kNewCard}};
  auto replaced = a.till().ReplaceCard(request.dump());
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  ASSERT_TRUE(Sync(a, "S001").ok());
  auto b_night = Sync(b, "S002");
  ASSERT_TRUE(b_night.ok()) << b_night.error().message;
  EXPECT_EQ(b_night->merged_events, 1) << "the replacement";

  // In either store the new card is hers with the four packs; the old one is nobody's.
  for (auto [till, store] : {std::pair{&a, "S001"}, std::pair{&b, "S002"}}) {
    TJson fifth = till->Evaluate(At(store, Basket("N1", kNewCard, {Packs(1, 1)})));
    EXPECT_EQ(fifth["customer"]["id"], alice) << store << ": " << fifth.dump();
    EXPECT_EQ(fifth["total_discount"], kPackPrice) << store << ": her fifth pack";
    TJson old = till->Evaluate(At(store, Basket("N2", kAliceCard, {Packs(1, 1)})));
    EXPECT_TRUE(old["customer"].is_null()) << store << ": " << old.dump();
    ASSERT_FALSE(old["notices"].empty());
    EXPECT_EQ(old["notices"][0]["code"], "card_replaced");
    auto report = till->till().Verify();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->mismatches.empty() && report->problems.empty());
  }

  // A store that never heard of her is not told by HQ that the old card is hers.
  TestTill c(ConfigFor("S002"));
  c.till().SetCustomerLookup(MakeHqLookup(SyncConfig(c, "S002").sync));
  TJson stranger = c.Evaluate(At("S002", Basket("C1", kAliceCard, {Packs(1, 1)})));
  EXPECT_TRUE(stranger["customer"].is_null()) << stranger.dump();
}

TEST_P(SyncRun, AStoreThatPulledOnlyTheEnrolmentAsksForTheHistoryAtFirstSight) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  std::string alice = a.Enroll(kAliceCard);
  a.Commit(Basket("A1", kAliceCard, {Packs(1, 4)}));
  ASSERT_TRUE(Sync(a, "S001").ok());
  // S002's night brings her enrolment (every store gets those) but not her purchases.
  ASSERT_TRUE(Sync(b, "S002").ok());
  b.till().SetCustomerLookup(MakeHqLookup(SyncConfig(b, "S002").sync));
  TJson sale = b.Commit(At("S002", Basket("B1", kAliceCard, {Packs(1, 1)})));
  EXPECT_EQ(sale["customer"]["id"], alice) << sale.dump();
  EXPECT_EQ(sale["total_discount"], kPackPrice) << "her fifth pack, four bought at S001";

  // The night after, S001 hears of it: the reward was given once, the count goes on.
  ASSERT_TRUE(Sync(b, "S002").ok());
  ASSERT_TRUE(Sync(a, "S001").ok());
  TJson sixth_to_ninth = a.Commit(Basket("A2", kAliceCard, {Packs(1, 4)}));
  EXPECT_EQ(sixth_to_ninth["total_discount"], 0) << sixth_to_ninth.dump();
  TJson tenth = a.Commit(Basket("A3", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(tenth["total_discount"], kPackPrice) << tenth.dump();
  // From then on S002 knows her at HQ: what she buys at S001 comes with S002's nights.
  ASSERT_TRUE(Sync(a, "S001").ok());
  ASSERT_TRUE(Sync(b, "S002").ok());
  auto ca = a.till().ledger().counters().Of(alice);
  auto cb = b.till().ledger().counters().Of(alice);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(*ca, *cb);
}

TEST_P(SyncRun, PacksBoughtWithACardEnrolledElsewhereTodayAreCreditedTheNightAfter) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  std::string alice = a.Enroll(kAliceCard);
  // S001 has not pushed her enrolment yet: at S002 her card is nobody's, the sale goes on.
  TJson unknown = b.Commit(At("S002", Basket("B1", kAliceCard, {Packs(1, 4)})));
  EXPECT_TRUE(unknown["customer"].is_null());
  EXPECT_EQ(unknown["notices"][0]["code"], "unknown_card");
  // The night: S001 pushes the enrolment; S002's pull brings it and credits its sale.
  ASSERT_TRUE(Sync(a, "S001").ok());
  ASSERT_TRUE(Sync(b, "S002").ok());
  TJson fifth = b.Commit(At("S002", Basket("B2", kAliceCard, {Packs(1, 1)})));
  EXPECT_EQ(fifth["customer"]["id"], alice);
  EXPECT_EQ(fifth["total_discount"], kPackPrice) << "four packs bought before the card was known";
  // The next night S001 hears of the credit and the reward: the same counters on both.
  ASSERT_TRUE(Sync(b, "S002").ok());
  ASSERT_TRUE(Sync(a, "S001").ok());
  auto ca = a.till().ledger().counters().Of(alice);
  auto cb = b.till().ledger().counters().Of(alice);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(*ca, *cb);
  TJson sixth = a.Commit(Basket("A1", kAliceCard, {Packs(1, 1)}));
  EXPECT_EQ(sixth["total_discount"], 0) << sixth.dump();
}

TEST_P(SyncRun, TheLookUpNeverHoldsCheckoutPastItsBudget) {
  TestTill a(ConfigFor("S001")), b(ConfigFor("S002"));
  a.Enroll(kAliceCard);
  ASSERT_TRUE(Sync(a, "S001").ok());
  b.till().SetCustomerLookup(MakeHqLookup(SyncConfig(b, "S002").sync));  // 300 ms

  hold_lookups_ = true;  // HQ answers look-ups after the test's check (up to 5 s)
  auto started = std::chrono::steady_clock::now();
  TJson slow = b.Evaluate(At("S002", Basket("B1", kAliceCard, {Packs(1, 1)})));
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(slow["customer"]["id"].is_null());
  EXPECT_NE(slow["notices"].dump().find("customer_lookup_failed"), std::string::npos);
  // A generous bound (the budget is 300 ms), far below HQ's 5 s: no flakiness on a slow box.
  EXPECT_LT(waited, std::chrono::milliseconds(2000));

  hold_lookups_ = false;
  server_->Stop();
  server_.reset();
  TJson down = b.Commit(At("S002", Basket("B2", kAliceCard, {Packs(1, 1)})));
  EXPECT_EQ(down["status"], "committed") << "HQ down: the sale goes on";
  EXPECT_TRUE(down["customer"]["id"].is_null());
  EXPECT_NE(down["notices"].dump().find("customer_lookup_failed"), std::string::npos);
}

TEST_P(SyncRun, HqRefusingABatchStopsTheRunAtOnce) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  // The till claims to be S001 with S002's certificate: HQ answers 403; no retry helps.
  std::string p = pki_->path() + "/";
  Config config = SyncConfig(a, "S001");
  config.sync.cert = p + "store-S002.pem";
  config.sync.key = p + "store-S002.key";
  SyncRunner runner(a.till().ledger(), config, a.dir() + "/config.json", &a.env());
  auto night = runner.Run();
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().code, "sync_refused");
  EXPECT_NE(night.error().message.find("wrong_store"), std::string::npos) << night.error().message;
  EXPECT_TRUE(a.env().sleeps().empty());
  auto held = hq_->EventCount();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 0);
}

TEST_P(SyncRun, AStoreCertificateFromAnotherCaFailsAtOnceNamingIt) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  std::string rogue = pki_->path() + "/rogue/store-S001";
  Config config = SyncConfig(a, "S001");
  config.sync.cert = rogue + ".pem";
  config.sync.key = rogue + ".key";
  SyncRunner runner(a.till().ledger(), config, a.dir() + "/config.json", &a.env());
  auto night = runner.Run();
  ExpectRefusedAtOnce(a, night);
  const std::string& said = night.error().message;
  EXPECT_NE(said.find("HQ refused this till's certificate " + rogue + ".pem"), std::string::npos)
      << said;
  EXPECT_NE(said.find("CN=store:S001"), std::string::npos) << said;
  EXPECT_NE(said.find("unknown_ca"), std::string::npos) << said;
  EXPECT_EQ(night.error().where, rogue + ".pem");

  // HQ logged the refused handshake: who, and why.
  auto line = nlohmann::json::parse(FirstHqLogLine(), nullptr, false);
  ASSERT_TRUE(line.is_object()) << "HQ logged nothing";
  EXPECT_TRUE(line["handshake_refused"]["peer"].get<std::string>().starts_with("127.0.0.1:"));
  EXPECT_EQ(line["handshake_refused"]["reason"],
            "client certificate refused: unable to get local issuer certificate");
}

TEST_P(SyncRun, AnExpiredHqCertificateFailsAtOnceNamingIt) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  server_->Stop();
  StartHq(0, "expired/hq");
  auto night = Sync(a, "S001");
  ExpectRefusedAtOnce(a, night);
  const std::string& said = night.error().message;
  EXPECT_NE(said.find("HQ's certificate at 127.0.0.1 is refused by this till: certificate has "
                      "expired (CN=localhost,O=Regulars chain, valid until "),
            std::string::npos)
      << said;
}

TEST_P(SyncRun, AnHqNameThatDoesNotMatchFailsAtOnce) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  server_->Stop();
  StartHq(0, "other/hq");  // the chain's CA, for hq.example.org; the till calls 127.0.0.1
  auto night = Sync(a, "S001");
  ExpectRefusedAtOnce(a, night);
  const std::string& said = night.error().message;
  EXPECT_NE(said.find("IP address mismatch (CN=hq.example.org"), std::string::npos) << said;
}

TEST_P(SyncRun, AnHqThatIsDownIsStillRetried) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  server_->Stop();
  server_.reset();
  AttemptsTakeTwentySeconds night_env;  // connection refused, all night
  auto night = Sync(a, "S001", "", &night_env);
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().code, "sync_unavailable") << night.error().message;
  EXPECT_GE(night_env.sleeps().size(), 2u) << "backed off and tried again";
  EXPECT_GE(night_env.NowMs() - MemoryEnv::kDefaultNowMs, 60'000) << "until the window closed";
  auto error = SyncState(a.till().ledger().db()).Read("last_error");
  ASSERT_TRUE(error.ok() && error->has_value());
  EXPECT_TRUE((*error)->starts_with("sync_unavailable: ")) << **error;
}

TEST_P(SyncRun, ATillWhoseLedgerWasReplacedIsRefusedAndNoSaleIsLostOnEitherSide) {
  {
    TestTill first_disk(ConfigFor("S001"));
    first_disk.Enroll(kAliceCard);
    first_disk.Commit(Basket("A1", kAliceCard, {Packs(1, 3)}));
    auto night = Sync(first_disk, "S001");
    ASSERT_TRUE(night.ok()) << night.error().message;
  }
  auto before = hq_->EventsSince(0, 100);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 2u);

  // The till's disk replaced: a fresh ledger numbers its own events from 1 again.
  TestTill fresh(ConfigFor("S001"));
  fresh.Enroll(kBobCard);
  fresh.Commit(Basket("A2", kBobCard, {Packs(1, 1)}));
  auto night = Sync(fresh, "S001");
  ASSERT_FALSE(night.ok()) << "HQ never acknowledges another sale under a held id";
  EXPECT_EQ(night.error().code, "sync_refused");
  EXPECT_NE(night.error().message.find("409"), std::string::npos) << night.error().message;
  EXPECT_NE(night.error().message.find("event_id_reused"), std::string::npos);
  EXPECT_NE(night.error().message.find("S001:T01:1"), std::string::npos);
  EXPECT_TRUE(fresh.env().sleeps().empty()) << "a refusal is not retried";
  auto error = SyncState(fresh.till().ledger().db()).Read("last_error");
  ASSERT_TRUE(error.ok() && error->has_value());
  EXPECT_NE((*error)->find("event_id_reused"), std::string::npos) << **error;
  EXPECT_NE((*error)->find("S001:T01:1"), std::string::npos) << **error;

  Outbox outbox(fresh.till().ledger().db(), "S001", "T01");
  auto backlog = outbox.Backlog();
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(backlog->backlog, 2) << "the fresh till keeps its sales to send";
  auto after = hq_->EventsSince(0, 100);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].body, (*before)[i].body) << "HQ's copy of " << (*after)[i].id;
    EXPECT_EQ((*after)[i].customer_id, (*before)[i].customer_id);
  }
}

TEST_P(SyncRun, HqsRuleSetIsWrittenIntoTheConfigAndABadOneNever) {
  TestTill a(ConfigFor("S001"));
  service_ = std::make_unique<HqService>(*hq_, hq_dir_.path() + "/rules.json");
  std::ofstream(hq_dir_.path() + "/rules.json") << R"({"rules_version": "2026-12",
    "rules": [{"id": "diapers-4th", "kind": "nth_unit", "every": 4,
               "match": {"brands": ["Dodo"]}, "reward": {"percent": 100}}]})";
  auto night = Sync(a, "S001");
  ASSERT_TRUE(night.ok()) << night.error().message;
  EXPECT_EQ(night->rules_version, "2026-12");
  auto installed = LoadConfigFile(a.dir() + "/config.json", &a.env());
  ASSERT_TRUE(installed.ok()) << installed.error().message;
  EXPECT_EQ(installed->rules.version, "2026-12");
  ASSERT_EQ(installed->rules.rules.size(), 1u);
  EXPECT_EQ(installed->rules.rules[0].id, "diapers-4th");
  EXPECT_TRUE(installed->sync.enabled()) << "the rest of the file is kept";

  std::ofstream(hq_dir_.path() + "/rules.json") << R"({"rules_version": "2026-13",
    "rules": [{"id": "broken", "kind": "nth_unit", "every": 0}]})";
  auto before = a.env().ReadFile(a.dir() + "/config.json", 1 << 20);
  // Sync() rewrites the file from the fixture; take the installed text as the baseline.
  Config config = *installed;
  SyncRunner runner(a.till().ledger(), config, a.dir() + "/config.json", &a.env());
  auto refused = runner.Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "invalid_rule_set");
  auto after = a.env().ReadFile(a.dir() + "/config.json", 1 << 20);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(*after, *before) << "a refused rule set leaves the file as it was";
}

// HQ owns the rules; the caps are the till's unless HQ's set says otherwise.
constexpr const char* kTillCaps = R"({"per_basket": 2000, "per_day": 5000})";
constexpr const char* kHqRules = R"("rules": [{"id": "diapers-4th", "kind": "nth_unit",
    "every": 4, "match": {"brands": ["Dodo"]}, "reward": {"percent": 100}}])";

TEST_P(SyncRun, HqsRuleSetWithoutCapsKeepsTheTillsCaps) {
  TestTill a(ConfigFor("S001"));
  auto [night, installed] =
      SyncWithCaps(a, kTillCaps, std::string(R"({"rules_version": "2026-12", )") + kHqRules + "}");
  ASSERT_TRUE(night.ok()) << night.error().message;
  EXPECT_EQ(night->rules_version, "2026-12");
  EXPECT_EQ(installed["rules"][0]["id"], "diapers-4th");
  EXPECT_EQ(installed["caps"], nlohmann::json::parse(kTillCaps)) << "the till's caps stay";
}

TEST_P(SyncRun, HqsRuleSetRemovesACapOnlyWhenItSaysSo) {
  TestTill a(ConfigFor("S001"));
  auto [night, installed] = SyncWithCaps(
      a, kTillCaps,
      std::string(
          R"({"rules_version": "2026-12", "caps": {"per_day": 3000, "per_basket": null}, )") +
          kHqRules + "}");
  ASSERT_TRUE(night.ok()) << night.error().message;
  EXPECT_EQ(installed["caps"], nlohmann::json::parse(R"({"per_day": 3000})"));
  TestTill b(ConfigFor("S001"));
  auto [all_night, all_removed] = SyncWithCaps(
      b, kTillCaps, std::string(R"({"rules_version": "2026-12", "caps": null, )") + kHqRules + "}");
  ASSERT_TRUE(all_night.ok()) << all_night.error().message;
  EXPECT_FALSE(all_removed.contains("caps")) << all_removed.dump();
}

TEST_P(SyncRun, ARuleSetThatWouldRemoveACapSilentlyIsRefusedAndReported) {
  TestTill a(ConfigFor("S001"));
  std::string path = a.dir() + "/config.json";
  auto [night, installed] = SyncWithCaps(
      a, kTillCaps,
      std::string(R"({"rules_version": "2026-12", "caps": {"per_day": 3000}, )") + kHqRules + "}");
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().code, "rule_set_removes_cap");
  EXPECT_EQ(night.error().where, "/caps/per_basket");
  EXPECT_NE(night.error().message.find("\"per_basket\": null"), std::string::npos);
  EXPECT_EQ(installed["caps"], nlohmann::json::parse(kTillCaps));
  EXPECT_FALSE(installed.contains("rules_version")) << "the rules in force stay";
  auto error = SyncState(a.till().ledger().db()).Read("last_error");
  ASSERT_TRUE(error.ok() && error->has_value());
  EXPECT_EQ((*error)->rfind("rule_set_removes_cap: HQ's rule set 2026-12", 0), 0u) << **error;
}

TEST_P(SyncRun, BackoffWaitsGrowToTheCapOnAFakeClockAndNeverSleep) {
  TestTill a(ConfigFor("S001"));
  a.Enroll(kAliceCard);
  server_->Stop();
  server_.reset();
  Config config = SyncConfig(a, "S001");
  config.sync.retry_initial_ms = 1000;
  config.sync.retry_max_ms = 8000;
  config.sync.give_up_after_ms = 2 * 60'000;
  SyncRunner runner(a.till().ledger(), config, a.dir() + "/config.json", &a.env());
  auto started = std::chrono::steady_clock::now();
  auto night = runner.Run();
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().code, "sync_unavailable");
  std::vector<int64_t> waits = a.env().sleeps();
  ASSERT_GE(waits.size(), 10u) << "two minutes of retries";
  int64_t waited = 0;
  for (size_t i = 0; i < waits.size(); ++i) {
    int64_t ceiling = std::min<int64_t>(8000, int64_t{1000} << std::min<size_t>(i, 4));
    EXPECT_GE(waits[i], 0);
    EXPECT_LE(waits[i], ceiling) << "wait " << i << ": 1 s, 2 s, 4 s, then 8 s at most";
    waited += waits[i];
  }
  EXPECT_GT(*std::max_element(waits.begin(), waits.end()), 4000) << "the waits grew";
  EXPECT_LE(waited, config.sync.give_up_after_ms) << "given up before the window closed";
  EXPECT_EQ(a.env().NowMs() - MemoryEnv::kDefaultNowMs, waited) << "time moved by the waits";
  EXPECT_LT(took, std::chrono::seconds(10)) << "minutes of backoff, no real sleep";
}

INSTANTIATE_TEST_SUITE_P(Backends, SyncRun, ::testing::ValuesIn(HqBackends()),
                         [](const ::testing::TestParamInfo<HqBackend>& p) { return p.param.name; });

TEST(SyncBackoff, GrowsExponentiallyUpToTheCapWithFullJitter) {
  SyncPolicy policy;
  policy.retry_initial_ms = 1000;
  policy.retry_max_ms = 300'000;
  uint64_t top = UINT64_MAX;
  EXPECT_EQ(SyncRunner::BackoffMs(policy, 0, 1000), 1000);
  EXPECT_EQ(SyncRunner::BackoffMs(policy, 3, 8000), 8000);
  EXPECT_EQ(SyncRunner::BackoffMs(policy, 3, 8001), 0) << "uniform in [0, ceiling]";
  EXPECT_LE(SyncRunner::BackoffMs(policy, 40, top), 300'000) << "never past the cap";
  EXPECT_EQ(SyncRunner::BackoffMs(policy, 5, 0), 0);
}

TEST(SyncSchedule, EachStoreHasItsOwnMinuteInTheWindowEveryNight) {
  int64_t now = 1'795'400'000'000;  // 2026-11-22, in the afternoon UTC
  int64_t a1 = NextNightlyRunMs(now, 150, 60, "S001");
  int64_t a2 = NextNightlyRunMs(a1, 150, 60, "S001");
  EXPECT_GT(a1, now);
  EXPECT_LE(a1 - now, 25 * 3'600'000);
  EXPECT_NEAR(static_cast<double>(a2 - a1), 24.0 * 3'600'000, 3'600'000.0) << "the next night";
  std::set<int64_t> offsets;
  for (int i = 0; i < 100; ++i) {
    int64_t j = StoreJitterSeconds("S" + std::to_string(i), 60);
    EXPECT_GE(j, 0);
    EXPECT_LT(j, 3600);
    offsets.insert(j / 60);
  }
  EXPECT_GT(offsets.size(), 40u) << "a hundred stores spread over the hour";
  EXPECT_EQ(StoreJitterSeconds("S001", 0), 0);
}

TEST(SyncSchedule, NightlySyncWaitsForTheNextWindowOnAFakeClock) {
  MemoryEnv env(1'795'400'000'000);  // 2026-11-22, in the afternoon UTC
  int64_t start = env.NowMs();
  // 02:30 local, plus S001's own second in a 60-minute window: as `regulars serve` waits.
  int64_t next = NextNightlyRunMs(start, 150, 60, "S001");
  SleepUntilMs(env, next);
  EXPECT_EQ(env.NowMs(), next) << "woken at the run's time, not after";
  time_t at = static_cast<time_t>(next / 1000);
  std::tm local{};
  localtime_r(&at, &local);
  EXPECT_EQ(local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec,
            150 * 60 + StoreJitterSeconds("S001", 60));
  std::vector<int64_t> sleeps = env.sleeps();
  ASSERT_FALSE(sleeps.empty());
  int64_t slept = 0;
  for (int64_t ms : sleeps) {
    EXPECT_GT(ms, 0);
    EXPECT_LE(ms, 60'000) << "a minute at most, so a clock change is noticed";
    slept += ms;
  }
  EXPECT_EQ(slept, next - start);
  // After the run, the next wait is for the night after.
  int64_t after = NextNightlyRunMs(env.NowMs(), 150, 60, "S001");
  EXPECT_NEAR(static_cast<double>(after - next), 24.0 * 3'600'000, 3'600'000.0);
}

TEST(SyncSchedule, AClockSetForwardPastTheRunEndsTheWait) {
  MemoryEnv env;
  int64_t next = env.NowMs() + 3 * 60'000;
  env.AdvanceMs(10 * 60'000);  // a time server's correction
  SleepUntilMs(env, next);
  EXPECT_TRUE(env.sleeps().empty());
}

}  // namespace
}  // namespace regulars::testing
