/* Shared pieces of the instagram and webhook channel kinds (chan_util.h): a blocking libcurl
 * exchange that streams an object-store range through a fixed buffer (memory per upload is the
 * buffer, never the file), config checks naming the key, media URLs, backoff.
 * Relies on: libcurl, cJSON, objstore, core/secret.h (secret names). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/secret.h"
#include "publish/chan_util.h"

#define UPLOAD_BUF (256 * 1024)

typedef struct {
  const ain__chan_http_req_t *req;
  uint64_t sent;
  char *buf;
  size_t have, pos;
  int failed;
  ain_err_t read_err;
  ain__chan_http_resp_t *resp;
  int toobig;
} xfer_t;

/* Refills from the object store one chunk at a time: the store's read_range is stateless, so a
 * retried exchange simply starts again at req->offset. */
static size_t on_read(char *dst, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  size_t cap = size * n;
  if (x->pos == x->have) {
    uint64_t left = x->req->len - x->sent;
    if (left == 0) {
      return 0;
    }
    size_t want = left < UPLOAD_BUF ? (size_t)left : UPLOAD_BUF;
    size_t got = 0;
    if (ain_objstore_read_range(x->req->objects, x->req->key, x->req->offset + x->sent, x->buf,
                                want, &got, &x->read_err) != 0 ||
        got == 0) {
      if (got == 0 && x->read_err.code == 0) {
        ain_err_set(&x->read_err, AIN_EIO, "object %s ended before %llu bytes", x->req->key,
                    (unsigned long long)x->req->len);
      }
      x->failed = 1;
      return CURL_READFUNC_ABORT;
    }
    x->have = got;
    x->pos = 0;
  }
  size_t k = x->have - x->pos < cap ? x->have - x->pos : cap;
  memcpy(dst, x->buf + x->pos, k);
  x->pos += k;
  x->sent += k;
  return k;
}

static size_t on_write(char *src, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  size_t k = size * n;
  ain__chan_http_resp_t *r = x->resp;
  if (r->len + k > AIN__CHAN_REPLY_MAX) {
    x->toobig = 1;
    return 0;
  }
  char *nb = realloc(r->body, r->len + k + 1);
  if (nb == NULL) {
    return 0;
  }
  memcpy(nb + r->len, src, k);
  r->body = nb;
  r->len += k;
  r->body[r->len] = '\0';
  return k;
}

static size_t on_header(char *src, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  size_t k = size * n;
  static const char name[] = "retry-after:";
  if (k > sizeof name - 1 && strncasecmp(src, name, sizeof name - 1) == 0) {
    char v[128];
    size_t vl = k - (sizeof name - 1);
    if (vl >= sizeof v) {
      vl = sizeof v - 1;
    }
    memcpy(v, src + sizeof name - 1, vl);
    v[vl] = '\0';
    char *p = v;
    while (*p == ' ' || *p == '\t') {
      p++;
    }
    p[strcspn(p, "\r\n")] = '\0';
    char *end = NULL;
    long long secs = strtoll(p, &end, 10);
    if (end != p && *end == '\0' && secs >= 0) {
      x->resp->retry_after_ms = secs * 1000;
    } else {
      time_t at = curl_getdate(p, NULL);
      if (at > 0) {
        time_t now = time(NULL);
        x->resp->retry_after_ms = at > now ? (int64_t)(at - now) * 1000 : 0;
      }
    }
  }
  return k;
}

int ain__chan_http(const char *what, const ain__chan_http_req_t *req, ain__chan_http_resp_t *resp,
                   ain_err_t *err) {
  int rc = 0;
  struct curl_slist *hdrs = NULL;
  xfer_t x = {.req = req, .resp = resp};
  memset(resp, 0, sizeof *resp);
  resp->retry_after_ms = -1;
  CURL *h = curl_easy_init();
  if (h == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "%s: curl_easy_init failed", what);
  }
  for (const char *const *p = req->headers; p != NULL && *p != NULL; p++) {
    struct curl_slist *n = curl_slist_append(hdrs, *p);
    if (n == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "%s: out of memory", what);
      goto fail;
    }
    hdrs = n;
  }
  curl_easy_setopt(h, CURLOPT_URL, req->url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  if (req->objects != NULL) {
    if ((x.buf = malloc(UPLOAD_BUF)) == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "%s: out of memory", what);
      goto fail;
    }
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L); /* PUT by default; the method below renames it */
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &x);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->len);
    /* No "Expect: 100-continue" round trip: the platforms answer the whole request. */
    struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
    if (n == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "%s: out of memory", what);
      goto fail;
    }
    hdrs = n;
  } else if (req->body != NULL) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  }
  if (strcmp(req->method, "GET") != 0 && !(req->body != NULL && strcmp(req->method, "POST") == 0)) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  CURLcode cc = curl_easy_perform(h);
  if (x.failed) {
    rc = ain_err_set(err, x.read_err.code != 0 ? x.read_err.code : AIN_EIO, "%s: %s", what,
                     x.read_err.msg);
    goto fail;
  }
  if (x.toobig) {
    rc = ain_err_set(err, AIN_ETOOBIG, "%s: reply larger than %d bytes", what, AIN__CHAN_REPLY_MAX);
    goto fail;
  }
  if (cc != CURLE_OK) {
    /* A dropped connection or a timeout: the caller decides whether a retry is safe. */
    resp->status = 0;
    snprintf(resp->transport, sizeof resp->transport, "%s", curl_easy_strerror(cc));
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
  }
  if (resp->body == NULL && (resp->body = calloc(1, 1)) == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "%s: out of memory", what);
    goto fail;
  }
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  free(x.buf);
  return 0;
