/* The youtube channel kind: YouTube Data API v3 videos.insert as a resumable upload
 * (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
 *   1. POST {api_url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status with the
 *      metadata JSON and X-Upload-Content-Length/-Type; the session URI comes back in Location.
 *   2. PUT chunks (a multiple of 256 KiB, the last one shorter) with Content-Range
 *      bytes FIRST-LAST/TOTAL; 308 Resume Incomplete says what the server holds (Range
 *      bytes=0-N); 200/201 carries the video resource (its id is the post id).
 *   3. After a 5xx or a dropped connection, PUT with Content-Range bytes STAR/TOTAL and no body
 *      asks where the upload stands, and the upload continues from there.
 * Crash safety: the session URI and each acknowledged offset are saved before the next chunk, and
 * the video id as soon as the platform gives it; a resumed attempt first asks the session where it
 * stands, so an upload finished before a crash is found (200/201 to the query), not re-posted.
 * A session created but never saved (a crash right after step 1) holds no bytes and never
 * becomes a video. quota_units: videos.insert costs 1600 of the project's daily 10,000.
 * Privacy status and category: the sidecar's privacy_status / category_id (the publisher policy),
 * else the channel's config. Metrics: videos.list?part=statistics (views, likes, comments; YouTube
 * reports no shares). Unpublish: videos.delete (a 404 is "already gone"). Relies on: kinds.h,
 * http.h, oauth.h, core/log.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "publish/http.h"
#include "publish/kinds.h"
#include "publish/oauth.h"

#define YT_QUOTA_INSERT 1600
#define YT_CHUNK_UNIT (256 * 1024)

typedef struct {
  char *api_url, *watch_url, *privacy, *category;
  int64_t chunk, retries, retry_base_ms, timeout_ms;
  int64_t quota_retry_ms; /* park after quotaExceeded without Retry-After (the daily reset) */
  int kids;
  ain_http_t *http;
  ain_oauth_t *oauth;
} yt_t;

/* What the session saves: {"upload_url","total","offset"} while uploading, {"post_id"} after. */
typedef struct {
  char *upload_url, *post_id;
  uint64_t total, offset;
} yt_state_t;

static const char *const PRIVACY[] = {"private", "unlisted", "public", NULL};

static int yt_check(const char *name, const cJSON *opts, ain_err_t *err) {
  static const char *const keys[] = {"api_url", "token_url", "client_id_secret",
                                     "client_secret_secret", "refresh_token_secret",
                                     "access_token_secret", "privacy_status", "category_id",
                                     "chunk_kb", "retries", "retry_base_ms", "timeout_ms",
                                     "made_for_kids", "watch_url", "quota_retry_ms", NULL};
  int rc;
  if ((rc = ain_channel_check_keys(name, opts, keys, err)) != 0 ||
      (rc = ain_channel_check_url(name, opts, "api_url", 0, err)) != 0 ||
      (rc = ain_channel_check_url(name, opts, "watch_url", 0, err)) != 0 ||
      (rc = ain_oauth_check(name, opts, err)) != 0 ||
      (rc = ain_channel_check_enum(name, opts, "privacy_status", PRIVACY, err)) != 0 ||
      (rc = ain_channel_check_str(name, opts, "category_id", 0, 8, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "chunk_kb", 256, 256 * 1024, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "quota_retry_ms", 1000, 86400000, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "retries", 0, 100, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "retry_base_ms", 1, 600000, err)) != 0 ||
      (rc = ain_channel_check_int(name, opts, "timeout_ms", 100, 3600000, err)) != 0) {
    return rc;
  }
  if (ain_channel_opt_int(opts, "chunk_kb", 8192) % 256 != 0) {
    char f[160];
    snprintf(f, sizeof f, "channels.%s.chunk_kb", name);
    return ain_err_field(err, AIN_ECONFIG, f, "'%s' must be a multiple of 256 (YouTube's unit)",
                         f);
  }
  const char *cat = ain_channel_opt_str(opts, "category_id", "22");
  if (cat[strspn(cat, "0123456789")] != '\0') {
    char f[160];
    snprintf(f, sizeof f, "channels.%s.category_id", name);
    return ain_err_field(err, AIN_ECONFIG, f, "'%s' must be a category number such as \"22\"", f);
  }
  return ain_channel_check_bool(name, opts, "made_for_kids", err);
}

