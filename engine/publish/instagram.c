/* The "instagram" channel kind: Reels through the Instagram Graph API (Meta's public reference,
 * "Content Publishing"): POST /{ig-user-id}/media with media_type=REELS makes a container, fed
 * either by a URL the platform fetches (video_url: channels.<name>.media_base_url + key, or the
 * object store's presigned URL) or by a resumable upload (upload_type=resumable, then the bytes
 * POSTed to the rupload host with "Authorization: OAuth <token>", offset and file_size headers);
 * GET /{container-id}?fields=status_code is polled until FINISHED (ERROR and EXPIRED fail); POST
 * /{ig-user-id}/media_publish with creation_id makes the post; its permalink is read back.
 *
 * Never twice: the container id is saved (session->save) right after it is made and the media id
 * right after the publish. A later attempt with a saved media id is done; with a saved container
 * it asks the container's status: PUBLISHED means the publish landed before the crash, and the
 * post is found among the account's recent media by its caption (never published again);
 * FINISHED means publish it; IN_PROGRESS means keep polling; ERROR or EXPIRED forget the
 * container (nothing was posted) and fail, so the next attempt makes a fresh one.
 * A media_publish whose answer is lost (5xx, dropped connection) is not simply repeated: the
 * container's status says whether it landed.
 *
 * Token: a long-lived Instagram user token from the secrets provider (access_token_secret),
 * sent as "Authorization: Bearer". On OAuthException code 190 (expired) it is refreshed once per
 * call with GET /refresh_access_token?grant_type=ig_refresh_token and the call retried; the new
 * token lives in memory for the channel's life (the stored secret is the operator's to rotate).
 * Tokens never reach logs, errors or saved state.
 * Reels have no delete call in the Graph API: unpublish is NULL (a manual takedown).
 * Relies on: kinds.h (config checks, files), http.h, core/secret.h, cJSON, libcurl
 * (escaping), pthreads (the token is shared by the channel's concurrent publishes). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/secret.h"
#include "core/util.h"
#include "publish/http.h"
#include "publish/kinds.h"

#define CAPTION_MAX 2200 /* Instagram's caption limit (characters; bytes here, so never over) */
#define HASHTAGS_MAX 30  /* and its hashtag limit */
#define ID_MAX 128


typedef struct {
  char *name;
  char *api;      /* api_url/api_version */
  char *api_root; /* api_url: refresh_access_token is not versioned */
  char *upload;   /* upload_url/api_version */
  char *user_id;
  char *media_base_url;
  int resumable, share_to_feed;
  int64_t url_ttl_s, timeout_ms, max_retries, retry_base_ms, poll_interval_ms, poll_timeout_ms;
  int64_t rate_limit_ms;
  ain_objstore_t *objects;
  pthread_mutex_t lock; /* guards token */
  char *token;
  size_t token_len;
} ig_t;

static const char *const KEYS[] = {"ig_user_id",      "access_token_secret",
                                   "api_url",         "api_version",
                                   "upload_url",      "upload",
                                   "media_base_url",  "media_url_ttl_s",
                                   "share_to_feed",   "poll_interval_ms",
                                   "poll_timeout_ms", "timeout_ms",
                                   "max_retries",     "retry_base_ms",
                                   "rate_limit_ms",   NULL};

typedef struct {
  const char *user_id, *secret, *api_url, *api_version, *upload_url, *upload, *media_base_url;
  int share_to_feed;
  int64_t url_ttl_s, poll_interval_ms, poll_timeout_ms, timeout_ms, max_retries, retry_base_ms;
  int64_t rate_limit_ms;
} ig_opts_t;

static const char *const UPLOADS[] = {"resumable", "url", NULL};

