/* The engine's watchdog: one thread with its own uv loop that looks at every shard twenty times a
 * second, for the two ways a process can stop answering while the main loop still beats.
 *
 * A wedge. The Lua host's count hook stops a policy that runs Lua too long, but a policy inside
 * one C function (a sort of an adversarial array, a search) never reaches the hook, and neither
 * does a built-in that blocks its loop. A shard whose outermost resume began more than
 * lua.cpu_ms + watchdog.grace_ms ago (lua/host.h, ain_lua_host_busy), or whose loop has not run
 * its tick timer for that plus store.busy_timeout_ms, is wedged: it will not come back and cannot
 * be interrupted. Crash-only: the node stops heartbeating (engine->unhealthy), records the wedge
 * against the task the shard was running (store WEDGE, fenced by the step's token, on a store
 * handle of this thread's own, bounded by watchdog.record_timeout_ms and an alarm behind it, so a
 * dead database cannot keep a wedged node alive) and exits with AIN_EXIT_WEDGED. The store
 * returns the task to ready at once, or dead-letters it as a poison pill (EPOISON) once it has
 * wedged watchdog.poison_after shards, marks this node dead and fences its other leases.
 *
 * The stop deadline. After SIGINT/SIGTERM the shards get shutdown.grace_ms; a wedged shard never
 * stops, so the main loop would wait forever. At grace_ms + 0.5 s a shard whose loop no longer
 * turns makes the process exit anyway (AIN_EXIT_STOP_DEADLINE), so it ends before grace_ms + 1 s;
 * shards still turning (waiting for a cancelled step's children to die) get until grace_ms + 30 s.
 * What was accepted is committed; the leases left are reaped by the next engine.
 *
 * Relies on: sched/internal.h (shards' watch_mu, tick_ns, steps), lua/host.h, store/store.h,
 * core/log.h, libuv, POSIX alarm(). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "sched/internal.h"

#define WD_PERIOD_MS 50
/* The deadline is set this long after grace_ms: with the check period and the exit itself, the
 * process is gone before grace_ms + 1 s. */
#define WD_STOP_SLACK_MS 500
/* At the deadline, a loop that has not ticked (every AIN_SHARD_TICK_MS) for this long is stuck;
 * shards that still turn get WD_DRAIN_MS more to finish cancelling. */
#define WD_STUCK_MS 300
#define WD_DRAIN_MS 30000

struct ain__watchdog {
  ain_engine_t *e;
  uv_thread_t thread;
  uv_loop_t loop;
  uv_timer_t check;
  uv_timer_t record_timer;
  uv_async_t stop;
  _Atomic uint64_t deadline_ns; /* 0 = none */
  uint64_t lua_limit_ns;        /* one resume */
  uint64_t loop_limit_ns;       /* one loop turn */
  int fired;
  ain_store_t *store;
  ain_store_req_t req;
  /* the wedge being recorded */
  char task_id[64];
  char what[260];
  char owner[256];
  char node[256]; /* "node_id/pid": the owner without "/shard-N" */
  char actor[300];
  char error[1100];
  int64_t token;
  int64_t elapsed_ms;
};

static const ain_config_t *cfg_of(const ain__watchdog_t *w) {
  return w->e->cfg;
}

/* ---- exiting ------------------------------------------------------------------------------ */

static void on_alarm(int sig) {
  (void)sig;
  _exit(AIN_EXIT_WEDGED); /* async-signal-safe: the backstop behind the record timeout */
}

static void exit_wedged(ain__watchdog_t *w, const char *how) {
  ain_log_ctx_t lc = {.task_id = w->task_id[0] ? w->task_id : NULL,
                      .actor = w->owner,
                      .state_version = w->task_id[0] ? w->token : -1};
  ain_log(AIN_LOG_ERROR, &lc, "watchdog: %s; exiting with code %d (crash-only)", how,
          AIN_EXIT_WEDGED);
  _exit(AIN_EXIT_WEDGED);
}

