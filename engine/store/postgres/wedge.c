/* The Postgres backend's WEDGE op: one call of ain_wedge() (sql/postgres/010_wedges.sql) with the
 * request's inputs as one JSON argument; its single row becomes the outputs.
 * Relies on: internal.h, cJSON. */
#include <cjson/cJSON.h>
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

int ain__pg_plan_wedge(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  cJSON *a = cJSON_CreateObject();
  if (a == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  cJSON_AddStringToObject(a, "task_id", req->u.wedge.task_id);
  cJSON_AddNumberToObject(a, "state_version", (double)req->u.wedge.state_version);
  if (req->u.wedge.owner != NULL) {
    cJSON_AddStringToObject(a, "owner", req->u.wedge.owner);
  }
  cJSON_AddStringToObject(a, "error", req->u.wedge.error);
  cJSON_AddNumberToObject(a, "elapsed_ms", (double)req->u.wedge.elapsed_ms);
  cJSON_AddNumberToObject(a, "poison_after", req->u.wedge.poison_after);
  if (req->u.wedge.node_id != NULL) {
    cJSON_AddStringToObject(a, "node_id", req->u.wedge.node_id);
  }
  char *json = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  if (json == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_WEDGE);
  c->params[0] = ain_strdup(req->actor != NULL ? req->actor : "watchdog");
  c->params[1] = i64(now);
  c->params[2] = json;
  return 0;
}

int ain__pg_parse_wedge(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) != 1) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_wedge returned no row");
  }
  req->u.wedge.wedges = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
  req->u.wedge.applied = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
  int st = ain_task_status_parse(PQgetvalue(r, 0, 2));
  req->u.wedge.new_status = st < 0 ? AIN_TASK_PENDING : (ain_task_status_t)st;
  req->u.wedge.new_version = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
  req->u.wedge.fenced = (int)strtol(PQgetvalue(r, 0, 4), NULL, 10);
  return 0;
}