static int read_opts(const char *name, const cJSON *o, ig_opts_t *v, ain_err_t *err) {
  int rc;
  if ((rc = ain_channel_check_keys(name, o, KEYS, err)) != 0 ||
      (rc = ain_channel_check_str(name, o, "ig_user_id", 1, 64, err)) != 0 ||
      (rc = ain_channel_check_secret(name, o, "access_token_secret", 1, err)) != 0 ||
      (rc = ain_channel_check_url(name, o, "api_url", 0, err)) != 0 ||
      (rc = ain_channel_check_str(name, o, "api_version", 0, 16, err)) != 0 ||
      (rc = ain_channel_check_url(name, o, "upload_url", 0, err)) != 0 ||
      (rc = ain_channel_check_enum(name, o, "upload", UPLOADS, err)) != 0 ||
      (rc = ain_channel_check_url(name, o, "media_base_url", 0, err)) != 0 ||
      (rc = ain_channel_check_bool(name, o, "share_to_feed", err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "media_url_ttl_s", 60, 604800, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "poll_interval_ms", 10, 600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "poll_timeout_ms", 100, 86400000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "timeout_ms", 100, 3600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "max_retries", 0, 20, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "retry_base_ms", 1, 60000, err)) != 0 ||
      (rc = ain_channel_check_int(name, o, "rate_limit_ms", 1, 86400000, err)) != 0) {
    return rc;
  }
  v->user_id = ain_channel_opt_str(o, "ig_user_id", NULL);
  v->secret = ain_channel_opt_str(o, "access_token_secret", NULL);
  v->api_url = ain_channel_opt_str(o, "api_url", "https://graph.instagram.com");
  v->api_version = ain_channel_opt_str(o, "api_version", "v21.0");
  v->upload_url =
      ain_channel_opt_str(o, "upload_url", "https://rupload.facebook.com/ig-api-upload");
  v->upload = ain_channel_opt_str(o, "upload", "resumable");
  v->media_base_url = ain_channel_opt_str(o, "media_base_url", NULL);
  v->share_to_feed = ain_channel_opt_bool(o, "share_to_feed", 1);
  v->url_ttl_s = ain_channel_opt_int(o, "media_url_ttl_s", 3600);
  v->poll_interval_ms = ain_channel_opt_int(o, "poll_interval_ms", 10000);
  v->poll_timeout_ms = ain_channel_opt_int(o, "poll_timeout_ms", 900000);
  v->timeout_ms = ain_channel_opt_int(o, "timeout_ms", 120000);
  v->max_retries = ain_channel_opt_int(o, "max_retries", 4);
  v->retry_base_ms = ain_channel_opt_int(o, "retry_base_ms", 1000);
  v->rate_limit_ms = ain_channel_opt_int(o, "rate_limit_ms", 60000);
  size_t n = strlen(v->user_id);
  if (n > 64 || strspn(v->user_id, "0123456789") != n) {
    return ain_err_field(err, AIN_ECONFIG, "ig_user_id",
                         "channels.%s.ig_user_id: must be the numeric Instagram user id", name);
  }
  const char *ver = v->api_version;
  if (ver[0] != 'v' || strspn(ver + 1, "0123456789.") != strlen(ver + 1) || strlen(ver) > 16) {
    return ain_err_field(err, AIN_ECONFIG, "api_version",
                         "channels.%s.api_version: must look like \"v21.0\"", name);
  }
  return 0;
}

static int ig_check(const char *name, const cJSON *opts, ain_err_t *err) {
  ig_opts_t v;
  return read_opts(name, opts, &v, err);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = malloc(n);
  if (s != NULL) {
    snprintf(s, n, "%s/%s", a, b);
  }
  return s;
}

static void ig_free(ig_t *g) {
  if (g == NULL) {
    return;
  }
  if (g->token != NULL) {
    ain_secret_free(g->token, g->token_len);
  }
  pthread_mutex_destroy(&g->lock);
  free(g->name);
  free(g->api);
  free(g->api_root);
  free(g->upload);
  free(g->user_id);
  free(g->media_base_url);
  free(g);
}

static int ig_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  ig_opts_t v;
  ig_t *g = NULL;
  ain_channel_t *ch = NULL;
  int rc = read_opts(o->name, o->opts, &v, err);
  if (rc != 0) {
    return rc;
  }
  if ((g = calloc(1, sizeof *g)) == NULL ||
      (ch = ain_channel_new(&ain_channel_instagram, o->name, g)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
    goto fail;
  }
  pthread_mutex_init(&g->lock, NULL);
  g->name = ain_strdup(o->name);
  g->api = join(v.api_url, v.api_version);
  g->api_root = ain_strdup(v.api_url);
  g->upload = join(v.upload_url, v.api_version);
  g->user_id = ain_strdup(v.user_id);
  g->media_base_url = v.media_base_url != NULL ? ain_strdup(v.media_base_url) : NULL;
  if (g->name == NULL || g->api == NULL || g->api_root == NULL || g->upload == NULL ||
      g->user_id == NULL || (v.media_base_url != NULL && g->media_base_url == NULL)) {
    rc = ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
    goto fail;
  }
  g->resumable = strcmp(v.upload, "resumable") == 0;
  g->share_to_feed = v.share_to_feed;
  g->url_ttl_s = v.url_ttl_s;
  g->timeout_ms = v.timeout_ms;
  g->max_retries = v.max_retries;
  g->retry_base_ms = v.retry_base_ms;
  g->poll_interval_ms = v.poll_interval_ms;
  g->poll_timeout_ms = v.poll_timeout_ms;
  g->rate_limit_ms = v.rate_limit_ms;
  g->objects = o->objects;
  if ((rc = ain_secret_resolve(o->cfg != NULL ? o->cfg->secrets_dir : NULL, v.secret, &g->token,
                               &g->token_len, err)) != 0) {
    ain_err_prefix(err, "channels.%s.access_token_secret", o->name);
    goto fail;
  }
  if (g->token_len == 0 || g->token_len > 4096) {
    rc = ain_err_field(err, AIN_ECONFIG, "access_token_secret",
                       "channels.%s.access_token_secret: the token is %zu bytes (1 .. 4096)",
                       o->name, g->token_len);
    goto fail;
  }
  if (!g->resumable && g->media_base_url == NULL &&
      (o->objects == NULL || o->objects->vt->presign_get == NULL)) {
    rc = ain_err_field(err, AIN_ECONFIG, "media_base_url",
                       "channels.%s.media_base_url: required with upload = \"url\" when the "
                       "object store cannot presign URLs",
                       o->name);
    goto fail;
  }
  *out = ch;
  return 0;
fail:
  ain_channel_free(ch);
  ig_free(g);
  return rc;
}

