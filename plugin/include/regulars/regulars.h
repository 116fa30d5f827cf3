/*
 * regulars.h: the public C ABI of libregulars, the till-side loyalty core.
 *
 * Every call takes and gives Contract v1 JSON (docs/contract-v1.md), as UTF-8 text.
 *
 * Results. Functions that can fail return an int: REGULARS_OK (0) or one of the
 * negative REGULARS_E_* codes below. They never throw and never abort on bad input.
 *
 * Ownership. Every `char **out` receives a NUL-terminated string that belongs to the
 * caller and must be released with regulars_free(), and nothing else. On success it holds
 * the result JSON; on failure it holds the error JSON of Contract v1:
 *   {"error": {"code": "invalid_basket", "message": "...", "where": "/lines/0/qty"}}
 * `out` may be NULL when the caller does not want the text. Input strings are only read
 * during the call and stay the caller's.
 *
 * Threads. A handle may be used from several threads: calls on one handle are
 * serialised inside. Several handles (in one or several processes) may share a database
 * file; SQLite's locking keeps each commit atomic.
 *
 * Stability. The ABI version changes only when a signature or a meaning changes; fields
 * are added to the JSON freely and never renamed (docs/api-stability.md).
 */
#ifndef REGULARS_REGULARS_H_
#define REGULARS_REGULARS_H_

