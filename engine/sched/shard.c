/* A shard: one thread with its own uv loop, Lua host and store handle. It claims tasks in batches
 * while it has capacity, runs them as steps, and commits every step that ended during one loop
 * iteration in a single finish batch (group commit), fenced by each step's lease token. Running steps
 * extend their leases on a timer; a step whose lease was taken over is abandoned, never committed.
 * A faster read-only check (the cancel watch) notices a cancelled task within cancel_check_ms, so
 * `ain cancel` stops its step (and kills its children) at once, not at the next extension. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "sched/internal.h"

static void pump(ain_shard_t *sh);
static void maybe_exit(ain_shard_t *sh);
static void on_poll_timer(uv_timer_t *t);

static const ain_config_t *cfg_of(ain_shard_t *sh) {
  return sh->engine->cfg;
}

/* Exponential backoff with "equal jitter": half fixed, half random, capped. */
static int64_t retry_delay_ms(ain_shard_t *sh, int attempts) {
  const ain_config_t *cfg = cfg_of(sh);
  int64_t d = cfg->queue.retry_base_ms;
  for (int i = 1; i < attempts && d < cfg->queue.retry_max_ms; i++) {
    d *= 2;
  }
  if (d > cfg->queue.retry_max_ms) {
    d = cfg->queue.retry_max_ms;
  }
  int64_t half = d / 2;
  return half + (half > 0 ? (int64_t)(ain_random_u64() % (uint64_t)(half + 1)) : 0);
}

void ain__shard_link_step(ain_shard_t *sh, ain_step_t *step) {
  uv_mutex_lock(&sh->watch_mu);
  step->next = sh->steps;
  if (sh->steps) {
    sh->steps->prev = step;
  }
  sh->steps = step;
  sh->running++;
  atomic_fetch_add(&sh->engine->steps_running, 1);
  uv_mutex_unlock(&sh->watch_mu);
  ain_obs_add(AIN_M_STEPS_RUNNING, NULL, 1);
}

static void unlink_step(ain_shard_t *sh, ain_step_t *step) {
  uv_mutex_lock(&sh->watch_mu);
  if (step->prev) {
    step->prev->next = step->next;
  } else {
    sh->steps = step->next;
  }
  if (step->next) {
    step->next->prev = step->prev;
  }
  sh->running--;
  atomic_fetch_sub(&sh->engine->steps_running, 1);
  uv_mutex_unlock(&sh->watch_mu);
  ain_obs_add(AIN_M_STEPS_RUNNING, NULL, -1);
}

/* ---- finishing ------------------------------------------------------------------------------ */

static void flush_finishes(ain_shard_t *sh);

/* The metrics of one committed (or refused) attempt: its outcome by status, its run time, a
 * retry or a dead letter. */
static void count_outcome(const ain_step_t *step, const ain_finish_item_t *it, int st) {
  const char *type = step->task.type != NULL ? step->task.type : "";
  const char *status = st == AIN_ECONFLICT ? "fenced"
                       : it->kind == AIN_FINISH_RELEASE ? "released"
                                                        : ain_task_status_name(it->new_status);
  if (st != 0 && st != AIN_ECONFLICT) {
    return; /* not committed: the reaper will count it */
  }
  const char *ts[2] = {type, status};
  ain_obs_inc(AIN_M_TASKS_FINISHED, ts);
  const char *t[1] = {type};
  ain_obs_observe(AIN_M_STEP_DURATION, t, (double)(ain_mono_ns() - step->started_ns) / 1e9);
  if (st == AIN_ECONFLICT) {
    const char *op[1] = {"finish"};
    ain_obs_inc(AIN_M_FENCED, op);
  } else if (it->kind == AIN_FINISH_RETRY && it->new_status == AIN_TASK_READY) {
    ain_obs_inc(AIN_M_TASK_RETRIES, t);
  } else if (it->new_status == AIN_TASK_DEAD) {
    ain_obs_inc(AIN_M_TASK_DEAD_LETTERS, t);
  }
}

