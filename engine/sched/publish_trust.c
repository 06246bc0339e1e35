/* The trust half of publishing for the built-ins (sched/publish_trust.h): publish grants minted
 * at a pass or an approval, the token check and the quota take before a publish calls out, the
 * 429 give-back and the spent jti after. Store requests chain through one request struct; a
 * bucket write that loses its race (AIN_ECONFLICT: another node took from the same account)
 * re-reads and computes again, up to MAX_TRIES. Relies on: sched/internal.h, store/grants.h,
 * publish/token.h, publish/quota.h, obs. */
#include "sched/publish_trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "publish/quota.h"
#include "publish/token.h"

#define MAX_TRIES 16 /* bucket races lost in a row before the attempt fails (and retries) */

typedef enum { PH_BEFORE, PH_REFUSE, PH_LANDED } phase_t;

struct ain__ptrust {
  ain_store_t *store;
  const ain_config_t *cfg;
  const ain_publish_tokens_t *tokens;
  char *video_id, *channel, *key;
  char *account;    /* the quota bucket's key: channels.<name>.account, else the name */
  const char *kind;    /* the channel's kind: its publish cost (youtube 1600) */
  char actor[256];
  ain_store_req_t req;
  ain_store_grants_t g;
  ain_config_quota_t quota;
  int limited;
  int tries;
  phase_t phase;
  int64_t retry_after_ms;
  ain__ptrust_result_t res;
  ain__ptrust_cb cb;
  void *data;
};

static void count_token(const char *channel, const char *result) {
  const char *v[2] = {channel, result};
  ain_obs_inc(AIN_M_PUBLISH_TOKENS, v);
}

void ain__ptrust_grants_free(ain_store_grant_t *g, size_t n) {
  for (size_t i = 0; g != NULL && i < n; i++) {
    ain_store_grant_free(&g[i]);
  }
  free(g);
}

