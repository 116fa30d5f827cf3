// HQ's export to the CRM: events a real till wrote, pushed through its outbox and stored
// at HQ, then exported as NDJSON and as CSV tables (docs/crm-export.md).
#include "hq/crm_export.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "hq/hq_store.h"
#include "test_till.h"
#include "till/outbox.h"

namespace regulars::testing {
namespace {

// The diapers rule, payment cards (pseudonymous profiles on) and goodwill.
std::string ExportConfig() {
  TJson config = TJson::parse(kDiapersConfig);
  config["payment_tokens"] = {{"keys", {{{"version", 1}, {"secret_hex", std::string(64, '1')}}}},
                              {"pseudonymous_profiles", true}};
  config["goodwill"] = {{"per_customer_per_day", {{"default", 300}}},
                        {"per_cashier_per_day", 1500},
                        {"audit_key", {{"secret_hex", std::string(64, 'a')}}}};
  return config.dump();
}

constexpr const char* kVisa = "4111111111111111";
constexpr const char* kMastercard = "5555555555554444";
constexpr const char* kConsentText = "Yes, I agree to \"card recognition\"";

// A CSV document read back (RFC 4180), for checking rows by column name.
using CsvRow = std::map<std::string, std::string>;
std::vector<CsvRow> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(field);
      field.clear();
      records.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(records.back().empty() && field.empty()) << "the last row ends with CRLF";
  records.pop_back();
  std::vector<CsvRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    EXPECT_EQ(records[r].size(), records[0].size()) << "row " << r;
    CsvRow row;
    for (size_t c = 0; c < records[r].size() && c < records[0].size(); ++c) {
      row[records[0][c]] = records[r][c];
    }
    rows.push_back(row);
  }
  return rows;
}

class CrmExport : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_ = t_.Enroll(kAliceCard);
    // Five packs at once: the fifth is free.
    t_.Commit(Basket("T1", kAliceCard, {Packs(1, 5)}));
    // A gesture on something outside the rule.
    TJson gesture = Basket("T2", kAliceCard, {Other(1, "MILK 1L", 2, 110)});
    gesture["goodwill"] = {{"amount", 200}, {"reason", "box damaged"}};
    t_.Commit(gesture);
    // She links her Visa card; the consent's text holds a comma and quotes.
    TJson link{{"card", kAliceCard},
               {"payment_token", {{"value", kVisa}}},
               {"consent", {{"text", kConsentText}, {"cashier_id", "C07"}}}};
    auto linked = t_.till().Link(link.dump());
    ASSERT_TRUE(linked.ok()) << linked.error().message;
    // Someone unknown pays by card: a pseudonymous profile starts.
    TJson paying = Basket("T3", "", {Packs(1, 1)});
    paying["identifiers"].push_back({{"kind", "payment_token"}, {"value", kMastercard}});
    t_.Commit(paying);
    // Alice brings one of the five packs back: the free one's discount is withdrawn.
    t_.Refund("R1", "T1", {{{"line", 1}, {"qty", 1}}});

    // Through the outbox to HQ, as a push does.
    Outbox outbox(t_.till().ledger().db(), "S001", "T01");
    auto batch = outbox.NextBatch(100, 1 << 20);
    ASSERT_TRUE(batch.ok() && batch->has_value());
    auto parsed = ParseBatch("S001", (*batch)->body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    auto hq = SqliteHqStore::Open(hq_dir_.path() + "/hq.sqlite");
    ASSERT_TRUE(hq.ok()) << hq.error().message;
    ASSERT_TRUE((*hq)->Ingest(*parsed).ok());
    auto events = (*hq)->EventsSince(0, 100);
    ASSERT_TRUE(events.ok());
    events_ = std::move(events).value();

    // The keyed hashes of the two payment cards, as the till's events carry them.
    TJson pushed = TJson::parse((*batch)->body);
    for (const auto& e : pushed["events"]) {
      const TJson& body = e["body"];
      if (body.contains("identifier") && body["identifier"]["kind"] == "payment_token") {
        token_hashes_.push_back(body["identifier"]["value"]);
      }
    }
  }

  std::vector<CsvRow> Table(ExportTable table, ExportResult* result = nullptr) {
    std::string out;
    AppendCsvHeader(table, out);
    ExportResult r = AppendCsvRows(table, events_, out);
    EXPECT_TRUE(r.skipped.empty()) << SkippedSummary(r.skipped);
    if (result) *result = r;
    return ReadCsv(out);
  }

  const HqEvent& EventOf(const std::string& kind, const std::string& pos_txn_id) {
    for (const auto& e : events_) {
      if (e.kind == kind && e.pos_txn_id == pos_txn_id) return e;
    }
    ADD_FAILURE() << "no " << kind << " " << pos_txn_id;
    return events_.front();
  }

  TestTill t_{ExportConfig()};
  TempDir hq_dir_;
  std::string alice_;
  std::vector<HqEvent> events_;
  std::vector<std::string> token_hashes_;
};

