/* The SQLite backend's PURGE op (store/purge.h): one write transaction per batch. The batch is
 * chosen into temp tables (DAGs, tasks, videos, object keys), counted and listed, and then, unless
 * it is a dry run, the rows are deleted and the purge is audited. Mirrors ain_purge in
 * sql/postgres/011_purge.sql. Relies on: internal.h, store/purge.h, SQLite's JSON functions. */
#include <stdio.h>
#include <stdlib.h>

#include "store/purge.h"
#include "store/sqlite/internal.h"

#define IN_DAGS "(SELECT id FROM temp.ain_purge_dags)"
#define IN_TASKS "(SELECT id FROM temp.ain_purge_tasks)"
#define IN_VIDEOS "(SELECT id FROM temp.ain_purge_videos)"
#define KEYS_OF(a) "json_each(CASE WHEN json_valid(" a ".keys) THEN " a ".keys ELSE '[]' END)"
#define LONE_TASKS(table)                                                                          \
  "INSERT OR IGNORE INTO temp.ain_purge_tasks SELECT id FROM (SELECT t.id FROM " table " t "       \
  "WHERE (t.dag_id IS NULL OR t.dag_id = '') AND t.finished_at < ?1 "                              \
  "AND t.status IN ('succeeded', 'dead', 'cancelled') "                                            \
  "AND NOT EXISTS (SELECT 1 FROM dags d WHERE d.root_task_id = t.id) "                             \
  "ORDER BY t.finished_at LIMIT ?2)"

/* ?1 = older_than, ?2 = limit */
static const char *const choose_sql[] = {
    "CREATE TEMP TABLE IF NOT EXISTS ain_purge_dags (id TEXT PRIMARY KEY, ended INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS ain_purge_tasks (id TEXT PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS ain_purge_videos (id TEXT PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS ain_purge_keys (key TEXT PRIMARY KEY)",
    "DELETE FROM temp.ain_purge_dags",
    "DELETE FROM temp.ain_purge_tasks",
    "DELETE FROM temp.ain_purge_videos",
    "DELETE FROM temp.ain_purge_keys",
    "INSERT INTO temp.ain_purge_dags SELECT d.id, d.updated_at FROM dags d "
    "WHERE d.status IN ('succeeded', 'failed', 'cancelled') AND d.updated_at < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dag_id = d.id "
    "AND t.status IN ('pending', 'ready', 'running', 'waiting')) "
    "ORDER BY d.updated_at, d.id LIMIT ?2",
    "INSERT OR IGNORE INTO temp.ain_purge_tasks SELECT id FROM tasks WHERE dag_id IN " IN_DAGS
    " UNION SELECT id FROM tasks_archive WHERE dag_id IN " IN_DAGS
    " UNION SELECT root_task_id FROM dags WHERE id IN " IN_DAGS " AND root_task_id IS NOT NULL",
    LONE_TASKS("tasks"),
    LONE_TASKS("tasks_archive"),
    "INSERT INTO temp.ain_purge_videos SELECT id FROM videos WHERE dag_id IN " IN_DAGS,
    "INSERT OR IGNORE INTO temp.ain_purge_keys SELECT j.value FROM artifacts a, " KEYS_OF(
        "a") " j WHERE a.dag_id IN " IN_DAGS " AND j.type = 'text'",
    "INSERT OR IGNORE INTO temp.ain_purge_keys SELECT video_key FROM videos WHERE id IN " IN_VIDEOS
    " AND video_key IS NOT NULL UNION SELECT thumbnail_key FROM videos WHERE id IN " IN_VIDEOS
    " AND thumbnail_key IS NOT NULL",
};

static const char *const count_sql =
    "SELECT (SELECT count(*) FROM temp.ain_purge_dags), (SELECT count(*) FROM "
    "temp.ain_purge_tasks), (SELECT count(*) FROM artifacts WHERE dag_id IN " IN_DAGS "), "
    "(SELECT count(*) FROM temp.ain_purge_videos)";
static const char *const dags_sql = "SELECT id FROM temp.ain_purge_dags ORDER BY ended, id";
/* content-addressed: another DAG may hold the same object */
static const char *const orphans_sql =
    "SELECT k.key FROM temp.ain_purge_keys k WHERE NOT EXISTS (SELECT 1 FROM artifacts a, " KEYS_OF(
        "a") " j WHERE a.dag_id NOT IN " IN_DAGS " AND j.value = k.key) "
             "AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.id NOT IN " IN_VIDEOS
             " AND (v.video_key = k.key OR v.thumbnail_key = k.key)) ORDER BY k.key";

