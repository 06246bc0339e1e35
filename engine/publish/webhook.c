/* The "webhook" channel kind: for teams whose own service posts. A publish is one POST of JSON
 *   {event: "publish", channel, video_id, idempotency_key, metadata: <the sidecar>,
 *    media: [{role, name, url, bytes}]}
 * to channels.<name>.url with "Authorization: Bearer <JWT>" and "Idempotency-Key: <key>". The
 * JWT is HS256 (libjwt) with the channel's own key from the secrets provider (jwt_secret): iss
 * "ain", sub = the video id, aud = the channel (or channels.<name>.audience), jti = the
 * idempotency key, iat, exp <= iat + 300. It is the channel's own key, not the engine's
 * publish-token key (publish/token.h): HS256 is symmetric, and a receiver holding the engine's
 * key could mint tokens the engine itself would accept. Media URLs are ones the receiver can GET:
 * media_base_url + key, or the object store's presigned URL.
 *
 * The receiver answers 2xx {post_id, url?, already?}; the same Idempotency-Key must give the same
 * post (the receiver's half of "never twice"), so a 5xx or a dropped connection is retried with
 * exponential backoff and a fresh JWT (same jti). 429 -> AIN_EBUSY with Retry-After in
 * res->retry_after_ms; 401/403 -> AIN_ECREDS; other 4xx -> AIN_EHTTP with the receiver's message.
 * The post id is saved (session->save) once known, so a later attempt does not call again.
 * unpublish: DELETE channels.<name>.delete_url ("{post_id}" replaced) with a JWT whose sub is the
 * post id; 404 counts as gone. Without delete_url it returns AIN_ECONFIG naming
 * channels.<name>.delete_url: "no delete call: a manual takedown is required".
 * Relies on: kinds.h (config checks, media URLs, HTTP), http.h, libjwt, OpenSSL (RAND for
 * a delete's jti), core/secret.h, cJSON, libcurl (escaping). */
#include <curl/curl.h>
#include <jwt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/util.h"
#include "publish/http.h"
#include "publish/kinds.h"


#define JWT_TTL_MAX 300
#define HS256_KEY_MIN 32 /* RFC 7518 3.2: a key at least as long as the hash */

typedef struct {
  char *name, *url, *delete_url, *audience, *media_base_url;
  int64_t jwt_ttl_s, url_ttl_s, timeout_ms, max_retries, retry_base_ms, rate_limit_ms;
  char *key;
  size_t key_len;
  ain_objstore_t *objects;
} hook_t;

static const char *const KEYS[] = {"url",         "jwt_secret",     "delete_url",      "audience",
                                   "jwt_ttl_s",   "media_base_url", "media_url_ttl_s", "timeout_ms",
                                   "max_retries", "retry_base_ms",  "rate_limit_ms",   NULL};

typedef struct {
  const char *url, *secret, *delete_url, *audience, *media_base_url;
  int64_t jwt_ttl_s, url_ttl_s, timeout_ms, max_retries, retry_base_ms, rate_limit_ms;
} hook_opts_t;

static int read_opts(const char *name, const cJSON *o, hook_opts_t *v, ain_err_t *err) {
  int rc;
  if ((rc = ain_channel_check_keys(name, o, KEYS, err)) != 0 ||
      (rc = ain_channel_check_endpoint(name, o, "url", 1, err)) != 0 ||
      (rc = ain_channel_check_secret(name, o, "jwt_secret", 1, err)) != 0 ||
      (rc = ain_channel_check_endpoint(name, o, "delete_url", 0, err)) != 0 ||
      (rc = ain_channel_check_str(name, o, "audience", 0, 256, err)) != 0 ||
      (rc = ain_channel_check_url(name, o, "media_base_url", 0, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "jwt_ttl_s", 1, JWT_TTL_MAX, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "media_url_ttl_s", 60, 604800, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "timeout_ms", 100, 600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "max_retries", 0, 20, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "retry_base_ms", 1, 60000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "rate_limit_ms", 1, 86400000, err)) != 0) {
    return rc;
  }
  v->url = ain_channel_opt_str(o, "url", NULL);
  v->secret = ain_channel_opt_str(o, "jwt_secret", NULL);
  v->delete_url = ain_channel_opt_str(o, "delete_url", NULL);
  v->audience = ain_channel_opt_str(o, "audience", name);
  v->media_base_url = ain_channel_opt_str(o, "media_base_url", NULL);
  v->jwt_ttl_s = ain_channel_opt_int(o, "jwt_ttl_s", JWT_TTL_MAX);
  v->url_ttl_s = ain_channel_opt_int(o, "media_url_ttl_s", 3600);
  v->timeout_ms = ain_channel_opt_int(o, "timeout_ms", 30000);
  v->max_retries = ain_channel_opt_int(o, "max_retries", 5);
  v->retry_base_ms = ain_channel_opt_int(o, "retry_base_ms", 1000);
  v->rate_limit_ms = ain_channel_opt_int(o, "rate_limit_ms", 60000);
  if (v->delete_url != NULL && strstr(v->delete_url, "{post_id}") == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "delete_url",
                         "channels.%s.delete_url: must contain {post_id}", name);
  }
  return 0;
}