TEST_F(CrmExport, TableNamesParse) {
  for (const char* name : {"customers", "purchases", "rewards", "consents"}) {
    auto table = ParseExportTable(name);
    ASSERT_TRUE(table.ok()) << name;
    EXPECT_EQ(ExportTableName(*table), name);
  }
  auto unknown = ParseExportTable("cards");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "unknown_table");
}

TEST_F(CrmExport, AFifthPackSaleGivesItsSpendAndItsReward) {
  ExportResult result;
  auto purchases = Table(ExportTable::kPurchases, &result);
  EXPECT_EQ(result.last_hq_seq, events_.back().hq_seq) << "the cursor passes every event";
  ASSERT_EQ(purchases.size(), 4u);  // T1, T2, T3 and the refund R1
  const CsvRow& sale = purchases[0];
  EXPECT_EQ(sale.at("event_id"), EventOf("sale", "T1").id);
  EXPECT_EQ(sale.at("kind"), "sale");
  EXPECT_EQ(sale.at("pos_txn_id"), "T1");
  EXPECT_EQ(sale.at("customer_id"), alice_);
  EXPECT_EQ(sale.at("currency"), "EUR");
  EXPECT_EQ(sale.at("gross"), std::to_string(5 * kPackPrice));
  EXPECT_EQ(sale.at("discount"), std::to_string(kPackPrice));
  EXPECT_EQ(sale.at("goodwill"), "0");
  EXPECT_EQ(sale.at("net"), std::to_string(4 * kPackPrice));
  EXPECT_EQ(sale.at("at"), "2026-11-23T09:00:00Z");

  const CsvRow& gesture = purchases[1];
  EXPECT_EQ(gesture.at("discount"), "0") << "goodwill is not a rule's discount";
  EXPECT_EQ(gesture.at("goodwill"), "200");
  EXPECT_EQ(gesture.at("net"), "20");

  const CsvRow& refund = purchases[3];
  EXPECT_EQ(refund.at("kind"), "refund");
  EXPECT_EQ(refund.at("pos_txn_id"), "R1");
  EXPECT_EQ(refund.at("ref_pos_txn_id"), "T1");
  EXPECT_EQ(refund.at("net"), "0") << "four paid packs kept: nothing comes back";
  EXPECT_EQ(refund.at("discount"), std::to_string(-kPackPrice)) << "the free pack withdrawn";

  auto rewards = Table(ExportTable::kRewards);
  ASSERT_EQ(rewards.size(), 3u);
  EXPECT_EQ(rewards[0].at("event_id"), sale.at("event_id"));
  EXPECT_EQ(rewards[0].at("rule"), "diapers-5th");
  EXPECT_EQ(rewards[0].at("rule_kind"), "nth_unit");
  EXPECT_EQ(rewards[0].at("line"), "1");
  EXPECT_EQ(rewards[0].at("sku"), kDodo);
  EXPECT_EQ(rewards[0].at("units"), "1");
  EXPECT_EQ(rewards[0].at("amount"), std::to_string(kPackPrice));
  EXPECT_EQ(rewards[1].at("rule"), "goodwill");
  EXPECT_EQ(rewards[1].at("amount"), "200");
  EXPECT_EQ(rewards[2].at("kind"), "refund");
  EXPECT_EQ(rewards[2].at("rule"), "") << "a refund records what it withdrew per line only";
  EXPECT_EQ(rewards[2].at("amount"), std::to_string(-kPackPrice));
}

TEST_F(CrmExport, CustomersCarryTheLoyaltyCardButNoPaymentCard) {
  auto customers = Table(ExportTable::kCustomers);
  ASSERT_EQ(customers.size(), 2u);
  EXPECT_EQ(customers[0].at("customer_id"), alice_);
  EXPECT_EQ(customers[0].at("identifier_kind"), "card");
  EXPECT_EQ(customers[0].at("card_number"), kAliceCard);
  EXPECT_EQ(customers[0].at("pseudonymous"), "false");
  EXPECT_EQ(customers[0].at("store_id"), "S001");
  EXPECT_EQ(customers[1].at("identifier_kind"), "payment_token");
  EXPECT_EQ(customers[1].at("card_number"), "");
  EXPECT_EQ(customers[1].at("pseudonymous"), "true");
}

