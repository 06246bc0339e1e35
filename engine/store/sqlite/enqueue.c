/* SQLite ENQUEUE and CLAIM: inserting a batch of work (DAG row, tasks, edges, audit rows) in one
 * transaction, and claiming ready tasks in priority order with a fencing token.
 * Relies on: internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* ---- batch id index (edges refer to tasks by id) ------------------------------------------- */

typedef struct {
  size_t cap;    /* power of two */
  int32_t *slot; /* task index + 1, 0 = empty */
} id_index_t;

static uint64_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  }
  return h;
}

static int index_build(id_index_t *ix, const ain_task_t *tasks, size_t n) {
  ix->cap = 16;
  while (ix->cap < n * 2) {
    ix->cap *= 2;
  }
  ix->slot = calloc(ix->cap, sizeof *ix->slot);
  if (ix->slot == NULL) {
    return AIN_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    size_t j = hash_id(tasks[i].id) & (ix->cap - 1);
    while (ix->slot[j] != 0) {
      j = (j + 1) & (ix->cap - 1);
    }
    ix->slot[j] = (int32_t)i + 1;
  }
  return 0;
}

/* Index of id in the batch, or -1. (Duplicate ids are the INSERT's to reject.) */
static long index_find(const id_index_t *ix, const ain_task_t *tasks, const char *id) {
  size_t j = hash_id(id) & (ix->cap - 1);
  while (ix->slot[j] != 0) {
    long i = ix->slot[j] - 1;
    if (strcmp(tasks[i].id, id) == 0) {
      return i;
    }
    j = (j + 1) & (ix->cap - 1);
  }
  return -1;
}

/* ---- insert ---------------------------------------------------------------------------------- */

static int insert_dag(ain__sq_ctx_t *c, const ain_store_batch_t *b) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_INS_DAG);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  const ain_dag_t *d = b->dag;
  ain__store_sq_bind_text(st, 1, d->id);
  ain__store_sq_bind_text(st, 2, d->root_task_id[0] ? d->root_task_id : NULL);
  ain__store_sq_bind_text(st, 3, d->persona_id);
  sqlite3_bind_int(st, 4, d->steps_total > 0 ? d->steps_total : (int)b->ntasks);
  sqlite3_bind_int64(st, 5, c->now);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    return 0;
  }
  if (sqlite3_extended_errcode(c->db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return ain_err_field(&c->req->err, AIN_EEXIST, "dag.id", "dag %s already exists", d->id);
  }
  return ain__store_sq_fail(c, "inserting dag");
}

/* deps_pending per task: edges to tasks that have not succeeded yet. */
static int count_deps(ain__sq_ctx_t *c, const ain_store_batch_t *b, int *pending) {
  id_index_t ix = {0};
  int rc = 0;
  if (b->ndeps == 0) {
    return 0;
  }
  if (index_build(&ix, b->tasks, b->ntasks) != 0) {
    return ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < b->ndeps; i++) {
    const ain_dep_t *d = &b->deps[i];
    long ti = index_find(&ix, b->tasks, d->task_id);
    if (ti < 0) {
      rc = ain_err_field(&c->req->err, AIN_EINVAL, "deps[].task_id",
                         "edge %s -> %s: %s is not a task of this batch", d->depends_on, d->task_id,
                         d->task_id);
      goto done;
    }
    if (index_find(&ix, b->tasks, d->depends_on) >= 0) {
      pending[ti]++;
      continue;
    }
    sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_TASK_STATUS);
    if (st == NULL) {
      rc = AIN_ESTORE;
      goto done;
    }
    ain__store_sq_bind_text(st, 1, d->depends_on);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
      rc = ain_err_field(&c->req->err, AIN_EINVAL, "deps[].depends_on",
                         "task %s depends on unknown task %s", d->task_id, d->depends_on);
      goto done;
    }
    if (step != SQLITE_ROW) {
      rc = ain__store_sq_fail(c, "reading dependency");
      goto done;
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), "succeeded") != 0) {
      pending[ti]++;
    }
    sqlite3_reset(st);
  }
done:
  free(ix.slot);
  return rc;
}

static int insert_task(ain__sq_ctx_t *c, const ain_store_batch_t *b, const ain_task_t *t,
                       int pending) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_INS_TASK);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  const char *dag_id = t->dag_id[0] ? t->dag_id : (b->dag != NULL ? b->dag->id : NULL);
  const char *status = pending > 0 ? "pending" : "ready";
  ain__store_sq_bind_text(st, 1, t->id);
  ain__store_sq_bind_text(st, 2, dag_id);
  ain__store_sq_bind_text(st, 3, t->type);
  ain__store_sq_bind_text(st, 4, t->step);
  ain__store_sq_bind_text(st, 5, t->handler);
  ain__store_sq_bind_text(st, 6, t->persona_id);
  ain__store_sq_bind_text(st, 7, t->payload != NULL ? t->payload : "{}");
  ain__store_sq_bind_text(st, 8, t->traceparent);
  ain__store_sq_bind_text(st, 9, status);
  sqlite3_bind_int(st, 10, t->priority);
  sqlite3_bind_int(st, 11, t->max_attempts > 0 ? t->max_attempts : 3);
  sqlite3_bind_int(st, 12, pending);
  sqlite3_bind_int64(st, 13, t->timeout_ms > 0 ? t->timeout_ms : 0);
  sqlite3_bind_int64(st, 14, t->run_at != 0 ? t->run_at : c->now);
  sqlite3_bind_int64(st, 15, c->now);
  if (sqlite3_step(st) != SQLITE_DONE) {
    int ext = sqlite3_extended_errcode(c->db->conn);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return ain_err_field(&c->req->err, AIN_EEXIST, "tasks[].id", "task %s already exists", t->id);
    }
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return ain_err_field(&c->req->err, AIN_EINVAL, "tasks[].dag_id", "task %s: unknown dag %s",
                           t->id, dag_id);
    }
    return ain__store_sq_fail(c, "inserting task");
  }
  return ain__store_sq_audit(c, t->id, dag_id, NULL, status, 0, NULL, NULL);
}

