/* DAG and audit operations: a DAG with its steps and edges (by its id or its root task's), as
 * JSON or Graphviz; pages of DAGs (newest first, by status and persona); the audit rows of a task, a DAG, or the operator's own.
 * Relies on: ops/ops.h, store/store.h. */
#ifndef AIN_OPS_DAGS_H
#define AIN_OPS_DAGS_H

#include "ops/ops.h"

typedef struct {
  const ain_dag_t *dag;
  const ain_task_t *tasks; /* its steps, in creation order */
  size_t ntasks;
  const ain_dep_t *deps; /* task_id runs after depends_on */
  size_t ndeps;
  ain_store_req_t req_; /* owns the rows */
} ain_ops_dag_t;

/* The DAG named by id: a DAG id, or the id of the task that expanded into it. AIN_ENOTFOUND when
 * it is neither. Caller frees out with ain_ops_dag_free. */
int ain_ops_dag_get(ain_ops_t *ops, const char *id, ain_ops_dag_t *out, ain_err_t *err);
void ain_ops_dag_free(ain_ops_dag_t *d);
/* The step name of one of the DAG's tasks (its id when it has none). */
const char *ain_ops_dag_step_name(const ain_ops_dag_t *d, const char *task_id);
/* {dag_id, root_task_id, status, state_version, steps_total, steps_done, persona_id?,
 * last_error?, steps: [{task_id, step, handler, status, attempts, state_version, deps: [step
 * names], last_error?}]} */
cJSON *ain_ops_dag_json(const ain_ops_dag_t *d);
/* Graphviz text of the DAG, steps coloured by status. Caller frees; NULL when out of memory. */
char *ain_ops_dag_dot(const ain_ops_dag_t *d);

/* ---- list ------------------------------------------------------------------------------------ */

#define AIN_OPS_DAG_LIST_DEFAULT 50
#define AIN_OPS_DAG_LIST_MAX 500

typedef struct {
  const char *status;     /* a DAG status name (running, succeeded, failed, cancelled), NULL = any */
  const char *persona_id; /* NULL = any */
  int limit;              /* 1..AIN_OPS_DAG_LIST_MAX, 0 = AIN_OPS_DAG_LIST_DEFAULT */
  const char *after;      /* the `next` of the previous page, NULL = the first page */
} ain_ops_dag_query_t;

typedef struct {
  const ain_dag_t *dags; /* newest first (created_at, then id, descending) */
  size_t ndags;
  char next[AIN_OPS_CURSOR_MAX]; /* cursor of the next page, "" when this one is the last */
  ain_store_req_t req_;          /* owns the rows */
  char after_[AIN_UUID_LEN + 1]; /* the cursor's id, borrowed by req_ */
} ain_ops_dag_page_t;

/* One page of DAGs (`ain dag list`, GET /v1/dags). The cursor is opaque to callers; a page
 * boundary is stable under inserts (new DAGs appear only on the first page). Refusals
 * (AIN_EINVAL, field named): an unknown status, a bad persona_id, limit out of range, a cursor
 * that is not one. */
int ain_ops_dag_list(ain_ops_t *ops, const ain_ops_dag_query_t *q, ain_ops_dag_page_t *out,
                     ain_err_t *err);
void ain_ops_dag_page_free(ain_ops_dag_page_t *p);
/* {"dags":[{id, status, persona_id, root_task_id, steps_total, steps_done, last_error,
 * state_version, created_at, updated_at}...], "next": cursor | null} */
cJSON *ain_ops_dag_page_json(const ain_ops_dag_page_t *p);

/* ---- audit ----------------------------------------------------------------------------------- */

typedef struct {
  const ain_audit_t *rows; /* oldest first */
  size_t nrows;
  ain_store_req_t req_;
} ain_ops_audit_t;

#define AIN_OPS_AUDIT_OPERATOR_MAX 100000

/* The audit rows of task id, else of DAG id. AIN_ENOTFOUND when id names neither (or has no
 * rows). Caller frees out with ain_ops_audit_free. */
int ain_ops_audit(ain_ops_t *ops, const char *id, ain_ops_audit_t *out, ain_err_t *err);
/* The newest `limit` (1..AIN_OPS_AUDIT_OPERATOR_MAX) rows of no task and no DAG: settings,
 * pins, purges, each naming its operator. */
int ain_ops_audit_operator(ain_ops_t *ops, int limit, ain_ops_audit_t *out, ain_err_t *err);
void ain_ops_audit_free(ain_ops_audit_t *a);
/* [{id, ts, task_id, dag_id, actor, from, to, state_version, detail (JSON or null)}...] */
cJSON *ain_ops_audit_json(const ain_ops_audit_t *a);

#endif
