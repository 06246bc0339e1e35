/* The SQLite backend's METRICS and PUBLISH_GUARD ops (store/metrics.h). METRICS reads in one read
 * transaction (a consistent picture, no write lock); the depth query walks index
 * tasks_status_type (sql/sqlite/017_metrics.sql) over the open statuses and the dead letters only,
 * so finished rows cost nothing. PUBLISH_GUARD holds the write lock from the count to the
 * writes, so two nodes' guards and an operator's pause are serialised. The semantics match
 * ain_publish_guard() in sql/postgres/017_metrics.sql.
 * Relies on: internal.h, store/metrics.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/metrics.h"
#include "store/sqlite/internal.h"

static const char *const SQL_DEPTH =
    "SELECT type, status, count(*) FROM tasks "
    "WHERE status IN ('pending', 'ready', 'running', 'waiting', 'dead') "
    "GROUP BY type, status ORDER BY type, status";
static const char *const SQL_BACKLOG =
    "SELECT count(*), coalesce(min(created_at), 0), "
    "(SELECT count(*) FROM takedowns WHERE state = 'takedown_required') "
    "FROM reviews WHERE status = 'pending'";
static const char *const SQL_NODES =
    "SELECT id, state, last_beat FROM nodes "
    "WHERE state = 'alive' OR (state = 'dead' AND last_beat > ?1 - 3600000) ORDER BY id";

static int each_row(ain__sq_ctx_t *c, const char *sql, int64_t bind, int (*fn)(sqlite3_stmt *st,
                    ain_store_metrics_t *m), const char *what) {
  sqlite3_stmt *st = ain__store_sq_prep(c, sql);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  if (sqlite3_bind_parameter_count(st) > 0) {
    sqlite3_bind_int64(st, 1, bind);
  }
  int step, rc = 0;
  while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
    rc = fn(st, c->req->u.metrics);
  }
  sqlite3_finalize(st);
  if (rc != 0) {
    return ain_err_set(&c->req->err, rc, "out of memory reading %s", what);
  }
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, what);
}

static int depth_row(sqlite3_stmt *st, ain_store_metrics_t *m) {
  return ain__store_metrics_add_depth(m, (const char *)sqlite3_column_text(st, 0),
                                      (const char *)sqlite3_column_text(st, 1),
                                      sqlite3_column_int64(st, 2));
}

static int backlog_row(sqlite3_stmt *st, ain_store_metrics_t *m) {
  m->review_backlog = sqlite3_column_int64(st, 0);
  m->review_oldest_at = sqlite3_column_int64(st, 1);
  m->takedowns_pending = sqlite3_column_int64(st, 2);
  return 0;
}

static int node_row(sqlite3_stmt *st, ain_store_metrics_t *m) {
  return ain__store_metrics_add_node(m, (const char *)sqlite3_column_text(st, 0),
                                     (const char *)sqlite3_column_text(st, 1),
                                     sqlite3_column_int64(st, 2));
}

static int paused_state(ain__sq_ctx_t *c, int *paused, char *by, size_t cap) {
  char *v = NULL, *b = NULL;
  int rc = ain__store_sq_setting_get(c, "publishers.paused", &v);
  if (rc == 0) {
    rc = ain__store_sq_setting_get(c, "publishers.paused_by", &b);
  }
  *paused = v != NULL && strcmp(v, "true") == 0;
  snprintf(by, cap, "%s", b != NULL ? b : "");
  free(v);
  free(b);
  return rc;
}

int ain__store_sq_metrics(ain__sq_ctx_t *c) {
  ain_store_metrics_t *m = c->req->u.metrics;
  m->now = ain_now_ms();
  int rc = ain__store_sq_exec(c, SQ_BEGIN_READ);
  if (rc == 0) {
    rc = each_row(c, SQL_DEPTH, 0, depth_row, "queue depth");
  }
  if (rc == 0) {
    rc = each_row(c, SQL_BACKLOG, 0, backlog_row, "review backlog");
  }
  if (rc == 0) {
    rc = each_row(c, SQL_NODES, m->now, node_row, "nodes");
  }
  if (rc == 0) {
    rc = paused_state(c, &m->paused, m->paused_by, sizeof m->paused_by);
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

int ain__store_sq_publish_guard(ain__sq_ctx_t *c) {
  ain_store_guard_t *g = c->req->u.guard;
  char by[16], why[160];
  int paused = 0, changed = 0;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  sqlite3_stmt *st = rc == 0 ? ain__store_sq_prep(c, SQL_BACKLOG) : NULL;
  if (st == NULL) {
    return rc != 0 ? rc : AIN_ESTORE;
  }
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_finalize(st);
    return ain__store_sq_fail(c, "counting the review backlog");
  }
  g->backlog = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if ((rc = paused_state(c, &paused, by, sizeof by)) != 0) {
    return rc;
  }
  snprintf(why, sizeof why, "{\"review_backlog\":%lld,\"pause_at\":%lld,\"resume_at\":%lld}",
           (long long)g->backlog, (long long)g->pause_at, (long long)g->resume_at);
  g->action = AIN_STORE_GUARD_NONE;
  if (g->backlog >= g->pause_at && !paused && strcmp(by, "operator") != 0) {
    rc = ain__store_sq_setting_put(c, "publishers.paused_by", "backlog", why, &changed);
    if (rc == 0) {
      rc = ain__store_sq_setting_put(c, "publishers.paused", "true", why, &changed);
    }
    g->action = AIN_STORE_GUARD_PAUSED;
    paused = 1;
  } else if (g->backlog < g->resume_at && paused && strcmp(by, "backlog") == 0) {
    rc = ain__store_sq_setting_put(c, "publishers.paused_by", "", why, &changed);
    if (rc == 0) {
      rc = ain__store_sq_setting_put(c, "publishers.paused", "false", why, &changed);
    }
    g->action = AIN_STORE_GUARD_RESUMED;
    paused = 0;
  } else if (g->backlog < g->resume_at && !paused && strcmp(by, "operator") == 0) {
    rc = ain__store_sq_setting_put(c, "publishers.paused_by", "", why, &changed);
    g->action = AIN_STORE_GUARD_REARMED;
  }
  g->paused = paused;
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}