static int hook_check(const char *name, const cJSON *opts, ain_err_t *err) {
  hook_opts_t v;
  return read_opts(name, opts, &v, err);
}

static void hook_free(hook_t *h) {
  if (h == NULL) {
    return;
  }
  if (h->key != NULL) {
    ain_secret_free(h->key, h->key_len);
  }
  free(h->name);
  free(h->url);
  free(h->delete_url);
  free(h->audience);
  free(h->media_base_url);
  free(h);
}

static char *dup_or_null(const char *s, int *oom) {
  if (s == NULL) {
    return NULL;
  }
  char *d = ain_strdup(s);
  *oom |= d == NULL;
  return d;
}

static int hook_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  hook_opts_t v;
  hook_t *h = NULL;
  ain_channel_t *ch = NULL;
  int oom = 0, rc = read_opts(o->name, o->opts, &v, err);
  if (rc != 0) {
    return rc;
  }
  if ((h = calloc(1, sizeof *h)) == NULL ||
      (ch = ain_channel_new(&ain_channel_webhook, o->name, h)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "webhook: out of memory");
    goto fail;
  }
  h->name = dup_or_null(o->name, &oom);
  h->url = dup_or_null(v.url, &oom);
  h->delete_url = dup_or_null(v.delete_url, &oom);
  h->audience = dup_or_null(v.audience, &oom);
  h->media_base_url = dup_or_null(v.media_base_url, &oom);
  if (oom) {
    rc = ain_err_set(err, AIN_ENOMEM, "webhook: out of memory");
    goto fail;
  }
  h->jwt_ttl_s = v.jwt_ttl_s;
  h->url_ttl_s = v.url_ttl_s;
  h->timeout_ms = v.timeout_ms;
  h->max_retries = v.max_retries;
  h->retry_base_ms = v.retry_base_ms;
  h->rate_limit_ms = v.rate_limit_ms;
  h->objects = o->objects;
  if ((rc = ain_secret_resolve(o->cfg != NULL ? o->cfg->secrets_dir : NULL, v.secret, &h->key,
                               &h->key_len, err)) != 0) {
    ain_err_prefix(err, "channels.%s.jwt_secret", o->name);
    goto fail;
  }
  if (h->key_len < HS256_KEY_MIN) {
    rc = ain_err_field(err, AIN_ECONFIG, "jwt_secret",
                       "channels.%s.jwt_secret: the secret \"%s\" is %zu bytes; HS256 needs at "
                       "least %d",
                       o->name, v.secret, h->key_len, HS256_KEY_MIN);
    goto fail;
  }
  if (h->media_base_url == NULL && (o->objects == NULL || o->objects->vt->presign_get == NULL)) {
    rc = ain_err_field(err, AIN_ECONFIG, "media_base_url",
                       "channels.%s.media_base_url: required when the object store cannot "
                       "presign URLs the receiver could fetch",
                       o->name);
    goto fail;
  }
  *out = ch;
  return 0;
fail:
  ain_channel_free(ch);
  hook_free(h);
  return rc;
}

