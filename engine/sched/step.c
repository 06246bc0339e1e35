/* Running one claimed task: pick its handler (built-in or "lua:module.function"), arm its timeout,
 * and record how it ended so the shard can commit the outcome in its next batch. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "sched/ctx.h"
#include "sched/internal.h"

static int builtin_noop_start(ain_step_t *step, ain_err_t *err) {
  ain_step_succeed(step, NULL, NULL, NULL);
  return 0;
}

static void builtin_noop_cancel(ain_step_t *step, int code, const char *why) {
}

static const ain_builtin_t builtin_noop = {"noop", builtin_noop_start, builtin_noop_cancel};

/* Built-in handlers by name. Media primitives add themselves here. */
static const ain_builtin_t *const builtins[] = {&builtin_noop, &ain__builtin_expand,
                                                 &ain__builtin_tts, &ain__builtin_assets,
                                                 &ain__builtin_render, &ain__builtin_inspect,
                                                 &ain__builtin_review_gate, &ain__builtin_publish};

const ain_builtin_t *ain_builtin_find(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    if (name != NULL && strcmp(builtins[i]->name, name) == 0) {
      return builtins[i];
    }
  }
  return NULL;
}

uv_loop_t *ain_step_loop(ain_step_t *step) {
  return &step->shard->loop;
}

ain_lua_host_t *ain_step_lua(ain_step_t *step) {
  return step->shard->lua;
}

const char *ain_step_data_dir(ain_step_t *step) {
  return step->shard->engine->cfg->data_dir;
}

char *ain_step_ctx_json(const ain_step_t *step) {
  ain_step_trace_t tr = {step->trace_hex, step->span_hex, step->traceparent};
  return ain_step_ctx_build_traced(&step->task, step->shard->owner, step->shard->engine->cfg,
                                   step->task.deps_result, &tr);
}

ain_log_ctx_t ain_step_log_ctx(const ain_step_t *step) {
  ain_log_ctx_t lc = {.task_id = step->task.id,
                      .dag_id = step->task.dag_id[0] ? step->task.dag_id : NULL,
                      .actor = step->shard->owner,
                      .state_version = step->token,
                      .trace_id = step->trace_hex,
                      .span_id = step->span_hex};
  return lc;
}

void ain_store_batch_free(ain_store_batch_t *b) {
  if (b == NULL) {
    return;
  }
  for (size_t i = 0; i < b->ntasks; i++) {
    ain_task_free(&b->tasks[i]);
  }
  free(b->tasks);
  for (size_t i = 0; i < b->ndeps; i++) {
    free((char *)b->deps[i].task_id);
    free((char *)b->deps[i].depends_on);
  }
  free((ain_dep_t *)b->deps);
  if (b->dag) {
    ain_dag_free(b->dag);
    free(b->dag);
  }
  free(b);
}

static void step_end(ain_step_t *step) {
  uv_timer_stop(&step->timeout);
  /* Parked steps are neither: they count again when they run. */
  ain_progress_end(&step->shard->engine->progress,
                   step->task.step ? step->task.step : step->task.type,
                   step->kind == AIN_FINISH_SUCCEEDED,
                   step->kind == AIN_FINISH_RETRY || step->kind == AIN_FINISH_FAIL,
                   (int64_t)((ain_mono_ns() - step->started_ns) / 1000000));
  ain__shard_step_ended(step->shard, step);
}

void ain_step_succeed(ain_step_t *step, const char *result_json, ain_store_batch_t *spawn,
                      const char *detail) {
  if (step->ended) {
    ain_store_batch_free(spawn);
    return;
  }
  step->ended = 1;
  step->kind = AIN_FINISH_SUCCEEDED;
  step->result = ain_strdup(result_json ? result_json : "{}");
  step->detail = ain_strdup(detail);
  step->spawn = spawn;
  step_end(step);
}

void ain_step_park(ain_step_t *step, const char *detail) {
  if (step->ended) {
    return;
  }
  step->ended = 1;
  step->kind = AIN_FINISH_PARK;
  free(step->detail);
  step->detail = ain_strdup(detail);
  step_end(step);
}

void ain_step_park_until(ain_step_t *step, const char *detail, int64_t until_ms) {
  if (step->ended) {
    return;
  }
  step->park_until = until_ms > 0 ? until_ms : 1; /* 0 would mean "until woken" */
  ain_step_park(step, detail);
}

