#include "domain/basket.h"

#include <limits>
#include <set>

#include "domain/timestamp.h"
#include "json/near_keys.h"

namespace regulars {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

// The fields a basket and its lines may carry (Contract v1); others are let through.
const std::vector<std::string> kBasketFields = {
    "pos_txn_id",  "store_id", "till_id",  "cashier_id",    "at",       "currency",
    "identifiers", "lines",    "goodwill", "rules_version", "refund_of"};
const std::vector<std::string> kLineFields = {"line",     "sku",   "qty",        "unit_price",
                                              "currency", "brand", "categories", "unit"};

// An extra field is let through (Contract v1), but one that looks like a misspelt known
// field gets a notice: the cashier, and the integrator, learn that it was not read.
void NoteNearMisses(const FieldReader& r, const std::vector<std::string>& known,
                    std::vector<Notice>* notices) {
  for (const auto& item : r.object().items()) {
    auto near = NearKnownKey(item.key(), known);
    if (!near) continue;
    notices->push_back({"misspelt_field",
                        "field '" + item.key() + "' is not read: did you mean '" + *near + "'?",
                        r.PointerTo(item.key())});
  }
}

// Fields shared by sales and refunds: ids, store, till, time, currency.
struct Header {
  std::string pos_txn_id, store_id, till_id, cashier_id, at;
  int64_t at_ms = 0;
  Currency currency;
};

Result<Header> ParseHeader(const FieldReader& r, const TillIdentity& till, int64_t now_ms) {
  Header h;
  REGULARS_ASSIGN_OR_RETURN(auto id, r.String("pos_txn_id", kMaxTxnIdLength));
  REGULARS_TRY(ValidateTxnId(id, r.code(), r.PointerTo("pos_txn_id")));
  h.pos_txn_id = id;

  auto store = r.OptionalString("store_id", 64);
  if (!store.ok()) return store.error();
  if (store->has_value() && **store != till.store_id) {
    return r.Fail("store_id", "basket is for store '" + **store + "' but this till is in store '" +
                                  till.store_id + "'");
  }
  h.store_id = till.store_id;
  auto till_id = r.OptionalString("till_id", 64);
  if (!till_id.ok()) return till_id.error();
  if (till_id->has_value() && **till_id != till.till_id) {
    return r.Fail("till_id",
                  "basket is for till '" + **till_id + "' but this is till '" + till.till_id + "'");
  }
  h.till_id = till.till_id;
  REGULARS_ASSIGN_OR_RETURN(auto cashier, r.OptionalString("cashier_id", 64));
  h.cashier_id = cashier.value_or("");

  auto at = r.OptionalString("at", 64);
  if (!at.ok()) return at.error();
  if (at->has_value()) {
    auto ms = ParseTimestamp(**at);
    if (!ms.ok()) return r.Fail("at", ms.error().message);
    h.at = **at;
    h.at_ms = *ms;
  } else {
    h.at_ms = now_ms;
    h.at = FormatTimestampUtc(now_ms);
  }

  h.currency = till.currency;
  auto currency = r.OptionalString("currency", 8);
  if (!currency.ok()) return currency.error();
  if (currency->has_value()) {
    auto found = FindCurrency(**currency);
    if (!found)
      return r.Fail("currency", "unknown currency '" + **currency + "' (ISO 4217 code expected)");
    if (found->code != till.currency.code) {
      return r.Fail("currency", "basket is in " + found->code + " but this till sells in " +
                                    till.currency.code);
    }
  }
  return h;
}

Result<Identifier> ReadIdentifier(const FieldReader& item) {
  REGULARS_TRY(item.RequireObject("an identifier"));
  REGULARS_ASSIGN_OR_RETURN(auto kind, item.String("kind", 32));
  REGULARS_ASSIGN_OR_RETURN(auto value, item.String("value", 4096));
  REGULARS_ASSIGN_OR_RETURN(auto source, item.OptionalString("source", 16));
  return Identifier{kind, std::move(value), item.pointer(), source.value_or("")};
}

// Reads the identifiers. Never fails: a sale is not refused over recognition, so anything
// unreadable becomes a notice for the cashier.
void ParseIdentifiers(const FieldReader& r, Basket* basket) {
  if (!r.Has("identifiers")) return;
  const Json& list = r.Get("identifiers");
  std::string base = r.PointerTo("identifiers");
  if (!list.is_array()) {
    basket->notices.push_back({"unreadable_identifier", "identifiers must be an array", base});
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    auto identifier =
        ReadIdentifier(FieldReader(list[i], JsonPointer(base, i), "unreadable_identifier"));
    if (identifier.ok()) {
      basket->identifiers.push_back(std::move(identifier).value());
    } else {
      basket->notices.push_back({"unreadable_identifier",
                                 "identifier ignored: " + identifier.error().message,
                                 identifier.error().where});
    }
  }
}

Result<BasketLine> ParseLine(const FieldReader& r, const Currency& currency) {
  REGULARS_TRY(r.RequireObject("a basket line"));
  BasketLine line;
  REGULARS_ASSIGN_OR_RETURN(auto number, r.Integer("line", 1, kMaxInt));
  line.line = number;
  REGULARS_ASSIGN_OR_RETURN(auto sku, r.String("sku", 64));
  line.sku = sku;

  auto unit = r.OptionalString("unit", 8);
  if (!unit.ok()) return unit.error();
  if (unit->has_value()) {
    if (**unit == "g") {
      line.unit = QuantityUnit::kGram;
    } else if (**unit != "each") {
      return r.Fail("unit", "unit must be \"each\" or \"g\", not \"" + **unit + "\"");
    }
  }
  auto qty =
      r.Integer("qty", 1, line.unit == QuantityUnit::kGram ? kMaxGramsPerLine : kMaxUnitsPerLine);
  if (!qty.ok()) return qty.error();
  line.qty = *qty;
  REGULARS_ASSIGN_OR_RETURN(auto price, r.Integer("unit_price", 0, kMaxInt));
  line.unit_price = price;

  REGULARS_ASSIGN_OR_RETURN(auto line_currency, r.OptionalString("currency", 8));
  if (line_currency.has_value() && *line_currency != currency.code) {
    return r.Fail("currency", "line is in " + *line_currency + " but the basket is in " +
                                  currency.code + " (mixed currencies)");
  }
  REGULARS_ASSIGN_OR_RETURN(auto brand, r.OptionalString("brand", 100));
  line.brand = brand.value_or("");
  REGULARS_ASSIGN_OR_RETURN(auto categories, r.OptionalStrings("categories"));
  line.categories = categories;

  auto gross = GrossOf(line);
  if (!gross) return r.Fail("qty", "qty times unit_price overflows a 64-bit amount");
  line.gross = *gross;
  return line;
}

}  // namespace