static void ig_close(ain_channel_t *ch) {
  if (ch != NULL) {
    ig_free(ch->impl);
    ain_channel_free(ch);
  }
}

/* ---- one Graph API call ------------------------------------------------------------------- */

typedef struct {
  const char *what; /* "instagram POST /media" (no token, no secret) */
  const char *method;
  const char *url;  /* full URL without the token */
  const char *form; /* x-www-form-urlencoded body, or NULL */
  const char *key;  /* or the object streamed as the body (rupload) */
  uint64_t size;
  int rupload; /* Authorization: OAuth, offset and file_size headers */
  int retry;   /* a 5xx or dropped exchange may be repeated blindly */
} call_t;

typedef struct {
  cJSON *json;            /* the reply object (caller deletes) */
  int unsure;             /* no answer: the request may or may not have taken effect */
  int64_t retry_after_ms; /* with AIN_EBUSY */
} reply_t;

static void token_copy(ig_t *g, char *buf, size_t cap) {
  pthread_mutex_lock(&g->lock);
  snprintf(buf, cap, "%s", g->token);
  pthread_mutex_unlock(&g->lock);
}

/* The platform's message for an error reply, without control characters and bounded. */
static void platform_msg(const cJSON *e, char *out, size_t cap) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
  ain_channel_utf8_copy(out, cap < 200 ? cap : 200, cJSON_IsString(m) ? m->valuestring : "");
  for (char *p = out; *p != '\0'; p++) {
    if ((unsigned char)*p < 0x20) {
      *p = ' ';
    }
  }
}

/* Exchanges the (expired) long-lived token for a new one. 0 or AIN_ECREDS. `used` is the token
 * the failed call carried: if another thread refreshed meanwhile, nothing to do. */