TEST_F(CrmExport, AReplacedCardGivesARowWithTheNewCardAndTheOneItRetires) {
  HqEvent replaced;
  replaced.id = "S001:T01:9";
  replaced.store_id = "S001";
  replaced.till_id = "T01";
  replaced.seq = 9;
  replaced.at_ms = 1'795'424'400'000;
  replaced.kind = "card_replaced";
  replaced.customer_id = alice_;
  replaced.hq_seq = 99;
  replaced.body = TJson{{"customer", alice_},
                        {"identifier", {{"kind", "card"}, {"value", "2900000000032"}}},
                        {"old_identifier", {{"kind", "card"}, {"value", kAliceCard}}},
                        {"cashier_id", "C07"},
                        {"counts", TJson::array()}}
                      .dump();
  events_.push_back(replaced);
  auto customers = Table(ExportTable::kCustomers);
  ASSERT_EQ(customers.size(), 3u);
  EXPECT_EQ(customers[0].at("replaced_card"), "");
  EXPECT_EQ(customers[2].at("customer_id"), alice_);
  EXPECT_EQ(customers[2].at("card_number"), "2900000000032");
  EXPECT_EQ(customers[2].at("replaced_card"), kAliceCard);
}

TEST_F(CrmExport, ConsentsAreQuotedAsRfc4180Says) {
  std::string out;
  AppendCsvHeader(ExportTable::kConsents, out);
  ExportResult result = AppendCsvRows(ExportTable::kConsents, events_, out);
  EXPECT_EQ(result.rows, 1);
  EXPECT_NE(out.find(",\"Yes, I agree to \"\"card recognition\"\"\","), std::string::npos) << out;
  auto consents = ReadCsv(out);
  ASSERT_EQ(consents.size(), 1u);
  EXPECT_EQ(consents[0].at("customer_id"), alice_);
  EXPECT_EQ(consents[0].at("text"), kConsentText);
  EXPECT_EQ(consents[0].at("purpose"), "loyalty_recognition");
  EXPECT_EQ(consents[0].at("store_id"), "S001");
  EXPECT_EQ(consents[0].at("till_id"), "T01");
  EXPECT_EQ(consents[0].at("cashier_id"), "C07");
  EXPECT_EQ(consents[0].at("given_at"), "2026-11-23T09:00:00Z");
  EXPECT_FALSE(consents[0].at("consent_id").empty());
}

TEST_F(CrmExport, APaymentTokenNeverLeaves) {
  ASSERT_EQ(token_hashes_.size(), 2u) << "the link and the pseudonymous profile";
  std::string everything;
  AppendNdjson(events_, everything);
  for (ExportTable table : {ExportTable::kCustomers, ExportTable::kPurchases, ExportTable::kRewards,
                            ExportTable::kConsents}) {
    AppendCsvHeader(table, everything);
    AppendCsvRows(table, events_, everything);
  }
  std::string stored;
  for (const auto& e : events_) stored += e.body;
  for (const std::string& hash : token_hashes_) {
    ASSERT_FALSE(hash.empty());
    ASSERT_NE(stored.find(hash), std::string::npos) << "HQ holds it: the check means something";
    EXPECT_EQ(everything.find(hash), std::string::npos) << hash;
    EXPECT_EQ(everything.find(hash.substr(hash.find(':') + 1)), std::string::npos);
  }
  EXPECT_EQ(everything.find(kVisa), std::string::npos);
  EXPECT_EQ(everything.find(kMastercard), std::string::npos);
}