static void on_finish_done(ain_store_req_t *req) {
  ain_shard_t *sh = req->data;
  sh->finish_inflight = 0;
  for (size_t i = 0; i < sh->nitems; i++) {
    ain_step_t *step = sh->items_steps[i];
    ain_finish_item_t *it = &sh->items[i];
    int st = req->status != 0 ? req->status : it->status;
    count_outcome(step, it, st);
    if (st == 0 && it->new_status == AIN_TASK_DEAD && step->task.handler != NULL &&
        strcmp(step->task.handler, "publish") == 0) {
      ain__publish_compensate(sh, step); /* compensate.c: the video's other posts */
    }
    if (st == AIN_ECONFLICT) {
      ain__step_span_end(step, "fenced", "ELEASE: the result was not applied: the lease was "
                                         "taken over or the task was cancelled");
    } else if (st != 0) {
      ain__step_span_end(step, "commit_failed", req->status ? req->err.msg : ain_strerror(st));
    } else {
      ain__step_span_end(step,
                         it->kind == AIN_FINISH_RELEASE ? "released"
                                                        : ain_task_status_name(it->new_status),
                         it->kind == AIN_FINISH_RETRY || it->kind == AIN_FINISH_FAIL ? step->error
                                                                                     : NULL);
    }
    if (st == AIN_ECONFLICT) {
      atomic_fetch_add(&sh->engine->conflicts, 1);
      ain_log_ctx_t lc = ain_step_log_ctx(step);
      ain_log(AIN_LOG_WARN, &lc,
              "result of step %s not applied: its lease was taken over or it was cancelled",
              step->task.step ? step->task.step : step->task.type);
    } else if (st != 0) {
      /* The commit itself failed: the lease will expire and the reaper retries the task. */
      ain_log_ctx_t lc = ain_step_log_ctx(step);
      ain_log(AIN_LOG_ERROR, &lc, "committing the step's outcome failed: %s",
              req->status ? req->err.msg : ain_strerror(st));
    }
    atomic_fetch_add(&sh->engine->steps_run, 1);
    unlink_step(sh, step);
    ain__step_free(step);
  }
  ain_store_req_cleanup(req);
  free(sh->items);
  free(sh->items_steps);
  sh->items = NULL;
  sh->items_steps = NULL;
  sh->nitems = 0;
  if (sh->nended > 0) {
    flush_finishes(sh);
  }
  pump(sh);
  maybe_exit(sh);
}

static void flush_finishes(ain_shard_t *sh) {
  if (sh->finish_inflight || sh->nended == 0) {
    return;
  }
  size_t n = sh->nended;
  sh->items = calloc(n, sizeof *sh->items);
  sh->items_steps = calloc(n, sizeof *sh->items_steps);
  if (sh->items == NULL || sh->items_steps == NULL) {
    abort();
  }
  int64_t now = ain_now_ms();
  for (size_t i = 0; i < n; i++) {
    ain_step_t *step = sh->ended[i];
    ain_finish_item_t *it = &sh->items[i];
    sh->items_steps[i] = step;
    it->task_id = step->task.id;
    it->state_version = step->token;
    it->kind = step->kind;
    it->result = step->result;
    it->error = step->error;
    it->detail = step->detail;
    it->spawn = step->spawn;
    if (step->kind == AIN_FINISH_RETRY) {
      it->retry_at = now + retry_delay_ms(sh, step->task.attempts);
    } else if (step->kind == AIN_FINISH_PARK) {
      it->retry_at = step->park_until;
    }
  }
  sh->nitems = n;
  sh->nended = 0;
  ain_store_req_finish(&sh->finish_req, sh->items, n);
  sh->finish_req.data = sh;
  sh->finish_req.cb = on_finish_done;
  sh->finish_req.actor = sh->owner;
  sh->finish_inflight = 1;
  int rc = ain_store_submit(sh->store, &sh->finish_req);
  if (rc != 0) {
    sh->finish_req.status = rc;
    on_finish_done(&sh->finish_req);
  }
}

