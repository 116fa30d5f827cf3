// No malformed input, however mangled, crashes the process or writes anything.
#include <gtest/gtest.h>

#include <random>

#include "test_till.h"

namespace regulars {
namespace {

using testing::Basket;
using testing::kAliceCard;
using testing::Packs;
using testing::TestTill;
using testing::TJson;

// Deterministic mutations of a valid document: flipped bytes, cuts, duplications.
std::string Mutate(const std::string& text, std::mt19937& random) {
  std::string out = text;
  int edits = std::uniform_int_distribution<int>(1, 4)(random);
  for (int e = 0; e < edits && !out.empty(); ++e) {
    size_t at = std::uniform_int_distribution<size_t>(0, out.size() - 1)(random);
    switch (std::uniform_int_distribution<int>(0, 4)(random)) {
      case 0:
        out[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
        break;
      case 1:
        out.resize(at);
        break;
      case 2:
        out.insert(at, out.substr(at, 16));
        break;
      case 3:
        out.erase(at, 1);
        break;
      default:
        out.insert(at, std::string(1, "{}[]\",:-0e9\\"[at % 12]));
        break;
    }
  }
  return out;
}

TEST(MalformedInput, MangledBasketsRefundsAndVoidsNeverCrashOrWrite) {
  TestTill t;
  t.Enroll(kAliceCard);
  t.Commit(Basket("SALE", kAliceCard, {Packs(1, 3), Packs(2, 1, 990)}));
  auto count_events = [&] { return t.CountRows("events"); };
  int64_t events = count_events();
  std::mt19937 random(42);
  std::string basket = Basket("NEW", kAliceCard, {Packs(1, 2), Packs(2, 1, 990)}).dump();
  std::string refund =
      TJson{{"pos_txn_id", "R"}, {"refund_of", "SALE"}, {"lines", {{{"line", 1}, {"qty", 1}}}}}
          .dump();
  std::string void_request = TJson{{"pos_txn_id", "SALE"}}.dump();
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = Mutate(basket, random);
    if (t.till().Evaluate(b).ok()) ++accepted;
    auto committed = t.till().Commit(b);
    if (committed.ok()) {
      // A mutation that is still a valid basket is a real sale: keep counting from it.
      events = count_events();
      ++accepted;
    }
    auto refunded = t.till().Refund(Mutate(refund, random));
    auto voided = t.till().Void(Mutate(void_request, random));
    if (refunded.ok() || voided.ok()) events = count_events();
    (void)t.till().Enroll(Mutate(R"({"card": "2900000000025"})", random));
    EXPECT_LE(count_events() - events, 1);  // at most the one enrolment
    events = count_events();
  }
  auto verify = t.till().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->mismatches.empty());
  EXPECT_TRUE(verify->problems.empty());
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace regulars
