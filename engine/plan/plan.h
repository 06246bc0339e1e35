/* The trend planner loop (DESIGN §1): on the engine's main loop, it reads the JSON Lines trend
 * source, asks scripts/agents/planner.lua (run = parse_jsonl + plan) which generate_video tasks to
 * make, and commits them with the planned (persona, trend) pairs in one store transaction
 * (PLAN_COMMIT), so a trend is never planned twice for a persona, even across restarts.
 * It runs at start, every trends.interval_ms, and when the source file changes (uv_fs_event on its
 * folder, debounced). Bad lines are logged with file:line; the rest are planned.
 * Relies on: libuv, lua/host.h (a policy host on the main loop), store/store.h, config/. */
#ifndef AIN_PLAN_PLAN_H
#define AIN_PLAN_PLAN_H

#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

typedef struct ain_plan ain_plan_t;

typedef struct {
  const ain_config_t *cfg;           /* trends.source, trends.interval_ms, scripts_dir, lua.* */
  ain_store_t *store;                /* a handle on the same loop; borrowed, outlives the planner */
  struct ain_lua_registry *registry; /* policy sources (may be NULL: read scripts_dir) */
  const char *actor;                 /* audit actor of the tasks it enqueues ("node/planner") */
  void (*on_run)(void *data);        /* after every finished run (success or not), may be NULL */
  /* PII in the source is replaced before the policy sees it (privacy/privacy.h); NULL redacts
   * without a hash. Borrowed: outlives the planner. */
  const struct ain_privacy *privacy;
  /* Span exporter (trace/trace.h): each planned trend's root span goes there; NULL = tracing
   * off (the tasks still get a traceparent). Borrowed: outlives the planner. */
  struct ain_trace *trace;
  void *data;
} ain_plan_opts_t;

typedef struct {
  int64_t runs;     /* finished runs */
  int64_t planned;  /* tasks enqueued, all runs */
  int64_t skipped;  /* trends the policy skipped (duplicate, no persona, already planned) */
  int64_t bad;      /* lines that were not JSON objects */
  int64_t failures; /* runs that failed (unreadable source, policy error, store error) */
  int running;      /* a run is in flight */
} ain_plan_stats_t;

/* Starts the planner: the first run begins on the next loop turn. Caller stops it with
 * ain_plan_stop(). */
int ain_plan_start(uv_loop_t *loop, const ain_plan_opts_t *opts, ain_plan_t **out, ain_err_t *err);
void ain_plan_stats(const ain_plan_t *p, ain_plan_stats_t *out);
/* Stops timers and the file watch; a run in flight is abandoned at its next step (a store commit
 * in flight still completes). The planner frees itself once its handles are closed and nothing
 * is in flight; the loop must keep running. NULL is a no-op. */
void ain_plan_stop(ain_plan_t *p);

#endif
