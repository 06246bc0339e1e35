/* Private to the SQLite backend: the shared per-path connection, the per-handle state, the
 * statement cache and the helpers the op files (enqueue.c, finish.c, ...) share.
 * Relies on: sqlite3, libuv, store/store.h. */
#ifndef AIN_STORE_SQLITE_INTERNAL_H
#define AIN_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

/* Cached statements, one table of SQL in stmt.c indexed by this enum. */
typedef enum {
  SQ_BEGIN_IMMEDIATE,
  SQ_BEGIN_READ,
  SQ_COMMIT,
  SQ_ROLLBACK,
  SQ_SAVEPOINT,
  SQ_SAVEPOINT_RELEASE,
  SQ_SAVEPOINT_ROLLBACK,
  SQ_AUDIT,
  SQ_INS_DAG,
  SQ_INS_TASK,
  SQ_INS_DEP,
  SQ_TASK_STATUS,
  SQ_CLAIM,
  SQ_DEPS_RESULT,
  SQ_FIN_SUCCEED,
  SQ_FIN_RETRY,
  SQ_FIN_DEAD,
  SQ_FIN_RELEASE,
  SQ_RELEASE_DEPENDENTS,
  SQ_DAG_STEP_DONE,
  SQ_DAG_SUCCEED,
  SQ_DAG_END,
  SQ_DAG_STATUS,
  SQ_AUDIT_CANCEL_DAG_TASKS,
  SQ_CANCEL_DAG_TASKS,
  SQ_AUDIT_CANCEL_TASK,
  SQ_CANCEL_TASK,
  SQ_EXTEND,
  SQ_LEASE_CHECK,
  SQ_REAP_SELECT,
  SQ_REAP_READY,
  SQ_GET_TASK,
  SQ_GET_DAG,
  SQ_DAG_TASKS,
  SQ_DAG_DEPS,
  SQ_AUDIT_BY_TASK,
  SQ_AUDIT_BY_DAG,
  SQ_AUDIT_OPERATOR,
  SQ_AUDIT_DECISIONS,
  SQ_AUDIT_TAIL,
  SQ_AUDIT_NEWEST,
  SQ_STATS_TASKS,
  SQ_STATS_DAGS,
  SQ_STATS_NEXT,
  SQ_STATS_OPEN,
  SQ_LIST,
  SQ_FIN_PARK,
  SQ_LIST_DAGS, /* + 1: by status, + 2: by persona, + 3: by both (read.c picks) */
  SQ_LIST_DAGS_STATUS,
  SQ_LIST_DAGS_PERSONA,
  SQ_LIST_DAGS_BOTH,
  SQ__COUNT
} ain__sq_stmt_id;

typedef struct ain__sq_store ain__sq_store_t;

/* One sqlite3 connection per database path in this process, shared by every handle (shard) that
 * opens that path: SQLite has one writer, so handles in one process take turns on mu instead of
 * fighting over the file lock with busy-waits. Guarded by mu: conn, stmts, handles. */
typedef struct ain__sq_db {
  char *key; /* realpath (or the path as given) */
  sqlite3 *conn;
  pthread_mutex_t mu;
  int refs; /* guarded by the registry lock */
  sqlite3_stmt *stmts[SQ__COUNT];
  ain__sq_store_t *handles; /* for wake-ups */
  struct ain__sq_db *next;
} ain__sq_db_t;

struct ain__sq_store {
  ain_store_t base; /* first: ain_store_t * <-> ain__sq_store_t * */
  ain__sq_db_t *db;
  /* This handle's own read-only connection (PRAGMA query_only) for the ops in sqlite.c's
   * read_ops, opened at the first of them: in WAL a reader on its own connection neither waits
   * for the shared connection's mutex (held by a shard across its commit and fsync) nor holds it
   * up. NULL until then, and for ":memory:" (one connection is the whole database). */
  ain__sq_db_t *reader;
  int reader_failed; /* opening it failed once: reads stay on the shared connection */
  int snapshot;      /* ain_store_snapshot holds a read transaction open on reader */
  int read_busy_ms;  /* reader's busy timeout (ain_store_config_t.read_busy_timeout_ms) */
  char *sql_dir;
  uv_idle_t idle;  /* delivers completed requests on the next loop iteration */
  uv_async_t wake; /* another handle committed claimable work */
  ain_store_req_t *done_head, *done_tail;
  int closing;
  int open_handles; /* uv handles not yet closed */
  void (*close_cb)(void *data);
  void *close_data;
  ain__sq_store_t *next_handle; /* in db->handles */
};

/* What an op runs with: the locked connection, the request, its clock and actor. */
typedef struct {
  ain__sq_db_t *db;
  ain__sq_store_t *s;
  ain_store_req_t *req;
  int64_t now;      /* the request's now, else the host clock once the write lock is held */
  int64_t audit_ts; /* audit rows' time: the host clock once the write lock is held (store.h) */
  const char *actor;
  int wake;                             /* set by ops whose commit may have made tasks claimable */
  uint64_t used[(SQ__COUNT + 63) / 64]; /* statements to reset after the op */
} ain__sq_ctx_t;

/* Statement from the cache, reset and unbound; NULL with req->err set (AIN_ESTORE). */
sqlite3_stmt *ain__store_sq_stmt(ain__sq_ctx_t *c, ain__sq_stmt_id id);
void ain__store_sq_reset_used(ain__sq_ctx_t *c);
void ain__store_sq_finalize_all(ain__sq_db_t *db);
/* Sets req->err to AIN_ESTORE "sqlite: <what>: <errmsg>" and returns AIN_ESTORE. */
int ain__store_sq_fail(ain__sq_ctx_t *c, const char *what);
/* A one-off statement (not cached): NULL with the failure recorded in c (ain__store_sq_fail). */
sqlite3_stmt *ain__store_sq_prep(ain__sq_ctx_t *c, const char *sql);
/* Steps a statement that returns no rows (or ignores them) to completion. 0 or AIN_ESTORE. */
int ain__store_sq_run(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *what);
/* Simple one-shot statements by id: BEGIN..., COMMIT, ROLLBACK, SAVEPOINT... */
int ain__store_sq_exec(ain__sq_ctx_t *c, ain__sq_stmt_id id);
void ain__store_sq_rollback(ain__sq_ctx_t *c);

