/* The built-in "publish": one per (video, channel), after the review gate (DESIGN §1).
 *   1. Publishers paused (settings "publishers.paused" = "true", `ain publishers pause`)? The step
 *      PARKS (task waiting, attempt given back, no worker slot held); `ain publishers resume`
 *      returns every parked publish task to ready in the same commit.
 *   2. The policy lua:publisher.publish builds the request (idempotency key = sha256(video_id ..
 *      channel), files, sidecar) or says {skipped} (judge rejected, or review not approved); ctx
 *      gets review = {approved, by} from the gate's result.
 *   3. A receipt for the key already exists (a retried publish): succeed with it, write nothing.
 *   3b. Trust (sched/publish_trust.c): the grant's token is verified (AIN_ETOKEN, dead-lettered,
 *      when it is missing, forged, replayed, misdirected or expired past its grant), then the
 *      channel account's quota is taken; an empty bucket (or a 429 from the channel) PARKS the
 *      step until the window reopens (ready again at that time on any node, attempt given back).
 *   4. The channel (a kind from engine/publish/kinds.c, the outbox directory by default)
 *      publishes on the thread pool with the key's durable session (publish_session.c: what it
 *      saved before a crash, saves fenced by this step's lease); it resumes an upload or finds
 *      the post it made, so a crash between 4 and 5 is repaired by the retry.
 *   5. The receipt is recorded (unique key, the platform's post id and url; the video becomes
 *      published), then the step succeeds.
 * A channel failure (unwritable outbox) fails the attempt with the channel's message; the task
 * retries with backoff and is dead-lettered past max_attempts, with no receipt and the video row
 * untouched. A lost lease (AIN_ELEASE from a save) ends the attempt: the node that took the step
 * over carries on. Relies on: sched/internal.h (shard: store, Lua host, config), publish/kinds.h,
 * sched/publish_session.h, objstore, cJSON, libuv (uv_queue_work). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "objstore/open.h"
#include "obs/obs.h"
#include "publish/kinds.h"
#include "sched/internal.h"
#include "sched/publish_session.h"
#include "sched/publish_trust.h"

typedef struct {
  ain_step_t *step; /* NULL once cancelled: whatever is in flight frees the state when it ends */
  ain_store_req_t req;
  int inflight; /* a store request, the Lua call or the work item is out */
  ain_lua_call_t *call;
  cJSON *request; /* the publisher's result */
  char *policies; /* {"policies": {...}} for the audit row */
  ain_receipt_t receipt_in;
  /* channel work */
  uv_work_t work;
  const ain_config_t *cfg;
  char *owner; /* the lease this attempt holds: fences the session's saves */
  int attempts;
  ain_publish_file_t *files;
  size_t nfiles;
  char *sidecar;
  ain_channel_result_t res;
  int work_rc;
  ain_err_t work_err;
  ain__ptrust_t *trust;   /* the token and quota check (sched/publish_trust.h) */
  cJSON *done;            /* the result, while the landed publish spends its jti */
} pub_t;

static void pub_free(pub_t *p) {
  ain_store_req_cleanup(&p->req);
  cJSON_Delete(p->request);
  free(p->policies);
  free(p->owner);
  free(p->files);
  free(p->sidecar);
  ain__ptrust_free(p->trust);
  cJSON_Delete(p->done);
  free(p);
}

/* Common tail of every callback: a cancelled step only frees. Returns the live step or NULL. */
static ain_step_t *landed(pub_t *p) {
  p->inflight = 0;
  if (p->step == NULL) {
    pub_free(p);
    return NULL;
  }
  return p->step;
}

/* ain_publishes_total{channel, result}: the channel the policy named ("unknown" before it did;
 * channels are the configured ones, a bounded set). */
static void count_publish(const pub_t *p, const char *result) {
  const char *v[2] = {p->receipt_in.channel != NULL ? p->receipt_in.channel : "unknown", result};
  ain_obs_inc(AIN_M_PUBLISHES, v);
}

static void end_fail(pub_t *p, int code, const char *msg, int permanent) {
  count_publish(p, "failed");
  ain_step_t *step = p->step;
  step->priv = NULL;
  if (p->policies != NULL && step->detail == NULL) {
    step->detail = ain_strdup(p->policies);
  }
  ain_step_fail(step, code, msg, permanent);
  pub_free(p);
}