static void on_flush_idle(uv_idle_t *h) {
  uv_idle_stop(h);
  flush_finishes(h->data);
}

void ain__shard_step_ended(ain_shard_t *sh, ain_step_t *step) {
  if (step->abandoned) { /* lease lost: nothing to commit, just drop it */
    ain__step_span_end(step, "abandoned", "ELEASE: the lease was lost; the step was abandoned");
    unlink_step(sh, step);
    ain__step_free(step);
    pump(sh);
    maybe_exit(sh);
    return;
  }
  if (sh->nended == sh->cap_ended) {
    size_t cap = sh->cap_ended ? sh->cap_ended * 2 : 64;
    ain_step_t **e = realloc(sh->ended, cap * sizeof *e);
    if (e == NULL) {
      abort();
    }
    sh->ended = e;
    sh->cap_ended = cap;
  }
  sh->ended[sh->nended++] = step;
  /* Commit after this loop iteration, so every step that ends in it shares one transaction. */
  uv_idle_start(&sh->flush_idle, on_flush_idle);
}

/* ---- claiming ------------------------------------------------------------------------------- */

static void on_claim_done(ain_store_req_t *req) {
  ain_shard_t *sh = req->data;
  sh->claim_inflight = 0;
  size_t n = req->u.claim.ntasks;
  int asked = req->u.claim.max;
  if (req->status != 0) {
    ain_log(AIN_LOG_ERROR, NULL, "%s: claiming tasks failed: %s", sh->owner, req->err.msg);
  }
  /* A wedged node starts nothing more; what it claimed stays leased by it, a dead node, so the
   * next heartbeat of any node fences the leases and its reaper hands the tasks out. */
  int64_t now = ain_now_ms();
  for (size_t i = 0; i < n; i++) {
    const ain_task_t *t = &req->u.claim.tasks[i];
    const char *type[1] = {t->type != NULL ? t->type : ""};
    ain_obs_inc(AIN_M_TASKS_CLAIMED, type);
    /* Due since run_at (its enqueue, or its retry's backoff). A DAG step's first attempt is left
     * out: its run_at is the DAG's creation, before its dependencies ran. */
    if (t->step == NULL || t->attempts > 1) {
      ain_obs_observe(AIN_M_QUEUE_LATENCY, type,
                      now > t->run_at ? (double)(now - t->run_at) / 1000.0 : 0);
    }
  }
  for (size_t i = 0; i < n && !atomic_load(&sh->engine->unhealthy); i++) {
    ain__step_start(sh, &req->u.claim.tasks[i]);
  }
  ain_store_req_cleanup(req);
  if (sh->stopping) {
    maybe_exit(sh);
    return;
  }
  if ((int)n == asked || sh->claim_again) {
    sh->claim_again = 0;
    pump(sh);
  } else if (!uv_is_active((uv_handle_t *)&sh->poll_timer)) {
    /* Idle: wait for a wake-up from another shard/node, or poll as a fallback. */
    uv_timer_start(&sh->poll_timer, on_poll_timer, (uint64_t)cfg_of(sh)->queue.poll_ms, 0);
  }
}

