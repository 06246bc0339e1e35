/* The SQLite backend's statement cache and the small helpers every op uses: one table of SQL
 * (prepared once per connection, lazily, so a handle opened before migration still works), error
 * reporting that names the SQLite error, the task row reader and the audit insert.
 * Relies on: internal.h (sqlite3), core/err.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

#define TASK_COLS AIN__SQ_TASK_COLS
#define FENCE " WHERE id = ?1 AND state_version = ?2 AND status = 'running' "
#define DAG_COLS                                                                                   \
  "id, root_task_id, persona_id, last_error, status, steps_total, steps_done, state_version, "     \
  "created_at, updated_at"
#define DAG_LIST(filter)                                                                           \
  "SELECT " DAG_COLS " FROM dags WHERE " filter "(created_at, id) < (?3, ?4) "                      \
  "ORDER BY created_at DESC, id DESC LIMIT ?5"
#define FIN_RETURNING " RETURNING state_version, dag_id, step, status"
#define NON_TERMINAL "('pending', 'ready', 'running', 'waiting')"

static const char *const sql_text[SQ__COUNT] = {
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_BEGIN_READ] = "BEGIN",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT ain_item",
    [SQ_SAVEPOINT_RELEASE] = "RELEASE ain_item",
    [SQ_SAVEPOINT_ROLLBACK] = "ROLLBACK TO ain_item",
    /* The error (?8) is merged into the caller's detail (?7) so one row says both. */
    [SQ_AUDIT] = "INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, "
                 "state_version, detail, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                 "CASE WHEN ?8 IS NULL THEN ?7 "
                 "WHEN ?7 IS NULL THEN json_object('error', ?8) "
                 "WHEN NOT json_valid(?7) THEN json_object('error', ?8, 'detail', ?7) "
                 "WHEN json_type(?7) = 'object' THEN json_set(?7, '$.error', ?8) "
                 "ELSE json_object('error', ?8, 'detail', json(?7)) END, ?9)",
    [SQ_INS_DAG] = "INSERT INTO dags (id, root_task_id, persona_id, status, steps_total, "
                   "steps_done, state_version, created_at, updated_at) "
                   "VALUES (?1, ?2, ?3, 'running', ?4, 0, 0, ?5, ?5)",
    [SQ_INS_TASK] = "INSERT INTO tasks (id, dag_id, type, step, handler, persona_id, payload, "
                    "traceparent, status, priority, attempts, max_attempts, deps_pending, "
                    "timeout_ms, run_at, state_version, created_at, updated_at) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, 0, ?15, ?15)",
    [SQ_INS_DEP] = "INSERT INTO task_deps (task_id, depends_on) VALUES (?1, ?2)",
    /* Reads by id also look in the archive (006_nodes.sql), where finished tasks move. */
    [SQ_TASK_STATUS] = "SELECT status FROM tasks WHERE id = ?1 "
                       "UNION ALL SELECT status FROM tasks_archive WHERE id = ?1",
    /* The subquery walks the partial index tasks_claim in claim order and stops at LIMIT. */
    [SQ_CLAIM] = "UPDATE tasks SET status = 'running', lease_owner = ?1, lease_until = ?2, "
                 "attempts = attempts + 1, state_version = state_version + 1, updated_at = ?3 "
                 "WHERE id IN (SELECT id FROM tasks WHERE status = 'ready' AND run_at <= ?3 "
                 "ORDER BY priority DESC, run_at, id LIMIT ?4) RETURNING " TASK_COLS,
    [SQ_DEPS_RESULT] = "SELECT count(*), json_group_object(coalesce(t.step, t.id), "
                       "CASE WHEN t.result IS NULL THEN NULL WHEN json_valid(t.result) "
                       "THEN json(t.result) ELSE t.result END) "
                       "FROM task_deps d JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ?1",
    [SQ_FIN_SUCCEED] = "UPDATE tasks SET status = 'succeeded', result = ?3, lease_owner = NULL, "
                       "lease_until = NULL, state_version = state_version + 1, updated_at = ?4, "
                       "finished_at = ?4" FENCE FIN_RETURNING,
    [SQ_FIN_RETRY] = "UPDATE tasks SET last_error = ?3, "
                     "status = CASE WHEN attempts < max_attempts THEN 'ready' ELSE 'dead' END, "
                     "run_at = CASE WHEN attempts < max_attempts THEN ?5 ELSE run_at END, "
                     "finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ?4 END, "
                     "lease_owner = NULL, lease_until = NULL, state_version = state_version + 1, "
                     "updated_at = ?4" FENCE FIN_RETURNING,
    [SQ_FIN_DEAD] = "UPDATE tasks SET status = 'dead', last_error = ?3, lease_owner = NULL, "
                    "lease_until = NULL, state_version = state_version + 1, updated_at = ?4, "
                    "finished_at = ?4" FENCE FIN_RETURNING,
    /* Parking gives the attempt back; task_unpark (005_review.sql) says whether the reason to
     * wait is already gone, in which case the task is ready at once. */
    [SQ_FIN_PARK] = "UPDATE tasks SET status = CASE WHEN id IN (SELECT task_id FROM task_unpark) "
                    "THEN 'ready' ELSE 'waiting' END, attempts = max(attempts - 1, 0), "
                    "lease_owner = NULL, lease_until = NULL, state_version = state_version + 1, "
                    "updated_at = ?4" FENCE FIN_RETURNING,
    [SQ_FIN_RELEASE] = "UPDATE tasks SET status = 'ready', attempts = max(attempts - 1, 0), "
                       "lease_owner = NULL, lease_until = NULL, state_version = state_version + 1, "
                       "updated_at = ?4" FENCE FIN_RETURNING,
    /* SET sees the old deps_pending, so "<= 1" means "this was the last one". */
    [SQ_RELEASE_DEPENDENTS] = "UPDATE tasks SET deps_pending = deps_pending - 1, "
                              "status = CASE WHEN deps_pending <= 1 THEN 'ready' ELSE status END, "
                              "state_version = CASE WHEN deps_pending <= 1 THEN state_version + 1 "
                              "ELSE state_version END, "
                              "updated_at = ?2 WHERE status = 'pending' AND id IN "
                              "(SELECT task_id FROM task_deps WHERE depends_on = ?1) "
                              "RETURNING id, dag_id, status, state_version",
    [SQ_DAG_STEP_DONE] = "UPDATE dags SET steps_done = steps_done + 1, updated_at = ?2 "
                         "WHERE id = ?1",
    [SQ_DAG_SUCCEED] = "UPDATE dags SET status = 'succeeded', state_version = state_version + 1, "
                       "updated_at = ?2 WHERE id = ?1 AND status = 'running' "
                       "AND steps_done >= steps_total RETURNING state_version",
    [SQ_DAG_END] =
        "UPDATE dags SET status = ?2, last_error = ?3, state_version = state_version + 1, "
        "updated_at = ?4 WHERE id = ?1 AND status = 'running' RETURNING state_version",
    [SQ_DAG_STATUS] = "SELECT status FROM dags WHERE id = ?1",
    /* Audit first (it needs the old status), then the same rows are updated. */
    [SQ_AUDIT_CANCEL_DAG_TASKS] =
        "INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, "
        "detail, ts) SELECT id, dag_id, ?2, status, 'cancelled', state_version + 1, "
        "json_object('error', ?3), ?4 "
        "FROM tasks WHERE dag_id = ?1 AND status IN " NON_TERMINAL " ORDER BY rowid",
    [SQ_CANCEL_DAG_TASKS] = "UPDATE tasks SET status = 'cancelled', last_error = ?2, "
                            "lease_owner = NULL, lease_until = NULL, "
                            "state_version = state_version + 1, updated_at = ?3, finished_at = ?3 "
                            "WHERE dag_id = ?1 AND status IN " NON_TERMINAL,
    [SQ_AUDIT_CANCEL_TASK] =
        "INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, "
        "detail, ts) SELECT id, dag_id, ?2, status, 'cancelled', state_version + 1, "
        "json_object('error', ?3), ?4 "
        "FROM tasks WHERE id = ?1 AND status IN " NON_TERMINAL,
    [SQ_CANCEL_TASK] =
        "UPDATE tasks SET status = 'cancelled', last_error = ?2, lease_owner = NULL, "
        "lease_until = NULL, state_version = state_version + 1, updated_at = ?3, "
        "finished_at = ?3 WHERE id = ?1 AND status IN " NON_TERMINAL,
    [SQ_EXTEND] = "UPDATE tasks SET lease_until = ?3, state_version = state_version + 1, "
                  "updated_at = ?4" FENCE "RETURNING state_version",
    [SQ_LEASE_CHECK] = "SELECT state_version FROM tasks" FENCE,
    [SQ_REAP_SELECT] = "SELECT id, dag_id, step, lease_owner, attempts, max_attempts, "
                       "state_version FROM tasks WHERE status = 'running' AND lease_until < ?1 "
                       "ORDER BY lease_until",
    [SQ_REAP_READY] = "UPDATE tasks SET status = 'ready', run_at = ?3, last_error = ?4, "
                      "lease_owner = NULL, lease_until = NULL, state_version = state_version + 1, "
                      "updated_at = ?3" FENCE "RETURNING state_version",
    [SQ_GET_TASK] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1 "
                    "UNION ALL SELECT " TASK_COLS " FROM tasks_archive WHERE id = ?1",
    [SQ_GET_DAG] = "SELECT id, root_task_id, persona_id, last_error, status, steps_total, "
                   "steps_done, state_version, created_at, updated_at FROM dags WHERE id = ?1",
    [SQ_DAG_TASKS] = "SELECT " TASK_COLS " FROM (SELECT 1 AS src, rowid AS r, " TASK_COLS " FROM tasks "
                     "WHERE dag_id = ?1 UNION ALL SELECT 0, rowid, " TASK_COLS " FROM tasks_archive "
                     "WHERE dag_id = ?1) ORDER BY created_at, src, r",
    [SQ_DAG_DEPS] = "SELECT d.task_id, d.depends_on FROM task_deps d JOIN tasks t "
                    "ON t.id = d.task_id WHERE t.dag_id = ?1 UNION ALL "
                    "SELECT d.task_id, d.depends_on FROM task_deps_archive d JOIN tasks_archive t "
                    "ON t.id = d.task_id WHERE t.dag_id = ?1 ORDER BY 1, 2",
    [SQ_AUDIT_BY_TASK] = "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                         "state_version, ts FROM audit_log WHERE task_id = ?1 ORDER BY id",
    [SQ_AUDIT_BY_DAG] = "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                        "state_version, ts FROM audit_log WHERE dag_id = ?1 ORDER BY id",
    /* the newest ?1 rows of no task and no DAG (012_audit_operator.sql indexes them) */
    [SQ_AUDIT_OPERATOR] = "SELECT * FROM (SELECT id, task_id, dag_id, actor, from_status, "
                          "to_status, detail, state_version, ts FROM audit_log "
                          "WHERE task_id IS NULL AND dag_id IS NULL ORDER BY id DESC LIMIT ?1) "
                          "ORDER BY id",
    /* the newest ?3 decisions of handler ?1 since ?2 (015_audit_decisions.sql indexes them) */
    [SQ_AUDIT_DECISIONS] =
        "SELECT * FROM (SELECT a.id, a.task_id, a.dag_id, a.actor, a.from_status, a.to_status, "
        "a.detail, a.state_version, a.ts FROM audit_log a WHERE a.to_status = 'succeeded' "
        "AND a.ts >= ?2 AND (EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.task_id "
        "AND t.handler = ?1) OR EXISTS (SELECT 1 FROM tasks_archive t WHERE t.id = a.task_id "
        "AND t.handler = ?1)) ORDER BY a.ts DESC, a.id DESC LIMIT ?3) ORDER BY ts, id",
    /* a tail: the first ?3 rows after ?1 (up to ?2 unless 0), and the rows of the ids in the
     * JSON array ?4, each with its task's type (live or archived) */
    [SQ_AUDIT_TAIL] =
        "SELECT a.id, a.task_id, a.dag_id, a.actor, a.from_status, a.to_status, a.detail, "
        "a.state_version, a.ts, coalesce((SELECT t.type FROM tasks t WHERE t.id = a.task_id), "
        "(SELECT t.type FROM tasks_archive t WHERE t.id = a.task_id)) FROM ("
        "SELECT * FROM (SELECT * FROM audit_log WHERE id > ?1 AND (?2 = 0 OR id <= ?2) "
        "ORDER BY id LIMIT ?3) UNION ALL SELECT * FROM audit_log "
        "WHERE id IN (SELECT value FROM json_each(?4))) a ORDER BY a.id",
    [SQ_AUDIT_NEWEST] = "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                        "state_version, ts, NULL FROM audit_log ORDER BY id DESC LIMIT 1",
    [SQ_STATS_TASKS] = "SELECT status, count(*) FROM tasks GROUP BY status",
    [SQ_STATS_DAGS] = "SELECT status, count(*) FROM dags GROUP BY status",
    [SQ_STATS_NEXT] = "SELECT min(run_at) FROM tasks WHERE status = 'ready'",
    /* one partial-index probe per open status (008_open_work.sql) */
    [SQ_STATS_OPEN] = "SELECT 'ready', EXISTS (SELECT 1 FROM tasks WHERE status = 'ready') "
                      "UNION ALL SELECT 'running', EXISTS (SELECT 1 FROM tasks "
                      "WHERE status = 'running') "
                      "UNION ALL SELECT 'pending', EXISTS (SELECT 1 FROM tasks "
                      "WHERE status = 'pending') "
                      "UNION ALL SELECT 'waiting', EXISTS (SELECT 1 FROM tasks "
                      "WHERE status = 'waiting')",
    /* newest first, keyset on (created_at, id): the same order and cursor as Postgres's
     * ain_list (ids compare as bytes there too); index tasks_list (013) */
    [SQ_LIST] = "SELECT " TASK_COLS " FROM tasks WHERE (?1 IS NULL OR status = ?1) "
                "AND (?2 IS NULL OR dag_id = ?2) AND (?4 IS NULL OR type = ?4) "
                "AND (?6 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id < ?6)) "
                "ORDER BY created_at DESC, id DESC LIMIT ?3",
    /* DAGs newest first, keyset on (created_at, id) as a row value, so the cursor is a range of
     * the index (016_dag_list.sql) and a deep page is as short a walk as the first (the first
     * page binds (INT64_MAX, '')). One statement per filter: a "?1 IS NULL OR" filter could use
     * no index of its own. ?1 status, ?2 persona_id, ?3/?4 the cursor, ?5 the limit. */
    [SQ_LIST_DAGS] = DAG_LIST(""),
    [SQ_LIST_DAGS_STATUS] = DAG_LIST("status = ?1 AND "),
    [SQ_LIST_DAGS_PERSONA] = DAG_LIST("persona_id = ?2 AND "),
    [SQ_LIST_DAGS_BOTH] = DAG_LIST("status = ?1 AND persona_id = ?2 AND "),
};

