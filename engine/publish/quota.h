/* Quotas and rate limits per channel account (issue 14, docs/publish-tokens-quotas.md): the
 * configuration (channels.<name>.quota) and the token-bucket arithmetic. The buckets themselves
 * live in the store (store/grants.h: quota_buckets, shared by all nodes, written with
 * optimistic concurrency); this file only computes, so it is the same on every node and
 * testable without one.
 *
 * Two buckets per account, refilled continuously: units (units_per_day over window_s, a publish
 * takes units_per_publish: youtube's videos.insert costs 1600) and requests (requests_per_minute
 * over 60 s, a publish takes one). A bucket nobody has written yet is full. Amounts are kept in
 * thousandths so that a slow refill is not lost to rounding between two takes. After a 429 the
 * account is blocked until the platform's Retry-After, and the units of that refused call are
 * given back. Relies on: config/config.h, store/grants.h (the bucket row), cJSON. */
#ifndef AIN_PUBLISH_QUOTA_H
#define AIN_PUBLISH_QUOTA_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "config/config.h"
#include "core/err.h"
#include "store/grants.h"

#define AIN_PUBLISH_YOUTUBE_INSERT_UNITS 1600 /* Data API v3 videos.insert */
#define AIN_PUBLISH_YOUTUBE_DELETE_UNITS 50   /* videos.delete (an unpublish) */
#define AIN_PUBLISH_YOUTUBE_LIST_UNITS 1      /* videos.list (an analytics read) */

/* The bucket's state as the store keeps it (the same fields as ain_store_bucket_t). */
typedef struct {
  int64_t units_mu, requests_mu, updated_at, blocked_until, taken;
  int exists; /* 0: no row yet, the bucket is full */
} ain_quota_state_t;

/* The state of a bucket row as the store returned it (a row with no version yet: a full bucket). */
ain_quota_state_t ain_publish_quota_state_of(const ain_store_bucket_t *row);
/* The row that writes s back for account (borrowed). */
ain_store_bucket_t ain_publish_quota_row_of(const char *account, const ain_quota_state_t *s);

/* Validates a channel's quota table {units_per_day, window_s, units_per_publish,
 * requests_per_minute} (all optional positive integers; window_s <= 86400; units_per_publish <=
 * units_per_day): 0 or AIN_ECONFIG naming "channels.<name>.quota.<key>". For the channel check
 * at config load; no I/O. */
int ain_publish_quota_check(const char *name, const cJSON *quota, ain_err_t *err);
/* The same, filling *out (zeros for the keys not given, window_s 86400 by default). */
int ain_publish_quota_parse(const char *name, const cJSON *quota, ain_config_quota_t *out,
                            ain_err_t *err);
/* The quota of the channel called `channel` in cfg and its account (the key of its bucket:
 * the channel's name until channels name accounts). 0 when the channel has no limit. */
int ain_publish_quota_of(const ain_config_t *cfg, const char *channel, ain_config_quota_t *out);
/* Units a publish takes: units_per_publish, else the kind's cost (youtube 1600, others 1). */
int64_t ain_publish_quota_cost(const ain_config_quota_t *q, const char *kind);

/* Units a call that is not a publish takes (call "unpublish" or "metrics"): youtube's delete 50,
 * its list 1; 0 on the other kinds, whose units count posts (the call still takes a request). */
int64_t ain_publish_quota_call_cost(const char *kind, const char *call);

/* Brings s up to now_ms (refill, capped at the capacities; a full new bucket when !exists). */
void ain_publish_quota_refill(const ain_config_quota_t *q, ain_quota_state_t *s, int64_t now_ms);
/* Refills, then takes cost units and one request if both are there and the account is not
 * blocked: 1 (s updated), or 0 with *wait_ms = how long until they will be (s refilled only). */
int ain_publish_quota_take(const ain_config_quota_t *q, int64_t cost, ain_quota_state_t *s,
                           int64_t now_ms, int64_t *wait_ms);
/* The platform answered 429 + Retry-After: gives back the cost of that call and blocks the
 * account until now_ms + retry_after_ms (never shortens a longer block). */
void ain_publish_quota_refuse(const ain_config_quota_t *q, int64_t cost, ain_quota_state_t *s,
                              int64_t now_ms, int64_t retry_after_ms);
/* Whole units left after a refill to now_ms (-1: the units limit is off), and when the next
 * publish's units will be there (0: now). */
int64_t ain_publish_quota_remaining(const ain_config_quota_t *q, const ain_quota_state_t *s,
                                    int64_t now_ms, int64_t cost, int64_t *next_ms);

#endif
