// The suite every HQ storage backend passes (SQLite and PostgreSQL): ingest each event
// once, in order, and the pull window (docs/sync-protocol.md).
#include "hq/hq_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hq_backends.h"

namespace regulars::testing {
namespace {

// An event of till T01 at `store`, seq `seq`, about `customer` ("" for none).
HqEvent Event(const std::string& store, int64_t seq, const std::string& kind,
              const std::string& customer) {
  HqEvent e;
  e.store_id = store;
  e.till_id = "T01";
  e.seq = seq;
  e.id = store + ":T01:" + std::to_string(seq);
  e.at_ms = 1'795'000'000'000 + seq;
  e.kind = kind;
  if (!customer.empty()) e.customer_id = customer;
  e.body = R"({"n":)" + std::to_string(seq) + "}";
  return e;
}

HqBatch Batch(std::vector<HqEvent> events) {
  HqBatch b;
  b.store_id = events.front().store_id;
  b.till_id = "T01";
  b.first_seq = events.front().seq;
  b.last_seq = events.back().seq;
  b.events = std::move(events);
  return b;
}

std::vector<std::string> Ids(const std::vector<HqEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.id);
  return ids;
}

class HqStoreContract : public ::testing::TestWithParam<HqBackend> {
 protected:
  void SetUp() override {
    scratch_ = std::filesystem::temp_directory_path() /
               ("regulars-hq-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(scratch_);
    std::filesystem::create_directories(scratch_);
    auto store = GetParam().open_fresh(scratch_.string());
    if (IsSkipped()) return;  // PostgreSQL without a server, REGULARS_SKIP_PG=1
    ASSERT_TRUE(store.ok()) << store.error().message;
    hq_ = std::move(store).value();
  }
  void TearDown() override {
    hq_.reset();
    std::filesystem::remove_all(scratch_);
  }

  IngestResult Ingest(std::vector<HqEvent> events) {
    auto r = hq_->Ingest(Batch(std::move(events)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : IngestResult{};
  }
  // The whole pull of `store` since `since`, page by page of `limit`.
  PullPage PullAll(const std::string& store, int64_t since, int64_t limit = 1000) {
    PullPage all;
    PullQuery q{store, since, 0, 0, limit};
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = hq_->Pull(q);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      all.upto = page->upto;
      for (auto& e : page->events) all.events.push_back(e);
      if (!page->more) break;
      q.upto = page->upto;
      q.after = page->events.back().hq_seq;
    }
    return all;
  }

  std::filesystem::path scratch_;
  std::unique_ptr<HqStore> hq_;
};

TEST_P(HqStoreContract, EachEventIsStoredOnceInTheOrderItCame) {
  auto first = Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  EXPECT_EQ(first.accepted, 2);
  EXPECT_EQ(first.duplicates, 0);
  EXPECT_EQ(first.acknowledged_seq, 2);
  // The same batch again, as after a lost answer, then one that overlaps it.
  auto again = Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  EXPECT_EQ(again.accepted, 0);
  EXPECT_EQ(again.duplicates, 2);
  auto overlap = Ingest({Event("S001", 2, "sale", "c1"), Event("S001", 3, "sale", "c1")});
  EXPECT_EQ(overlap.accepted, 1);
  EXPECT_EQ(overlap.duplicates, 1);
  EXPECT_EQ(overlap.acknowledged_seq, 3);

  auto count = hq_->EventCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);
  auto all = hq_->EventsSince(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].hq_seq, static_cast<int64_t>(i + 1)) << "numbered 1, 2, 3 with no gap";
  }
  EXPECT_EQ((*all)[1].body, R"({"n":2})");
  EXPECT_EQ((*all)[1].customer_id, "c1");
  EXPECT_EQ((*all)[0].kind, "enroll");
  EXPECT_FALSE((*all)[0].pos_txn_id.has_value());
}

TEST_P(HqStoreContract, AHeldIdWithTheSameEventIsADuplicateWhateverTheTillsSpacing) {
  auto batch = [](const std::string& body) {
    auto parsed = ParseBatch("S001", R"({"store_id":"S001","till_id":"T01","first_seq":1,)"
                                     R"("last_seq":1,"events":[{"id":"S001:T01:1","at_ms":5,)"
                                     R"("kind":"sale","customer_id":"c1","body":)" +
                                         body + "}]}");
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    return *parsed;
  };
  auto first = hq_->Ingest(batch(R"({"total":1290,"lines":[1,2]})"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->accepted, 1);
  // The same body with other spacing and key order: the same JSON, a retry.
  auto retry = hq_->Ingest(batch(R"({ "lines" : [1, 2], "total" : 1290 })"));
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->accepted, 0);
  EXPECT_EQ(retry->duplicates, 1);
  EXPECT_EQ(retry->acknowledged_seq, 1);
}