static int refresh(ig_t *g, const char *used, ain_err_t *err) {
  int rc = 0;
  char *esc = NULL, *url = NULL;
  cJSON *j = NULL;
  ain_http_resp_t resp = {0};
  char why[256];
  pthread_mutex_lock(&g->lock);
  int changed = strcmp(g->token, used) != 0;
  pthread_mutex_unlock(&g->lock);
  if (changed) {
    return 0;
  }
  if ((esc = curl_easy_escape(NULL, used, 0)) == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
  }
  size_t n = strlen(g->api_root) + strlen(esc) + 96;
  if ((url = malloc(n)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
    goto done;
  }
  snprintf(url, n, "%s/refresh_access_token?grant_type=ig_refresh_token&access_token=%s",
           g->api_root, esc);
  ain_http_req_t req = {.method = "GET", .url = url, .body_fd = -1, .timeout_ms = g->timeout_ms};
  if ((rc = ain_channel_http(&req, &resp, why, sizeof why, err)) != 0) {
    goto done;
  }
  j = cJSON_Parse(resp.body);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
  if (resp.status != 200 || !cJSON_IsString(t) || t->valuestring[0] == '\0' ||
      strlen(t->valuestring) > 4096) {
    char msg[256] = "";
    platform_msg(cJSON_GetObjectItemCaseSensitive(j, "error"), msg, sizeof msg);
    char how[300];
    if (resp.status == 0) {
      snprintf(how, sizeof how, "no answer: %s", why);
    } else {
      snprintf(how, sizeof how, "HTTP %ld%s%s", resp.status, msg[0] ? ": " : "", msg);
    }
    rc = ain_err_set(err, AIN_ECREDS,
                     "instagram %s: the access token expired (code 190) and refreshing it "
                     "failed (%s)",
                     g->name, how);
    goto done;
  }
  char *fresh = ain_strdup(t->valuestring);
  if (fresh == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
    goto done;
  }
  pthread_mutex_lock(&g->lock);
  ain_secret_free(g->token, g->token_len);
  g->token = fresh;
  g->token_len = strlen(fresh);
  pthread_mutex_unlock(&g->lock);
done:
  if (esc != NULL) {
    memset(esc, 0, strlen(esc));
    curl_free(esc);
  }
  if (url != NULL) {
    memset(url, 0, strlen(url));
    free(url);
  }
  cJSON_Delete(j);
  ain_http_resp_free(&resp);
  return rc;
}

static int is_rate_limit(long status, int code) {
  return status == 429 || code == 4 || code == 17 || code == 32 || code == 613;
}

static int call(ig_t *g, const call_t *c, reply_t *r, ain_err_t *err) {
  char tok[4200], auth[4300], off[32] = "offset: 0", fsz[48], why[256];
  int refreshed = 0, rc = 0, fd = -1;
  uint64_t size = 0;
  memset(r, 0, sizeof *r);
  /* rupload streams the object from its file (http.h: memory is libcurl's buffer, never the
   * file); every try sends it whole from offset 0 */
  if (c->rupload && (rc = ain_channel_object_fd(g->objects, c->key, &fd, &size, err)) != 0) {
    return rc;
  }
  if (c->rupload && size != c->size) {
    close(fd);
    return ain_err_set(err, AIN_EIO, "%s: object %s is %llu bytes, not the %llu stated", c->what,
                       c->key, (unsigned long long)size, (unsigned long long)c->size);
  }
  snprintf(fsz, sizeof fsz, "file_size: %llu", (unsigned long long)c->size);
  for (int attempt = 0;; attempt++) {
    token_copy(g, tok, sizeof tok);
    snprintf(auth, sizeof auth, "Authorization: %s %s", c->rupload ? "OAuth" : "Bearer", tok);
    const char *hdrs[5] = {auth, NULL, NULL, NULL, NULL};
    if (c->rupload) {
      hdrs[1] = off;
      hdrs[2] = fsz;
      hdrs[3] = "Content-Type: application/octet-stream";
    } else if (c->form != NULL) {
      hdrs[1] = "Content-Type: application/x-www-form-urlencoded";
    }
    ain_http_req_t req = {.method = c->method,
                          .url = c->url,
                          .headers = hdrs,
                          .body = c->form,
                          .body_len = c->form != NULL ? strlen(c->form) : 0,
                          .body_fd = fd,
                          .body_length = c->size,
                          .timeout_ms = g->timeout_ms};
    ain_http_resp_t resp;
    rc = ain_channel_http(&req, &resp, why, sizeof why, err);
    memset(auth, 0, sizeof auth);
    if (rc != 0) {
      break;
    }
    if (resp.status == 0 || resp.status >= 500) {
      if (!c->retry || attempt >= g->max_retries) {
        r->unsure = 1;
        const char *tries = attempt == 0 ? "try" : "tries";
        rc = resp.status == 0 ? ain_err_set(err, AIN_EHTTP, "%s: no answer: %s (%d %s)", c->what,
                                            why, attempt + 1, tries)
                              : ain_err_set(err, AIN_EHTTP, "%s: HTTP %ld (%d %s)", c->what,
                                            resp.status, attempt + 1, tries);
        ain_http_resp_free(&resp);
        break;
      }
      ain_http_resp_free(&resp);
      ain_channel_backoff(g->retry_base_ms, attempt);
      continue;
    }
    cJSON *j = cJSON_Parse(resp.body);
    if (resp.status >= 200 && resp.status < 300) {
      ain_http_resp_free(&resp);
      if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        rc = ain_err_set(err, AIN_EHTTP, "%s: the reply is not a JSON object", c->what);
        break;
      }
      r->json = j;
      break;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    int ec = cJSON_IsNumber(code) ? code->valueint : 0;
    char msg[256];
    platform_msg(e, msg, sizeof msg);
    int64_t ra = resp.retry_after_ms;
    long status = resp.status;
    ain_http_resp_free(&resp);
    cJSON_Delete(j);
    if (ec == 190 && !refreshed) {
      if ((rc = refresh(g, tok, err)) != 0) {
        break;
      }
      refreshed = 1;
      attempt--; /* the refresh is not a failed try */
      continue;
    }
    if (is_rate_limit(status, ec)) {
      r->retry_after_ms = ra >= 0 ? ra : g->rate_limit_ms;
      rc = ain_err_set(err, AIN_EBUSY, "%s: rate-limited (HTTP %ld, code %d): retry in %lld ms",
                       c->what, status, ec, (long long)r->retry_after_ms);
    } else if (ec == 190 || status == 401) {
      rc = ain_err_set(err, AIN_ECREDS, "%s: the access token was refused (HTTP %ld, code %d)%s%s",
                       c->what, status, ec, msg[0] ? ": " : "", msg);
    } else {
      rc = ain_err_set(err, AIN_EHTTP, "%s: HTTP %ld (code %d)%s%s", c->what, status, ec,
                       msg[0] ? ": " : "", msg);
    }
    break;
  }
  memset(tok, 0, sizeof tok);
  if (fd >= 0) {
    close(fd);
  }
  return rc;
}

/* ---- the publish ------------------------------------------------------------------------- */

typedef struct {
  char container_id[ID_MAX];
  int64_t created_s;
  int uploaded;
  char media_id[ID_MAX];
  char permalink[AIN_PUBLISH_LOCATION_MAX];
} state_t;

static int id_ok(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n < ID_MAX && strspn(s, "0123456789_") == n;
}

static void copy_str(const cJSON *o, const char *k, char *dst, size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  dst[0] = '\0';
  if (cJSON_IsString(v) && strlen(v->valuestring) < cap) {
    snprintf(dst, cap, "%s", v->valuestring);
  }
}

static int state_load(const char *saved, state_t *st, ain_err_t *err) {
  memset(st, 0, sizeof *st);
  if (saved == NULL) {
    return 0;
  }
  cJSON *j = cJSON_Parse(saved);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return ain_err_set(err, AIN_EINVAL, "instagram: the saved session is not a JSON object");
  }
  copy_str(j, "container_id", st->container_id, sizeof st->container_id);
  copy_str(j, "media_id", st->media_id, sizeof st->media_id);
  copy_str(j, "permalink", st->permalink, sizeof st->permalink);
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "created_s");
  st->created_s = cJSON_IsNumber(c) ? (int64_t)c->valuedouble : 0;
  st->uploaded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "uploaded"));
  cJSON_Delete(j);
  if ((st->container_id[0] && !id_ok(st->container_id)) ||
      (st->media_id[0] && !id_ok(st->media_id))) {
    return ain_err_set(err, AIN_EINVAL, "instagram: the saved session holds a malformed id");
  }
  return 0;
}

