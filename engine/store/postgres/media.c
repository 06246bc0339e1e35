/* Postgres checkpoint ops: ARTIFACT_PUT (upsert by dag_id+step) and ARTIFACT_GET; the SQL is in
 * ops.c's statement table (AIN__PG_ARTIFACT_*), the table in sql/postgres/004_media.sql.
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

int ain__pg_plan_media(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  ain__pg_cmd_t *c;
  if (req->op == AIN_STORE_ARTIFACT_PUT) {
    const ain_artifact_t *a = req->u.artifact_put.in;
    c = ain__pg_cmd(plan, AIN__PG_ARTIFACT_PUT);
    c->params[0] = ain_strdup(a->dag_id);
    c->params[1] = ain_strdup(a->step);
    c->params[2] = ain_strdup(a->task_id);
    c->params[3] = ain_strdup(a->keys);
    c->params[4] = ain_strdup(a->result);
    c->params[5] = i64(now);
    return 0;
  }
  c = ain__pg_cmd(plan, AIN__PG_ARTIFACT_GET);
  c->params[0] = ain_strdup(req->u.artifact_get.dag_id);
  c->params[1] = ain_strdup(req->u.artifact_get.step);
  return 0;
}

static char *col(const PGresult *r, int row, int c) {
  return PQgetisnull(r, row, c) ? NULL : ain_strdup(PQgetvalue(r, row, c));
}

int ain__pg_parse_media(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (req->op == AIN_STORE_ARTIFACT_PUT) {
    return 0;
  }
  if (r == NULL || PQntuples(r) == 0) {
    return ain_err_field(&req->err, AIN_ENOTFOUND, "step", "no checkpoint for dag %s step %s",
                         req->u.artifact_get.dag_id, req->u.artifact_get.step);
  }
  ain_artifact_t *a = &req->u.artifact_get.artifact;
  a->dag_id = col(r, 0, 0);
  a->step = col(r, 0, 1);
  a->task_id = col(r, 0, 2);
  a->keys = col(r, 0, 3);
  a->result = col(r, 0, 4);
  a->created_at = PQgetisnull(r, 0, 5) ? 0 : strtoll(PQgetvalue(r, 0, 5), NULL, 10);
  return 0;
}