static void pump(ain_shard_t *sh) {
  /* A wedged node (watchdog.c) is about to exit: claiming now would only take the wedged task
   * back from the queue it was just returned to. */
  if (sh->stopping || sh->closing || atomic_load(&sh->engine->unhealthy)) {
    return;
  }
  if (sh->claim_inflight) {
    sh->claim_again = 1;
    return;
  }
  int avail = cfg_of(sh)->queue.max_running - sh->running;
  if (avail <= 0) {
    return; /* a finishing step calls pump again */
  }
  int n = avail < cfg_of(sh)->queue.claim_batch ? avail : cfg_of(sh)->queue.claim_batch;
  uv_timer_stop(&sh->poll_timer);
  ain_store_req_claim(&sh->claim_req, sh->owner, n, cfg_of(sh)->queue.lease_ms);
  sh->claim_req.data = sh;
  sh->claim_req.cb = on_claim_done;
  sh->claim_req.actor = sh->owner;
  sh->claim_inflight = 1;
  int rc = ain_store_submit(sh->store, &sh->claim_req);
  if (rc != 0) {
    sh->claim_inflight = 0;
    ain_log(AIN_LOG_ERROR, NULL, "%s: cannot submit a claim: %s", sh->owner, ain_strerror(rc));
    uv_timer_start(&sh->poll_timer, on_poll_timer, (uint64_t)cfg_of(sh)->queue.poll_ms, 0);
  }
}

static void on_poll_timer(uv_timer_t *t) {
  pump(t->data);
}

static void on_wakeup(void *data) {
  pump(data);
}

/* ---- lease extension ------------------------------------------------------------------------ */

static void on_extend_done(ain_store_req_t *req) {
  ain_shard_t *sh = req->data;
  sh->extend_inflight = 0;
  for (size_t i = 0; i < sh->next_items; i++) {
    ain_step_t *step = sh->ext_steps[i];
    ain_extend_item_t *it = &sh->ext_items[i];
    if (req->status == 0 && it->status == 0) {
      uv_mutex_lock(&sh->watch_mu); /* the watchdog fences a wedge with the token */
      step->token = it->new_version;
      uv_mutex_unlock(&sh->watch_mu);
      step->lease_until = it->lease_until;
    } else if (req->status == 0 && it->status == AIN_ECONFLICT && !step->ended) {
      const char *op[1] = {"extend"};
      ain_obs_inc(AIN_M_FENCED, op);
      /* Someone else owns the task now (reaped after a pause, or cancelled): stop working on it
       * and never commit its outcome. */
      step->abandoned = 1;
      ain_log_ctx_t lc = ain_step_log_ctx(step);
      ain_log(AIN_LOG_WARN, &lc, "lease lost; abandoning the step");
      ain__step_cancel(step, AIN_ELEASE, "lease lost");
    } else if (req->status == 0 && it->status == AIN_ECONFLICT) {
      step->abandoned = 1;
    }
  }
  ain_store_req_cleanup(req);
  free(sh->ext_items);
  free(sh->ext_steps);
  sh->ext_items = NULL;
  sh->ext_steps = NULL;
  sh->next_items = 0;
  maybe_exit(sh);
}

static void on_extend_timer(uv_timer_t *t) {
  ain_shard_t *sh = t->data;
  /* Never with a watch in flight: its answer would compare against versions this bumps. */
  if (sh->extend_inflight || sh->watch_inflight || sh->running == 0) {
    return;
  }
  int64_t now = ain_now_ms(), lease = cfg_of(sh)->queue.lease_ms;
  size_t n = 0;
  for (ain_step_t *s = sh->steps; s; s = s->next) {
    if (!s->ended && s->lease_until - now < (lease * 2) / 3) {
      n++;
    }
  }
  if (n == 0) {
    return;
  }
  sh->ext_items = calloc(n, sizeof *sh->ext_items);
  sh->ext_steps = calloc(n, sizeof *sh->ext_steps);
  if (!sh->ext_items || !sh->ext_steps) {
    abort();
  }
  size_t i = 0;
  for (ain_step_t *s = sh->steps; s && i < n; s = s->next) {
    if (!s->ended && s->lease_until - now < (lease * 2) / 3) {
      sh->ext_steps[i] = s;
      sh->ext_items[i].task_id = s->task.id;
      sh->ext_items[i].state_version = s->token;
      sh->ext_items[i].lease_until = now + lease;
      i++;
    }
  }
  sh->next_items = n;
  ain_store_req_extend(&sh->extend_req, sh->ext_items, n);
  sh->extend_req.data = sh;
  sh->extend_req.cb = on_extend_done;
  sh->extend_req.actor = sh->owner;
  sh->extend_inflight = 1;
  if (ain_store_submit(sh->store, &sh->extend_req) != 0) {
    sh->extend_inflight = 0;
    free(sh->ext_items);
    free(sh->ext_steps);
    sh->ext_items = NULL;
    sh->ext_steps = NULL;
    sh->next_items = 0;
  }
}

