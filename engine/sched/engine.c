/* The engine's main thread: starts the shards, handles SIGINT/SIGTERM (graceful stop; a second
 * signal exits at once), runs the lease reaper, shows progress and decides when --until-idle is
 * satisfied (nothing ready, pending or running in the store). */
#include "sched/engine.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/openclaw.h"
#include "core/log.h"
#include "core/util.h"
#include "plan/plan.h"
#include "privacy/privacy.h"
#include "privacy/retention.h"
#include "sched/tiering.h"
#include "publish/token.h"
#include "publish/after.h"
#include "lua/registry.h"
#include "obs/obs.h"
#include "sched/internal.h"
#include "sched/media_step.h"

void ain_engine_store_config(const ain_config_t *cfg, ain_store_config_t *out) {
  memset(out, 0, sizeof *out);
  const char *env = getenv("AIN_DATABASE_URL");
  out->url = env && *env ? env : cfg->store.url;
  out->sql_dir = cfg->store.sql_dir;
  out->busy_timeout_ms = cfg->store.busy_timeout_ms;
  out->synchronous_full = cfg->store.synchronous_full;
}

static void begin_stop(ain_engine_t *e) {
  if (e->stopping) {
    return;
  }
  e->stopping = 1;
  if (e->opts.on_state != NULL) {
    e->opts.on_state(e->opts.state_data, AIN_ENGINE_STOPPING);
  }
  ain_plan_stop(e->planner); /* frees itself once its handles are closed */
  e->planner = NULL;
  ain_retention_stop(e->retention); /* likewise, after a batch in flight */
  e->retention = NULL;
  ain_tiering_stop(e->tiering); /* likewise, after a page in flight */
  e->tiering = NULL;
  ain_analytics_request_stop(e->analytics); /* joined after the loop: never blocks it */
  uv_timer_stop(&e->reap_timer);
  uv_timer_stop(&e->idle_timer);
  for (int i = 0; i < e->nshards; i++) {
    ain__shard_request_stop(&e->shards[i]);
  }
}

static void on_signal(uv_signal_t *s, int signum) {
  ain_engine_t *e = s->data;
  e->signals++;
  e->interrupted = 1;
  if (e->signals > 1) {
    /* Everything accepted is already committed; leases of running steps expire and are reaped. */
    ain_log_warn("second signal: exiting now");
    _exit(130);
  }
  ain_log_info("%s: stopping (running steps get %lld ms; a second signal exits at once)",
               signum == SIGINT ? "SIGINT" : "SIGTERM", (long long)e->cfg->shutdown.grace_ms);
  /* A wedged shard never stops: the process exits by grace_ms + 1 s regardless. */
  ain__watchdog_stop_requested(e);
  begin_stop(e);
}

static void on_reap_done(ain_store_req_t *req) {
  ain_engine_t *e = req->data;
  e->reap_inflight = 0;
  if (req->status != 0) {
    ain_log_error("lease reaper: %s", req->err.msg);
  } else if (req->u.reap.reclaimed + req->u.reap.dead > 0) {
    const char *rec[1] = {"reclaimed"}, *dead[1] = {"dead"}, *unknown[1] = {"unknown"};
    ain_obs_add(AIN_M_LEASE_REAPS, rec, req->u.reap.reclaimed);
    ain_obs_add(AIN_M_LEASE_REAPS, dead, req->u.reap.dead);
    /* the reap reports counts, not types */
    ain_obs_add(AIN_M_TASK_DEAD_LETTERS, unknown, req->u.reap.dead);
    ain_log_warn("lease reaper: %d expired lease(s) returned to ready, %d dead-lettered",
                 req->u.reap.reclaimed, req->u.reap.dead);
  }
  ain_store_req_cleanup(req);
}

static void on_reap_timer(uv_timer_t *t) {
  ain_engine_t *e = t->data;
  if (e->reap_inflight || e->stopping) {
    return;
  }
  ain_store_req_reap(&e->reap_req);
  e->reap_req.data = e;
  e->reap_req.cb = on_reap_done;
  e->reap_req.actor = "reaper";
  e->reap_inflight = 1;
  if (ain_store_submit(e->store, &e->reap_req) != 0) {
    e->reap_inflight = 0;
  }
}

/* A heartbeat fenced the leases of a dead node: return them to the queue now, not at the next
 * reap tick. */
static void on_fenced(void *data, int expired) {
  (void)expired;
  ain_engine_t *e = data;
  on_reap_timer(&e->reap_timer);
}

