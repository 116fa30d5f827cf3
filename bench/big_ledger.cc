#include "big_ledger.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "checkout/pricing.h"
#include "checkout/receipt.h"
#include "checkout/sale_record.h"
#include "checkout/till.h"
#include "domain/card_number.h"
#include "domain/timestamp.h"
#include "rewards/nth_unit.h"
#include "rewards/suggestions.h"
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
constexpr int kFormatVersion = 2;

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
// made the full load take over six minutes. A sample is also produced by the core's own
// functions (SaleEventBody through EventLog::Append, RenderReceipt) and must come out byte
// for byte the same, so the two cannot drift apart.
void AppendQuoted(std::string& out, std::string_view text) {
  // Escaped as nlohmann's dump escapes (without ensure_ascii); invalid UTF-8, which it
  // would replace, never occurs here, and the check would show it if it did.
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendText(std::string& out, const LocalText& text) {
  out += "{\"fr\":";
  AppendQuoted(out, text.fr);
  out += ",\"en\":";
  AppendQuoted(out, text.en);
  out += '}';
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

void AppendSkus(std::string& out, const std::vector<std::string>& skus) {
  out += '[';
  for (size_t i = 0; i < skus.size(); ++i) {
    if (i) out += ',';
    AppendQuoted(out, skus[i]);
  }
  out += ']';
}

// What SaleEventBody writes and EventLog::Append completes with "counts" and "visit", for
// the rules the generator supports (nth_unit only: see SupportedConfig).
std::string SaleBodyText(const Basket& basket, const Proposal& proposal,
                         const std::vector<CountDelta>& counts, const VisitDelta& visit) {
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
  AppendQuoted(out, proposal.book->config.rules.version);
  out += ",\"day\":";
  AppendQuoted(out, proposal.day.date);
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
    out += ",\"categories\":";
    AppendSkus(out, l.categories);
    AppendField(out, "gross", p.gross);
    AppendField(out, "discount", p.gross - p.net);
    AppendField(out, "net", p.net);
    out += '}';
  }
  out += "],\"applications\":[";
  for (size_t t = 0; t < proposal.terms.rules.size(); ++t) {
    const RuleTerms& term = proposal.terms.rules[t];
    out += t ? ",{\"rule\":" : "{\"rule\":";
    AppendQuoted(out, term.rule);
    out += ",\"kind\":\"nth_unit\"";
    AppendField(out, "every", term.every);
    AppendField(out, "progress_before", term.progress_before);
    out += term.counting ? ",\"counting\":true" : ",\"counting\":false";
    if (term.max_per_basket) AppendField(out, "max_per_basket", *term.max_per_basket);
    out += ",\"reward\":";
    if (!term.reward.percent && !term.reward.amount) {
      out += "null";  // an empty ordered_json is null
    } else {
      out += '{';
      if (term.reward.percent) out += "\"percent\":" + std::to_string(*term.reward.percent);
      if (term.reward.percent && term.reward.amount) out += ',';
      if (term.reward.amount) out += "\"amount\":" + std::to_string(*term.reward.amount);
      out += '}';
    }
    out += ",\"unit_name\":";
    AppendText(out, term.unit_name);
    out += term.applies ? ",\"applies\":true" : ",\"applies\":false";
    out += ",\"matched_lines\":[";
    for (size_t m = 0; m < term.matched.size(); ++m) {
      if (m) out += ',';
      out += std::to_string(basket.lines[term.matched[m]].line);
    }
    out += "],\"text\":";
    AppendText(out, term.text);
    out += '}';
  }
  out += "],\"cap\":null";
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
  out += "],\"visit\":{\"day\":";
  AppendQuoted(out, visit.day);
  AppendField(out, "visits", visit.visits);
  AppendField(out, "spend", visit.spend);
  AppendField(out, "discount", visit.discount);
  AppendField(out, "goodwill", visit.goodwill);
  out += ",\"skus\":";
  AppendSkus(out, visit.skus);
  out += "}}";
  return out;
}

// A sale's `visits` row as EventLog::Append writes it (the key aside), for the check.
std::string VisitRowText(const std::string& customer_id, int64_t at_ms, const VisitDelta& v,
                         const std::string& skus) {
  return customer_id + " " + std::to_string(at_ms) + " " + v.day + " " + std::to_string(v.visits) +
         " " + std::to_string(v.spend) + " " + std::to_string(v.discount) + " " +
         std::to_string(v.goodwill) + " " + skus;
}

// The sentence of a progress line comes from the core's RenderRuleProgress (it is the
// message catalogue's, not the generator's to make up); kept per (rule, have), as a
// million renderings of the same few sentences cost minutes.
class ProgressTexts {
 public:
  explicit ProgressTexts(const RuleBook& book) : book_(book) {}

  const LocalText& Of(const RuleTerms& terms, int64_t have) {
    auto [it, added] = texts_.try_emplace({terms.rule, have});
    if (added) {
      OrderedJson line = RenderRuleProgress(terms, have, book_);
      it->second = {line["text"]["fr"].get<std::string>(), line["text"]["en"].get<std::string>()};
    }
    return it->second;
  }

 private:
  const RuleBook& book_;
  std::map<std::pair<std::string, int64_t>, LocalText> texts_;
};

// What RenderReceipt writes for a customer's sale under nth_unit rules (no tier, no
// goodwill policy), with the "event_id" Till::Commit adds.
std::string ReceiptText(const Basket& basket, const Proposal& proposal, ProgressTexts& progress,
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
      if (p.discounts[d].units > 0) AppendField(out, "units", p.discounts[d].units);
      out += ",\"text\":";
      AppendText(out, p.discounts[d].text);
      out += '}';
    }
    out += "]}";
  }
  out += ']';
  AppendTotals(out, proposal.pricing);
  out += ",\"progress\":[";
  for (size_t t = 0; t < proposal.terms.rules.size(); ++t) {
    const RuleTerms& term = proposal.terms.rules[t];
    int64_t have = proposal.pricing.outcomes[t].progress_after;
    out += t ? ",{\"rule\":" : "{\"rule\":";
    AppendQuoted(out, term.rule);
    AppendField(out, "have", have);
    AppendField(out, "need", term.every);
    out += ",\"text\":";
    AppendText(out, progress.Of(term, have));
    out += '}';
  }
  out += "],\"suggestions\":[";
  for (size_t s = 0; s < proposal.suggestions.size(); ++s) {
    const Suggestion& suggestion = proposal.suggestions[s];
    out += s ? ",{\"kind\":" : "{\"kind\":";
    AppendQuoted(out, suggestion.kind);
    out += ",\"about\":";
    AppendQuoted(out, suggestion.subject);
    if (suggestion.kind == "usual_item") {
      AppendField(out, "times", suggestion.times);
      AppendField(out, "of", suggestion.of);
    } else {
      AppendField(out, "left", suggestion.left);
    }
    out += ",\"text\":";
    AppendText(out, suggestion.text);
    out += '}';
  }
  out += "],\"notices\":[],\"rules_version\":";
  AppendQuoted(out, proposal.book->config.rules.version);
  out += ",\"event_id\":";
  AppendQuoted(out, event_id);
  out += '}';
  return out;
}

