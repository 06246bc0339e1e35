/* Private to engine/sched/: the trust half of publishing (issue 14, docs/publish-tokens-quotas.md)
 * as the review_gate and publish built-ins use it, so that their own files only call in.
 *   - grants: on a pass or an approval the gate mints one token per channel of the video and
 *     stores them as grants (store/grants.h), in the engine's C alone;
 *   - before a publish calls out: the grant's token is verified (expired, forged, replayed,
 *     wrong audience -> AIN_ETOKEN), then the channel account's quota is taken from its bucket
 *     in the store (optimistic concurrency: a lost race re-reads), or the step is told to park
 *     until the window reopens;
 *   - after: a 429 gives the units back and blocks the account for Retry-After; a landed publish
 *     spends its grant's jti.
 * Every function runs on the step's shard loop; store requests are asynchronous, and each
 * asynchronous call ends with exactly one callback, also when the step was cancelled meanwhile
 * (the callback's owner decides what is left to do). Relies on: sched/internal.h, store/grants.h,
 * publish/token.h, publish/quota.h, obs. */
#ifndef AIN_SCHED_PUBLISH_TRUST_H
#define AIN_SCHED_PUBLISH_TRUST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "sched/internal.h"
#include "store/grants.h"

/* The grants of video_id for every channel of channels (a JSON array of names), tokens minted
 * now: *out (free with ain__ptrust_grants_free) and *n. 0 with *n = 0 when publish tokens are
 * off or there are no channels. AIN_EINVAL for a channel that is not a non-empty string. */
int ain__ptrust_grants_build(ain_step_t *step, const char *video_id, const cJSON *channels,
                             const char *granted_by, const char *reason, ain_store_grant_t **out,
                             size_t *n, ain_err_t *err);
void ain__ptrust_grants_free(ain_store_grant_t *g, size_t n);

/* What the check before a publish decided. */
typedef struct {
  int rc;                /* 0: go on; AIN_ETOKEN (permanent), or another AIN_E* */
  char msg[512];         /* with rc */
  int64_t park_until;    /* rc 0 and > 0: park the step until then (ms) instead of publishing */
  char verdict[32];      /* the token's: "verified", "renewed", a refusal, or "" (tokens off) */
  char *token;           /* the verified (or renewed) token, owned by the check, or NULL */
  int64_t cost;          /* units taken (0: no quota) */
} ain__ptrust_result_t;

typedef struct ain__ptrust ain__ptrust_t;
typedef void (*ain__ptrust_cb)(ain__ptrust_t *t, const ain__ptrust_result_t *res, void *data);

/* Checks the token of the publish of video_id to channel under key, then takes its quota.
 * cb runs once, later, on the loop; *out is the handle (for ain__ptrust_free after cb). The
 * step is only read now (store, engine, config). 0, or AIN_E* with nothing started. */
int ain__ptrust_before(ain_step_t *step, const char *video_id, const char *channel,
                       const char *key, ain__ptrust_cb cb, void *data, ain__ptrust_t **out,
                       ain_err_t *err);
/* After the channel answered AIN_EBUSY with retry_after_ms: gives back t's units, blocks the
 * account until then (bucket write), and calls cb with park_until set. */
int ain__ptrust_refused(ain__ptrust_t *t, int64_t retry_after_ms, ain__ptrust_cb cb, void *data);
/* After the receipt landed: marks the grant's jti used (spent). cb gets rc 0 or the store's
 * error (the publish itself stands either way). */
int ain__ptrust_landed(ain__ptrust_t *t, ain__ptrust_cb cb, void *data);
void ain__ptrust_free(ain__ptrust_t *t);
/* The audit detail of a check's outcome: policies_json ({"policies": {...}} or NULL) plus
 * "publish_token": the verdict, and with park_why ("quota", "rate_limited") "parked" and
 * "until". Caller frees. */
char *ain__ptrust_detail(const char *policies_json, const ain__ptrust_result_t *r,
                         const char *park_why);

#endif
