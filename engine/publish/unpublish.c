/* Taking posts down (after.h): unpublish through each kind's delete call, manual takedowns where
 * a kind has none, the operator's confirmation of one, and the compensation actions. Every state
 * change is one POSTS "mark" or "flag" request (store/posts.h), which writes its audit row in the
 * same transaction; this file decides what to ask for and calls the channels.
 * Relies on: after.h, store/posts.h (waited requests on the caller's private loop), obs (metrics),
 * core/log.h, cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "obs/obs.h"
#include "publish/after.h"
#include "store/posts.h"

/* One POSTS request: args (deleted here) in, *out (caller deletes) the parsed answer. */
static int posts(const ain_post_after_t *pa, const char *action, cJSON *args, cJSON **out,
                 ain_err_t *err) {
  char *text = cJSON_PrintUnformatted(args);
  cJSON_Delete(args);
  if (text == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  ain_store_req_t req;
  ain_store_req_posts(&req, action, text);
  req.actor = pa->actor;
  int rc = ain_store_wait(pa->store, &req);
  if (rc != 0) {
    *err = req.err;
  } else if ((*out = cJSON_Parse(req.u.posts.out)) == NULL) {
    rc = ain_err_set(err, AIN_ESTORE, "posts %s: the store's answer is not JSON", action);
  }
  ain_store_req_cleanup(&req);
  free(text);
  return rc;
}

static const char *str_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t int_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static int mark(const ain_post_after_t *pa, int64_t receipt_id, const char *state,
                const char *method, const char *reason, const char *error, cJSON **ans,
                ain_err_t *err) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddNumberToObject(a, "receipt_id", (double)receipt_id);
  cJSON_AddStringToObject(a, "state", state);
  cJSON_AddStringToObject(a, "method", method);
  cJSON_AddStringToObject(a, "reason", reason);
  if (error != NULL) {
    cJSON_AddStringToObject(a, "error", error);
  }
  return posts(pa, "mark", a, ans, err);
}

static void count_takedown(const char *channel, const char *method) {
  const char *v[2] = {channel, method};
  ain_obs_inc(AIN_M_POST_TAKEDOWNS, v);
}

/* Takes one live (or pending manual) post down; fills o's outcome. 0, or the channel's error. */
static int take_down(const ain_post_after_t *pa, const cJSON *post, const char *reason, cJSON *o,
                     ain_err_t *err) {
  const char *channel = str_of(post, "channel");
  const char *post_id = str_of(post, "post_id");
  int64_t rid = int_of(post, "receipt_id");
  ain_channel_opener_t open = pa->open != NULL ? pa->open : ain_channel_open_config;
  ain_channel_t *ch = NULL;
  ain_err_t cerr;
  ain_err_clear(&cerr);
  cJSON *ans = NULL;
  const char *state, *method, *why = NULL;
  int rc = open(pa->open_data, pa->cfg, channel, &ch, &cerr);
  int api = rc == 0 && ch->kind->unpublish != NULL;
  if (api) {
    /* the delete is charged to the account's quota first (youtube: 50 units): an empty bucket
     * fails this post with AIN_EBUSY and the call is not made */
    rc = ain_post_quota_take(pa, channel, "unpublish", &cerr);
    if (rc == 0) {
      rc = ch->kind->unpublish(ch, post_id, &cerr);
    }
    /* AIN_ECONFIG: this channel has no delete call configured (a webhook without delete_url),
     * the same as a kind without one. */
    api = rc != AIN_ECONFIG;
    if (api && rc != 0) {
      cJSON_AddStringToObject(o, "outcome", "failed");
      cJSON_AddStringToObject(o, "error", cerr.msg);
      ain_log_warn("unpublish: video %s on %s: %s", str_of(post, "video_id"), channel, cerr.msg);
      *err = cerr;
      goto done;
    }
  }
  if (api) {
    state = AIN_POSTS_UNPUBLISHED;
    method = "api";
  } else {
    /* No delete call on this platform, or the channel is gone from the config: a person must
     * take the post down; it stays listed (`ain takedowns`) until one confirms it. */
    state = AIN_POSTS_TAKEDOWN_REQUIRED;
    method = "manual";
    why = rc != 0 ? cerr.msg : NULL;
  }
  if ((rc = mark(pa, rid, state, method, reason, why, &ans, err)) != 0) {
    cJSON_AddStringToObject(o, "outcome", "failed");
    cJSON_AddStringToObject(o, "error", err->msg);
    goto done;
  }
  cJSON_AddStringToObject(o, "outcome", state);
  if (why != NULL) {
    cJSON_AddStringToObject(o, "error", why);
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "changed"))) {
    count_takedown(channel, method);
    if (strcmp(state, AIN_POSTS_TAKEDOWN_REQUIRED) == 0) {
      ain_log_warn("manual takedown required: video %s on channel %s (%s has no delete call%s%s); "
                   "confirm with `ain takedowns done %lld` once it is down",
                   str_of(post, "video_id"), channel, ch != NULL ? ch->kind->kind : "the channel",
                   why != NULL ? ": " : "", why != NULL ? why : "", (long long)rid);
    }
  }
