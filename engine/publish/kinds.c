/* The table of channel kinds, opening a configured channel through it, the shared checks of a
 * channel's config entry, and what several kinds need once: the video's file and media URL, one
 * HTTP exchange on a client of its own, backoff, metric counts. Relies on: kinds.h, http.h,
 * config/channels.h, objstore, cJSON. */
#include "publish/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/secret.h"
#include "core/util.h"

static int bad(const char *name, const char *key, ain_err_t *err, const char *what);

static const ain_channel_kind_t *const kinds[] = {
    &ain_channel_outbox,
    &ain_channel_youtube,
    &ain_channel_tiktok,
    &ain_channel_instagram,
    &ain_channel_webhook,
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

const ain_channel_kind_t *ain_channel_kind(const char *kind) {
  for (size_t i = 0; kind != NULL && i < NKINDS; i++) {
    if (strcmp(kinds[i]->kind, kind) == 0) {
      return kinds[i];
    }
  }
  return NULL;
}

const char *ain_channel_kind_names(void) {
  static char names[256];
  if (names[0] == '\0') {
    size_t off = 0;
    for (size_t i = 0; i < NKINDS && off < sizeof names; i++) {
      off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                              kinds[i]->kind);
    }
  }
  return names;
}

ain_channel_t *ain_channel_new(const ain_channel_kind_t *kind, const char *name, void *impl) {
  ain_channel_t *ch = calloc(1, sizeof *ch);
  if (ch == NULL) {
    return NULL;
  }
  ch->kind = kind;
  ch->name = ain_strdup(name);
  ch->impl = impl;
  return ch;
}

void ain_channel_free(ain_channel_t *ch) {
  if (ch != NULL) {
    free(ch->name);
    free(ch);
  }
}

int ain_channel_open(const ain_config_t *cfg, const char *name, ain_objstore_t *objects,
                     ain_channel_t **out, ain_err_t *err) {
  const ain_config_channel_t *c = ain_config_channel(&cfg->channels, name);
  if (c == NULL) {
    return ain_err_field(err, AIN_ENOTFOUND, "channel", "no channel '%s' in the config's channels",
                         name != NULL ? name : "");
  }
  const ain_channel_kind_t *k = ain_channel_kind(c->kind);
  if (k == NULL) { /* config load refuses it; a hand-built config might not */
    return ain_err_field(err, AIN_ECONFIG, "channels", "channel %s: unknown kind '%s'", name,
                         c->kind);
  }
  ain_channel_open_t o = {.name = c->name, .opts = c->opts, .cfg = cfg, .objects = objects};
  return k->open(&o, out, err);
}

int ain_channel_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                        ain_channel_session_t *session, ain_channel_result_t *res,
                        ain_err_t *err) {
  memset(res, 0, sizeof *res);
  int rc = ain_publish_req_check(req, err);
  if (rc != 0) {
    return rc;
  }
  return ch->kind->publish(ch, req, session, res, err);
}

void ain_channel_close(ain_channel_t *ch) {
  if (ch != NULL) {
    ch->kind->close(ch);
  }
}

const char *ain_channel_video_key(const ain_publish_req_t *req) {
  for (size_t i = 0; i < req->nfiles; i++) {
    if (req->files[i].role != NULL && strcmp(req->files[i].role, "video") == 0) {
      return req->files[i].key;
    }
  }
  return req->nfiles > 0 ? req->files[0].key : NULL;
}

int ain_channel_object_fd(ain_objstore_t *objects, const char *key, int *fd, uint64_t *size,
                          ain_err_t *err) {
  char path[4096];
  *fd = -1;
  int rc = ain_objstore_get_path(objects, key, path, sizeof path, err);
  if (rc != 0) {
    return rc;
  }
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (*fd < 0 || fstat(*fd, &st) != 0) {
    rc = ain_err_field(err, AIN_EIO, "files", "opening the video %s: %s", key, strerror(errno));
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
    return rc;
  }
  *size = (uint64_t)st.st_size;
  return 0;
}

