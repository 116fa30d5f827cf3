// The till's outbox for the nightly sync: this till's events HQ has not acknowledged, in
// bounded batches, acknowledged monotonically (docs/sync-protocol.md).
#include "till/outbox.h"

#include <gtest/gtest.h>

#include "hq/hq_store.h"
#include "test_till.h"

namespace regulars::testing {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Enroll(kAliceCard);  // event 1
    for (int i = 1; i <= 5; ++i) {
      t_.Commit(Basket("T" + std::to_string(i), kAliceCard, {Packs(1, 1)}));  // events 2..6
    }
  }
  Outbox outbox() { return Outbox(t_.till().ledger().db(), "S001", "T01"); }
  TestTill t_;
};

TEST_F(OutboxTest, BatchesAreBoundedAndFollowTheAcknowledgedSeq) {
  Outbox box = outbox();
  auto first = box.NextBatch(4, 1 << 20);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->first_seq, 1);
  EXPECT_EQ((*first)->last_seq, 4);
  EXPECT_EQ((*first)->events, 4);
  TJson body = TJson::parse((*first)->body);
  EXPECT_EQ(body["store_id"], "S001");
  ASSERT_EQ(body["events"].size(), 4u);
  EXPECT_EQ(body["events"][1]["id"], "S001:T01:2");
  EXPECT_EQ(body["events"][1]["kind"], "sale");
  EXPECT_EQ(body["events"][1]["body"]["pos_txn_id"], "T1");

  auto again = box.NextBatch(4, 1 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->body, (*first)->body) << "unacknowledged events are sent again";

  ASSERT_TRUE(box.Acknowledge(4).ok());
  auto rest = box.NextBatch(4, 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ((*rest)->first_seq, 5);
  EXPECT_EQ((*rest)->last_seq, 6);
  ASSERT_TRUE(box.Acknowledge(6).ok());
  auto none = box.NextBatch(4, 1 << 20);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(OutboxTest, AByteBoundCutsABatchButNeverBelowOneEvent) {
  auto one = outbox().NextBatch(100, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->events, 1) << "one event even when it alone passes the bound";
  auto some = outbox().NextBatch(100, 1500);
  ASSERT_TRUE(some.ok());
  EXPECT_GT((*some)->events, 1);
  EXPECT_LT((*some)->events, 6);
  EXPECT_LE((*some)->body.size(), 1500u + 200u);  // the envelope around the events
}

TEST_F(OutboxTest, AcknowledgingIsIdempotentNeverGoesBackAndRefusesUnwrittenEvents) {
  Outbox box = outbox();
  ASSERT_TRUE(box.Acknowledge(3).ok());
  ASSERT_TRUE(box.Acknowledge(3).ok());
  ASSERT_TRUE(box.Acknowledge(2).ok()) << "a late, older answer is not an error";
  auto status = box.Backlog();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->pushed_seq, 3);
  EXPECT_EQ(status->backlog, 3);
  ASSERT_TRUE(status->oldest_unsent_at_ms.has_value());
  auto refused = box.Acknowledge(99);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "invalid_acknowledgement");
  EXPECT_EQ(box.Backlog()->pushed_seq, 3);
}

TEST_F(OutboxTest, TheCursorSurvivesARestart) {
  ASSERT_TRUE(outbox().Acknowledge(5).ok());
  t_.Reopen();
  auto batch = outbox().NextBatch(10, 1 << 20);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ((*batch)->first_seq, 6);
  EXPECT_EQ((*batch)->events, 1);
}

}  // namespace
}  // namespace regulars::testing

namespace regulars::testing {
namespace {

// HQ's side of a push: each event stored once, only from its own store, all or nothing.
class HqIngest : public OutboxTest {
 protected:
  void SetUp() override {
    OutboxTest::SetUp();
    auto store = SqliteHqStore::Open(hq_dir_.path() + "/hq.sqlite");
    ASSERT_TRUE(store.ok()) << store.error().message;
    hq_ = std::move(store).value();
  }
  std::string NextBody(int64_t max_events = 100) {
    auto batch = outbox().NextBatch(max_events, 1 << 20);
    EXPECT_TRUE(batch.ok() && batch->has_value());
    return batch.ok() && batch->has_value() ? (*batch)->body : "";
  }
  TempDir hq_dir_;
  std::unique_ptr<SqliteHqStore> hq_;
};

TEST_F(HqIngest, ARetriedBatchIsStoredOnceAndTheTillMovesOn) {
  std::string body = NextBody(4);
  auto batch = ParseBatch("S001", body);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  auto first = hq_->Ingest(*batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->accepted, 4);
  auto retry = hq_->Ingest(*batch);  // the acknowledgement was lost: the till sends again
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->accepted, 0);
  EXPECT_EQ(retry->duplicates, 4);
  ASSERT_TRUE(outbox().Acknowledge(retry->acknowledged_seq).ok());
  auto rest = ParseBatch("S001", NextBody());
  ASSERT_TRUE(rest.ok());
  ASSERT_TRUE(hq_->Ingest(*rest).ok());
  EXPECT_EQ(*hq_->EventCount(), 6);
}

TEST_F(HqIngest, AStoreCannotPushAnotherStoresEvents) {
  auto refused = ParseBatch("S002", NextBody());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "wrong_store");
  EXPECT_EQ(refused.error().where, "/store_id");
  // Claiming to be S002 in the body while holding S002's certificate, with S001's ids.
  TJson forged = TJson::parse(NextBody());
  forged["store_id"] = "S002";
  auto also = ParseBatch("S002", forged.dump());
  ASSERT_FALSE(also.ok());
  EXPECT_EQ(also.error().code, "wrong_store");
  EXPECT_EQ(also.error().where, "/events/0/id");
  EXPECT_EQ(*hq_->EventCount(), 0);
}

TEST_F(HqIngest, AMalformedOrGappedBatchIsRefusedWithItsPosition) {
  auto bad = ParseBatch("S001", "{\"store_id\": \"S001\", ");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_batch");
  EXPECT_NE(bad.error().where.find("line 1"), std::string::npos);
  TJson gapped = TJson::parse(NextBody());
  gapped["events"].erase(2);
  auto gap = ParseBatch("S001", gapped.dump());
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().where, "/events");
}

TEST_F(HqIngest, AnHqDatabaseIsNeverOpenedAsATillLedger) {
  auto ledger = Ledger::Open(hq_dir_.path() + "/hq.sqlite", {"S001", "T01", "EUR"});
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.error().code, "database_unreadable");
}

}  // namespace
}  // namespace regulars::testing
