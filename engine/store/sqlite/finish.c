/* SQLite FINISH, EXTEND, REAP and CANCEL: every transition of a claimed task, fenced by
 * state_version, with its audit rows, the release of dependents, the DAG's progress and, when a
 * task dies, the DAG's failure and the cancellation of its other tasks, all in one transaction.
 * Relies on: internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

/* Ends a running DAG (failed/cancelled) with an audit row of its own; 0 if it was not running. */
static int end_dag(ain__sq_ctx_t *c, const char *dag_id, const char *to, const char *why) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_DAG_END);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, dag_id);
  ain__store_sq_bind_text(st, 2, to);
  ain__store_sq_bind_text(st, 3, why);
  sqlite3_bind_int64(st, 4, c->now);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return 0;
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "ending dag");
  }
  int64_t version = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return ain__store_sq_audit(c, NULL, dag_id, "running", to, version, NULL, why);
}

/* Cancels the non-terminal tasks of a DAG (or one task); *count gets how many. */
static int cancel_rows(ain__sq_ctx_t *c, int by_dag, const char *id, const char *why, int *count) {
  sqlite3_stmt *st =
      ain__store_sq_stmt(c, by_dag ? SQ_AUDIT_CANCEL_DAG_TASKS : SQ_AUDIT_CANCEL_TASK);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  ain__store_sq_bind_text(st, 2, c->actor);
  ain__store_sq_bind_text(st, 3, why); /* detail {"error": why}, as the audit helper writes */
  sqlite3_bind_int64(st, 4, ain__store_sq_audit_ts(c));
  int rc = ain__store_sq_run(c, st, "auditing cancellation");
  if (rc != 0) {
    return rc;
  }
  st = ain__store_sq_stmt(c, by_dag ? SQ_CANCEL_DAG_TASKS : SQ_CANCEL_TASK);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, id);
  ain__store_sq_bind_text(st, 2, why);
  sqlite3_bind_int64(st, 3, c->now);
  if ((rc = ain__store_sq_run(c, st, "cancelling")) != 0) {
    return rc;
  }
  if (count != NULL) {
    *count = sqlite3_changes(c->db->conn);
  }
  return 0;
}

int ain__store_sq_fail_dag(ain__sq_ctx_t *c, const char *dag_id, const char *step,
                           const char *error) {
  char why[1024];
  snprintf(why, sizeof why, "step %s: %s", step, error != NULL ? error : "failed");
  int rc = end_dag(c, dag_id, "failed", why);
  if (rc != 0) {
    return rc;
  }
  char cancelled[1100];
  snprintf(cancelled, sizeof cancelled, "ECANCELLED: dag failed: %s", why);
  return cancel_rows(c, 1, dag_id, cancelled, NULL);
}

/* ---- finish ---------------------------------------------------------------------------------- */

/* Dependents of a succeeded task lose one pending edge; those at zero become ready. */
static int release_dependents(ain__sq_ctx_t *c, const char *task_id) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_RELEASE_DEPENDENTS);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, task_id);
  sqlite3_bind_int64(st, 2, c->now);
  /* Collect first: the audit insert is another statement on the same connection. */
  struct ready {
    char id[AIN_UUID_LEN + 1], dag[AIN_UUID_LEN + 1];
    int64_t version;
  } *ready = NULL;
  size_t n = 0, cap = 0;
  int step, rc = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (strcmp((const char *)sqlite3_column_text(st, 2), "ready") != 0) {
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      struct ready *grown = realloc(ready, cap * sizeof *ready);
      if (grown == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto done;
      }
      ready = grown;
    }
    const unsigned char *dag = sqlite3_column_text(st, 1);
    snprintf(ready[n].id, sizeof ready[n].id, "%s", sqlite3_column_text(st, 0));
    snprintf(ready[n].dag, sizeof ready[n].dag, "%s", dag ? (const char *)dag : "");
    ready[n].version = sqlite3_column_int64(st, 3);
    n++;
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "releasing dependents");
    goto done;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = ain__store_sq_audit(c, ready[i].id, ready[i].dag, "pending", "ready", ready[i].version,
                             NULL, NULL);
    c->wake = 1;
  }
