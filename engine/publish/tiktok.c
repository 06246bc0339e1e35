/* The tiktok channel kind: TikTok Content Posting API, direct post of a local file
 * (developers.tiktok.com/doc/content-posting-api-reference-direct-post, "Media Transfer Guide"):
 *   1. POST {api_url}/v2/post/publish/video/init/ {post_info, source_info: {source FILE_UPLOAD,
 *      video_size, chunk_size, total_chunk_count}} -> data.publish_id and data.upload_url.
 *      Chunks by TikTok's rules: a file under 5 MB goes whole; otherwise chunks of chunk_mb
 *      (5..64 MB), total_chunk_count = floor(size / chunk_size), the last chunk taking the rest
 *      (so it may reach 128 MB); at most 1000 chunks.
 *   2. PUT each chunk to upload_url with Content-Range bytes FIRST-LAST/TOTAL (206 until the last,
 *      201 after it). The upload URL carries its own token: no Authorization header.
 *   3. POST {api_url}/v2/post/publish/status/fetch/ {publish_id} until PUBLISH_COMPLETE (the
 *      post id: publicaly_available_post_id[0] when public, else the publish_id) or FAILED.
 * Crash safety: publish_id, upload_url and the next chunk are saved before each chunk is sent and
 * after it is acknowledged; a resumed attempt re-sends from the first unacknowledged chunk (the
 * API takes a chunk again) and polls the same publish_id, so it never inits a second post. An
 * init whose answer was lost holds no bytes and never becomes a post. FAILED clears the session
 * (that publish is over), so a later attempt starts a new one.
 * Metrics: the Display API's POST /v2/video/query/ (view, like, comment and share counts) for a
 * public post; a private post (its id is the publish_id) reports none.
 * Relies on: kinds.h, http.h, oauth.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "publish/http.h"
#include "publish/kinds.h"
#include "publish/oauth.h"

#define MB (1024ull * 1024ull)
#define TT_MIN_CHUNK (5 * MB)
#define TT_MAX_CHUNKS 1000

typedef struct {
  char *api_url, *watch_url, *privacy;
  uint64_t chunk;
  int64_t retries, retry_base_ms, timeout_ms, poll_ms, poll_timeout_ms;
  ain_http_t *http;
  ain_oauth_t *oauth;
} tt_t;

typedef struct {
  char *publish_id, *upload_url, *post_id;
  uint64_t total, chunk, count, next;
} tt_state_t;

static const char *const PRIVACY[] = {"SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                                      "PUBLIC_TO_EVERYONE", NULL};

static int tt_check(const char *name, const cJSON *opts, ain_err_t *err) {
  static const char *const keys[] = {"api_url", "token_url", "client_id_secret",
                                     "client_secret_secret", "refresh_token_secret",
                                     "access_token_secret", "privacy_level", "chunk_mb", "retries",
                                     "retry_base_ms", "timeout_ms", "poll_ms", "poll_timeout_ms",
                                     "watch_url", NULL};
  int rc;
  if ((rc = ain_channel_check_keys(name, opts, keys, err)) != 0 ||
      (rc = ain_channel_check_url(name, opts, "api_url", 0, err)) != 0 ||
      (rc = ain_channel_check_url(name, opts, "watch_url", 0, err)) != 0 ||
      (rc = ain_oauth_check(name, opts, err)) != 0 ||
      (rc = ain_channel_check_enum(name, opts, "privacy_level", PRIVACY, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "chunk_mb", 5, 64, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "retries", 0, 100, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "retry_base_ms", 1, 600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "timeout_ms", 100, 3600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "poll_ms", 10, 600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "poll_timeout_ms", 100, 86400000, err)) != 0) {
    return rc;
  }
  return 0;
}

static void tt_close(ain_channel_t *ch) {
  tt_t *t = ch->impl;
  ain_http_free(t->http);
  ain_oauth_close(t->oauth);
  free(t->api_url);
  free(t->watch_url);
  free(t->privacy);
  free(t);
  ain_channel_free(ch);
}

static int tt_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  tt_t *t = calloc(1, sizeof *t);
  ain_channel_t *ch = t != NULL ? ain_channel_new(&ain_channel_tiktok, o->name, t) : NULL;
  if (ch == NULL || (t->http = ain_http_new()) == NULL) {
    free(t);
    ain_channel_free(ch);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  char watch[512];
  snprintf(watch, sizeof watch, "https://www.tiktok.com/@%s/video",
           ain_channel_opt_str(o->opts, "account", o->name));
  t->api_url = ain_strdup(ain_channel_opt_str(o->opts, "api_url", "https://open.tiktokapis.com"));
  t->watch_url = ain_strdup(ain_channel_opt_str(o->opts, "watch_url", watch));
  t->privacy = ain_strdup(ain_channel_opt_str(o->opts, "privacy_level", "SELF_ONLY"));
  t->chunk = (uint64_t)ain_channel_opt_int(o->opts, "chunk_mb", 10) * MB;
  t->retries = ain_channel_opt_int(o->opts, "retries", 5);
  t->retry_base_ms = ain_channel_opt_int(o->opts, "retry_base_ms", 1000);
  t->timeout_ms = ain_channel_opt_int(o->opts, "timeout_ms", 300000);
  t->poll_ms = ain_channel_opt_int(o->opts, "poll_ms", 2000);
  t->poll_timeout_ms = ain_channel_opt_int(o->opts, "poll_timeout_ms", 600000);
  int rc = ain_oauth_open(o->name, o->opts, o->cfg != NULL ? o->cfg->secrets_dir : NULL,
                          "client_key", "https://open.tiktokapis.com/v2/oauth/token/", &t->oauth,
                          err);
  if (rc != 0) {
    tt_close(ch);
    return rc;
  }
  *out = ch;
  return 0;
}

/* ---- chunks and state ------------------------------------------------------------------------ */

