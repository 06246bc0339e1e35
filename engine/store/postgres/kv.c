/* Postgres KV ops: KV_GET, KV_PUT, KV_DELETE on table kv (sql/postgres/003_kv.sql). Each is one
 * prepared statement (one round trip, in the pipeline like every other op). A write reports the
 * version it produced next to the version the row had before the statement (the CTE's snapshot),
 * so a refused write can say whether the key was missing or newer without a second query.
 * The version check sits in the UPDATE's WHERE (re-evaluated on the locked row under READ
 * COMMITTED) or in ON CONFLICT, so two nodes racing on one key cannot both win.
 * Relies on: internal.h (plan/parse split, the statement table in ops.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static char *kv_i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

static ain__pg_cmd_t *kv_cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt, const ain_store_req_t *r) {
  ain__pg_cmd_t *c = &plan->cmds[plan->ncmds++];
  c->stmt = stmt;
  c->nparams = ain__pg_stmts[stmt].nparams;
  c->params[0] = ain_strdup(r->u.kv.ns);
  c->params[1] = ain_strdup(r->u.kv.key);
  return c;
}

int ain__pg_plan_kv(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  ain__pg_cmd_t *c;
  switch (req->op) {
  case AIN_STORE_KV_GET:
    kv_cmd(plan, AIN__PG_KV_GET, req);
    return 0;
  case AIN_STORE_KV_PUT:
    c = kv_cmd(plan, AIN__PG_KV_PUT, req);
    c->params[2] = ain_strdup(req->u.kv.value);
    c->params[3] = kv_i64(now);
    c->params[4] = kv_i64(req->u.kv.expect_version);
    return 0;
  case AIN_STORE_KV_DELETE:
    c = kv_cmd(plan, AIN__PG_KV_DELETE, req);
    c->params[2] = kv_i64(req->u.kv.expect_version);
    return 0;
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a kv op: %d", (int)req->op);
  }
}

static int kv_not_found(ain_store_req_t *req) {
  return ain_err_field(&req->err, AIN_ENOTFOUND, "key", "%s/%s not found", req->u.kv.ns,
                       req->u.kv.key);
}

static int kv_conflict(ain_store_req_t *req, const PGresult *r, int col) {
  if (PQgetisnull(r, 0, col)) {
    return ain_err_field(&req->err, AIN_ECONFLICT, "expect_version",
                         "%s/%s: expected version %" PRId64 ", but the key does not exist",
                         req->u.kv.ns, req->u.kv.key, req->u.kv.expect_version);
  }
  return ain_err_field(&req->err, AIN_ECONFLICT, "expect_version",
                       "%s/%s: expected version %" PRId64 ", found %s", req->u.kv.ns,
                       req->u.kv.key, req->u.kv.expect_version, PQgetvalue(r, 0, col));
}

int ain__pg_parse_kv(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) == 0) {
    if (req->op == AIN_STORE_KV_GET) {
      return kv_not_found(req);
    }
    return ain_err_set(&req->err, AIN_ESTORE, "kv: the statement returned no row");
  }
  switch (req->op) {
  case AIN_STORE_KV_GET:
    req->u.kv.out_value = ain_strdup(PQgetvalue(r, 0, 0));
    req->u.kv.version = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    return 0;
  case AIN_STORE_KV_PUT:
    /* columns: new version (NULL = refused), version before */
    if (PQgetisnull(r, 0, 0)) {
      return kv_conflict(req, r, 1);
    }
    req->u.kv.version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    return 0;
  case AIN_STORE_KV_DELETE:
    if (PQgetisnull(r, 0, 0)) {
      return PQgetisnull(r, 0, 1) ? kv_not_found(req) : kv_conflict(req, r, 1);
    }
    req->u.kv.version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    return 0;
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a kv op: %d", (int)req->op);
  }
}