done:
  free(ready);
  return rc;
}

static int dag_step_done(ain__sq_ctx_t *c, const char *dag_id) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_DAG_STEP_DONE);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, dag_id);
  sqlite3_bind_int64(st, 2, c->now);
  int rc = ain__store_sq_run(c, st, "counting dag step");
  if (rc != 0 || (st = ain__store_sq_stmt(c, SQ_DAG_SUCCEED)) == NULL) {
    return rc != 0 ? rc : AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, dag_id);
  sqlite3_bind_int64(st, 2, c->now);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return 0;
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "completing dag");
  }
  int64_t version = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return ain__store_sq_audit(c, NULL, dag_id, "running", "succeeded", version, NULL, NULL);
}

static const ain__sq_stmt_id finish_stmt[] = {
    [AIN_FINISH_SUCCEEDED] = SQ_FIN_SUCCEED,
    [AIN_FINISH_RETRY] = SQ_FIN_RETRY,
    [AIN_FINISH_FAIL] = SQ_FIN_DEAD,
    [AIN_FINISH_RELEASE] = SQ_FIN_RELEASE,
    [AIN_FINISH_PARK] = SQ_FIN_PARK,
};

/* The fenced transition itself. Returns 0 (applied), 1 (fenced out) or AIN_E*. */
static int transition(ain__sq_ctx_t *c, ain_finish_item_t *it, char dag_id[AIN_UUID_LEN + 1],
                      char **step_name) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, finish_stmt[it->kind]);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, it->task_id);
  sqlite3_bind_int64(st, 2, it->state_version);
  if (it->kind == AIN_FINISH_SUCCEEDED) {
    ain__store_sq_bind_text(st, 3, it->result != NULL ? it->result : "{}");
  } else if (it->kind != AIN_FINISH_RELEASE && it->kind != AIN_FINISH_PARK) {
    ain__store_sq_bind_text(st, 3, it->error != NULL ? it->error : "EUNKNOWN: no error given");
  }
  sqlite3_bind_int64(st, 4, c->now);
  if (it->kind == AIN_FINISH_RETRY) {
    sqlite3_bind_int64(st, 5, it->retry_at != 0 ? it->retry_at : c->now);
  } else if (it->kind == AIN_FINISH_PARK) {
    sqlite3_bind_int64(st, 5, it->retry_at); /* 0: wait for a wake-up; else ready from then */
  }
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return 1;
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "finishing task");
  }
  it->new_version = sqlite3_column_int64(st, 0);
  const unsigned char *dag = sqlite3_column_text(st, 1);
  snprintf(dag_id, AIN_UUID_LEN + 1, "%s", dag != NULL ? (const char *)dag : "");
  *step_name = ain__store_sq_col_dup(st, 2);
  int status = ain_task_status_parse((const char *)sqlite3_column_text(st, 3));
  it->new_status = status < 0 ? AIN_TASK_DEAD : (ain_task_status_t)status;
  sqlite3_reset(st);
  return 0;
}

static int finish_one(ain__sq_ctx_t *c, ain_finish_item_t *it) {
  char dag_id[AIN_UUID_LEN + 1] = "";
  char *step = NULL;
  int rc = transition(c, it, dag_id, &step);
  if (rc != 0) {
    if (rc == 1) {
      it->status = AIN_ECONFLICT;
      rc = 0;
    }
    goto done;
  }
  const char *to = ain_task_status_name(it->new_status);
  const char *error =
      it->kind == AIN_FINISH_SUCCEEDED || it->kind == AIN_FINISH_RELEASE ||
              it->kind == AIN_FINISH_PARK
          ? NULL
          : it->error;
  if ((rc = ain__store_sq_audit(c, it->task_id, dag_id, "running", to, it->new_version, it->detail,
                                error)) != 0) {
    goto done;
  }
  switch (it->new_status) {
  case AIN_TASK_SUCCEEDED:
    if ((rc = release_dependents(c, it->task_id)) != 0 ||
        (dag_id[0] != '\0' && (rc = dag_step_done(c, dag_id)) != 0)) {
      goto done;
    }
    break;
  case AIN_TASK_DEAD:
    if (dag_id[0] != '\0' && (rc = ain__store_sq_fail_dag(
                                  c, dag_id, step != NULL ? step : it->task_id, it->error)) != 0) {
      goto done;
    }
    break;
  case AIN_TASK_READY:
    c->wake = 1;
    break;
  default:
    break;
  }
done:
  free(step);
  return rc;
}

