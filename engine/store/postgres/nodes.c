/* The Postgres backend's node and archive ops: NODE_BEAT (ain_node_beat: upsert this node's row,
 * declare silent nodes dead, fence their running tasks), NODES (list with each node's running
 * count) and ARCHIVE (ain_archive: move finished tasks out of the hot table). The functions live
 * in sql/postgres/006_nodes.sql. Relies on: internal.h, cJSON. */
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

static ain__pg_cmd_t *cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt) {
  ain__pg_cmd_t *c = &plan->cmds[plan->ncmds++];
  c->stmt = stmt;
  c->nparams = ain__pg_stmts[stmt].nparams;
  return c;
}

static char *self_json(const ain_node_t *n) {
  cJSON *o = cJSON_CreateObject();
  char *s = NULL;
  if (o == NULL) {
    return NULL;
  }
  cJSON_AddStringToObject(o, "id", n->id);
  if (n->node != NULL) {
    cJSON_AddStringToObject(o, "node", n->node);
  }
  if (n->host != NULL) {
    cJSON_AddStringToObject(o, "host", n->host);
  }
  if (n->version != NULL) {
    cJSON_AddStringToObject(o, "version", n->version);
  }
  cJSON_AddNumberToObject(o, "pid", (double)n->pid);
  cJSON_AddNumberToObject(o, "shards", n->shards);
  s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

int ain__pg_plan_nodes(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  ain__pg_cmd_t *c;
  switch (req->op) {
  case AIN_STORE_NODE_BEAT:
    c = cmd(plan, AIN__PG_NODE_BEAT);
    c->params[0] = ain_strdup(req->actor != NULL ? req->actor : req->u.node_beat.self->id);
    c->params[1] = i64(now);
    c->params[2] = self_json(req->u.node_beat.self);
    c->params[3] = i64(req->u.node_beat.timeout_ms);
    c->params[4] = ain_strdup(req->u.node_beat.stopping ? "true" : "false");
    if (c->params[2] == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    if (req->u.node_beat.self->gateway != NULL) { /* cluster.openclaw: sql/postgres/021 */
      c = cmd(plan, AIN__PG_NODE_GATEWAY);
      c->params[0] = ain_strdup(req->u.node_beat.self->id);
      c->params[1] = ain_strdup(req->u.node_beat.self->gateway);
      c->params[2] = i64(req->u.node_beat.self->gateway_since);
    }
    return 0;
  case AIN_STORE_NODES:
    cmd(plan, AIN__PG_NODES);
    return 0;
  case AIN_STORE_ARCHIVE:
    c = cmd(plan, AIN__PG_ARCHIVE);
    c->params[0] = i64(req->u.archive.older_than);
    c->params[1] = i64(req->u.archive.limit);
    return 0;
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a node op: %d", (int)req->op);
  }
}

static char *str(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : ain_strdup(PQgetvalue(r, row, col));
}

static int64_t num(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int parse_list(ain_store_req_t *req, const PGresult *r) {
  int rows = r != NULL ? PQntuples(r) : 0;
  if (rows == 0) {
    return 0;
  }
  ain_node_t *list = calloc((size_t)rows, sizeof *list);
  if (list == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory reading %d nodes", rows);
  }
  for (int i = 0; i < rows; i++) {
    ain_node_t *x = &list[i];
    x->id = str(r, i, 0);
    x->node = str(r, i, 1);
    x->host = str(r, i, 2);
    x->version = str(r, i, 3);
    x->pid = num(r, i, 4);
    x->shards = (int)num(r, i, 5);
    x->state = AIN_NODE_ALIVE;
    for (int k = 0; k < AIN_NODE_STATE_COUNT; k++) {
      if (strcmp(PQgetvalue(r, i, 6), ain_node_state_name((ain_node_state_t)k)) == 0) {
        x->state = (ain_node_state_t)k;
      }
    }
    x->started_at = num(r, i, 7);
    x->last_beat = num(r, i, 8);
    x->state_version = num(r, i, 9);
    x->running = (int)num(r, i, 10);
    x->gateway = str(r, i, 11);
    x->gateway_since = num(r, i, 12);
  }
  req->u.nodes.nodes = list;
  req->u.nodes.nnodes = (size_t)rows;
  return 0;
}

int ain__pg_parse_nodes(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int has = r != NULL && PQntuples(r) > 0;
  switch (req->op) {
  case AIN_STORE_NODE_BEAT:
    req->u.node_beat.dead_nodes = has ? (int)num(r, 0, 0) : 0;
    req->u.node_beat.expired = has ? (int)num(r, 0, 1) : 0;
    return 0;
  case AIN_STORE_NODES:
    return parse_list(req, r);
  case AIN_STORE_ARCHIVE:
    req->u.archive.archived = has ? (int)num(r, 0, 0) : 0;
    return 0;
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "not a node op: %d", (int)req->op);
  }
}