static void print_progress(ain_engine_t *e, int final) {
  const ain_store_stats_t *s = &e->last_stats;
  double el = (double)(ain_mono_ns() - e->started_ns) / 1e9;
  fprintf(stderr,
          "\r\033[K[%6.1fs] tasks: %lld ready, %lld pending, %lld running, %lld waiting, %lld done, "
          "%lld dead | DAGs: %lld running, %lld done, %lld failed%s",
          el, (long long)s->tasks[AIN_TASK_READY], (long long)s->tasks[AIN_TASK_PENDING],
          (long long)s->tasks[AIN_TASK_RUNNING], (long long)s->tasks[AIN_TASK_WAITING], (long long)s->tasks[AIN_TASK_SUCCEEDED],
          (long long)s->tasks[AIN_TASK_DEAD], (long long)s->dags[AIN_DAG_RUNNING],
          (long long)s->dags[AIN_DAG_SUCCEEDED], (long long)s->dags[AIN_DAG_FAILED], "");
  /* Per stage: running/succeeded, and the mean render percent (sched/progress.c). */
  char stages[384];
  ain_progress_format(&e->progress, stages, sizeof stages);
  fprintf(stderr, "%s%s%s", stages[0] ? " | " : "", stages, final ? "\n" : "");
}

/* --until-idle may not stop before the planner has run once: its tasks are the work. */
static int planner_settled(ain_engine_t *e) {
  if (e->planner == NULL) {
    return 1;
  }
  ain_plan_stats_t st;
  ain_plan_stats(e->planner, &st);
  return st.runs > 0 && !st.running;
}

static void start_planner(ain_engine_t *e) {
  const ain_config_t *cfg = e->cfg;
  if ((cfg->trends.source == NULL || cfg->trends.source[0] == '\0') && cfg->sources.n == 0) {
    return;
  }
  char actor[200];
  snprintf(actor, sizeof actor, "%s/planner", e->node_id);
  ain_plan_opts_t po = {.cfg = cfg,
                        .store = e->store,
                        .registry = e->registry,
                        .actor = actor,
                        .privacy = e->privacy,
                        .trace = e->trace};
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_plan_start(&e->loop, &po, &e->planner, &err) != 0) {
    ain_log_error("planner not started: %s", err.msg);
  }
}

/* retention.finished_dags_days > 0: purge old finished DAGs from the main loop. */
/* cluster.openclaw: presence at an OpenClaw Gateway, on a thread of its own. The device key lives
 * under data_dir/openclaw/, one per node_id (characters outside [A-Za-z0-9._-] become '_'). */
static int start_openclaw(ain_engine_t *e, ain_err_t *err) {
  const ain_config_t *cfg = e->cfg;
  if (cfg->cluster.openclaw.url == NULL) {
    return 0;
  }
  char name[AIN_CONFIG_NODE_ID_MAX + 1], path[4096], instance[AIN_CONFIG_NODE_ID_MAX + 32];
  snprintf(name, sizeof name, "%s", e->node_id);
  for (char *p = name; *p; p++) {
    int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '-' || *p == '_';
    *p = ok && !(p == name && *p == '.') ? *p : '_';
  }
  snprintf(path, sizeof path, "%s/openclaw/device-%s.pem", cfg->data_dir ? cfg->data_dir : "var",
           name);
  snprintf(instance, sizeof instance, "%s/%d", e->node_id, (int)getpid());
  ain_openclaw_opts_t o = {.url = cfg->cluster.openclaw.url,
                           .token_secret = cfg->cluster.openclaw.token_secret,
                           .secrets_dir = cfg->secrets_dir,
                           .identity_path = path,
                           .instance_id = instance,
                           .node_name = e->node_id,
                           .reconnect_min_ms = cfg->cluster.openclaw.reconnect_min_ms,
                           .reconnect_max_ms = cfg->cluster.openclaw.reconnect_max_ms,
                           .stats_interval_ms = cfg->cluster.openclaw.stats_interval_ms};
  return ain_openclaw_start(&o, &e->openclaw, err);
}

static void start_retention(ain_engine_t *e) {
  const ain_config_t *cfg = e->cfg;
  if (cfg->retention.finished_dags_days <= 0) {
    return;
  }
  char actor[200];
  snprintf(actor, sizeof actor, "%s/retention", e->node_id);
  ain_retention_opts_t ro = {.max_age_ms = cfg->retention.finished_dags_days * 86400000LL,
                             .interval_ms = cfg->retention.interval_ms,
                             .cfg = cfg,
                             .actor = actor};
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_retention_start(&e->loop, e->store, &ro, &e->retention, &err) != 0) {
    ain_log_error("retention not started: %s", err.msg);
  }
}