/* A spawn that fails (duplicate id, unknown edge) fails only its item: the savepoint undoes the
 * item's success too, so the task stays running and the caller can decide. */
static int finish_with_spawn(ain__sq_ctx_t *c, ain_finish_item_t *it) {
  int rc = ain__store_sq_exec(c, SQ_SAVEPOINT);
  if (rc != 0) {
    return rc;
  }
  rc = finish_one(c, it);
  if (rc == 0 && it->status == 0) {
    int nready = 0;
    rc = ain__store_sq_insert_batch(c, it->spawn, &nready);
    c->wake |= nready > 0;
    if (rc == AIN_EEXIST || rc == AIN_EINVAL) {
      it->status = rc;
      it->new_version = 0;
      rc = ain__store_sq_exec(c, SQ_SAVEPOINT_ROLLBACK);
    }
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_SAVEPOINT_RELEASE);
  }
  return rc;
}

int ain__store_sq_finish(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  for (size_t i = 0; rc == 0 && i < req->u.finish.nitems; i++) {
    ain_finish_item_t *it = &req->u.finish.items[i];
    it->status = 0;
    it->new_version = 0;
    rc = it->spawn != NULL ? finish_with_spawn(c, it) : finish_one(c, it);
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

/* ---- extend ---------------------------------------------------------------------------------- */

/* The read-only lease check: one indexed probe per item, no transaction (each is one statement
 * and the answer is only a hint that the next extend or finish confirms). */
static int sq_lease_check(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  for (size_t i = 0; i < req->u.extend.nitems; i++) {
    ain_extend_item_t *it = &req->u.extend.items[i];
    sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_LEASE_CHECK);
    if (st == NULL) {
      return AIN_ESTORE;
    }
    ain__store_sq_bind_text(st, 1, it->task_id);
    sqlite3_bind_int64(st, 2, it->state_version);
    int step = sqlite3_step(st);
    it->status = step == SQLITE_ROW ? 0 : AIN_ECONFLICT;
    it->new_version = it->state_version;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
      int rc = ain__store_sq_fail(c, "checking a lease");
      sqlite3_reset(st);
      return rc;
    }
    sqlite3_reset(st);
  }
  return 0;
}

int ain__store_sq_extend(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  if (req->u.extend.check_only) {
    return sq_lease_check(c);
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  for (size_t i = 0; rc == 0 && i < req->u.extend.nitems; i++) {
    ain_extend_item_t *it = &req->u.extend.items[i];
    sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_EXTEND);
    if (st == NULL) {
      return AIN_ESTORE;
    }
    ain__store_sq_bind_text(st, 1, it->task_id);
    sqlite3_bind_int64(st, 2, it->state_version);
    sqlite3_bind_int64(st, 3, it->lease_until);
    sqlite3_bind_int64(st, 4, c->now);
    int step = sqlite3_step(st);
    it->status = step == SQLITE_ROW ? 0 : AIN_ECONFLICT;
    it->new_version = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "extending lease");
    }
    sqlite3_reset(st);
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

/* ---- reap ------------------------------------------------------------------------------------ */

typedef struct {
  char id[AIN_UUID_LEN + 1], dag[AIN_UUID_LEN + 1];
  char *step, *owner;
  int attempts, max_attempts;
  int64_t version;
} expired_t;

