#include "big_ledger.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "checkout/pricing.h"
#include "checkout/receipt.h"
#include "checkout/sale_record.h"
#include "checkout/till.h"
#include "domain/card_number.h"
#include "domain/timestamp.h"
#include "rewards/nth_unit.h"
#include "store/ledger.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace regulars::bench {

const char kBenchConfig[] = R"json({
  "store_id": "S001", "till_id": "T01", "currency": "EUR",
  "rules": [
    {"id": "diapers-5th", "kind": "nth_unit", "every": 5,
     "match": {"brands": ["Dodo"], "categories": ["baby/diapers"], "skus": []},
     "reward": {"percent": 100},
     "unit_name": {"fr": "paquet", "en": "pack"},
     "text": {"fr": "5e paquet offert", "en": "5th pack free"}},
    {"id": "coffee-10th", "kind": "nth_unit", "every": 10,
     "match": {"categories": ["grocery/coffee"]},
     "reward": {"amount": 200},
     "unit_name": {"fr": "paquet de café", "en": "coffee pack"},
     "text": {"fr": "2 EUR de remise sur le 10e café", "en": "2 EUR off the 10th coffee"}}
  ]
})json";

namespace {

// Bump when the generated content changes, so an old cached file is regenerated.
constexpr int kFormatVersion = 1;

// The tills whose events the ledger holds. This till (the first) wrote half of them and
// answered their transactions; the rest came from the chain's other tills through HQ.
struct TillName {
  const char* store;
  const char* till;
};
constexpr TillName kTills[] = {{"S001", "T01"}, {"S001", "T02"}, {"S001", "T03"}, {"S002", "T01"},
                               {"S002", "T02"}, {"S003", "T01"}, {"S003", "T02"}, {"S004", "T01"}};
constexpr size_t kTillCount = sizeof kTills / sizeof kTills[0];

// A bijection on 64-bit integers: distinct customer indexes give distinct random ids.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

std::string Hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

// Random like the ids Till::EnrollCard makes ("c_" and 16 hex digits).
std::string CustomerIdOf(int64_t index) {
  return "c_" + Hex64(SplitMix64(static_cast<uint64_t>(index)));
}

std::string PosTxnIdOf(const TillName& till, int64_t seq) {
  char text[64];
  std::snprintf(text, sizeof text, "%s-%s-%09" PRId64, till.store, till.till, seq);
  return text;
}

// What a cached ledger was made from: a new schema or generator makes a new ledger.
std::string MarkerText(const LedgerScale& scale) {
  std::string schema;
  for (const Migration& step : LedgerMigrations()) schema += step.sql;
  std::ostringstream text;
  text << "format=" << kFormatVersion << " schema=" << std::hash<std::string>{}(schema)
       << " customers=" << scale.customers << " events=" << scale.events << "\n";
  return text.str();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The event body and receipt are written by hand: building them as nlohmann objects
// made the full load take over six minutes. A sample is also rendered by the core's own
// functions and must come out byte for byte the same, so the two cannot drift apart.
// (No escaping: every generated string is plain; a mismatch would show it.)
void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  out += text;
  out += '"';
}

void AppendText(std::string& out, const LocalText& text) {
  out += "{\"fr\":\"";
  out += text.fr;
  out += "\",\"en\":\"";
  out += text.en;
  out += "\"}";
}

void AppendField(std::string& out, std::string_view key, int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void AppendTotals(std::string& out, const Pricing& pricing) {
  AppendField(out, "total_gross", pricing.total_gross);
  AppendField(out, "total_discount", pricing.total_discount);
  AppendField(out, "total_net", pricing.total_net);
}

// What SaleEventBody and Ledger::Append write for a sale.
std::string SaleBodyText(const Basket& basket, const Proposal& proposal,
                         const std::vector<CountDelta>& counts, const std::string& version) {
  std::string out = "{\"pos_txn_id\":";
  AppendQuoted(out, basket.pos_txn_id);
  out += ",\"at\":";
  AppendQuoted(out, basket.at);
  out += ",\"cashier_id\":";
  AppendQuoted(out, basket.cashier_id);
  out += ",\"customer\":";
  AppendQuoted(out, *proposal.who.customer_id);
  out += ",\"recognized_by\":";
  AppendQuoted(out, proposal.who.recognized_by);
  out += ",\"currency\":";
  AppendQuoted(out, basket.currency.code);
  out += ",\"rules_version\":";
  AppendQuoted(out, version);
  out += ",\"lines\":[";
  for (size_t i = 0; i < basket.lines.size(); ++i) {
    const BasketLine& l = basket.lines[i];
    const PricedLine& p = proposal.pricing.lines[i];
    out += i ? ",{\"line\":" : "{\"line\":";
    out += std::to_string(l.line);
    out += ",\"sku\":";
    AppendQuoted(out, l.sku);
    AppendField(out, "qty", l.qty);
    out += l.unit == QuantityUnit::kGram ? ",\"unit\":\"g\"" : ",\"unit\":\"each\"";
    AppendField(out, "unit_price", l.unit_price);
    out += ",\"brand\":";
    AppendQuoted(out, l.brand);
    out += ",\"categories\":[";
    for (size_t c = 0; c < l.categories.size(); ++c) {
      if (c) out += ',';
      AppendQuoted(out, l.categories[c]);
    }
    out += ']';
    AppendField(out, "gross", p.gross);
    AppendField(out, "discount", p.gross - p.net);
    AppendField(out, "net", p.net);
    out += '}';
  }
  out += "],\"applications\":[";
  for (size_t t = 0; t < proposal.terms.size(); ++t) {
    const RuleTerms& term = proposal.terms[t];
    out += t ? ",{\"rule\":" : "{\"rule\":";
    AppendQuoted(out, term.rule);
    AppendField(out, "every", term.every);
    out += ",\"reward\":";
    if (term.reward.percent) {
      out += "{\"percent\":" + std::to_string(*term.reward.percent) + "}";
    } else {
      out += "{\"amount\":" + std::to_string(*term.reward.amount) + "}";
    }
    AppendField(out, "progress_before", term.progress_before);
    out += ",\"matched_lines\":[";
    for (size_t m = 0; m < term.matched.size(); ++m) {
      if (m) out += ',';
      out += std::to_string(basket.lines[term.matched[m]].line);
    }
    out += "],\"text\":";
    AppendText(out, term.text);
    out += ",\"unit_name\":";
    AppendText(out, term.unit_name);
    out += '}';
  }
  out += ']';
  AppendTotals(out, proposal.pricing);
  out += ",\"counts\":[";
  for (size_t c = 0; c < counts.size(); ++c) {
    out += c ? ",{\"rule\":" : "{\"rule\":";
    AppendQuoted(out, counts[c].rule);
    AppendField(out, "every", counts[c].every);
    AppendField(out, "units", counts[c].units);
    AppendField(out, "rewards", counts[c].rewards);
    out += '}';
  }
  out += "]}";
  return out;
}

// What Till::Commit stores as the answer to a sale: its committed receipt.
std::string ReceiptText(const Basket& basket, const Proposal& proposal, const std::string& version,
                        const std::string& event_id) {
  std::string out = "{\"pos_txn_id\":";
  AppendQuoted(out, basket.pos_txn_id);
  out += ",\"status\":\"committed\",\"customer\":{\"id\":";
  AppendQuoted(out, *proposal.who.customer_id);
  out += ",\"tier\":null,\"recognized_by\":";
  AppendQuoted(out, proposal.who.recognized_by);
  out += "},\"currency\":";
  AppendQuoted(out, basket.currency.code);
  out += ",\"lines\":[";
  for (size_t i = 0; i < basket.lines.size(); ++i) {
    const BasketLine& l = basket.lines[i];
    const PricedLine& p = proposal.pricing.lines[i];
    out += i ? ",{\"line\":" : "{\"line\":";
    out += std::to_string(l.line);
    out += ",\"sku\":";
    AppendQuoted(out, l.sku);
    AppendField(out, "qty", l.qty);
    if (l.unit == QuantityUnit::kGram) out += ",\"unit\":\"g\"";
    AppendField(out, "gross", p.gross);
    AppendField(out, "net", p.net);
    out += ",\"discounts\":[";
    for (size_t d = 0; d < p.discounts.size(); ++d) {
      out += d ? ",{\"rule\":" : "{\"rule\":";
      AppendQuoted(out, p.discounts[d].rule);
      AppendField(out, "amount", p.discounts[d].amount);
      AppendField(out, "units", p.discounts[d].units);
      out += ",\"text\":";
      AppendText(out, p.discounts[d].text);
      out += '}';
    }
    out += "]}";
  }
  out += ']';
  AppendTotals(out, proposal.pricing);
  out += ",\"progress\":[";
  for (size_t t = 0; t < proposal.terms.size(); ++t) {
    const RuleTerms& term = proposal.terms[t];
    int64_t have = proposal.pricing.outcomes[t].progress_after;
    bool free = term.reward.percent && *term.reward.percent == 100;
    out += t ? ",{\"rule\":" : "{\"rule\":";
    AppendQuoted(out, term.rule);
    AppendField(out, "have", have);
    AppendField(out, "need", term.every);
    out += ",\"text\":";
    AppendText(out, ProgressText(have, term.every, term.unit_name, free));
    out += '}';
  }
  out += "],\"notices\":[],\"rules_version\":";
  AppendQuoted(out, version);
  out += ",\"event_id\":";
  AppendQuoted(out, event_id);
  out += '}';
  return out;
}

// The same two texts by the core's own functions, for the check.
std::string CoreSaleBody(const Basket& basket, const Proposal& proposal,
                         const std::vector<CountDelta>& counts, const std::string& version) {
  OrderedJson body = SaleEventBody(basket, proposal, version);
  OrderedJson list = OrderedJson::array();
  for (const auto& c : counts) {
    list.push_back(
        {{"rule", c.rule}, {"every", c.every}, {"units", c.units}, {"rewards", c.rewards}});
  }
  body["counts"] = list;
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);  // as Ledger::Append
}

std::string CoreReceipt(const Basket& basket, const Proposal& proposal, const std::string& version,
                        const std::string& event_id) {
  OrderedJson receipt = RenderReceipt(basket, proposal, "committed", version);
  receipt["event_id"] = event_id;
  return ToText(receipt);
}

Status SameText(const char* what, const std::string& generated, const std::string& core) {
  if (generated == core) return Status::Ok();
  return Error::Internal(std::string("the generator's text differs from the core's ") + what +
                         " (update bench/big_ledger.cc):\n  generated: " + generated +
                         "\n  core:      " + core);
}

// Writes the events in time order, keeping every customer's counters in memory exactly as
// Ledger::Append would (Counter::Apply on each sale's counts), then the counters table.
class Generator {
 public:
  Generator(Database& db, const Config& config, const LedgerScale& scale)
      : db_(db),
        config_(config),
        scale_(scale),
        counters_(static_cast<size_t>(scale.customers) * config.rules.rules.size()) {}