/* analytics.interval_s > 0: the post metrics pull, on a thread of its own (publish/after.h). */
static void start_analytics(ain_engine_t *e) {
  char actor[200];
  snprintf(actor, sizeof actor, "%s/analytics", e->node_id);
  ain_store_config_t scfg;
  ain_engine_store_config(e->cfg, &scfg);
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_analytics_start(e->cfg, &scfg, actor, &e->analytics, &err) != 0) {
    ain_log_error("analytics not started: %s", err.msg);
  }
}

static void on_stats_done(ain_store_req_t *req) {
  ain_engine_t *e = req->data;
  e->stats_inflight = 0;
  if (req->status == 0) {
    e->last_stats = req->u.stats.stats;
    const ain_store_stats_t *s = &e->last_stats;
    if (e->opts.progress) {
      print_progress(e, 0);
    }
    if (e->opts.until_idle && !e->stopping &&
        planner_settled(e) &&
        s->tasks[AIN_TASK_READY] + s->tasks[AIN_TASK_RUNNING] == 0 &&
        /* pending tasks behind a parked (waiting) one cannot move until it is woken */
        (s->tasks[AIN_TASK_PENDING] == 0 || s->tasks[AIN_TASK_WAITING] > 0)) {
      ain_log_info("idle: no task is ready, running or waiting for another (parked ones wait for "
                   "a person); stopping");
      begin_stop(e);
    }
  } else {
    ain_log_error("reading queue stats: %s", req->err.msg);
  }
  ain_store_req_cleanup(req);
}

static void on_idle_timer(uv_timer_t *t) {
  ain_engine_t *e = t->data;
  if (e->stats_inflight) {
    return;
  }
  /* The live progress line shows counts; the idle check alone needs only whether any task is
   * open, which is a few index probes instead of a count of the whole table. */
  if (e->opts.progress) {
    ain_store_req_stats(&e->stats_req);
  } else {
    ain_store_req_open_work(&e->stats_req);
  }
  e->stats_req.data = e;
  e->stats_req.cb = on_stats_done;
  e->stats_inflight = 1;
  if (ain_store_submit(e->store, &e->stats_req) != 0) {
    e->stats_inflight = 0;
  }
}

static void on_shard_exited(uv_async_t *a) {
  ain_engine_t *e = a->data;
  if (atomic_load(&e->shards_alive) == 0) {
    ain_cluster_stop(e->cluster);
    ain_lua_registry_close(e->registry, NULL, NULL); /* no shard reads it any more */
    e->registry = NULL;
    uv_close((uv_handle_t *)&e->sigint, NULL);
    uv_close((uv_handle_t *)&e->sigterm, NULL);
    uv_close((uv_handle_t *)&e->sighup, NULL);
    uv_close((uv_handle_t *)&e->reap_timer, NULL);
    uv_close((uv_handle_t *)&e->idle_timer, NULL);
    uv_close((uv_handle_t *)&e->shard_exited, NULL);
    /* The main store handle may still watch its socket (Postgres keeps a uv_poll for NOTIFY,
     * re-armed after a reconnect): do not wait for the loop to run dry. */
    uv_stop(&e->loop);
  }
}

static void on_sighup(uv_signal_t *s, int signum) {
  ain_engine_t *e = s->data;
  ain_log_info("SIGHUP: reloading every policy");
  ain_lua_registry_reload(e->registry);
}

/* The script registry: every shard's Lua host takes its policy sources from it. */
static int start_registry(ain_engine_t *e, ain_err_t *err) {
  const ain_config_t *cfg = e->cfg;
  ain_lua_registry_opts_t ro = {.check = {.scripts_dir = cfg->scripts_dir,
                                          .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                                          .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                                          .timeout_ms = (uint64_t)cfg->lua.check_timeout_ms,
                                          .allow_ffi = cfg->lua.allow_ffi},
                                .store = e->store};
  return ain_lua_registry_new(&e->loop, &ro, &e->registry, err);
}