static int reap_one(ain__sq_ctx_t *c, expired_t *e) {
  char error[512];
  snprintf(error, sizeof error, "ELEASE: lease expired (owner %s)", e->owner ? e->owner : "?");
  int dead = e->attempts >= e->max_attempts;
  sqlite3_stmt *st = ain__store_sq_stmt(c, dead ? SQ_FIN_DEAD : SQ_REAP_READY);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, e->id);
  sqlite3_bind_int64(st, 2, e->version);
  if (dead) {
    ain__store_sq_bind_text(st, 3, error);
    sqlite3_bind_int64(st, 4, c->now);
  } else {
    sqlite3_bind_int64(st, 3, c->now);
    ain__store_sq_bind_text(st, 4, error);
  }
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    return 0; /* changed under us; we hold the write lock, so this does not happen */
  }
  if (step != SQLITE_ROW) {
    return ain__store_sq_fail(c, "reaping");
  }
  int64_t version = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  int rc = ain__store_sq_audit(c, e->id, e->dag, "running", dead ? "dead" : "ready", version, NULL,
                               error);
  if (rc != 0) {
    return rc;
  }
  if (dead) {
    c->req->u.reap.dead++;
    return e->dag[0] ? ain__store_sq_fail_dag(c, e->dag, e->step ? e->step : e->id, error) : 0;
  }
  c->req->u.reap.reclaimed++;
  c->wake = 1;
  return 0;
}

int ain__store_sq_reap(ain__sq_ctx_t *c) {
  expired_t *list = NULL;
  size_t n = 0, cap = 0;
  int step, rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = ain__store_sq_stmt(c, SQ_REAP_SELECT);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  sqlite3_bind_int64(st, 1, c->now);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      expired_t *grown = realloc(list, cap * sizeof *list);
      if (grown == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto done;
      }
      list = grown;
    }
    expired_t *e = &list[n++];
    const unsigned char *dag = sqlite3_column_text(st, 1);
    snprintf(e->id, sizeof e->id, "%s", sqlite3_column_text(st, 0));
    snprintf(e->dag, sizeof e->dag, "%s", dag ? (const char *)dag : "");
    e->step = ain__store_sq_col_dup(st, 2);
    e->owner = ain__store_sq_col_dup(st, 3);
    e->attempts = sqlite3_column_int(st, 4);
    e->max_attempts = sqlite3_column_int(st, 5);
    e->version = sqlite3_column_int64(st, 6);
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "finding expired leases");
    goto done;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = reap_one(c, &list[i]);
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  for (size_t i = 0; i < n; i++) {
    free(list[i].step);
    free(list[i].owner);
  }
  free(list);
  return rc;
}

/* ---- cancel ---------------------------------------------------------------------------------- */

static int exists(ain__sq_ctx_t *c, ain__sq_stmt_id id, const char *key, const char *what) {
  sqlite3_stmt *st = ain__store_sq_stmt(c, id);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, key);
  int step = sqlite3_step(st);
  sqlite3_reset(st);
  if (step == SQLITE_DONE) {
    return ain_err_field(&c->req->err, AIN_ENOTFOUND, "id", "%s %s not found", what, key);
  }
  return step == SQLITE_ROW ? 0 : ain__store_sq_fail(c, "looking up");
}

int ain__store_sq_cancel(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const char *reason = req->u.cancel.reason != NULL ? req->u.cancel.reason : "cancelled";
  char why[1024];
  snprintf(why, sizeof why, "ECANCELLED: %s", reason);
  int by_dag = req->u.cancel.dag_id != NULL && req->u.cancel.dag_id[0] != '\0';
  const char *id = by_dag ? req->u.cancel.dag_id : req->u.cancel.task_id;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 ||
      (rc = exists(c, by_dag ? SQ_DAG_STATUS : SQ_TASK_STATUS, id, by_dag ? "dag" : "task")) != 0) {
    return rc;
  }
  if (by_dag && (rc = end_dag(c, id, "cancelled", why)) != 0) {
    return rc;
  }
  if ((rc = cancel_rows(c, by_dag, id, why, &req->u.cancel.cancelled)) != 0) {
    return rc;
  }
  return ain__store_sq_exec(c, SQ_COMMIT);
}
