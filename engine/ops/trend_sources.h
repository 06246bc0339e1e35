/* Operation: the trend sources' health (`ain sources`): every configured source (config key
 * `sources`, and trends.source as the jsonl source "trends") with its row from the store
 * (validators, last success/error, backoff, counts), and rows of sources no longer configured.
 * Relies on: ops/ops.h, store/store.h (SOURCE_LIST), config/sources.h. */
#ifndef AIN_OPS_TREND_SOURCES_H
#define AIN_OPS_TREND_SOURCES_H

#include "ops/ops.h"

typedef struct {
  const char *name, *kind, *url;  /* the configured ones, or the row's */
  const ain_source_state_t *row;  /* NULL: never ran against this store */
  int configured;                 /* 0: a row of a source the config no longer has */
  const char *health;             /* ok | failing | backoff | never | unconfigured | file */
} ain_ops_trend_source_t;

typedef struct {
  ain_ops_trend_source_t *list;
  size_t n;
  int64_t now;
  ain_store_req_t req_;
} ain_ops_trend_sources_t;

int ain_ops_trend_sources(ain_ops_t *ops, ain_ops_trend_sources_t *out, ain_err_t *err);
void ain_ops_trend_sources_free(ain_ops_trend_sources_t *s);
/* [{name, kind, url, health, configured, etag, last_modified, cursor, last_success_at,
 * last_error_at, last_error, backoff_until, failures, fetches, not_modified, errors, items,
 * refused}...] */
cJSON *ain_ops_trend_sources_json(const ain_ops_trend_sources_t *s);

#endif
