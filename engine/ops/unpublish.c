/* Unpublish, takedowns and post stats for the CLI and the API (unpublish.h): argument checks
 * and the ops' store handed to publish/after.h, which does the work.
 * Relies on: unpublish.h, publish/after.h, store/posts.h, cJSON. */
#include "ops/unpublish.h"

#include <stdlib.h>
#include <string.h>

#include "publish/after.h"
#include "store/posts.h"

static ain_post_after_t after_of(ain_ops_t *ops, const char *actor) {
  ain_post_after_t pa = {.cfg = ops->cfg, .store = ops->store, .actor = actor};
  return pa;
}

int ain_ops_unpublish(ain_ops_t *ops, const ain_ops_unpublish_t *u, cJSON **out, ain_err_t *err) {
  *out = NULL;
  if (u->actor == NULL || u->actor[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "actor", "an unpublish names its actor");
  }
  if (u->video_id != NULL && u->video_id[0] != '\0' && !ain_ops_filter_ok(u->video_id)) {
    return ain_err_field(err, AIN_EINVAL, "video_id", "'%s' is not a video id", u->video_id);
  }
  if (u->channel != NULL && u->channel[0] != '\0' && !ain_ops_filter_ok(u->channel)) {
    return ain_err_field(err, AIN_EINVAL, "channel", "'%s' is not a channel name", u->channel);
  }
  ain_post_after_t pa = after_of(ops, u->actor);
  return ain_post_unpublish(&pa, u->video_id, u->channel, u->reason, out, err);
}

int ain_ops_takedowns(ain_ops_t *ops, int pending_only, int limit, cJSON **out, ain_err_t *err) {
  ain_post_after_t pa = after_of(ops, NULL);
  return ain_post_takedowns(&pa, pending_only, limit, out, err);
}

int ain_ops_takedown_done(ain_ops_t *ops, int64_t receipt_id, const char *reason,
                          const char *actor, cJSON **out, ain_err_t *err) {
  *out = NULL;
  ain_post_after_t pa = after_of(ops, actor);
  int changed = 0;
  int rc = ain_post_takedown_done(&pa, receipt_id, reason, &changed, err);
  if (rc == 0) {
    *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(*out, "receipt_id", (double)receipt_id);
    cJSON_AddBoolToObject(*out, "changed", changed);
  }
  return rc;
}

static double num_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int ain_ops_post_stats(ain_ops_t *ops, const ain_ops_post_stats_t *q, cJSON **out,
                       ain_err_t *err) {
  *out = NULL;
  const struct {
    const char *field, *v;
  } filters[] = {{"persona", q->persona}, {"topic", q->topic}, {"channel", q->channel}};
  cJSON *a = cJSON_CreateObject();
  for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
    if (filters[i].v == NULL) {
      continue;
    }
    if (filters[i].v[0] == '\0' || strlen(filters[i].v) > 256) {
      cJSON_Delete(a);
      return ain_err_field(err, AIN_EINVAL, filters[i].field, "%s filter must be 1..256 bytes",
                           filters[i].field);
    }
    cJSON_AddStringToObject(a, filters[i].field, filters[i].v);
  }
  if (q->limit < 1 || q->limit > 1000) {
    cJSON_Delete(a);
    return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..1000, got %d", q->limit);
  }
  cJSON_AddNumberToObject(a, "since", (double)(q->since_ms > 0 ? q->since_ms : 0));
  cJSON_AddNumberToObject(a, "limit", q->limit);
  char *args = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  ain_store_req_t req;
  ain_store_req_posts(&req, "metrics", args);
  int rc = ain_ops_wait(ops, &req, NULL, err);
  if (rc == 0 && (*out = cJSON_Parse(req.u.posts.out)) == NULL) {
    rc = ain_err_set(err, AIN_ESTORE, "post metrics: the store's answer is not JSON");
  }
  ain_store_req_cleanup(&req);
  free(args);
  if (rc != 0) {
    return rc;
  }
  const char *keys[] = {"views", "likes", "comments", "shares"};
  double sums[4] = {0};
  const cJSON *p;
  cJSON *posts = cJSON_GetObjectItemCaseSensitive(*out, "posts");
  cJSON_ArrayForEach(p, posts) {
    for (int i = 0; i < 4; i++) {
      sums[i] += num_of(p, keys[i]); /* null (not reported) adds nothing */
    }
  }
  cJSON *t = cJSON_AddObjectToObject(*out, "totals");
  cJSON_AddNumberToObject(t, "posts", cJSON_GetArraySize(posts));
  for (int i = 0; i < 4; i++) {
    cJSON_AddNumberToObject(t, keys[i], sums[i]);
  }
  return 0;
}
