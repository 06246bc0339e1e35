/* The SQLite backend's WEDGE op (store.h): record a wedge, move the task if the fence holds (back
 * to ready, or dead as a poison pill), mark the wedged node dead and fence its other leases, all
 * in one transaction. The semantics match ain_wedge() in sql/postgres/010_wedges.sql. It runs
 * once before a node exits, so its own statements are prepared per call; the fenced transitions
 * reuse the cached FINISH/REAP statements. Relies on: internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

typedef struct {
  char status[16];
  char dag[AIN_UUID_LEN + 1];
  char *step;
  int64_t version;
  int attempts, max_attempts;
} wedged_task_t;

/* Reads the task and appends the wedge row; *wedges gets the count with it. */
static int record(ain__sq_ctx_t *c, wedged_task_t *t, int *wedges) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT status, coalesce(dag_id, ''), step, state_version, attempts, "
                             "max_attempts FROM tasks WHERE id = ?1");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.task_id);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    snprintf(t->status, sizeof t->status, "%s", sqlite3_column_text(st, 0));
    snprintf(t->dag, sizeof t->dag, "%s", sqlite3_column_text(st, 1));
    t->step = ain__store_sq_col_dup(st, 2);
    t->version = sqlite3_column_int64(st, 3);
    t->attempts = sqlite3_column_int(st, 4);
    t->max_attempts = sqlite3_column_int(st, 5);
  }
  sqlite3_finalize(st);
  if (step == SQLITE_DONE) {
    return ain_err_field(&req->err, AIN_ENOTFOUND, "task_id", "task %s not found",
                         req->u.wedge.task_id);
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reading the wedged task");
  }
  if ((st = ain__store_sq_prep(c, "INSERT INTO task_wedges (task_id, state_version, owner, elapsed_ms, error, "
                    "at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.task_id);
  sqlite3_bind_int64(st, 2, req->u.wedge.state_version);
  ain__store_sq_bind_text(st, 3, req->u.wedge.owner);
  sqlite3_bind_int64(st, 4, req->u.wedge.elapsed_ms);
  ain__store_sq_bind_text(st, 5, req->u.wedge.error);
  sqlite3_bind_int64(st, 6, c->now);
  step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "recording the wedge");
  }
  if ((st = ain__store_sq_prep(c, "SELECT count(*) FROM task_wedges WHERE task_id = ?1")) == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.task_id);
  step = sqlite3_step(st);
  *wedges = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return step == SQLITE_ROW ? 0 : ain__store_sq_fail(c, "counting wedges");
}

/* The fenced transition: ready, or dead (poison pill, or no attempts left). */
static int move(ain__sq_ctx_t *c, const wedged_task_t *t, int wedges) {
  ain_store_req_t *req = c->req;
  int dead = wedges >= req->u.wedge.poison_after || t->attempts >= t->max_attempts;
  char error[1200];
  if (wedges >= req->u.wedge.poison_after) {
    snprintf(error, sizeof error,
             "EPOISON: wedged a shard %d times, dead-lettered as a poison pill (last: %s)", wedges,
             req->u.wedge.error);
  } else {
    snprintf(error, sizeof error, "%s", req->u.wedge.error);
  }
  sqlite3_stmt *st = ain__store_sq_stmt(c, dead ? SQ_FIN_DEAD : SQ_REAP_READY);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.task_id);
  sqlite3_bind_int64(st, 2, req->u.wedge.state_version);
  if (dead) { /* (id, version, error, now) */
    ain__store_sq_bind_text(st, 3, error);
    sqlite3_bind_int64(st, 4, c->now);
  } else { /* (id, version, now, error) */
    sqlite3_bind_int64(st, 3, c->now);
    ain__store_sq_bind_text(st, 4, error);
  }
  int step = sqlite3_step(st);
  if (step != SQLITE_ROW) {
    return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "moving the wedged task");
  }
  req->u.wedge.applied = 1;
  req->u.wedge.new_version = sqlite3_column_int64(st, 0);
  req->u.wedge.new_status = dead ? AIN_TASK_DEAD : AIN_TASK_READY;
  sqlite3_reset(st);
  char detail[600];
  snprintf(detail, sizeof detail, "{\"wedges\":%d,\"elapsed_ms\":%lld}", wedges,
           (long long)req->u.wedge.elapsed_ms);
  int rc = ain__store_sq_audit(c, req->u.wedge.task_id, t->dag, "running", dead ? "dead" : "ready",
                               req->u.wedge.new_version, detail, error);
  if (rc != 0) {
    return rc;
  }
  if (!dead) {
    c->wake = 1;
    return 0;
  }
  return t->dag[0] ? ain__store_sq_fail_dag(c, t->dag, t->step ? t->step : req->u.wedge.task_id,
                                            error)
                   : 0;
}

/* The wedged node is dead: its row says so and its other leases are fenced. */
static int bury_node(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "UPDATE nodes SET state = 'dead', state_version = state_version + 1, "
                             "updated_at = ?2 WHERE id = ?1 AND state <> 'dead'");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.node_id);
  sqlite3_bind_int64(st, 2, c->now);
  int step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "marking the wedged node dead");
  }
  if ((st = ain__store_sq_prep(c, "UPDATE tasks SET lease_until = ?2 - 1, state_version = state_version + 1, "
                    "updated_at = ?2 WHERE status = 'running' "
                    "AND substr(lease_owner, 1, length(?1) + 1) = ?1 || '/'")) == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.wedge.node_id);
  sqlite3_bind_int64(st, 2, c->now);
  step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "fencing the wedged node's leases");
  }
  req->u.wedge.fenced = sqlite3_changes(c->db->conn);
  return 0;
}

int ain__store_sq_wedge(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  wedged_task_t t = {0};
  int wedges = 0;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (rc = record(c, &t, &wedges)) != 0) {
    goto done;
  }
  req->u.wedge.wedges = wedges;
  int status = ain_task_status_parse(t.status);
  req->u.wedge.new_status = status < 0 ? AIN_TASK_PENDING : (ain_task_status_t)status;
  req->u.wedge.new_version = t.version;
  if (strcmp(t.status, "running") == 0 && t.version == req->u.wedge.state_version &&
      (rc = move(c, &t, wedges)) != 0) {
    goto done;
  }
  if (req->u.wedge.node_id != NULL && (rc = bury_node(c)) != 0) {
    goto done;
  }
  rc = ain__store_sq_exec(c, SQ_COMMIT);
done:
  free(t.step);
  return rc;
}
