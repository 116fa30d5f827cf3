#include "hq/crm_export.h"

#include <algorithm>
#include <map>
#include <optional>

#include "checkout/pricing.h"
#include "checkout/sale_record.h"
#include "domain/money.h"
#include "domain/timestamp.h"
#include "json/json_input.h"
#include "rewards/rule.h"

namespace regulars {
namespace {

using Row = std::vector<std::string>;
using Rows = std::vector<Row>;

// The columns of each table, in order (docs/crm-export.md). Every row starts with the
// event's hq_seq and id, so a CRM can deduplicate a page it loaded twice.
const std::vector<std::string>& Columns(ExportTable table) {
  static const std::vector<std::string> customers{
      "hq_seq",      "event_id",     "customer_id",     "store_id",    "till_id",
      "enrolled_at", "pseudonymous", "identifier_kind", "card_number", "replaced_card"};
  static const std::vector<std::string> purchases{
      "hq_seq",     "event_id",       "kind",        "store_id", "till_id",
      "pos_txn_id", "ref_pos_txn_id", "customer_id", "at",       "currency",
      "gross",      "discount",       "goodwill",    "net",      "waived"};
  static const std::vector<std::string> rewards{
      "hq_seq",     "event_id",       "kind",        "store_id", "till_id",
      "pos_txn_id", "ref_pos_txn_id", "customer_id", "at",       "rule",
      "rule_kind",  "line",           "sku",         "units",    "amount"};
  static const std::vector<std::string> consents{
      "hq_seq", "event_id", "consent_id", "customer_id", "purpose",
      "text",   "given_at", "store_id",   "till_id",     "cashier_id"};
  switch (table) {
    case ExportTable::kCustomers:
      return customers;
    case ExportTable::kPurchases:
      return purchases;
    case ExportTable::kRewards:
      return rewards;
    case ExportTable::kConsents:
      return consents;
  }
  return customers;
}

Error Malformed(const std::string& message, const std::string& where = {}) {
  return Error::BadInput("malformed_event", message, where);
}

// FormatTimestampUtc handles years 0000..9999; a stored at_ms outside them is corrupt.
Result<std::string> UtcTime(int64_t at_ms) {
  constexpr int64_t kYear0 = -62'167'219'200'000;      // 0000-01-01T00:00:00Z
  constexpr int64_t kYear10000 = 253'402'300'800'000;  // 10000-01-01T00:00:00Z
  if (at_ms < kYear0 || at_ms >= kYear10000) return Malformed("at_ms is out of range", "/at_ms");
  return FormatTimestampUtc(at_ms);
}

// Only an object body is an event body; ParseJson bounds the nesting, so the walks below
// cannot exhaust the stack.
Result<Json> ParseBody(const HqEvent& e) {
  auto body = ParseJson(e.body, "malformed_event");
  if (!body.ok()) return Malformed("body is not JSON: " + body.error().message, "/body");
  if (!body->is_object()) return Malformed("body is not a JSON object", "/body");
  return body;
}

Result<std::string> StringMember(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return Malformed(std::string("no string ") + key, where + "/" + key);
  }
  return it->get<std::string>();
}

// Money and counts are integers, never floats; a value past int64 is corrupt.
Result<int64_t> IntegerMember(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  auto value = it == object.end() ? std::nullopt : AsInt64(*it);
  if (!value) return Malformed(std::string("no integer ") + key, where + "/" + key);
  return *value;
}

// A JSON value written into a CSV cell: strings as they are, integers in decimal, null
// empty (a consent id is an integer; a pseudonymous customer has no card).
std::string Cell(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Optional(const std::optional<std::string>& value) { return value.value_or(""); }

// The customer an event names: the event's own column, else its body's "customer".
std::string CustomerOf(const HqEvent& e, const Json& body) {
  if (e.customer_id) return *e.customer_id;
  auto it = body.find("customer");
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

// --- customers: one row per enrolment or card replacement -------------------------------

// A replacement's row gives the customer's new card, and in `replaced_card` the one it
// retires: the CRM's latest row of a customer names their live card.
Result<std::string> ReplacedCard(const HqEvent& e, const Json& body) {
  if (e.kind != "card_replaced") return std::string();
  auto old = body.find("old_identifier");
  if (old == body.end() || !old->is_object()) {
    return Malformed("no old_identifier object", "/body/old_identifier");
  }
  return StringMember(*old, "value", "/body/old_identifier");
}

Result<Rows> CustomerRows(const HqEvent& e, const Json& body) {
  if (e.kind != "enroll" && e.kind != "card_replaced") return Rows{};
  REGULARS_ASSIGN_OR_RETURN(auto replaced, ReplacedCard(e, body));
  REGULARS_ASSIGN_OR_RETURN(auto at, UtcTime(e.at_ms));
  auto identifier = body.find("identifier");
  if (identifier == body.end() || !identifier->is_object()) {
    return Malformed("no identifier object", "/body/identifier");
  }
  REGULARS_ASSIGN_OR_RETURN(auto kind, StringMember(*identifier, "kind", "/body/identifier"));
  // A loyalty card number identifies the customer to the CRM; a payment token's hash
  // (or any other identifier's value) is never exported.
  std::string card_number;
  if (kind == "card") {
    REGULARS_ASSIGN_OR_RETURN(auto value, StringMember(*identifier, "value", "/body/identifier"));
    card_number = value;
  }
  std::string customer = CustomerOf(e, body);
  if (customer.empty()) return Malformed("no customer", "/body/customer");
  auto pseudonymous = body.find("pseudonymous");
  bool is_pseudonymous =
      pseudonymous != body.end() && pseudonymous->is_boolean() && pseudonymous->get<bool>();
  return Rows{{std::to_string(e.hq_seq), e.id, customer, e.store_id, e.till_id, at,
               is_pseudonymous ? "true" : "false", kind, card_number, replaced}};
}

// --- purchases: one row per sale, refund or void ------------------------------------------

// Money is signed as it moves for the store: a sale's amounts are positive, a refund's or
// void's negative (given back).
Result<Rows> PurchaseRows(const HqEvent& e, const Json& body) {
  bool sale = e.kind == "sale";
  if (!sale && e.kind != "refund" && e.kind != "void") return Rows{};
  REGULARS_ASSIGN_OR_RETURN(auto at, UtcTime(e.at_ms));
  std::string currency, gross, discount, goodwill, net, waived;
  if (sale) {
    REGULARS_ASSIGN_OR_RETURN(auto code, StringMember(body, "currency", "/body"));
    REGULARS_ASSIGN_OR_RETURN(auto total_gross, IntegerMember(body, "total_gross", "/body"));
    auto total_discount = IntegerMember(body, "total_discount", "/body");
    if (!total_discount.ok()) return total_discount.error();
    REGULARS_ASSIGN_OR_RETURN(auto total_net, IntegerMember(body, "total_net", "/body"));
    // total_discount holds the rules' discounts and the cashier's goodwill: split them.
    int64_t given = 0;
    if (body.contains("goodwill")) {
      const Json& g = body.at("goodwill");
      if (!g.is_object()) return Malformed("goodwill is not an object", "/body/goodwill");
      REGULARS_ASSIGN_OR_RETURN(auto amount, IntegerMember(g, "amount", "/body/goodwill"));
      given = amount;
    }
    auto rules = given >= 0 ? AddMinor(*total_discount, -given) : std::nullopt;
    if (!rules) return Malformed("goodwill amount is out of range", "/body/goodwill/amount");
    currency = code;
    gross = std::to_string(total_gross);
    discount = std::to_string(*rules);
    goodwill = std::to_string(given);
    net = std::to_string(total_net);
  } else {
    auto total_refund = IntegerMember(body, "total_refund", "/body");
    if (!total_refund.ok()) return total_refund.error();
    if (*total_refund < 0) return Malformed("total_refund is negative", "/body/total_refund");
    net = std::to_string(-*total_refund);
    waived = "0";
    if (body.contains("waived")) {
      REGULARS_ASSIGN_OR_RETURN(auto w, IntegerMember(body, "waived", "/body"));
      waived = std::to_string(w);
    }
    // A reversal records its discounts given back only in its visit (negative already).
    // Without a visit: no customer means no discount was ever given (rules and goodwill
    // need a customer); a customer's event from before visits were kept leaves it unknown.
    if (body.contains("visit")) {
      const Json& v = body.at("visit");
      if (!v.is_object()) return Malformed("visit is not an object", "/body/visit");
      REGULARS_ASSIGN_OR_RETURN(auto d, IntegerMember(v, "discount", "/body/visit"));
      REGULARS_ASSIGN_OR_RETURN(auto g, IntegerMember(v, "goodwill", "/body/visit"));
      discount = std::to_string(d);
      goodwill = std::to_string(g);
    } else if (CustomerOf(e, body).empty()) {
      discount = "0";
      goodwill = "0";
    }
  }
  return Rows{{std::to_string(e.hq_seq), e.id, e.kind, e.store_id, e.till_id,
               Optional(e.pos_txn_id), Optional(e.ref_pos_txn_id), CustomerOf(e, body), at,
               currency, gross, discount, goodwill, net, waived}};
}

// --- rewards: one row per discount on a line ----------------------------------------------

// A sale body records each line's total discount and the rule terms in force, not which
// rule gave how much: the sale is repriced with its own recorded terms, as a refund does,
// and the result must match what the body recorded line by line.
Result<Rows> SaleRewardRows(const HqEvent& e, const Json& body, const std::string& at) {
  auto lines = body.find("lines");
  if (lines == body.end() || !lines->is_array()) return Malformed("no lines", "/body/lines");
  auto record = ReadSaleRecord(body);
  if (!record.ok()) return Malformed(record.error().message, "/body");
  auto priced = PriceBasket(record->lines, record->terms);
  if (!priced.ok()) return Malformed("the sale cannot be repriced: " + priced.error().message);
  std::map<std::string, std::string> kind_of{{"goodwill", "goodwill"}};
  for (const RuleTerms& t : record->terms.rules) kind_of[t.rule] = KindName(t.kind);
  Rows rows;
  for (size_t i = 0; i < record->lines.size(); ++i) {
    const BasketLine& line = record->lines[i];
    auto recorded = IntegerMember(lines->at(i), "discount", "/body/lines/" + std::to_string(i));
    if (!recorded.ok()) return recorded.error();
    int64_t sum = 0;
    for (const Discount& d : priced->lines[i].discounts) {
      sum += d.amount;  // bounded by the line's gross
      rows.push_back({std::to_string(e.hq_seq), e.id, e.kind, e.store_id, e.till_id,
                      Optional(e.pos_txn_id), Optional(e.ref_pos_txn_id), CustomerOf(e, body), at,
                      d.rule, kind_of[d.rule], std::to_string(line.line), line.sku,
                      std::to_string(d.units), std::to_string(d.amount)});
    }
    if (sum != *recorded) {
      return Malformed("repricing line " + std::to_string(line.line) + " gives a discount of " +
                           std::to_string(sum) + ", the sale recorded " + std::to_string(*recorded),
                       "/body/lines/" + std::to_string(i) + "/discount");
    }
  }
  return rows;
}

// A refund or void records, per line, the discount it takes back (`reward_withdrawn`),
// not per rule: its rows leave the rule empty; the sale's rows name the rules.
Result<Rows> ReversalRewardRows(const HqEvent& e, const Json& body, const std::string& at) {
  auto lines = body.find("lines");
  if (lines == body.end() || !lines->is_array()) return Malformed("no lines", "/body/lines");
  Rows rows;
  for (size_t i = 0; i < lines->size(); ++i) {
    const Json& l = lines->at(i);
    std::string where = "/body/lines/" + std::to_string(i);
    if (!l.is_object()) return Malformed("a line is not an object", where);
    if (!l.contains("reward_withdrawn")) continue;
    REGULARS_ASSIGN_OR_RETURN(auto withdrawn, IntegerMember(l, "reward_withdrawn", where));
    if (withdrawn < 0) return Malformed("reward_withdrawn is negative", where);
    REGULARS_ASSIGN_OR_RETURN(auto number, IntegerMember(l, "line", where));
    REGULARS_ASSIGN_OR_RETURN(auto sku, StringMember(l, "sku", where));
    rows.push_back({std::to_string(e.hq_seq), e.id, e.kind, e.store_id, e.till_id,
                    Optional(e.pos_txn_id), Optional(e.ref_pos_txn_id), CustomerOf(e, body), at, "",
                    "", std::to_string(number), sku, "", std::to_string(-withdrawn)});
  }
  return rows;
}

Result<Rows> RewardRows(const HqEvent& e, const Json& body) {
  if (e.kind != "sale" && e.kind != "refund" && e.kind != "void") return Rows{};
  REGULARS_ASSIGN_OR_RETURN(auto at, UtcTime(e.at_ms));
  return e.kind == "sale" ? SaleRewardRows(e, body, at) : ReversalRewardRows(e, body, at);
}

// --- consents: one row per link with its consent ------------------------------------------

Result<Rows> ConsentRows(const HqEvent& e, const Json& body) {
  if (e.kind != "link") return Rows{};
  auto consent = body.find("consent");
  if (consent == body.end() || !consent->is_object()) {
    return Malformed("no consent object", "/body/consent");
  }
  const Json& c = *consent;
  std::string where = "/body/consent";
  REGULARS_ASSIGN_OR_RETURN(auto purpose, StringMember(c, "purpose", where));
  REGULARS_ASSIGN_OR_RETURN(auto text, StringMember(c, "text", where));
  REGULARS_ASSIGN_OR_RETURN(auto given_at, StringMember(c, "at", where));
  std::string customer = CustomerOf(e, body);
  if (customer.empty()) return Malformed("no customer", "/body/customer");
  auto cell = [&](const char* key) { return c.contains(key) ? Cell(c.at(key)) : ""; };
  // The consent names where it was given; an older body may not: the event's store and till.
  std::string store = c.contains("store_id") ? cell("store_id") : e.store_id;
  std::string till = c.contains("till_id") ? cell("till_id") : e.till_id;
  return Rows{{std::to_string(e.hq_seq), e.id, cell("id"), customer, purpose, text, given_at, store,
               till, cell("cashier_id")}};
}

Result<Rows> RowsOf(ExportTable table, const HqEvent& e, const Json& body) {
  switch (table) {
    case ExportTable::kCustomers:
      return CustomerRows(e, body);
    case ExportTable::kPurchases:
      return PurchaseRows(e, body);
    case ExportTable::kRewards:
      return RewardRows(e, body);
    case ExportTable::kConsents:
      return ConsentRows(e, body);
  }
  return Rows{};
}

// Which kinds a table reads: the others are passed over without parsing their body, so a
// table never reports as skipped an event it would not have exported anyway.
bool TableReads(ExportTable table, const std::string& kind) {
  switch (table) {
    case ExportTable::kCustomers:
      return kind == "enroll" || kind == "card_replaced";
    case ExportTable::kPurchases:
    case ExportTable::kRewards:
      return kind == "sale" || kind == "refund" || kind == "void";
    case ExportTable::kConsents:
      return kind == "link";
  }
  return false;
}

// RFC 4180: a field holding a comma, a quote, CR or LF is quoted, its quotes doubled.
void AppendCsvField(std::string_view field, std::string& out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void AppendCsvRow(const Row& row, std::string& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(row[i], out);
  }
  out += "\r\n";
}

// Removes the value of every identifier of kind payment_token, wherever it sits (an
// enrolment's or a link's "identifier" today): a keyed hash of a card never leaves HQ.
void RemovePaymentTokenValues(OrderedJson& json) {
  if (json.is_object()) {
    auto kind = json.find("kind");
    if (kind != json.end() && kind->is_string() && kind->get<std::string>() == "payment_token") {
      json.erase("value");
    }
    for (auto& [key, member] : json.items()) RemovePaymentTokenValues(member);
  } else if (json.is_array()) {
    for (auto& member : json) RemovePaymentTokenValues(member);
  }
}

// What the caller reports for a skipped event: the problem and where it is.
std::string SkipReason(const Error& error) {
  return error.where.empty() ? error.message : error.message + " at " + error.where;
}

OrderedJson OptionalJson(const std::optional<std::string>& value) {
  return value ? OrderedJson(*value) : OrderedJson(nullptr);
}

}  // namespace

Result<ExportTable> ParseExportTable(std::string_view name) {
  for (ExportTable table : {ExportTable::kCustomers, ExportTable::kPurchases, ExportTable::kRewards,
                            ExportTable::kConsents}) {
    if (ExportTableName(table) == name) return table;
  }
  return Error::BadInput("unknown_table", "unknown table \"" + std::string(name) +
                                              "\" (customers, purchases, rewards or consents)");
}

std::string_view ExportTableName(ExportTable table) {
  switch (table) {
    case ExportTable::kCustomers:
      return "customers";
    case ExportTable::kPurchases:
      return "purchases";
    case ExportTable::kRewards:
      return "rewards";
    case ExportTable::kConsents:
      return "consents";
  }
  return "";
}

ExportResult AppendNdjson(std::span<const HqEvent> events, std::string& out) {
  ExportResult result;
  for (const HqEvent& e : events) {
    result.last_hq_seq = std::max(result.last_hq_seq, e.hq_seq);
    auto at = UtcTime(e.at_ms);
    auto body = ParseBody(e);
    if (!at.ok() || !body.ok()) {
      result.skipped.push_back({e.id, SkipReason(at.ok() ? body.error() : at.error())});
      continue;
    }
    OrderedJson line;
    line["hq_seq"] = e.hq_seq;
    line["id"] = e.id;
    line["store_id"] = e.store_id;
    line["till_id"] = e.till_id;
    line["seq"] = e.seq;
    line["at"] = *at;
    line["at_ms"] = e.at_ms;
    line["kind"] = e.kind;
    line["customer_id"] = OptionalJson(e.customer_id);
    line["pos_txn_id"] = OptionalJson(e.pos_txn_id);
    line["ref_pos_txn_id"] = OptionalJson(e.ref_pos_txn_id);
    line["body"] = OrderedJson(*body);
    RemovePaymentTokenValues(line["body"]);
    out += ToText(line);
    out += '\n';
    ++result.rows;
  }
  return result;
}

void AppendCsvHeader(ExportTable table, std::string& out) { AppendCsvRow(Columns(table), out); }

ExportResult AppendCsvRows(ExportTable table, std::span<const HqEvent> events, std::string& out) {
  ExportResult result;
  for (const HqEvent& e : events) {
    result.last_hq_seq = std::max(result.last_hq_seq, e.hq_seq);
    if (!TableReads(table, e.kind)) continue;
    auto body = ParseBody(e);
    auto rows = body.ok() ? RowsOf(table, e, *body) : Result<Rows>(body.error());
    if (!rows.ok()) {
      result.skipped.push_back({e.id, SkipReason(rows.error())});
      continue;
    }
    for (const Row& row : *rows) AppendCsvRow(row, out);
    result.rows += static_cast<int64_t>(rows->size());
  }
  return result;
}

std::string SkippedSummary(const std::vector<SkippedEvent>& skipped) {
  std::string out =
      std::to_string(skipped.size()) + (skipped.size() == 1 ? " event skipped" : " events skipped");
  for (size_t i = 0; i < skipped.size(); ++i) {
    out += i == 0 ? ": " : ", ";
    out += skipped[i].id + " (" + skipped[i].reason + ")";
  }
  return out;
}

}  // namespace regulars