static void hook_close(ain_channel_t *ch) {
  if (ch != NULL) {
    hook_free(ch->impl);
    ain_channel_free(ch);
  }
}

/* A fresh HS256 JWT; caller frees. */
static int mint(hook_t *h, const char *sub, const char *jti, char **out, ain_err_t *err) {
  jwt_t *j = NULL;
  int64_t now = ain_now_ms() / 1000;
  *out = NULL;
  if (jwt_new(&j) != 0 || jwt_add_grant(j, "iss", "ain") != 0 ||
      jwt_add_grant(j, "sub", sub) != 0 || jwt_add_grant(j, "aud", h->audience) != 0 ||
      jwt_add_grant(j, "jti", jti) != 0 || jwt_add_grant_int(j, "iat", (long)now) != 0 ||
      jwt_add_grant_int(j, "exp", (long)(now + h->jwt_ttl_s)) != 0 ||
      jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)h->key, (int)h->key_len) != 0 ||
      (*out = jwt_encode_str(j)) == NULL) {
    jwt_free(j);
    return ain_err_set(err, AIN_ENOMEM, "webhook %s: signing the JWT failed", h->name);
  }
  jwt_free(j);
  return 0;
}

/* The receiver's own words for an error: its "error"/"message" string or the body's start,
 * printable and bounded. */
static void receiver_msg(const char *body, char *out, size_t cap) {
  cJSON *j = cJSON_Parse(body);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  if (cJSON_IsObject(e)) {
    e = cJSON_GetObjectItemCaseSensitive(e, "message");
  }
  if (!cJSON_IsString(e)) {
    e = cJSON_GetObjectItemCaseSensitive(j, "message");
  }
  ain_channel_utf8_copy(out, cap < 200 ? cap : 200, cJSON_IsString(e) ? e->valuestring : body);
  cJSON_Delete(j);
  for (char *p = out; *p != '\0'; p++) {
    if ((unsigned char)*p < 0x20) {
      *p = ' ';
    }
  }
}

typedef struct {
  const char *what, *method, *url, *sub, *jti, *idem, *body;
} send_t;

/* One request with retries on 5xx and dropped connections. 0 with *resp filled for a 2xx or a
 * 404 (caller decides), else AIN_E*. */