  Status Run() {
    REGULARS_TRY(PrepareStatements());
    auto end_ms = SystemClockMs() - 24 * 3600 * 1000;  // history ends a day ago
    const int64_t span_ms = int64_t{730} * 24 * 3600 * 1000;
    const int64_t step_ms = std::max<int64_t>(1, span_ms / scale_.events);
    const int64_t start_ms = end_ms - step_ms * scale_.events;
    auto started = std::chrono::steady_clock::now();
    int64_t enrolled = 0;
    for (int64_t n = 0; n < scale_.events; ++n) {
      // Enrolments spread over the history: exactly `customers` of them in all.
      int64_t left = scale_.events - n, to_enroll = scale_.customers - enrolled;
      bool enroll = enrolled == 0 || static_cast<int64_t>(rng_() % left) < to_enroll;
      size_t till = rng_() % 2 == 0 ? 0 : 1 + rng_() % (kTillCount - 1);
      int64_t seq = ++next_seq_[till];
      int64_t at_ms = start_ms + n * step_ms;
      if (enroll) {
        REGULARS_TRY(Enroll(enrolled++, kTills[till], seq, at_ms));
      } else {
        auto customer = static_cast<int64_t>(rng_() % static_cast<uint64_t>(enrolled));
        REGULARS_TRY(Sale(customer, till, seq, at_ms));
      }
      if ((n + 1) % (scale_.events / 20 + 1) == 0 || n + 1 == scale_.events) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::fprintf(stderr,
                     "  %" PRId64 " of %" PRId64 " events (%" PRId64 " customers), %.0f s\n", n + 1,
                     scale_.events, enrolled, seconds);
      }
    }
    return WriteCounters();
  }

