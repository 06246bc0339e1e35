/* Postgres planner ops. PLAN_COMMIT is one call of ain_plan_commit() (sql/postgres/004_media.sql):
 * inside the request's transaction it inserts each (persona, trend) pair unless present and
 * enqueues only the new pairs' tasks, returning their indexes. PLANNED_LIST reads every pair,
 * TRENDS_LIST the trends seen, newest first.
 * Relies on: internal.h, cJSON (the items parameter). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static void str(cJSON *o, const char *key, const char *v) {
  if (v != NULL && v[0] != '\0') {
    cJSON_AddStringToObject(o, key, v);
  }
}

/* A task in ain_enqueue's shape. */
static cJSON *task_json(const ain_task_t *t) {
  cJSON *j = cJSON_CreateObject();
  str(j, "id", t->id);
  str(j, "type", t->type);
  str(j, "step", t->step);
  str(j, "handler", t->handler);
  str(j, "persona_id", t->persona_id);
  str(j, "payload", t->payload);
  str(j, "traceparent", t->traceparent);
  cJSON_AddNumberToObject(j, "priority", t->priority);
  cJSON_AddNumberToObject(j, "max_attempts", t->max_attempts);
  cJSON_AddNumberToObject(j, "timeout_ms", (double)t->timeout_ms);
  cJSON_AddNumberToObject(j, "run_at", (double)t->run_at);
  return j;
}

int ain__pg_plan_plan(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  if (req->op == AIN_STORE_PLANNED_LIST) {
    ain__pg_cmd(plan, AIN__PG_PLANNED_LIST);
    return 0;
  }
  if (req->op == AIN_STORE_TRENDS_LIST) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d", req->u.trends_list.limit);
    ain__pg_cmd(plan, AIN__PG_TRENDS_LIST)->params[0] = ain_strdup(buf);
    return 0;
  }
  cJSON *arr = cJSON_CreateArray();
  if (arr == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < req->u.plan_commit.nitems; i++) {
    ain_plan_item_t *it = &req->u.plan_commit.items[i];
    it->planned = 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, j);
    cJSON_AddStringToObject(j, "persona_id", it->persona_id);
    cJSON_AddStringToObject(j, "trend_key", it->trend_key);
    str(j, "trend", it->trend_json);
    cJSON_AddItemToObject(j, "task", task_json(it->task));
  }
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_PLAN_COMMIT);
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, now);
  c->params[0] = ain_strdup(req->actor != NULL ? req->actor : "planner");
  c->params[1] = ain_strdup(buf);
  c->params[2] = cJSON_PrintUnformatted(arr);
  cJSON_Delete(arr);
  if (c->params[2] == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory building plan items");
  }
  return 0;
}

int ain__pg_parse_plan(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int rows = r != NULL ? PQntuples(r) : 0;
  if (req->op == AIN_STORE_PLANNED_LIST) {
    if (rows == 0) {
      return 0;
    }
    req->u.planned_list.pairs = calloc((size_t)rows, sizeof(char *));
    if (req->u.planned_list.pairs == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
      req->u.planned_list.pairs[i] = ain_strdup(PQgetvalue(r, i, 0));
    }
    req->u.planned_list.npairs = (size_t)rows;
    return 0;
  }
  if (req->op == AIN_STORE_TRENDS_LIST) {
    if (rows == 0) {
      return 0;
    }
    ain_trend_t *out = calloc((size_t)rows, sizeof *out);
    if (out == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
      out[i].trend_key = ain_strdup(PQgetvalue(r, i, 0));
      out[i].record = PQgetisnull(r, i, 1) ? NULL : ain_strdup(PQgetvalue(r, i, 1));
      out[i].first_seen_at = strtoll(PQgetvalue(r, i, 2), NULL, 10);
      out[i].last_seen_at = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    }
    req->u.trends_list.trends = out;
    req->u.trends_list.ntrends = (size_t)rows;
    return 0;
  }
  req->u.plan_commit.planned = 0;
  for (int i = 0; i < rows; i++) {
    long idx = strtol(PQgetvalue(r, i, 0), NULL, 10);
    if (idx >= 0 && (size_t)idx < req->u.plan_commit.nitems) {
      req->u.plan_commit.items[idx].planned = 1;
      req->u.plan_commit.planned++;
    }
  }
  return 0;
}