void ain__store_sq_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text as a new string (NULL for SQL NULL). */
char *ain__store_sq_col_dup(sqlite3_stmt *st, int col);

/* Columns every task SELECT/RETURNING lists, in the order ain__store_sq_read_task reads them. */
#define AIN__SQ_TASK_COLS                                                                          \
  "id, dag_id, type, step, handler, persona_id, payload, result, last_error, traceparent, "        \
  "status, priority, attempts, max_attempts, deps_pending, timeout_ms, run_at, lease_owner, "      \
  "lease_until, state_version, created_at, updated_at"
void ain__store_sq_read_task(sqlite3_stmt *st, ain_task_t *t);

/* Audit row. detail is JSON text or NULL; error (may be NULL) is merged into it as "error". */
/* The time an audit row records (one clock: see ain__sq_ctx_t.audit_ts). */
int64_t ain__store_sq_audit_ts(ain__sq_ctx_t *c);
int ain__store_sq_audit(ain__sq_ctx_t *c, const char *task_id, const char *dag_id, const char *from,
                        const char *to, int64_t version, const char *detail, const char *error);

/* Ops (run with db->mu held, inside their own transaction). Return 0 or AIN_E*, req->err set. */
int ain__store_sq_migrate(ain__sq_ctx_t *c);
int ain__store_sq_enqueue(ain__sq_ctx_t *c);
int ain__store_sq_claim(ain__sq_ctx_t *c);
int ain__store_sq_finish(ain__sq_ctx_t *c);
int ain__store_sq_extend(ain__sq_ctx_t *c);
int ain__store_sq_reap(ain__sq_ctx_t *c);
int ain__store_sq_cancel(ain__sq_ctx_t *c);
int ain__store_sq_get_task(ain__sq_ctx_t *c);
int ain__store_sq_get_dag(ain__sq_ctx_t *c);
int ain__store_sq_audit_list(ain__sq_ctx_t *c);
int ain__store_sq_stats(ain__sq_ctx_t *c);
int ain__store_sq_list(ain__sq_ctx_t *c);
int ain__store_sq_list_dags(ain__sq_ctx_t *c);
int ain__store_sq_node_beat(ain__sq_ctx_t *c); /* nodes.c */
int ain__store_sq_nodes(ain__sq_ctx_t *c);
int ain__store_sq_source(ain__sq_ctx_t *c); /* SOURCE_PUT, SOURCE_LIST (source.c) */
int ain__store_sq_archive(ain__sq_ctx_t *c); /* archive.c */
int ain__store_sq_purge(ain__sq_ctx_t *c);   /* purge.c */
/* scripts.c: SCRIPT_PUT, SCRIPT_GET, SCRIPT_LIST, SCRIPT_PIN */
int ain__store_sq_scripts(ain__sq_ctx_t *c);
int ain__store_sq_artifact_put(ain__sq_ctx_t *c); /* media.c */
int ain__store_sq_artifact_get(ain__sq_ctx_t *c);
int ain__store_sq_plan_commit(ain__sq_ctx_t *c); /* plan.c */
int ain__store_sq_planned_list(ain__sq_ctx_t *c);
int ain__store_sq_trends_list(ain__sq_ctx_t *c);
int ain__store_sq_kv(ain__sq_ctx_t *c); /* KV_GET, KV_PUT, KV_DELETE (kv.c) */
int ain__store_sq_vec(ain__sq_ctx_t *c); /* VEC_PUT, VEC_LOAD (vec.c) */
/* review.c: VIDEO_JUDGED, REVIEW_LIST, REVIEW_DECIDE, RECEIPT_PUT, SETTING */
int ain__store_sq_review(ain__sq_ctx_t *c);
int ain__store_sq_wedge(ain__sq_ctx_t *c); /* wedge.c */
int ain__store_sq_retry(ain__sq_ctx_t *c); /* retry.c */
int ain__store_sq_metrics(ain__sq_ctx_t *c);       /* metrics.c */
/* review.c, inside the caller's write transaction: a setting's value (*out NULL when unset;
 * caller frees), and a write audited when it changes the value (why: a JSON object merged into
 * the audit detail, may be NULL); publishers.paused set to other than "true" wakes the parked
 * publish steps. */
int ain__store_sq_setting_get(ain__sq_ctx_t *c, const char *key, char **out);
int ain__store_sq_setting_put(ain__sq_ctx_t *c, const char *key, const char *value,
                              const char *why, int *changed);
int ain__store_sq_publish_guard(ain__sq_ctx_t *c); /* metrics.c */

/* Inside an open write transaction: inserts a batch (DAG row, tasks, edges, audit rows).
 * *nready += tasks stored ready. AIN_EEXIST / AIN_EINVAL / AIN_ESTORE with req->err set. */
int ain__store_sq_insert_batch(ain__sq_ctx_t *c, const ain_store_batch_t *b, int *nready);
/* Inside an open write transaction: a task of dag_id died (step names it). Fails the DAG and
 * cancels its other non-terminal tasks, with audit rows. Returns 0 or AIN_ESTORE. */
int ain__store_sq_fail_dag(ain__sq_ctx_t *c, const char *dag_id, const char *step,
                           const char *error);

#endif
