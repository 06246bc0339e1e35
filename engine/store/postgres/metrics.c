/* The Postgres backend's METRICS (three read statements in one pipeline sync, so one implicit
 * transaction: depth by type and status, the scalars, the nodes) and PUBLISH_GUARD (one call of
 * ain_publish_guard(), sql/postgres/017_metrics.sql).
 * Relies on: internal.h, store/metrics.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/metrics.h"
#include "store/postgres/internal.h"

static char *i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

int ain__pg_plan_metrics(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  if (req->op == AIN_STORE_PUBLISH_GUARD) {
    ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_PUBLISH_GUARD);
    c->params[0] = ain_strdup(req->actor != NULL ? req->actor : "store");
    c->params[1] = i64(now);
    c->params[2] = i64(req->u.guard->pause_at);
    c->params[3] = i64(req->u.guard->resume_at);
    return 0;
  }
  req->u.metrics->now = now;
  ain__pg_cmd(plan, AIN__PG_METRICS_DEPTH);
  ain__pg_cmd(plan, AIN__PG_METRICS_SCALARS);
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_METRICS_NODES);
  c->params[0] = i64(now);
  return 0;
}

static int64_t num(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int ain__pg_parse_metrics(ain_store_req_t *req, ain__pg_plan_t *plan) {
  if (req->op == AIN_STORE_PUBLISH_GUARD) {
    const PGresult *r = plan->res[0];
    if (r == NULL || PQntuples(r) != 1) {
      return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_publish_guard returned no row");
    }
    ain_store_guard_t *g = req->u.guard;
    g->backlog = num(r, 0, 0);
    g->action = (ain_store_guard_action_t)num(r, 0, 1);
    g->paused = PQgetvalue(r, 0, 2)[0] == 't';
    return 0;
  }
  ain_store_metrics_t *m = req->u.metrics;
  const PGresult *d = plan->res[0], *s = plan->res[1], *n = plan->res[2];
  if (d == NULL || s == NULL || n == NULL || PQntuples(s) != 1) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: the metrics queries returned no rows");
  }
  m->postgres = 1;
  for (int i = 0; i < PQntuples(d); i++) {
    if (ain__store_metrics_add_depth(m, PQgetvalue(d, i, 0), PQgetvalue(d, i, 1), num(d, i, 2))) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory reading the queue depth");
    }
  }
  m->review_backlog = num(s, 0, 0);
  m->review_oldest_at = num(s, 0, 1);
  m->paused = !PQgetisnull(s, 0, 2) && strcmp(PQgetvalue(s, 0, 2), "true") == 0;
  snprintf(m->paused_by, sizeof m->paused_by, "%s",
           PQgetisnull(s, 0, 3) ? "" : PQgetvalue(s, 0, 3));
  m->oldest_txn_age_s = PQgetisnull(s, 0, 4) ? 0 : strtod(PQgetvalue(s, 0, 4), NULL);
  m->dead_tuples_tasks = num(s, 0, 5);
  m->dead_tuples_task_deps = num(s, 0, 6);
  m->takedowns_pending = num(s, 0, 7);
  for (int i = 0; i < PQntuples(n); i++) {
    if (ain__store_metrics_add_node(m, PQgetvalue(n, i, 0), PQgetvalue(n, i, 1), num(n, i, 2))) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory reading the nodes");
    }
  }
  return 0;
}