done:
  cJSON_Delete(ans);
  ain_channel_close(ch);
  return rc;
}

/* The video's receipts (of channel, or all): *out {video, receipts}. */
static int receipts_of(const ain_post_after_t *pa, const char *video_id, const char *channel,
                       cJSON **out, ain_err_t *err) {
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "video_id", video_id);
  if (channel != NULL) {
    cJSON_AddStringToObject(a, "channel", channel);
  }
  return posts(pa, "receipts", a, out, err);
}

/* Takes down the posts of rec->receipts (skipping skip_channel), adding outcomes to *out. */
static int take_all(const ain_post_after_t *pa, const cJSON *rec, const char *skip_channel,
                    const char *reason, cJSON *list, ain_err_t *err) {
  int first = 0;
  const cJSON *post;
  cJSON_ArrayForEach(post, cJSON_GetObjectItemCaseSensitive(rec, "receipts")) {
    const char *channel = str_of(post, "channel");
    if (skip_channel != NULL && channel != NULL && strcmp(channel, skip_channel) == 0) {
      continue;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "receipt_id", (double)int_of(post, "receipt_id"));
    cJSON_AddStringToObject(o, "channel", channel ? channel : "");
    cJSON_AddStringToObject(o, "post_id", str_of(post, "post_id") ? str_of(post, "post_id") : "");
    cJSON_AddItemToArray(list, o);
    const char *state = str_of(post, "state");
    if (state != NULL && strcmp(state, AIN_POSTS_UNPUBLISHED) == 0) {
      cJSON_AddStringToObject(o, "outcome", "already");
      continue;
    }
    ain_err_t e;
    ain_err_clear(&e);
    int rc = take_down(pa, post, reason, o, &e);
    if (rc != 0 && first == 0) {
      first = rc;
      *err = e;
    }
  }
  return first;
}

static cJSON *result_of(const char *video_id, cJSON *list) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "video_id", video_id);
  cJSON_AddItemToObject(r, "posts", list);
  return r;
}

/* The video's status now (after the marks), into r. */
static void add_status(const ain_post_after_t *pa, const char *video_id, cJSON *r) {
  cJSON *now = NULL;
  ain_err_t e;
  ain_err_clear(&e);
  if (receipts_of(pa, video_id, NULL, &now, &e) == 0) {
    const char *s = str_of(cJSON_GetObjectItemCaseSensitive(now, "video"), "status");
    cJSON_AddStringToObject(r, "video_status", s ? s : "");
  }
  cJSON_Delete(now);
}

int ain_post_unpublish(const ain_post_after_t *pa, const char *video_id, const char *channel,
                       const char *reason, cJSON **out, ain_err_t *err) {
  *out = NULL;
  if (video_id == NULL || video_id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "video_id", "a video id is required");
  }
  if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "reason", "an unpublish needs a reason");
  }
  if (channel != NULL && channel[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "channel", "channel is empty");
  }
  cJSON *rec = NULL;
  int rc = receipts_of(pa, video_id, channel, &rec, err);
  if (rc != 0) {
    return rc;
  }
  if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "receipts")) == 0) {
    const char *status = str_of(cJSON_GetObjectItemCaseSensitive(rec, "video"), "status");
    rc = channel != NULL ? ain_err_field(err, AIN_ENOTFOUND, "channel",
                                         "video %s was not published on channel %s", video_id,
                                         channel)
                         : ain_err_field(err, AIN_ECONFLICT, "video_id",
                                         "video %s was never published (status %s)", video_id,
                                         status ? status : "?");
    cJSON_Delete(rec);
    return rc;
  }
  cJSON *list = cJSON_CreateArray();
  rc = take_all(pa, rec, NULL, reason, list, err);
  cJSON_Delete(rec);
  *out = result_of(video_id, list);
  add_status(pa, video_id, *out);
  return rc;
}