static int insert_edge(ain__sq_ctx_t *c, const ain_dep_t *d) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_INS_DEP);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, d->task_id);
  ain__store_sq_bind_text(st, 2, d->depends_on);
  if (sqlite3_step(st) != SQLITE_DONE) {
    if (sqlite3_extended_errcode(c->db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return ain_err_field(&c->req->err, AIN_EINVAL, "deps[]", "duplicate edge %s -> %s",
                           d->depends_on, d->task_id);
    }
    return ain__store_sq_fail(c, "inserting edge");
  }
  return 0;
}

int ain__store_sq_insert_batch(ain__sq_ctx_t *c, const ain_store_batch_t *b, int *nready) {
  int rc = ain_store_batch_check(b, &c->req->err);
  int *pending = NULL;
  if (rc != 0) {
    return rc;
  }
  if (b->dag != NULL && (rc = insert_dag(c, b)) != 0) {
    return rc;
  }
  pending = calloc(b->ntasks, sizeof *pending);
  if (pending == NULL) {
    return ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
  }
  if ((rc = count_deps(c, b, pending)) != 0) {
    goto fail;
  }
  for (size_t i = 0; i < b->ntasks; i++) {
    if ((rc = insert_task(c, b, &b->tasks[i], pending[i])) != 0) {
      goto fail;
    }
    *nready += pending[i] == 0;
  }
  for (size_t i = 0; i < b->ndeps; i++) {
    if ((rc = insert_edge(c, &b->deps[i])) != 0) {
      goto fail;
    }
  }
  free(pending);
  return 0;
fail:
  free(pending);
  return rc;
}

int ain__store_sq_enqueue(ain__sq_ctx_t *c) {
  int rc, nready = 0;
  if ((rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE)) != 0 ||
      (rc = ain__store_sq_insert_batch(c, c->req->u.enqueue.batch, &nready)) != 0 ||
      (rc = ain__store_sq_exec(c, SQ_COMMIT)) != 0) {
    return rc;
  }
  c->wake = nready > 0;
  return 0;
}

/* ---- claim ----------------------------------------------------------------------------------- */

static int cmp_claim_order(const void *a, const void *b) {
  const ain_task_t *x = a, *y = b;
  if (x->priority != y->priority) {
    return x->priority > y->priority ? -1 : 1;
  }
  if (x->run_at != y->run_at) {
    return x->run_at < y->run_at ? -1 : 1;
  }
  return strcmp(x->id, y->id);
}

static int deps_result(ain__sq_ctx_t *c, ain_task_t *t) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_DEPS_RESULT);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, t->id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reading dependency results");
  }
  if (sqlite3_column_int(st, 0) > 0) {
    t->deps_result = ain__store_sq_col_dup(st, 1);
  }
  sqlite3_reset(st);
  return 0;
}

int ain__store_sq_claim(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  size_t n = 0, cap = (size_t)req->u.claim.max < 64 ? (size_t)req->u.claim.max : 64;
  ain_task_t *tasks = NULL;
  if (req->actor == NULL) {
    c->actor = req->u.claim.owner; /* the audit names who holds the lease */
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_CLAIM);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, req->u.claim.owner);
  sqlite3_bind_int64(st, 2, c->now + req->u.claim.lease_ms);
  sqlite3_bind_int64(st, 3, c->now);
  sqlite3_bind_int(st, 4, req->u.claim.max);
  tasks = calloc(cap, sizeof *tasks);
  if (tasks == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      ain_task_t *grown = realloc(tasks, cap * 2 * sizeof *tasks);
      if (grown == NULL) {
        rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
        goto fail;
      }
      tasks = grown;
      cap *= 2;
    }
    ain__store_sq_read_task(st, &tasks[n++]);
  }
  if (rc != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "claiming");
    goto fail;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < n; i++) {
    if ((rc = ain__store_sq_audit(c, tasks[i].id, tasks[i].dag_id, "ready", "running",
                                  tasks[i].state_version, NULL, NULL)) != 0 ||
        (rc = deps_result(c, &tasks[i])) != 0) {
      goto fail;
    }
  }
  if ((rc = ain__store_sq_exec(c, SQ_COMMIT)) != 0) {
    goto fail;
  }
  qsort(tasks, n, sizeof *tasks, cmp_claim_order);
  req->u.claim.tasks = tasks;
  req->u.claim.ntasks = n;
  return 0;
fail:
  for (size_t i = 0; i < n; i++) {
    ain_task_free(&tasks[i]);
  }
  free(tasks);
  return rc;
}
