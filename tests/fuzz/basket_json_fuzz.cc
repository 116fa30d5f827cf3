// libFuzzer target: a basket as the POS sends it, parsed and validated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/basket.h"
#include "json/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const regulars::TillIdentity till{"S001", "T01", *regulars::FindCurrency("EUR")};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = regulars::ParseJson(text, "invalid_basket");
  if (json.ok()) {
    (void)regulars::ParseBasket(*json, till, 0);
    (void)regulars::ParseRefund(*json, till, 0);
  }
  return 0;
}