TEST_F(CrmExport, NdjsonHasEveryEventInHqOrder) {
  std::string out;
  ExportResult result = AppendNdjson(events_, out);
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_EQ(result.rows, static_cast<int64_t>(events_.size()));
  EXPECT_EQ(result.last_hq_seq, events_.back().hq_seq);
  std::istringstream lines(out);
  std::string line;
  int64_t previous = 0;
  size_t n = 0;
  while (std::getline(lines, line)) {
    TJson event = TJson::parse(line, nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << line;
    EXPECT_GT(event["hq_seq"].get<int64_t>(), previous);
    previous = event["hq_seq"];
    EXPECT_EQ(event["id"], events_[n].id);
    EXPECT_EQ(event["at"], "2026-11-23T09:00:00Z");
    EXPECT_TRUE(event["body"].is_object());
    if (event["kind"] == "sale") {
      EXPECT_TRUE(event["body"].contains("visit"));
    }
    if (event["body"].contains("identifier")) {
      const TJson& id = event["body"]["identifier"];
      EXPECT_EQ(id.contains("value"), id["kind"] == "card") << "only a loyalty card's value";
    }
    ++n;
  }
  EXPECT_EQ(n, events_.size());
}

TEST_F(CrmExport, PagesGiveTheSameRowsAsOneRead) {
  std::string whole, paged;
  AppendCsvRows(ExportTable::kPurchases, events_, whole);
  std::span<const HqEvent> all(events_);
  ExportResult first = AppendCsvRows(ExportTable::kPurchases, all.first(3), paged);
  EXPECT_EQ(first.last_hq_seq, events_[2].hq_seq);
  ExportResult rest = AppendCsvRows(ExportTable::kPurchases, all.subspan(3), paged);
  EXPECT_EQ(rest.last_hq_seq, events_.back().hq_seq);
  EXPECT_EQ(paged, whole);
  ExportResult none = AppendCsvRows(ExportTable::kPurchases, {}, paged);
  EXPECT_EQ(none.last_hq_seq, 0) << "nothing read: the caller keeps its cursor";
}

TEST_F(CrmExport, AMalformedBodyIsSkippedAndCounted) {
  std::vector<HqEvent> events = events_;
  for (auto& e : events) {
    if (e.kind == "sale" && e.pos_txn_id == "T1") e.body = "{\"lines\": [";  // not JSON
    if (e.kind == "sale" && e.pos_txn_id == "T2") e.body = "{\"currency\": \"EUR\"}";
    if (e.kind == "enroll" && e.customer_id == alice_) e.body = "{\"identifier\": 5}";
  }
  std::string out;
  ExportResult purchases = AppendCsvRows(ExportTable::kPurchases, events, out);
  EXPECT_EQ(purchases.rows, 2);
  ASSERT_EQ(purchases.skipped.size(), 2u);
  EXPECT_EQ(purchases.skipped[0].id, EventOf("sale", "T1").id);
  EXPECT_NE(purchases.skipped[0].reason.find("not JSON"), std::string::npos);
  EXPECT_EQ(purchases.skipped[1].id, EventOf("sale", "T2").id);
  EXPECT_NE(purchases.skipped[1].reason.find("total_gross"), std::string::npos);
  EXPECT_EQ(purchases.last_hq_seq, events.back().hq_seq) << "the cursor moves past them";
  EXPECT_EQ(
      SkippedSummary(purchases.skipped).rfind("2 events skipped: " + EventOf("sale", "T1").id, 0),
      0u)
      << SkippedSummary(purchases.skipped);

  ExportResult customers = AppendCsvRows(ExportTable::kCustomers, events, out);
  ASSERT_EQ(customers.skipped.size(), 1u);
  EXPECT_EQ(customers.rows, 1);
  ExportResult ndjson = AppendNdjson(events, out);
  ASSERT_EQ(ndjson.skipped.size(), 1u) << "a body that is JSON is exported as it is";
  EXPECT_EQ(ndjson.rows, static_cast<int64_t>(events.size()) - 1);
}

// Every prefix of every real body, and a few hostile values: skipped, never a crash.
TEST_F(CrmExport, NoBodyCrashesTheExport) {
  std::vector<std::string> hostile{"",
                                   "null",
                                   "[]",
                                   "5",
                                   "{\"lines\": {\"a\": 1}}",
                                   "{\"total_refund\": -9223372036854775808}",
                                   "{\"total_gross\": 1e300}",
                                   std::string(100, '[')};
  for (const HqEvent& original : events_) {
    std::vector<std::string> bodies = hostile;
    for (size_t cut = 0; cut < original.body.size(); cut += 3) {
      bodies.push_back(original.body.substr(0, cut));
    }
    for (const std::string& body : bodies) {
      HqEvent e = original;
      e.body = body;
      std::string out;
      ExportResult r = AppendNdjson(std::span(&e, 1), out);
      EXPECT_EQ(r.rows + static_cast<int64_t>(r.skipped.size()), 1);
      for (ExportTable table : {ExportTable::kCustomers, ExportTable::kPurchases,
                                ExportTable::kRewards, ExportTable::kConsents}) {
        (void)AppendCsvRows(table, std::span(&e, 1), out);
      }
    }
  }
  HqEvent far = events_.front();
  far.at_ms = INT64_MIN;
  std::string out;
  EXPECT_EQ(AppendNdjson(std::span(&far, 1), out).skipped.size(), 1u);
}

}  // namespace
}  // namespace regulars::testing
