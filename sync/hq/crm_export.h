// HQ's export to the CRM (docs/crm-export.md): the events HQ stores, as NDJSON (every
// event in full) or as CSV tables derived from them. Pure: no clock, no database; the
// caller reads HqStore::EventsSince page by page and keeps the cursor.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hq/hq_store.h"
#include "result.h"

namespace regulars {

enum class ExportTable { kCustomers, kPurchases, kRewards, kConsents };

// "customers", "purchases", "rewards" or "consents"; anything else is "unknown_table".
Result<ExportTable> ParseExportTable(std::string_view name);
std::string_view ExportTableName(ExportTable table);

// An event that could not be exported (its body is not JSON, or lacks a member its table
// needs). It is not retried: the cursor moves past it, and the caller reports it.
struct SkippedEvent {
  std::string id;  // "S001:T01:42"
  std::string reason;
};

struct ExportResult {
  // The hq_seq of the last event read, exported or not: the next export starts after it.
  // 0 when no event was given (keep the previous cursor).
  int64_t last_hq_seq = 0;
  int64_t rows = 0;  // lines (NDJSON) or rows (CSV) appended
  std::vector<SkippedEvent> skipped;
};

// One JSON object per event and line (LF), in the order given. A payment token's value
// never leaves: it is removed from the body.
ExportResult AppendNdjson(std::span<const HqEvent> events, std::string& out);

// The table's header row (RFC 4180: CRLF), written once before the first page of rows.
void AppendCsvHeader(ExportTable table, std::string& out);
// The table's rows for these events. Events the table is not about are read (the cursor
// moves past them) but give no row. An event's rows are appended all or none.
ExportResult AppendCsvRows(ExportTable table, std::span<const HqEvent> events, std::string& out);

// "2 events skipped: S001:T01:4 (body is not JSON), ..." for the command's report.
std::string SkippedSummary(const std::vector<SkippedEvent>& skipped);

}  // namespace regulars