static int init_main(ain_engine_t *e, ain_err_t *err) {
  if (uv_loop_init(&e->loop) != 0) {
    return ain_err_set(err, AIN_EIO, "cannot create the main loop");
  }
  ain_store_config_t scfg;
  ain_engine_store_config(e->cfg, &scfg);
  int rc = ain_store_open(&scfg, &e->loop, &e->store, err);
  if (rc != 0) {
    return rc;
  }
  ain_store_req_t req;
  ain_store_req_migrate(&req);
  rc = ain_store_wait(e->store, &req);
  if (rc != 0) {
    *err = req.err;
    ain_store_req_cleanup(&req);
    return rc;
  }
  if (req.u.migrate.applied > 0) {
    ain_log_info("store migrated to version %d (%d migration(s) applied)", req.u.migrate.version,
                 req.u.migrate.applied);
  }
  ain_store_req_cleanup(&req);
  return 0;
}

static void store_closed(void *data) {
  *(int *)data = 1;
}

int ain_engine_run(const ain_config_t *cfg, const ain_run_opts_t *opts, ain_run_summary_t *summary,
                   ain_err_t *err) {
  ain_engine_t *e = calloc(1, sizeof *e);
  if (e == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  e->cfg = cfg;
  e->opts = *opts;
  e->started_ns = ain_mono_ns();
  ain_obs_enable(cfg->metrics.enabled);
  ain_progress_init(&e->progress);
  snprintf(e->node_id, sizeof e->node_id, "%s", cfg->node_id);
  int rc = init_main(e, err);
  if (rc == 0 && cfg->tracing.enabled) {
    char instance[200];
    snprintf(instance, sizeof instance, "%s/%d", e->node_id, (int)getpid());
    rc = ain_trace_start(&cfg->tracing, instance, &e->trace, err);
  }
  if (rc == 0) {
    rc = ain_privacy_start(cfg->secrets_dir, &e->privacy, err);
  }
  if (rc == 0) {
    rc = ain_publish_tokens_open(cfg, &e->tokens, err); /* reads the key: before any loop runs */
  }
  if (rc == 0) {
    rc = start_registry(e, err);
  }
  if (rc != 0) {
    goto fail_store;
  }
  e->nshards = cfg->shards;
  e->shards = calloc((size_t)e->nshards, sizeof *e->shards);
  if (e->shards == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "out of memory");
    goto fail_store;
  }
  uv_async_init(&e->loop, &e->shard_exited, on_shard_exited);
  e->shard_exited.data = e;
  uv_signal_init(&e->loop, &e->sigint);
  uv_signal_init(&e->loop, &e->sigterm);
  uv_signal_init(&e->loop, &e->sighup);
  e->sigint.data = e->sigterm.data = e->sighup.data = e;
  uv_signal_start(&e->sigint, on_signal, SIGINT);
  uv_signal_start(&e->sigterm, on_signal, SIGTERM);
  uv_signal_start(&e->sighup, on_sighup, SIGHUP);
  uv_timer_init(&e->loop, &e->reap_timer);
  uv_timer_init(&e->loop, &e->idle_timer);
  e->reap_timer.data = e->idle_timer.data = e;

  int started = 0;
  for (int i = 0; i < e->nshards; i++) {
    e->shards[i].engine = e;
    e->shards[i].index = i;
    atomic_fetch_add(&e->shards_alive, 1);
    rc = ain__shard_start(&e->shards[i]);
    if (rc != 0) {
      atomic_fetch_sub(&e->shards_alive, 1);
      *err = e->shards[i].start_err;
      ain_err_prefix(err, "starting shard %d", i);
      uv_thread_join(&e->shards[i].thread);
      uv_loop_close(&e->shards[i].loop);
      break;
    }
    started++;
  }
  if (rc != 0) {
    e->nshards = started; /* only the shards that run can be told to stop */
    begin_stop(e);
  } else {
    ain_obs_set(AIN_M_STEPS_CAPACITY, NULL, (double)e->nshards * cfg->queue.max_running);
    ain_log_info("engine started: node %s, %d shard(s), store %s", e->node_id, e->nshards,
                 ain_store_backend_name(e->store));
    uv_timer_start(&e->reap_timer, on_reap_timer, (uint64_t)cfg->queue.reap_interval_ms,
                   (uint64_t)cfg->queue.reap_interval_ms);
    /* STATS counts whole tables: only poll it when someone needs it (--until-idle, a TTY). */
    if (opts->until_idle || opts->progress) {
      uv_timer_start(&e->idle_timer, on_idle_timer, 0, opts->progress ? 250 : 200);
    }
    start_planner(e);
    start_retention(e);
    if (ain_tiering_start(&e->loop, e->store, cfg, &e->tiering, err) != 0) {
      ain_log_error("tiering not started: %s", err->msg);
      ain_err_clear(err);
    }
    start_analytics(e);
    if (opts->on_state != NULL) {
      opts->on_state(opts->state_data, AIN_ENGINE_RUNNING);
    }
    rc = ain__watchdog_start(e, err);
    if (rc != 0) {
      begin_stop(e);
    }
  }
  if (rc == 0) {
    ain_store_config_t scfg;
    ain_engine_store_config(cfg, &scfg);
    ain_cluster_opts_t co = {.node_id = e->node_id,
                             .shards = e->nshards,
                             .heartbeat_ms = cfg->cluster.heartbeat_ms,
                             .node_timeout_ms = cfg->cluster.node_timeout_ms,
                             .archive_interval_ms = cfg->cluster.archive_interval_ms,
                             .archive_after_ms = cfg->cluster.archive_after_ms,
                             .on_fenced = on_fenced,
                             .data = e,
                             .store_cfg = &scfg,
                             .poll_ms = cfg->queue.poll_ms,
                             .halted = &e->unhealthy,
                             .backlog_pause_at = cfg->review.backlog_pause_at,
                             .backlog_resume_at = cfg->review.backlog_resume_at,
                             .running = &e->steps_running,
                             .max_renders = ain__mstep_render_slots(cfg)};
    rc = start_openclaw(e, err);
    co.openclaw = e->openclaw;
    rc = rc != 0 ? rc : ain_cluster_start(&e->loop, e->store, &co, &e->cluster, err);
    if (rc != 0) {
      begin_stop(e);
    }
  }
  if (started > 0) {
    uv_run(&e->loop, UV_RUN_DEFAULT);
  } else {
    on_shard_exited(&e->shard_exited);
    uv_run(&e->loop, UV_RUN_DEFAULT);
  }
  for (int i = 0; i < started; i++) {
    uv_thread_join(&e->shards[i].thread);
    uv_loop_close(&e->shards[i].loop);
  }
  ain_cluster_free(e->cluster); /* records "stopped"; its timers close on the runs below */
  e->cluster = NULL;
  ain_openclaw_free(e->openclaw); /* a clean close: the gateway drops the node at once */
  e->openclaw = NULL;

  /* Final counts for the summary. */
  if (summary != NULL) {
    memset(summary, 0, sizeof *summary);
    ain_store_req_t req;
    ain_store_req_stats(&req);
    if (ain_store_wait(e->store, &req) == 0) {
      summary->store = req.u.stats.stats;
      e->last_stats = req.u.stats.stats;
    }
    ain_store_req_cleanup(&req);
    summary->wall_s = (double)(ain_mono_ns() - e->started_ns) / 1e9;
    summary->steps_run = atomic_load(&e->steps_run);
    summary->conflicts = atomic_load(&e->conflicts);
    summary->interrupted = e->interrupted;
  }
  if (opts->progress) {
    print_progress(e, 1);
  }
  ain_analytics_stop(e->analytics); /* a pull in progress finishes its current post */
  e->analytics = NULL;
  ain__watchdog_stop(e); /* it reads the shards; it kept the stop deadline until here */
  /* Every span producer (shards, planner) has stopped: flush for at most
   * tracing.shutdown_timeout_ms, after the watchdog, so its stop deadline (grace_ms + 1 s) never
   * turns a slow collector into exit code 75. */
  ain_trace_stop(e->trace);
  e->trace = NULL;
  for (int i = 0; i < started; i++) {
    uv_mutex_destroy(&e->shards[i].watch_mu);
  }
  free(e->shards);
fail_store:
  ain_trace_stop(e->trace); /* NULL unless the start failed after it */
  e->trace = NULL;
  ain_lua_registry_close(e->registry, NULL, NULL); /* NULL when on_shard_exited closed it */
  e->registry = NULL;
  if (e->store != NULL) {
    int closed = 0;
    ain_store_close(e->store, store_closed, &closed);
    while (!closed && uv_run(&e->loop, UV_RUN_ONCE) != 0) {
    }
  }
  uv_run(&e->loop, UV_RUN_DEFAULT);
  uv_loop_close(&e->loop);
  ain_privacy_free(e->privacy); /* after the loops: the planner's pool work borrowed it */
  ain_publish_tokens_free(e->tokens);
  free(e);
  return rc;
}
