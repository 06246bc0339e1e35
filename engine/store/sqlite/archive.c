/* The SQLite backend's ARCHIVE op: finished tasks whose DAG is finished too (or that have none)
 * move, with every edge that touches them, from tasks/task_deps to tasks_archive/
 * task_deps_archive in one write transaction, at most limit per request, oldest first. Reads of
 * a task, a DAG and the audit log look in both (read.c/stmt.c). Relies on: internal.h. */
#include <stdlib.h>

#include "store/sqlite/internal.h"

/* Explicit columns: later migrations may add columns to tasks. */
#define ARCH_COLS                                                                                  \
  "id, dag_id, type, step, handler, persona_id, payload, result, last_error, traceparent, "        \
  "status, priority, attempts, max_attempts, deps_pending, timeout_ms, run_at, lease_owner, "      \
  "lease_until, state_version, created_at, updated_at, finished_at"

static const char *const arch_sql[] = {
    "CREATE TEMP TABLE IF NOT EXISTS ain_arch (id TEXT PRIMARY KEY)",
    "DELETE FROM temp.ain_arch",
    "INSERT INTO temp.ain_arch SELECT t.id FROM tasks t LEFT JOIN dags d ON d.id = t.dag_id "
    "WHERE t.finished_at IS NOT NULL AND t.finished_at < ?1 "
    "AND t.status IN ('succeeded', 'dead', 'cancelled') AND (d.id IS NULL OR d.status <> 'running') "
    "ORDER BY t.finished_at LIMIT ?2",
    "INSERT OR IGNORE INTO task_deps_archive (task_id, depends_on) SELECT task_id, depends_on "
    "FROM task_deps WHERE task_id IN (SELECT id FROM temp.ain_arch) "
    "OR depends_on IN (SELECT id FROM temp.ain_arch)",
    "DELETE FROM task_deps WHERE task_id IN (SELECT id FROM temp.ain_arch) "
    "OR depends_on IN (SELECT id FROM temp.ain_arch)",
    "INSERT INTO tasks_archive (" ARCH_COLS ") SELECT " ARCH_COLS " FROM tasks "
    "WHERE id IN (SELECT id FROM temp.ain_arch)",
    "DELETE FROM tasks WHERE id IN (SELECT id FROM temp.ain_arch)",
};

int ain__store_sq_archive(ain__sq_ctx_t *c) {
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  for (size_t i = 0; i < sizeof arch_sql / sizeof arch_sql[0]; i++) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db->conn, arch_sql[i], -1, &st, NULL) != SQLITE_OK) {
      rc = ain__store_sq_fail(c, "preparing the archive");
      sqlite3_finalize(st);
      return rc;
    }
    if (sqlite3_bind_parameter_count(st) >= 2) {
      sqlite3_bind_int64(st, 1, c->req->u.archive.older_than);
      sqlite3_bind_int(st, 2, c->req->u.archive.limit);
    }
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
      return ain__store_sq_fail(c, "archiving finished tasks");
    }
    if (i + 1 == sizeof arch_sql / sizeof arch_sql[0]) {
      c->req->u.archive.archived = sqlite3_changes(c->db->conn);
    }
  }
  return ain__store_sq_exec(c, SQ_COMMIT);
}