int ain__ptrust_grants_build(ain_step_t *step, const char *video_id, const cJSON *channels,
                             const char *granted_by, const char *reason, ain_store_grant_t **out,
                             size_t *n, ain_err_t *err) {
  *out = NULL;
  *n = 0;
  const ain_publish_tokens_t *tk = step->shard->engine->tokens;
  int count = cJSON_IsArray(channels) ? cJSON_GetArraySize(channels) : 0;
  if (tk == NULL || count == 0) {
    return 0;
  }
  if (count > AIN_STORE_GRANTS_PUT_MAX) {
    return ain_err_field(err, AIN_EINVAL, "payload.channels", "at most %d channels per video",
                         AIN_STORE_GRANTS_PUT_MAX);
  }
  ain_store_grant_t *g = calloc((size_t)count, sizeof *g);
  if (g == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  int64_t now = (int64_t)time(NULL);
  int rc = 0;
  size_t k = 0;
  const cJSON *ch;
  cJSON_ArrayForEach(ch, channels) {
    if (!cJSON_IsString(ch) || ch->valuestring[0] == '\0') {
      rc = ain_err_field(err, AIN_EINVAL, "payload.channels",
                         "review_gate's payload.channels must be channel names");
      goto fail;
    }
    ain_store_grant_t *x = &g[k++];
    char jti[65];
    ain_publish_token_jti(video_id, ch->valuestring, jti);
    x->jti = ain_strdup(jti);
    x->video_id = ain_strdup(video_id);
    x->channel = ain_strdup(ch->valuestring);
    x->granted_by = ain_strdup(granted_by);
    x->reason = ain_strdup(reason);
    x->exp = now + ain_publish_tokens_ttl_s(tk);
    if ((rc = ain_publish_token_mint(tk, video_id, ch->valuestring, jti, now,
                                     ain_publish_tokens_ttl_s(tk), &x->token, err)) != 0) {
      goto fail;
    }
    count_token(ch->valuestring, "minted");
  }
  *out = g;
  *n = k;
  return 0;
fail:
  ain__ptrust_grants_free(g, k);
  return rc;
}

void ain__ptrust_free(ain__ptrust_t *t) {
  if (t == NULL) {
    return;
  }
  ain_store_req_cleanup(&t->req);
  free(t->video_id);
  free(t->channel);
  free(t->account);
  free(t->key);
  free(t->res.token);
  free(t);
}

/* The end of every chain: the callback is the last thing that touches t (it may free it). */
static void finish(ain__ptrust_t *t) {
  t->cb(t, &t->res, t->data);
}

static void fail_with(ain__ptrust_t *t, int rc, const char *msg) {
  t->res.rc = rc;
  snprintf(t->res.msg, sizeof t->res.msg, "%s", msg);
  finish(t);
}

static void submit(ain__ptrust_t *t, ain_store_cb cb) {
  ain_store_req_cleanup(&t->req);
  ain_store_req_grants(&t->req, &t->g);
  t->req.data = t;
  t->req.cb = cb;
  t->req.actor = t->actor;
  if (ain_store_submit(t->store, &t->req) != 0) {
    fail_with(t, t->req.err.code != 0 ? t->req.err.code : AIN_ESTORE, t->req.err.msg);
  }
}

/* ---- the quota bucket: read, compute, write expecting the version read ----------------------- */

static void bucket_read(ain__ptrust_t *t);

static void set_gauge(ain__ptrust_t *t, const ain_quota_state_t *s) {
  if (t->quota.units_per_day > 0) {
    const char *v[1] = {t->channel};
    ain_obs_set(AIN_M_PUBLISH_QUOTA_LEFT, v, (double)(s->units_mu / 1000));
  }
}

static void on_bucket_put(ain_store_req_t *req) {
  ain__ptrust_t *t = req->data;
  if (req->status == AIN_ECONFLICT && ++t->tries < MAX_TRIES) {
    bucket_read(t); /* another node took first: read its result and compute again */
    return;
  }
  if (req->status != 0) {
    char m[400];
    snprintf(m, sizeof m, "quota of channel %s: %s", t->channel, req->err.msg);
    fail_with(t, req->status, m);
    return;
  }
  ain_quota_state_t s = {.units_mu = t->g.bucket.units_mu};
  set_gauge(t, &s);
  if (t->phase == PH_REFUSE) {
    t->res.cost = 0; /* given back */
    t->res.park_until = ain_now_ms() + t->retry_after_ms;
  }
  finish(t);
}

static void on_bucket_get(ain_store_req_t *req) {
  ain__ptrust_t *t = req->data;
  if (req->status != 0) {
    fail_with(t, req->status, req->err.msg);
    return;
  }
  ain_store_bucket_t *b = &t->g.bucket;
  ain_quota_state_t s = ain_publish_quota_state_of(b);
  int64_t expect = b->state_version, now = ain_now_ms();
  if (t->phase == PH_REFUSE) { /* res.cost stays until the write holds: a lost race re-gives */
    ain_publish_quota_refuse(&t->quota, t->res.cost, &s, now, t->retry_after_ms);
  } else {
    int64_t wait = 0;
    if (!ain_publish_quota_take(&t->quota, ain_publish_quota_cost(&t->quota, t->kind), &s, now,
                                &wait)) {
      set_gauge(t, &s);
      t->res.park_until = now + wait;
      const char *v[2] = {t->channel, "quota"};
      ain_obs_inc(AIN_M_PUBLISH_QUOTA_PARKS, v);
      finish(t);
      return;
    }
    t->res.cost = t->quota.units_per_day > 0 ? ain_publish_quota_cost(&t->quota, t->kind) : 0;
  }
  char *account = b->account; /* ours (BUCKET_GET's output): kept across the put */
  b->account = NULL;
  ain_store_grants_cleanup(&t->g);
  memset(&t->g, 0, sizeof t->g);
  t->g.op = AIN_STORE_BUCKET_PUT;
  t->g.expect_version = expect;
  t->g.bucket = ain_publish_quota_row_of(t->account, &s);
  free(account);
  submit(t, on_bucket_put);
}

static void bucket_read(ain__ptrust_t *t) {
  ain_store_grants_cleanup(&t->g);
  memset(&t->g, 0, sizeof t->g);
  t->g.op = AIN_STORE_BUCKET_GET;
  t->g.account = t->account; /* channels sharing an account share its bucket */
  submit(t, on_bucket_get);
}

static void quota_start(ain__ptrust_t *t) {
  if (!t->limited) {
    finish(t);
    return;
  }
  t->tries = 0;
  bucket_read(t);
}

/* ---- the token -------------------------------------------------------------------------------- */

static void refuse_token(ain__ptrust_t *t, const char *verdict, const char *msg) {
  snprintf(t->res.verdict, sizeof t->res.verdict, "%s", verdict);
  count_token(t->channel, verdict);
  fail_with(t, AIN_ETOKEN, msg);
}

static void on_grant(ain_store_req_t *req) {
  ain__ptrust_t *t = req->data;
  char m[512];
  if (req->status == AIN_ENOTFOUND) {
    snprintf(m, sizeof m,
             "no publish grant for video %s on channel %s: the judge did not pass it and no "
             "reviewer approved it (grants are minted by the review_gate step)",
             t->video_id, t->channel);
    refuse_token(t, "no_grant", m);
    return;
  }
  if (req->status != 0) {
    fail_with(t, req->status, req->err.msg);
    return;
  }
  const ain_store_grant_t *gr = &t->g.grants[0];
  ain_publish_token_verdict_t v = AIN_PUBLISH_TOKEN_OK;
  ain_err_t err;
  ain_err_clear(&err);
  int64_t now_s = (int64_t)time(NULL);
  int rc = ain_publish_token_verify(t->tokens, gr->token, t->video_id, t->channel, t->key,
                                    gr->used_at, now_s, &v, &err);
  int64_t grant_ttl_ms = ain_publish_tokens_grant_ttl_s(t->tokens) * 1000;
  if (rc != 0 && v == AIN_PUBLISH_TOKEN_EXPIRED && grant_ttl_ms > 0 &&
      ain_now_ms() - gr->created_at <= grant_ttl_ms) {
    /* Signed by us for exactly this publish, only old: the step waited (paused publishers,
     * a closed quota window, retries) while its grant is still good. The engine mints a fresh
     * one from the grant; a forged, replayed or misdirected token never gets here. */
    ain_err_clear(&err);
    rc = ain_publish_token_mint(t->tokens, t->video_id, t->channel, t->key, now_s,
                                ain_publish_tokens_ttl_s(t->tokens), &t->res.token, &err);
    if (rc != 0) {
      fail_with(t, rc, err.msg);
      return;
    }
    snprintf(t->res.verdict, sizeof t->res.verdict, "renewed");
    count_token(t->channel, "renewed");
    quota_start(t);
    return;
  }
  if (rc != 0) {
    snprintf(m, sizeof m, "video %s on channel %s: %s%s", t->video_id, t->channel, err.msg,
             v == AIN_PUBLISH_TOKEN_EXPIRED
                 ? " and its grant is older than publish.token.grant_ttl_s: approve the video "
                   "again to mint a fresh one"
                 : "");
    refuse_token(t, ain_publish_token_verdict_name(v), m);
    return;
  }
  t->res.token = ain_strdup(gr->token);
  snprintf(t->res.verdict, sizeof t->res.verdict, "verified");
  count_token(t->channel, "verified");
  quota_start(t);
}

static ain__ptrust_t *trust_new(ain_step_t *step, const char *video_id, const char *channel,
                                const char *key, ain__ptrust_cb cb, void *data) {
  ain__ptrust_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    return NULL;
  }
  t->store = step->shard->store;
  t->cfg = step->shard->engine->cfg;
  t->tokens = step->shard->engine->tokens;
  t->video_id = ain_strdup(video_id);
  t->channel = ain_strdup(channel);
  t->key = ain_strdup(key);
  snprintf(t->actor, sizeof t->actor, "%s", step->shard->owner);
  t->cb = cb;
  t->data = data;
  t->limited = ain_publish_quota_of(t->cfg, channel, &t->quota);
  const ain_config_channel_t *cc = ain_config_channel(&t->cfg->channels, channel);
  t->account = ain_strdup(cc != NULL && cc->account != NULL ? cc->account : channel);
  t->kind = cc != NULL ? cc->kind : NULL;
  return t;
}