static void yt_close(ain_channel_t *ch) {
  yt_t *y = ch->impl;
  ain_http_free(y->http);
  ain_oauth_close(y->oauth);
  free(y->api_url);
  free(y->watch_url);
  free(y->privacy);
  free(y->category);
  free(y);
  ain_channel_free(ch);
}

static int yt_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  yt_t *y = calloc(1, sizeof *y);
  ain_channel_t *ch = y != NULL ? ain_channel_new(&ain_channel_youtube, o->name, y) : NULL;
  if (ch == NULL || (y->http = ain_http_new()) == NULL) {
    free(y);
    ain_channel_free(ch);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  y->api_url = ain_strdup(ain_channel_opt_str(o->opts, "api_url", "https://www.googleapis.com"));
  y->watch_url = ain_strdup(ain_channel_opt_str(o->opts, "watch_url", "https://youtu.be"));
  y->privacy = ain_strdup(ain_channel_opt_str(o->opts, "privacy_status", "private"));
  y->category = ain_strdup(ain_channel_opt_str(o->opts, "category_id", "22"));
  y->chunk = ain_channel_opt_int(o->opts, "chunk_kb", 8192) * 1024;
  y->retries = ain_channel_opt_int(o->opts, "retries", 5);
  y->quota_retry_ms = ain_channel_opt_int(o->opts, "quota_retry_ms", 3600000);
  y->retry_base_ms = ain_channel_opt_int(o->opts, "retry_base_ms", 1000);
  y->timeout_ms = ain_channel_opt_int(o->opts, "timeout_ms", 300000);
  y->kids = ain_channel_opt_bool(o->opts, "made_for_kids", 0);
  int rc = ain_oauth_open(o->name, o->opts, o->cfg != NULL ? o->cfg->secrets_dir : NULL,
                          "client_id", "https://oauth2.googleapis.com/token", &y->oauth, err);
  if (rc != 0) {
    yt_close(ch);
    return rc;
  }
  *out = ch;
  return 0;
}

/* ---- session state ------------------------------------------------------------------------- */

static void state_free(yt_state_t *s) {
  free(s->upload_url);
  free(s->post_id);
  memset(s, 0, sizeof *s);
}

static void state_parse(const char *saved, yt_state_t *s) {
  memset(s, 0, sizeof *s);
  cJSON *j = saved != NULL ? cJSON_Parse(saved) : NULL;
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "upload_url");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "post_id");
  s->upload_url = cJSON_IsString(u) ? ain_strdup(u->valuestring) : NULL;
  s->post_id = cJSON_IsString(p) ? ain_strdup(p->valuestring) : NULL;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "total");
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "offset");
  s->total = cJSON_IsNumber(t) ? (uint64_t)t->valuedouble : 0;
  s->offset = cJSON_IsNumber(o) ? (uint64_t)o->valuedouble : 0;
  cJSON_Delete(j);
}

static int state_save(ain_channel_session_t *sess, const yt_state_t *s, ain_err_t *err) {
  if (sess == NULL) {
    return 0; /* no durable session (a unit test): progress lives only in this call */
  }
  cJSON *j = cJSON_CreateObject();
  if (s->post_id != NULL) {
    cJSON_AddStringToObject(j, "post_id", s->post_id);
  } else {
    cJSON_AddStringToObject(j, "upload_url", s->upload_url != NULL ? s->upload_url : "");
    cJSON_AddNumberToObject(j, "total", (double)s->total);
    cJSON_AddNumberToObject(j, "offset", (double)s->offset);
  }
  char *txt = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  int rc = txt != NULL ? sess->save(sess->ctx, txt, err) : ain_err_set(err, AIN_ENOMEM, "oom");
  free(txt);
  return rc;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* The platform's reason for a refusal: error.errors[0].reason, else error.message, else "". */
static void api_reason(const ain_http_resp_t *r, char *out, size_t cap) {
  cJSON *j = cJSON_Parse(r->body != NULL ? r->body : "");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "errors"), 0);
  const cJSON *reason = cJSON_GetObjectItemCaseSensitive(first, "reason");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
  snprintf(out, cap, "%s",
           cJSON_IsString(reason) ? reason->valuestring
           : cJSON_IsString(msg)  ? msg->valuestring
                                  : "");
  cJSON_Delete(j);
}

