/* The Postgres backend's RETRY op: one call of ain_retry() (sql/postgres/013_task_list.sql), whose
 * single row becomes the outputs; its refusals arrive as AIN04 (not found) and AIN05 (conflict).
 * Relies on: internal.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/postgres/internal.h"

int ain__pg_plan_retry(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, now);
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_RETRY);
  c->params[0] = ain_strdup(req->actor != NULL ? req->actor : "store");
  c->params[1] = ain_strdup(buf);
  c->params[2] = ain_strdup(req->u.retry.task_id);
  return 0;
}

int ain__pg_parse_retry(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) != 1) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_retry returned no row");
  }
  req->u.retry.new_version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  req->u.retry.attempts_before = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
  req->u.retry.dag_reopened = (int)strtol(PQgetvalue(r, 0, 2), NULL, 10);
  req->u.retry.revived = (int)strtol(PQgetvalue(r, 0, 3), NULL, 10);
  return 0;
}
