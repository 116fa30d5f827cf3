// The HQ storage backends the shared suite (hq_store_test.cc) runs against.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hq_store.h"
#include "result.h"

namespace regulars::testing {

struct HqBackend {
  std::string name;  // a gtest parameter name: letters and digits
  // A fresh, empty store; `scratch` is a new empty folder the test may use.
  std::function<Result<std::unique_ptr<HqStore>>(const std::string& scratch)> open_fresh;
};

// SQLite always; PostgreSQL too (see hq_backends.cc).
std::vector<HqBackend> HqBackends();

}  // namespace regulars::testing
