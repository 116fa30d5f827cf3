#include "poslog/poslog.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <pugixml.hpp>

namespace regulars::poslog {
namespace {

constexpr const char* kCode = "invalid_poslog";

// Line and column (1-based, in bytes) of byte offsets into the text.
class Positions {
 public:
  explicit Positions(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  int64_t Line(size_t offset) const {
    return std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin();
  }
  int64_t Column(size_t offset) const {
    return static_cast<int64_t>(offset - starts_[static_cast<size_t>(Line(offset) - 1)]) + 1;
  }

 private:
  std::vector<size_t> starts_;
};

// Namespaces must not matter: "Transaction", "poslog:Transaction" and an element under a
// default xmlns are the same element to us.
std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node c : parent.children()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) return c;
  }
  return {};
}

std::vector<pugi::xml_node> Children(pugi::xml_node parent, std::string_view local) {
  std::vector<pugi::xml_node> found;
  for (pugi::xml_node c : parent.children()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) found.push_back(c);
  }
  return found;
}

std::string_view Trim(std::string_view s) {
  const char* space = " \t\r\n";
  size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::string Text(pugi::xml_node node) {
  return node ? std::string(Trim(node.text().get())) : std::string();
}

std::string Attribute(pugi::xml_node node, std::string_view local) {
  for (pugi::xml_attribute a : node.attributes()) {
    if (LocalName(a.name()) == local) return std::string(Trim(a.value()));
  }
  return {};
}

// An xs:boolean flag, given as an attribute or as a child element.
bool Flag(pugi::xml_node node, std::string_view local) {
  std::string value = Attribute(node, local);
  if (value.empty()) value = Text(Child(node, local));
  return value == "true" || value == "1";
}

bool HasOffset(std::string_view time) {
  size_t t = time.find('T');
  if (t == std::string_view::npos) return false;
  std::string_view clock = time.substr(t);
  return clock.find_first_of("Zz+-") != std::string_view::npos;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Reads one document's transactions; holds what every error message needs.
class Reader {
 public:
  Reader(std::string_view text, const std::string& name, const Options& options)
      : positions_(text), name_(name), options_(options) {}

  int64_t LineOf(pugi::xml_node node) const {
    ptrdiff_t offset = node.offset_debug();
    return offset < 0 ? 0 : positions_.Line(static_cast<size_t>(offset));
  }
  // "line 31 (Transaction 3, LineItem 2)": where a transaction or line starts.
  std::string Place(pugi::xml_node node, const std::string& path) const {
    return "line " + std::to_string(LineOf(node)) + " (" + path + ")";
  }
  // "line 33 (Transaction 3, LineItem 2)/Quantity": an element inside one.
  std::string Place(pugi::xml_node element, const std::string& path, std::string_view local) const {
    return Place(element, path) + "/" + std::string(local);
  }
  Error Fail(const std::string& place, std::string message) const {
    return Error::BadInput(kCode, std::move(message), name_ + ": " + place);
  }

  Result<Log> Read(const pugi::xml_document& doc) {
    pugi::xml_node root = doc.document_element();
    if (!root || LocalName(root.name()) != "POSLog") {
      return Fail("line " + std::to_string(root ? LineOf(root) : 1),
                  std::string("not an ARTS POSLog document (root element ") +
                      (root ? root.name() : "missing") + ", POSLog expected)");
    }
    Log log;
    for (pugi::xml_node txn : Children(root, "Transaction")) {
      ++log.transactions;
      auto sale = ReadTransaction(txn, log.transactions, log);
      if (!sale.ok()) return sale.error();
    }
    return log;
  }

 private:
  // Skips (with a reason in the log) or reads one transaction.
  Status ReadTransaction(pugi::xml_node txn, size_t index, Log& log) {
    auto skip = [&](std::string reason) {
      log.skipped.push_back({index, LineOf(txn), std::move(reason)});
      return Status::Ok();
    };
    std::string path = "Transaction " + std::to_string(index);
    if (Flag(txn, "CancelFlag")) return skip("cancelled");
    if (Flag(txn, "TrainingModeFlag")) return skip("training mode");
    pugi::xml_node retail = Child(txn, "RetailTransaction");
    if (!retail) {
      for (pugi::xml_node c : txn.children()) {
        std::string_view local = LocalName(c.name());
        if (c.type() == pugi::node_element && local.size() > 11 &&
            local.substr(local.size() - 11) == "Transaction") {
          return skip("not a retail sale: " + std::string(local));
        }
      }
      return skip("not a retail sale: no RetailTransaction");
    }
    std::string status = Attribute(retail, "TransactionStatus");
    for (const char* gone :
         {"Canceled", "Cancelled", "Voided", "PostVoided", "Suspended", "SuspendedDeleted"}) {
      if (status == gone) return skip("transaction status " + status);
    }
    std::string store = Text(Child(txn, "RetailStoreID"));
    if (!store.empty() && !options_.store_id.empty() && store != options_.store_id) {
      return skip("store " + store + ", not this till's store " + options_.store_id);
    }
    std::vector<std::pair<pugi::xml_node, size_t>> sale_items;  // (LineItem, ordinal)
    size_t ordinal = 0;
    for (pugi::xml_node item : Children(retail, "LineItem")) {
      ++ordinal;
      pugi::xml_node sale = Child(item, "Sale");
      // Tenders, taxes, returns and discounts are not purchases to count.
      if (!sale || Flag(item, "VoidFlag") || Flag(sale, "VoidFlag")) continue;
      sale_items.push_back({item, ordinal});
    }
    if (sale_items.empty()) return skip("no sale line (all voided, or none)");

    LogSale out;
    out.index = index;
    out.origins[""] = Place(txn, path);
    Json& basket = out.basket;
    REGULARS_TRY(ReadHeader(txn, path, out));
    Currency currency = options_.currency;
    if (pugi::xml_node code = Child(txn, "CurrencyCode")) {
      auto found = FindCurrency(Text(code));
      if (!found) {
        return Fail(Place(code, path, "CurrencyCode"),
                    "unknown currency '" + Text(code) + "' (ISO 4217 code expected)");
      }
      currency = *found;
      basket["currency"] = currency.code;
      out.origins["/currency"] = Place(code, path, "CurrencyCode");
    }
    basket["identifiers"] = Identifiers(retail);
    basket["lines"] = Json::array();
    for (const auto& [item, number] : sale_items) {
      REGULARS_TRY(
          ReadLine(item, path + ", LineItem " + std::to_string(number), number, currency, out));
    }
    log.sales.push_back(std::move(out));
    return Status::Ok();
  }

  Status ReadHeader(pugi::xml_node txn, const std::string& path, LogSale& out) {
    Json& basket = out.basket;
    if (pugi::xml_node id = Child(txn, "TransactionID"); id && !Text(id).empty()) {
      basket["pos_txn_id"] = Text(id);
      out.origins["/pos_txn_id"] = Place(id, path, "TransactionID");
    } else {
      // The POS's own numbering: unique per store, workstation and sequence.
      std::string parts;
      for (const char* local : {"RetailStoreID", "WorkstationID", "SequenceNumber"}) {
        pugi::xml_node part = Child(txn, local);
        if (Text(part).empty()) {
          return Fail(Place(txn, path, local),
                      std::string("a sale needs a TransactionID, or a RetailStoreID, "
                                  "WorkstationID and SequenceNumber; ") +
                          local + " is missing");
        }
        parts += (parts.empty() ? "" : "-") + Text(part);
        out.origins["/pos_txn_id"] = Place(part, path, local);
      }
      basket["pos_txn_id"] = parts;
    }
    if (pugi::xml_node cashier = Child(txn, "OperatorID"); !Text(cashier).empty()) {
      basket["cashier_id"] = Text(cashier);
      out.origins["/cashier_id"] = Place(cashier, path, "OperatorID");
    }
    // When the sale ended is when the customer bought; the business day is a fallback.
    for (const char* local : {"EndDateTime", "BeginDateTime", "BusinessDayDate"}) {
      pugi::xml_node at = Child(txn, local);
      std::string time = Text(at);
      if (time.empty()) continue;
      std::string where = Place(at, path, local);
      if (std::string_view(local) == "BusinessDayDate") time += "T00:00:00";
      if (!HasOffset(time)) {
        if (options_.default_offset.empty()) {
          return Fail(where, std::string(local) + " " + Text(at) +
                                 " has no UTC offset: import with --offset +HH:MM (the "
                                 "store's offset)");
        }
        time += options_.default_offset;
      }
      basket["at"] = time;
      out.origins["/at"] = where;
      return Status::Ok();
    }
    return Fail(Place(txn, path, "EndDateTime"), "a sale needs its EndDateTime");
  }

  // Loyalty cards and customer numbers anywhere in the sale, never inside a Tender: a
  // payment card number must not even be read.
  Json Identifiers(pugi::xml_node retail) const {
    Json ids = Json::array();
    std::vector<std::string> seen;
    std::vector<pugi::xml_node> stack;  // iterative: no recursion on untrusted nesting
    for (pugi::xml_node c = retail.last_child(); c; c = c.previous_sibling()) stack.push_back(c);
    while (!stack.empty()) {
      pugi::xml_node node = stack.back();
      stack.pop_back();
      if (node.type() != pugi::node_element) continue;
      std::string_view local = LocalName(node.name());
      if (local == "Tender") continue;
      std::string_view parent = LocalName(node.parent().name());
      bool loyalty_parent = parent.substr(0, 7) == "Loyalty" || parent == "CustomerAccount";
      bool is_id = local == "LoyaltyAccountID" || local == "CustomerAccountID" ||
                   local == "LoyaltyCardNumber" || local == "LoyaltyCardID" ||
                   (local == "CardNumber" && loyalty_parent) ||
                   (local == "CustomerID" && (loyalty_parent || parent == "Customer"));
      std::string value = is_id ? Text(node) : "";
      if (!value.empty() && std::find(seen.begin(), seen.end(), value) == seen.end()) {
        seen.push_back(value);
        // Digits are a card number (recognition checks its range and check digit);
        // anything else is left to recognition as scanned text.
        ids.push_back({{"kind", AllDigits(value) ? "card" : "scan"}, {"value", value}});
      }
      for (pugi::xml_node c = node.last_child(); c; c = c.previous_sibling()) stack.push_back(c);
    }
    return ids;
  }

  // Units, or grams for goods sold by weight.
  struct LineQuantity {
    int64_t qty = 1;
    bool weighed = false;
    int64_t per_kg_factor = 1;  // a price per gram is 1000 times less than per kilogram
  };

  Status ReadQuantity(pugi::xml_node sale, const std::string& path, const std::string& pointer,
                      LineQuantity& quantity, LogSale& out) const {
    if (pugi::xml_node q = Child(sale, "Quantity")) {
      std::string where = Place(q, path, "Quantity");
      std::string unit = Attribute(q, "UnitOfMeasureCode");
      std::transform(unit.begin(), unit.end(), unit.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      int places = 0;
      if (unit == "KGM" || unit == "KG") {
        quantity.weighed = true;
        places = 3;
      } else if (unit == "GRM" || unit == "G") {
        quantity.weighed = true;
        quantity.per_kg_factor = 1000;
      } else if (!unit.empty() && unit != "EA" && unit != "EACH" && unit != "PCE" &&
                 unit != "PCS" && unit != "C62" && unit != "UNIT") {
        return Fail(where, "unit of measure '" + Attribute(q, "UnitOfMeasureCode") +
                               "' is not supported (EA, KGM or GRM)");
      }
      auto n = ParseDecimal(Text(q), places);
      if (!n) {
        return Fail(where, std::string("Quantity must be ") +
                               (quantity.weighed ? "a weight" : "a whole number of units") +
                               ", not '" + Text(q) + "'");
      }
      if (*n <= 0) {
        return Fail(where,
                    "Quantity must be positive, not '" + Text(q) + "' (returns are not imported)");
      }
      quantity.qty = *n;
      out.origins[pointer + "/qty"] = where;
    }
    return Status::Ok();
  }

  // What the customer was charged per unit; without a unit price, the line's amount.
  Result<int64_t> ReadUnitPrice(pugi::xml_node sale, const std::string& path,
                                const std::string& pointer, const Currency& currency,
                                const LineQuantity& q, LogSale& out) const {
    std::optional<int64_t> price;
    for (const char* local : {"ActualSalesUnitPrice", "RegularSalesUnitPrice"}) {
      pugi::xml_node p = Child(sale, local);
      if (!p) continue;
      std::string where = Place(p, path, local);
      auto amount = ParseDecimal(Text(p), currency.minor_units);
      auto scaled = amount ? MulMinor(*amount, q.per_kg_factor) : std::nullopt;
      if (!scaled || *scaled < 0) {
        return Fail(where, std::string(local) + " must be an amount in " + currency.code +
                               " with at most " + std::to_string(currency.minor_units) +
                               " decimals, not '" + Text(p) + "'");
      }
      price = *scaled;
      out.origins[pointer + "/unit_price"] = where;
      break;
    }
    if (!price) {
      pugi::xml_node extended = Child(sale, "ExtendedAmount");
      std::string where = Place(extended ? extended : sale, path, "ExtendedAmount");
      if (!extended || q.weighed) {
        return Fail(where, "a sale line needs its RegularSalesUnitPrice" +
                               std::string(q.weighed ? " (per unit of measure)" : "") +
                               (q.weighed ? "" : " or ExtendedAmount"));
      }
      auto amount = ParseDecimal(Text(extended), currency.minor_units);
      if (!amount || *amount < 0 || *amount % q.qty != 0) {
        return Fail(where, "ExtendedAmount '" + Text(extended) + "' is not " +
                               std::to_string(q.qty) + " times a unit price in " + currency.code);
      }
      price = *amount / q.qty;
      out.origins[pointer + "/unit_price"] = where;
    }
    return *price;
  }

  Status ReadLine(pugi::xml_node item, const std::string& path, size_t ordinal,
                  const Currency& currency, LogSale& out) {
    pugi::xml_node sale = Child(item, "Sale");
    std::string pointer = JsonPointer("/lines", out.basket["lines"].size());
    out.origins[pointer] = Place(item, path);
    Json line;
    line["line"] = static_cast<int64_t>(ordinal);
    if (pugi::xml_node seq = Child(item, "SequenceNumber")) {
      auto n = ParseDecimal(Text(seq), 0);
      if (!n || *n < 1) {
        return Fail(Place(seq, path, "SequenceNumber"),
                    "SequenceNumber must be a positive whole number, not '" + Text(seq) + "'");
      }
      line["line"] = *n;
      out.origins[pointer + "/line"] = Place(seq, path, "SequenceNumber");
    }

    pugi::xml_node sku = Child(sale, "ItemID");
    std::string sku_name = "ItemID";
    if (Text(sku).empty()) {
      sku = Child(Child(sale, "POSIdentity"), "POSItemID");
      sku_name = "POSIdentity/POSItemID";
    }
    if (Text(sku).empty()) {
      return Fail(Place(sale, path, "Sale/ItemID"), "a sale line needs its ItemID");
    }
    line["sku"] = Text(sku);
    out.origins[pointer + "/sku"] = Place(sku, path, sku_name);

    LineQuantity q;
    REGULARS_TRY(ReadQuantity(sale, path, pointer, q, out));
    int64_t qty = q.qty;
    bool weighed = q.weighed;
    line["qty"] = qty;
    if (weighed) line["unit"] = "g";

    REGULARS_ASSIGN_OR_RETURN(auto price, ReadUnitPrice(sale, path, pointer, currency, q, out));
    line["unit_price"] = price;

    if (pugi::xml_node brand = Child(sale, "Brand"); !Text(brand).empty()) {
      line["brand"] = Text(brand);
      out.origins[pointer + "/brand"] = Place(brand, path, "Brand");
    }
    // Department, class, subclass... as one category path: "baby/diapers".
    std::string category;
    for (pugi::xml_node level : Children(sale, "MerchandiseHierarchy")) {
      if (Text(level).empty()) continue;
      if (category.empty())
        out.origins[pointer + "/categories"] = Place(level, path, "MerchandiseHierarchy");
      category += (category.empty() ? "" : "/") + Text(level);
    }
    if (!category.empty()) line["categories"] = Json::array({category});
    out.basket["lines"].push_back(std::move(line));
    return Status::Ok();
  }

  Positions positions_;
  const std::string& name_;
  const Options& options_;
};

}  // namespace

bool IsUtcOffset(std::string_view t) {
  if (t == "Z") return true;
  auto digit = [&](size_t i) { return t[i] >= '0' && t[i] <= '9'; };
  return t.size() == 6 && (t[0] == '+' || t[0] == '-') && digit(1) && digit(2) && t[3] == ':' &&
         digit(4) && digit(5) && (t[1] - '0') * 10 + (t[2] - '0') <= 23 &&
         (t[4] - '0') * 10 + (t[5] - '0') <= 59;
}

Result<Log> ParseLog(std::string_view text, const std::string& name, const Options& options) {
  Positions positions(text);
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Error::BadInput(kCode, "the file holds a NUL byte: not XML text",
                           name + ": line " + std::to_string(positions.Line(nul)) + ", column " +
                               std::to_string(positions.Column(nul)));
  }
  if (text.size() > kMaxFileBytes) {
    return Error::BadInput(kCode, "the file is larger than 64 MiB", name);
  }
  pugi::xml_document doc;
  // UTF-8 as written, so node offsets are byte offsets into `text`. pugixml never loads
  // external entities or a DTD.
  pugi::xml_parse_result parsed =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    size_t offset = std::min(static_cast<size_t>(std::max<ptrdiff_t>(parsed.offset, 0)),
                             text.empty() ? 0 : text.size() - 1);
    return Error::BadInput(kCode, std::string("malformed XML: ") + parsed.description(),
                           name + ": line " + std::to_string(positions.Line(offset)) + ", column " +
                               std::to_string(positions.Column(offset)));
  }
  return Reader(text, name, options).Read(doc);
}

Result<Log> ReadLog(const std::string& path, const Options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::BadInput(kCode, "cannot read " + path, path);
  // One byte past the limit, so an endless file (/dev/zero) is refused quickly.
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error::BadInput(kCode, "cannot read " + path, path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return Error::BadInput(kCode, "the file is larger than 64 MiB", path);
  }
  return ParseLog(text, path, options);
}

std::string WhereInLog(const LogSale& sale, const std::string& name, const std::string& pointer) {
  std::string prefix = pointer;
  while (true) {
    auto it = sale.origins.find(prefix);
    if (it != sale.origins.end()) return name + ": " + it->second;
    if (prefix.empty()) return name;
    size_t slash = prefix.rfind('/');
    prefix.resize(slash == std::string::npos ? 0 : slash);
  }
}

}  // namespace regulars::poslog