sqlite3_stmt *ain__store_sq_prep(ain__sq_ctx_t *c, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
    ain__store_sq_fail(c, "prepare");
    sqlite3_finalize(st);
    return NULL;
  }
  return st;
}

int ain__store_sq_fail(ain__sq_ctx_t *c, const char *what) {
  /* A read that may not wait (read_busy_ms 0) says busy, so its caller can go elsewhere. */
  int busy = (sqlite3_errcode(c->db->conn) & 0xff) == SQLITE_BUSY && c->s != NULL && c->db == c->s->reader &&
             c->s->read_busy_ms == 0;
  return ain_err_set(&c->req->err, busy ? AIN_EBUSY : AIN_ESTORE, "sqlite: %s: %s", what,
                     sqlite3_errmsg(c->db->conn));
}

sqlite3_stmt *ain__store_sq_stmt(ain__sq_ctx_t *c, ain__sq_stmt_id id) {
  sqlite3_stmt **slot = &c->db->stmts[id];
  if (*slot == NULL) {
    if (sqlite3_prepare_v3(c->db->conn, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
        SQLITE_OK) {
      *slot = NULL;
      ain__store_sq_fail(c, "prepare");
      return NULL;
    }
  } else {
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
  }
  c->used[id / 64] |= 1ull << (id % 64);
  return *slot;
}

/* A statement left mid-iteration would pin an old read snapshot, so every op ends by resetting
 * what it touched. */
void ain__store_sq_reset_used(ain__sq_ctx_t *c) {
  for (int i = 0; i < SQ__COUNT; i++) {
    if ((c->used[i / 64] >> (i % 64)) & 1) {
      sqlite3_reset(c->db->stmts[i]);
    }
  }
  memset(c->used, 0, sizeof c->used);
}

void ain__store_sq_finalize_all(ain__sq_db_t *db) {
  for (int i = 0; i < SQ__COUNT; i++) {
    sqlite3_finalize(db->stmts[i]);
    db->stmts[i] = NULL;
  }
}

int ain__store_sq_run(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *what) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    ain__store_sq_fail(c, what);
    sqlite3_reset(st);
    return AIN_ESTORE;
  }
  sqlite3_reset(st);
  return 0;
}