/* TikTok's chunking of size bytes with a preferred chunk: *chunk and *count. */
static int plan_chunks(uint64_t size, uint64_t pref, uint64_t *chunk, uint64_t *count) {
  if (size < TT_MIN_CHUNK) {
    *chunk = size;
    *count = 1;
    return 0;
  }
  *chunk = pref < size ? pref : size;
  *count = size / *chunk;
  return *count <= TT_MAX_CHUNKS ? 0 : -1;
}

static void state_free(tt_state_t *s) {
  free(s->publish_id);
  free(s->upload_url);
  free(s->post_id);
  memset(s, 0, sizeof *s);
}

static uint64_t num_of(const cJSON *j, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

static char *str_dup_of(const cJSON *j, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsString(v) && v->valuestring[0] != '\0' ? ain_strdup(v->valuestring) : NULL;
}

static void state_parse(const char *saved, tt_state_t *s) {
  memset(s, 0, sizeof *s);
  cJSON *j = saved != NULL ? cJSON_Parse(saved) : NULL;
  s->publish_id = str_dup_of(j, "publish_id");
  s->upload_url = str_dup_of(j, "upload_url");
  s->post_id = str_dup_of(j, "post_id");
  s->total = num_of(j, "total");
  s->chunk = num_of(j, "chunk");
  s->count = num_of(j, "count");
  s->next = num_of(j, "next");
  cJSON_Delete(j);
}

static int state_save(ain_channel_session_t *sess, const tt_state_t *s, ain_err_t *err) {
  if (sess == NULL) {
    return 0;
  }
  cJSON *j = cJSON_CreateObject();
  if (s->publish_id != NULL) {
    cJSON_AddStringToObject(j, "publish_id", s->publish_id);
  }
  if (s->post_id != NULL) {
    cJSON_AddStringToObject(j, "post_id", s->post_id);
  } else if (s->publish_id != NULL) {
    cJSON_AddStringToObject(j, "upload_url", s->upload_url != NULL ? s->upload_url : "");
    cJSON_AddNumberToObject(j, "total", (double)s->total);
    cJSON_AddNumberToObject(j, "chunk", (double)s->chunk);
    cJSON_AddNumberToObject(j, "count", (double)s->count);
    cJSON_AddNumberToObject(j, "next", (double)s->next);
  }
  char *txt = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  int rc = txt != NULL ? sess->save(sess->ctx, txt, err) : ain_err_set(err, AIN_ENOMEM, "oom");
  free(txt);
  return rc;
}

/* ---- API calls ------------------------------------------------------------------------------- */

/* A JSON POST to the API with the bearer: *data gets the answer's data object (caller frees
 * the returned root). 429 / rate_limit_exceeded: AIN_EBUSY with res->retry_after_ms. */
/* retries > 0: a read, repeated after no answer or a 5xx (ain_oauth_do_retry). */
static int api_post(ain_channel_t *ch, const char *path, const char *body, cJSON **root,
                    const cJSON **data, char **raw, int64_t retries, ain_channel_result_t *res,
                    ain_err_t *err) {
  tt_t *t = ch->impl;
  char url[2048];
  snprintf(url, sizeof url, "%s%s", t->api_url, path);
  static const char *const hdrs[] = {"Content-Type: application/json; charset=UTF-8", NULL};
  ain_http_req_t q = {.method = "POST",
                      .url = url,
                      .headers = hdrs,
                      .body = body,
                      .body_len = strlen(body),
                      .body_fd = -1,
                      .timeout_ms = t->timeout_ms};
  ain_http_resp_t r;
  int rc = ain_oauth_do_retry(t->oauth, t->http, &q, &r, retries, t->retry_base_ms, err);
  if (rc != 0) {
    return rc;
  }
  cJSON *j = cJSON_Parse(r.body);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const char *c = cJSON_IsString(code) ? code->valuestring : "";
  if (r.status == 200 && strcmp(c, "ok") == 0) {
    *root = j;
    *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (raw != NULL) {
      *raw = r.body;
      r.body = NULL;
    }
    ain_http_resp_free(&r);
    return 0;
  }
  if (r.status == 429 || strcmp(c, "rate_limit_exceeded") == 0 ||
      strcmp(c, "spam_risk_too_many_posts") == 0) {
    res->retry_after_ms = r.retry_after_ms >= 0 ? r.retry_after_ms : 60000;
    rc = ain_err_set(err, AIN_EBUSY, "channel %s: %s: HTTP %ld %s (retry in %" PRId64 " ms)",
                     ch->name, path, r.status, c, res->retry_after_ms);
  } else {
    rc = ain_err_set(err, r.status >= 500 ? AIN_EHTTP
                          : r.status == 401 || r.status == 403 ? AIN_ECREDS
                                                                 : AIN_EHTTP,
                     "channel %s: %s: HTTP %ld %s", ch->name, path, r.status, c);
  }
  cJSON_Delete(j);
  ain_http_resp_free(&r);
  return rc;
}

static int init_post(ain_channel_t *ch, const ain_publish_req_t *req, tt_state_t *s,
                     ain_channel_result_t *res, ain_err_t *err) {
  tt_t *t = ch->impl;
  cJSON *side = cJSON_Parse(req->sidecar_json);
  const char *title = ain_channel_opt_str(side, "title", req->video_id);
  const char *privacy = ain_channel_opt_str(side, "privacy_level", t->privacy);
  cJSON *b = cJSON_CreateObject();
  cJSON *pi = cJSON_AddObjectToObject(b, "post_info");
  char tt[2300]; /* TikTok: a title of up to 2200 UTF-16 runes */
  snprintf(tt, sizeof tt, "%s", title);
  cJSON_AddStringToObject(pi, "title", tt);
  cJSON_AddStringToObject(pi, "privacy_level", privacy);
  cJSON_AddFalseToObject(pi, "disable_duet");
  cJSON_AddFalseToObject(pi, "disable_comment");
  cJSON_AddFalseToObject(pi, "disable_stitch");
  cJSON *si = cJSON_AddObjectToObject(b, "source_info");
  cJSON_AddStringToObject(si, "source", "FILE_UPLOAD");
  cJSON_AddNumberToObject(si, "video_size", (double)s->total);
  cJSON_AddNumberToObject(si, "chunk_size", (double)s->chunk);
  cJSON_AddNumberToObject(si, "total_chunk_count", (double)s->count);
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  cJSON_Delete(side);
  cJSON *root = NULL;
  const cJSON *data = NULL;
  int rc = api_post(ch, "/v2/post/publish/video/init/", body, &root, &data, NULL, 0, res, err);
  free(body);
  if (rc != 0) {
    return rc;
  }
  s->publish_id = str_dup_of(data, "publish_id");
  s->upload_url = str_dup_of(data, "upload_url");
  cJSON_Delete(root);
  if (s->publish_id == NULL || s->upload_url == NULL) {
    return ain_err_set(err, AIN_EHTTP, "channel %s: init answered no publish_id or upload_url",
                       ch->name);
  }
  return 0;
}

/* Bytes of chunk i: [*off, *off + *len). The last chunk takes the remainder. */
static void chunk_range(const tt_state_t *s, uint64_t i, uint64_t *off, uint64_t *len) {
  *off = i * s->chunk;
  *len = i + 1 == s->count ? s->total - *off : s->chunk;
}

static int put_chunk(ain_channel_t *ch, int fd, const tt_state_t *s, ain_http_resp_t *r,
                     ain_err_t *err) {
  tt_t *t = ch->impl;
  uint64_t off, len;
  chunk_range(s, s->next, &off, &len);
  char cr[128];
  snprintf(cr, sizeof cr, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
           off + len - 1, s->total);
  const char *const hdrs[] = {cr, "Content-Type: video/mp4", NULL};
  ain_http_req_t q = {.method = "PUT",
                      .url = s->upload_url,
                      .headers = hdrs,
                      .body_fd = fd,
                      .body_offset = off,
                      .body_length = len,
                      .timeout_ms = t->timeout_ms};
  return ain_http_do(t->http, &q, r, err);
}

/* The first id of publicaly_available_post_id as its digits in the answer's text: TikTok's ids
 * are int64 numbers, past what a double (cJSON's number) holds exactly. NULL if none. */
static char *first_id_digits(const char *raw) {
  const char *p = raw != NULL ? strstr(raw, "\"publicaly_available_post_id\"") : NULL;
  p = p != NULL ? strchr(p, '[') : NULL;
  if (p == NULL) {
    return NULL;
  }
  p += 1 + strspn(p + 1, " \t\r\n");
  size_t n = strspn(p, "0123456789");
  if (n == 0 || n > 32) {
    return NULL;
  }
  char id[40];
  snprintf(id, sizeof id, "%.*s", (int)n, p);
  return ain_strdup(id);
}

/* Polls until PUBLISH_COMPLETE (s->post_id set) or FAILED (AIN_EHTTP, *failed = 1). */
static int poll(ain_channel_t *ch, tt_state_t *s, ain_channel_result_t *res, int *failed,
                ain_err_t *err) {
  tt_t *t = ch->impl;
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "publish_id", s->publish_id);
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  int rc = 0, done = 0;
  int64_t waited = 0, failures = 0;
  while (!done) {
    cJSON *root = NULL;
    const cJSON *data = NULL;
    char *raw = NULL;
    rc = api_post(ch, "/v2/post/publish/status/fetch/", body, &root, &data, &raw, 0, res, err);
    if (rc == AIN_EHTTP && ++failures <= t->retries) { /* 5xx or dropped: ask again */
      ain_err_clear(err);
      ain_channel_sleep_ms(t->retry_base_ms);
      waited += t->retry_base_ms;
      continue;
    }
    if (rc != 0) {
      break;
    }
    const char *st = ain_channel_opt_str(data, "status", "");
    if (strcmp(st, "PUBLISH_COMPLETE") == 0) {
      const cJSON *ids = cJSON_GetObjectItemCaseSensitive(data, "publicaly_available_post_id");
      const cJSON *first = cJSON_GetArrayItem(ids, 0);
      s->post_id = cJSON_IsNumber(first)   ? first_id_digits(raw)
                   : cJSON_IsString(first) ? ain_strdup(first->valuestring)
                                           : NULL;
      if (s->post_id == NULL) { /* a private post has no public id: the publish is its handle */
        s->post_id = ain_strdup(s->publish_id);
      }
      done = 1;
    } else if (strcmp(st, "FAILED") == 0) {
      rc = ain_err_set(err, AIN_EHTTP, "channel %s: TikTok failed the post: %s", ch->name,
                       ain_channel_opt_str(data, "fail_reason", "no reason given"));
      *failed = 1;
      done = 1;
    } else if (waited >= t->poll_timeout_ms) {
      rc = ain_err_set(err, AIN_ETIMEOUT, "channel %s: still %s after %" PRId64 " ms", ch->name,
                       st, waited);
      done = 1;
    }
    cJSON_Delete(root);
    free(raw);
    if (!done) {
      ain_channel_sleep_ms(t->poll_ms);
      waited += t->poll_ms;
    }
  }
  free(body);
  return rc;
}