/* ---- cancel watch --------------------------------------------------------------------------- */

/* 1 if step is still linked into the shard (a step can end and be freed while the check runs). */
static int step_alive(ain_shard_t *sh, const ain_step_t *step) {
  for (ain_step_t *s = sh->steps; s; s = s->next) {
    if (s == step) {
      return 1;
    }
  }
  return 0;
}

static void on_watch_done(ain_store_req_t *req) {
  ain_shard_t *sh = req->data;
  sh->watch_inflight = 0;
  for (size_t i = 0; req->status == 0 && i < sh->nwatch; i++) {
    ain_step_t *step = sh->watch_steps[i];
    ain_extend_item_t *it = &sh->watch_items[i];
    /* Only a step we still run under the very token we asked about: an extension that landed
     * meanwhile changed the token, and its own answer decides. */
    if (it->status != AIN_ECONFLICT || !step_alive(sh, step) || step->ended ||
        step->token != it->state_version) {
      continue;
    }
    step->abandoned = 1;
    ain_log_ctx_t lc = ain_step_log_ctx(step);
    ain_log(AIN_LOG_WARN, &lc, "task cancelled or taken over; stopping the step");
    ain__step_cancel(step, AIN_ECANCELLED, "the task was cancelled or its lease taken over");
  }
  ain_store_req_cleanup(req);
  free(sh->watch_items);
  free(sh->watch_steps);
  sh->watch_items = NULL;
  sh->watch_steps = NULL;
  sh->nwatch = 0;
  maybe_exit(sh);
}

static void on_watch_timer(uv_timer_t *t) {
  ain_shard_t *sh = t->data;
  if (sh->watch_inflight || sh->extend_inflight || sh->running == 0 || sh->closing) {
    return;
  }
  size_t n = 0;
  for (ain_step_t *s = sh->steps; s; s = s->next) {
    n += !s->ended;
  }
  if (n == 0) {
    return;
  }
  sh->watch_items = calloc(n, sizeof *sh->watch_items);
  sh->watch_steps = calloc(n, sizeof *sh->watch_steps);
  if (!sh->watch_items || !sh->watch_steps) {
    abort();
  }
  size_t i = 0;
  for (ain_step_t *s = sh->steps; s && i < n; s = s->next) {
    if (!s->ended) {
      sh->watch_steps[i] = s;
      sh->watch_items[i].task_id = s->task.id; /* valid while the step is linked; see step_alive */
      sh->watch_items[i].state_version = s->token;
      i++;
    }
  }
  sh->nwatch = n;
  ain_store_req_lease_check(&sh->watch_req, sh->watch_items, n);
  sh->watch_req.data = sh;
  sh->watch_req.cb = on_watch_done;
  sh->watch_req.actor = sh->owner;
  sh->watch_inflight = 1;
  if (ain_store_submit(sh->store, &sh->watch_req) != 0) {
    sh->watch_inflight = 0;
    free(sh->watch_items);
    free(sh->watch_steps);
    sh->watch_items = NULL;
    sh->watch_steps = NULL;
    sh->nwatch = 0;
  }
}

/* ---- stopping ------------------------------------------------------------------------------- */