TEST_P(HqStoreContract, AHeldIdWithAnotherBodyRefusesTheWholeBatchAndStoresNothingOfIt) {
  Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  // A till restored from an older copy numbers its new sales 2 and 3 again.
  HqEvent other_sale = Event("S001", 2, "sale", "c9");
  other_sale.body = R"({"n":2,"total":990})";
  HqEvent other_sale_at_2 = Event("S001", 2, "sale", "c1");
  other_sale_at_2.body = R"({"n":2,"total":990})";
  for (const HqEvent& reused : {other_sale, other_sale_at_2}) {
    auto refused = hq_->Ingest(
        Batch({Event("S001", 1, "enroll", "c1"), reused, Event("S001", 3, "sale", "c9")}));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "event_id_reused");
    EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
    EXPECT_NE(refused.error().message.find("S001:T01:2"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().where, "/events/1");
  }
  // Another field than the body differing is another event too.
  HqEvent later = Event("S001", 2, "sale", "c1");
  later.at_ms += 1;
  EXPECT_EQ(hq_->Ingest(Batch({later})).error().code, "event_id_reused");

  auto all = hq_->EventsSince(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(Ids(*all), (std::vector<std::string>{"S001:T01:1", "S001:T01:2"}))
      << "seq 3 of the refused batch is not stored either";
  EXPECT_EQ((*all)[1].body, R"({"n":2})") << "the sale HQ held is untouched";
  EXPECT_EQ((*all)[1].customer_id, "c1");
}

TEST_P(HqStoreContract, ARetriedEnrolmentOfAnErasedCustomerIsStillADuplicate) {
  HqEvent enroll = Event("S001", 1, "enroll", "c1");
  enroll.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000018"}})";
  Ingest({enroll});
  ASSERT_TRUE(hq_->Erase("c1", "asked", 1'795'100'000'000).ok());
  // HQ holds the enrolment redacted; the till, not told yet, sends it as it wrote it.
  auto retry = hq_->Ingest(Batch({enroll}));
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->duplicates, 1);
}