int ain__store_sq_exec(ain__sq_ctx_t *c, ain__sq_stmt_id id) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, id);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  int rc = ain__store_sq_run(c, st, sql_text[id]);
  if (rc == 0 && id == SQ_BEGIN_IMMEDIATE) {
    /* The clock is read now that this connection holds the write lock: every writer (shards,
     * other processes) reads it in commit order, so times written later are never earlier. A
     * time read before waiting for the lock could be older than a commit that got in first. */
    c->audit_ts = ain_now_ms();
    if (c->req->now == 0) {
      c->now = c->audit_ts;
    }
  }
  return rc;
}

int64_t ain__store_sq_audit_ts(ain__sq_ctx_t *c) {
  return c->audit_ts != 0 ? c->audit_ts : ain_now_ms();
}

void ain__store_sq_rollback(ain__sq_ctx_t *c) {
  /* Keep the op's error: a failed ROLLBACK (nothing open) must not overwrite it. */
  if (!sqlite3_get_autocommit(c->db->conn)) {
    ain__sq_stmt_id id = SQ_ROLLBACK;
    sqlite3_stmt *st = c->db->stmts[id];
    if (st == NULL) {
      sqlite3_exec(c->db->conn, "ROLLBACK", NULL, NULL, NULL);
      return;
    }
    sqlite3_reset(st);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
}

void ain__store_sq_bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s == NULL) {
    sqlite3_bind_null(st, i);
  } else {
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  }
}

