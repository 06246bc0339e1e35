/* Privacy at ingest: personal data is found in every string of a JSON document (values, and keys)
 * and replaced by a token before anything is stored, and external user identifiers are only ever
 * stored hashed. The planner (trend lines), `ain enqueue` (payloads) and ain.emit (payloads) call
 * it; docs/operations.md "Privacy and retention" is the operator's view.
 *
 * Detected (pii.c): e-mail addresses, plain and obfuscated ("ava at gmail dot com",
 * "ava [at] gmail [dot] com"); phone numbers (+country, 00 prefix, "(415) 555-0132", 3-3-4 groups,
 * 0-prefixed national numbers, "555-0132"); payment cards (13..19 digits, Luhn); IBANs (mod 97);
 * IPv4 addresses; US SSNs (ddd-dd-dddd, valid area/group/serial). Not PII: years, dates, prices,
 * scores ("12-3-30"), decimals, version numbers ("1.2.3", "version 1.2.3.4").
 *
 * Token: "<pii:KIND:hhhhhhhh>", hhhhhhhh = the first 8 hex digits of HMAC-SHA256(key, normalised
 * value), so one value always maps to one token (dedup and audit still work) and the value cannot
 * be recovered without the key. KIND: email, phone, card, iban, ip, ssn, uid (a user identifier
 * field). Normalised: e-mail lower-cased "local@domain"; phone its digits ("+" kept for an
 * international number, "00" read as "+"); card/SSN digits; IBAN upper-case without spaces; IPv4
 * as written; uid the value as written. The key is the secret "pii_key" (AIN_SECRET_PII_KEY or
 * secrets_dir/pii_key, core/secret.h). Without a key (a NULL handle, or none configured) values
 * are redacted without a hash: "<pii:KIND>"; `ain run` warns at start-up.
 *
 * Threading: a handle is immutable after open; scrubbing is pure CPU and may run on any thread.
 * Relies on: core/secret.h (the key), OpenSSL HMAC, cJSON. */
#ifndef AIN_PRIVACY_PRIVACY_H
#define AIN_PRIVACY_PRIVACY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define AIN_PRIVACY_KEY_SECRET "pii_key"

typedef enum {
  AIN_PII_EMAIL = 0,
  AIN_PII_PHONE,
  AIN_PII_CARD,
  AIN_PII_IBAN,
  AIN_PII_IP,
  AIN_PII_SSN,
  AIN_PII_UID,
  AIN_PII_KIND_COUNT
} ain_pii_kind_t;

const char *ain_pii_kind_name(ain_pii_kind_t k); /* "email" */

#define AIN_PII_NORM_MAX 400

/* One value found in a text: bytes [start, start + len) and its normalised form. */
typedef struct {
  size_t start, len;
  ain_pii_kind_t kind;
  char norm[AIN_PII_NORM_MAX];
} ain_pii_match_t;

/* Finds the first PII value starting at or after `from` in s[0..n): 1 with *m filled, or 0.
 * Bytes before `from` are only looked at as context (word boundaries). */
int ain_pii_next(const char *s, size_t n, size_t from, ain_pii_match_t *m);

typedef struct ain_privacy ain_privacy_t;

/* What one scrub replaced, by kind (accumulated: zero it before the first call). */
typedef struct {
  int64_t found[AIN_PII_KIND_COUNT];
  int64_t total;
} ain_privacy_stats_t;

/* Resolves the key "pii_key" through the secrets chain and returns a handle (caller frees).
 * No key configured is not an error: the handle redacts without hashing (see
 * ain_privacy_keyed). A key file with a bad mode, unreadable, or an empty key is an error
 * naming the secret. Blocking (may read a file): at start-up or on the thread pool only. */
int ain_privacy_open(const char *secrets_dir, ain_privacy_t **out, ain_err_t *err);
/* The same with the key given (len 0: no key). For tests and tools. */
int ain_privacy_open_key(const void *key, size_t len, ain_privacy_t **out, ain_err_t *err);
/* ain_privacy_open for a process that stores data (`ain run`, `ain enqueue`): the same, and a
 * warning in the log when no key is configured (values will be redacted without a hash). */
int ain_privacy_start(const char *secrets_dir, ain_privacy_t **out, ain_err_t *err);
void ain_privacy_free(ain_privacy_t *p);
/* 1 when tokens carry a keyed hash, 0 when values are redacted without one (or p is NULL). */
int ain_privacy_keyed(const ain_privacy_t *p);

/* Every function below accepts p == NULL: redaction without a hash. */

/* The text with every PII value replaced by its token: a new string (caller frees with free())
 * when something was replaced, NULL when nothing was (or memory ran out: *oom set). */
char *ain_privacy_scrub_text(const ain_privacy_t *p, const char *s, size_t n,
                             ain_privacy_stats_t *st, int *oom);
/* Scrubs a parsed document in place: every string value and object key, and the whole value of
 * a user-identifier field (author, user_id, username, handle, channel_user_id, ...: see
 * privacy.c) hashed as a uid. Returns the number of replacements, or AIN_ENOMEM. */
int ain_privacy_scrub_cjson(const ain_privacy_t *p, cJSON *doc, ain_privacy_stats_t *st);
/* Scrubs one JSON document held in *json (malloc'd text): when something was replaced *json is
 * freed and replaced by the scrubbed text (unformatted). Text that is not JSON is scrubbed as
 * plain text. 0 or AIN_ENOMEM (err says so; *json is left as it was). */
int ain_privacy_scrub_json(const ain_privacy_t *p, char **json, ain_privacy_stats_t *st,
                           ain_err_t *err);
/* The same for JSON Lines (the trend source): each line on its own; line count and order kept,
 * lines without PII kept byte for byte. *text and *len are replaced when something changed. */
int ain_privacy_scrub_lines(const ain_privacy_t *p, char **text, size_t *len,
                            ain_privacy_stats_t *st, ain_err_t *err);

#endif
