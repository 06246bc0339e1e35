/* The engine: N shard threads (each a uv loop + Lua host + store handle) that claim tasks, run
 * them as steps and commit their results in batches, plus a main loop for signals, the lease reaper
 * and --until-idle. See DESIGN §2-3.
 * Relies on: config/, store/, lua/, sched/step.h. */
#ifndef AIN_SCHED_ENGINE_H
#define AIN_SCHED_ENGINE_H

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

/* Exit codes `ain run` ends with when the engine exits the process itself (docs/cli.md). */
#define AIN_EXIT_WEDGED 70        /* a shard was stuck in one call: the wedge was recorded */
#define AIN_EXIT_STOP_DEADLINE 75 /* SIGINT/SIGTERM: shards did not stop by grace_ms + 1 s */

typedef enum {
  AIN_ENGINE_RUNNING = 1, /* store migrated, registry loaded, shards started */
  AIN_ENGINE_STOPPING,    /* a signal or --until-idle: no more claims, running steps draining */
} ain_engine_state_t;

typedef struct {
  int until_idle; /* exit 0 once no task is ready, pending or running */
  int progress;   /* live progress line on stderr (a TTY) */
  /* Optional: told on the main thread when the engine runs and when it begins to stop (the
   * operator API's /readyz). */
  void (*on_state)(void *data, ain_engine_state_t st);
  void *state_data;
} ain_run_opts_t;

typedef struct {
  ain_store_stats_t store; /* final counts */
  double wall_s;
  int64_t steps_run;       /* steps finished by this process (any outcome) */
  int64_t conflicts;       /* finishes refused because the lease was taken over */
  int interrupted;         /* stopped by a signal */
} ain_run_summary_t;

/* Runs the engine until --until-idle is satisfied or SIGINT/SIGTERM; a second signal exits the
 * process at once (committed work is durable). Returns 0 on a clean stop. */
int ain_engine_run(const ain_config_t *cfg, const ain_run_opts_t *opts, ain_run_summary_t *summary,
                   ain_err_t *err);

/* Builds the store config from the engine config (AIN_DATABASE_URL overrides store.url). */
void ain_engine_store_config(const ain_config_t *cfg, ain_store_config_t *out);

#endif