static int state_save(ain_channel_session_t *s, const state_t *st, ain_err_t *err) {
  if (s == NULL || s->save == NULL) {
    return 0;
  }
  cJSON *j = cJSON_CreateObject();
  if (st->container_id[0]) {
    cJSON_AddStringToObject(j, "container_id", st->container_id);
    cJSON_AddNumberToObject(j, "created_s", (double)st->created_s);
    cJSON_AddBoolToObject(j, "uploaded", st->uploaded);
  }
  if (st->media_id[0]) {
    cJSON_AddStringToObject(j, "media_id", st->media_id);
    cJSON_AddStringToObject(j, "permalink", st->permalink);
  }
  char *txt = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (txt == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
  }
  int rc = s->save(s->ctx, txt, err);
  free(txt);
  return rc;
}

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} sb_t;

static void sb_add(sb_t *b, const char *s) {
  size_t k = strlen(s);
  if (b->oom) {
    return;
  }
  if (b->n + k + 1 > b->cap) {
    size_t cap = (b->n + k + 1) * 2;
    char *np = realloc(b->p, cap);
    if (np == NULL) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, k + 1);
  b->n += k;
}

static void form_add(sb_t *b, const char *k, const char *v) {
  char *e = curl_easy_escape(NULL, v, 0);
  if (e == NULL) {
    b->oom = 1;
    return;
  }
  if (b->n > 0) {
    sb_add(b, "&");
  }
  sb_add(b, k);
  sb_add(b, "=");
  sb_add(b, e);
  curl_free(e);
}

/* "<title>\n\n#tag #tag" from the sidecar, within Instagram's limits. */
static void caption_of(const char *sidecar, char *out, size_t cap) {
  cJSON *j = cJSON_Parse(sidecar != NULL ? sidecar : "");
  const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(j, "hashtags");
  char buf[CAPTION_MAX * 2] = "";
  size_t n = 0;
  if (cJSON_IsString(title)) {
    n += (size_t)snprintf(buf, sizeof buf, "%s", title->valuestring);
  }
  int count = 0;
  const cJSON *t;
  const cJSON *list = cJSON_IsArray(tags) ? tags : NULL;
  cJSON_ArrayForEach(t, list) {
    if (!cJSON_IsString(t) || t->valuestring[0] == '\0' || count >= HASHTAGS_MAX ||
        n >= sizeof buf - 1) {
      continue;
    }
    const char *tag = t->valuestring[0] == '#' ? t->valuestring + 1 : t->valuestring;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s#%s", count == 0 ? (n ? "\n\n" : "") : " ",
                          tag);
    count++;
  }
  cJSON_Delete(j);
  ain_channel_utf8_copy(out, cap < CAPTION_MAX + 1 ? cap : CAPTION_MAX + 1, buf);
}

static char *url_of(const char *base, const char *path) {
  size_t n = strlen(base) + strlen(path) + 1;
  char *s = malloc(n);
  if (s != NULL) {
    snprintf(s, n, "%s%s", base, path);
  }
  return s;
}

/* GETs base+path into *out (a JSON object). */
static int get_json(ig_t *g, const char *what, const char *path, cJSON **out, reply_t *r,
                    ain_err_t *err) {
  char *url = url_of(g->api, path);
  if (url == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
  }
  call_t c = {.what = what, .method = "GET", .url = url, .retry = 1};
  int rc = call(g, &c, r, err);
  free(url);
  *out = r->json;
  return rc;
}

static int container_status(ig_t *g, const char *cid, char *status, size_t cap, reply_t *r,
                            ain_err_t *err) {
  char path[ID_MAX + 64];
  cJSON *j = NULL;
  snprintf(path, sizeof path, "/%s?fields=status_code,status", cid);
  int rc = get_json(g, "instagram GET /{container-id}?fields=status_code", path, &j, r, err);
  if (rc != 0) {
    return rc;
  }
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status_code");
  if (!cJSON_IsString(s) ||
      (strcmp(s->valuestring, "IN_PROGRESS") != 0 && strcmp(s->valuestring, "FINISHED") != 0 &&
       strcmp(s->valuestring, "PUBLISHED") != 0 && strcmp(s->valuestring, "ERROR") != 0 &&
       strcmp(s->valuestring, "EXPIRED") != 0)) {
    cJSON_Delete(j);
    return ain_err_set(err, AIN_EHTTP,
                       "instagram: container %s: the reply's status_code is missing or unknown",
                       cid);
  }
  snprintf(status, cap, "%s", s->valuestring);
  cJSON_Delete(j);
  return 0;
}

