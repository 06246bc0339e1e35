/* Retention: finished DAGs (and finished tasks outside any DAG) older than the configured age are
 * purged with their data (store/purge.h) and the objects only they referenced are deleted from
 * the object store. Two drivers share the batch logic:
 *  - the running engine: a timer on the main loop submits PURGE requests on the main store handle
 *    (never waiting on the loop) and deletes objects on the thread pool, batch after batch while
 *    batches come back full, then waits for the next interval;
 *  - `ain purge` (engine/cli/cli_purge.c): ain_retention_delete_objects after each batch it ran.
 * Relies on: store/purge.h, objstore/objstore.h, libuv, core/log.h. */
#ifndef AIN_PRIVACY_RETENTION_H
#define AIN_PRIVACY_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

#define AIN_RETENTION_BATCH 100 /* DAGs per PURGE request: one short write transaction */

typedef struct ain_retention ain_retention_t;

typedef struct {
  int64_t max_age_ms;      /* purge what finished longer ago than this (> 0) */
  int64_t interval_ms;     /* between runs (> 0); the first run is 5 s after start (or sooner) */
  const ain_config_t *cfg; /* objstore.* and data_dir: the store objects are deleted from
                                 * (borrowed: outlives the retention) */
  const char *actor;       /* audit actor of the purges ("node/retention") */
} ain_retention_opts_t;

/* Starts the timer on loop with store (a handle on that loop that outlives the retention).
 * Caller stops it with ain_retention_stop. */
int ain_retention_start(uv_loop_t *loop, ain_store_t *store, const ain_retention_opts_t *opts,
                        ain_retention_t **out, ain_err_t *err);
/* Stops the timer; a batch in flight finishes (its store request and object deletions), then the
 * retention frees itself; the loop must keep running. NULL is a no-op. */
void ain_retention_stop(ain_retention_t *r);

/* Deletes the objects named by keys from the object store cfg names (dir or S3) (absent ones are fine). *deleted counts the
 * files removed. Blocking file I/O: the thread pool or the CLI only. 0, or the first error (the
 * rest are still tried). */
int ain_retention_delete_objects(const ain_config_t *cfg, char *const *keys, size_t n,
                                 size_t *deleted, ain_err_t *err);

#endif
