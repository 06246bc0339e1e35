/* `ain publishers status`' quota part (ops/publish_quota.h): one BUCKET_LIST, then for each
 * channel with a quota its bucket (a full one if nobody took yet) refilled to now.
 * Relies on: ops/ops.h, store/grants.h, publish/quota.h, cJSON. */
#include "ops/publish_quota.h"

#include <string.h>

#include "core/util.h"
#include "publish/quota.h"
#include "store/grants.h"

static void add_channel(cJSON *arr, const char *name, const ain_config_quota_t *q,
                        const ain_store_grants_t *g, int64_t now) {
  ain_quota_state_t s = {0};
  for (size_t i = 0; i < g->nbuckets; i++) {
    const ain_store_bucket_t *b = &g->buckets[i];
    if (strcmp(b->account, name) == 0) {
      s = ain_publish_quota_state_of(b);
    }
  }
  int64_t next = 0;
  int64_t left = ain_publish_quota_remaining(q, &s, now, ain_publish_quota_cost(q, NULL), &next);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "channel", name);
  cJSON_AddNumberToObject(o, "units_per_day", (double)q->units_per_day);
  cJSON_AddNumberToObject(o, "window_s", (double)q->window_s);
  cJSON_AddNumberToObject(o, "units_per_publish", (double)ain_publish_quota_cost(q, NULL));
  cJSON_AddNumberToObject(o, "requests_per_minute", (double)q->requests_per_minute);
  cJSON_AddNumberToObject(o, "remaining_units", (double)left);
  cJSON_AddNumberToObject(o, "taken_units", (double)s.taken);
  cJSON_AddNumberToObject(o, "next_refill_ms", (double)next);
  cJSON_AddNumberToObject(o, "blocked_until_ms",
                          (double)(s.blocked_until > now ? s.blocked_until : 0));
  cJSON_AddItemToArray(arr, o);
}

int ain_ops_publish_quotas(ain_ops_t *ops, const char *actor, cJSON **out, ain_err_t *err) {
  *out = NULL;
  ain_config_quota_t q;
  cJSON *arr = cJSON_CreateArray();
  /* The channels with a quota: the outbox until channels are a named list (pub-core). */
  static const char *const names[] = {"outbox"};
  int any = 0;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    any |= ain_publish_quota_of(ops->cfg, names[i], &q);
  }
  if (!any) {
    *out = arr;
    return 0;
  }
  ain_store_grants_t g = {.op = AIN_STORE_BUCKET_LIST};
  ain_store_req_t req;
  ain_store_req_grants(&req, &g);
  int rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == 0) {
    int64_t now = ain_now_ms();
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      if (ain_publish_quota_of(ops->cfg, names[i], &q)) {
        add_channel(arr, names[i], &q, &g, now);
      }
    }
    *out = arr;
  } else {
    cJSON_Delete(arr);
  }
  ain_store_req_cleanup(&req);
  return rc;
}
