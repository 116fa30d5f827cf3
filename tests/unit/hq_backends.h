// The HQ storage backends the shared suite (hq_store_test.cc) runs against.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "hq/hq_store.h"
#include "result.h"

namespace regulars::testing {

struct HqBackend {
  std::string name;  // a gtest parameter name: letters and digits
  // A fresh, empty store; `scratch` is a new empty folder the test may use. It may skip
  // the current test (GTEST_SKIP) and fail: callers check IsSkipped() first.
  std::function<Result<std::unique_ptr<HqStore>>(const std::string& scratch)> open_fresh;
};

// For gtest and ctest: a backend shows as its name, not as its bytes (whose pointers would
// change the ctest names from one build to the next).
inline void PrintTo(const HqBackend& backend, std::ostream* out) { *out << backend.name; }

// SQLite always; PostgreSQL too (see hq_backends.cc).
std::vector<HqBackend> HqBackends();

// A new empty schema on the test PostgreSQL server, as a conninfo whose search_path is that
// schema, so that tests (in parallel too) never see each other's data. The server is
// REGULARS_TEST_PG, a conninfo in key=value form (installer/test.sh starts a throwaway
// cluster and sets it). Without it: an error saying so, or, when REGULARS_SKIP_PG=1, the
// current test is skipped.
Result<std::string> FreshPgSchema();

}  // namespace regulars::testing