static void end_ok(pub_t *p, cJSON *result) {
  ain_step_t *step = p->step;
  step->priv = NULL;
  char *s = cJSON_PrintUnformatted(result);
  cJSON_Delete(result);
  ain_step_succeed(step, s, NULL, p->policies);
  free(s);
  pub_free(p);
}

static int submit(pub_t *p, ain_store_cb cb) {
  p->req.data = p;
  p->req.cb = cb;
  p->req.actor = p->step->shard->owner;
  p->inflight = 1;
  int rc = ain_store_submit(p->step->shard->store, &p->req);
  if (rc != 0) {
    p->inflight = 0;
  }
  return rc;
}

static const char *str_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *receipt_result(const ain_receipt_t *r, int duplicate) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "channel", r->channel ? r->channel : "");
  cJSON_AddStringToObject(o, "video_id", r->video_id ? r->video_id : "");
  cJSON_AddStringToObject(o, "idempotency_key", r->idempotency_key ? r->idempotency_key : "");
  cJSON_AddStringToObject(o, "location", r->location ? r->location : "");
  if (r->post_id != NULL) {
    cJSON_AddStringToObject(o, "post_id", r->post_id);
  }
  if (r->url != NULL) {
    cJSON_AddStringToObject(o, "url", r->url);
  }
  cJSON_AddNumberToObject(o, "receipt_id", (double)r->id);
  cJSON_AddBoolToObject(o, "duplicate", duplicate);
  return o;
}

/* ---- 3b: trust (token, quota); 5b: the landed publish spends its jti ------------------------ */

static void queue_channel(pub_t *p);

/* Ends the step by parking it until park_until (quota window closed, or the channel's 429). */
static void park_until(pub_t *p, const ain__ptrust_result_t *r, const char *why) {
  ain_step_t *step = p->step;
  char *detail = ain__ptrust_detail(p->policies, r, why);
  if (p->work_rc == AIN_EBUSY && p->work_err.msg[0] != '\0') { /* the platform's refusal */
    cJSON *d = detail != NULL ? cJSON_Parse(detail) : NULL;
    if (d != NULL) {
      cJSON_AddStringToObject(d, "error", p->work_err.msg);
      free(detail);
      detail = cJSON_PrintUnformatted(d);
      cJSON_Delete(d);
    }
  }
  ain_log_ctx_t lc = ain_step_log_ctx(step);
  ain_log(AIN_LOG_INFO, &lc, "publish of %s to %s parked for %lld ms (%s)", p->receipt_in.video_id,
          p->receipt_in.channel, (long long)(r->park_until - ain_now_ms()), why);
  step->priv = NULL;
  count_publish(p, "parked");
  ain_step_park_until(step, detail, r->park_until);
  free(detail);
  pub_free(p);
}

static void on_trust(ain__ptrust_t *t, const ain__ptrust_result_t *r, void *data) {
  (void)t;
  pub_t *p = data;
  if (landed(p) == NULL) {
    return;
  }
  if (r->rc != 0 || r->park_until > 0) {
    if (r->rc == 0) {
      park_until(p, r, "quota");
      return;
    }
    free(p->step->detail);
    p->step->detail = ain__ptrust_detail(p->policies, r, NULL); /* the audit row says why */
    end_fail(p, r->rc, r->msg, r->rc == AIN_ETOKEN);
    return;
  }
  queue_channel(p);
}

static void on_refused(ain__ptrust_t *t, const ain__ptrust_result_t *r, void *data) {
  (void)t;
  pub_t *p = data;
  if (landed(p) == NULL) {
    return;
  }
  if (r->rc != 0) {
    end_fail(p, r->rc, r->msg, 0);
    return;
  }
  park_until(p, r, "rate_limited");
}

static void on_spent(ain__ptrust_t *t, const ain__ptrust_result_t *r, void *data) {
  (void)t;
  pub_t *p = data;
  if (landed(p) == NULL) {
    return;
  }
  if (r->rc != 0) { /* the publish stands; an unspent jti only weakens the replay check */
    ain_log_ctx_t lc = ain_step_log_ctx(p->step);
    ain_log(AIN_LOG_WARN, &lc, "publish grant of %s not marked used: %s", p->receipt_in.video_id,
            r->msg);
  }
  cJSON *done = p->done;
  p->done = NULL;
  end_ok(p, done);
}

