/* SQLite checkpoint ops: ARTIFACT_PUT (upsert by dag_id+step) and ARTIFACT_GET. These run once
 * per media step, so their statements are prepared per call rather than cached.
 * Relies on: internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

int ain__store_sq_artifact_put(ain__sq_ctx_t *c) {
  const ain_artifact_t *a = c->req->u.artifact_put.in;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st =
      ain__store_sq_prep(c, "INSERT INTO artifacts (dag_id, step, task_id, keys, result, "
                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT (dag_id, step) DO UPDATE SET task_id = excluded.task_id, "
                 "keys = excluded.keys, result = excluded.result, "
                 "created_at = excluded.created_at");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, a->dag_id);
  ain__store_sq_bind_text(st, 2, a->step);
  ain__store_sq_bind_text(st, 3, a->task_id);
  ain__store_sq_bind_text(st, 4, a->keys);
  ain__store_sq_bind_text(st, 5, a->result);
  sqlite3_bind_int64(st, 6, c->now);
  rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "recording artifacts");
  sqlite3_finalize(st);
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

int ain__store_sq_artifact_get(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT dag_id, step, task_id, keys, result, created_at "
                                "FROM artifacts WHERE dag_id = ?1 AND step = ?2");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.artifact_get.dag_id);
  ain__store_sq_bind_text(st, 2, req->u.artifact_get.step);
  int rc = 0, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    ain_artifact_t *a = &req->u.artifact_get.artifact;
    a->dag_id = ain__store_sq_col_dup(st, 0);
    a->step = ain__store_sq_col_dup(st, 1);
    a->task_id = ain__store_sq_col_dup(st, 2);
    a->keys = ain__store_sq_col_dup(st, 3);
    a->result = ain__store_sq_col_dup(st, 4);
    a->created_at = sqlite3_column_int64(st, 5);
  } else if (step == SQLITE_DONE) {
    rc = ain_err_field(&req->err, AIN_ENOTFOUND, "step", "no checkpoint for dag %s step %s",
                       req->u.artifact_get.dag_id, req->u.artifact_get.step);
  } else {
    rc = ain__store_sq_fail(c, "reading artifacts");
  }
  sqlite3_finalize(st);
  return rc;
}
