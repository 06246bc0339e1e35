/* Re-running recorded policy decisions (`ain replay`, `ain judge shadow`): one function takes a
 * task and its audit rows, finds the policy versions and the ctx the decision recorded
 * ({"policies":..,"ctx":..}; a decision recorded before contexts were gets one rebuilt by the
 * engine's own builder, sched/ctx.h), runs the task's Lua handler on its payload in a
 * side-effect-free host (ops/policy.h) with candidate versions in place of their modules, and
 * compares the new result with the stored one as canonical JSON (core/json.h), so the order of
 * keys is never a change.
 * Relies on: ops/policy.h, sched/ctx.h, store/store.h, core/json.h. */
#ifndef AIN_OPS_REPLAY_H
#define AIN_OPS_REPLAY_H

#include <cjson/cJSON.h>

#include "ops/ops.h"
#include "ops/policy.h"

/* Versions fetched from script_versions by sha, kept across re-runs of one operation (a shadow
 * run meets the same versions again and again). Keyed by sha in ain_ops_source_t.sha. */
typedef struct {
  ain_ops_sources_t by_sha;
} ain_ops_version_cache_t;

void ain_ops_version_cache_free(ain_ops_version_cache_t *c);

typedef struct {
  const ain_task_t *task;
  const ain_audit_t *rows; /* the task's audit rows, oldest first; the newest that recorded */
  size_t nrows;            /* policy versions is the call re-run */
  /* Modules the recorded call does not name (a candidate requires a module the old version did
   * not) come from here; NULL = none (replay runs exactly what was recorded). */
  const ain_ops_sources_t *base;
  const ain_ops_sources_t *candidates; /* replace the recorded version of their module; may be NULL */
  ain_ops_version_cache_t *cache;      /* may be NULL */
} ain_ops_rerun_in_t;

typedef struct {
  char module[128], function[128]; /* the task's handler */
  cJSON *recorded;                 /* module -> sha as recorded ({} when none was) */
  char *ctx;                       /* the ctx the re-run got */
  int ctx_recorded;                /* 0: rebuilt (the decision predates recorded contexts) */
  char *io; /* the exchanges the call recorded (JSON array), served back to the re-run; or NULL */
  ain_ops_outcome_t outcome;       /* the re-run */
  int changed;                     /* the new result differs from the stored one */
} ain_ops_rerun_t;

/* Re-runs in->task's decision (see above). AIN_EINVAL when its handler is not a Lua policy,
 * AIN_ENOTFOUND when nothing was recorded and no candidate is given. The policy failing is no
 * error: out->outcome.status says so, and it is a change unless the stored attempt failed alike.
 * Caller frees out with ain_ops_rerun_free(), whatever the return. */
int ain_ops_rerun(ain_ops_t *ops, const ain_ops_rerun_in_t *in, ain_ops_rerun_t *out,
                  ain_err_t *err);
void ain_ops_rerun_free(ain_ops_rerun_t *r);

/* `ain replay TASK_ID [--policy-sha SHA]`: the task, its audit rows and the re-run of its
 * decision with SHA (a version of the task's own module) in place of the recorded one. */
typedef struct {
  ain_store_req_t task_req, audit_req; /* task_req.u.get_task.task is the task */
  ain_ops_rerun_t run;
} ain_ops_replay_t;

int ain_ops_replay(ain_ops_t *ops, const char *task_id, const char *policy_sha,
                   ain_ops_replay_t *out, ain_err_t *err);
void ain_ops_replay_free(ain_ops_replay_t *r);

/* "lua:judge.decide" -> judge, decide; the DAG expansion built-in runs pipeline.build; a task
 * without a handler runs the one the scheduler names for its type. 0 or -1 (not a policy). */
int ain_ops_handler_of(const ain_task_t *t, char *mod, size_t mcap, char *fn, size_t fcap);

#endif