/* ---- 5: the receipt ------------------------------------------------------------------------- */

static void on_receipt(ain_store_req_t *req) {
  pub_t *p = req->data;
  if (landed(p) == NULL) {
    return;
  }
  if (req->status != 0) {
    end_fail(p, req->status, req->err.msg, 0);
    return;
  }
  ain_log_ctx_t lc = ain_step_log_ctx(p->step);
  ain_log(AIN_LOG_INFO, &lc, "published video %s to %s: %s", p->receipt_in.video_id,
          p->receipt_in.channel, req->u.receipt_put.receipt.location);
  count_publish(p, req->u.receipt_put.created ? "published" : "duplicate");
  p->done = receipt_result(&req->u.receipt_put.receipt, !req->u.receipt_put.created);
  p->inflight = 1;
  ain__ptrust_landed(p->trust, on_spent, p); /* on_spent ends the step */
}

/* ---- 4: the channel, on the thread pool ----------------------------------------------------- */

/* The step may be cancelled meanwhile (p->step NULL): everything here reads only p's copies. */
static void work_cb(uv_work_t *w) {
  pub_t *p = w->data;
  ain_objstore_t *os = NULL;
  ain_channel_t *ch = NULL;
  ain__pubsess_t *sess = NULL;
  ain_err_clear(&p->work_err);
  ain__pubsess_opts_t so = {.idempotency_key = p->receipt_in.idempotency_key,
                            .channel = p->receipt_in.channel,
                            .video_id = p->receipt_in.video_id,
                            .task_id = p->receipt_in.task_id,
                            .owner = p->owner,
                            .attempts = p->attempts};
  if ((p->work_rc = ain_objstore_open(p->cfg, &os, &p->work_err)) != 0 ||
      (p->work_rc = ain_channel_open(p->cfg, p->receipt_in.channel, os, &ch, &p->work_err)) != 0 ||
      (p->work_rc = ain__pubsess_open(p->cfg, &so, &sess, &p->work_err)) != 0) {
    goto done;
  }
  ain_publish_req_t r = {.video_id = p->receipt_in.video_id,
                         .idempotency_key = p->receipt_in.idempotency_key,
                         .files = p->files,
                         .nfiles = p->nfiles,
                         .sidecar_json = p->sidecar,
                         .objects = os};
  p->work_rc = ain_channel_publish(ch, &r, ain__pubsess_channel(sess), &p->res, &p->work_err);
done:
  ain__pubsess_close(sess);
  ain_channel_close(ch);
  ain_objstore_close(os);
}

/* A failure that retrying cannot heal: the config, the request, a refused credential. */
static int permanent(int rc) {
  return rc == AIN_ECONFIG || rc == AIN_EINVAL || rc == AIN_ENOTFOUND || rc == AIN_ECREDS;
}

static void after_work(uv_work_t *w, int status) {
  pub_t *p = w->data;
  if (landed(p) == NULL) {
    return;
  }
  if (p->work_rc == AIN_EBUSY && status == 0) { /* 429: give the units back and park */
    p->inflight = 1;
    ain__ptrust_refused(p->trust, p->res.retry_after_ms, on_refused, p);
    return;
  }
  if (p->work_rc != 0 || status != 0) {
    int rc = p->work_rc != 0 ? p->work_rc : AIN_ECANCELLED;
    end_fail(p, rc, p->work_rc != 0 ? p->work_err.msg : "publish work cancelled",
             p->work_rc != 0 && permanent(rc));
    return;
  }
  p->receipt_in.location = p->res.url;
  p->receipt_in.post_id = p->res.post_id[0] != '\0' ? p->res.post_id : NULL;
  p->receipt_in.url = p->res.url[0] != '\0' ? p->res.url : NULL;
  ain_store_req_cleanup(&p->req);
  ain_store_req_receipt_put(&p->req, &p->receipt_in, 0);
  int rc = submit(p, on_receipt);
  if (rc != 0) {
    end_fail(p, rc, p->req.err.msg, 0);
  }
}