static int exchange(hook_t *h, const send_t *s, ain_http_resp_t *resp,
                    int64_t *retry_after_ms, ain_err_t *err) {
  char auth[4200], idem[200], why[256];
  for (int attempt = 0;; attempt++) {
    char *tok = NULL;
    int rc = mint(h, s->sub, s->jti, &tok, err);
    if (rc != 0) {
      return rc;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    free(tok);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", s->idem);
    const char *hdrs[] = {auth, s->idem != NULL ? idem : NULL,
                          s->idem != NULL ? "Content-Type: application/json" : NULL, NULL};
    ain_http_req_t req = {.method = s->method,
                          .url = s->url,
                          .headers = hdrs,
                          .body = s->body,
                          .body_len = s->body != NULL ? strlen(s->body) : 0,
                          .body_fd = -1,
                          .timeout_ms = h->timeout_ms};
    rc = ain_channel_http(&req, resp, why, sizeof why, err);
    memset(auth, 0, sizeof auth);
    if (rc != 0) {
      return rc;
    }
    long st = resp->status;
    if ((st >= 200 && st < 300) || st == 404) {
      return 0;
    }
    if (st == 0 || st >= 500) {
      if (attempt < h->max_retries) {
        ain_http_resp_free(resp);
        ain_channel_backoff(h->retry_base_ms, attempt);
        continue;
      }
      rc = st == 0
               ? ain_err_set(err, AIN_EHTTP, "%s: no answer: %s (%d tries)", s->what,
                             why, attempt + 1)
               : ain_err_set(err, AIN_EHTTP, "%s: HTTP %ld (%d tries)", s->what, st, attempt + 1);
      ain_http_resp_free(resp);
      return rc;
    }
    char msg[256];
    receiver_msg(resp->body, msg, sizeof msg);
    if (st == 429) {
      *retry_after_ms = resp->retry_after_ms >= 0 ? resp->retry_after_ms : h->rate_limit_ms;
      rc = ain_err_set(err, AIN_EBUSY, "%s: rate-limited (HTTP 429): retry in %lld ms", s->what,
                       (long long)*retry_after_ms);
    } else if (st == 401 || st == 403) {
      rc = ain_err_set(err, AIN_ECREDS, "%s: the receiver refused the JWT (HTTP %ld)%s%s", s->what,
                       st, msg[0] ? ": " : "", msg);
    } else {
      rc = ain_err_set(err, AIN_EHTTP, "%s: HTTP %ld%s%s", s->what, st, msg[0] ? ": " : "", msg);
    }
    ain_http_resp_free(resp);
    return rc;
  }
}

/* The request body; caller frees. */
static int body_of(hook_t *h, const ain_publish_req_t *req, char **out, ain_err_t *err) {
  int rc = 0;
  cJSON *j = cJSON_CreateObject(), *media = NULL;
  cJSON *meta = cJSON_Parse(req->sidecar_json != NULL ? req->sidecar_json : "{}");
  *out = NULL;
  if (!cJSON_IsObject(meta)) {
    rc = ain_err_field(err, AIN_EINVAL, "sidecar_json",
                       "webhook: the sidecar is not a JSON "
                       "object");
    goto done;
  }
  cJSON_AddStringToObject(j, "event", "publish");
  cJSON_AddStringToObject(j, "channel", h->name);
  cJSON_AddStringToObject(j, "video_id", req->video_id);
  cJSON_AddStringToObject(j, "idempotency_key", req->idempotency_key);
  cJSON_AddItemToObject(j, "metadata", meta);
  meta = NULL;
  media = cJSON_AddArrayToObject(j, "media");
  for (size_t i = 0; i < req->nfiles; i++) {
    const ain_publish_file_t *f = &req->files[i];
    char url[AIN_PUBLISH_LOCATION_MAX];
    ain_objstore_stat_t st;
    if ((rc = ain_objstore_stat(req->objects, f->key, &st, err)) != 0 ||
        (rc = ain_channel_media_url(h->name, req->objects, h->media_base_url, h->url_ttl_s, f->key,
                                  url, sizeof url, err)) != 0) {
      goto done;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", f->role != NULL ? f->role : "");
    cJSON_AddStringToObject(m, "name", f->name != NULL ? f->name : "");
    cJSON_AddStringToObject(m, "url", url);
    cJSON_AddNumberToObject(m, "bytes", (double)st.size);
    cJSON_AddItemToArray(media, m);
  }
  if ((*out = cJSON_PrintUnformatted(j)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "webhook: out of memory");
  }
done:
  cJSON_Delete(meta);
  cJSON_Delete(j);
  return rc;
}

static int printable(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max) {
    return 0;
  }
  for (; *s != '\0'; s++) {
    if ((unsigned char)*s < 0x20 || *s == 0x7f) {
      return 0;
    }
  }
  return 1;
}

static int save_post(ain_channel_session_t *s, const ain_channel_result_t *res, ain_err_t *err) {
  if (s == NULL || s->save == NULL) {
    return 0;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "post_id", res->post_id);
  cJSON_AddStringToObject(j, "url", res->url);
  char *txt = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (txt == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "webhook: out of memory");
  }
  int rc = s->save(s->ctx, txt, err);
  free(txt);
  return rc;
}