int ain_channel_video_fd(const ain_publish_req_t *req, int *fd, uint64_t *size, ain_err_t *err) {
  const char *key = ain_channel_video_key(req);
  if (key == NULL) {
    *fd = -1;
    return ain_err_field(err, AIN_EINVAL, "files", "the request has no file");
  }
  return ain_channel_object_fd(req->objects, key, fd, size, err);
}

int ain_channel_media_url(const char *name, ain_objstore_t *objects, const char *base_url,
                          int64_t ttl_s, const char *key, char *out, size_t cap, ain_err_t *err) {
  if (base_url != NULL) {
    if (snprintf(out, cap, "%s/%s", base_url, key) >= (int)cap) {
      return bad(name, "media_base_url", err, "makes a media URL that is too long");
    }
    return 0;
  }
  if (objects == NULL || objects->vt->presign_get == NULL) {
    return bad(name, "media_base_url", err,
               "is required: the object store cannot presign a URL the platform could fetch");
  }
  return ain_objstore_presign_get(objects, key, ttl_s, out, cap, err);
}

void ain_channel_utf8_copy(char *dst, size_t cap, const char *s) {
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

int ain_channel_http(const ain_http_req_t *req, ain_http_resp_t *resp, char *transport,
                     size_t cap, ain_err_t *err) {
  ain_http_t *h = ain_http_new();
  if (h == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  transport[0] = '\0';
  int rc = ain_http_do(h, req, resp, err);
  ain_http_free(h);
  if (rc == AIN_EHTTP) { /* no answer: the caller decides whether a retry is safe */
    snprintf(transport, cap, "%s", err->msg);
    ain_err_clear(err);
    resp->status = 0;
    if ((resp->body = calloc(1, 1)) == NULL) {
      return ain_err_set(err, AIN_ENOMEM, "out of memory");
    }
    rc = 0;
  }
  return rc;
}

void ain_channel_sleep_ms(int64_t ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void ain_channel_backoff(int64_t base_ms, int attempt) {
  int64_t ms = base_ms;
  for (int i = 0; i < attempt && ms < 30000; i++) {
    ms *= 2;
  }
  ain_channel_sleep_ms(ms < 30000 ? ms : 30000);
}

int ain_channel_metric_count(const cJSON *obj, const char *key, int64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = -1;
  if (v == NULL || cJSON_IsNull(v)) {
    return 0;
  }
  if (cJSON_IsNumber(v)) {
    /* below 2^53 a double holds every integer: a count past it is no count we can trust */
    if (v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != floor(v->valuedouble)) {
      return -1;
    }
    *out = (int64_t)v->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(v)) {
    return -1;
  }
  size_t n = strlen(v->valuestring);
  if (n == 0 || n > 18 || strspn(v->valuestring, "0123456789") != n) {
    return -1;
  }
  *out = (int64_t)strtoll(v->valuestring, NULL, 10);
  return 0;
}

/* ---- checks -------------------------------------------------------------------------------- */

static int bad(const char *name, const char *key, ain_err_t *err, const char *what) {
  char field[160];
  snprintf(field, sizeof field, "channels.%s.%s", name, key);
  return ain_err_field(err, AIN_ECONFIG, field, "'%s' %s", field, what);
}

int ain_channel_check_keys(const char *name, const cJSON *opts, const char *const *keys,
                           ain_err_t *err) {
  static const char *const shared[] = {"kind", "account", "max_duration_ms", "safe_area", "quota",
                                       NULL};
  const cJSON *it;
  cJSON_ArrayForEach(it, opts) {
    int known = 0;
    for (size_t i = 0; shared[i] != NULL && !known; i++) {
      known = strcmp(it->string, shared[i]) == 0;
    }
    for (size_t i = 0; keys != NULL && keys[i] != NULL && !known; i++) {
      known = strcmp(it->string, keys[i]) == 0;
    }
    if (!known) {
      return bad(name, it->string, err, "is not a key of this channel's kind");
    }
  }
  return 0;
}

int ain_channel_check_str(const char *name, const cJSON *opts, const char *key, int required,
                          size_t max_len, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  if (v == NULL) {
    return required ? bad(name, key, err, "is required") : 0;
  }
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) > max_len) {
    char what[96];
    snprintf(what, sizeof what, "must be a string of 1 to %zu bytes", max_len);
    return bad(name, key, err, what);
  }
  for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      return bad(name, key, err, "must not hold control characters");
    }
  }
  return 0;
}