fail:
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  free(x.buf);
  ain__chan_http_resp_free(resp);
  return rc;
}

void ain__chan_http_resp_free(ain__chan_http_resp_t *resp) {
  free(resp->body);
  resp->body = NULL;
  resp->len = 0;
}

void ain__chan_backoff(int64_t base_ms, int attempt) {
  int64_t ms = base_ms;
  for (int i = 0; i < attempt && ms < 30000; i++) {
    ms *= 2;
  }
  if (ms > 30000) {
    ms = 30000;
  }
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static const char *const COMMON_KEYS[] = {"kind",    "max_duration_ms", "safe_area",
                                          "account", "quota",           NULL};

static int listed(const char *const *list, const char *k) {
  for (; list != NULL && *list != NULL; list++) {
    if (strcmp(*list, k) == 0) {
      return 1;
    }
  }
  return 0;
}

static int bad(const char *name, const char *key, ain_err_t *err, const char *why) {
  char field[128];
  snprintf(field, sizeof field, "channels.%s.%s", name, key);
  return ain_err_field(err, AIN_ECONFIG, field, "%s: %s", field, why);
}

int ain__chan_check_keys(const char *name, const cJSON *opts, const char *const *allowed,
                         ain_err_t *err) {
  if (!cJSON_IsObject(opts)) {
    return ain_err_field(err, AIN_ECONFIG, "channels", "channels.%s: must be a table", name);
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, opts) {
    if (it->string == NULL || (!listed(COMMON_KEYS, it->string) && !listed(allowed, it->string))) {
      return bad(name, it->string != NULL ? it->string : "?", err, "unknown key");
    }
  }
  return 0;
}

int ain__chan_opt_str(const char *name, const cJSON *opts, const char *key, const char *def,
                      int required, int url, int secret, const char **out, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  *out = def;
  if (v == NULL) {
    return required ? bad(name, key, err, "required") : 0;
  }
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
    return bad(name, key, err, "must be a non-empty string");
  }
  const char *s = v->valuestring;
  if (url && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
    return bad(name, key, err, "must be an http:// or https:// URL");
  }
  if (url && (strchr(s, ' ') != NULL || s[strlen(s) - 1] == '/')) {
    return bad(name, key, err, "must be a URL without spaces or a trailing /");
  }
  if (secret && !ain_secret_name_ok(s, strlen(s))) {
    return bad(name, key, err,
               "must name a secret (1..64 of A-Z a-z 0-9 _, and - . after the first)");
  }
  *out = s;
  return 0;
}

int ain__chan_opt_int(const char *name, const cJSON *opts, const char *key, int64_t def,
                      int64_t min, int64_t max, int64_t *out, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  *out = def;
  if (v == NULL) {
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble ||
      v->valuedouble < (double)min || v->valuedouble > (double)max) {
    char why[128];
    snprintf(why, sizeof why, "must be an integer in %lld..%lld", (long long)min, (long long)max);
    return bad(name, key, err, why);
  }
  *out = (int64_t)v->valuedouble;
  return 0;
}

int ain__chan_opt_bool(const char *name, const cJSON *opts, const char *key, int def, int *out,
                       ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  *out = def;
  if (v == NULL) {
    return 0;
  }
  if (!cJSON_IsBool(v)) {
    return bad(name, key, err, "must be true or false");
  }
  *out = cJSON_IsTrue(v);
  return 0;
}

int ain__chan_media_url(const char *name, ain_objstore_t *objects, const char *base_url,
                        int64_t ttl_s, const char *key, char *out, size_t cap, ain_err_t *err) {
  if (base_url != NULL) {
    if (snprintf(out, cap, "%s/%s", base_url, key) >= (int)cap) {
      return bad(name, "media_base_url", err, "the media URL is too long");
    }
    return 0;
  }
  if (objects == NULL || objects->vt->presign_get == NULL) {
    return bad(name, "media_base_url", err,
               "required: the object store cannot presign a URL the platform could fetch");
  }
  return ain_objstore_presign_get(objects, key, ttl_s, out, cap, err);
}

const char *ain__chan_video_key(const ain_publish_req_t *req) {
  for (size_t i = 0; i < req->nfiles; i++) {
    if (req->files[i].role != NULL && strcmp(req->files[i].role, "video") == 0) {
      return req->files[i].key;
    }
  }
  return NULL;
}

void ain__chan_utf8_copy(char *dst, size_t cap, const char *s) {
  size_t n = strlen(s);
  if (n >= cap) {
    n = cap - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
      n--; /* s[n] is a continuation byte: the character it belongs to would be cut */
    }
  }
  memcpy(dst, s, n);
  dst[n] = '\0';
}
