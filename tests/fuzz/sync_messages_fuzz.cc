// libFuzzer target: what crosses the sync's boundary. HQ's side: a till's batch, a pull
// query and a look-up query, through HqService into a SQLite store. The till's side: an
// answer from HQ (events to merge into the ledger). The first byte picks which.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "hq/hq_service.h"
#include "hq/hq_store.h"
#include "store/ledger.h"
#include "till/foreign_events.h"

namespace {

std::string TempPath(const char* name) {
  return "/tmp/regulars-fuzz-" + std::to_string(getpid()) + "-" + name;
}

regulars::HqService& Service() {
  static std::unique_ptr<regulars::SqliteHqStore> store = [] {
    std::remove(TempPath("hq.sqlite").c_str());
    std::atexit([] {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::remove((TempPath("hq.sqlite") + suffix).c_str());
      }
    });
    return std::move(regulars::SqliteHqStore::Open(TempPath("hq.sqlite"))).value();
  }();
  static regulars::HqService service(*store);
  return service;
}

regulars::Ledger& TillLedger() {
  static std::unique_ptr<regulars::Ledger> ledger =
      std::move(regulars::Ledger::Open(":memory:", {"S002", "T01", "EUR"})).value();
  return *ledger;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      Service().Handle({"S001", "POST", "/v1/events", text});
      break;
    case 1:
      Service().Handle({"S002", "GET", "/v1/updates?" + text, ""});
      break;
    case 2:
      Service().Handle({"S002", "GET", "/v1/customers?" + text, ""});
      break;
    default: {
      auto json = regulars::Json::parse(text, nullptr, false);
      if (json.is_discarded() || !json.is_object() || !json.contains("events")) break;
      auto events = regulars::ReadForeignEvents(json["events"]);
      if (!events.ok()) break;
      regulars::WriteTransaction txn(TillLedger().db());
      if (!txn.Begin().ok()) break;
      (void)TillLedger().events().AppendForeign(*events);  // rolled back: each input alone
      break;
    }
  }
  return 0;
}