static void on_grace_over(uv_timer_t *t) {
  ain_shard_t *sh = t->data;
  sh->graceful_over = 1;
  /* Steps still running give their task back: cancelled steps end as RELEASE, not as a failure. */
  for (ain_step_t *s = sh->steps; s; s = s->next) {
    if (!s->ended) {
      ain__step_cancel(s, AIN_ESHUTDOWN, "engine shutting down");
      if (s->kind == AIN_FINISH_RETRY) {
        s->kind = AIN_FINISH_RELEASE;
      }
    }
  }
}

static void on_control(uv_async_t *a) {
  ain_shard_t *sh = a->data;
  if (sh->stopping) {
    return;
  }
  sh->stopping = 1;
  uv_timer_stop(&sh->poll_timer);
  if (sh->running > 0) {
    uv_timer_start(&sh->grace_timer, on_grace_over, (uint64_t)cfg_of(sh)->shutdown.grace_ms, 0);
  }
  maybe_exit(sh);
}

static void on_store_closed(void *data) {
  ain_shard_t *sh = data;
  sh->store = NULL;
}

static void close_walk(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) {
    uv_close(h, NULL);
  }
}

static void maybe_exit(ain_shard_t *sh) {
  if (!sh->stopping || sh->closing || sh->running > 0 || sh->claim_inflight ||
      sh->finish_inflight || sh->extend_inflight || sh->watch_inflight || sh->nended > 0) {
    return;
  }
  sh->closing = 1;
  uv_timer_stop(&sh->grace_timer);
  uv_timer_stop(&sh->poll_timer);
  uv_timer_stop(&sh->extend_timer);
  uv_timer_stop(&sh->tick_timer);
  atomic_store(&sh->tick_ns, 0); /* closing: no more turns to watch for */
  uv_close((uv_handle_t *)&sh->tick_timer, NULL);
  uv_timer_stop(&sh->watch_timer);
  uv_close((uv_handle_t *)&sh->poll_timer, NULL);
  uv_close((uv_handle_t *)&sh->extend_timer, NULL);
  uv_close((uv_handle_t *)&sh->watch_timer, NULL);
  uv_close((uv_handle_t *)&sh->grace_timer, NULL);
  uv_close((uv_handle_t *)&sh->flush_idle, NULL);
  uv_close((uv_handle_t *)&sh->control, NULL);
  ain_store_close(sh->store, on_store_closed, sh);
}

/* Proof of life for the watchdog: a loop that runs its timers is not stuck in a callback. */
static void on_tick(uv_timer_t *t) {
  ain_shard_t *sh = t->data;
  atomic_store(&sh->tick_ns, ain_mono_ns());
}

void ain__shard_request_stop(ain_shard_t *sh) {
  uv_async_send(&sh->control);
}

/* ---- thread ------------------------------------------------------------------------------------ */

/* Steps yield the CPU to the loops that answer people (the API's, the main loop): when the cores
 * are short, a request waits for a shard's time slice otherwise (issue 10's p99 during a drain).
 * Per thread on Linux; lowering one's own priority needs no privilege; failing is harmless. The
 * processes a shard spawns (ffmpeg, TTS) inherit it. */
static void shard_lower_priority(int by) {
  if (by <= 0) {
    return;
  }
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) {
    setpriority(PRIO_PROCESS, tid, now + by > 19 ? 19 : now + by);
  }
}

