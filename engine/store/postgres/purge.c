/* The Postgres backend's PURGE op (store/purge.h): one call of ain_purge (sql/postgres/
 * 011_purge.sql), which chooses, counts, lists and (unless a dry run) deletes and audits in the
 * request's transaction. Relies on: internal.h, store/purge.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/postgres/internal.h"
#include "store/purge.h"

static char *i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

int ain__pg_plan_purge(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  const ain_store_purge_t *p = req->u.purge;
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_PURGE);
  c->params[0] = i64(p->older_than);
  c->params[1] = i64(p->limit);
  c->params[2] = ain_strdup(req->actor != NULL ? req->actor : "store");
  c->params[3] = i64(now);
  c->params[4] = ain_strdup(p->dry_run ? "true" : "false");
  return 0;
}

int ain__pg_parse_purge(ain_store_req_t *req, ain__pg_plan_t *plan) {
  ain_store_purge_t *p = req->u.purge;
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) != 1 || PQnfields(r) != 6) {
    return ain_err_set(&req->err, AIN_ESTORE, "ain_purge returned no row");
  }
  p->dags = atoi(PQgetvalue(r, 0, 0));
  p->tasks = atoi(PQgetvalue(r, 0, 1));
  p->artifacts = atoi(PQgetvalue(r, 0, 2));
  p->videos = atoi(PQgetvalue(r, 0, 3));
  return ain__store_purge_take_lists(p, PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5), &req->err);
}