/* Parses Instagram's "2026-12-07T13:00:00+0000". -1 if it is not that. */
static int64_t parse_ts(const char *s) {
  struct tm tm = {0};
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL) {
    return -1;
  }
  return (int64_t)timegm(&tm);
}

/* The container was published but its media id was not saved (a crash, or a lost answer): the
 * post is the account's recent media item with our caption made no earlier than the container. */
static int find_published(ig_t *g, const state_t *st, const char *caption, char *media_id,
                          reply_t *r, ain_err_t *err) {
  char path[256];
  cJSON *j = NULL;
  snprintf(path, sizeof path, "/%s/media?fields=id,caption,timestamp&limit=50", g->user_id);
  int rc = get_json(g, "instagram GET /{ig-user-id}/media", path, &j, r, err);
  if (rc != 0) {
    return rc;
  }
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
  const cJSON *m;
  rc = ain_err_set(err, AIN_ECONFLICT,
                   "instagram %s: container %s is PUBLISHED but none of the account's recent "
                   "media has its caption; not posting again (check the account by hand)",
                   g->name, st->container_id);
  const cJSON *list = cJSON_IsArray(data) ? data : NULL;
  cJSON_ArrayForEach(m, list) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(m, "caption");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(m, "timestamp");
    int64_t t = cJSON_IsString(ts) ? parse_ts(ts->valuestring) : -1;
    if (cJSON_IsString(id) && id_ok(id->valuestring) && cJSON_IsString(cap) &&
        strcmp(cap->valuestring, caption) == 0 && t >= st->created_s - 300) {
      snprintf(media_id, ID_MAX, "%s", id->valuestring);
      ain_err_clear(err);
      rc = 0;
      break;
    }
  }
  cJSON_Delete(j);
  return rc;
}

