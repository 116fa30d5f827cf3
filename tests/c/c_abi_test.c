/* The fifth-pack story through the C ABI, from C, as a POS written in C would drive it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regulars/regulars.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static int contains(const char *text, const char *part) {
  return text != NULL && strstr(text, part) != NULL;
}

static char *basket(const char *txn, int packs) {
  static const char *shape =
      "{\"pos_txn_id\": \"%s\", \"store_id\": \"S001\", \"till_id\": \"T01\","
      " \"at\": \"2026-11-23T10:15:00+01:00\", \"currency\": \"EUR\","
      " \"identifiers\": [{\"kind\": \"card\", \"value\": \"2900000000018\"}],"
      " \"lines\": [{\"line\": 1, \"sku\": \"3400000000001\", \"qty\": %d, \"unit_price\": 1290,"
      " \"brand\": \"Dodo\", \"categories\": [\"baby/diapers\"]}]}";
  char *text = malloc(strlen(shape) + 64);
  sprintf(text, shape, txn, packs);
  return text;
}

static int commit(regulars_till *till, const char *txn, int packs, const char *expect) {
  char *in = basket(txn, packs);
  char *out = NULL;
  int rc = regulars_commit(till, in, &out);
  CHECK(rc == REGULARS_OK);
  CHECK(contains(out, expect));
  if (!contains(out, expect)) fprintf(stderr, "receipt: %s\n", out ? out : "(null)");
  regulars_free(out);
  free(in);
  return rc;
}

int main(int argc, char **argv) {
  regulars_till *till = NULL;
  char *out = NULL;
  if (argc != 3) {
    fprintf(stderr, "usage: c_abi_test CONFIG DB\n");
    return 2;
  }
  remove(argv[2]);

  CHECK(regulars_abi_version() == REGULARS_ABI_VERSION);
  CHECK(regulars_open(&till, argv[1], argv[2], &out) == REGULARS_OK);
  CHECK(out == NULL);
  if (till == NULL) return 1;

  CHECK(regulars_enroll(till, "{\"card\": \"2900000000018\"}", &out) == REGULARS_OK);
  CHECK(contains(out, "\"customer\":{\"id\":\"c_"));
  regulars_free(out);

  /* Two packs, two packs, then the fifth is free on the third visit. */
  commit(till, "S001-T01-000001", 2, "\"total_discount\":0");
  commit(till, "S001-T01-000002", 2, "\"have\":4");
  commit(till, "S001-T01-000003", 1, "\"total_discount\":1290");
  /* A retried commit is the same receipt. */
  commit(till, "S001-T01-000003", 1, "\"total_discount\":1290");

  /* Voiding the third visit: the fifth pack is due again. */
  CHECK(regulars_void(till, "{\"pos_txn_id\": \"S001-T01-000003\"}", &out) == REGULARS_OK);
  CHECK(contains(out, "\"have\":4"));
  regulars_free(out);
  {
    char *in = basket("S001-T01-000004", 1);
    CHECK(regulars_evaluate(till, in, &out) == REGULARS_OK);
    CHECK(contains(out, "\"status\":\"proposed\""));
    CHECK(contains(out, "\"total_discount\":1290"));
    regulars_free(out);
    free(in);
  }

  /* Errors: a code and the Contract v1 error JSON, never a crash. */
  CHECK(regulars_commit(till,
                        "{\"pos_txn_id\": \"X\", \"lines\": [{\"line\": 1, \"sku\": \"a\","
                        " \"qty\": 0, \"unit_price\": 1}]}",
                        &out) == REGULARS_E_INVALID_INPUT);
  CHECK(contains(out, "\"code\":\"invalid_basket\""));
  CHECK(contains(out, "\"where\":\"/lines/0/qty\""));
  regulars_free(out);
  CHECK(regulars_void(till, "{\"pos_txn_id\": \"NOPE\"}", &out) == REGULARS_E_NOT_FOUND);
  regulars_free(out);
  CHECK(regulars_commit(till, "not json", NULL) == REGULARS_E_INVALID_INPUT);
  CHECK(regulars_commit(NULL, "{}", &out) == REGULARS_E_ARGUMENT);
  regulars_free(out);
  CHECK(regulars_commit(till, NULL, &out) == REGULARS_E_ARGUMENT);
  regulars_free(out);
  regulars_free(NULL);

  /* A lost card replaced: the new one carries the four packs, the old one is nobody's. */
  CHECK(regulars_replace_card(till,
                              "{\"card\": \"2900000000018\", \"new_card\": \"2900000000032\","
                              " \"cashier_id\": \"C07\"}",
                              &out) == REGULARS_OK);
  CHECK(contains(out, "\"customer\":{\"id\":\"c_"));
  CHECK(contains(out,
                 "\"replaced\":{\"old_card\":\"2900000000018\","
                 "\"new_card\":\"2900000000032\",\"at\":"));
  regulars_free(out);
  CHECK(regulars_recognize(till,
                           "{\"identifiers\": [{\"kind\": \"card\", \"value\": "
                           "\"2900000000032\"}]}",
                           &out) == REGULARS_OK);
  CHECK(contains(out, "\"have\":4"));
  regulars_free(out);
  {
    char *in = basket("S001-T01-000005", 1);
    CHECK(regulars_evaluate(till, in, &out) == REGULARS_OK);
    CHECK(contains(out, "\"customer\":null"));
    CHECK(contains(out, "\"code\":\"card_replaced\""));
    regulars_free(out);
    free(in);
  }
  CHECK(regulars_replace_card(till,
                              "{\"card\": \"2900000000018\", \"new_card\": \"2900000000049\"}",
                              &out) == REGULARS_E_CONFLICT);
  CHECK(contains(out, "\"code\":\"card_replaced\""));
  regulars_free(out);
  CHECK(regulars_replace_card(till,
                              "{\"card\": \"2900000000049\", \"new_card\": \"2900000000025\"}",
                              &out) == REGULARS_E_NOT_FOUND);
  CHECK(contains(out, "\"code\":\"unknown_card\""));
  regulars_free(out);

  CHECK(regulars_db_verify(till, &out) == REGULARS_OK);
  CHECK(contains(out, "\"ok\":true"));
  regulars_free(out);
  regulars_close(till);
  regulars_close(NULL);

  /* Opening with a bad config names the file. */
  {
    regulars_till *none = NULL;
    CHECK(regulars_open(&none, "/nonexistent.json", argv[2], &out) == REGULARS_E_INVALID_INPUT);
    CHECK(none == NULL);
    CHECK(contains(out, "invalid_config"));
    CHECK(contains(out, "/nonexistent.json"));
    regulars_free(out);
  }

  if (failures == 0) printf("c_abi_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
