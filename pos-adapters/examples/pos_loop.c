/*
 * pos_loop.c: a minimal point-of-sale loop in C that embeds libregulars through its C ABI.
 *
 *   pos_loop CONFIG LEDGER
 *
 * It opens a till, enrols a loyalty card and rings up four visits of one customer buying
 * diaper packs: the fifth pack, reached on the third visit, comes off the receipt. It then
 * voids that sale (the fifth pack is due again), rings the next visit, and shows what an
 * error looks like. Read it beside docs/integrator-guide.md.
 *
 * A real POS reads the receipts with its own JSON library; this example keeps to the C
 * standard library, so it finds the few fields it prints with the small helpers below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regulars/regulars.h"

/* The language of the printed sentences: every receipt carries "fr" and "en". */
static const char *const kLang = "en";
static const char *const kCard = "2900000000018";

/* ---- Reading a few fields of the receipt JSON (a real POS uses its JSON library). ---- */

/* The end of the JSON value starting at `p` (an object, array, string or scalar). */
static const char *value_end(const char *p) {
  int depth = 0;
  int in_string = 0;
  for (; *p != '\0'; p++) {
    if (in_string) {
      if (*p == '\\' && p[1] != '\0') {
        p++;
      } else if (*p == '"') {
        in_string = 0;
        if (depth == 0) return p + 1;
      }
    } else if (*p == '"') {
      in_string = 1;
    } else if (*p == '{' || *p == '[') {
      depth++;
    } else if (*p == '}' || *p == ']') {
      if (depth == 0) return p; /* a scalar ended by its container */
      if (--depth == 0) return p + 1;
    } else if (*p == ',' && depth == 0) {
      return p;
    }
  }
  return p;
}

/* The value of the first member `key` in [from, to), or NULL. */
static const char *find_member(const char *from, const char *to, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *hit = strstr(from, pattern);
  return hit != NULL && hit < to ? hit + strlen(pattern) : NULL;
}

static long integer_member(const char *from, const char *to, const char *key) {
  const char *value = find_member(from, to, key);
  return value != NULL ? strtol(value, NULL, 10) : 0;
}

/* Prints the sentence of a {"text": {"fr": ..., "en": ...}} object in kLang. */
static void print_text(const char *object, const char *end) {
  const char *text = find_member(object, end, "text");
  const char *sentence = text != NULL ? find_member(text, value_end(text), kLang) : NULL;
  if (sentence == NULL || *sentence != '"') return;
  /* The receipts' sentences are UTF-8 and carry no escapes but \" (none in ours). */
  printf("%.*s", (int)(value_end(sentence) - sentence - 2), sentence + 1);
}

/* Money is integer minor units: formatted with integer arithmetic, never as a double. */
static void print_money(long amount, const char *currency) {
  printf("%s%ld.%02ld %s", amount < 0 ? "-" : "", labs(amount) / 100, labs(amount) % 100, currency);
}

/* Calls `each` on every object of every array named `key` in `json`. */
static void for_each_in(const char *json, const char *key, const char *currency,
                        void (*each)(const char *, const char *, const char *)) {
  const char *end = json + strlen(json);
  for (const char *array = find_member(json, end, key); array != NULL;
       array = find_member(array, end, key)) {
    const char *array_end = value_end(array);
    for (const char *item = strchr(array, '{'); item != NULL && item < array_end;
         item = strchr(value_end(item), '{')) {
      each(item, value_end(item), currency);
    }
  }
}

static void print_discount(const char *object, const char *end, const char *currency) {
  printf("  ");
  print_text(object, end);
  printf(": ");
  print_money(-integer_member(object, end, "amount"), currency);
  printf("\n");
}

static void print_progress(const char *object, const char *end, const char *currency) {
  (void)currency;
  printf("  progress: ");
  print_text(object, end);
  printf("\n");
}

/* The receipt's ISO 4217 code, such as "EUR", into `currency` (4 bytes). */
static void currency_of(const char *json, char *currency) {
  const char *value = find_member(json, json + strlen(json), "currency");
  currency[0] = '\0';
  if (value != NULL) sscanf(value, "\"%3[A-Z]\"", currency);
}

static void print_receipt(const char *what, const char *receipt) {
  const char *end = receipt + strlen(receipt);
  char currency[4];
  currency_of(receipt, currency);
  printf("%s: gross ", what);
  print_money(integer_member(receipt, end, "total_gross"), currency);
  printf(", discount ");
  print_money(integer_member(receipt, end, "total_discount"), currency);
  printf(", net ");
  print_money(integer_member(receipt, end, "total_net"), currency);
  printf("\n");
  for_each_in(receipt, "discounts", currency, print_discount);
  for_each_in(receipt, "progress", currency, print_progress);
}

/* ---- The POS loop. ---- */

/*
 * What the POS does with an error: show the error JSON to the cashier and go on selling.
 * Returns 1 so the caller can count it.
 */
static int report_error(const char *call, int rc, const char *error_json) {
  printf("%s failed (%d): %s\n", call, rc, error_json != NULL ? error_json : "(no detail)");
  return 1;
}