#ifdef __cplusplus
extern "C" {
#endif

#if defined(REGULARS_BUILDING_LIBRARY)
#define REGULARS_API __attribute__((visibility("default")))
#else
#define REGULARS_API
#endif

/* The ABI this header describes. Compare with regulars_abi_version() at run time. */
#define REGULARS_ABI_VERSION 1

/* Result codes. The error JSON's "code" string gives the detail. */
#define REGULARS_OK 0
#define REGULARS_E_INVALID_INPUT (-1) /* bad JSON, basket, card, config or database file */
#define REGULARS_E_NOT_FOUND (-2)     /* e.g. voiding a pos_txn_id never committed */
#define REGULARS_E_CONFLICT (-3)      /* e.g. a pos_txn_id reused for another basket */
#define REGULARS_E_STORAGE (-4)       /* the database could not be read or written */
#define REGULARS_E_INTERNAL (-5)      /* a bug; the message says what happened */
#define REGULARS_E_ARGUMENT (-6)      /* a NULL handle or a NULL input string */

/* An open till: a config and a ledger database. Opaque. */
typedef struct regulars_till regulars_till;

/* The ABI version of the loaded library (REGULARS_ABI_VERSION when it was built). */
REGULARS_API int regulars_abi_version(void);

/* The library's version, such as "0.1.0". Static storage: do not free. */
REGULARS_API const char *regulars_version(void);

/*
 * Opens a till from the config file at `config_path` (Contract v1 config) and the SQLite
 * ledger at `db_path` (created if absent; upgraded if older; refused if newer, not a
 * Regulars ledger, or made for another store or currency: "ledger_belongs_elsewhere"). On success
 * *out_handle is set; close it with regulars_close(). On failure *out_handle is NULL and *error (if
 * not NULL) holds the error JSON.
 */
REGULARS_API int regulars_open(regulars_till **out_handle, const char *config_path,
                               const char *db_path, char **error);

/*
 * Checks a config file without opening a ledger: {"ok": true, "store_id": ..., "till_id":
 * ..., "currency": ..., "rules": N, "rules_version": ..., "payment_token_keys": N,
 * "qr_public_keys": N}, or the error JSON naming the file and the JSON pointer of the
 * first problem (REGULARS_E_INVALID_INPUT).
 */
REGULARS_API int regulars_config_check(const char *config_path, char **out);

/* Closes a handle and frees everything it holds. NULL is accepted and ignored. */
REGULARS_API void regulars_close(regulars_till *handle);

/*
 * Enrols a loyalty card: {"card": "2900000000018"} -> {"customer": {"id": ..., "created":
 * true}} ("created": false when the card was enrolled already, with its customer). An
 * optional "first_name" is kept for the cashier's greeting: shown on proposals and
 * recognitions ("customer": {"first_name": ...}), never in a committed receipt.
 */
REGULARS_API int regulars_enroll(regulars_till *handle, const char *request_json, char **out);

/* Prices a basket for its customer and proposes a receipt. Writes nothing. */
REGULARS_API int regulars_evaluate(regulars_till *handle, const char *basket_json, char **out);

/*
 * Commits a paid basket in one durable transaction and returns its receipt. Idempotent
 * on pos_txn_id: the same basket again returns the same receipt and writes nothing.
 */
REGULARS_API int regulars_commit(regulars_till *handle, const char *basket_json, char **out);

/* Voids a committed sale: {"pos_txn_id": "..."} -> what was returned. Idempotent. */
REGULARS_API int regulars_void(regulars_till *handle, const char *request_json, char **out);

/* Refunds some lines or quantities of a sale: a basket with "refund_of". Idempotent. */
REGULARS_API int regulars_refund(regulars_till *handle, const char *refund_json, char **out);

/*
 * Recognizes a customer without a basket (a scan at the start of a checkout):
 * {"identifiers": [...]} -> {"customer": {...} or null, "notices": [...]}, and for a
 * recognized customer "progress" (the counted rules and the tier) and "goodwill"
 * ({"budget_left", ...}) when goodwill is configured. Writes nothing.
 */
REGULARS_API int regulars_recognize(regulars_till *handle, const char *request_json, char **out);

/*
 * Links a payment card to an enrolled customer who is present and consents:
 *   {"card": "2900000000018" (or "customer": ID),
 *    "payment_token": {"value": PAN or PAR, "source": "pan" | "par" | "alias"},
 *    "consent": {"text": what they agreed to, "at": RFC 3339, "cashier_id": "C07"}}
 * -> {"customer": {"id": ...}, "linked": true, "merged_from": PROFILE or null, ...}.
 * Only a keyed hash of the card is kept; a pseudonymous profile of the card merges in.
 */
REGULARS_API int regulars_link(regulars_till *handle, const char *request_json, char **out);

/*
 * Replaces a customer's lost loyalty card with a new one:
 *   {"card": OLD, "new_card": NEW, "cashier_id": "C07" (optional)}
 * -> {"customer": {"id": ...}, "replaced": {"old_card": ..., "new_card": ..., "at": RFC 3339},
 *     "event_id": ...}.
 * The new card carries the customer's counters, tier and visits; the old one recognizes
 * nobody from then on (a basket with it has a "card_replaced" notice), here and, after the
 * sync, at every till. Errors: "invalid_card" (REGULARS_E_INVALID_INPUT), "unknown_card"
 * (REGULARS_E_NOT_FOUND: the old card is not enrolled), "card_in_use" (REGULARS_E_CONFLICT:
 * the new card belongs to a customer), "card_replaced" (REGULARS_E_CONFLICT: the old card
 * was replaced already), "invalid_request" (the same card twice).
 */
REGULARS_API int regulars_replace_card(regulars_till *handle, const char *request_json, char **out);

/*
 * Recomputes every counter from the ledger's events and compares:
 * {"ok": true, "events": N, "counters": N, "mismatches": [...], "problems": [...],
 * "ledger": {"store_id", "till_id", "currency"}} (whose the ledger is).
 * Returns REGULARS_OK when the check ran, whatever it found: read "ok".
 */
REGULARS_API int regulars_db_verify(regulars_till *handle, char **out);

/*
 * The config this till prices with, and whether the file on disk is refused. The file is
 * reread first when it changed, as every call does:
 * {"state": "in_force", "file": PATH, "rules_version": V}, or, while a changed file is
 * refused and the rules in force stay,
 * {"state": "refused", "file", "rules_version", "where": "/rules/0/every" (a JSON pointer
 * into the file, or "line L, column C"), "message", "since": RFC 3339, "since_ms"}.
 * Writes nothing.
 */
REGULARS_API int regulars_config_status(regulars_till *handle, char **out);

/*
 * Verifies the goodwill audit chain under the config's audit key: each entry's HMAC and
 * its link to the entry before (docs/goodwill.md):
 * {"entries": N, "ok": true, "problems": [{"seq": 7, "problem": "entry 7 was altered ..."}]}.
 * Returns REGULARS_OK when the check ran, whatever it found: read "ok". Without an audit
 * key in the config, REGULARS_E_INVALID_INPUT with code "goodwill_not_configured".
 * Writes nothing.
 */
REGULARS_API int regulars_audit_verify(regulars_till *handle, char **out);

/* Releases a string this library returned. NULL is accepted and ignored. */
REGULARS_API void regulars_free(char *text);

#ifdef __cplusplus
}
#endif

#endif /* REGULARS_REGULARS_H_ */
