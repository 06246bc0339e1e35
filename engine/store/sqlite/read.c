/* SQLite read ops: GET_TASK, GET_DAG (row, tasks in creation order, edges), AUDIT (oldest first),
 * STATS, LIST_TASKS and LIST_DAGS (newest first). Each runs in one read transaction so
 * multi-query answers are consistent. Relies on: internal.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* Growable array of rows; *items realloc'd in steps. */
static void *grow(void *items, size_t *cap, size_t n, size_t size) {
  if (n < *cap) {
    return items;
  }
  *cap = *cap ? *cap * 2 : 16;
  void *grown = realloc(items, *cap * size);
  if (grown == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  return grown;
}

static int read_tasks(ain__sq_ctx_t *c, sqlite3_stmt *st, ain_task_t **out, size_t *nout) {
  size_t n = 0, cap = 0;
  ain_task_t *tasks = NULL;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    tasks = grow(tasks, &cap, n, sizeof *tasks);
    ain__store_sq_read_task(st, &tasks[n++]);
  }
  *out = tasks;
  *nout = n;
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading tasks");
}

static int not_found(ain__sq_ctx_t *c, const char *what, const char *id) {
  return ain_err_field(&c->req->err, AIN_ENOTFOUND, "id", "%s %s not found", what, id);
}

int ain__store_sq_get_task(ain__sq_ctx_t *c) {
  const char *id = c->req->u.get_task.id;
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_GET_TASK);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return not_found(c, "task", id);
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reading task");
  }
  ain__store_sq_read_task(st, &c->req->u.get_task.task);
  return 0;
}

static void read_dag_cols(sqlite3_stmt *st, ain_dag_t *d);

static int read_dag_row(ain__sq_ctx_t *c, const char *id, ain_dag_t *d) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_GET_DAG);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return not_found(c, "dag", id);
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reading dag");
  }
  read_dag_cols(st, d);
  return 0;
}

/* One dags row of SQ_GET_DAG / SQ_LIST_DAGS* (DAG_COLS, stmt.c) into d. */
static void read_dag_cols(sqlite3_stmt *st, ain_dag_t *d) {
  const unsigned char *root = sqlite3_column_text(st, 1);
  snprintf(d->id, sizeof d->id, "%s", sqlite3_column_text(st, 0));
  snprintf(d->root_task_id, sizeof d->root_task_id, "%s", root ? (const char *)root : "");
  d->persona_id = ain__store_sq_col_dup(st, 2);
  d->last_error = ain__store_sq_col_dup(st, 3);
  int status = ain_dag_status_parse((const char *)sqlite3_column_text(st, 4));
  d->status = status < 0 ? AIN_DAG_FAILED : (ain_dag_status_t)status;
  d->steps_total = sqlite3_column_int(st, 5);
  d->steps_done = sqlite3_column_int(st, 6);
  d->state_version = sqlite3_column_int64(st, 7);
  d->created_at = sqlite3_column_int64(st, 8);
  d->updated_at = sqlite3_column_int64(st, 9);
}

static int get_dag(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const char *id = req->u.get_dag.id;
  int rc = read_dag_row(c, id, &req->u.get_dag.dag);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_DAG_TASKS);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  if ((rc = read_tasks(c, st, &req->u.get_dag.tasks, &req->u.get_dag.ntasks)) != 0) {
    return rc;
  }
  if ((st = ain__store_sq_stmt(c, SQ_DAG_DEPS)) == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  size_t n = 0, cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    req->u.get_dag.deps = grow(req->u.get_dag.deps, &cap, n, sizeof *req->u.get_dag.deps);
    req->u.get_dag.deps[n].task_id = ain__store_sq_col_dup(st, 0);
    req->u.get_dag.deps[n].depends_on = ain__store_sq_col_dup(st, 1);
    req->u.get_dag.ndeps = ++n;
  }
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading edges");
}

