/* SQLite planner ops. PLAN_COMMIT: in one write transaction, each (persona, trend) pair is
 * inserted into `planned` unless it is there already (the primary key decides), and only the new
 * pairs' generate_video tasks are enqueued, so a trend is never planned twice for a persona, even
 * across restarts or two planners racing. PLANNED_LIST: every planned pair, for the planner's
 * already_planned. TRENDS_LIST: the trends seen, newest first (ain.store.trends). Relies on:
 * internal.h (ain__store_sq_insert_batch). */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

int ain__store_sq_plan_commit(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  ain_plan_item_t *items = req->u.plan_commit.items;
  size_t n = req->u.plan_commit.nitems;
  ain_task_t *tasks = NULL;
  sqlite3_stmt *pair = NULL, *trend = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  pair = ain__store_sq_prep(c, "INSERT INTO planned (persona_id, trend_key, task_id, planned_at) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
  trend = ain__store_sq_prep(c, "INSERT INTO trends (trend_key, record, first_seen_at, last_seen_at) "
                     "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (trend_key) DO UPDATE SET "
                     "last_seen_at = excluded.last_seen_at, "
                     "record = coalesce(excluded.record, trends.record)");
  tasks = calloc(n, sizeof *tasks);
  if (pair == NULL || trend == NULL || tasks == NULL) {
    rc = tasks == NULL ? ain_err_set(&req->err, AIN_ENOMEM, "out of memory") : AIN_ESTORE;
    goto done;
  }
  size_t ntasks = 0;
  req->u.plan_commit.planned = 0;
  for (size_t i = 0; i < n; i++) {
    ain_plan_item_t *it = &items[i];
    it->planned = 0;
    sqlite3_reset(pair);
    ain__store_sq_bind_text(pair, 1, it->persona_id);
    ain__store_sq_bind_text(pair, 2, it->trend_key);
    ain__store_sq_bind_text(pair, 3, it->task->id);
    sqlite3_bind_int64(pair, 4, c->now);
    if (sqlite3_step(pair) != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "recording a planned pair");
      goto done;
    }
    if (sqlite3_changes(c->db->conn) == 0) {
      continue; /* planned before */
    }
    sqlite3_reset(trend);
    ain__store_sq_bind_text(trend, 1, it->trend_key);
    ain__store_sq_bind_text(trend, 2, it->trend_json);
    sqlite3_bind_int64(trend, 3, c->now);
    if (sqlite3_step(trend) != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "recording a trend");
      goto done;
    }
    it->planned = 1;
    req->u.plan_commit.planned++;
    tasks[ntasks++] = *it->task; /* shallow: the batch only reads them */
  }
  if (ntasks > 0) {
    ain_store_batch_t b = {.tasks = tasks, .ntasks = ntasks};
    int nready = 0;
    if ((rc = ain__store_sq_insert_batch(c, &b, &nready)) != 0) {
      goto done;
    }
    c->wake = nready > 0;
  }
  rc = ain__store_sq_exec(c, SQ_COMMIT);
done:
  if (rc != 0) {
    for (size_t i = 0; i < n; i++) {
      items[i].planned = 0; /* rolled back */
    }
    req->u.plan_commit.planned = 0;
  }
  sqlite3_finalize(pair);
  sqlite3_finalize(trend);
  free(tasks);
  return rc;
}

int ain__store_sq_planned_list(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT persona_id || '|' || trend_key FROM planned "
                                "ORDER BY 1");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  size_t n = 0, cap = 0;
  char **pairs = NULL;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(pairs, cap * sizeof *pairs);
      if (grown == NULL) {
        abort(); /* as ain_strdup: OOM is fatal */
      }
      pairs = grown;
    }
    pairs[n++] = ain__store_sq_col_dup(st, 0);
  }
  sqlite3_finalize(st);
  req->u.planned_list.pairs = pairs;
  req->u.planned_list.npairs = n;
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading planned pairs");
}

int ain__store_sq_trends_list(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT trend_key, record, first_seen_at, last_seen_at FROM trends "
                                "ORDER BY last_seen_at DESC, trend_key LIMIT ?1");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  sqlite3_bind_int(st, 1, req->u.trends_list.limit);
  ain_trend_t *out = NULL;
  size_t n = 0, cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      ain_trend_t *grown = realloc(out, cap * sizeof *out);
      if (grown == NULL) {
        abort(); /* as ain_strdup: OOM is fatal */
      }
      out = grown;
    }
    out[n].trend_key = ain__store_sq_col_dup(st, 0);
    out[n].record = ain__store_sq_col_dup(st, 1);
    out[n].first_seen_at = sqlite3_column_int64(st, 2);
    out[n].last_seen_at = sqlite3_column_int64(st, 3);
    n++;
  }
  sqlite3_finalize(st);
  req->u.trends_list.trends = out;
  req->u.trends_list.ntrends = n;
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading trends");
}
