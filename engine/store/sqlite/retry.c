/* The SQLite backend's RETRY op (store.h): an operator re-drives a dead task. In one transaction:
 * the task back to ready with a fresh set of attempts, and when its DAG failed, the DAG back to
 * running and the DAG's cancelled tasks back to pending (ready when no dependency is left), each
 * change with its audit row. The semantics match ain_retry() in sql/postgres/013_task_list.sql.
 * An operator's action, rare: its statements are prepared per call. Relies on: internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* The task's status, DAG (or "") and attempts, and that DAG's status (or ""). */
static int read_task(ain__sq_ctx_t *c, char status[16], char dag[AIN_UUID_LEN + 1],
                     char dag_status[16], int *attempts) {
  const char *id = c->req->u.retry.task_id;
  sqlite3_stmt *st = ain__store_sq_prep(
      c, "SELECT t.status, coalesce(t.dag_id, ''), t.attempts, coalesce(d.status, '') "
         "FROM tasks t LEFT JOIN dags d ON d.id = t.dag_id WHERE t.id = ?1");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    snprintf(status, 16, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(dag, AIN_UUID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 1));
    *attempts = sqlite3_column_int(st, 2);
    snprintf(dag_status, 16, "%s", (const char *)sqlite3_column_text(st, 3));
  }
  sqlite3_finalize(st);
  if (step == SQLITE_DONE) {
    return ain_err_field(&c->req->err, AIN_ENOTFOUND, "task_id", "task %s not found", id);
  }
  return step == SQLITE_ROW ? 0 : ain__store_sq_fail(c, "reading the task to retry");
}

/* Runs one "UPDATE ... RETURNING state_version" bound to (id, now); *version gets the result. */
static int update_one(ain__sq_ctx_t *c, const char *sql, const char *id, int64_t *version,
                      const char *what) {
  sqlite3_stmt *st = ain__store_sq_prep(c, sql);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  sqlite3_bind_int64(st, 2, c->now);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    *version = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return step == SQLITE_ROW ? 0 : ain__store_sq_fail(c, what);
}

/* The DAG's cancelled tasks back to pending, or ready when nothing is left to wait for. */
static int revive(ain__sq_ctx_t *c, const char *dag, const char *detail) {
  sqlite3_stmt *st = ain__store_sq_prep(
      c, "UPDATE tasks SET status = CASE WHEN deps_pending = 0 THEN 'ready' ELSE 'pending' END, "
         "last_error = NULL, lease_owner = NULL, lease_until = NULL, finished_at = NULL, "
         "run_at = ?2, state_version = state_version + 1, updated_at = ?2 "
         "WHERE dag_id = ?1 AND status = 'cancelled' RETURNING id, status, state_version");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, dag);
  sqlite3_bind_int64(st, 2, c->now);
  /* RETURNING rows are all computed before the first is returned: auditing between steps is
   * safe, and the audit statement is a cached one of its own. */
  int step = SQLITE_DONE, rc = 0;
  while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
    rc = ain__store_sq_audit(c, (const char *)sqlite3_column_text(st, 0), dag, "cancelled",
                             (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                             detail, NULL);
    c->req->u.retry.revived++;
  }
  if (rc == 0 && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "reviving the DAG's tasks");
  }
  sqlite3_finalize(st);
  return rc;
}

int ain__store_sq_retry(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const char *id = req->u.retry.task_id;
  char status[16], dag[AIN_UUID_LEN + 1], dag_status[16];
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (rc = read_task(c, status, dag, dag_status, &req->u.retry.attempts_before)) != 0) {
    return rc;
  }
  if (strcmp(status, "dead") != 0) {
    return ain_err_field(&req->err, AIN_ECONFLICT, "status",
                         "task %s is %s: only a dead task can be retried", id, status);
  }
  if (strcmp(dag_status, "cancelled") == 0) {
    return ain_err_field(&req->err, AIN_ECONFLICT, "status",
                         "task %s belongs to DAG %s, which was cancelled", id, dag);
  }
  rc = update_one(c,
                  "UPDATE tasks SET status = 'ready', attempts = 0, run_at = ?2, "
                  "lease_owner = NULL, lease_until = NULL, finished_at = NULL, "
                  "state_version = state_version + 1, updated_at = ?2 "
                  "WHERE id = ?1 AND status = 'dead' RETURNING state_version",
                  id, &req->u.retry.new_version, "retrying the task");
  char detail[160];
  snprintf(detail, sizeof detail, "{\"retry\":true,\"attempts_before\":%d}",
           req->u.retry.attempts_before);
  if (rc != 0 || (rc = ain__store_sq_audit(c, id, dag, "dead", "ready", req->u.retry.new_version,
                                           detail, NULL)) != 0) {
    return rc;
  }
  if (strcmp(dag_status, "failed") == 0) {
    int64_t dag_version = 0;
    snprintf(detail, sizeof detail, "{\"retry\":\"%s\"}", id);
    rc = update_one(c,
                    "UPDATE dags SET status = 'running', last_error = NULL, "
                    "state_version = state_version + 1, updated_at = ?2 WHERE id = ?1 "
                    "RETURNING state_version",
                    dag, &dag_version, "reopening the DAG");
    if (rc != 0 ||
        (rc = ain__store_sq_audit(c, NULL, dag, "failed", "running", dag_version, detail, NULL)) !=
            0 ||
        (rc = revive(c, dag, detail)) != 0) {
      return rc;
    }
    req->u.retry.dag_reopened = 1;
  }
  c->wake = 1;
  return ain__store_sq_exec(c, SQ_COMMIT);
}