/* 429, or 403 with a quota reason: AIN_EBUSY with when to try again. */
static int quota_or_fail(ain_channel_t *ch, const ain_http_resp_t *r, const char *what,
                         ain_channel_result_t *res, ain_err_t *err) {
  char reason[256];
  api_reason(r, reason, sizeof reason);
  if (r->status == 429 ||
      (r->status == 403 && (strstr(reason, "quota") != NULL || strstr(reason, "rateLimit")))) {
    res->retry_after_ms =
        r->retry_after_ms >= 0 ? r->retry_after_ms : ((yt_t *)ch->impl)->quota_retry_ms;
    return ain_err_set(err, AIN_EBUSY, "channel %s: %s: HTTP %ld %s (retry in %" PRId64 " ms)",
                       ch->name, what, r->status, reason, res->retry_after_ms);
  }
  return ain_err_set(err, r->status == 401 || r->status == 403 ? AIN_ECREDS : AIN_EHTTP,
                     "channel %s: %s: HTTP %ld %s", ch->name, what, r->status, reason);
}

static char *metadata(const yt_t *y, const ain_publish_req_t *req, ain_err_t *err) {
  cJSON *side = cJSON_Parse(req->sidecar_json);
  const cJSON *title = cJSON_GetObjectItemCaseSensitive(side, "title");
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(side, "text");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(side, "hashtags");
  const char *privacy = ain_channel_opt_str(side, "privacy_status", y->privacy);
  const char *category = ain_channel_opt_str(side, "category_id", y->category);
  int ok = 0;
  for (size_t i = 0; PRIVACY[i] != NULL; i++) {
    ok |= strcmp(privacy, PRIVACY[i]) == 0;
  }
  if (!ok) {
    cJSON_Delete(side);
    ain_err_field(err, AIN_EINVAL, "sidecar.privacy_status",
                  "privacy_status '%s' is not private, unlisted or public", privacy);
    return NULL;
  }
  /* titles: at most 100 characters, no angle brackets (videos.insert refuses them) */
  char t[404];
  snprintf(t, sizeof t, "%s", cJSON_IsString(title) ? title->valuestring : req->video_id);
  size_t n = 0, chars = 0;
  while (t[n] != '\0' && chars < 100) {
    if (t[n] == '<' || t[n] == '>') {
      t[n] = ' ';
    }
    n++;
    while (((unsigned char)t[n] & 0xC0) == 0x80) {
      n++;
    }
    chars++;
  }
  t[n] = '\0';
  cJSON *m = cJSON_CreateObject();
  cJSON *sn = cJSON_AddObjectToObject(m, "snippet");
  cJSON_AddStringToObject(sn, "title", t);
  cJSON_AddStringToObject(sn, "description", cJSON_IsString(text) ? text->valuestring : "");
  cJSON *tg = cJSON_AddArrayToObject(sn, "tags");
  const cJSON *it;
  cJSON_ArrayForEach(it, tags) {
    if (cJSON_IsString(it)) {
      cJSON_AddItemToArray(tg, cJSON_CreateString(it->valuestring[0] == '#' ? it->valuestring + 1
                                                                             : it->valuestring));
    }
  }
  cJSON_AddStringToObject(sn, "categoryId", category);
  cJSON *st = cJSON_AddObjectToObject(m, "status");
  cJSON_AddStringToObject(st, "privacyStatus", privacy);
  cJSON_AddBoolToObject(st, "selfDeclaredMadeForKids", y->kids);
  char *s = cJSON_PrintUnformatted(m);
  cJSON_Delete(m);
  cJSON_Delete(side);
  return s;
}