/* Files and sidecar from the publisher's request; 0 or AIN_EINVAL. */
static int take_request(pub_t *p, ain_err_t *err) {
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(p->request, "files");
  const cJSON *sidecar = cJSON_GetObjectItemCaseSensitive(p->request, "sidecar");
  int n = cJSON_GetArraySize(files);
  if (!cJSON_IsArray(files) || n == 0) {
    return ain_err_field(err, AIN_EINVAL, "files", "publisher returned no files");
  }
  p->files = calloc((size_t)n, sizeof *p->files);
  if (p->files == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  const cJSON *f;
  cJSON_ArrayForEach(f, files) {
    ain_publish_file_t *pf = &p->files[p->nfiles++];
    pf->role = str_of(f, "role");
    pf->key = str_of(f, "key");
    pf->name = str_of(f, "name");
  }
  cJSON *side = cJSON_IsObject(sidecar) ? cJSON_Duplicate(sidecar, 1) : cJSON_CreateObject();
  cJSON_AddStringToObject(side, "channel", p->receipt_in.channel);
  cJSON_AddStringToObject(side, "idempotency_key", p->receipt_in.idempotency_key);
  cJSON_AddStringToObject(side, "task_id", p->step->task.id);
  for (size_t i = 0; i < p->nfiles; i++) {
    if (p->files[i].role != NULL && p->files[i].name != NULL) {
      char k[64];
      snprintf(k, sizeof k, "%s_file", p->files[i].role);
      cJSON_AddStringToObject(side, k, p->files[i].name);
    }
  }
  p->sidecar = cJSON_Print(side);
  cJSON_Delete(side);
  return 0;
}

/* ---- 3: a receipt already? ------------------------------------------------------------------ */

static void on_lookup(ain_store_req_t *req) {
  pub_t *p = req->data;
  if (landed(p) == NULL) {
    return;
  }
  if (req->status == 0) { /* published before: the retry adds nothing */
    count_publish(p, "duplicate");
    end_ok(p, receipt_result(&req->u.receipt_put.receipt, 1));
    return;
  }
  if (req->status != AIN_ENOTFOUND) {
    end_fail(p, req->status, req->err.msg, 0);
    return;
  }
  ain_err_t err;
  ain_err_clear(&err);
  p->cfg = p->step->shard->engine->cfg;
  int rc = 0;
  if (ain_config_channel(&p->cfg->channels, p->receipt_in.channel) == NULL) {
    rc = ain_err_field(&err, AIN_ENOTFOUND, "channel", "no channel '%s' in the config's channels",
                       p->receipt_in.channel);
  } else {
    rc = take_request(p, &err);
  }
  if (rc != 0) { /* a configuration mistake does not heal by retrying */
    end_fail(p, rc, err.msg, 1);
    return;
  }
  const ain_task_t *t = &p->step->task;
  p->owner = ain_strdup(t->lease_owner != NULL ? t->lease_owner : p->step->shard->owner);
  p->attempts = t->attempts;
  p->inflight = 1;
  if ((rc = ain__ptrust_before(p->step, p->receipt_in.video_id, p->receipt_in.channel,
                               p->receipt_in.idempotency_key, on_trust, p, &p->trust, &err)) !=
      0) {
    p->inflight = 0;
    end_fail(p, rc, err.msg, 0);
  }
}

static void queue_channel(pub_t *p) {
  p->work.data = p;
  p->inflight = 1;
  int rc = uv_queue_work(ain_step_loop(p->step), &p->work, work_cb, after_work);
  if (rc != 0) {
    p->inflight = 0;
    end_fail(p, AIN_EIO, uv_strerror(rc), 0);
  }
}

/* ---- 2: the policy builds the request --------------------------------------------------------- */

static void on_policy(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                      void *data) {
  pub_t *p = data;
  p->call = NULL;
  if (p->step != NULL) {
    size_t n = strlen(ain_lua_call_versions(call)) + 16;
    p->policies = malloc(n);
    if (p->policies == NULL) {
      abort();
    }
    snprintf(p->policies, n, "{\"policies\":%s}", ain_lua_call_versions(call));
  }
  if (landed(p) == NULL) {
    return;
  }
  if (status != 0) {
    end_fail(p, status, error, 0);
    return;
  }
  p->request = cJSON_Parse(result_json != NULL ? result_json : "{}");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->request, "skipped"))) {
    cJSON *r = p->request;
    p->request = NULL;
    end_ok(p, r);
    return;
  }
  p->receipt_in.video_id = (char *)str_of(p->request, "video_id");
  p->receipt_in.channel = (char *)str_of(p->request, "channel");
  p->receipt_in.idempotency_key = (char *)str_of(p->request, "idempotency_key");
  p->receipt_in.task_id = p->step->task.id;
  if (p->receipt_in.video_id == NULL || p->receipt_in.channel == NULL ||
      p->receipt_in.idempotency_key == NULL) {
    end_fail(p, AIN_EINVAL, "publisher.publish returned no video_id, channel or idempotency_key",
             1);
    return;
  }
  ain_store_req_receipt_put(&p->req, &p->receipt_in, 1);
  int rc = submit(p, on_lookup);
  if (rc != 0) {
    end_fail(p, rc, p->req.err.msg, 0);
  }
}