static void on_recorded(ain_store_req_t *req) {
  ain__watchdog_t *w = req->data;
  char how[1400];
  if (req->status != 0) {
    snprintf(how, sizeof how, "recording the wedge failed (%s): the task's lease expires and the "
             "reaper retries it", req->err.msg);
  } else if (!req->u.wedge.applied) {
    snprintf(how, sizeof how, "wedge %d of the task recorded; it had already moved on (lease "
             "expired, cancelled), so it is left as it is", req->u.wedge.wedges);
  } else if (req->u.wedge.new_status == AIN_TASK_DEAD) {
    snprintf(how, sizeof how, "wedge %d recorded: the task is dead-lettered (%s); %d other "
             "lease(s) of this node fenced", req->u.wedge.wedges,
             req->u.wedge.wedges >= req->u.wedge.poison_after ? "EPOISON: a poison pill"
                                                               : "no attempts left",
             req->u.wedge.fenced);
  } else {
    snprintf(how, sizeof how, "wedge %d of %d recorded: the task is ready again for another "
             "node (at %d it is dead-lettered as a poison pill); %d other lease(s) of this node "
             "fenced", req->u.wedge.wedges, req->u.wedge.poison_after,
             req->u.wedge.poison_after, req->u.wedge.fenced);
  }
  exit_wedged(w, how);
}

static void on_record_timeout(uv_timer_t *t) {
  ain__watchdog_t *w = t->data;
  char how[300];
  snprintf(how, sizeof how, "recording the wedge took longer than watchdog.record_timeout_ms "
           "(%lld ms): giving up; the task's lease expires and the reaper retries it",
           (long long)cfg_of(w)->watchdog.record_timeout_ms);
  exit_wedged(w, how);
}

