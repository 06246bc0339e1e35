/* The Postgres backend's LIST_DAGS: one of four prepared statements (AIN__PG_DAG_LIST_DEF in
 * internal.h), chosen by which filters are set so each walks its own index of
 * sql/postgres/016_dag_list.sql; and the reading of a dags row, shared with GET_DAG (ops.c).
 * Relies on: internal.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static char *i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

int ain__pg_plan_list_dags(ain_store_req_t *req, ain__pg_plan_t *plan) {
  int status = req->u.list_dags.status;
  const char *persona = req->u.list_dags.persona_id;
  ain__pg_stmt_t stmt =
      (ain__pg_stmt_t)(AIN__PG_DAG_LIST + (status >= 0 ? 1 : 0) + (persona != NULL ? 2 : 0));
  ain__pg_cmd_t *c = ain__pg_cmd(plan, stmt);
  /* the first page: everything before (INT64_MAX, ''), i.e. every row */
  int after = req->u.list_dags.after_id != NULL;
  c->params[0] = i64(after ? req->u.list_dags.after_created_at : INT64_MAX);
  c->params[1] = ain_strdup(after ? req->u.list_dags.after_id : "");
  c->params[2] = i64(req->u.list_dags.limit > 0 ? req->u.list_dags.limit : 100);
  int k = 3;
  if (status >= 0) {
    c->params[k++] = ain_strdup(ain_dag_status_name((ain_dag_status_t)status));
  }
  if (persona != NULL) {
    c->params[k++] = ain_strdup(persona);
  }
  return 0;
}

static int64_t col_i64(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *col_dup(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : ain_strdup(PQgetvalue(r, row, col));
}

void ain__pg_read_dag(const PGresult *r, int row, ain_dag_t *d) {
  memset(d, 0, sizeof *d);
  snprintf(d->id, sizeof d->id, "%s", PQgetvalue(r, row, 0));
  snprintf(d->root_task_id, sizeof d->root_task_id, "%s",
           PQgetisnull(r, row, 1) ? "" : PQgetvalue(r, row, 1));
  d->persona_id = col_dup(r, row, 2);
  d->last_error = col_dup(r, row, 3);
  int st = ain_dag_status_parse(PQgetvalue(r, row, 4));
  d->status = st < 0 ? AIN_DAG_RUNNING : (ain_dag_status_t)st;
  d->steps_total = (int)col_i64(r, row, 5);
  d->steps_done = (int)col_i64(r, row, 6);
  d->state_version = col_i64(r, row, 7);
  d->created_at = col_i64(r, row, 8);
  d->updated_at = col_i64(r, row, 9);
}

int ain__pg_parse_list_dags(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int rows = r != NULL ? PQntuples(r) : 0;
  if (rows == 0) {
    return 0;
  }
  req->u.list_dags.dags = calloc((size_t)rows, sizeof *req->u.list_dags.dags);
  if (req->u.list_dags.dags == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory reading %d dags", rows);
  }
  for (int i = 0; i < rows; i++) {
    ain__pg_read_dag(r, i, &req->u.list_dags.dags[i]);
  }
  req->u.list_dags.ndags = (size_t)rows;
  return 0;
}