int ain_post_takedown_done(const ain_post_after_t *pa, int64_t receipt_id, const char *reason,
                           int *changed, ain_err_t *err) {
  if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "reason", "confirming a takedown needs a reason");
  }
  if (receipt_id <= 0) {
    return ain_err_field(err, AIN_EINVAL, "receipt_id", "a receipt id is a positive number");
  }
  cJSON *ans = NULL;
  int rc = mark(pa, receipt_id, AIN_POSTS_UNPUBLISHED, "manual", reason, NULL, &ans, err);
  if (rc == 0) {
    *changed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "changed"));
  }
  cJSON_Delete(ans);
  return rc;
}

int ain_post_takedowns(const ain_post_after_t *pa, int pending_only, int limit, cJSON **out,
                       ain_err_t *err) {
  *out = NULL;
  if (limit < 1 || limit > 1000) {
    return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..1000, got %d", limit);
  }
  cJSON *a = cJSON_CreateObject();
  if (pending_only) {
    cJSON_AddStringToObject(a, "state", AIN_POSTS_TAKEDOWN_REQUIRED);
  }
  cJSON_AddNumberToObject(a, "limit", limit);
  return posts(pa, "takedowns", a, out, err);
}

int ain_compensate_action_ok(const char *action) {
  return action != NULL && (strcmp(action, AIN_COMPENSATE_FLAG) == 0 ||
                            strcmp(action, AIN_COMPENSATE_UNPUBLISH_OTHERS) == 0 ||
                            strcmp(action, AIN_COMPENSATE_NONE) == 0);
}

int ain_post_compensate(const ain_post_after_t *pa, const char *video_id,
                        const char *failed_channel, const char *action, const char *reason,
                        cJSON **out, ain_err_t *err) {
  *out = NULL;
  if (!ain_compensate_action_ok(action)) {
    return ain_err_field(err, AIN_EINVAL, "action",
                         "compensation '%s' is not flag, unpublish_others or none",
                         action ? action : "");
  }
  if (video_id == NULL || video_id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "video_id", "a video id is required");
  }
  char why[1200];
  snprintf(why, sizeof why, "compensation: publish to %s failed: %s",
           failed_channel ? failed_channel : "?", reason ? reason : "");
  if (strcmp(action, AIN_COMPENSATE_NONE) == 0) {
    ain_log_warn("compensation for video %s: none (%s)", video_id, why);
    *out = result_of(video_id, cJSON_CreateArray());
    cJSON_AddStringToObject(*out, "action", action);
    return 0;
  }
  cJSON *a = cJSON_CreateObject(), *ans = NULL;
  cJSON_AddStringToObject(a, "video_id", video_id);
  if (failed_channel != NULL) {
    cJSON_AddStringToObject(a, "channel", failed_channel);
  }
  cJSON_AddStringToObject(a, "reason", why);
  int rc = posts(pa, "flag", a, &ans, err);
  cJSON_Delete(ans);
  if (rc != 0) {
    return rc;
  }
  cJSON *list = cJSON_CreateArray();
  if (strcmp(action, AIN_COMPENSATE_UNPUBLISH_OTHERS) == 0) {
    cJSON *rec = NULL;
    if ((rc = receipts_of(pa, video_id, NULL, &rec, err)) == 0) {
      rc = take_all(pa, rec, failed_channel, why, list, err);
    }
    cJSON_Delete(rec);
  }
  *out = result_of(video_id, list);
  cJSON_AddStringToObject(*out, "action", action);
  add_status(pa, video_id, *out);
  return rc;
}