static int create_container(ig_t *g, const ain_publish_req_t *req, const char *video_key,
                            const char *caption, state_t *st, reply_t *r, ain_err_t *err) {
  sb_t f = {0};
  char media_url[AIN_PUBLISH_LOCATION_MAX];
  int rc = 0;
  char *url = NULL;
  form_add(&f, "media_type", "REELS");
  if (g->resumable) {
    form_add(&f, "upload_type", "resumable");
  } else {
    if ((rc = ain_channel_media_url(g->name, req->objects, g->media_base_url, g->url_ttl_s,
                                     video_key,
                                  media_url, sizeof media_url, err)) != 0) {
      goto done;
    }
    form_add(&f, "video_url", media_url);
  }
  form_add(&f, "caption", caption);
  form_add(&f, "share_to_feed", g->share_to_feed ? "true" : "false");
  char path[128];
  snprintf(path, sizeof path, "/%s/media", g->user_id);
  if (f.oom || (url = url_of(g->api, path)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
    goto done;
  }
  /* Repeating a lost container creation at worst leaves an unused container (it expires after
   * 24 h); it never posts. */
  call_t c = {.what = "instagram POST /{ig-user-id}/media",
              .method = "POST",
              .url = url,
              .form = f.p,
              .retry = 1};
  if ((rc = call(g, &c, r, err)) != 0) {
    goto done;
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(r->json, "id");
  if (!cJSON_IsString(id) || !id_ok(id->valuestring)) {
    rc = ain_err_set(err, AIN_EHTTP,
                     "instagram POST /{ig-user-id}/media: the reply has no "
                     "container \"id\" (a string of digits)");
    goto done;
  }
  snprintf(st->container_id, sizeof st->container_id, "%s", id->valuestring);
  st->created_s = ain_now_ms() / 1000;
  st->uploaded = !g->resumable;
done:
  cJSON_Delete(r->json);
  r->json = NULL;
  free(url);
  free(f.p);
  return rc;
}

static int upload(ig_t *g, const char *video_key, state_t *st, reply_t *r, ain_err_t *err) {
  ain_objstore_stat_t sst;
  int rc = ain_objstore_stat(g->objects, video_key, &sst, err);
  if (rc != 0) {
    return rc;
  }
  char *url = join(g->upload, st->container_id);
  if (url == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
  }
  /* The whole file from offset 0 each try: a container takes its bytes again until it is
   * FINISHED, and the video is short (a Reel is at most 15 minutes, ours ~1). */
  call_t c = {.what = "instagram POST rupload /{container-id}",
              .method = "POST",
              .url = url,
              .key = video_key,
              .size = sst.size,
              .rupload = 1,
              .retry = 1};
  rc = call(g, &c, r, err);
  free(url);
  if (rc == 0) {
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r->json, "success");
    if (!cJSON_IsTrue(ok)) {
      rc = ain_err_set(err, AIN_EHTTP, "instagram rupload: the reply lacks \"success\": true");
    }
  }
  cJSON_Delete(r->json);
  r->json = NULL;
  if (rc == 0) {
    st->uploaded = 1;
  }
  return rc;
}

/* Polls until FINISHED or PUBLISHED (status gets it). ERROR/EXPIRED -> AIN_EMEDIA. */
static int wait_ready(ig_t *g, const char *cid, char *status, size_t cap, reply_t *r,
                      ain_err_t *err) {
  int64_t deadline = ain_now_ms() + g->poll_timeout_ms;
  for (;;) {
    int rc = container_status(g, cid, status, cap, r, err);
    if (rc != 0) {
      return rc;
    }
    if (strcmp(status, "FINISHED") == 0 || strcmp(status, "PUBLISHED") == 0) {
      return 0;
    }
    if (strcmp(status, "ERROR") == 0 || strcmp(status, "EXPIRED") == 0) {
      return ain_err_set(err, AIN_EMEDIA,
                         "instagram %s: container %s ended %s (the platform refused or dropped "
                         "the video); the next attempt makes a new container",
                         g->name, cid, status);
    }
    if (ain_now_ms() >= deadline) {
      return ain_err_set(err, AIN_ETIMEOUT,
                         "instagram %s: container %s still IN_PROGRESS after %lld ms "
                         "(channels.%s.poll_timeout_ms); the next attempt resumes polling it",
                         g->name, cid, (long long)g->poll_timeout_ms, g->name);
    }
    struct timespec ts = {.tv_sec = g->poll_interval_ms / 1000,
                          .tv_nsec = (long)(g->poll_interval_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
}

/* media_publish; a lost answer is settled by the container's status, never by a blind repeat. */
static int publish_container(ig_t *g, state_t *st, const char *caption, reply_t *r,
                             ain_err_t *err) {
  char path[128], body[ID_MAX + 32], status[32];
  snprintf(path, sizeof path, "/%s/media_publish", g->user_id);
  snprintf(body, sizeof body, "creation_id=%s", st->container_id);
  char *url = url_of(g->api, path);
  if (url == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "instagram: out of memory");
  }
  int rc = 0;
  for (int attempt = 0;; attempt++) {
    call_t c = {.what = "instagram POST /{ig-user-id}/media_publish",
                .method = "POST",
                .url = url,
                .form = body,
                .retry = 0};
    rc = call(g, &c, r, err);
    if (rc == 0) {
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(r->json, "id");
      if (!cJSON_IsString(id) || !id_ok(id->valuestring)) {
        /* It may well have published: find out from the container before any repeat. */
        rc = ain_err_set(err, AIN_EHTTP,
                         "instagram POST /{ig-user-id}/media_publish: the reply "
                         "has no media \"id\" (a string of digits)");
        r->unsure = 1;
      } else {
        snprintf(st->media_id, sizeof st->media_id, "%s", id->valuestring);
      }
      cJSON_Delete(r->json);
      r->json = NULL;
    }
    if (rc == 0 || !r->unsure) {
      break;
    }
    ain_err_t why = *err;
    ain_channel_backoff(g->retry_base_ms, attempt);
    reply_t r2;
    if ((rc = container_status(g, st->container_id, status, sizeof status, &r2, err)) != 0) {
      r->retry_after_ms = r2.retry_after_ms;
      break;
    }
    if (strcmp(status, "PUBLISHED") == 0) {
      rc = find_published(g, st, caption, st->media_id, &r2, err);
      r->retry_after_ms = r2.retry_after_ms;
      break;
    }
    if (strcmp(status, "FINISHED") != 0 || attempt >= g->max_retries) {
      *err = why;
      rc = why.code;
      break;
    }
  }
  free(url);
  return rc;
}

static int fill_permalink(ig_t *g, state_t *st, reply_t *r, ain_err_t *err) {
  char path[ID_MAX + 32];
  cJSON *j = NULL;
  snprintf(path, sizeof path, "/%s?fields=permalink", st->media_id);
  int rc = get_json(g, "instagram GET /{media-id}?fields=permalink", path, &j, r, err);
  if (rc == 0) {
    copy_str(j, "permalink", st->permalink, sizeof st->permalink);
    if (strncmp(st->permalink, "https://", 8) != 0 && strncmp(st->permalink, "http://", 7) != 0) {
      rc = ain_err_set(err, AIN_EHTTP, "instagram: media %s: the reply has no \"permalink\" URL",
                       st->media_id);
    }
  }
  cJSON_Delete(j);
  return rc;
}

static void result(const state_t *st, int already, ain_channel_result_t *res) {
  snprintf(res->post_id, sizeof res->post_id, "%s", st->media_id);
  snprintf(res->url, sizeof res->url, "%s", st->permalink);
  res->already = already;
}

static int ig_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                      ain_channel_session_t *session, ain_channel_result_t *res, ain_err_t *err) {
  ig_t *g = ch->impl;
  state_t st;
  reply_t r = {0};
  char caption[CAPTION_MAX + 1], status[32] = "";
  int rc, already = 0;
  memset(res, 0, sizeof *res);
  const char *video_key = ain_channel_video_key(req);
  if (video_key == NULL) {
    return ain_err_set(err, AIN_EINVAL, "instagram: the request has no file with role \"video\"");
  }
  if ((rc = state_load(session != NULL ? session->saved : NULL, &st, err)) != 0) {
    return rc;
  }
  if (st.media_id[0]) { /* published and recorded before: nothing to call */
    if (st.permalink[0] == '\0' && fill_permalink(g, &st, &r, err) == 0) {
      (void)state_save(session, &st, err);
    }
    ain_err_clear(err);
    result(&st, 1, res);
    return 0;
  }
  caption_of(req->sidecar_json, caption, sizeof caption);
  if (st.container_id[0]) {
    if ((rc = container_status(g, st.container_id, status, sizeof status, &r, err)) != 0) {
      goto fail;
    }
    if (strcmp(status, "ERROR") == 0 || strcmp(status, "EXPIRED") == 0) {
      /* Nothing was posted from it: start over with a new container. */
      memset(&st, 0, sizeof st);
      status[0] = '\0';
      if ((rc = state_save(session, &st, err)) != 0) {
        goto fail;
      }
    }
  }
  if (strcmp(status, "PUBLISHED") == 0) {
    if ((rc = find_published(g, &st, caption, st.media_id, &r, err)) != 0) {
      goto fail;
    }
    already = 1;
  } else {
    if (!st.container_id[0]) {
      if ((rc = create_container(g, req, video_key, caption, &st, &r, err)) != 0 ||
          (rc = state_save(session, &st, err)) != 0) {
        goto fail;
      }
    }
    if (!st.uploaded) {
      if ((rc = upload(g, video_key, &st, &r, err)) != 0 ||
          (rc = state_save(session, &st, err)) != 0) {
        goto fail;
      }
    }
    if ((rc = wait_ready(g, st.container_id, status, sizeof status, &r, err)) != 0) {
      if (rc == AIN_EMEDIA) {
        /* Forget the dead container; the error stays the one to report. */
        ain_err_t keep = *err;
        memset(&st, 0, sizeof st);
        int src = state_save(session, &st, err);
        *err = keep;
        rc = src == AIN_ELEASE ? AIN_ELEASE : rc;
      }
      goto fail;
    }
    if (strcmp(status, "PUBLISHED") == 0) {
      rc = find_published(g, &st, caption, st.media_id, &r, err);
      already = 1;
    } else {
      rc = publish_container(g, &st, caption, &r, err);
    }
    if (rc != 0) {
      goto fail;
    }
  }
  if ((rc = state_save(session, &st, err)) != 0) {
    goto fail;
  }
  /* The post exists and is recorded; a missing permalink is not worth failing it. */
  if (fill_permalink(g, &st, &r, err) == 0) {
    if ((rc = state_save(session, &st, err)) == AIN_ELEASE) {
      goto fail;
    }
  }
  ain_err_clear(err);
  result(&st, already, res);
  return 0;
fail:
  if (rc == AIN_EBUSY) {
    res->retry_after_ms = r.retry_after_ms;
  }
  return rc;
}

/* ---- insights -------------------------------------------------------------------------------- */

static int ig_metrics(ain_channel_t *ch, const char *post_id, ain_channel_post_metrics_t *out,
                      ain_err_t *err) {
  ig_t *g = ch->impl;
  out->views = out->likes = out->comments = out->shares = -1;
  if (post_id == NULL || !id_ok(post_id)) {
    return ain_err_set(err, AIN_EINVAL, "instagram: post id must be a string of digits");
  }
  char path[ID_MAX + 64];
  cJSON *j = NULL;
  reply_t r;
  snprintf(path, sizeof path, "/%s/insights?metric=views,likes,comments,shares", post_id);
  int rc = get_json(g, "instagram GET /{media-id}/insights", path, &j, &r, err);
  if (rc != 0) {
    return rc;
  }
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
  if (!cJSON_IsArray(data)) {
    cJSON_Delete(j);
    return ain_err_set(err, AIN_EHTTP,
                       "instagram: insights of %s: the reply has no \"data\" "
                       "array",
                       post_id);
  }
  const cJSON *m;
  cJSON_ArrayForEach(m, data) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(m, "values");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(vals, 0), "value");
    if (v == NULL) { /* newer replies put it in total_value */
      v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "total_value"),
                                           "value");
    }
    if (!cJSON_IsString(name) || !cJSON_IsNumber(v) || v->valuedouble < 0) {
      continue;
    }
    int64_t n = (int64_t)v->valuedouble;
    /* "plays" was the Reels view count before Graph API v22.0 renamed it "views". */
    if (strcmp(name->valuestring, "views") == 0 || strcmp(name->valuestring, "plays") == 0) {
      out->views = n;
    } else if (strcmp(name->valuestring, "likes") == 0) {
      out->likes = n;
    } else if (strcmp(name->valuestring, "comments") == 0) {
      out->comments = n;
    } else if (strcmp(name->valuestring, "shares") == 0) {
      out->shares = n;
    }
  }
  cJSON_Delete(j);
  return 0;
}

const ain_channel_kind_t ain_channel_instagram = {
    .kind = "instagram",
    .check = ig_check,
    .open = ig_open,
    .publish = ig_publish,
    .unpublish = NULL, /* the Graph API has no delete call for Reels: a manual takedown */
    .metrics = ig_metrics,
    .close = ig_close,
};
