/* Private to engine/sched/: the engine and shard structs shared by engine.c, shard.c, step.c. */
#ifndef AIN_SCHED_INTERNAL_H
#define AIN_SCHED_INTERNAL_H

#include <stdatomic.h>
#include <uv.h>

#include "config/config.h"
#include "lua/host.h"
#include "sched/engine.h"
#include "sched/step.h"
#include "sched/progress.h"
#include "store/store.h"

typedef struct ain_engine ain_engine_t;
typedef struct ain__watchdog ain__watchdog_t;

#define AIN_SHARD_TICK_MS 100 /* how often a shard's loop tells the watchdog it still turns */

struct ain_shard {
  ain_engine_t *engine;
  int index;
  char owner[256]; /* lease owner: "node/pid/shard-N" */
  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t control; /* engine -> shard: stop requested */
  uv_timer_t poll_timer;
  uv_timer_t extend_timer;
  uv_timer_t watch_timer; /* cancel watch: queue.cancel_check_ms */
  uv_timer_t grace_timer;
  uv_idle_t flush_idle;
  ain_store_t *store;
  ain_lua_host_t *lua;
  int start_rc;
  ain_err_t start_err;
  uv_sem_t started;

  ain_step_t *steps; /* steps in flight, including ended ones awaiting commit */
  int running;       /* length of steps */
  /* ended steps waiting for the next finish batch */
  ain_step_t **ended;
  size_t nended, cap_ended;
  int claim_inflight, finish_inflight, extend_inflight, watch_inflight;
  int claim_again;   /* a wake-up arrived while a claim was in flight */
  int stopping;      /* no more claims */
  int graceful_over; /* grace period expired: running steps were cancelled */
  int closing;
  ain_store_req_t claim_req, finish_req, extend_req, watch_req;
  ain_finish_item_t *items; /* finish batch in flight */
  ain_step_t **items_steps;
  size_t nitems;
  ain_extend_item_t *ext_items;
  ain_step_t **ext_steps;
  size_t next_items;
  /* What the watchdog thread (watchdog.c) reads. watch_mu guards steps (the list and each
   * step's token) and watch_live (the loop runs and lua may be read); tick_ns is the last loop
   * turn tick_timer saw (ain_mono_ns), 0 when the shard is not watched. */
  uv_mutex_t watch_mu;
  int watch_live;
  _Atomic uint64_t tick_ns;
  uv_timer_t tick_timer;
  ain_extend_item_t *watch_items; /* lease check in flight (read only) */
  ain_step_t **watch_steps;
  size_t nwatch;
};

struct ain_engine {
  const ain_config_t *cfg;
  ain_run_opts_t opts;
  uv_loop_t loop; /* main loop: signals, reaper, idle check, progress */
  uv_signal_t sigint, sigterm, sighup;
  uv_timer_t reap_timer, idle_timer, progress_timer;
  uv_async_t shard_exited;
  ain_store_t *store; /* main thread's handle */
  struct ain_privacy *privacy; /* the PII key for ingest (planner, ain.emit), privacy/privacy.h */
  struct ain_retention *retention; /* purges old finished DAGs (privacy/retention.h) */
  struct ain_tiering *tiering;     /* old objects to a cheaper S3 class (sched/tiering.h) */
  struct ain_analytics *analytics; /* pulls post metrics on its own thread (publish/after.h) */
  ain_store_req_t reap_req, stats_req;
  int reap_inflight, stats_inflight;
  ain_shard_t *shards;
  int nshards;
  atomic_int shards_alive;
  int signals;
  int stopping;
  int interrupted;
  uint64_t started_ns;
  atomic_llong steps_run;
  atomic_llong conflicts;
  ain_store_stats_t last_stats;
  char node_id[128];
  ain_progress_t progress; /* per-stage counters for the TTY line (progress.c) */
  struct ain_plan *planner; /* the trend planner on the main loop (engine/plan/) */
  struct ain_lua_registry *registry; /* policy sources (lua/registry.h), main loop */
  struct ain_cluster *cluster; /* heartbeat, dead-node fencing, archive (engine/cluster/) */
  ain__watchdog_t *watchdog; /* wedged shards, the stop deadline (watchdog.c) */
  atomic_int steps_running;       /* over all shards: the capacity cluster.openclaw reports */
  struct ain_openclaw *openclaw;  /* cluster.openclaw: gateway presence, or NULL */
  atomic_int unhealthy;           /* set by the watchdog: the cluster stops beating */
  ain_trace_t *trace; /* span exporter (tracing.enabled), else NULL; stopped after the shards */
  struct ain_publish_tokens *tokens; /* publish.token's key (publish/token.h), NULL = off */
};

/* shard.c */
int ain__shard_start(ain_shard_t *sh);
void ain__shard_request_stop(ain_shard_t *sh);
/* shard.c: links a new step into sh->steps (under watch_mu). */
void ain__shard_link_step(ain_shard_t *sh, ain_step_t *step);
/* watchdog.c: a thread with its own loop that watches every shard for a call that has not come
 * back past its limit (then records the wedge and exits the process with AIN_EXIT_WEDGED) and
 * enforces the stop deadline. Start it once the shards run; stop it before they are freed. */
int ain__watchdog_start(ain_engine_t *e, ain_err_t *err);
/* Thread-safe: a signal asked the engine to stop. Unless the process has exited by
 * shutdown.grace_ms + 1 s from now, the watchdog exits it with AIN_EXIT_STOP_DEADLINE. */
void ain__watchdog_stop_requested(ain_engine_t *e);
void ain__watchdog_stop(ain_engine_t *e);
/* step.c: begins running a claimed task (takes ownership of *task's strings). */
void ain__step_start(ain_shard_t *sh, ain_task_t *task);
/* step.c: a step ended; shard.c queues it for the next finish batch. */
void ain__shard_step_ended(ain_shard_t *sh, ain_step_t *step);
void ain__step_cancel(ain_step_t *step, int code, const char *why);
void ain__step_free(ain_step_t *step);
/* span.c: exports the step's span (no-op with tracing off). outcome names the task's status
 * afterwards or "fenced", "commit_failed", "abandoned"; error is the failure (span status ERROR)
 * or NULL. */
void ain__step_span_end(ain_step_t *step, const char *outcome, const char *error);
/* compensate.c: a publish task of step was dead-lettered (committed): runs the compensation
 * policy for the video's other posts (on the shard's loop; the action on the thread pool). */
void ain__publish_compensate(ain_shard_t *sh, ain_step_t *step);
/* expand.c: the built-in that expands a generate_video task into its DAG. */
extern const ain_builtin_t ain__builtin_expand;
/* builtins_review.c / builtins_publish.c: the review gate and the publish step. */
extern const ain_builtin_t ain__builtin_review_gate;
extern const ain_builtin_t ain__builtin_publish;
/* builtins_media.c: the media steps of the video DAG. */
extern const ain_builtin_t ain__builtin_tts;
extern const ain_builtin_t ain__builtin_assets;
extern const ain_builtin_t ain__builtin_render;
extern const ain_builtin_t ain__builtin_inspect;

#endif
