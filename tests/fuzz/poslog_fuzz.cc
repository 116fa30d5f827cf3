// libFuzzer target: a POS's ARTS POSLog export, read into baskets and validated as the
// import does, with every error position mapped back into the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/basket.h"
#include "poslog/poslog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const regulars::TillIdentity till{"S001", "T01", *regulars::FindCurrency("EUR")};
  static const regulars::poslog::Options options{"S001", till.currency, "+01:00"};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto log = regulars::poslog::ParseLog(text, "fuzz.xml", options);
  if (!log.ok()) return 0;
  for (const auto& sale : log->sales) {
    auto basket = regulars::ParseBasket(sale.basket, till, 0);
    if (!basket.ok()) (void)regulars::poslog::WhereInLog(sale, "fuzz.xml", basket.error().where);
  }
  return 0;
}