int ain_channel_check_url(const char *name, const cJSON *opts, const char *key, int required,
                          ain_err_t *err) {
  int rc = ain_channel_check_str(name, opts, key, required, 1024, err);
  const char *u = ain_channel_opt_str(opts, key, NULL);
  if (rc != 0 || u == NULL) {
    return rc;
  }
  size_t scheme = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
  size_t n = strlen(u);
  if (scheme == 0 || n <= scheme || strpbrk(u, " ?#") != NULL || u[n - 1] == '/') {
    return bad(name, key, err,
               "must be an http:// or https:// base URL without spaces, query or trailing slash");
  }
  return 0;
}

int ain_channel_check_endpoint(const char *name, const cJSON *opts, const char *key, int required,
                               ain_err_t *err) {
  int rc = ain_channel_check_str(name, opts, key, required, 1024, err);
  const char *u = ain_channel_opt_str(opts, key, NULL);
  if (rc != 0 || u == NULL) {
    return rc;
  }
  size_t scheme = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
  if (scheme == 0 || strlen(u) <= scheme || strpbrk(u, " #") != NULL || u[scheme] == '/') {
    return bad(name, key, err, "must be an http:// or https:// URL with a host and no spaces");
  }
  return 0;
}

int ain_channel_check_secret(const char *name, const cJSON *opts, const char *key, int required,
                             ain_err_t *err) {
  int rc = ain_channel_check_str(name, opts, key, required, 64, err);
  const char *s = ain_channel_opt_str(opts, key, NULL);
  if (rc == 0 && s != NULL && !ain_secret_name_ok(s, strlen(s))) {
    return bad(name, key, err,
               "must name a secret (1 to 64 of A-Z a-z 0-9 _, and - . after the first)");
  }
  return rc;
}

int ain_channel_check_int(const char *name, const cJSON *opts, const char *key, int64_t min,
                          int64_t max, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  if (v == NULL) {
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
      v->valuedouble < (double)min || v->valuedouble > (double)max) {
    char what[96];
    snprintf(what, sizeof what, "must be an integer from %lld to %lld", (long long)min,
             (long long)max);
    return bad(name, key, err, what);
  }
  return 0;
}

int ain_channel_check_bool(const char *name, const cJSON *opts, const char *key, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  return v == NULL || cJSON_IsBool(v) ? 0 : bad(name, key, err, "must be true or false");
}

int ain_channel_check_enum(const char *name, const cJSON *opts, const char *key,
                           const char *const *values, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  if (v == NULL) {
    return 0;
  }
  for (size_t i = 0; cJSON_IsString(v) && values[i] != NULL; i++) {
    if (strcmp(v->valuestring, values[i]) == 0) {
      return 0;
    }
  }
  char what[256];
  size_t off = (size_t)snprintf(what, sizeof what, "must be one of");
  for (size_t i = 0; values[i] != NULL && off < sizeof what; i++) {
    off += (size_t)snprintf(what + off, sizeof what - off, "%s %s", i ? "," : "", values[i]);
  }
  return bad(name, key, err, what);
}

const char *ain_channel_opt_str(const cJSON *opts, const char *key, const char *def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  return cJSON_IsString(v) ? v->valuestring : def;
}

int64_t ain_channel_opt_int(const cJSON *opts, const char *key, int64_t def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

int ain_channel_opt_bool(const cJSON *opts, const char *key, int def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
  return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}