 private:
  Status PrepareStatements() {
    const char* sql[] = {
        "INSERT INTO customers (id, created_at_ms, store_id) VALUES (?1, ?2, ?3)",
        "INSERT INTO identifiers (kind, value, customer_id) VALUES ('card', ?1, ?2)",
        "INSERT INTO events (store_id, till_id, seq, at_ms, kind, customer_id, pos_txn_id, "
        "ref_pos_txn_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8)",
        "INSERT INTO transactions (pos_txn_id, kind, request_digest, response, customer_id, "
        "event_store, event_till, event_seq) VALUES (?1, 'sale', ?2, ?3, ?4, ?5, ?6, ?7)",
        "INSERT INTO counters (customer_id, rule_id, units, rewards, progress, over_granted) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
    Statement** targets[] = {&add_customer_, &add_identifier_, &add_event_, &add_transaction_,
                             &add_counter_};
    for (size_t i = 0; i < std::size(sql); ++i) {
      auto stmt = db_.Prepare(sql[i]);
      if (!stmt.ok()) return stmt.error();
      *targets[i] = *stmt;
    }
    return Status::Ok();
  }

  // Runs a prepared insert and rewinds it for the next row.
  static Status Insert(Statement& stmt) {
    Status status = stmt.Run();
    stmt.Reset();
    return status;
  }

  Status Enroll(int64_t customer, const TillName& till, int64_t seq, int64_t at_ms) {
    std::string id = CustomerIdOf(customer), card = CardNumberOf(customer);
    REGULARS_TRY(Insert(add_customer_->Bind(1, id).Bind(2, at_ms).Bind(3, till.store)));
    REGULARS_TRY(Insert(add_identifier_->Bind(1, card).Bind(2, id)));
    // The body Till::EnrollCard writes, with the empty "counts" Ledger::Append adds.
    OrderedJson body{{"customer", id}, {"identifier", {{"kind", "card"}, {"value", card}}}};
    body["counts"] = OrderedJson::array();
    return Insert(add_event_->Bind(1, till.store)
                      .Bind(2, till.till)
                      .Bind(3, seq)
                      .Bind(4, at_ms)
                      .Bind(5, "enroll")
                      .Bind(6, id)
                      .BindNull(7)
                      .Bind(8, ToText(body)));
  }

  // A sale of one to five lines, half of them products some rule matches, priced and
  // recorded by the core's own functions as Till::Commit does.
  Status Sale(int64_t customer, size_t till_index, int64_t seq, int64_t at_ms) {
    const TillName& till = kTills[till_index];
    const auto& rules = config_.rules.rules;
    Basket basket;
    basket.pos_txn_id = PosTxnIdOf(till, seq);
    basket.store_id = till.store;
    basket.till_id = till.till;
    basket.cashier_id = "C" + std::to_string(1 + rng_() % 20);
    basket.at = FormatTimestampUtc(at_ms);
    basket.at_ms = at_ms;
    basket.currency = config_.till.currency;
    size_t line_count = 1 + rng_() % 5;
    for (size_t i = 0; i < line_count; ++i) {
      size_t pick = rng_() % 2 == 0 ? rng_() % 10 : 10 + rng_() % (Catalogue().size() - 10);
      const Product& p = Catalogue()[pick];
      BasketLine line;
      line.line = static_cast<int64_t>(i + 1);
      line.sku = p.sku;
      line.unit = p.weighed ? QuantityUnit::kGram : QuantityUnit::kEach;
      line.qty = p.weighed ? 200 + static_cast<int64_t>(rng_() % 1500)
                           : 1 + static_cast<int64_t>(rng_() % 3);
      line.unit_price = p.unit_price;
      line.brand = p.brand;
      line.categories = {p.category};
      line.gross = GrossOf(line).value_or(0);
      basket.total_gross += line.gross;
      basket.lines.push_back(std::move(line));
    }

    std::string customer_id = CustomerIdOf(customer);
    Proposal proposal;
    proposal.who.customer_id = customer_id;
    proposal.who.recognized_by = "card";
    std::vector<size_t> rule_of_term;
    for (size_t r = 0; r < rules.size(); ++r) {
      auto matched = MatchedLines(rules[r].match, basket.lines);
      int64_t progress = CounterOf(customer, r).progress;
      if (matched.empty() && progress == 0) continue;  // as Till::Propose
      proposal.terms.push_back({rules[r].id, rules[r].every, rules[r].reward, rules[r].text,
                                rules[r].unit_name, progress, matched});
      rule_of_term.push_back(r);
    }
    auto pricing = PriceBasket(basket.lines, proposal.terms);
    if (!pricing.ok()) return pricing.error();
    proposal.pricing = std::move(pricing).value();

    std::vector<CountDelta> counts;
    for (size_t t = 0; t < proposal.terms.size(); ++t) {
      const auto& outcome = proposal.pricing.outcomes[t];
      if (outcome.units == 0 && outcome.rewards == 0) continue;
      counts.push_back(
          {proposal.terms[t].rule, proposal.terms[t].every, outcome.units, outcome.rewards});
      if (!CounterOf(customer, rule_of_term[t]).Apply(counts.back())) {
        return Error::Internal("a generated counter overflowed");
      }
    }
    const std::string& version = config_.rules.version;
    std::string body = SaleBodyText(basket, proposal, counts, version);
    bool check = ++sales_ % 1000 == 1;  // the first sale, then one in a thousand
    if (check)
      REGULARS_TRY(
          SameText("SaleEventBody", body, CoreSaleBody(basket, proposal, counts, version)));
    REGULARS_TRY(Insert(add_event_->Bind(1, till.store)
                            .Bind(2, till.till)
                            .Bind(3, seq)
                            .Bind(4, at_ms)
                            .Bind(5, "sale")
                            .Bind(6, customer_id)
                            .Bind(7, basket.pos_txn_id)
                            .Bind(8, body)));
    if (till_index != 0) return Status::Ok();  // only this till answered the POS

    std::string event_id = std::string(till.store) + ":" + till.till + ":" + std::to_string(seq);
    std::string receipt = ReceiptText(basket, proposal, version, event_id);
    if (check) {
      REGULARS_TRY(
          SameText("RenderReceipt", receipt, CoreReceipt(basket, proposal, version, event_id)));
    }
    // A stand-in for the request digest: only a retry of this very id would compare it.
    uint64_t h = SplitMix64(static_cast<uint64_t>(seq));
    std::string digest = Hex64(h) + Hex64(SplitMix64(h)) + Hex64(h ^ 1) + Hex64(h ^ 2);
    return Insert(add_transaction_->Bind(1, basket.pos_txn_id)
                      .Bind(2, digest)
                      .Bind(3, receipt)
                      .Bind(4, customer_id)
                      .Bind(5, till.store)
                      .Bind(6, till.till)
                      .Bind(7, seq));
  }

  // A counter row exists once a sale counted units for it (a sale's counts always have
  // units when they have rewards), as Ledger::Append stores them.
  Status WriteCounters() {
    const auto& rules = config_.rules.rules;
    int64_t written = 0;
    for (int64_t customer = 0; customer < scale_.customers; ++customer) {
      for (size_t r = 0; r < rules.size(); ++r) {
        const Counter& c = CounterOf(customer, r);
        if (c.units == 0) continue;
        REGULARS_TRY(Insert(add_counter_->Bind(1, CustomerIdOf(customer))
                                .Bind(2, rules[r].id)
                                .Bind(3, c.units)
                                .Bind(4, c.rewards)
                                .Bind(5, c.progress)
                                .Bind(6, c.over_granted)));
        ++written;
      }
    }
    std::fprintf(stderr, "  %" PRId64 " counters\n", written);
    return Status::Ok();
  }

  Counter& CounterOf(int64_t customer, size_t rule) {
    return counters_[static_cast<size_t>(customer) * config_.rules.rules.size() + rule];
  }

  Database& db_;
  const Config& config_;
  LedgerScale scale_;
  std::mt19937_64 rng_{20261123};  // fixed: the same scale gives the same ledger
  std::vector<Counter> counters_;  // customers x rules
  int64_t next_seq_[kTillCount] = {};
  int64_t sales_ = 0;
  Statement* add_customer_ = nullptr;
  Statement* add_identifier_ = nullptr;
  Statement* add_event_ = nullptr;
  Statement* add_transaction_ = nullptr;
  Statement* add_counter_ = nullptr;
};

}  // namespace