static const char *const delete_sql[] = {
    /* audit rows stay; their detail keeps only the policy versions */
    "UPDATE audit_log SET detail = CASE WHEN json_valid(detail) THEN CASE WHEN "
    "json_type(detail, '$.policies') IS NOT NULL THEN json_object('policies', "
    "json(json_extract(detail, '$.policies'))) END END WHERE detail IS NOT NULL "
    "AND (dag_id IN " IN_DAGS " OR task_id IN " IN_TASKS ")",
    "DELETE FROM task_deps WHERE task_id IN " IN_TASKS " OR depends_on IN " IN_TASKS,
    "DELETE FROM task_deps_archive WHERE task_id IN " IN_TASKS " OR depends_on IN " IN_TASKS,
    "DELETE FROM tasks WHERE id IN " IN_TASKS,
    "DELETE FROM tasks_archive WHERE id IN " IN_TASKS,
    "DELETE FROM artifacts WHERE dag_id IN " IN_DAGS,
    "DELETE FROM publish_receipts WHERE video_id IN " IN_VIDEOS,
    "DELETE FROM reviews WHERE video_id IN " IN_VIDEOS,
    "DELETE FROM safety_reports WHERE video_id IN " IN_VIDEOS,
    "DELETE FROM videos WHERE id IN " IN_VIDEOS,
    "DELETE FROM dags WHERE id IN " IN_DAGS,
};

static int run_all(ain__sq_ctx_t *c, const char *const *sql, size_t n, const char *what) {
  const ain_store_purge_t *p = c->req->u.purge;
  for (size_t i = 0; i < n; i++) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db->conn, sql[i], -1, &st, NULL) != SQLITE_OK) {
      int rc = ain__store_sq_fail(c, what);
      sqlite3_finalize(st);
      return rc;
    }
    if (sqlite3_bind_parameter_count(st) >= 1) {
      sqlite3_bind_int64(st, 1, p->older_than);
    }
    if (sqlite3_bind_parameter_count(st) >= 2) {
      sqlite3_bind_int(st, 2, p->limit);
    }
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
      return ain__store_sq_fail(c, what);
    }
  }
  return 0;
}

/* Reads one text column of every row of sql into a NULL-free list. */
static int read_list(ain__sq_ctx_t *c, const char *sql, char ***out, size_t *n) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
    sqlite3_finalize(st);
    return ain__store_sq_fail(c, "preparing the purge's lists");
  }
  size_t cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      char **g = realloc(*out, cap * sizeof *g);
      if (g == NULL) {
        sqlite3_finalize(st);
        return ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory listing the purge");
      }
      *out = g;
    }
    char *v = ain__store_sq_col_dup(st, 0);
    if (v != NULL) {
      (*out)[(*n)++] = v;
    }
  }
  sqlite3_finalize(st);
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "listing the purge");
}

int ain__store_sq_purge(ain__sq_ctx_t *c) {
  ain_store_purge_t *p = c->req->u.purge;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  if ((rc = run_all(c, choose_sql, sizeof choose_sql / sizeof choose_sql[0],
                    "choosing what to purge")) != 0) {
    return rc;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db->conn, count_sql, -1, &st, NULL) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW) {
    rc = ain__store_sq_fail(c, "counting the purge");
    sqlite3_finalize(st);
    return rc;
  }
  p->dags = sqlite3_column_int(st, 0);
  p->tasks = sqlite3_column_int(st, 1);
  p->artifacts = sqlite3_column_int(st, 2);
  p->videos = sqlite3_column_int(st, 3);
  sqlite3_finalize(st);
  if ((rc = read_list(c, dags_sql, &p->dag_ids, &p->ndag_ids)) != 0 ||
      (rc = read_list(c, orphans_sql, &p->keys, &p->nkeys)) != 0) {
    return rc;
  }
  if (p->dry_run) {
    return ain__store_sq_exec(c, SQ_ROLLBACK);
  }
  if ((rc = run_all(c, delete_sql, sizeof delete_sql / sizeof delete_sql[0],
                    "deleting purged rows")) != 0) {
    return rc;
  }
  if (p->dags + p->tasks > 0) {
    char detail[320];
    snprintf(detail, sizeof detail,
             "{\"purge\":{\"older_than\":%lld,\"dags\":%d,\"tasks\":%d,\"artifacts\":%d,"
             "\"videos\":%d,\"objects\":%zu}}",
             (long long)p->older_than, p->dags, p->tasks, p->artifacts, p->videos, p->nkeys);
    if ((rc = ain__store_sq_audit(c, NULL, NULL, NULL, "purged", 0, detail, NULL)) != 0) {
      return rc;
    }
  }
  return ain__store_sq_exec(c, SQ_COMMIT);
}
