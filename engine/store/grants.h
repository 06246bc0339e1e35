/* Publish grants and quota buckets (issue 14; sql/<be>/024_publish_trust.sql): the store's half of
 * signed publish tokens and of per-account quotas (publish/token.h, publish/quota.h).
 *
 * A grant is the engine's record that a video may go to a channel: written when the judge passed
 * it or a reviewer approved it, keyed by jti (the publish's idempotency key), holding the token
 * minted then, its generation (1, then +1 for every later decision: a re-approval mints a fresh
 * token) and when a publish under that key landed (used_at: the jti is spent).
 * A bucket is one channel account's token bucket (units in thousandths, requests in
 * thousandths, the time it was last brought up to date, blocked_until after a 429), shared by
 * every node: a taker reads it, computes in C, and writes it back expecting the state_version it
 * read, so two nodes never spend the same units (AIN_ECONFLICT: read again and retry).
 *
 * One op, GRANTS, with the request's struct owned by the caller (outputs freed by
 * ain_store_grants_cleanup, which ain_store_req_cleanup calls). Relies on: store.h. */
#ifndef AIN_STORE_GRANTS_H
#define AIN_STORE_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AIN_STORE_GRANTS_PUT_MAX 32 /* grants per GRANT_PUT (one per channel of a video) */

typedef struct {
  char *jti, *video_id, *channel, *token;
  char *granted_by; /* "judge" or the reviewer */
  char *reason;     /* "pass" | "approved" */
  int64_t generation, exp, created_at, used_at; /* exp: the token's, s; used_at: ms, 0 = unused */
  int64_t state_version;
} ain_store_grant_t;

typedef struct {
  char *account;
  int64_t units_mu, requests_mu; /* thousandths of a unit / of a request */
  int64_t updated_at;            /* ms: the refill is computed up to here */
  int64_t blocked_until;         /* ms: a 429's Retry-After, 0 = none */
  int64_t taken;                 /* units taken in total (a counter for status) */
  int64_t state_version;         /* 0: no row yet (a put with expect 0 inserts) */
} ain_store_bucket_t;

typedef enum {
  AIN_STORE_GRANT_PUT = 1, /* in: grants[0..ngrants) (upsert by jti; generation +1, used_at kept) */
  AIN_STORE_GRANT_GET,     /* in: jti. out: grants[0]; AIN_ENOTFOUND when there is none */
  AIN_STORE_GRANT_USE,     /* in: jti. used_at = now unless already set; out: grants[0] */
  AIN_STORE_BUCKET_GET,    /* in: account. out: bucket (state_version 0 when absent) */
  AIN_STORE_BUCKET_PUT,    /* in: bucket, expect_version (0 = insert). AIN_ECONFLICT if lost */
  AIN_STORE_BUCKET_LIST    /* out: buckets[0..nbuckets) by account */
} ain_store_grants_op_t;

typedef struct ain_store_grants {
  ain_store_grants_op_t op;
  const char *jti;                /* GET, USE */
  const char *account;            /* BUCKET_GET */
  const ain_store_grant_t *in;    /* PUT: borrowed */
  size_t nin;
  ain_store_bucket_t bucket;      /* BUCKET_PUT in (account borrowed), BUCKET_GET out (owned) */
  int64_t expect_version;         /* BUCKET_PUT */
  ain_store_grant_t *grants;      /* out (owned) */
  size_t ngrants;
  ain_store_bucket_t *buckets;    /* BUCKET_LIST out (owned) */
  size_t nbuckets;
} ain_store_grants_t;

void ain_store_req_grants(ain_store_req_t *req, ain_store_grants_t *g);
void ain_store_grant_free(ain_store_grant_t *g);
/* Frees g's outputs (not g). For BUCKET_GET the account string too. */
void ain_store_grants_cleanup(ain_store_grants_t *g);
/* Input checks (store.c, before a backend sees the request). */
int ain__store_grants_check(const ain_store_req_t *req, ain_err_t *err);

#endif
