/* A step's context: the `ctx` table a policy function is called with, built in one place for the
 * engine (sched/step.c, sched/expand.c) and for `ain replay` (cli/cli_replay.c), and the audit
 * detail that records it with the policy versions of the call, so a replay runs on exactly the
 * context the decision ran on.
 * Relies on: store/store.h (ain_task_t), config/config.h, cJSON. */
#ifndef AIN_SCHED_CTX_H
#define AIN_SCHED_CTX_H

#include "config/config.h"
#include "store/store.h"

/* ctx JSON of task t run by `shard` under cfg: task_id, dag_id, step, type, persona_id, attempt,
 * max_attempts, shard, config (media width/height, the judge's pass/reject and providers when
 * configured) and
 * deps (deps_json: the {step: result} object of its dependencies; NULL or invalid = {}).
 * Caller frees. */
char *ain_step_ctx_build(const ain_task_t *t, const char *shard, const ain_config_t *cfg,
                         const char *deps_json);
/* The running step's trace context, added to ctx as trace_id, span_id and traceparent: the Lua
 * host puts the ids in the call's log lines, ain.emit gives the traceparent to what it emits, and
 * a policy may forward it (an HTTP header). Strings borrowed. */
typedef struct {
  const char *trace_id, *span_id, *traceparent;
} ain_step_trace_t;
/* ain_step_ctx_build plus tr's fields (tr NULL: none). Caller frees. */
char *ain_step_ctx_build_traced(const ain_task_t *t, const char *shard, const ain_config_t *cfg,
                                const char *deps_json, const ain_step_trace_t *tr);

/* The audit detail of a policy call: {"policies": versions_json, "ctx": ctx_json}. versions_json
 * is the module -> sha object of ain_lua_call_versions(); ctx_json may be NULL (then no "ctx").
 * Caller frees. */
char *ain_step_call_detail(const char *versions_json, const char *ctx_json);
/* The same with "io": io_json, the exchanges the call recorded (ain_lua_call_io(): a JSON array
 * of its ain.http and ain.store.get answers) that replay serves back. io_json NULL or not an
 * array: no "io". Caller frees. */
char *ain_step_call_detail_io(const char *versions_json, const char *ctx_json,
                              const char *io_json);

#endif