static void shard_main(void *arg) {
  ain_shard_t *sh = arg;
  const ain_config_t *cfg = cfg_of(sh);
  shard_lower_priority(cfg->shard_nice);
  ain_store_config_t scfg;
  ain_engine_store_config(cfg, &scfg);
  ain_err_clear(&sh->start_err);
  sh->start_rc = ain_store_open(&scfg, &sh->loop, &sh->store, &sh->start_err);
  if (sh->start_rc == 0) {
    char name[32];
    snprintf(name, sizeof name, "shard-%d", sh->index);
    ain_lua_opts_t lo = {.scripts_dir = cfg->scripts_dir,
                         .name = name,
                         .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                         .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                         .cpu_ms = (uint64_t)cfg->lua.cpu_ms,
                         .registry = sh->engine->registry,
                         .allow_ffi = cfg->lua.allow_ffi,
                         .store = sh->store,
                         .secrets_dir = cfg->secrets_dir,
                         .privacy = sh->engine->privacy,
                         .default_max_attempts = cfg->queue.default_max_attempts,
                         .spawn = &cfg->spawn,
                         .data_dir = cfg->data_dir};
    sh->start_rc = ain_lua_host_new(&sh->loop, &lo, &sh->lua, &sh->start_err);
    if (sh->start_rc != 0) {
      ain_store_close(sh->store, NULL, NULL);
      sh->store = NULL;
    }
  }
  if (sh->start_rc != 0) {
    uv_sem_post(&sh->started);
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    return;
  }
  ain_store_on_wakeup(sh->store, on_wakeup, sh);
  uv_async_init(&sh->loop, &sh->control, on_control);
  sh->control.data = sh;
  uv_timer_init(&sh->loop, &sh->poll_timer);
  sh->poll_timer.data = sh;
  uv_timer_init(&sh->loop, &sh->extend_timer);
  sh->extend_timer.data = sh;
  uv_timer_init(&sh->loop, &sh->watch_timer);
  sh->watch_timer.data = sh;
  uv_timer_init(&sh->loop, &sh->grace_timer);
  sh->grace_timer.data = sh;
  uv_idle_init(&sh->loop, &sh->flush_idle);
  sh->flush_idle.data = sh;
  uint64_t ext = (uint64_t)cfg->queue.lease_ms / 3;
  uv_timer_start(&sh->extend_timer, on_extend_timer, ext, ext);
  uv_timer_init(&sh->loop, &sh->tick_timer);
  sh->tick_timer.data = sh;
  uv_timer_start(&sh->tick_timer, on_tick, AIN_SHARD_TICK_MS, AIN_SHARD_TICK_MS);
  uv_unref((uv_handle_t *)&sh->tick_timer); /* watching must not keep the loop alive */
  atomic_store(&sh->tick_ns, ain_mono_ns());
  uv_mutex_lock(&sh->watch_mu);
  sh->watch_live = 1;
  uv_mutex_unlock(&sh->watch_mu);
  if (cfg->queue.cancel_check_ms > 0) {
    uint64_t w = (uint64_t)cfg->queue.cancel_check_ms;
    uv_timer_start(&sh->watch_timer, on_watch_timer, w, w);
  }
  uv_sem_post(&sh->started);

  pump(sh);
  uv_run(&sh->loop, UV_RUN_DEFAULT);

  uv_mutex_lock(&sh->watch_mu); /* the watchdog reads sh->lua only while live */
  sh->watch_live = 0;
  atomic_store(&sh->tick_ns, 0);
  uv_mutex_unlock(&sh->watch_mu);
  ain_lua_host_free(sh->lua);
  sh->lua = NULL;
  uv_walk(&sh->loop, close_walk, NULL);
  uv_run(&sh->loop, UV_RUN_DEFAULT);
  free(sh->ended);
  sh->ended = NULL;
  atomic_fetch_sub(&sh->engine->shards_alive, 1);
  uv_async_send(&sh->engine->shard_exited);
}

int ain__shard_start(ain_shard_t *sh) {
  snprintf(sh->owner, sizeof sh->owner, "%s/%d/shard-%d", sh->engine->node_id, (int)getpid(),
           sh->index);
  if (uv_loop_init(&sh->loop) != 0 || uv_sem_init(&sh->started, 0) != 0 ||
      uv_mutex_init(&sh->watch_mu) != 0) {
    return AIN_EIO;
  }
  if (uv_thread_create(&sh->thread, shard_main, sh) != 0) {
    return AIN_EIO;
  }
  uv_sem_wait(&sh->started);
  return sh->start_rc;
}