/* "[1,2,3]": ids as a JSON array (json_each binds a list); "[]" for none. */
static char *id_array(const int64_t *ids, size_t n) {
  char *out = malloc(n * 21 + 3);
  if (out == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  size_t o = 0;
  out[o++] = '[';
  for (size_t i = 0; i < n; i++) {
    o += (size_t)sprintf(out + o, "%s%lld", i ? "," : "", (long long)ids[i]);
  }
  out[o++] = ']';
  out[o] = '\0';
  return out;
}

static int audit_list(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  int by_task = req->u.audit.task_id != NULL && req->u.audit.task_id[0] != '\0';
  int decisions = req->u.audit.handler != NULL;
  int tail = req->u.audit.tail;
  /* lists: an empty one is no "not found" */
  int ops = req->u.audit.operator_rows || decisions || tail;
  const char *id = by_task ? req->u.audit.task_id : req->u.audit.dag_id;
  sqlite3_stmt *st = ain__store_sq_stmt(c, tail == 1    ? SQ_AUDIT_TAIL
                                           : tail       ? SQ_AUDIT_NEWEST
                                           : decisions ? SQ_AUDIT_DECISIONS
                                           : ops     ? SQ_AUDIT_OPERATOR
                                           : by_task ? SQ_AUDIT_BY_TASK
                                                     : SQ_AUDIT_BY_DAG);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  char *also = NULL;
  if (tail == 1) {
    sqlite3_bind_int64(st, 1, req->u.audit.after_id);
    sqlite3_bind_int64(st, 2, req->u.audit.upto_id);
    sqlite3_bind_int(st, 3, req->u.audit.limit > 0 ? req->u.audit.limit : 1000);
    also = id_array(req->u.audit.also_ids, req->u.audit.nalso);
    sqlite3_bind_text(st, 4, also, -1, SQLITE_TRANSIENT);
    free(also);
  } else if (tail) {
    /* no parameters */
  } else if (decisions) {
    ain__store_sq_bind_text(st, 1, req->u.audit.handler);
    sqlite3_bind_int64(st, 2, req->u.audit.since);
    sqlite3_bind_int(st, 3, req->u.audit.limit > 0 ? req->u.audit.limit : 1000);
  } else if (ops) {
    sqlite3_bind_int(st, 1, req->u.audit.limit > 0 ? req->u.audit.limit : 100);
  } else {
    ain__store_sq_bind_text(st, 1, id);
  }
  size_t n = 0, cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    req->u.audit.rows = grow(req->u.audit.rows, &cap, n, sizeof *req->u.audit.rows);
    ain_audit_t *a = &req->u.audit.rows[n];
    a->id = sqlite3_column_int64(st, 0);
    a->task_id = ain__store_sq_col_dup(st, 1);
    a->dag_id = ain__store_sq_col_dup(st, 2);
    a->actor = ain__store_sq_col_dup(st, 3);
    a->from_status = ain__store_sq_col_dup(st, 4);
    a->to_status = ain__store_sq_col_dup(st, 5);
    a->detail = ain__store_sq_col_dup(st, 6);
    a->state_version = sqlite3_column_int64(st, 7);
    a->ts = sqlite3_column_int64(st, 8);
    a->task_type = tail ? ain__store_sq_col_dup(st, 9) : NULL;
    req->u.audit.nrows = ++n;
  }
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "reading audit log");
  }
  if (n == 0 && !ops) {
    /* No rows can mean "no such thing": every task has a creation row, a DAG its tasks'. */
    st = ain__store_sq_stmt(c, by_task ? SQ_TASK_STATUS : SQ_DAG_STATUS);
    if (st == NULL) {
      return AIN_ESTORE;
    }
    ain__store_sq_bind_text(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
      return not_found(c, by_task ? "task" : "dag", id);
    }
    if (step != SQLITE_ROW) {
      return ain__store_sq_fail(c, "looking up");
    }
  }
  return 0;
}