char *ain__store_sq_col_dup(sqlite3_stmt *st, int col) {
  const unsigned char *v = sqlite3_column_text(st, col);
  if (v == NULL) {
    return NULL;
  }
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  char *out = malloc(n + 1);
  if (out == NULL) {
    abort(); /* as ain_strdup: OOM is not a recoverable state here */
  }
  memcpy(out, v, n);
  out[n] = '\0';
  return out;
}

static void col_copy_id(sqlite3_stmt *st, int col, char out[AIN_UUID_LEN + 1]) {
  const unsigned char *v = sqlite3_column_text(st, col);
  snprintf(out, AIN_UUID_LEN + 1, "%s", v != NULL ? (const char *)v : "");
}

void ain__store_sq_read_task(sqlite3_stmt *st, ain_task_t *t) {
  memset(t, 0, sizeof *t);
  col_copy_id(st, 0, t->id);
  col_copy_id(st, 1, t->dag_id);
  t->type = ain__store_sq_col_dup(st, 2);
  t->step = ain__store_sq_col_dup(st, 3);
  t->handler = ain__store_sq_col_dup(st, 4);
  t->persona_id = ain__store_sq_col_dup(st, 5);
  t->payload = ain__store_sq_col_dup(st, 6);
  t->result = ain__store_sq_col_dup(st, 7);
  t->last_error = ain__store_sq_col_dup(st, 8);
  t->traceparent = ain__store_sq_col_dup(st, 9);
  int status = ain_task_status_parse((const char *)sqlite3_column_text(st, 10));
  t->status = status < 0 ? AIN_TASK_PENDING : (ain_task_status_t)status;
  t->priority = sqlite3_column_int(st, 11);
  t->attempts = sqlite3_column_int(st, 12);
  t->max_attempts = sqlite3_column_int(st, 13);
  t->deps_pending = sqlite3_column_int(st, 14);
  t->timeout_ms = sqlite3_column_int64(st, 15);
  t->run_at = sqlite3_column_int64(st, 16);
  t->lease_owner = ain__store_sq_col_dup(st, 17);
  t->lease_until = sqlite3_column_int64(st, 18);
  t->state_version = sqlite3_column_int64(st, 19);
  t->created_at = sqlite3_column_int64(st, 20);
  t->updated_at = sqlite3_column_int64(st, 21);
}

int ain__store_sq_audit(ain__sq_ctx_t *c, const char *task_id, const char *dag_id, const char *from,
                        const char *to, int64_t version, const char *detail, const char *error) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_AUDIT);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, task_id);
  ain__store_sq_bind_text(st, 2, dag_id != NULL && dag_id[0] != '\0' ? dag_id : NULL);
  ain__store_sq_bind_text(st, 3, c->actor);
  ain__store_sq_bind_text(st, 4, from);
  ain__store_sq_bind_text(st, 5, to);
  sqlite3_bind_int64(st, 6, version);
  ain__store_sq_bind_text(st, 7, detail);
  ain__store_sq_bind_text(st, 8, error);
  sqlite3_bind_int64(st, 9, ain__store_sq_audit_ts(c));
  return ain__store_sq_run(c, st, "audit insert");
}
