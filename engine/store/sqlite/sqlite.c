/* The SQLite backend: ain_store_sqlite_backend. Opens (or shares) one connection per database
 * path in the process, runs each request synchronously inside submit (SQLite calls take
 * microseconds, which DESIGN allows on a loop thread) under the connection's mutex, and delivers
 * the callback on the next loop iteration through a uv_idle, in submit order. After a commit that
 * may have made tasks claimable it wakes the other handles on the same path (uv_async). Pure
 * reads run on a read-only connection of the handle's own (WAL: they wait for no writer).
 * Relies on: internal.h, sqlite3, libuv, pthreads. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* Registry of shared connections, by path. Handles come and go from shard threads. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static ain__sq_db_t *registry;

static char *db_key(const char *path) {
  char buf[PATH_MAX];
  if (strcmp(path, ":memory:") != 0 && realpath(path, buf) != NULL) {
    return ain_strdup(buf);
  }
  return ain_strdup(path);
}

static int db_configure(sqlite3 *conn, const ain_store_config_t *cfg, ain_err_t *err) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; "
           "PRAGMA temp_store=MEMORY;",
           cfg->synchronous_full ? "FULL" : "NORMAL");
  char *msg = NULL;
  /* First: switching to WAL needs the lock too, and another process may hold it right now. */
  sqlite3_busy_timeout(conn, cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 5000);
  if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
    ain_err_field(err, AIN_ESTORE, "store.url", "sqlite: configuring connection: %s",
                  msg ? msg : sqlite3_errmsg(conn));
    sqlite3_free(msg);
    return AIN_ESTORE;
  }
  return 0;
}

/* Finds or opens the shared connection for path; takes a reference. */
static int db_acquire(const char *path, const ain_store_config_t *cfg, ain__sq_db_t **out,
                      ain_err_t *err) {
  int rc = 0;
  sqlite3 *conn = NULL;
  ain__sq_db_t *db = NULL;
  char *key = db_key(path);
  pthread_mutex_lock(&registry_mu);
  for (db = registry; db != NULL; db = db->next) {
    if (strcmp(db->key, key) == 0) {
      db->refs++;
      *out = db;
      goto done;
    }
  }
  /* Our own mutex serialises every use of the connection, so SQLite's is redundant. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  /* A fresh checkout has no var/ yet: create the database's folder. */
  int mrc = strcmp(path, ":memory:") != 0 ? ain_mkdir_parent(path) : 0;
  if (mrc != 0) {
    rc = ain_err_field(err, AIN_ESTORE, "store.url", "sqlite: cannot create the folder of %s: %s",
                       path, strerror(-mrc));
    goto fail;
  }
  if (sqlite3_open_v2(path, &conn, flags, NULL) != SQLITE_OK) {
    rc = ain_err_field(err, AIN_ESTORE, "store.url", "sqlite: opening %s: %s", path,
                       conn ? sqlite3_errmsg(conn) : "out of memory");
    goto fail;
  }
  if ((rc = db_configure(conn, cfg, err)) != 0) {
    goto fail;
  }
  db = calloc(1, sizeof *db);
  if (db == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "sqlite: out of memory");
    goto fail;
  }
  pthread_mutex_init(&db->mu, NULL);
  free(key);
  key = db_key(path); /* the file exists now, so this is its canonical name */
  db->key = key;
  key = NULL;
  db->conn = conn;
  db->refs = 1;
  db->next = registry;
  registry = db;
  *out = db;
  goto done;
fail:
  sqlite3_close(conn);
done:
  pthread_mutex_unlock(&registry_mu);
  free(key);
  return rc;
}

static void db_release(ain__sq_db_t *db) {
  pthread_mutex_lock(&registry_mu);
  if (--db->refs > 0) {
    pthread_mutex_unlock(&registry_mu);
    return;
  }
  for (ain__sq_db_t **p = &registry; *p != NULL; p = &(*p)->next) {
    if (*p == db) {
      *p = db->next;
      break;
    }
  }
  pthread_mutex_unlock(&registry_mu);
  ain__store_sq_finalize_all(db);
  sqlite3_close(db->conn);
  pthread_mutex_destroy(&db->mu);
  free(db->key);
  free(db);
}

/* ---- the handle's own reader ------------------------------------------------------------------ */

/* Pure reads (one SELECT, or several inside a deferred BEGIN): they may run on the handle's own
 * connection. Everything else, and anything that writes, stays on the shared one. */