void ain_step_fail(ain_step_t *step, int code, const char *message, int permanent) {
  if (step->ended) {
    return;
  }
  step->ended = 1;
  step->kind = permanent ? AIN_FINISH_FAIL : AIN_FINISH_RETRY;
  /* Messages from the Lua host already start with their code. */
  const char *name = ain_err_name(code);
  size_t nl = strlen(name);
  if (message != NULL && strncmp(message, name, nl) == 0 && message[nl] == ':') {
    step->error = ain_strdup(message);
  } else {
    size_t n = strlen(name) + (message ? strlen(message) : 0) + 3;
    step->error = malloc(n);
    if (step->error == NULL) {
      abort();
    }
    snprintf(step->error, n, "%s: %s", name, message ? message : ain_strerror(code));
  }
  ain_log_ctx_t lc = ain_step_log_ctx(step);
  ain_log(AIN_LOG_WARN, &lc, "step %s (%s) attempt %d/%d failed: %s",
          step->task.step ? step->task.step : step->task.type, step->task.handler,
          step->task.attempts, step->task.max_attempts, step->error);
  step_end(step);
}

static void lua_done(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                     void *data) {
  ain_step_t *step = data;
  step->call = NULL;
  /* The audit row names every policy version the call ran and the ctx it ran on: replay loads
   * the versions by sha and calls them with that very ctx. */
  free(step->policies); /* span attributes (sched/span.c) */
  step->policies = ain_strdup(ain_lua_call_versions(call));
  char *io = ain_lua_call_io(call); /* what the outside answered, served back in replay */
  char *detail = ain_step_call_detail_io(ain_lua_call_versions(call), step->ctx, io);
  free(io);
  /* What the call emitted is committed with its success, and dropped with a failure. */
  ain_store_batch_t *emitted = NULL;
  if (status == 0 && step->outbox.ntasks > 0) {
    emitted = malloc(sizeof *emitted);
    if (emitted == NULL) {
      abort(); /* as ain_strdup: OOM is fatal */
    }
    *emitted = step->outbox; /* the tasks move to the spawn */
    memset(&step->outbox, 0, sizeof step->outbox);
  }
  if (status == 0) {
    ain_step_succeed(step, result_json, emitted, detail);
  } else {
    if (!step->ended && step->detail == NULL) {
      step->detail = ain_strdup(detail);
    }
    ain_step_fail(step, status, error, 0);
  }
  free(detail);
}

/* "lua:judge.decide" -> module "judge", function "decide". */
static int split_lua_handler(const char *h, char *mod, size_t modsz, char *fn, size_t fnsz) {
  if (strncmp(h, "lua:", 4) != 0) {
    return -1;
  }
  const char *m = h + 4, *dot = strrchr(m, '.');
  if (dot == NULL || dot == m || dot[1] == '\0' || (size_t)(dot - m) >= modsz ||
      strlen(dot + 1) >= fnsz) {
    return -1;
  }
  memcpy(mod, m, (size_t)(dot - m));
  mod[dot - m] = '\0';
  snprintf(fn, fnsz, "%s", dot + 1);
  return 0;
}

static void on_timeout(uv_timer_t *t) {
  ain_step_t *step = t->data;
  char why[128];
  snprintf(why, sizeof why, "step exceeded its timeout of %lld ms",
           (long long)(step->task.timeout_ms > 0 ? step->task.timeout_ms
                                                 : step->shard->engine->cfg->queue.default_timeout_ms));
  ain__step_cancel(step, AIN_ETIMEOUT, why);
}

void ain_step_restart_timeout(ain_step_t *step) {
  if (step->ended) {
    return;
  }
  int64_t tmo = step->task.timeout_ms > 0 ? step->task.timeout_ms
                                          : step->shard->engine->cfg->queue.default_timeout_ms;
  uv_timer_start(&step->timeout, on_timeout, (uint64_t)tmo, 0);
}

void ain__step_cancel(ain_step_t *step, int code, const char *why) {
  if (step->ended) {
    return;
  }
  if (step->call != NULL) {
    ain_lua_call_cancel(step->call, code, why); /* runs lua_done, which ends the step */
  } else if (step->builtin != NULL && step->builtin->cancel != NULL) {
    step->builtin->cancel(step, code, why);
  }
  ain_step_fail(step, code, why, 0); /* no-op if the handler already ended it */
}

