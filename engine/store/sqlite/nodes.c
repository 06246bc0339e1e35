/* The SQLite backend's node ops: NODE_BEAT (upsert this node's row, declare silent nodes dead and
 * fence their running tasks by expiring each lease with a state_version bump, so the reaper
 * retries them and the dead node's late finish or extend is refused) and NODES (list).
 * SQLite is one machine's store, so this mostly serves `ain nodes` and the shared contract; the
 * semantics match sql/postgres/006_nodes.sql. Statements are prepared per call: these ops run
 * once per heartbeat, not per task. Relies on: internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* Prepares sql; NULL with req->err set. The caller finalizes. */
/* Runs a bound statement to the end; 0 or AIN_ESTORE. Always finalizes. */
static int finish_stmt(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *what) {
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
  }
  int rc = step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, what);
  sqlite3_finalize(st);
  return rc;
}

static const char *const sql_upsert =
    "INSERT INTO nodes (id, node, host, pid, version, shards, state, started_at, last_beat, "
    "state_version, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 0, ?8) "
    "ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version, "
    "shards = excluded.shards, last_beat = ?8, updated_at = ?8, "
    "state_version = state_version + (state <> excluded.state), state = excluded.state";

/* The gateway connection (cluster.openclaw) rides on the beat: only nodes that have one write it. */
static const char *const sql_gateway =
    "UPDATE nodes SET gateway = ?2, gateway_since = ?3 WHERE id = ?1";

/* Nodes silent too long become dead (each once: the write lock serializes beats). */
static const char *const sql_declare =
    "UPDATE nodes SET state = 'dead', state_version = state_version + 1, updated_at = ?1 "
    "WHERE state = 'alive' AND last_beat < ?1 - ?2 AND id <> ?3";

/* Every running task still leased by a dead node: expire the lease and bump the version (the
 * fence). Covers the nodes just declared and claims that landed just before an earlier verdict. */
static const char *const sql_fence =
    "UPDATE tasks SET lease_until = ?1 - 1, state_version = state_version + 1, updated_at = ?1 "
    "WHERE status = 'running' AND lease_until >= ?1 AND EXISTS (SELECT 1 FROM nodes n "
    "WHERE n.state = 'dead' AND substr(tasks.lease_owner, 1, length(n.id) + 1) = n.id || '/')";

int ain__store_sq_node_beat(ain__sq_ctx_t *c) {
  const ain_node_t *self = c->req->u.node_beat.self;
  sqlite3_stmt *st = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  if ((st = ain__store_sq_prep(c, sql_upsert)) == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, self->id);
  ain__store_sq_bind_text(st, 2, self->node != NULL ? self->node : self->id);
  ain__store_sq_bind_text(st, 3, self->host);
  sqlite3_bind_int64(st, 4, self->pid);
  ain__store_sq_bind_text(st, 5, self->version);
  sqlite3_bind_int(st, 6, self->shards);
  ain__store_sq_bind_text(st, 7, c->req->u.node_beat.stopping ? "stopped" : "alive");
  sqlite3_bind_int64(st, 8, c->now);
  if ((rc = finish_stmt(c, st, "recording the heartbeat")) != 0) {
    return rc;
  }
  if (self->gateway != NULL) {
    if ((st = ain__store_sq_prep(c, sql_gateway)) == NULL) {
      return AIN_ESTORE;
    }
    ain__store_sq_bind_text(st, 1, self->id);
    ain__store_sq_bind_text(st, 2, self->gateway);
    sqlite3_bind_int64(st, 3, self->gateway_since);
    if ((rc = finish_stmt(c, st, "recording the gateway state")) != 0) {
      return rc;
    }
  }
  if ((st = ain__store_sq_prep(c, sql_declare)) == NULL) {
    return AIN_ESTORE;
  }
  sqlite3_bind_int64(st, 1, c->now);
  sqlite3_bind_int64(st, 2, c->req->u.node_beat.timeout_ms);
  ain__store_sq_bind_text(st, 3, self->id);
  if ((rc = finish_stmt(c, st, "declaring silent nodes dead")) != 0) {
    return rc;
  }
  c->req->u.node_beat.dead_nodes = sqlite3_changes(c->db->conn);
  if ((st = ain__store_sq_prep(c, sql_fence)) == NULL) {
    return AIN_ESTORE;
  }
  sqlite3_bind_int64(st, 1, c->now);
  if ((rc = finish_stmt(c, st, "fencing dead nodes' leases")) != 0) {
    return rc;
  }
  c->req->u.node_beat.expired = sqlite3_changes(c->db->conn);
  return ain__store_sq_exec(c, SQ_COMMIT);
}

int ain__store_sq_nodes(ain__sq_ctx_t *c) {
  static const char *const sql =
      "SELECT n.id, n.node, n.host, n.version, n.pid, n.shards, n.state, n.started_at, "
      "n.last_beat, n.state_version, (SELECT count(*) FROM tasks t WHERE t.status = 'running' "
      "AND substr(t.lease_owner, 1, length(n.id) + 1) = n.id || '/'), n.gateway, "
      "n.gateway_since FROM nodes n ORDER BY n.id";
  ain_node_t *list = NULL;
  size_t n = 0, cap = 0;
  int step, rc = 0;
  sqlite3_stmt *st = ain__store_sq_prep(c, sql);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      ain_node_t *grown = realloc(list, cap * sizeof *list);
      if (grown == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto fail;
      }
      list = grown;
    }
    ain_node_t *x = &list[n++];
    memset(x, 0, sizeof *x);
    x->id = ain__store_sq_col_dup(st, 0);
    x->node = ain__store_sq_col_dup(st, 1);
    x->host = ain__store_sq_col_dup(st, 2);
    x->version = ain__store_sq_col_dup(st, 3);
    x->pid = sqlite3_column_int64(st, 4);
    x->shards = sqlite3_column_int(st, 5);
    const char *state = (const char *)sqlite3_column_text(st, 6);
    x->state = AIN_NODE_ALIVE;
    for (int k = 0; state != NULL && k < AIN_NODE_STATE_COUNT; k++) {
      if (strcmp(state, ain_node_state_name((ain_node_state_t)k)) == 0) {
        x->state = (ain_node_state_t)k;
      }
    }
    x->started_at = sqlite3_column_int64(st, 7);
    x->last_beat = sqlite3_column_int64(st, 8);
    x->state_version = sqlite3_column_int64(st, 9);
    x->running = sqlite3_column_int(st, 10);
    x->gateway = ain__store_sq_col_dup(st, 11);
    x->gateway_since = sqlite3_column_int64(st, 12);
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing nodes");
    goto fail;
  }
  sqlite3_finalize(st);
  c->req->u.nodes.nodes = list;
  c->req->u.nodes.nnodes = n;
  return 0;
fail:
  sqlite3_finalize(st);
  for (size_t i = 0; i < n; i++) {
    ain_node_free(&list[i]);
  }
  free(list);
  return rc;
}
