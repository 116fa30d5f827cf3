// ARTS POSLog import (docs/poslog.md): a POS's exported transaction log read as the
// Contract v1 baskets Till::Import records. Reads and checks only: writes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.h"
#include "json/json_input.h"
#include "result.h"

namespace regulars::poslog {

// Larger files are refused before parsing: a day of one store is a few MiB.
inline constexpr size_t kMaxFileBytes = size_t{64} * 1024 * 1024;

struct Options {
  std::string store_id;  // this till's store: other stores' sales are skipped
  Currency currency;     // the till's: amounts of a transaction without CurrencyCode
  // "+01:00" or "Z": the offset of times written without one. Empty: such a time is an
  // error (local time cannot be ordered against other stores').
  std::string default_offset;
};

// A retail sale of the log, as a basket.
struct LogSale {
  size_t index = 0;  // 1-based position among the log's Transaction elements
  Json basket;       // Contract v1, without store_id and till_id (the till's own)
  // Where the parts of the basket came from, by basket JSON pointer: "" is the
  // Transaction ("line 12 (Transaction 3)"), "/lines/1/qty" its second line's Quantity
  // ("line 31 (Transaction 3, LineItem 2)/Quantity").
  std::map<std::string, std::string> origins;
};

// A transaction that is not imported, and why (not a retail sale, cancelled, training
// mode, another store's, no sale line left).
struct SkippedTransaction {
  size_t index = 0;
  int64_t line = 0;
  std::string reason;
};

struct Log {
  size_t transactions = 0;
  std::vector<LogSale> sales;
  std::vector<SkippedTransaction> skipped;
};

// Reads a POSLog document. Every error has code "invalid_poslog" and a `where` that
// starts with `name`: "FILE: line L, column C" for malformed XML, "FILE: line L
// (Transaction 3, LineItem 2)/Quantity" for a value that cannot be read.
Result<Log> ParseLog(std::string_view text, const std::string& name, const Options& options);

// Reads the file at `path` (at most kMaxFileBytes, no NUL byte) and parses it.
Result<Log> ReadLog(const std::string& path, const Options& options);

// Where in the file `name` the part of `sale` at basket pointer `pointer` came from: the
// origin of the longest pointer prefix known.
std::string WhereInLog(const LogSale& sale, const std::string& name, const std::string& pointer);

// Checks an offset as --offset takes it: "+HH:MM", "-HH:MM" or "Z".
bool IsUtcOffset(std::string_view text);

}  // namespace regulars::poslog
