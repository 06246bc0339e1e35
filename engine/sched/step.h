/* A step: one claimed task being run on a shard, by a built-in C handler or a Lua function.
 * Handlers end a step exactly once with ain_step_succeed() or ain_step_fail(); the shard then
 * commits the outcome in its next batch, fenced by the step's lease token.
 * Every step is a span (trace/trace.h): its task's traceparent is the parent, and the work it
 * creates (DAG steps, ain.emit) gets the step's own context, so a trend's life is one trace.
 * Relies on: store/store.h, lua/host.h, trace/trace.h. */
#ifndef AIN_SCHED_STEP_H
#define AIN_SCHED_STEP_H

#include <stdint.h>
#include <uv.h>

#include "core/err.h"
#include "core/log.h"
#include "lua/host.h"
#include "store/store.h"
#include "trace/trace.h"

typedef struct ain_shard ain_shard_t;
typedef struct ain_step ain_step_t;

/* A built-in handler. start() begins the work (async on the step's loop) and returns 0, or fails
 * at once with an AIN_E* code + err (the step then fails with that error). cancel() must stop the
 * work (kill children, stop timers) and end the step with ain_step_fail(step, code, why, 0). */
typedef struct {
  const char *name;
  int (*start)(ain_step_t *step, ain_err_t *err);
  void (*cancel)(ain_step_t *step, int code, const char *why);
} ain_builtin_t;

/* The built-in named `name`, or NULL. */
const ain_builtin_t *ain_builtin_find(const char *name);
/* The handler a task of `type` gets at enqueue (sched/handlers.c): "expand" for generate_video,
 * the built-in's name, else "lua:<type>.run". Caller frees. */
char *ain_handler_for_type(const char *type);

struct ain_step {
  ain_shard_t *shard;
  ain_task_t task;    /* the claimed row; owned by the step */
  int64_t token;      /* current fencing token (state_version from claim/extend) */
  int64_t lease_until;
  uint64_t started_ns;
  const ain_builtin_t *builtin; /* NULL for Lua handlers */
  ain_lua_call_t *call;         /* the Lua call in flight, if any */
  void *priv;                   /* built-in's state */
  uv_timer_t timeout;
  int ended;     /* succeed/fail called */
  int abandoned; /* lease lost: do not commit */
  /* outcome, set when ended */
  ain_finish_kind_t kind;
  int64_t park_until; /* PARK: 0 (an event wakes it) or when it is ready again */
  char *result;
  char *error;
  char *detail;
  char *ctx; /* the ctx JSON its policy call ran on (recorded in the audit detail), or NULL */
  ain_store_batch_t *spawn; /* owned; freed with the step */
  ain_store_batch_t outbox; /* what the Lua call emitted: the spawn of its success (tasks owned) */
  /* tracing: this step's span (new id, under the task's traceparent or a new trace) */
  ain_trace_ctx_t trace;
  uint8_t parent_span[8];
  int has_parent;
  char trace_hex[33], span_hex[17];
  char traceparent[AIN_TRACEPARENT_LEN + 1]; /* "00-<trace>-<this span>-01": for its children */
  int64_t start_unix_ns;
  char *policies; /* the policy versions its Lua call ran ({"module": "sha256"}), or NULL */
  ain_step_t *next, *prev;
};

/* A log context naming the step: task, DAG, shard, fencing token, trace and span ids. Valid as
 * long as the step is. */
ain_log_ctx_t ain_step_log_ctx(const ain_step_t *step);

uv_loop_t *ain_step_loop(ain_step_t *step);
ain_lua_host_t *ain_step_lua(ain_step_t *step);
/* The engine's data directory and config (read-only). */
const char *ain_step_data_dir(ain_step_t *step);
/* Context JSON handed to handlers (sched/ctx.h builds it: ids, attempt, shard, config, deps).
 * Caller frees. */
char *ain_step_ctx_json(const ain_step_t *step);

/* Re-arms the step's timeout to its full length from now: for a step that waited in-process for
 * a scarce resource (a render slot) before starting its work. No-op once the step ended. */
void ain_step_restart_timeout(ain_step_t *step);

/* Ends the step successfully. result_json: a JSON object (NULL = "{}"); spawn: new work committed
 * with the success (the step takes ownership; free with ain_store_batch_free). detail: JSON for the
 * audit row (policy versions), may be NULL. */
void ain_step_succeed(ain_step_t *step, const char *result_json, ain_store_batch_t *spawn,
                      const char *detail);
/* Ends the step with an error "ECODE: message". permanent = 1 dead-letters at once. */
void ain_step_fail(ain_step_t *step, int code, const char *message, int permanent);
/* Ends the step by parking its task (AIN_FINISH_PARK): status waiting, holding no worker slot,
 * until something wakes it (a review decision, publishers resumed); the attempt is given back.
 * detail: JSON for the audit row (why it waits), may be NULL. */
void ain_step_park(ain_step_t *step, const char *detail);
/* Parks the task until a time instead of an event (a publish whose quota window is closed): the
 * attempt is given back, no worker slot is held, and the task is ready again from until_ms (ms,
 * the store's clock) on any node. */
void ain_step_park_until(ain_step_t *step, const char *detail, int64_t until_ms);


/* Frees a batch built by a handler (tasks' strings, deps' strings, the dag). */
void ain_store_batch_free(ain_store_batch_t *b);

#endif