/* ctx for the publisher: the step's ctx plus review = {approved, by} from the gate's result. */
static char *policy_ctx(ain_step_t *step) {
  char *base = ain_step_ctx_json(step);
  cJSON *ctx = cJSON_Parse(base);
  free(base);
  const cJSON *deps = cJSON_GetObjectItemCaseSensitive(ctx, "deps");
  const cJSON *gate = cJSON_GetObjectItemCaseSensitive(deps, "review_gate");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(gate, "approved"))) {
    cJSON *rv = cJSON_AddObjectToObject(ctx, "review");
    cJSON_AddTrueToObject(rv, "approved");
    const char *by = str_of(gate, "reviewer");
    cJSON_AddStringToObject(rv, "by", by != NULL ? by : "operator");
  }
  char *s = cJSON_PrintUnformatted(ctx);
  cJSON_Delete(ctx);
  return s;
}

/* ---- 1: paused? ----------------------------------------------------------------------------- */

static void on_paused(ain_store_req_t *req) {
  pub_t *p = req->data;
  ain_step_t *step = landed(p);
  if (step == NULL) {
    return;
  }
  if (req->status != 0) {
    end_fail(p, req->status, req->err.msg, 0);
    return;
  }
  if (req->u.setting.out_value != NULL && strcmp(req->u.setting.out_value, "true") == 0) {
    ain_log_ctx_t lc = ain_step_log_ctx(step);
    ain_log(AIN_LOG_INFO, &lc, "publishers are paused: step %s waits for `ain publishers resume`",
            step->task.step ? step->task.step : "publish");
    step->priv = NULL;
    count_publish(p, "paused");
    ain_step_park(step, "{\"parked\":\"publishers paused\"}");
    pub_free(p);
    return;
  }
  ain_store_req_cleanup(&p->req);
  char *ctx = policy_ctx(step);
  ain_lua_call_opts_t o = {.module = "publisher",
                           .function = "publish",
                           .payload_json = step->task.payload ? step->task.payload : "{}",
                           .ctx_json = ctx};
  ain_err_t err;
  ain_err_clear(&err);
  ain_lua_call_t *call = NULL;
  p->inflight = 1;
  int rc = ain_lua_call(ain_step_lua(step), &o, on_policy, p, &call, &err);
  free(ctx);
  if (rc != 0) {
    p->inflight = 0;
    end_fail(p, rc, err.msg, 0);
    return;
  }
  if (call != NULL) { /* still running (it yielded): keep the handle for cancel. When the call
                       * finished without yielding, on_policy already ran and p may be gone. */
    p->call = call;
  }
}

static int pub_start(ain_step_t *step, ain_err_t *err) {
  pub_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  p->step = step;
  step->priv = p;
  ain_store_req_setting(&p->req, "publishers.paused", NULL);
  int rc = submit(p, on_paused);
  if (rc != 0) {
    ain_err_set(err, rc, "%s", p->req.err.msg);
    step->priv = NULL;
    pub_free(p);
  }
  return rc;
}

static void pub_cancel(ain_step_t *step, int code, const char *why) {
  pub_t *p = step->priv;
  step->priv = NULL;
  if (p != NULL) {
    p->step = NULL;
    if (p->call != NULL) {
      ain_lua_call_cancel(p->call, code, why); /* runs on_policy, which frees p */
    } else if (!p->inflight) {
      pub_free(p);
    }
  }
  ain_step_fail(step, code, why, 0);
}

const ain_builtin_t ain__builtin_publish = {"publish", pub_start, pub_cancel};