/* Step 1: a new upload session; *url gets the session URI. */
static int initiate(ain_channel_t *ch, const ain_publish_req_t *req, uint64_t total, char **url,
                    ain_channel_result_t *res, ain_err_t *err) {
  yt_t *y = ch->impl;
  char *meta = metadata(y, req, err);
  if (meta == NULL) {
    return err->code != 0 ? err->code : AIN_ENOMEM;
  }
  char u[2048], len[64];
  snprintf(u, sizeof u, "%s/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
           y->api_url);
  snprintf(len, sizeof len, "X-Upload-Content-Length: %" PRIu64, total);
  const char *const hdrs[] = {"Content-Type: application/json; charset=UTF-8", len,
                              "X-Upload-Content-Type: video/mp4", NULL};
  ain_http_req_t q = {.method = "POST",
                      .url = u,
                      .headers = hdrs,
                      .body = meta,
                      .body_len = strlen(meta),
                      .body_fd = -1,
                      .timeout_ms = y->timeout_ms};
  ain_http_resp_t r;
  int rc = ain_oauth_do(y->oauth, y->http, &q, &r, err);
  free(meta);
  if (rc != 0) {
    return rc;
  }
  if (r.status == 200 && r.location[0] != '\0') {
    *url = ain_strdup(r.location);
  } else {
    rc = quota_or_fail(ch, &r, "starting the upload", res, err);
  }
  ain_http_resp_free(&r);
  return rc;
}

/* Steps 2 and 3: PUT bytes [off, off+len) of the file, or (len 0, query) ask where it stands. */
static int put(yt_t *y, const char *url, int fd, uint64_t total, uint64_t off, uint64_t len,
               ain_http_resp_t *r, ain_err_t *err) {
  char cr[128];
  if (len == 0) {
    snprintf(cr, sizeof cr, "Content-Range: bytes */%" PRIu64, total);
  } else {
    snprintf(cr, sizeof cr, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
             off + len - 1, total);
  }
  const char *const hdrs[] = {cr, "Content-Type: video/mp4", NULL};
  ain_http_req_t q = {.method = "PUT",
                      .url = url,
                      .headers = hdrs,
                      .body_fd = len > 0 ? fd : -1,
                      .body_offset = off,
                      .body_length = len,
                      .timeout_ms = y->timeout_ms};
  return ain_oauth_do(y->oauth, y->http, &q, r, err);
}

/* 308's Range "bytes=0-N": the next offset N+1; no Range: nothing stored yet (0). */
static uint64_t next_offset(const ain_http_resp_t *r) {
  const char *dash = strchr(r->range, '-');
  return dash != NULL ? strtoull(dash + 1, NULL, 10) + 1 : 0;
}

static void finish(const yt_t *y, const char *id, ain_channel_result_t *res) {
  snprintf(res->post_id, sizeof res->post_id, "%s", id);
  snprintf(res->url, sizeof res->url, "%s/%s", y->watch_url, id);
  res->quota_units = YT_QUOTA_INSERT;
}