std::string CoreReceipt(const Basket& basket, const Proposal& proposal,
                        const std::string& event_id) {
  OrderedJson receipt = RenderReceipt(basket, proposal, "committed");
  receipt["event_id"] = event_id;
  return ToText(receipt);
}

Status SameText(const char* what, const std::string& generated, const std::string& core) {
  if (generated == core) return Status::Ok();
  return Error::Internal(std::string("the generator's text differs from the core's ") + what +
                         " (update bench/big_ledger.cc):\n  generated: " + generated +
                         "\n  core:      " + core);
}

// The generator decides what Till::Propose would (which rules apply, from which
// progress, and the suggestions) from state it keeps in memory. That is only written for
// what the bench config uses; anything else is refused rather than generated wrong.
Status SupportedConfig(const Config& config) {
  auto refuse = [](const std::string& what) {
    return Error::Internal(
        "the big-ledger generator handles nth_unit rules with a text, "
        "without dates or groups, and no caps or goodwill: " +
        what);
  };
  for (const Rule& rule : config.rules.rules) {
    if (rule.kind != RuleKind::kNthUnit) return refuse(rule.id + " is not nth_unit");
    if (!rule.group.empty() || rule.valid_from_ms || rule.valid_until_ms || rule.text.empty()) {
      return refuse(rule.id + " has a group, dates or no text");
    }
  }
  if (config.rules.caps.per_basket || config.rules.caps.per_day) return refuse("caps");
  if (config.goodwill.enabled) return refuse("goodwill");
  return Status::Ok();
}