/* One visit: `packs` diaper packs and a loaf of bread, evaluated at subtotal, then committed
 * once the payment is confirmed. Returns the number of unexpected errors. */
static int ring_up(regulars_till *till, int visit, const char *at, int packs) {
  char basket[1024];
  char txn[32];
  char what[64];
  char *out = NULL;
  int errors = 0;
  snprintf(txn, sizeof txn, "S001-T01-%06d", visit);
  snprintf(basket, sizeof basket,
           "{\"pos_txn_id\": \"%s\", \"store_id\": \"S001\", \"till_id\": \"T01\","
           " \"cashier_id\": \"C07\", \"at\": \"%s\", \"currency\": \"EUR\","
           " \"identifiers\": [{\"kind\": \"card\", \"value\": \"%s\"}],"
           " \"lines\": ["
           "{\"line\": 1, \"sku\": \"3400000000001\", \"qty\": %d, \"unit_price\": 1290,"
           " \"brand\": \"Dodo\", \"categories\": [\"baby/diapers\"]},"
           "{\"line\": 2, \"sku\": \"2000000000015\", \"qty\": 1, \"unit_price\": 245,"
           " \"categories\": [\"bakery/bread\"]}]}",
           txn, at, kCard, packs);

  /* Evaluate writes nothing: call it at each scan or at subtotal, as often as you like. */
  int rc = regulars_evaluate(till, basket, &out);
  snprintf(what, sizeof what, "visit %d %s (%d pack%s) proposed", visit, txn, packs,
           packs == 1 ? "" : "s");
  if (rc == REGULARS_OK) {
    print_receipt(what, out);
  } else {
    errors += report_error("regulars_evaluate", rc, out);
  }
  regulars_free(out);
  out = NULL;

  /* Payment confirmed: commit. If the answer is lost, committing again is safe. */
  rc = regulars_commit(till, basket, &out);
  snprintf(what, sizeof what, "visit %d %s committed", visit, txn);
  if (rc == REGULARS_OK) {
    print_receipt(what, out);
  } else {
    errors += report_error("regulars_commit", rc, out);
  }
  regulars_free(out);
  return errors;
}

int main(int argc, char **argv) {
  regulars_till *till = NULL;
  char *out = NULL;
  int errors = 0;
  if (argc != 3) {
    fprintf(stderr, "usage: pos_loop CONFIG LEDGER\n");
    return 2;
  }
  if (regulars_abi_version() != REGULARS_ABI_VERSION) {
    fprintf(stderr, "libregulars has ABI %d, this program was built for %d\n",
            regulars_abi_version(), REGULARS_ABI_VERSION);
    return 1;
  }
  printf("libregulars %s\n", regulars_version());

  int rc = regulars_open(&till, argv[1], argv[2], &out);
  if (rc != REGULARS_OK) {
    report_error("regulars_open", rc, out);
    regulars_free(out);
    return 1;
  }

  /* The customer signs up at the till: their loyalty card is enrolled. */
  char enroll[64];
  snprintf(enroll, sizeof enroll, "{\"card\": \"%s\"}", kCard);
  rc = regulars_enroll(till, enroll, &out);
  if (rc == REGULARS_OK) {
    printf("enrolled: %s\n", out);
  } else {
    errors += report_error("regulars_enroll", rc, out);
  }
  regulars_free(out);
  out = NULL;

  /* Two packs, two packs, then one: the fifth pack, on the third visit, is free. */
  errors += ring_up(till, 1, "2026-11-02T10:15:00+01:00", 2);
  errors += ring_up(till, 2, "2026-11-09T11:40:00+01:00", 2);
  errors += ring_up(till, 3, "2026-11-16T09:05:00+01:00", 1);

  /* The third sale is cancelled: a compensating event, the customer is at 4 of 5 again. */
  rc = regulars_void(till, "{\"pos_txn_id\": \"S001-T01-000003\"}", &out);
  if (rc == REGULARS_OK) {
    char currency[4];
    currency_of(out, currency);
    printf("void S001-T01-000003: give back ");
    print_money(integer_member(out, out + strlen(out), "total_refund"), currency);
    printf("\n");
    for_each_in(out, "progress", currency, print_progress);
  } else {
    errors += report_error("regulars_void", rc, out);
  }
  regulars_free(out);
  out = NULL;

  /* So the next visit's pack is the fifth again. */
  errors += ring_up(till, 4, "2026-11-23T10:15:00+01:00", 1);

  /* An error, on purpose: voiding a sale this till never made. The POS shows the error
   * JSON ({"error": {"code", "message", "where"}}) and carries on. */
  rc = regulars_void(till, "{\"pos_txn_id\": \"S001-T01-999999\"}", &out);
  if (rc == REGULARS_OK) {
    printf("void S001-T01-999999 unexpectedly succeeded\n");
    errors++;
  } else {
    report_error("regulars_void", rc, out);
  }
  regulars_free(out);

  regulars_close(till);
  printf("%s\n", errors == 0 ? "done" : "done, with unexpected errors");
  return errors == 0 ? 0 : 1;
}