const std::vector<Product>& Catalogue() {
  static const std::vector<Product> products = [] {
    std::vector<Product> list = {
        {"3400000000011", "Dodo", "baby/diapers", 1290},
        {"3400000000028", "Dodo", "baby/diapers", 1390},
        {"3400000000035", "Dodo", "baby/diapers", 1490},
        {"3400000000042", "Dodo", "baby/diapers", 1590},
        {"3400000000059", "Pampa", "baby/diapers", 1350},  // by category
        {"3400000000066", "Dodo", "baby/wipes", 299},      // by brand
        {"3400000000073", "Bibi", "baby/wipes", 279},      // no rule
        {"3400000000080", "Arabica & Co", "grocery/coffee", 450},
        {"3400000000097", "Arabica & Co", "grocery/coffee", 520},
        {"3400000000103", "Moka", "grocery/coffee", 389},
    };
    const char* categories[] = {"grocery/dairy",      "grocery/bakery", "grocery/fruit",
                                "household/cleaning", "drinks/water",   "grocery/pasta"};
    const char* brands[] = {"Maison", "Fresh", "Clair", "Aqua"};
    for (int i = 10; i < 50; ++i) {
      std::string category = categories[i % 6];
      bool weighed = category == "grocery/fruit";  // priced per kilogram
      list.push_back({"34000000010" + std::to_string(10 + i), brands[i % 4], category,
                      weighed ? 249 + (i * 37) % 400 : 99 + (i * 137) % 900, weighed});
    }
    return list;
  }();
  return products;
}