static void finish(const tt_t *t, const tt_state_t *s, ain_channel_result_t *res) {
  snprintf(res->post_id, sizeof res->post_id, "%s", s->post_id);
  snprintf(res->url, sizeof res->url, "%s/%s", t->watch_url, s->post_id);
}

static int tt_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                      ain_channel_session_t *sess, ain_channel_result_t *res, ain_err_t *err) {
  tt_t *t = ch->impl;
  tt_state_t s;
  state_parse(sess != NULL ? sess->saved : NULL, &s);
  int fd = -1, rc = 0, failed = 0;
  int64_t failures = 0;
  if (s.post_id != NULL) {
    finish(t, &s, res);
    res->already = 1;
    goto done;
  }
  uint64_t total;
  if ((rc = ain_channel_video_fd(req, &fd, &total, err)) != 0) {
    goto done;
  }
  if (s.publish_id == NULL || s.total != total) {
    state_free(&s);
    s.total = total;
    if (total == 0 || plan_chunks(total, t->chunk, &s.chunk, &s.count) != 0) {
      rc = ain_err_field(err, AIN_EINVAL, "files", "channel %s: a video of %" PRIu64
                         " bytes cannot go up in at most %d chunks", ch->name, total,
                         TT_MAX_CHUNKS);
      goto done;
    }
    if ((rc = init_post(ch, req, &s, res, err)) != 0 || (rc = state_save(sess, &s, err)) != 0) {
      goto done;
    }
  }
  while (s.next < s.count) {
    ain_http_resp_t r;
    rc = put_chunk(ch, fd, &s, &r, err);
    if (rc == AIN_EHTTP || (rc == 0 && r.status >= 500)) {
      if (rc == 0) {
        ain_err_set(err, AIN_EHTTP, "channel %s: chunk %" PRIu64 ": HTTP %ld", ch->name, s.next,
                    r.status);
        ain_http_resp_free(&r);
      }
      if (++failures > t->retries) {
        rc = AIN_EHTTP;
        goto done;
      }
      ain_channel_sleep_ms(t->retry_base_ms << (failures < 6 ? failures - 1 : 5));
      ain_err_clear(err);
      continue;
    }
    if (rc != 0) {
      goto done;
    }
    long status = r.status;
    ain_http_resp_free(&r);
    if (status != 206 && status != 201) {
      rc = ain_err_set(err, AIN_EHTTP, "channel %s: chunk %" PRIu64 " of %" PRIu64 ": HTTP %ld",
                       ch->name, s.next + 1, s.count, status);
      goto done;
    }
    failures = 0;
    s.next++;
    if ((rc = state_save(sess, &s, err)) != 0) {
      goto done;
    }
  }
  if ((rc = poll(ch, &s, res, &failed, err)) != 0) {
    if (failed) { /* that publish is over: a later attempt starts a new one */
      ain_err_t e2;
      ain_err_clear(&e2);
      tt_state_t empty = {0};
      state_save(sess, &empty, &e2);
    }
    goto done;
  }
  finish(t, &s, res);
  rc = state_save(sess, &s, err);
done:
  if (fd >= 0) {
    close(fd);
  }
  state_free(&s);
  return rc;
}