static int read_op(ain_store_op_t op) {
  return op == AIN_STORE_GET_TASK || op == AIN_STORE_GET_DAG || op == AIN_STORE_AUDIT ||
         op == AIN_STORE_STATS || op == AIN_STORE_LIST_TASKS;
}

/* The reader of s, opened now if it is not yet; NULL = use the shared connection. */
static ain__sq_db_t *reader_of(ain__sq_store_t *s) {
  if (s->reader != NULL || s->reader_failed) {
    return s->reader;
  }
  s->reader_failed = 1;
  if (strcmp(s->db->key, ":memory:") == 0) {
    return NULL;
  }
  sqlite3 *conn = NULL;
  ain__sq_db_t *r = NULL;
  if (sqlite3_open_v2(s->db->key, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    goto fail;
  }
  /* journal_mode=WAL is the file's (the shared connection set it); query_only makes a write
   * through this connection an error instead of a second writer. */
  sqlite3_busy_timeout(conn, s->read_busy_ms);
  if (sqlite3_exec(conn, "PRAGMA query_only=1; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL) !=
      SQLITE_OK) {
    goto fail;
  }
  r = calloc(1, sizeof *r);
  if (r == NULL || (r->key = ain_strdup(s->db->key)) == NULL) {
    goto fail;
  }
  pthread_mutex_init(&r->mu, NULL);
  r->conn = conn;
  r->refs = 1;
  s->reader = r;
  s->reader_failed = 0;
  return r;
fail:
  if (r != NULL) {
    free(r->key);
    free(r);
  }
  sqlite3_close(conn);
  return NULL;
}

static void reader_close(ain__sq_store_t *s) {
  ain__sq_db_t *r = s->reader;
  if (r == NULL) {
    return;
  }
  s->reader = NULL;
  ain__store_sq_finalize_all(r);
  sqlite3_close(r->conn);
  pthread_mutex_destroy(&r->mu);
  free(r->key);
  free(r);
}

/* ---- callbacks off the submit stack ------------------------------------------------------- */

static void deliver(uv_idle_t *idle);

static void close_handles(ain__sq_store_t *s);

static void deliver(uv_idle_t *idle) {
  ain__sq_store_t *s = idle->data;
  /* Only what was queued before this pass: a callback that submits again gets its own pass. */
  ain_store_req_t *req = s->done_head;
  s->done_head = s->done_tail = NULL;
  while (req != NULL) {
    ain_store_req_t *next = req->next_;
    req->next_ = NULL;
    req->done = 1;
    ain__store_observe(&s->base, req);
    if (req->cb != NULL) {
      req->cb(req);
    }
    req = next;
  }
  if (s->done_head == NULL) {
    uv_idle_stop(&s->idle);
    if (s->closing) {
      close_handles(s);
    }
  }
}

static void sq_deliver_now(ain_store_t *base) {
  ain__sq_store_t *s = (ain__sq_store_t *)base;
  if (s->done_head != NULL) {
    deliver(&s->idle);
  }
}

static void on_wake(uv_async_t *a) {
  ain__sq_store_t *s = a->data;
  if (!s->closing && s->base.wake_cb != NULL) {
    s->base.wake_cb(s->base.wake_data);
  }
}

/* ---- submit ---------------------------------------------------------------------------------- */

typedef int (*op_fn)(ain__sq_ctx_t *c);

static const op_fn ops[AIN_STORE_OP_COUNT] = {
    [AIN_STORE_MIGRATE] = ain__store_sq_migrate, [AIN_STORE_ENQUEUE] = ain__store_sq_enqueue,
    [AIN_STORE_CLAIM] = ain__store_sq_claim,     [AIN_STORE_FINISH] = ain__store_sq_finish,
    [AIN_STORE_EXTEND] = ain__store_sq_extend,   [AIN_STORE_REAP] = ain__store_sq_reap,
    [AIN_STORE_CANCEL] = ain__store_sq_cancel,   [AIN_STORE_GET_TASK] = ain__store_sq_get_task,
    [AIN_STORE_GET_DAG] = ain__store_sq_get_dag, [AIN_STORE_AUDIT] = ain__store_sq_audit_list,
    [AIN_STORE_STATS] = ain__store_sq_stats,     [AIN_STORE_LIST_TASKS] = ain__store_sq_list,
    [AIN_STORE_NODE_BEAT] = ain__store_sq_node_beat, [AIN_STORE_NODES] = ain__store_sq_nodes,
    [AIN_STORE_ARCHIVE] = ain__store_sq_archive,
    [AIN_STORE_KV_GET] = ain__store_sq_kv,       [AIN_STORE_KV_PUT] = ain__store_sq_kv,
    [AIN_STORE_KV_DELETE] = ain__store_sq_kv,
    [AIN_STORE_SCRIPT_PUT] = ain__store_sq_scripts, [AIN_STORE_SCRIPT_GET] = ain__store_sq_scripts,
    [AIN_STORE_SCRIPT_LIST] = ain__store_sq_scripts, [AIN_STORE_SCRIPT_PIN] = ain__store_sq_scripts,
    [AIN_STORE_ARTIFACT_PUT] = ain__store_sq_artifact_put,
    [AIN_STORE_ARTIFACT_GET] = ain__store_sq_artifact_get,
    [AIN_STORE_PLAN_COMMIT] = ain__store_sq_plan_commit,
    [AIN_STORE_PLANNED_LIST] = ain__store_sq_planned_list,
    [AIN_STORE_TRENDS_LIST] = ain__store_sq_trends_list,
    [AIN_STORE_VIDEO_JUDGED] = ain__store_sq_review, [AIN_STORE_REVIEW_LIST] = ain__store_sq_review,
    [AIN_STORE_REVIEW_DECIDE] = ain__store_sq_review, [AIN_STORE_RECEIPT_PUT] = ain__store_sq_review,
    [AIN_STORE_SETTING] = ain__store_sq_review,
    [AIN_STORE_PURGE] = ain__store_sq_purge,
    [AIN_STORE_WEDGE] = ain__store_sq_wedge,
    [AIN_STORE_RETRY] = ain__store_sq_retry,
    [AIN_STORE_METRICS] = ain__store_sq_metrics,
    [AIN_STORE_PUBLISH_GUARD] = ain__store_sq_publish_guard,
    [AIN_STORE_LIST_DAGS] = ain__store_sq_list_dags,
    [AIN_STORE_VEC_PUT] = ain__store_sq_vec,     [AIN_STORE_VEC_LOAD] = ain__store_sq_vec,
    [AIN_STORE_SOURCE_PUT] = ain__store_sq_source, [AIN_STORE_SOURCE_LIST] = ain__store_sq_source,
};

static int sq_submit(ain_store_t *base, ain_store_req_t *req) {
  ain__sq_store_t *s = (ain__sq_store_t *)base;
  if (s->closing) {
    return ain_err_set(&req->err, AIN_ESHUTDOWN, "store handle is closing");
  }
  if ((unsigned)req->op >= AIN_STORE_OP_COUNT || ops[req->op] == NULL) {
    return ain_err_set(&req->err, AIN_EINVAL, "unknown store op %d", (int)req->op);
  }
  ain__sq_db_t *db = read_op(req->op) ? reader_of(s) : NULL;
  if (db == NULL) {
    db = s->db;
  }
  ain__sq_ctx_t c = {.db = db, .s = s, .req = req};
  c.now = req->now != 0 ? req->now : ain_now_ms();
  c.actor = req->actor != NULL ? req->actor : "store";
  pthread_mutex_lock(&db->mu);
  int rc = ops[req->op](&c);
  if (rc != 0 && !(s->snapshot && db == s->reader)) { /* a snapshot's reads wrote nothing */
    ain__store_sq_rollback(&c);
  }
  ain__store_sq_reset_used(&c);
  if (rc == 0 && c.wake) {
    for (ain__sq_store_t *h = s->db->handles; h != NULL; h = h->next_handle) {
      if (h != s) {
        uv_async_send(&h->wake);
      }
    }
  }
  pthread_mutex_unlock(&db->mu);
  req->status = rc;
  if (rc != 0 && req->err.code == 0) {
    ain_err_set(&req->err, rc, "%s", ain_strerror(rc));
  }
  if (s->done_tail != NULL) {
    s->done_tail->next_ = req;
  } else {
    s->done_head = req;
  }
  s->done_tail = req;
  uv_idle_start(&s->idle, deliver);
  return 0;
}

/* ain_store_snapshot: a deferred BEGIN on the handle's reader, so the snapshot is taken by the
 * first read after it; COMMIT ends it. Without a reader (":memory:", or it failed to open) reads
 * share the writers' connection, where an open transaction would hold up every writer: none. */
static int sq_snapshot(ain_store_t *base, int hold) {
  ain__sq_store_t *s = (ain__sq_store_t *)base;
  if (!hold || s->snapshot) {
    if (!hold && s->snapshot) {
      ain__sq_db_t *db = s->reader;
      s->snapshot = 0;
      ain_store_req_t req;
      memset(&req, 0, sizeof req);
      ain__sq_ctx_t c = {.db = db, .s = s, .req = &req};
      pthread_mutex_lock(&db->mu);
      if (!sqlite3_get_autocommit(db->conn) && ain__store_sq_exec(&c, SQ_COMMIT) != 0) {
        ain__store_sq_rollback(&c); /* nothing was written: only the read lock to let go */
      }
      ain__store_sq_reset_used(&c);
      pthread_mutex_unlock(&db->mu);
    }
    return 0;
  }
  ain__sq_db_t *db = s->closing ? NULL : reader_of(s);
  if (db == NULL) {
    return 1;
  }
  ain_store_req_t req;
  memset(&req, 0, sizeof req);
  ain__sq_ctx_t c = {.db = db, .s = s, .req = &req};
  pthread_mutex_lock(&db->mu);
  int rc = ain__store_sq_exec(&c, SQ_BEGIN_READ);
  ain__store_sq_reset_used(&c);
  pthread_mutex_unlock(&db->mu);
  s->snapshot = rc == 0;
  return rc;
}

/* ---- open / close --------------------------------------------------------------------------- */

static int sq_open(const ain_store_config_t *cfg, uv_loop_t *loop, ain_store_t **out,
                   ain_err_t *err) {
  int rc;
  const char *path = cfg->url;
  if (strncmp(path, "sqlite:", 7) == 0) {
    path += 7;
    if (strncmp(path, "//", 2) == 0) {
      path += 2; /* sqlite:///abs/path */
    }
  }
  if (path[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "store.url", "sqlite URL has no path: '%s'", cfg->url);
  }
  ain__sq_store_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "sqlite: out of memory");
  }
  if ((rc = db_acquire(path, cfg, &s->db, err)) != 0) {
    goto fail;
  }
  s->sql_dir = ain_strdup(cfg->sql_dir != NULL ? cfg->sql_dir : AIN_SOURCE_DIR "/sql");
  s->read_busy_ms = cfg->read_busy_timeout_ms == 0  ? 5000
                    : cfg->read_busy_timeout_ms < 0 ? 0
                                                    : cfg->read_busy_timeout_ms;
  s->base.backend = &ain_store_sqlite_backend;
  s->base.loop = loop;
  uv_idle_init(loop, &s->idle);
  s->idle.data = s;
  uv_async_init(loop, &s->wake, on_wake);
  s->wake.data = s;
  /* Wake-ups are optional work: they must not keep a loop alive on their own. */
  uv_unref((uv_handle_t *)&s->wake);
  s->open_handles = 2;
  pthread_mutex_lock(&s->db->mu);
  s->next_handle = s->db->handles;
  s->db->handles = s;
  pthread_mutex_unlock(&s->db->mu);
  *out = &s->base;
  return 0;
fail:
  free(s);
  return rc;
}