std::string CardNumberOf(int64_t index) {
  char first_twelve[16];
  std::snprintf(first_twelve, sizeof first_twelve, "29%010" PRId64, index);
  return first_twelve + std::to_string(Ean13CheckDigit(first_twelve));
}

Status EnsureBigLedger(const std::string& path, const Config& config, const LedgerScale& scale) {
  namespace fs = std::filesystem;
  const std::string marker = path + ".complete";
  if (fs::exists(path) && ReadFile(marker) == MarkerText(scale)) {
    std::fprintf(stderr, "Reusing the ledger %s\n", path.c_str());
    return Status::Ok();
  }
  for (const char* suffix : {"", "-wal", "-shm", ".complete"}) fs::remove(path + suffix);
  std::fprintf(stderr, "Generating %s: %" PRId64 " customers, %" PRId64 " events\n", path.c_str(),
               scale.customers, scale.events);

  // The real schema and pragmas first, as the till creates them.
  auto till = Till::Open(config, path);
  if (!till.ok()) return till.error();
  till->reset();

  // Then one big unjournaled transaction: an interrupted load leaves no marker, so the
  // next run starts again from scratch.
  auto db = Database::Open(path);
  if (!db.ok()) return db.error();
  Database& raw = **db;
  REGULARS_TRY(raw.Exec("PRAGMA journal_mode=OFF"));
  REGULARS_TRY(raw.Exec("PRAGMA synchronous=OFF"));
  REGULARS_TRY(raw.Exec("PRAGMA cache_size=-2000000"));  // 2 GB: the indexes stay in memory
  REGULARS_TRY(raw.Exec("BEGIN"));
  Generator generator(raw, config, scale);
  REGULARS_TRY(generator.Run());
  REGULARS_TRY(raw.Exec("COMMIT"));
  REGULARS_TRY(raw.Exec("PRAGMA journal_mode=WAL"));
  db->reset();

  std::ofstream(marker) << MarkerText(scale);
  std::fprintf(stderr, "Generated %s (%.1f GB)\n", path.c_str(),
               static_cast<double>(fs::file_size(path)) / 1e9);
  return Status::Ok();
}

}  // namespace regulars::bench
