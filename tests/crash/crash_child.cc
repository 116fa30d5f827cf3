// Commits checkouts as fast as it can and reports each one on stdout only after commit
// returned. crash_test kills it with SIGKILL at random moments.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "regulars/regulars.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child CONFIG DB FIRST_NUMBER\n");
    return 2;
  }
  regulars_till* till = nullptr;
  char* error = nullptr;
  if (regulars_open(&till, argv[1], argv[2], &error) != REGULARS_OK) {
    std::fprintf(stderr, "open failed: %s\n", error ? error : "");
    return 1;
  }
  const char* cards[] = {"2900000000018", "2900000000025", "2900000000032"};
  for (const char* card : cards) {
    std::string request = std::string("{\"card\": \"") + card + "\"}";
    char* out = nullptr;
    if (regulars_enroll(till, request.c_str(), &out) != REGULARS_OK) return 1;
    regulars_free(out);
  }
  for (long n = std::atol(argv[3]);; ++n) {
    std::string txn = "CRASH-" + std::to_string(n);
    std::string basket =
        "{\"pos_txn_id\": \"" + txn +
        "\", \"at\": \"2026-11-23T10:00:00Z\", \"identifiers\": [{\"kind\": \"card\", "
        "\"value\": \"" +
        cards[n % 3] + "\"}], \"lines\": [{\"line\": 1, \"sku\": \"3400000000001\", \"qty\": " +
        std::to_string(1 + n % 3) +
        ", \"unit_price\": 1290, \"brand\": \"Dodo\"}, {\"line\": 2, \"sku\": \"milk\", "
        "\"qty\": 1, \"unit_price\": 129}]}";
    char* out = nullptr;
    int rc = regulars_commit(till, basket.c_str(), &out);
    if (rc != REGULARS_OK) {
      std::fprintf(stderr, "commit failed: %s\n", out ? out : "");
      return 1;
    }
    regulars_free(out);
    // Reported only once durable: the parent holds us to every line we print.
    std::printf("%s\n", txn.c_str());
    std::fflush(stdout);
  }
}
