// The basket a POS sends to evaluate, commit or refund (Contract v1), validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/money.h"
#include "json/json_input.h"
#include "result.h"

namespace regulars {

// How a line's quantity is counted: units (packs) or grams for weighed goods.
enum class QuantityUnit { kEach, kGram };

struct BasketLine {
  int64_t line = 0;  // the POS's line number, unique in the basket
  std::string sku;
  int64_t qty = 0;  // units, or grams when unit is kGram
  QuantityUnit unit = QuantityUnit::kEach;
  int64_t unit_price = 0;  // per unit, or per kilogram when unit is kGram
  std::string brand;
  std::vector<std::string> categories;
  int64_t gross = 0;  // what the line costs before any reward
};

// What a line costs before any reward: qty x unit_price, or the weight's price rounded
// half up for weighed goods. nullopt on overflow.
std::optional<int64_t> GrossOf(const BasketLine& line);

// An identifier as presented; recognition decides what it means.
struct Identifier {
  std::string kind;    // card, qr, payment_token or scan
  std::string value;   // for payment_token, wiped once hashed
  std::string where;   // its JSON pointer, for notices
  std::string source;  // payment_token only: pan, par, alias, or empty to detect
};

// Something the cashier should know that did not stop the sale.
struct Notice {
  std::string code;
  std::string message;
  std::string where;
};

// Who is selling: the basket's store, till and currency must be this till's own.
struct TillIdentity {
  std::string store_id;
  std::string till_id;
  Currency currency;
};

// A cashier's goodwill gesture on this basket (docs/goodwill.md).
struct GoodwillRequest {
  int64_t amount = 0;  // minor units, > 0
  std::string cashier_id;
  std::string reason;
};

struct Basket {
  std::string pos_txn_id;
  std::string store_id;
  std::string till_id;
  std::string cashier_id;
  std::string at;     // as sent, for the ledger
  int64_t at_ms = 0;  // the same instant in UTC milliseconds
  Currency currency;
  std::vector<Identifier> identifiers;
  std::vector<Notice> notices;  // identifiers that could not even be read
  std::vector<BasketLine> lines;
  int64_t total_gross = 0;
  std::optional<GoodwillRequest> goodwill;
  // The rule set the POS last evaluated this basket with: a commit after a rule change
  // prices it the same way, so the receipt matches what the customer was shown.
  std::string rules_version;
  // A sale the POS completed without Regulars, read from its log (Till::Import): never
  // read from Contract v1 JSON, so no live basket can ask to be priced this way.
  bool imported = false;
};

// A basket returning lines of an earlier sale: each line names the sale's line and how
// many units (or grams) come back.
struct RefundRequest {
  std::string pos_txn_id;  // the refund's own transaction id
  std::string refund_of;   // the sale's pos_txn_id
  std::string at;
  int64_t at_ms = 0;
  std::string cashier_id;
  struct Line {
    int64_t line = 0;
    int64_t qty = 0;
    std::optional<std::string> sku;  // when given, must be the sale line's sku
    std::string where;
  };
  std::vector<Line> lines;
};

inline constexpr size_t kMaxBasketLines = 5000;
// Far beyond any real basket, and low enough that no counter sum can overflow.
inline constexpr int64_t kMaxUnitsPerLine = 1'000'000;
inline constexpr int64_t kMaxGramsPerLine = 1'000'000'000;
inline constexpr size_t kMaxTxnIdLength = 100;
// Ten billion in major units: no real basket, and a customer's sums over millions of
// baskets (a day's discounts, a tier's spend) stay far from overflow.
inline constexpr int64_t kMaxBasketTotal = 1'000'000'000'000;

// Validates a basket. Store, till and currency default to the till's own and must match
// it when given. `now_ms` is used when the basket has no `at`. Errors have code
// "invalid_basket" and the JSON pointer of the first problem.
Result<Basket> ParseBasket(const Json& json, const TillIdentity& till, int64_t now_ms);

// Validates a refund basket (code "invalid_refund").
Result<RefundRequest> ParseRefund(const Json& json, const TillIdentity& till, int64_t now_ms);

// Checks a POS transaction id: printable ASCII without spaces, 1 to 100 bytes.
Status ValidateTxnId(const std::string& id, const std::string& code, const std::string& where);

}  // namespace regulars