TEST_P(HqStoreContract, EventsSinceIsACursorForTheExport) {
  Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  Ingest({Event("S002", 1, "sale", "")});
  auto page = hq_->EventsSince(1, 1);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Ids(*page), std::vector<std::string>{"S001:T01:2"});
  auto rest = hq_->EventsSince(2, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(Ids(*rest), std::vector<std::string>{"S002:T01:1"});
  auto none = hq_->EventsSince(3, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(HqStoreContract, EnrolmentsReachEveryOtherStore) {
  Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  auto s2 = PullAll("S002", 0);
  EXPECT_EQ(s2.upto, 2);
  EXPECT_EQ(Ids(s2.events), std::vector<std::string>{"S001:T01:1"})
      << "the enrolment, not the sale of a customer S002 does not know";
  EXPECT_TRUE(PullAll("S001", 0).events.empty()) << "a store never gets its own events back";
  EXPECT_TRUE(PullAll("S002", 2).events.empty()) << "nothing new since the cursor";
}

TEST_P(HqStoreContract, AStoreGetsNewEventsOfTheCustomersItKnows) {
  Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1")});
  Ingest({Event("S002", 1, "sale", "c1"), Event("S002", 2, "sale", "c2")});
  // S001 knows c1 (its own enrolment), not c2.
  auto s1 = PullAll("S001", 2);
  EXPECT_EQ(Ids(s1.events), std::vector<std::string>{"S002:T01:1"});
  Ingest({Event("S002", 3, "sale", "c1")});
  auto later = PullAll("S001", s1.upto);
  EXPECT_EQ(Ids(later.events), std::vector<std::string>{"S002:T01:3"});
  EXPECT_EQ(later.upto, 5);
}

TEST_P(HqStoreContract, AStoreThatComesToKnowACustomerGetsTheirHistory) {
  Ingest({Event("S001", 1, "enroll", "c1"), Event("S001", 2, "sale", "c1"),
          Event("S001", 3, "sale", "c1")});
  auto first = PullAll("S002", 0);  // S002 hears of the enrolment only
  EXPECT_EQ(Ids(first.events), std::vector<std::string>{"S001:T01:1"});
  Ingest({Event("S002", 1, "sale", "c1")});  // c1 shops at S002: S002 knows them now
  auto second = PullAll("S002", first.upto);
  EXPECT_EQ(Ids(second.events),
            (std::vector<std::string>{"S001:T01:1", "S001:T01:2", "S001:T01:3"}))
      << "the customer's whole history from other stores, in HQ's order";
}

TEST_P(HqStoreContract, PagesOfAPullMissNothingAndRepeatNothing) {
  std::vector<HqEvent> a;
  for (int i = 1; i <= 7; ++i) a.push_back(Event("S001", i, i == 1 ? "enroll" : "sale", "c1"));
  Ingest(a);
  Ingest({Event("S002", 1, "sale", "c1")});
  std::vector<HqEvent> b;
  for (int i = 8; i <= 12; ++i) b.push_back(Event("S001", i, "sale", "c1"));
  Ingest(b);
  // S002 came to know c1 at hq_seq 8: since 0, that is all of S001's events.
  auto paged = PullAll("S002", 0, 3);
  auto whole = PullAll("S002", 0, 1000);
  EXPECT_EQ(whole.events.size(), 12u);
  EXPECT_EQ(Ids(paged.events), Ids(whole.events));
  // Events stored between pages do not slip into the window the first page fixed.
  PullQuery q{"S002", 0, 0, 0, 5};
  auto p1 = hq_->Pull(q);
  ASSERT_TRUE(p1.ok());
  ASSERT_TRUE(p1->more);
  Ingest({Event("S001", 13, "sale", "c1")});
  q.upto = p1->upto;
  q.after = p1->events.back().hq_seq;
  auto p2 = hq_->Pull(q);
  ASSERT_TRUE(p2.ok());
  for (const auto& e : p2->events) EXPECT_LE(e.hq_seq, p1->upto);
  EXPECT_EQ(Ids(PullAll("S002", p1->upto).events), std::vector<std::string>{"S001:T01:13"})
      << "the next night's pull brings it";
}

TEST_P(HqStoreContract, AReplacedCardReachesEveryStoreIsLookedUpAsNobodyAndIsErasedToo) {
  HqEvent enroll = Event("S001", 1, "enroll", "c1");
  enroll.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000018"}})";
  HqEvent replaced = Event("S001", 2, "card_replaced", "c1");
  replaced.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000032"},)"
                  R"("old_identifier":{"kind":"card","value":"2900000000018"}})";
  Ingest({enroll, replaced});
  EXPECT_EQ(Ids(PullAll("S002", 0).events), (std::vector<std::string>{"S001:T01:1", "S001:T01:2"}));
  auto old = hq_->LookUpCustomer("S002", "card", "2900000000018", 100);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_FALSE(old->customer_id) << "a replaced card names nobody";

  ASSERT_TRUE(hq_->Erase("c1", "asked", 1'795'100'000'000).ok());
  auto all = hq_->EventsSince(0, 100);
  ASSERT_TRUE(all.ok());
  for (const auto& e : *all) {
    EXPECT_EQ(e.body.find("29000000000"), std::string::npos) << e.id << ": " << e.body;
  }
}

TEST_P(HqStoreContract, AnErasureGoesToEveryStoreAndHqKeepsNoIdentifyingValue) {
  HqEvent enroll = Event("S001", 1, "enroll", "c1");
  enroll.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000018"}})";
  HqEvent link = Event("S001", 2, "link", "c1");
  link.body = R"({"customer":"c1","identifier":{"kind":"payment_token","value":"ab12"},)"
              R"("consent":{"text":"I agree","cashier_id":"C07"}})";
  Ingest({enroll, link, Event("S001", 3, "sale", "c1"), Event("S001", 4, "enroll", "c2")});

  auto erased = hq_->Erase("c1", "GDPR request 42", 1'795'100'000'000);
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(erased->id, "HQ:HQ:1");
  EXPECT_EQ(erased->kind, "erase");
  EXPECT_EQ(erased->hq_seq, 5);
  auto again = hq_->Erase("c1", "asked twice", 1'795'200'000'000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, erased->id) << "a second request is the first one";
  EXPECT_EQ(*hq_->EventCount(), 5);

  auto all = hq_->EventsSince(0, 100);
  ASSERT_TRUE(all.ok());
  std::string everything;
  for (const auto& e : *all) everything += e.body;
  for (const char* value : {"2900000000018", "ab12", "I agree", "C07"}) {
    EXPECT_EQ(everything.find(value), std::string::npos) << value << " is still at HQ";
  }
  EXPECT_NE(everything.find("erased"), std::string::npos);
  EXPECT_NE((*all)[2].body.find(R"("n":3)"), std::string::npos) << "the sale is kept";

  // Every store hears of it, even one that never knew the customer.
  auto s2 = PullAll("S002", 4);
  EXPECT_EQ(Ids(s2.events), std::vector<std::string>{"HQ:HQ:1"});
  // A till that had not heard yet pushes the customer's enrolment again: stored redacted.
  HqEvent late = Event("S003", 1, "link", "c1");
  late.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000018"}})";
  Ingest({late});
  auto stored = hq_->EventsSince(5, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().body.find("2900000000018"), std::string::npos);
}

TEST_P(HqStoreContract, ALookUpFindsWhoACardNamesAndTheirOtherStoresEvents) {
  HqEvent enroll = Event("S001", 1, "enroll", "c1");
  enroll.body = R"({"customer":"c1","identifier":{"kind":"card","value":"2900000000018"}})";
  Ingest({enroll, Event("S001", 2, "sale", "c1"), Event("S001", 3, "sale", "c2")});
  Ingest({Event("S002", 1, "sale", "c1")});

  auto found = hq_->LookUpCustomer("S002", "card", "2900000000018", 100);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->customer_id, "c1");
  EXPECT_EQ(Ids(found->events), (std::vector<std::string>{"S001:T01:1", "S001:T01:2"}))
      << "not S002's own, nor another customer's";
  EXPECT_FALSE(found->truncated);
  auto cut = hq_->LookUpCustomer("S003", "card", "2900000000018", 1);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->events.size(), 1u);
  EXPECT_TRUE(cut->truncated);
  // S003 knows c1 now: its next pull brings what c1 does elsewhere.
  Ingest({Event("S001", 4, "sale", "c1")});
  EXPECT_EQ(Ids(PullAll("S003", 4).events), std::vector<std::string>{"S001:T01:4"});

  auto nobody = hq_->LookUpCustomer("S002", "card", "2900000000025", 100);
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->customer_id.has_value());
  auto wrong_kind = hq_->LookUpCustomer("S002", "payment_token", "2900000000018", 100);
  ASSERT_TRUE(wrong_kind.ok());
  EXPECT_FALSE(wrong_kind->customer_id.has_value());
  ASSERT_TRUE(hq_->Erase("c1", "", 1).ok());
  auto erased = hq_->LookUpCustomer("S002", "card", "2900000000018", 100);
  ASSERT_TRUE(erased.ok());
  EXPECT_FALSE(erased->customer_id.has_value()) << "an erased customer is found by nobody";
}

TEST_P(HqStoreContract, NoTillMayPushAsHq) {
  auto batch = ParseBatch("HQ", R"({"store_id":"HQ","till_id":"HQ","first_seq":1,"last_seq":1,
      "events":[{"id":"HQ:HQ:1","at_ms":1,"kind":"erase","customer_id":"c1","body":{}}]})");
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code, "wrong_store");
}

TEST_P(HqStoreContract, CursorsAreKeptByName) {
  auto fresh = hq_->ReadCursor("webhook");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(*fresh, 0);
  ASSERT_TRUE(hq_->WriteCursor("webhook", 41).ok());
  ASSERT_TRUE(hq_->WriteCursor("webhook", 42).ok());
  ASSERT_TRUE(hq_->WriteCursor("other", 7).ok());
  EXPECT_EQ(*hq_->ReadCursor("webhook"), 42);
  EXPECT_EQ(*hq_->ReadCursor("other"), 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, HqStoreContract, ::testing::ValuesIn(HqBackends()),
                         [](const ::testing::TestParamInfo<HqBackend>& p) { return p.param.name; });

}  // namespace
}  // namespace regulars::testing
