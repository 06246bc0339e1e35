/* Postgres half of the script registry ops (see store/sqlite/scripts.c for the contract): which
 * prepared statements each op runs, and how their rows become outputs. SCRIPT_PIN is one
 * statement, so the lookup and the upsert cannot interleave with another node's pin.
 * Relies on: internal.h, scripts.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/scripts.h"

static ain__pg_cmd_t *cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt) {
  ain__pg_cmd_t *c = &plan->cmds[plan->ncmds++];
  c->stmt = stmt;
  c->nparams = ain__pg_stmts[stmt].nparams;
  return c;
}

static char *i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

int ain__pg_plan_scripts(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  ain__pg_cmd_t *c;
  switch (req->op) {
  case AIN_STORE_SCRIPT_PUT:
    c = cmd(plan, AIN__PG_SCRIPT_PUT);
    c->params[0] = ain_strdup(req->u.script_put.module);
    c->params[1] = ain_strdup(req->u.script_put.sha);
    c->params[2] = ain_strdup(req->u.script_put.source);
    c->params[3] = ain_strdup(req->u.script_put.error);
    c->params[4] = i64(now);
    return 0;
  case AIN_STORE_SCRIPT_GET:
    c = cmd(plan, AIN__PG_SCRIPT_GET);
    c->params[0] = ain_strdup(req->u.script_get.sha);
    c->params[1] = ain_strdup(req->u.script_get.module);
    return 0;
  case AIN_STORE_SCRIPT_LIST:
    if (!req->u.script_list.pins_only) {
      cmd(plan, AIN__PG_SCRIPT_LIST)->params[0] = ain_strdup(req->u.script_list.module);
    }
    cmd(plan, AIN__PG_SCRIPT_PINS)->params[0] = ain_strdup(req->u.script_list.module);
    return 0;
  case AIN_STORE_SCRIPT_PIN:
    if (req->u.script_pin.sha == NULL) {
      c = cmd(plan, AIN__PG_SCRIPT_UNPIN);
      c->params[0] = ain_strdup(req->u.script_pin.module);
      c->params[1] = ain_strdup(req->actor ? req->actor : "store");
      c->params[2] = i64(now);
      return 0;
    }
    c = cmd(plan, AIN__PG_SCRIPT_PIN);
    c->params[0] = ain_strdup(req->u.script_pin.module);
    c->params[1] = ain_strdup(req->u.script_pin.sha);
    c->params[2] = i64(now);
    c->params[3] = ain_strdup(req->actor ? req->actor : "store");
    return 0;
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a script op: %d", (int)req->op);
  }
}

static char *str(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : ain_strdup(PQgetvalue(r, row, col));
}

static int64_t num(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void read_version(const PGresult *r, int row, ain_script_version_t *v, int with_source) {
  memset(v, 0, sizeof *v);
  v->module = str(r, row, 0);
  snprintf(v->sha, sizeof v->sha, "%s", PQgetvalue(r, row, 1));
  v->error = str(r, row, 2);
  v->created_at = num(r, row, 3);
  if (with_source) {
    v->source = str(r, row, 4);
  }
}

static int parse_get(ain_store_req_t *req, const PGresult *r) {
  const char *sha = req->u.script_get.sha, *module = req->u.script_get.module;
  int rows = r ? PQntuples(r) : 0;
  if (rows == 0) {
    return ain_err_field(&req->err, AIN_ENOTFOUND, "sha", "no version %s%s%s", sha,
                         module ? " of module " : "", module ? module : "");
  }
  if (rows > 1 && strcmp(PQgetvalue(r, 0, 1), PQgetvalue(r, 1, 1)) != 0) {
    return ain_err_field(&req->err, AIN_EINVAL, "sha", "sha prefix %s is ambiguous", sha);
  }
  read_version(r, 0, &req->u.script_get.version, 1);
  return 0;
}

static int parse_list(ain_store_req_t *req, const PGresult *v, const PGresult *p) {
  int n = v ? PQntuples(v) : 0;
  if (n > 0) {
    req->u.script_list.versions = calloc((size_t)n, sizeof(ain_script_version_t));
    if (req->u.script_list.versions == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
      read_version(v, i, &req->u.script_list.versions[i], 0);
    }
    req->u.script_list.nversions = (size_t)n;
  }
  n = p ? PQntuples(p) : 0;
  if (n > 0) {
    req->u.script_list.pins = calloc((size_t)n, sizeof(ain_script_pin_t));
    if (req->u.script_list.pins == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
      ain_script_pin_t *pin = &req->u.script_list.pins[i];
      pin->module = str(p, i, 0);
      snprintf(pin->sha, sizeof pin->sha, "%s", PQgetvalue(p, i, 1));
      pin->updated_at = num(p, i, 2);
    }
    req->u.script_list.npins = (size_t)n;
  }
  return 0;
}

static int parse_pin(ain_store_req_t *req, const PGresult *r) {
  const char *module = req->u.script_pin.module, *sha = req->u.script_pin.sha;
  req->u.script_pin.pinned[0] = '\0';
  if (sha == NULL) {
    req->u.script_pin.changed = r && PQntuples(r) > 0 && num(r, 0, 0) > 0;
    return 0;
  }
  int64_t n = r && PQntuples(r) > 0 ? num(r, 0, 0) : 0;
  if (n == 0) {
    return ain_err_field(&req->err, AIN_ENOTFOUND, "sha", "no version %s of module %s", sha,
                         module);
  }
  if (n > 1) {
    return ain_err_field(&req->err, AIN_EINVAL, "sha", "sha prefix %s is ambiguous", sha);
  }
  if (!PQgetisnull(r, 0, 2)) {
    return ain_err_field(&req->err, AIN_EINVAL, "sha",
                         "version %.12s of %s was rejected and cannot be pinned: %s",
                         PQgetvalue(r, 0, 1), module, PQgetvalue(r, 0, 2));
  }
  snprintf(req->u.script_pin.pinned, sizeof req->u.script_pin.pinned, "%s", PQgetvalue(r, 0, 1));
  req->u.script_pin.changed = num(r, 0, 3) > 0;
  return 0;
}

int ain__pg_parse_scripts(ain_store_req_t *req, ain__pg_plan_t *plan) {
  switch (req->op) {
  case AIN_STORE_SCRIPT_PUT:
    req->u.script_put.inserted = plan->res[0] && PQntuples(plan->res[0]) > 0;
    return 0;
  case AIN_STORE_SCRIPT_GET:
    return parse_get(req, plan->res[0]);
  case AIN_STORE_SCRIPT_LIST:
    return req->u.script_list.pins_only ? parse_list(req, NULL, plan->res[0])
                                        : parse_list(req, plan->res[0], plan->res[1]);
  case AIN_STORE_SCRIPT_PIN:
    return parse_pin(req, plan->res[0]);
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a script op: %d", (int)req->op);
  }
}