/* ---- metrics: Display API video/query -------------------------------------------------------- */

#define TT_FIELDS "id,view_count,like_count,comment_count,share_count"

static int tt_metrics(ain_channel_t *ch, const char *post_id, ain_channel_post_metrics_t *out,
                      ain_err_t *err) {
  tt_t *t = ch->impl;
  out->views = out->likes = out->comments = out->shares = -1;
  size_t n = post_id != NULL ? strlen(post_id) : 0;
  if (n > 0 && strncmp(post_id, "v_pub_", 6) == 0) {
    return 0; /* a private post's handle is its publish_id: the Display API has no video for it */
  }
  if (n == 0 || n > 32 || strspn(post_id, "0123456789") != n) {
    return ain_err_field(err, AIN_EINVAL, "post_id", "channel %s: '%.64s' is not a TikTok video id",
                         ch->name, post_id != NULL ? post_id : "");
  }
  char body[128];
  snprintf(body, sizeof body, "{\"filters\":{\"video_ids\":[\"%s\"]}}", post_id);
  cJSON *root = NULL;
  const cJSON *data = NULL;
  ain_channel_result_t busy = {0}; /* 429: EBUSY; the next pass asks again */
  int rc = api_post(ch, "/v2/video/query/?fields=" TT_FIELDS, body, &root, &data, NULL,
                    t->retries < AIN_CHANNEL_METRICS_RETRIES ? t->retries
                                                             : AIN_CHANNEL_METRICS_RETRIES,
                    &busy, err);
  if (rc != 0) {
    return rc;
  }
  const cJSON *videos = cJSON_GetObjectItemCaseSensitive(data, "videos");
  const cJSON *list = cJSON_IsArray(videos) ? videos : NULL;
  const cJSON *v, *found = NULL;
  cJSON_ArrayForEach(v, list) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    /* the id is a string in the Display API's answers; a number would have lost digits */
    if (cJSON_IsString(id) && strcmp(id->valuestring, post_id) == 0) {
      found = v;
    }
  }
  static const char *const keys[] = {"view_count", "like_count", "comment_count", "share_count"};
  int64_t *dst[] = {&out->views, &out->likes, &out->comments, &out->shares};
  if (!cJSON_IsArray(videos)) {
    rc = ain_err_set(err, AIN_EHTTP, "channel %s: video/query of %s: the reply has no "
                     "data.videos array", ch->name, post_id);
  } else if (found == NULL) { /* video/query leaves out ids it cannot show: deleted or private */
    rc = ain_err_set(err, AIN_ENOTFOUND,
                     "channel %s: video %s is not on TikTok any more (deleted or made private)",
                     ch->name, post_id);
  }
  for (size_t i = 0; i < 4 && rc == 0; i++) {
    if (ain_channel_metric_count(found, keys[i], dst[i]) != 0) {
      rc = ain_err_field(err, AIN_EHTTP, keys[i],
                         "channel %s: video/query of %s: %s is not a count", ch->name, post_id,
                         keys[i]);
    }
  }
  if (rc != 0) {
    out->views = out->likes = out->comments = out->shares = -1;
  }
  cJSON_Delete(root);
  return rc;
}

const ain_channel_kind_t ain_channel_tiktok = {
    .kind = "tiktok",
    .check = tt_check,
    .open = tt_open,
    .publish = tt_publish,
    .unpublish = NULL, /* the Content Posting API has no delete: a manual takedown */
    .metrics = tt_metrics,
    .close = tt_close,
};