static void on_handle_closed(uv_handle_t *h) {
  ain__sq_store_t *s = h->data;
  if (--s->open_handles > 0) {
    return;
  }
  void (*cb)(void *) = s->close_cb;
  void *data = s->close_data;
  reader_close(s);
  db_release(s->db);
  free(s->sql_dir);
  free(s);
  if (cb != NULL) {
    cb(data);
  }
}

static void close_handles(ain__sq_store_t *s) {
  if (uv_is_closing((uv_handle_t *)&s->idle)) {
    return;
  }
  uv_close((uv_handle_t *)&s->idle, on_handle_closed);
  uv_close((uv_handle_t *)&s->wake, on_handle_closed);
}

static void sq_close(ain_store_t *base, void (*cb)(void *data), void *data) {
  ain__sq_store_t *s = (ain__sq_store_t *)base;
  if (s->closing) {
    return;
  }
  s->closing = 1;
  s->close_cb = cb;
  s->close_data = data;
  /* No more wake-ups to this handle: other threads stop seeing it before its async closes. */
  pthread_mutex_lock(&s->db->mu);
  for (ain__sq_store_t **p = &s->db->handles; *p != NULL; p = &(*p)->next_handle) {
    if (*p == s) {
      *p = s->next_handle;
      break;
    }
  }
  pthread_mutex_unlock(&s->db->mu);
  /* Requests already executed still get their (real) results delivered before the close. */
  if (s->done_head == NULL) {
    close_handles(s);
  }
}

const ain_store_backend_t ain_store_sqlite_backend = {
    .name = "sqlite", .open = sq_open, .submit = sq_submit, .close = sq_close,
    .deliver_now = sq_deliver_now,
    .snapshot = sq_snapshot};
