#include "hq_backends.h"

namespace regulars::testing {

std::vector<HqBackend> HqBackends() {
  std::vector<HqBackend> backends;
  backends.push_back({"SQLite", [](const std::string& scratch) -> Result<std::unique_ptr<HqStore>> {
                        auto store = SqliteHqStore::Open(scratch + "/hq.db");
                        if (!store.ok()) return store.error();
                        return std::unique_ptr<HqStore>(std::move(store).value());
                      }});
  return backends;
}

}  // namespace regulars::testing