std::optional<int64_t> GrossOf(const BasketLine& line) {
  return line.unit == QuantityUnit::kGram ? PriceOfWeight(line.qty, line.unit_price)
                                          : MulMinor(line.qty, line.unit_price);
}

Status ValidateTxnId(const std::string& id, const std::string& code, const std::string& where) {
  for (char c : id) {
    if (c <= ' ' || c > '~') {
      return Error::BadInput(code, "a transaction id is printable ASCII without spaces", where);
    }
  }
  return Status::Ok();
}

Result<Basket> ParseBasket(const Json& json, const TillIdentity& till, int64_t now_ms) {
  FieldReader r(json, "", "invalid_basket");
  REGULARS_TRY(r.RequireObject("a basket"));
  if (r.Has("refund_of")) {
    return r.Fail("refund_of", "a basket with refund_of is a refund: send it to refund");
  }
  REGULARS_ASSIGN_OR_RETURN(auto header, ParseHeader(r, till, now_ms));
  Basket b;
  b.pos_txn_id = header.pos_txn_id;
  b.store_id = header.store_id;
  b.till_id = header.till_id;
  b.cashier_id = header.cashier_id;
  b.at = header.at;
  b.at_ms = header.at_ms;
  b.currency = header.currency;
  NoteNearMisses(r, kBasketFields, &b.notices);
  ParseIdentifiers(r, &b);

  auto lines = r.Array("lines");
  if (!lines.ok()) return lines.error();
  if ((*lines)->empty()) return r.Fail("lines", "a basket has at least one line");
  if ((*lines)->size() > kMaxBasketLines) {
    return r.Fail("lines", "a basket has at most " + std::to_string(kMaxBasketLines) + " lines");
  }
  std::set<int64_t> seen;
  for (size_t i = 0; i < (*lines)->size(); ++i) {
    FieldReader line_reader((**lines)[i], JsonPointer(r.PointerTo("lines"), i), r.code());
    auto line = ParseLine(line_reader, b.currency);
    if (!line.ok()) return line.error();
    NoteNearMisses(line_reader, kLineFields, &b.notices);
    if (!seen.insert(line->line).second) {
      return line_reader.Fail(
          "line", "line number " + std::to_string(line->line) + " appears twice in the basket");
    }
    auto total = AddMinor(b.total_gross, line->gross);
    if (!total || *total > kMaxBasketTotal) {
      return line_reader.Fail("unit_price", "the basket's total passes the limit of " +
                                                std::to_string(kMaxBasketTotal) + " minor units");
    }
    b.total_gross = *total;
    b.lines.push_back(std::move(line).value());
  }
  REGULARS_ASSIGN_OR_RETURN(auto version, r.OptionalString("rules_version", 64));
  b.rules_version = version.value_or("");
  if (r.Has("goodwill")) {
    FieldReader g(r.Get("goodwill"), r.PointerTo("goodwill"), r.code());
    REGULARS_TRY(g.RequireObject("goodwill"));
    REGULARS_ASSIGN_OR_RETURN(auto amount, g.Integer("amount", 1, kMaxInt));
    auto cashier = g.OptionalString("cashier_id", 64);
    if (!cashier.ok()) return cashier.error();
    std::string cashier_id = cashier->value_or(b.cashier_id);
    // The gesture counts against the budget of the cashier at the till, never another's.
    if (cashier->has_value() && !b.cashier_id.empty() && **cashier != b.cashier_id) {
      return g.Fail("cashier_id",
                    "the gesture's cashier must be the basket's (" + b.cashier_id + ")");
    }
    if (cashier_id.empty()) {
      return g.Fail("cashier_id", "a goodwill gesture names its cashier (here or in the basket)");
    }
    REGULARS_ASSIGN_OR_RETURN(auto reason, g.String("reason", 200));
    b.goodwill = GoodwillRequest{amount, cashier_id, reason};
  }
  return b;
}