static int yt_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                      ain_channel_session_t *sess, ain_channel_result_t *res, ain_err_t *err) {
  yt_t *y = ch->impl;
  yt_state_t s;
  state_parse(sess != NULL ? sess->saved : NULL, &s);
  int fd = -1, rc = 0, query = 0, restarts = 0;
  int64_t failures = 0;
  if (s.post_id != NULL) { /* the platform gave its id before a crash: nothing to send */
    finish(y, s.post_id, res);
    res->already = 1;
    goto done;
  }
  uint64_t total;
  if ((rc = ain_channel_video_fd(req, &fd, &total, err)) != 0) {
    goto done;
  }
  if (total == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "files", "channel %s: the video is empty", ch->name);
    goto done;
  }
  query = s.upload_url != NULL && s.total == total; /* resumed: ask the session first */
  for (;;) {
    if (s.upload_url == NULL || s.total != total) {
      free(s.upload_url);
      s.upload_url = NULL;
      if ((rc = initiate(ch, req, total, &s.upload_url, res, err)) != 0) {
        goto done;
      }
      s.total = total;
      s.offset = 0;
      if ((rc = state_save(sess, &s, err)) != 0) {
        goto done;
      }
    }
    uint64_t len = 0;
    if (!query) {
      len = total - s.offset < (uint64_t)y->chunk ? total - s.offset : (uint64_t)y->chunk;
    }
    ain_http_resp_t r;
    rc = put(y, s.upload_url, fd, total, s.offset, len, &r, err);
    if (rc == AIN_EHTTP || (rc == 0 && r.status >= 500)) { /* dropped, timed out, 5xx */
      if (rc == 0) {
        ain_err_set(err, AIN_EHTTP, "channel %s: upload: HTTP %ld", ch->name, r.status);
        ain_http_resp_free(&r);
      }
      if (++failures > y->retries) {
        rc = AIN_EHTTP;
        ain_err_prefix(err, "after %" PRId64 " tries", failures);
        goto done;
      }
      int64_t wait = y->retry_base_ms << (failures < 6 ? failures - 1 : 5);
      ain_channel_sleep_ms(wait);
      ain_err_clear(err);
      rc = 0;
      query = 1;
      continue;
    }
    if (rc != 0) {
      goto done;
    }
    if (r.status == 308) {
      uint64_t next = next_offset(&r);
      ain_http_resp_free(&r);
      if (next > total) {
        rc = ain_err_set(err, AIN_EHTTP, "channel %s: the session claims %" PRIu64
                         " of %" PRIu64 " bytes", ch->name, next, total);
        goto done;
      }
      if (next != s.offset || query) {
        failures = next > s.offset ? 0 : failures;
        s.offset = next;
        if ((rc = state_save(sess, &s, err)) != 0) {
          goto done;
        }
      }
      query = 0;
      continue;
    }
    if (r.status == 200 || r.status == 201) {
      cJSON *j = cJSON_Parse(r.body);
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
      if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
          strlen(id->valuestring) >= AIN_CHANNEL_POST_ID_MAX) {
        rc = ain_err_set(err, AIN_EHTTP, "channel %s: the finished upload named no video id",
                         ch->name);
      } else {
        s.post_id = ain_strdup(id->valuestring);
        finish(y, s.post_id, res);
        res->already = len == 0; /* the query found the upload finished before a crash */
        rc = state_save(sess, &s, err);
      }
      cJSON_Delete(j);
      ain_http_resp_free(&r);
      goto done;
    }
    if ((r.status == 404 || r.status == 410) && restarts++ == 0) {
      /* the session expired (a week) before any byte landed for good: a new one */
      ain_http_resp_free(&r);
      free(s.upload_url);
      s.upload_url = NULL;
      query = 0;
      continue;
    }
    rc = quota_or_fail(ch, &r, "uploading", res, err);
    ain_http_resp_free(&r);
    goto done;
  }
done:
  if (fd >= 0) {
    close(fd);
  }
  state_free(&s);
  return rc;
}

/* ---- metrics: videos.list with part=statistics (1 quota unit a call) ------------------------ */

/* A YouTube video id: 1..64 of A-Z a-z 0-9 - _ (11 today), nothing to escape in a query. */
static int video_id_ok(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  return n > 0 && n <= 64 &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* The statistics of item `id` in a videos.list answer into out. */
static int parse_statistics(ain_channel_t *ch, const char *body, const char *id,
                            ain_channel_post_metrics_t *out, ain_err_t *err) {
  cJSON *j = cJSON_Parse(body);
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
  const cJSON *it, *found = NULL;
  int rc = 0;
  if (!cJSON_IsArray(items)) {
    rc = ain_err_set(err, AIN_EHTTP,
                     "channel %s: statistics of %s: the reply has no \"items\" array", ch->name,
                     id);
    goto done;
  }
  cJSON_ArrayForEach(it, items) {
    const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it, "id");
    if (cJSON_IsString(iid) && strcmp(iid->valuestring, id) == 0) {
      found = it;
    }
  }
  if (found == NULL) { /* videos.list leaves out an id it does not know: deleted or not ours */
    rc = ain_err_set(err, AIN_ENOTFOUND,
                     "channel %s: video %s is not on YouTube any more (deleted or made "
                     "unavailable)", ch->name, id);
    goto done;
  }
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(found, "statistics");
  static const char *const keys[] = {"viewCount", "likeCount", "commentCount"};
  int64_t *dst[] = {&out->views, &out->likes, &out->comments};
  for (size_t i = 0; i < 3 && rc == 0; i++) {
    if (!cJSON_IsObject(st) || ain_channel_metric_count(st, keys[i], dst[i]) != 0) {
      rc = ain_err_field(err, AIN_EHTTP, keys[i],
                         "channel %s: statistics of %s: %s is not a count (a string of digits)",
                         ch->name, id, cJSON_IsObject(st) ? keys[i] : "statistics");
    }
  }
  /* a hidden like count or disabled comments leave the member out: -1 (not reported) */
done:
  cJSON_Delete(j);
  if (rc != 0) {
    out->views = out->likes = out->comments = -1;
  }
  return rc;
}

