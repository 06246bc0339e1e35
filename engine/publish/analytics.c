/* The analytics pull (after.h, issue 14 §6): the public metrics of recent live posts, read through
 * each kind's `metrics` and written to post_metrics in one POSTS "metrics_put" per pass. The
 * scheduled pull runs on a thread of its own with its own store handle on its own loop, so the
 * platforms' slow answers never hold a shard or the main loop. Each channel is opened once per
 * pass. Relies on: after.h, store/posts.h, obs, core/log.h, libuv (thread, cond), cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "publish/after.h"
#include "store/posts.h"

#define MAX_CHANNELS 64 /* distinct channels of one pass (the configured ones: a few) */

typedef struct {
  const char *name;
  ain_channel_t *ch; /* NULL when it could not be opened */
} open_ch_t;

static void count_pull(const char *channel, const char *result) {
  const char *v[2] = {channel, result};
  ain_obs_inc(AIN_M_POST_METRICS_PULLS, v);
}

static ain_channel_t *channel_of(const ain_post_after_t *pa, open_ch_t *chs, int *nchs,
                                 const char *name) {
  for (int i = 0; i < *nchs; i++) {
    if (strcmp(chs[i].name, name) == 0) {
      return chs[i].ch;
    }
  }
  if (*nchs == MAX_CHANNELS) {
    return NULL;
  }
  ain_channel_opener_t open = pa->open != NULL ? pa->open : ain_channel_open_config;
  ain_err_t err;
  ain_err_clear(&err);
  open_ch_t *o = &chs[(*nchs)++];
  o->name = name;
  if (open(pa->open_data, pa->cfg, name, &o->ch, &err) != 0) {
    o->ch = NULL;
    ain_log_warn("analytics: channel %s not opened: %s", name, err.msg);
  }
  return o->ch;
}

static void add_count(cJSON *row, const char *k, int64_t v) {
  if (v >= 0) {
    cJSON_AddNumberToObject(row, k, (double)v);
  } else {
    cJSON_AddNullToObject(row, k); /* not reported by the platform */
  }
}

/* Reads one post's metrics into rows; updates res. */
static void pull_one(const ain_post_after_t *pa, open_ch_t *chs, int *nchs, const cJSON *post,
                     cJSON *rows, ain_analytics_result_t *res) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(post, "channel");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(post, "post_id");
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(post, "receipt_id");
  if (!cJSON_IsString(c) || !cJSON_IsString(p) || !cJSON_IsNumber(r)) {
    return;
  }
  res->posts++;
  ain_channel_t *ch = channel_of(pa, chs, nchs, c->valuestring);
  if (ch == NULL) {
    res->failed++;
    count_pull(c->valuestring, "failed");
    return;
  }
  if (ch->kind->metrics == NULL) {
    res->skipped++;
    count_pull(c->valuestring, "unsupported");
    return;
  }
  ain_channel_post_metrics_t m = {-1, -1, -1, -1};
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_post_quota_take(pa, c->valuestring, "metrics", &err);
  if (rc == AIN_EBUSY) { /* the account's quota is for publishes first: read it next pass */
    res->deferred++;
    count_pull(c->valuestring, "quota");
    return;
  }
  if (rc != 0) {
    res->failed++;
    count_pull(c->valuestring, "failed");
    ain_log_warn("analytics: quota of %s: %s", c->valuestring, err.msg);
    return;
  }
  if (ch->kind->metrics(ch, p->valuestring, &m, &err) != 0) {
    res->failed++;
    count_pull(c->valuestring, "failed");
    ain_log_warn("analytics: metrics of post %s on %s: %s", p->valuestring, c->valuestring,
                 err.msg);
    return;
  }
  cJSON *row = cJSON_CreateObject();
  cJSON_AddNumberToObject(row, "receipt_id", r->valuedouble);
  cJSON_AddStringToObject(row, "channel", c->valuestring);
  cJSON_AddStringToObject(row, "post_id", p->valuestring);
  add_count(row, "views", m.views);
  add_count(row, "likes", m.likes);
  add_count(row, "comments", m.comments);
  add_count(row, "shares", m.shares);
  cJSON_AddItemToArray(rows, row);
  res->pulled++;
  count_pull(c->valuestring, "pulled");
}

/* One POSTS request, waited; *out the parsed answer (caller deletes). */
static int posts(const ain_post_after_t *pa, const char *action, const char *args, cJSON **out,
                 ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_posts(&req, action, args);
  req.actor = pa->actor;
  int rc = ain_store_wait(pa->store, &req);
  if (rc != 0) {
    *err = req.err;
  } else if (out != NULL && (*out = cJSON_Parse(req.u.posts.out)) == NULL) {
    rc = ain_err_set(err, AIN_ESTORE, "posts %s: the store's answer is not JSON", action);
  }
  ain_store_req_cleanup(&req);
  return rc;
}

