/* SQLite PUBLISH_SESSION on table publish_sessions (sql/sqlite/023_publish_sessions.sql): a read
 * by key, or one fenced upsert. The fence is in the statement itself: the row is written only
 * while the publishing task is running under the same lease (owner and attempt as claimed, lease
 * not expired), so a node that lost the step cannot overwrite the one that took it over.
 * Relies on: internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

static const char *const SQL_GET =
    "SELECT state, state_version FROM publish_sessions WHERE idempotency_key = ?1";
static const char *const SQL_SAVE =
    "INSERT INTO publish_sessions (idempotency_key, channel, video_id, task_id, state, "
    "state_version, created_at, updated_at) "
    "SELECT ?1, ?2, ?3, ?4, ?5, 1, ?6, ?6 WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ?4 AND "
    "status = 'running' AND lease_owner = ?7 AND attempts = ?8 AND lease_until > ?6) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET state = excluded.state, "
    "task_id = excluded.task_id, state_version = publish_sessions.state_version + 1, "
    "updated_at = excluded.updated_at RETURNING state_version";

static int session_get(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_GET);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.publish_session.idempotency_key);
  int rc = 0, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    req->u.publish_session.saved = ain__store_sq_col_dup(st, 0);
    req->u.publish_session.version = sqlite3_column_int64(st, 1);
  } else if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "reading the publish session");
  }
  sqlite3_finalize(st);
  return rc;
}

static int session_save(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_SAVE);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  const char *texts[] = {req->u.publish_session.idempotency_key, req->u.publish_session.channel,
                         req->u.publish_session.video_id, req->u.publish_session.task_id,
                         req->u.publish_session.state_json};
  for (int i = 0; i < 5; i++) {
    ain__store_sq_bind_text(st, i + 1, texts[i] != NULL ? texts[i] : "");
  }
  sqlite3_bind_int64(st, 6, c->now);
  ain__store_sq_bind_text(st, 7, req->u.publish_session.owner);
  sqlite3_bind_int(st, 8, req->u.publish_session.attempts);
  int rc = 0, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    req->u.publish_session.version = sqlite3_column_int64(st, 0);
  } else if (step == SQLITE_DONE) {
    rc = ain_err_field(&req->err, AIN_ELEASE, "task_id",
                       "publish session %s not saved: task %s no longer holds its lease",
                       req->u.publish_session.idempotency_key, req->u.publish_session.task_id);
  } else {
    rc = ain__store_sq_fail(c, "saving the publish session");
  }
  sqlite3_finalize(st);
  return rc;
}

int ain__store_sq_session(ain__sq_ctx_t *c) {
  return c->req->u.publish_session.state_json == NULL ? session_get(c) : session_save(c);
}