static int hook_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                        ain_channel_session_t *session, ain_channel_result_t *res, ain_err_t *err) {
  hook_t *h = ch->impl;
  char *body = NULL, what[300];
  cJSON *j = NULL;
  ain_http_resp_t resp = {0};
  int rc = 0;
  memset(res, 0, sizeof *res);
  if (session != NULL && session->saved != NULL) {
    cJSON *s = cJSON_Parse(session->saved);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "post_id");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(s, "url");
    if (cJSON_IsString(id) && printable(id->valuestring, AIN_CHANNEL_POST_ID_MAX - 1)) {
      snprintf(res->post_id, sizeof res->post_id, "%s", id->valuestring);
      snprintf(res->url, sizeof res->url, "%s", cJSON_IsString(url) ? url->valuestring : "");
      res->already = 1;
      cJSON_Delete(s);
      return 0; /* the receiver has it and we recorded it: nothing to send */
    }
    cJSON_Delete(s);
  }
  snprintf(what, sizeof what, "webhook %s POST", h->name);
  if ((rc = body_of(h, req, &body, err)) != 0) {
    goto done;
  }
  send_t s = {.what = what,
              .method = "POST",
              .url = h->url,
              .sub = req->video_id,
              .jti = req->idempotency_key,
              .idem = req->idempotency_key,
              .body = body};
  if ((rc = exchange(h, &s, &resp, &res->retry_after_ms, err)) != 0) {
    goto done;
  }
  if (resp.status == 404) {
    rc = ain_err_set(err, AIN_EHTTP, "%s: HTTP 404 (channels.%s.url is not a receiver)", what,
                     h->name);
    goto done;
  }
  j = cJSON_Parse(resp.body);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "post_id");
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
  if (!cJSON_IsObject(j) || !cJSON_IsString(id) ||
      !printable(id->valuestring, AIN_CHANNEL_POST_ID_MAX - 1)) {
    rc = ain_err_set(err, AIN_EHTTP,
                     "%s: HTTP %ld but the reply has no \"post_id\" (a string of 1..%d printable "
                     "bytes)",
                     what, resp.status, AIN_CHANNEL_POST_ID_MAX - 1);
    goto done;
  }
  if (url != NULL &&
      (!cJSON_IsString(url) || !printable(url->valuestring, AIN_PUBLISH_LOCATION_MAX - 1))) {
    rc = ain_err_set(err, AIN_EHTTP, "%s: the reply's \"url\" is not a string", what);
    goto done;
  }
  snprintf(res->post_id, sizeof res->post_id, "%s", id->valuestring);
  snprintf(res->url, sizeof res->url, "%s", url != NULL ? url->valuestring : "");
  res->already = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "already"));
  rc = save_post(session, res, err);
done:
  cJSON_Delete(j);
  ain_http_resp_free(&resp);
  free(body);
  return rc;
}

static int hook_unpublish(ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  hook_t *h = ch->impl;
  char what[300], jti[33];
  unsigned char rnd[16];
  ain_http_resp_t resp = {0};
  int64_t retry_after = 0;
  if (h->delete_url == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "delete_url",
                         "webhook %s: no channels.%s.delete_url: no delete call, a manual "
                         "takedown is required",
                         h->name, h->name);
  }
  if (post_id == NULL || !printable(post_id, AIN_CHANNEL_POST_ID_MAX - 1)) {
    return ain_err_set(err, AIN_EINVAL, "webhook %s: the post id is empty or not printable",
                       h->name);
  }
  char *esc = curl_easy_escape(NULL, post_id, 0);
  const char *at = strstr(h->delete_url, "{post_id}");
  size_t n = strlen(h->delete_url) + (esc != NULL ? strlen(esc) : 0) + 1;
  char *url = esc != NULL ? malloc(n) : NULL;
  if (url == NULL) {
    curl_free(esc);
    return ain_err_set(err, AIN_ENOMEM, "webhook: out of memory");
  }
  snprintf(url, n, "%.*s%s%s", (int)(at - h->delete_url), h->delete_url, esc, at + 9);
  curl_free(esc);
  if (RAND_bytes(rnd, sizeof rnd) != 1) {
    free(url);
    return ain_err_set(err, AIN_EIO, "webhook: no random bytes for the JWT id");
  }
  for (size_t i = 0; i < sizeof rnd; i++) {
    snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
  }
  snprintf(what, sizeof what, "webhook %s DELETE", h->name);
  send_t s = {.what = what, .method = "DELETE", .url = url, .sub = post_id, .jti = jti};
  int rc = exchange(h, &s, &resp, &retry_after, err);
  ain_http_resp_free(&resp); /* 2xx: taken down; 404: already gone */
  free(url);
  return rc;
}

const ain_channel_kind_t ain_channel_webhook = {
    .kind = "webhook",
    .check = hook_check,
    .open = hook_open,
    .publish = hook_publish,
    .unpublish = hook_unpublish,
    .metrics = NULL, /* a receiver reports no public metrics */
    .close = hook_close,
};