// A customer's last sales as Visits::RecentSales reads them back from `visits`: their
// distinct skus as catalogue indexes, so a million customers take about 60 MB.
class RecentSkus {
 public:
  static constexpr size_t kKept = 10;    // what Till::Propose reads for suggestions
  static constexpr size_t kMaxSkus = 5;  // a generated sale has at most five lines

  void Add(const std::vector<uint8_t>& products) {
    count_[next_] = static_cast<uint8_t>(std::min(products.size(), kMaxSkus));
    std::copy_n(products.begin(), count_[next_], skus_[next_]);
    next_ = static_cast<uint8_t>((next_ + 1) % kKept);
    if (size_ < kKept) ++size_;
  }

  // Newest first, as RecentSales returns them.
  std::vector<std::vector<std::string>> Skus() const {
    std::vector<std::vector<std::string>> sales;
    for (size_t n = 0; n < size_; ++n) {
      size_t slot = (next_ + kKept - 1 - n) % kKept;
      std::vector<std::string>& skus = sales.emplace_back();
      for (size_t i = 0; i < count_[slot]; ++i) skus.push_back(Catalogue()[skus_[slot][i]].sku);
    }
    return sales;
  }

 private:
  uint8_t size_ = 0;
  uint8_t next_ = 0;
  uint8_t count_[kKept] = {};
  uint8_t skus_[kKept][kMaxSkus] = {};
};

// Writes the events in time order, keeping every customer's counters and last sales in
// memory exactly as EventLog::Append would (Counter::Apply on each sale's counts, a visit
// row per sale), then the counters table.
class Generator {
 public:
  Generator(Database& db, const Config& config, const LedgerScale& scale)
      : db_(db),
        book_(std::make_shared<const RuleBook>(config)),
        scale_(scale),
        counters_(static_cast<size_t>(scale.customers) * config.rules.rules.size()),
        recent_(static_cast<size_t>(scale.customers)),
        progress_texts_(*book_) {}