static void step_closed(uv_handle_t *h) {
  ain_step_t *step = h->data;
  ain_task_free(&step->task);
  free(step->result);
  free(step->error);
  free(step->detail);
  free(step->ctx);
  free(step->policies);
  ain_store_batch_free(step->spawn);
  for (size_t i = 0; i < step->outbox.ntasks; i++) { /* a failed call's emits are dropped */
    ain_task_free(&step->outbox.tasks[i]);
  }
  free(step->outbox.tasks);
  free(step);
}

/* The timer handle lives inside the step, so the step is freed in the timer's close callback. */
void ain__step_free(ain_step_t *step) {
  uv_timer_stop(&step->timeout);
  uv_close((uv_handle_t *)&step->timeout, step_closed);
}

static void start_handler(ain_step_t *step) {
  ain_task_t *t = &step->task;
  ain_err_t err;
  ain_err_clear(&err);
  const char *h = t->handler ? t->handler : "";
  step->builtin = ain_builtin_find(h);
  if (step->builtin != NULL) {
    int rc = step->builtin->start(step, &err);
    if (rc != 0) {
      ain_step_fail(step, rc, err.msg, 0);
    }
    return;
  }
  char mod[128], fn[128];
  if (split_lua_handler(h, mod, sizeof mod, fn, sizeof fn) != 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "unknown handler '%s' (want a built-in name or lua:module.function)", h);
    ain_step_fail(step, AIN_EINVAL, msg, 1);
    return;
  }
  free(step->ctx);
  step->ctx = ain_step_ctx_json(step); /* kept for the audit detail (lua_done) */
  ain_lua_call_opts_t o = {.module = mod,
                           .function = fn,
                           .payload_json = t->payload,
                           .ctx_json = step->ctx,
                           .outbox = &step->outbox};
  ain_lua_call_t *call = NULL;
  int rc = ain_lua_call(step->shard->lua, &o, lua_done, step, &call, &err);
  if (rc != 0) {
    ain_step_fail(step, rc, err.msg, 0);
    return;
  }
  /* The call may already have finished (no yield); lua_done cleared step->call then. */
  if (!step->ended) {
    step->call = call;
  }
}

/* The step's span: a child of the task's traceparent, or the root of a new trace when the task
 * came without one (or with one the store should never have kept: the message parser checks it). */
static void step_trace_begin(ain_step_t *step) {
  ain_trace_ctx_t parent;
  step->has_parent = step->task.traceparent != NULL &&
                     ain_trace_parse(step->task.traceparent, &parent, NULL) == 0;
  ain_trace_child(step->has_parent ? &parent : NULL, &step->trace);
  if (step->has_parent) {
    memcpy(step->parent_span, parent.span_id, sizeof step->parent_span);
    step->trace.flags = parent.flags; /* the sampled bit is the caller's decision */
  }
  ain_trace_hex(step->trace.trace_id, 16, step->trace_hex);
  ain_trace_hex(step->trace.span_id, 8, step->span_hex);
  ain_trace_format(&step->trace, step->traceparent);
  step->start_unix_ns = ain_trace_now_ns();
}

void ain__step_start(ain_shard_t *sh, ain_task_t *task) {
  ain_step_t *step = calloc(1, sizeof *step);
  if (step == NULL) {
    abort();
  }
  step->shard = sh;
  step->task = *task;
  memset(task, 0, sizeof *task); /* the step owns the strings now */
  if (step->task.handler == NULL) { /* producers leave it to the scheduler (message/task.h) */
    step->task.handler = ain_handler_for_type(step->task.type);
  }
  step->token = step->task.state_version;
  step->lease_until = step->task.lease_until;
  step->started_ns = ain_mono_ns();
  step_trace_begin(step);
  ain_progress_begin(&sh->engine->progress, step->task.step ? step->task.step : step->task.type);
  ain__shard_link_step(sh, step);
  uv_timer_init(&sh->loop, &step->timeout);
  step->timeout.data = step;
  int64_t tmo =
      step->task.timeout_ms > 0 ? step->task.timeout_ms : sh->engine->cfg->queue.default_timeout_ms;
  uv_timer_start(&step->timeout, on_timeout, (uint64_t)tmo, 0);
  start_handler(step);
}