int ain_analytics_pull(const ain_post_after_t *pa, const ain_analytics_pass_t *pass,
                       ain_analytics_result_t *res, ain_err_t *err) {
  memset(res, 0, sizeof *res);
  if (pass->limit < 1 || pass->limit > 1000) {
    return ain_err_field(err, AIN_EINVAL, "limit", "posts per pass must be 1..1000, got %d",
                         pass->limit);
  }
  char args[96];
  snprintf(args, sizeof args, "{\"since\":%lld,\"limit\":%d}", (long long)pass->since_ms,
           pass->limit);
  cJSON *recent = NULL;
  int rc = posts(pa, "recent", args, &recent, err);
  if (rc != 0) {
    return rc;
  }
  open_ch_t chs[MAX_CHANNELS];
  int nchs = 0;
  cJSON *put = cJSON_CreateObject();
  cJSON *rows = cJSON_AddArrayToObject(put, "rows");
  const cJSON *post;
  cJSON_ArrayForEach(post, cJSON_GetObjectItemCaseSensitive(recent, "posts")) {
    if (pass->stopping != NULL && pass->stopping(pass->data)) {
      break;
    }
    pull_one(pa, chs, &nchs, post, rows, res);
  }
  for (int i = 0; i < nchs; i++) {
    ain_channel_close(chs[i].ch);
  }
  if (cJSON_GetArraySize(rows) > 0) {
    char *text = cJSON_PrintUnformatted(put);
    rc = text != NULL ? posts(pa, "metrics_put", text, NULL, err)
                      : ain_err_set(err, AIN_ENOMEM, "out of memory");
    free(text);
  }
  cJSON_Delete(put);
  cJSON_Delete(recent);
  return rc;
}

/* ---- the scheduled pull -------------------------------------------------------------------- */

struct ain_analytics {
  const ain_config_t *cfg;
  ain_store_config_t store_cfg;
  char *url, *sql_dir, *actor;
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_cond_t cond;
  int stop;
};

static void store_closed(void *data) {
  *(int *)data = 1;
}

static int stopping(void *data) {
  ain_analytics_t *a = data;
  uv_mutex_lock(&a->mu);
  int s = a->stop;
  uv_mutex_unlock(&a->mu);
  return s;
}

static void analytics_main(void *arg) {
  ain_analytics_t *a = arg;
  uv_loop_t loop;
  ain_store_t *store = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  if (uv_loop_init(&loop) != 0) {
    ain_log_error("analytics: no loop");
    return;
  }
  if (ain_store_open(&a->store_cfg, &loop, &store, &err) != 0) {
    ain_log_error("analytics: store not opened: %s", err.msg);
  }
  uint64_t interval_ms = (uint64_t)a->cfg->analytics.interval_s * 1000;
  ain_post_after_t pa = {.cfg = a->cfg, .store = store, .actor = a->actor};
  uv_mutex_lock(&a->mu);
  while (!a->stop && store != NULL) {
    /* wait first: a node that just started has nothing new, and a restart loop must not pull
     * the platforms on every start */
    if (uv_cond_timedwait(&a->cond, &a->mu, interval_ms * 1000000ull) == 0 || a->stop) {
      continue; /* woken: stopping (the loop condition says) */
    }
    uv_mutex_unlock(&a->mu);
    ain_analytics_pass_t pass = {
        .since_ms = ain_now_ms() - a->cfg->analytics.max_age_days * 86400000LL,
        .limit = 1000,
        .stopping = stopping,
        .data = a};
    ain_analytics_result_t res;
    if (ain_analytics_pull(&pa, &pass, &res, &err) != 0) {
      ain_log_warn("analytics: pull failed: %s", err.msg);
    } else {
      ain_log_info("analytics: %d post(s): %d pulled, %d without metrics, %d failed, %d left for "
                   "the next pass by the quota", res.posts, res.pulled, res.skipped, res.failed,
                   res.deferred);
    }
    uv_mutex_lock(&a->mu);
  }
  uv_mutex_unlock(&a->mu);
  if (store != NULL) {
    int closed = 0;
    ain_store_close(store, store_closed, &closed);
    while (!closed && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

int ain_analytics_start(const ain_config_t *cfg, const ain_store_config_t *store_cfg,
                        const char *actor, ain_analytics_t **out, ain_err_t *err) {
  *out = NULL;
  if (cfg->analytics.interval_s <= 0) {
    return 0;
  }
  ain_analytics_t *a = calloc(1, sizeof *a);
  if (a == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  a->cfg = cfg;
  a->store_cfg = *store_cfg;
  a->url = ain_strdup(store_cfg->url);
  a->sql_dir = store_cfg->sql_dir ? ain_strdup(store_cfg->sql_dir) : NULL;
  a->actor = ain_strdup(actor);
  a->store_cfg.url = a->url;
  a->store_cfg.sql_dir = a->sql_dir;
  uv_mutex_init(&a->mu);
  uv_cond_init(&a->cond);
  if (uv_thread_create(&a->thread, analytics_main, a) != 0) {
    uv_cond_destroy(&a->cond);
    uv_mutex_destroy(&a->mu);
    free(a->url);
    free(a->sql_dir);
    free(a->actor);
    free(a);
    return ain_err_set(err, AIN_EIO, "analytics: thread not started");
  }
  *out = a;
  return 0;
}

void ain_analytics_request_stop(ain_analytics_t *a) {
  if (a == NULL) {
    return;
  }
  uv_mutex_lock(&a->mu);
  a->stop = 1;
  uv_cond_signal(&a->cond);
  uv_mutex_unlock(&a->mu);
}

void ain_analytics_stop(ain_analytics_t *a) {
  if (a == NULL) {
    return;
  }
  ain_analytics_request_stop(a);
  uv_thread_join(&a->thread);
  uv_cond_destroy(&a->cond);
  uv_mutex_destroy(&a->mu);
  free(a->url);
  free(a->sql_dir);
  free(a->actor);
  free(a);
}