  Status Run() {
    REGULARS_TRY(PrepareStatements());
    // The check's own ledger, in memory: the core's EventLog::Append writes each checked
    // sale's body and visit row there, to be compared with the generated ones.
    auto scratch = Ledger::Open(":memory:", {kTills[0].store, kTills[0].till, "EUR"});
    if (!scratch.ok()) return scratch.error();
    scratch_ = std::move(scratch).value();
    auto end_ms = Env::Default()->NowMs() - 24 * 3600 * 1000;  // history ends a day ago
    const int64_t span_ms = int64_t{730} * 24 * 3600 * 1000;
    const int64_t step_ms = std::max<int64_t>(1, span_ms / scale_.events);
    const int64_t start_ms = end_ms - step_ms * scale_.events;
    auto started = std::chrono::steady_clock::now();
    for (int64_t n = 0; n < scale_.events; ++n) {
      // Enrolments spread over the history: exactly `customers` of them in all.
      int64_t left = scale_.events - n, to_enroll = scale_.customers - enrolled_;
      bool enroll = enrolled_ == 0 || static_cast<int64_t>(rng_() % left) < to_enroll;
      size_t till = rng_() % 2 == 0 ? 0 : 1 + rng_() % (kTillCount - 1);
      int64_t seq = ++next_seq_[till];
      int64_t at_ms = start_ms + n * step_ms;
      if (enroll) {
        REGULARS_TRY(Enroll(enrolled_++, kTills[till], seq, at_ms));
      } else {
        auto customer = static_cast<int64_t>(rng_() % static_cast<uint64_t>(enrolled_));
        REGULARS_TRY(Sale(customer, till, seq, at_ms));
      }
      if ((n + 1) % (scale_.events / 20 + 1) == 0 || n + 1 == scale_.events) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::fprintf(stderr,
                     "  %" PRId64 " of %" PRId64 " events (%" PRId64 " customers), %.0f s\n", n + 1,
                     scale_.events, enrolled_, seconds);
      }
    }
    std::fprintf(stderr, "  %" PRId64 " sales compared with the core's texts\n", checked_);
    scratch_.reset();
    return WriteCounters();
  }

  // Once the ledger is committed: for a sample of customers, what the generator decides
  // for a new basket must be what the real engine (Till::Propose, reading counters and
  // visits from the generated ledger) decides, receipt for receipt.
  Status CheckAgainstEngine(const std::string& path) {
    auto till = Till::Open(book_->config, path);
    if (!till.ok()) return till.error();
    const int64_t samples = std::min<int64_t>(scale_.customers, 500);
    for (int64_t k = 0; k < samples; ++k) {
      int64_t customer = k * scale_.customers / samples;
      int64_t now = Env::Default()->NowMs();
      std::vector<uint8_t> products;
      Basket basket = RandomBasket(kTills[0], "CHECK-" + std::to_string(k), FormatTimestampUtc(now),
                                   now, products);
      basket.identifiers.push_back({"card", CardNumberOf(customer), "/identifiers/0", ""});
      auto core = (*till)->Propose(basket);
      if (!core.ok()) return core.error();
      if (core->who.customer_id != CustomerIdOf(customer)) {
        return Error::Internal("the engine did not recognize generated customer " +
                               std::to_string(customer));
      }
      auto generated = Decide(customer, basket, true);
      if (!generated.ok()) return generated.error();
      std::string expected = ToText(RenderReceipt(basket, *core, "proposed"));
      std::string got = ToText(RenderReceipt(basket, *generated, "proposed"));
      if (got != expected) {
        return Error::Internal(
            "the generator's decisions differ from Till::Propose's on the generated ledger "
            "(update bench/big_ledger.cc):\n  generator: " +
            got + "\n  engine:    " + expected);
      }
    }
    std::fprintf(stderr, "  %" PRId64 " customers priced alike by the generator and the engine\n",
                 samples);
    return Status::Ok();
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
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        "INSERT INTO visits (store_id, till_id, seq, customer_id, at_ms, day, visits, spend, "
        "discount, goodwill, skus) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};
    Statement** targets[] = {&add_customer_,    &add_identifier_, &add_event_,
                             &add_transaction_, &add_counter_,    &add_visit_};
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
    // The body Till::EnrollCard writes, with the empty "counts" EventLog::Append adds; an
    // enrolment has no visit.
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

  // One to five lines, half of them products some rule matches. `products` receives the
  // basket's distinct catalogue indexes, in basket order.
  Basket RandomBasket(const TillName& till, std::string pos_txn_id, std::string at, int64_t at_ms,
                      std::vector<uint8_t>& products) {
    Basket basket;
    basket.pos_txn_id = std::move(pos_txn_id);
    basket.store_id = till.store;
    basket.till_id = till.till;
    basket.cashier_id = "C" + std::to_string(1 + rng_() % 20);
    basket.at = std::move(at);
    basket.at_ms = at_ms;
    basket.currency = book_->config.till.currency;
    size_t line_count = 1 + rng_() % RecentSkus::kMaxSkus;
    products.clear();
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
      if (std::find(products.begin(), products.end(), pick) == products.end()) {
        products.push_back(static_cast<uint8_t>(pick));
      }
    }
    return basket;
  }

  // What Till::Propose decides for this customer's basket, from the state kept in memory:
  // the rules the basket matches or whose reward is near, in rule order; the
  // pricing; and (when wanted: only receipts show them) the suggestions.
  Result<Proposal> Decide(int64_t customer, const Basket& basket, bool with_suggestions) {
    const auto& rules = book_->config.rules.rules;
    Proposal proposal;
    proposal.book = book_;
    proposal.day = LocalDayOf(basket.at, basket.at_ms);
    proposal.who.customer_id = CustomerIdOf(customer);
    proposal.who.recognized_by = "card";
    for (size_t r = 0; r < rules.size(); ++r) {
      const Rule& rule = rules[r];
      auto matched = MatchedLines(rule.match, basket.lines);
      int64_t progress = CounterOf(customer, r).progress;
      // As Propose: a rule the basket does not touch counts only when its reward is near
      // (within two units) or owed.
      if (matched.empty() && (progress <= 0 || progress < rule.every - 2)) continue;
      RuleTerms t = TermsOf(rule);
      t.progress_before = progress;
      t.matched = std::move(matched);
      proposal.terms.rules.push_back(std::move(t));
    }
    auto pricing = PriceBasket(basket.lines, proposal.terms);
    if (!pricing.ok()) return pricing.error();
    proposal.pricing = std::move(pricing).value();
    if (with_suggestions) {
      SuggestionInput in;
      for (size_t i = 0; i < proposal.terms.rules.size(); ++i) {
        const RuleTerms& t = proposal.terms.rules[i];
        in.rewards.push_back({t.rule, proposal.pricing.outcomes[i].progress_after, t.every,
                              t.reward.IsFree(), t.unit_name});
      }
      in.recent_sales = recent_[static_cast<size_t>(customer)].Skus();
      for (const auto& line : basket.lines) in.basket_skus.push_back(line.sku);
      proposal.suggestions = Suggest(in, book_->messages);
    }
    return proposal;
  }

  // A sale priced and recorded as Till::Commit does: its event, its visit row, and for
  // this till (the first) the transaction's answer.
  Status Sale(int64_t customer, size_t till_index, int64_t seq, int64_t at_ms) {
    const TillName& till = kTills[till_index];
    std::vector<uint8_t> products;
    Basket basket =
        RandomBasket(till, PosTxnIdOf(till, seq), FormatTimestampUtc(at_ms), at_ms, products);
    bool answered = till_index == 0;  // only this till answered the POS
    auto decided = Decide(customer, basket, answered);
    if (!decided.ok()) return decided.error();
    const Proposal& proposal = *decided;
    const std::string& customer_id = *proposal.who.customer_id;

    std::vector<CountDelta> counts;
    for (size_t t = 0; t < proposal.terms.rules.size(); ++t) {
      const auto& outcome = proposal.pricing.outcomes[t];
      if (outcome.units == 0 && outcome.rewards == 0) continue;
      const RuleTerms& term = proposal.terms.rules[t];
      counts.push_back({term.rule, term.every, outcome.units, outcome.rewards});
    }
    VisitDelta visit;
    visit.day = proposal.day.date;
    visit.visits = 1;
    visit.spend = proposal.pricing.total_net;
    visit.discount = proposal.pricing.rule_discount;
    visit.goodwill = proposal.pricing.goodwill;
    for (uint8_t p : products) visit.skus.push_back(Catalogue()[p].sku);
    std::string body = SaleBodyText(basket, proposal, counts, visit);
    std::string skus;
    AppendSkus(skus, visit.skus);
    bool check = ShouldCheck(proposal);
    if (check) REGULARS_TRY(CheckSale(basket, proposal, counts, visit, body, skus));

    // The counters after the sale, as EventLog::Append updates them.
    for (const CountDelta& delta : counts) {
      if (!CounterOf(customer, RuleIndexOf(delta.rule)).Apply(delta)) {
        return Error::Internal("a generated counter overflowed");
      }
    }
    recent_[static_cast<size_t>(customer)].Add(products);
    REGULARS_TRY(Insert(add_event_->Bind(1, till.store)
                            .Bind(2, till.till)
                            .Bind(3, seq)
                            .Bind(4, at_ms)
                            .Bind(5, "sale")
                            .Bind(6, customer_id)
                            .Bind(7, basket.pos_txn_id)
                            .Bind(8, body)));
    REGULARS_TRY(Insert(add_visit_->Bind(1, till.store)
                            .Bind(2, till.till)
                            .Bind(3, seq)
                            .Bind(4, customer_id)
                            .Bind(5, at_ms)
                            .Bind(6, visit.day)
                            .Bind(7, visit.visits)
                            .Bind(8, visit.spend)
                            .Bind(9, visit.discount)
                            .Bind(10, visit.goodwill)
                            .Bind(11, skus)));
    if (!answered) return Status::Ok();

    std::string event_id = std::string(till.store) + ":" + till.till + ":" + std::to_string(seq);
    std::string receipt = ReceiptText(basket, proposal, progress_texts_, event_id);
    if (check)
      REGULARS_TRY(SameText("RenderReceipt", receipt, CoreReceipt(basket, proposal, event_id)));
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

  // The first thousand sales, one in a thousand after, and the first sale of each shape
  // (which progress sentence, which suggestions, discounts, weighed lines): so every
  // kind of text the generator writes is compared at least once, at any scale.
  bool ShouldCheck(const Proposal& proposal) {
    ++sales_;
    uint32_t shape = 0;
    for (size_t t = 0; t < proposal.terms.rules.size(); ++t) {
      int64_t have = proposal.pricing.outcomes[t].progress_after;
      int64_t every = proposal.terms.rules[t].every;
      shape |= have >= every ? 1u : have == every - 1 ? 2u : 4u;
      if (proposal.pricing.outcomes[t].rewards > 0) shape |= 8u;
    }
    for (const auto& s : proposal.suggestions) {
      shape |= s.kind == "reward_near" ? 16u : s.kind == "usual_item" ? 32u : 64u;
    }
    if (proposal.suggestions.size() > 1) shape |= 128u;
    bool new_shape = seen_shapes_.insert(shape).second;
    return sales_ <= 1000 || sales_ % 1000 == 1 || new_shape;
  }

  // The core writes the same sale into the scratch ledger: SaleEventBody, then
  // EventLog::Append with the same counts and visit, exactly as Till::Commit calls them.
  Status CheckSale(const Basket& basket, const Proposal& proposal,
                   const std::vector<CountDelta>& counts, const VisitDelta& visit,
                   const std::string& body, const std::string& skus) {
    NewEvent event;
    event.kind = "sale";
    event.at_ms = basket.at_ms;
    event.customer_id = proposal.who.customer_id;
    event.pos_txn_id = basket.pos_txn_id;
    event.counts = counts;
    event.visit = visit;
    event.body = SaleEventBody(basket, proposal);
    auto key = scratch_->events().Append(event);
    if (!key.ok()) return key.error();
    Database& db = scratch_->db();
    auto stored = db.Prepare(
        "SELECT e.body, v.customer_id, v.at_ms, v.day, v.visits, v.spend, v.discount, "
        "v.goodwill, v.skus FROM events e JOIN visits v USING (store_id, till_id, seq) "
        "WHERE e.store_id = ?1 AND e.till_id = ?2 AND e.seq = ?3");
    if (!stored.ok()) return stored.error();
    Statement& s = **stored;
    s.Bind(1, key->store_id).Bind(2, key->till_id).Bind(3, key->seq);
    auto row = s.Step();
    if (!row.ok()) return row.error();
    if (!*row) return Error::Internal("EventLog::Append wrote no visit row for a sale");
    std::string core_body = s.Text(0);
    VisitDelta core_visit{s.Text(3), s.Int(4), s.Int(5), s.Int(6), s.Int(7), {}};
    std::string core_row = VisitRowText(s.Text(1), s.Int(2), core_visit, s.Text(8));
    s.Reset();
    ++checked_;
    REGULARS_TRY(SameText("sale event body (SaleEventBody, EventLog::Append)", body, core_body));
    return SameText("visits row (EventLog::Append)",
                    VisitRowText(*proposal.who.customer_id, basket.at_ms, visit, skus), core_row);
  }

  // A counter row exists once a sale counted units for it (a sale's counts always have
  // units when they have rewards), as EventLog::Append stores them.
  Status WriteCounters() {
    const auto& rules = book_->config.rules.rules;
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

  size_t RuleIndexOf(const std::string& id) const {
    const auto& rules = book_->config.rules.rules;
    for (size_t r = 0; r < rules.size(); ++r) {
      if (rules[r].id == id) return r;
    }
    return rules.size();  // never: counts name the proposal's rules
  }

  Counter& CounterOf(int64_t customer, size_t rule) {
    return counters_[static_cast<size_t>(customer) * book_->config.rules.rules.size() + rule];
  }

  Database& db_;
  std::shared_ptr<const RuleBook> book_;
  LedgerScale scale_;
  std::mt19937_64 rng_{20261123};  // fixed: the same scale gives the same ledger
  std::vector<Counter> counters_;  // customers x rules
  std::vector<RecentSkus> recent_;
  ProgressTexts progress_texts_;
  std::unique_ptr<Ledger> scratch_;
  std::set<uint32_t> seen_shapes_;
  int64_t next_seq_[kTillCount] = {};
  int64_t enrolled_ = 0;
  int64_t sales_ = 0;
  int64_t checked_ = 0;
  Statement* add_customer_ = nullptr;
  Statement* add_identifier_ = nullptr;
  Statement* add_event_ = nullptr;
  Statement* add_transaction_ = nullptr;
  Statement* add_counter_ = nullptr;
  Statement* add_visit_ = nullptr;
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
  REGULARS_TRY(SupportedConfig(config));
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
  REGULARS_TRY(generator.CheckAgainstEngine(path));

  std::ofstream(marker) << MarkerText(scale);
  std::fprintf(stderr, "Generated %s (%.1f GB)\n", path.c_str(),
               static_cast<double>(fs::file_size(path)) / 1e9);
  return Status::Ok();
}

}  // namespace regulars::bench