Result<RefundRequest> ParseRefund(const Json& json, const TillIdentity& till, int64_t now_ms) {
  FieldReader r(json, "", "invalid_refund");
  REGULARS_TRY(r.RequireObject("a refund"));
  REGULARS_ASSIGN_OR_RETURN(auto header, ParseHeader(r, till, now_ms));
  RefundRequest req;
  req.pos_txn_id = header.pos_txn_id;
  req.at = header.at;
  req.at_ms = header.at_ms;
  req.cashier_id = header.cashier_id;
  REGULARS_ASSIGN_OR_RETURN(auto of, r.String("refund_of", kMaxTxnIdLength));
  REGULARS_TRY(ValidateTxnId(of, r.code(), r.PointerTo("refund_of")));
  if (of == req.pos_txn_id) {
    return r.Fail("refund_of", "a refund needs its own pos_txn_id, not the sale's");
  }
  req.refund_of = of;

  auto lines = r.Array("lines");
  if (!lines.ok()) return lines.error();
  if ((*lines)->empty()) return r.Fail("lines", "a refund returns at least one line");
  if ((*lines)->size() > kMaxBasketLines) return r.Fail("lines", "too many lines");
  std::set<int64_t> seen;
  for (size_t i = 0; i < (*lines)->size(); ++i) {
    FieldReader lr((**lines)[i], JsonPointer(r.PointerTo("lines"), i), r.code());
    REGULARS_TRY(lr.RequireObject("a refund line"));
    RefundRequest::Line line;
    auto number = lr.Integer("line", 1, kMaxInt);
    if (!number.ok()) return number.error();
    REGULARS_ASSIGN_OR_RETURN(auto qty, lr.Integer("qty", 1, kMaxGramsPerLine));
    REGULARS_ASSIGN_OR_RETURN(auto sku, lr.OptionalString("sku", 64));
    if (!seen.insert(*number).second) {
      return lr.Fail("line", "line number " + std::to_string(*number) + " appears twice");
    }
    line.line = *number;
    line.qty = qty;
    line.sku = sku;
    line.where = lr.pointer();
    req.lines.push_back(std::move(line));
  }
  return req;
}

}  // namespace regulars
