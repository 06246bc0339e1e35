/* The Postgres tiering ops (store/tier.h, sql/postgres/018_tiering.sql): TIER_LIST reads the
 * checkpoints' keys with jsonb_array_elements_text, grouped by key; TIER_MARK upserts every key
 * in one statement from a JSON array. Keys compare in byte order (COLLATE "C"), as on SQLite, so
 * the sweep's keyset paging means the same on both. Relies on: internal.h, store/tier.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/postgres/internal.h"
#include "store/tier.h"

static char *i64s(int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%" PRId64, v);
  return ain_strdup(b);
}

int ain__pg_plan_tier(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  const ain_store_tier_t *t = req->u.tier;
  if (req->op == AIN_STORE_TIER_LIST) {
    ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_TIER_LIST);
    c->params[0] = ain_strdup(t->after_key != NULL ? t->after_key : "");
    c->params[1] = i64s(t->older_than);
    c->params[2] = ain_strdup(t->storage_class);
    c->params[3] = i64s(t->limit);
    return 0;
  }
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr != NULL && i < t->nmark; i++) {
    cJSON_AddItemToArray(arr, cJSON_CreateString(t->mark_keys[i]));
  }
  char *json = arr != NULL ? cJSON_PrintUnformatted(arr) : NULL;
  cJSON_Delete(arr);
  if (json == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_TIER_MARK);
  c->params[0] = json;
  c->params[1] = ain_strdup(t->storage_class);
  c->params[2] = i64s(now);
  return 0;
}

int ain__pg_parse_tier(ain_store_req_t *req, ain__pg_plan_t *plan) {
  if (req->op == AIN_STORE_TIER_MARK) {
    return 0;
  }
  const PGresult *r = plan->res[0];
  int n = r != NULL ? PQntuples(r) : 0;
  for (int i = 0; i < n; i++) {
    if (ain__store_tier_take(req->u.tier, PQgetvalue(r, i, 0)) != 0) {
      ain__store_tier_cleanup(req);
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    }
  }
  return 0;
}