/* Records the wedge on a store handle of this thread's loop, then exits (on_recorded). */
static void record_and_exit(ain__watchdog_t *w) {
  const ain_config_t *cfg = cfg_of(w);
  /* Behind the timer: a store call that blocks this very thread (a SQLite lock) still ends. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)((cfg->watchdog.record_timeout_ms + 999) / 1000 + 1));
  if (w->task_id[0] == '\0') {
    exit_wedged(w, "no task to record the wedge against (the shard was stuck outside a policy)");
  }
  ain_store_config_t scfg;
  ain_engine_store_config(cfg, &scfg);
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_store_open(&scfg, &w->loop, &w->store, &err) != 0) {
    char how[1200];
    snprintf(how, sizeof how, "cannot open the store to record the wedge: %s", err.msg);
    exit_wedged(w, how);
  }
  uv_timer_start(&w->record_timer, on_record_timeout, (uint64_t)cfg->watchdog.record_timeout_ms,
                 0);
  snprintf(w->error, sizeof w->error,
           "EWEDGED: %s held %s for %lld ms in one call (a C function the budgets cannot stop; "
           "limit %lld ms)",
           w->what, w->owner, (long long)w->elapsed_ms,
           (long long)(w->lua_limit_ns / 1000000));
  snprintf(w->actor, sizeof w->actor, "%s/watchdog", w->node);
  ain_store_req_wedge(&w->req, w->task_id, w->token, w->owner, w->error, w->elapsed_ms,
                      (int)cfg->watchdog.poison_after, w->node);
  w->req.data = w;
  w->req.cb = on_recorded;
  w->req.actor = w->actor;
  if (ain_store_submit(w->store, &w->req) != 0) {
    on_recorded(&w->req);
  }
}

/* ---- watching ----------------------------------------------------------------------------- */

/* Called with sh->watch_mu held: copies what the shard runs, then acts on it unlocked. */
static void fire(ain__watchdog_t *w, ain_shard_t *sh, const ain_lua_busy_t *b, uint64_t stuck_ns,
                 int in_lua, int loop_stalled) {
  w->fired = 1;
  uv_timer_stop(&w->check);
  atomic_store(&w->e->unhealthy, 1); /* no heartbeat from now on (cluster.c) */
  snprintf(w->owner, sizeof w->owner, "%s", sh->owner);
  snprintf(w->node, sizeof w->node, "%s", sh->owner);
  char *slash = strrchr(w->node, '/');
  if (slash != NULL) {
    *slash = '\0'; /* "node/pid/shard-N" -> "node/pid" */
  }
  w->elapsed_ms = (int64_t)(stuck_ns / 1000000);
  if (in_lua) {
    snprintf(w->what, sizeof w->what, "%s", b->what);
    /* The step of that task: its token fences the wedge. The list is newest first. */
    for (ain_step_t *s = sh->steps; s != NULL; s = s->next) {
      if (b->task_id[0] != '\0' && strcmp(s->task.id, b->task_id) == 0) {
        snprintf(w->task_id, sizeof w->task_id, "%s", s->task.id);
        w->token = s->token;
        break;
      }
    }
  } else {
    snprintf(w->what, sizeof w->what, "its loop (outside any policy)");
  }
  uv_mutex_unlock(&sh->watch_mu);
  ain_log_ctx_t lc = {.task_id = w->task_id[0] ? w->task_id : NULL,
                      .actor = w->owner,
                      .state_version = w->task_id[0] ? w->token : -1};
  ain_log(AIN_LOG_ERROR, &lc,
          "watchdog: shard-%d wedged: %s has not come back for %lld ms (limit %lld ms: lua.cpu_ms "
          "%lld + watchdog.grace_ms%s); the node is unhealthy, stops heartbeating and exits",
          sh->index, in_lua ? w->what : "its loop", (long long)w->elapsed_ms,
          (long long)((loop_stalled ? w->loop_limit_ns : w->lua_limit_ns) / 1000000),
          (long long)cfg_of(w)->lua.cpu_ms, loop_stalled ? " + store.busy_timeout_ms" : "");
  record_and_exit(w);
}

static void on_stop_deadline(ain__watchdog_t *w) {
  ain_engine_t *e = w->e;
  for (int i = 0; i < e->nshards; i++) {
    ain_shard_t *sh = &e->shards[i];
    uv_mutex_lock(&sh->watch_mu);
    ain_lua_busy_t b;
    if (sh->watch_live && ain_lua_host_busy(sh->lua, &b) != 0) {
      ain_log_ctx_t lc = {.task_id = b.task_id[0] ? b.task_id : NULL, .actor = sh->owner,
                          .state_version = -1};
      ain_log(AIN_LOG_ERROR, &lc, "shutdown: shard-%d is still inside %s after %lld ms", i,
              b.what, (long long)((ain_mono_ns() - b.since_ns) / 1000000));
    }
    uv_mutex_unlock(&sh->watch_mu);
  }
  ain_log_error("shutdown: the shards did not stop after shutdown.grace_ms (%lld ms): "
                "exiting without them with code %d (what was accepted is committed; their leases "
                "are reaped)",
                (long long)e->cfg->shutdown.grace_ms, AIN_EXIT_STOP_DEADLINE);
  _exit(AIN_EXIT_STOP_DEADLINE);
}

static void on_check(uv_timer_t *t) {
  ain__watchdog_t *w = t->data;
  ain_engine_t *e = w->e;
  uint64_t now = ain_mono_ns();
  uint64_t deadline = atomic_load(&w->deadline_ns);
  if (deadline != 0 && now >= deadline) {
    /* A shard whose loop no longer turns (a wedged step, a long Lua resume) never stops: exit
     * now. Shards that still turn are draining (a cancelled step waits for its child to exit
     * after SIGTERM/SIGKILL), as is a main thread writing its last beat: they get until the
     * hard deadline. */
    int stuck = 0;
    for (int i = 0; i < e->nshards; i++) {
      uint64_t tick = atomic_load(&e->shards[i].tick_ns);
      stuck |= tick != 0 && now > tick && now - tick > (uint64_t)WD_STUCK_MS * 1000000u;
    }
    if (stuck || now >= deadline + (uint64_t)WD_DRAIN_MS * 1000000u) {
      on_stop_deadline(w);
    }
  }
  for (int i = 0; i < e->nshards && !w->fired; i++) {
    ain_shard_t *sh = &e->shards[i];
    uv_mutex_lock(&sh->watch_mu);
    if (!sh->watch_live) {
      uv_mutex_unlock(&sh->watch_mu);
      continue;
    }
    ain_lua_busy_t b;
    uint64_t since = ain_lua_host_busy(sh->lua, &b);
    uint64_t tick = atomic_load(&sh->tick_ns);
    if (since != 0 && now > since && now - since > w->lua_limit_ns) {
      fire(w, sh, &b, now - since, 1, 0); /* unlocks */
    } else if (tick != 0 && now > tick && now - tick > w->loop_limit_ns) {
      fire(w, sh, &b, now - tick, since != 0, 1); /* unlocks */
    } else {
      uv_mutex_unlock(&sh->watch_mu);
    }
  }
}

static void on_stop(uv_async_t *a) {
  ain__watchdog_t *w = a->data;
  uv_close((uv_handle_t *)&w->check, NULL);
  uv_close((uv_handle_t *)&w->record_timer, NULL);
  uv_close((uv_handle_t *)&w->stop, NULL);
}

static void watchdog_main(void *arg) {
  ain__watchdog_t *w = arg;
  uv_timer_start(&w->check, on_check, WD_PERIOD_MS, WD_PERIOD_MS);
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

int ain__watchdog_start(ain_engine_t *e, ain_err_t *err) {
  const ain_config_t *cfg = e->cfg;
  ain__watchdog_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "watchdog: out of memory");
  }
  w->e = e;
  int64_t grace = cfg->watchdog.grace_ms > 0 ? cfg->watchdog.grace_ms
                                             : (cfg->lua.cpu_ms / 2 > 1000 ? cfg->lua.cpu_ms / 2
                                                                           : 1000);
  w->lua_limit_ns = (uint64_t)(cfg->lua.cpu_ms + grace) * 1000000u;
  /* A turn may also wait for the SQLite write lock (store.busy_timeout_ms) before its Lua. */
  w->loop_limit_ns = w->lua_limit_ns + (uint64_t)cfg->store.busy_timeout_ms * 1000000u;
  if (uv_loop_init(&w->loop) != 0) {
    free(w);
    return ain_err_set(err, AIN_EIO, "watchdog: cannot create its loop");
  }
  uv_timer_init(&w->loop, &w->check);
  uv_timer_init(&w->loop, &w->record_timer);
  uv_async_init(&w->loop, &w->stop, on_stop);
  w->check.data = w->record_timer.data = w->stop.data = w;
  if (uv_thread_create(&w->thread, watchdog_main, w) != 0) {
    uv_close((uv_handle_t *)&w->check, NULL);
    uv_close((uv_handle_t *)&w->record_timer, NULL);
    uv_close((uv_handle_t *)&w->stop, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    free(w);
    return ain_err_set(err, AIN_EIO, "watchdog: cannot start its thread");
  }
  e->watchdog = w;
  int64_t limit_ms = (int64_t)(w->lua_limit_ns / 1000000);
  ain_log_info("watchdog: a shard stuck in one call for more than %lld ms exits the node "
               "(code %d)", (long long)limit_ms, AIN_EXIT_WEDGED);
  if (limit_ms >= cfg->queue.lease_ms * 2 / 3) {
    ain_log_warn("watchdog: its limit (%lld ms) is not below two thirds of queue.lease_ms (%lld "
                 "ms): a wedged step's lease may expire first, and the wedge is then not counted "
                 "against its task",
                 (long long)limit_ms, (long long)cfg->queue.lease_ms);
  }
  return 0;
}

void ain__watchdog_stop_requested(ain_engine_t *e) {
  if (e->watchdog == NULL) {
    return;
  }
  uint64_t at = ain_mono_ns() + (uint64_t)(e->cfg->shutdown.grace_ms + WD_STOP_SLACK_MS) * 1000000u;
  uint64_t none = 0;
  atomic_compare_exchange_strong(&e->watchdog->deadline_ns, &none, at);
}

void ain__watchdog_stop(ain_engine_t *e) {
  ain__watchdog_t *w = e->watchdog;
  if (w == NULL) {
    return;
  }
  uv_async_send(&w->stop);
  uv_thread_join(&w->thread);
  uv_loop_close(&w->loop);
  free(w);
  e->watchdog = NULL;
}
