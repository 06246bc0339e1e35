/* The Postgres trend-source ops: SOURCE_PUT (one upsert, the row travels as one JSON parameter
 * unpacked by json_to_record) and SOURCE_LIST on table sources (sql/postgres/019_sources.sql).
 * Relies on: internal.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static char *row_json(const ain_source_state_t *in) {
  cJSON *o = cJSON_CreateObject();
  struct {
    const char *k, *v;
  } texts[] = {{"kind", in->kind},     {"url", in->url ? in->url : ""},
               {"etag", in->etag},     {"last_modified", in->last_modified},
               {"cursor", in->cursor}, {"last_error", in->last_error}};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    if (texts[i].v != NULL) {
      cJSON_AddStringToObject(o, texts[i].k, texts[i].v);
    }
  }
  struct {
    const char *k;
    int64_t v;
  } ints[] = {{"last_success_at", in->last_success_at},
              {"last_error_at", in->last_error_at},
              {"backoff_until", in->backoff_until},
              {"failures", in->failures},
              {"fetches", in->fetches},
              {"not_modified", in->not_modified},
              {"errors", in->errors},
              {"items", in->items},
              {"refused", in->refused}};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    cJSON_AddNumberToObject(o, ints[i].k, (double)ints[i].v);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

int ain__pg_plan_source(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  if (req->op == AIN_STORE_SOURCE_LIST) {
    ain__pg_cmd(plan, AIN__PG_SOURCE_LIST);
    return 0;
  }
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_SOURCE_PUT);
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, now);
  c->params[0] = ain_strdup(req->u.source.in->name);
  c->params[1] = ain_strdup(buf);
  c->params[2] = row_json(req->u.source.in);
  if (c->params[2] == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  return 0;
}

static char *col(const PGresult *r, int row, int c) {
  return PQgetisnull(r, row, c) ? NULL : ain_strdup(PQgetvalue(r, row, c));
}

int ain__pg_parse_source(ain_store_req_t *req, ain__pg_plan_t *plan) {
  if (req->op == AIN_STORE_SOURCE_PUT) {
    return 0;
  }
  const PGresult *r = plan->res[0];
  int n = r != NULL ? PQntuples(r) : 0;
  if (n == 0) {
    return 0;
  }
  ain_source_state_t *rows = calloc((size_t)n, sizeof *rows);
  if (rows == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    ain_source_state_t *x = &rows[i];
    char **texts[] = {&x->name,          &x->kind,   &x->url,       &x->etag,
                      &x->last_modified, &x->cursor, &x->last_error};
    for (int k = 0; k < 7; k++) {
      *texts[k] = col(r, i, k);
    }
    int64_t *ints[] = {&x->last_success_at, &x->last_error_at, &x->backoff_until,
                       &x->failures,        &x->fetches,       &x->not_modified,
                       &x->errors,          &x->items,         &x->refused,
                       &x->updated_at};
    for (int k = 0; k < 10; k++) {
      *ints[k] = strtoll(PQgetvalue(r, i, k + 7), NULL, 10);
    }
  }
  req->u.source.rows = rows;
  req->u.source.nrows = (size_t)n;
  return 0;
}
