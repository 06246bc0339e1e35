/* The Postgres GRANTS op (store/grants.h) on tables publish_grants and quota_buckets
 * (sql/postgres/024_publish_trust.sql): one prepared statement per request. Grants and bucket
 * values travel as one JSON parameter unpacked by json_to_record(set). A bucket write holds its
 * version check in its WHERE (or ON CONFLICT DO NOTHING): no row back is AIN_ECONFLICT.
 * Relies on: internal.h, store/grants.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/grants.h"
#include "store/postgres/internal.h"

static char *i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

static char *grants_json(const ain_store_grants_t *g) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < g->nin; i++) {
    const ain_store_grant_t *x = &g->in[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jti", x->jti);
    cJSON_AddStringToObject(o, "video_id", x->video_id);
    cJSON_AddStringToObject(o, "channel", x->channel);
    cJSON_AddStringToObject(o, "token", x->token);
    cJSON_AddStringToObject(o, "granted_by", x->granted_by);
    cJSON_AddStringToObject(o, "reason", x->reason);
    cJSON_AddNumberToObject(o, "exp", (double)x->exp);
    cJSON_AddItemToArray(a, o);
  }
  char *s = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  return s;
}

static char *bucket_json(const ain_store_bucket_t *b) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "units_mu", (double)b->units_mu);
  cJSON_AddNumberToObject(o, "requests_mu", (double)b->requests_mu);
  cJSON_AddNumberToObject(o, "updated_at", (double)b->updated_at);
  cJSON_AddNumberToObject(o, "blocked_until", (double)b->blocked_until);
  cJSON_AddNumberToObject(o, "taken", (double)b->taken);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

int ain__pg_plan_grants(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  ain_store_grants_t *g = req->u.grants;
  ain__pg_cmd_t *c;
  switch (g->op) {
  case AIN_STORE_GRANT_PUT:
    c = ain__pg_cmd(plan, AIN__PG_GRANT_PUT);
    c->params[0] = i64(now);
    c->params[1] = grants_json(g);
    break;
  case AIN_STORE_GRANT_GET:
    ain__pg_cmd(plan, AIN__PG_GRANT_GET)->params[0] = ain_strdup(g->jti);
    break;
  case AIN_STORE_GRANT_USE:
    c = ain__pg_cmd(plan, AIN__PG_GRANT_USE);
    c->params[0] = ain_strdup(g->jti);
    c->params[1] = i64(now);
    break;
  case AIN_STORE_BUCKET_GET:
    ain__pg_cmd(plan, AIN__PG_BUCKET_GET)->params[0] = ain_strdup(g->account);
    break;
  case AIN_STORE_BUCKET_PUT:
    c = ain__pg_cmd(plan, g->expect_version == 0 ? AIN__PG_BUCKET_NEW : AIN__PG_BUCKET_IF);
    c->params[0] = ain_strdup(g->bucket.account);
    c->params[1] = i64(g->expect_version);
    c->params[2] = bucket_json(&g->bucket);
    break;
  case AIN_STORE_BUCKET_LIST:
    ain__pg_cmd(plan, AIN__PG_BUCKET_LIST);
    break;
  }
  return 0;
}

static char *col(const PGresult *r, int row, int c) {
  return PQgetisnull(r, row, c) ? NULL : ain_strdup(PQgetvalue(r, row, c));
}

static int64_t num(const PGresult *r, int row, int c) {
  return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static void read_bucket(const PGresult *r, int row, ain_store_bucket_t *b) {
  b->account = col(r, row, 0);
  int64_t *ints[] = {&b->units_mu,      &b->requests_mu, &b->updated_at,
                     &b->blocked_until, &b->taken,       &b->state_version};
  for (int i = 0; i < 6; i++) {
    *ints[i] = num(r, row, 1 + i);
  }
}

int ain__pg_parse_grants(ain_store_req_t *req, ain__pg_plan_t *plan) {
  ain_store_grants_t *g = req->u.grants;
  const PGresult *r = plan->res[0];
  int n = r != NULL ? PQntuples(r) : 0;
  switch (g->op) {
  case AIN_STORE_GRANT_PUT:
  case AIN_STORE_GRANT_GET:
  case AIN_STORE_GRANT_USE:
    if (n == 0) {
      return g->op == AIN_STORE_GRANT_PUT
                 ? 0
                 : ain_err_field(&req->err, AIN_ENOTFOUND, "jti", "no publish grant with that jti");
    }
    if ((g->grants = calloc((size_t)n, sizeof *g->grants)) == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
      ain_store_grant_t *x = &g->grants[i];
      char **texts[] = {&x->jti, &x->video_id, &x->channel, &x->token, &x->granted_by, &x->reason};
      for (int k = 0; k < 6; k++) {
        *texts[k] = col(r, i, k);
      }
      int64_t *ints[] = {&x->generation, &x->exp, &x->created_at, &x->used_at, &x->state_version};
      for (int k = 0; k < 5; k++) {
        *ints[k] = num(r, i, 6 + k);
      }
    }
    g->ngrants = (size_t)n;
    return 0;
  case AIN_STORE_BUCKET_GET:
    memset(&g->bucket, 0, sizeof g->bucket);
    if (n > 0) {
      read_bucket(r, 0, &g->bucket);
    }
    return 0;
  case AIN_STORE_BUCKET_PUT:
    if (n == 0) {
      return ain_err_field(&req->err, AIN_ECONFLICT, "state_version",
                           "quota bucket %s changed since version %lld was read",
                           g->bucket.account, (long long)g->expect_version);
    }
    g->bucket.state_version = num(r, 0, 0);
    return 0;
  case AIN_STORE_BUCKET_LIST:
    if (n == 0) {
      return 0;
    }
    if ((g->buckets = calloc((size_t)n, sizeof *g->buckets)) == NULL) {
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
      read_bucket(r, i, &g->buckets[i]);
    }
    g->nbuckets = (size_t)n;
    return 0;
  }
  return ain_err_set(&req->err, AIN_EINVAL, "unknown grants op %d", (int)g->op);
}