static int stats(ain__sq_ctx_t *c) {
  ain_store_stats_t *out = &c->req->u.stats.stats;
  memset(out, 0, sizeof *out);
  /* open_only: the open statuses as 0/1 and no DAG counts (store.h) */
  int open_only = c->req->u.stats.open_only;
  for (int pass = 0; pass < (open_only ? 1 : 2); pass++) {
    sqlite3_stmt *st = ain__store_sq_stmt(
        c, pass == 0 ? (open_only ? SQ_STATS_OPEN : SQ_STATS_TASKS) : SQ_STATS_DAGS);
    if (st == NULL) {
      return AIN_ESTORE;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      const char *name = (const char *)sqlite3_column_text(st, 0);
      int i = pass == 0 ? ain_task_status_parse(name) : ain_dag_status_parse(name);
      if (i >= 0) {
        (pass == 0 ? out->tasks : out->dags)[i] = sqlite3_column_int64(st, 1);
      }
    }
    if (step != SQLITE_DONE) {
      return ain__store_sq_fail(c, "counting");
    }
  }
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_STATS_NEXT);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  if (sqlite3_step(st) != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reading next run_at");
  }
  out->next_run_at = sqlite3_column_int64(st, 0); /* NULL reads as 0 */
  return 0;
}

static int list(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_LIST);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(
      st, 1,
      req->u.list.status >= 0 ? ain_task_status_name((ain_task_status_t)req->u.list.status) : NULL);
  ain__store_sq_bind_text(st, 2, req->u.list.dag_id);
  sqlite3_bind_int(st, 3, req->u.list.limit > 0 ? req->u.list.limit : 100);
  ain__store_sq_bind_text(st, 4, req->u.list.type);
  sqlite3_bind_int64(st, 5, req->u.list.after_created_at);
  ain__store_sq_bind_text(st, 6, req->u.list.after_id);
  return read_tasks(c, st, &req->u.list.tasks, &req->u.list.ntasks);
}

static int list_dags(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  int status = req->u.list_dags.status;
  const char *persona = req->u.list_dags.persona_id;
  sqlite3_stmt *st =
      ain__store_sq_stmt(c, SQ_LIST_DAGS + (status >= 0 ? 1 : 0) + (persona != NULL ? 2 : 0));
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1,
                          status >= 0 ? ain_dag_status_name((ain_dag_status_t)status) : NULL);
  ain__store_sq_bind_text(st, 2, persona);
  /* the first page: everything before (INT64_MAX, ''), i.e. every row */
  int after = req->u.list_dags.after_id != NULL;
  sqlite3_bind_int64(st, 3, after ? req->u.list_dags.after_created_at : INT64_MAX);
  ain__store_sq_bind_text(st, 4, after ? req->u.list_dags.after_id : "");
  sqlite3_bind_int(st, 5, req->u.list_dags.limit > 0 ? req->u.list_dags.limit : 100);
  size_t n = 0, cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    req->u.list_dags.dags = grow(req->u.list_dags.dags, &cap, n, sizeof *req->u.list_dags.dags);
    memset(&req->u.list_dags.dags[n], 0, sizeof req->u.list_dags.dags[n]);
    read_dag_cols(st, &req->u.list_dags.dags[n]);
    req->u.list_dags.ndags = ++n;
  }
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading dags");
}

/* Every read runs inside BEGIN ... COMMIT (a deferred, read-only transaction), or inside the one
 * ain_store_snapshot holds open on the handle's reader. */
static int in_read_txn(ain__sq_ctx_t *c, int (*fn)(ain__sq_ctx_t *c)) {
  if (c->s->snapshot && c->db == c->s->reader) {
    int rc = fn(c);
    ain__store_sq_reset_used(c);
    return rc;
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_READ);
  if (rc != 0) {
    return rc;
  }
  rc = fn(c);
  ain__store_sq_reset_used(c); /* release the statements before ending the transaction */
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

int ain__store_sq_get_dag(ain__sq_ctx_t *c) {
  return in_read_txn(c, get_dag);
}
int ain__store_sq_audit_list(ain__sq_ctx_t *c) {
  return in_read_txn(c, audit_list);
}
int ain__store_sq_stats(ain__sq_ctx_t *c) {
  return in_read_txn(c, stats);
}
int ain__store_sq_list(ain__sq_ctx_t *c) {
  return in_read_txn(c, list);
}
int ain__store_sq_list_dags(ain__sq_ctx_t *c) {
  return in_read_txn(c, list_dags);
}