/* A post id that is not a video id is refused before any call (it would go into the URL). */
static int bad_post_id(const ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  return ain_err_field(err, AIN_EINVAL, "post_id", "channel %s: '%.64s' is not a YouTube video id",
                       ch->name, post_id != NULL ? post_id : "");
}

static int yt_metrics(ain_channel_t *ch, const char *post_id, ain_channel_post_metrics_t *out,
                      ain_err_t *err) {
  yt_t *y = ch->impl;
  out->views = out->likes = out->comments = out->shares = -1; /* YouTube reports no shares */
  if (!video_id_ok(post_id)) {
    return bad_post_id(ch, post_id, err);
  }
  char u[2048];
  snprintf(u, sizeof u, "%s/youtube/v3/videos?part=statistics&id=%s", y->api_url, post_id);
  ain_http_req_t q = {.method = "GET",
                      .url = u,
                      .body_fd = -1,
                      .timeout_ms = y->timeout_ms < 30000 ? y->timeout_ms : 30000};
  ain_http_resp_t r;
  int64_t retries =
      y->retries < AIN_CHANNEL_METRICS_RETRIES ? y->retries : AIN_CHANNEL_METRICS_RETRIES;
  int rc = ain_oauth_do_retry(y->oauth, y->http, &q, &r, retries, y->retry_base_ms, err);
  if (rc != 0) {
    return rc;
  }
  if (r.status == 200) {
    rc = parse_statistics(ch, r.body, post_id, out, err);
  } else {
    ain_channel_result_t busy = {0}; /* 429/quota: EBUSY; the next pass asks again */
    rc = quota_or_fail(ch, &r, "reading statistics", &busy, err);
  }
  ain_http_resp_free(&r);
  return rc;
}

/* ---- unpublish: videos.delete (50 quota units a call) ---------------------------------------- */

/* DELETE /youtube/v3/videos?id=ID: 204 taken down. A 404 videoNotFound means it is gone already
 * (a crash between the call and its record, or removed in YouTube Studio): done, not an error,
 * so a takedown can be repeated. */
static int yt_unpublish(ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  yt_t *y = ch->impl;
  if (!video_id_ok(post_id)) {
    return bad_post_id(ch, post_id, err);
  }
  char u[2048];
  snprintf(u, sizeof u, "%s/youtube/v3/videos?id=%s", y->api_url, post_id);
  ain_http_req_t q = {.method = "DELETE", .url = u, .body_fd = -1, .timeout_ms = y->timeout_ms};
  ain_http_resp_t r;
  int rc = ain_oauth_do_retry(y->oauth, y->http, &q, &r, y->retries, y->retry_base_ms, err);
  if (rc != 0) {
    return rc;
  }
  char reason[256];
  api_reason(&r, reason, sizeof reason);
  if (r.status == 204 || r.status == 200) {
    ain_log_info("channel %s: video %s deleted (videos.delete)", ch->name, post_id);
  } else if (r.status == 404) {
    ain_log_info("channel %s: video %s was already gone from YouTube (%s)", ch->name, post_id,
                 reason[0] != '\0' ? reason : "404");
  } else {
    ain_channel_result_t busy = {0}; /* 429/quota: EBUSY, the operator runs it again later */
    rc = quota_or_fail(ch, &r, "videos.delete", &busy, err);
  }
  ain_http_resp_free(&r);
  return rc;
}

const ain_channel_kind_t ain_channel_youtube = {
    .kind = "youtube",
    .check = yt_check,
    .open = yt_open,
    .publish = yt_publish,
    .unpublish = yt_unpublish,
    .metrics = yt_metrics,
    .close = yt_close,
};