int ain__ptrust_before(ain_step_t *step, const char *video_id, const char *channel,
                       const char *key, ain__ptrust_cb cb, void *data, ain__ptrust_t **out,
                       ain_err_t *err) {
  ain__ptrust_t *t = trust_new(step, video_id, channel, key, cb, data);
  if (t == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  *out = t;
  t->phase = PH_BEFORE;
  if (t->tokens == NULL) {
    quota_start(t); /* tokens off (no publish.token): the quota alone */
    return 0;
  }
  t->g.op = AIN_STORE_GRANT_GET;
  t->g.jti = t->key;
  submit(t, on_grant);
  return 0;
}

int ain__ptrust_refused(ain__ptrust_t *t, int64_t retry_after_ms, ain__ptrust_cb cb,
                        void *data) {
  t->cb = cb;
  t->data = data;
  t->phase = PH_REFUSE;
  t->retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 1000;
  t->res.rc = 0;
  const char *v[2] = {t->channel, "rate_limited"};
  ain_obs_inc(AIN_M_PUBLISH_QUOTA_PARKS, v);
  if (!t->limited) {
    t->res.park_until = ain_now_ms() + t->retry_after_ms;
    finish(t);
    return 0;
  }
  t->tries = 0;
  bucket_read(t);
  return 0;
}

static void on_used(ain_store_req_t *req) {
  ain__ptrust_t *t = req->data;
  t->res.rc = req->status;
  if (req->status != 0) {
    snprintf(t->res.msg, sizeof t->res.msg, "%s", req->err.msg);
  }
  finish(t);
}

int ain__ptrust_landed(ain__ptrust_t *t, ain__ptrust_cb cb, void *data) {
  t->cb = cb;
  t->data = data;
  t->phase = PH_LANDED;
  t->res.rc = 0;
  if (t->tokens == NULL) {
    finish(t);
    return 0;
  }
  ain_store_grants_cleanup(&t->g);
  memset(&t->g, 0, sizeof t->g);
  t->g.op = AIN_STORE_GRANT_USE;
  t->g.jti = t->key;
  submit(t, on_used);
  return 0;
}

char *ain__ptrust_detail(const char *policies_json, const ain__ptrust_result_t *r,
                         const char *park_why) {
  cJSON *o = policies_json != NULL ? cJSON_Parse(policies_json) : NULL;
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    o = cJSON_CreateObject();
  }
  if (r->verdict[0] != '\0') {
    cJSON_AddStringToObject(o, "publish_token", r->verdict);
  }
  if (park_why != NULL) {
    cJSON_AddStringToObject(o, "parked", park_why);
    cJSON_AddNumberToObject(o, "until", (double)r->park_until);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}
