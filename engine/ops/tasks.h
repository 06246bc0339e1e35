/* Task operations: enqueue (validation included), show, list (keyset pages, newest first),
 * retry of a dead task, cancel of a task or DAG, and the counts by status.
 * Relies on: ops/ops.h, message/ (task messages), lua/personas.h, privacy/ (PII at ingest). */
#ifndef AIN_OPS_TASKS_H
#define AIN_OPS_TASKS_H

#include "ops/ops.h"

/* ---- enqueue --------------------------------------------------------------------------------- */

/* Task messages validated and ready to store: every message matches docs/schemas/task.json, each
 * persona_id names a persona of cfg->scripts_dir that passes its check, the defaults are set and
 * the payloads' personal data is replaced by tokens. */
typedef struct {
  ain_task_t *tasks;
  size_t ntasks;
  long long pii_replaced; /* personal data values replaced in the payloads */
  int pii_keyed;          /* 1: by keyed hashes (a pii_key is configured), 0: redacted */
} ain_ops_batch_t;

/* Parses and validates buf (one message, a JSON array of them, or JSON Lines). Needs no store:
 * a front end can refuse bad input before it opens one. One bad message refuses the whole input
 * (AIN_ESCHEMA/EUTF8/ETOOBIG/ELUA, err naming the index, line and field, and `source`, the
 * input's name in messages); no message at all is AIN_ESCHEMA; one task_id twice is AIN_EINVAL
 * naming both indexes (field "[j].task_id", "tasks[j].task_id duplicates tasks[i]").
 * Caller frees out. */
int ain_ops_enqueue_prepare(const ain_config_t *cfg, const char *buf, size_t len,
                            const char *source, ain_ops_batch_t *out, ain_err_t *err);
/* Stores the batch in one transaction (every new task or none), audited as actor. Idempotent
 * by task_id: a task already stored with the same content (type, persona_id, payload, priority,
 * max_attempts, run_at, dag_id) is skipped and counted in *existing (may be NULL); one stored with
 * other content refuses the whole batch, AIN_ECONFLICT naming "[i].task_id". */
int ain_ops_enqueue_commit(ain_ops_t *ops, const ain_ops_batch_t *b, const char *actor,
                           size_t *existing, ain_err_t *err);
void ain_ops_batch_free(ain_ops_batch_t *b);

/* ---- one task -------------------------------------------------------------------------------- */

/* The task row (hot or archived). AIN_ENOTFOUND for an unknown id. Caller: ain_task_free(out). */
int ain_ops_task_get(ain_ops_t *ops, const char *id, ain_task_t *out, ain_err_t *err);
/* The handler that runs (or will run) the task: its own, else the one the scheduler names for its
 * type when it is claimed. Caller frees; NULL when it has neither handler nor type. */
char *ain_ops_task_handler(const ain_task_t *t);

/* ---- list ------------------------------------------------------------------------------------ */

#define AIN_OPS_LIST_DEFAULT 50
#define AIN_OPS_LIST_MAX 1000

typedef struct {
  const char *status; /* a task status name, NULL = any */
  const char *type;   /* NULL = any */
  const char *dag_id; /* NULL = any */
  int limit;          /* 1..AIN_OPS_LIST_MAX, 0 = AIN_OPS_LIST_DEFAULT */
  const char *after;  /* the `next` of the previous page, NULL = the first page */
} ain_ops_task_query_t;

typedef struct {
  const ain_task_t *tasks; /* newest first (created_at, then id, descending) */
  size_t ntasks;
  char next[AIN_OPS_CURSOR_MAX]; /* cursor of the next page, "" when this one is the last */
  ain_store_req_t req_;          /* owns the rows */
  char after_[AIN_UUID_LEN + 1]; /* the cursor's id, borrowed by req_ */
} ain_ops_task_page_t;

/* One page of tasks. The cursor is opaque to callers; a page boundary is stable under inserts
 * (new tasks appear only on the first page). Refusals (AIN_EINVAL, field named): an unknown
 * status, a bad dag_id or type, limit out of range, a cursor that is not one. */
int ain_ops_task_list(ain_ops_t *ops, const ain_ops_task_query_t *q, ain_ops_task_page_t *out,
                      ain_err_t *err);
void ain_ops_task_page_free(ain_ops_task_page_t *p);
/* {"tasks":[{task_id, type, status, dag_id, step, persona_id, attempts, max_attempts, priority,
 * state_version, created_at, updated_at, last_error}...], "next": cursor | null} */
cJSON *ain_ops_task_page_json(const ain_ops_task_page_t *p);

/* ---- retry, cancel --------------------------------------------------------------------------- */

typedef struct {
  int64_t state_version; /* the task's, afterwards */
  int attempts_before;
  int dag_reopened; /* its DAG went from failed back to running */
  int revived;      /* cancelled tasks of that DAG returned to pending/ready */
} ain_ops_retry_t;

/* Re-drives a dead task (store.h, RETRY): ready again with a fresh set of attempts, audited as
 * actor. AIN_ENOTFOUND for an unknown task; AIN_ECONFLICT (field "status") for one that is not
 * dead, naming its status. */
int ain_ops_task_retry(ain_ops_t *ops, const char *id, const char *actor, ain_ops_retry_t *out,
                       ain_err_t *err);
cJSON *ain_ops_retry_json(const char *id, const ain_ops_retry_t *r);

/* Cancels DAG id, or else task id, with reason (NULL: "cancelled by operator"); *cancelled gets
 * the number of tasks cancelled. AIN_ENOTFOUND when id is neither. */
int ain_ops_cancel(ain_ops_t *ops, const char *id, const char *reason, const char *actor,
                   int *cancelled, ain_err_t *err);

/* ---- stats ----------------------------------------------------------------------------------- */

int ain_ops_stats(ain_ops_t *ops, ain_store_stats_t *out, ain_err_t *err);
/* {"tasks":{status: n...},"dags":{status: n...}} */
cJSON *ain_ops_stats_json(const ain_store_stats_t *s);

#endif
