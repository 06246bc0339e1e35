/* One attempt of an http/rss/atom or jsonl source, on the thread pool: the request with libcurl's
 * easy interface (blocking here is the point: the pool thread waits, no loop does), conditional
 * headers from the last answer's validators, the body refused as soon as it passes max_bytes
 * (decompressed bytes: a gzip bomb stops at the cap too), then the parse (feed.h). A jsonl
 * source reads its file instead, unchanged when its mtime and size are.
 * Relies on: libcurl, core/secret.h, core/util.h, internal.h. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/secret.h"
#include "core/util.h"
#include "sources/internal.h"

typedef struct {
  char *etag, *lm;
} hdrs_t;

/* Keeps ETag and Last-Modified of the final answer (a redirect's are replaced). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  hdrs_t *h = ud;
  size_t len = size * nmemb;
  char **slot = NULL;
  size_t skip = 0;
  if (len > 5 && strncasecmp(data, "HTTP/", 5) == 0) {
    free(h->etag);
    free(h->lm);
    h->etag = h->lm = NULL;
  } else if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
    slot = &h->etag, skip = 5;
  } else if (len > 14 && strncasecmp(data, "last-modified:", 14) == 0) {
    slot = &h->lm, skip = 14;
  }
  if (slot != NULL) {
    const char *v = data + skip, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t')) {
      v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
      end--;
    }
    if (end > v && end - v < 512) {
      free(*slot);
      *slot = malloc((size_t)(end - v) + 1);
      if (*slot == NULL) {
        abort();
      }
      memcpy(*slot, v, (size_t)(end - v));
      (*slot)[end - v] = '\0';
    }
  }
  return len;
}

static void fail(ain__src_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ain__src_t *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->f_err, sizeof s->f_err, fmt, ap);
  va_end(ap);
  s->f_rc = AIN_EIO;
}

static void parse(ain__src_t *s, const char *body, size_t len) {
  ain_err_t err;
  ain_err_clear(&err);
  int rc;
  if (s->cfg->kind == AIN_SOURCE_HTTP) {
    rc = ain_feed_map_json(body, len, s->cfg, &s->f_out, &err);
  } else {
    rc = ain_feed_parse_xml(body, len, s->cfg->kind, s->cfg->name, &s->f_out, &err);
  }
  if (rc != 0) {
    snprintf(s->f_err, sizeof s->f_err, "bad %s document: %s", ain_source_kind_name(s->cfg->kind),
             err.msg);
    s->f_rc = rc;
  }
}

static void fetch_http(ain__src_t *s) {
  const ain_source_cfg_t *c = s->cfg;
  const ain_config_t *cfg = s->set->o.cfg;
  ain_capbuf_t body = {.max = (size_t)c->max_bytes};
  hdrs_t h = {0};
  struct curl_slist *hl = NULL;
  char *token = NULL, line[1200];
  size_t token_len = 0;
  CURL *e = curl_easy_init();
  if (e == NULL) {
    fail(s, "curl_easy_init failed");
    goto done;
  }
  if (c->secret != NULL) {
    ain_err_t err;
    ain_err_clear(&err);
    if (ain_secret_resolve(cfg->secrets_dir, c->secret, &token, &token_len, &err) != 0) {
      fail(s, "secret: %s", err.msg);
      goto done;
    }
    snprintf(line, sizeof line, "Authorization: Bearer %.*s", (int)token_len, token);
    hl = curl_slist_append(hl, line);
    memset(line, 0, sizeof line);
  }
  if (s->etag != NULL) {
    snprintf(line, sizeof line, "If-None-Match: %s", s->etag);
    hl = curl_slist_append(hl, line);
  }
  if (s->lm != NULL) {
    snprintf(line, sizeof line, "If-Modified-Since: %s", s->lm);
    hl = curl_slist_append(hl, line);
  }
  hl = curl_slist_append(hl, c->kind == AIN_SOURCE_HTTP
                                 ? "Accept: application/json"
                                 : "Accept: application/rss+xml, application/atom+xml, "
                                   "application/xml;q=0.9, text/xml;q=0.8");
  curl_easy_setopt(e, CURLOPT_URL, c->url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* a pool thread: no SIGALRM for DNS timeouts */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_ms < 5000 ? c->timeout_ms : 5000));
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_bytes);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "ain/" AIN_VERSION " (trend source)");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ain_capbuf_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
  CURLcode cc = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  if (body.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
    fail(s, "response larger than max_bytes (%lld bytes): refused", (long long)c->max_bytes);
    goto done;
  }
  if (cc == CURLE_PARTIAL_FILE) {
    fail(s, "truncated response: %s (HTTP %ld)", curl_easy_strerror(cc), status);
    goto done;
  }
  if (cc != CURLE_OK) {
    fail(s, "request failed: %s", curl_easy_strerror(cc));
    goto done;
  }
  if (status == 304) {
    s->f_not_modified = 1;
  } else if (status != 200) {
    fail(s, "HTTP %ld", status);
    goto done;
  } else {
    parse(s, body.p != NULL ? body.p : "", body.n);
  }
  if (s->f_rc == 0) {
    s->f_etag = h.etag;
    s->f_lm = h.lm;
    h.etag = h.lm = NULL;
  }
done:
  if (token != NULL) {
    ain_secret_free(token, token_len);
  }
  free(h.etag);
  free(h.lm);
  free(body.p);
  curl_slist_free_all(hl);
  if (e != NULL) {
    curl_easy_cleanup(e);
  }
}

/* A JSON Lines file: each line one record, checked like any other source's. */
static void fetch_file(ain__src_t *s) {
  struct stat sb;
  char stamp[64], *text = NULL;
  size_t len = 0;
  if (stat(s->cfg->path, &sb) != 0) {
    fail(s, "cannot read %s", s->cfg->path);
    return;
  }
  snprintf(stamp, sizeof stamp, "%lld.%09ld/%lld", (long long)sb.st_mtim.tv_sec,
           (long)sb.st_mtim.tv_nsec, (long long)sb.st_size);
  if (s->lm != NULL && strcmp(s->lm, stamp) == 0) {
    s->f_not_modified = 1;
    return;
  }
  if (sb.st_size > s->cfg->max_bytes) {
    fail(s, "file larger than max_bytes (%lld bytes): refused", (long long)s->cfg->max_bytes);
    return;
  }
  int rc = ain_read_file(s->cfg->path, &text, &len);
  if (rc != 0) {
    fail(s, "cannot read %s", s->cfg->path);
    return;
  }
  size_t bad_at;
  if (!ain_utf8_valid(text, len, &bad_at)) {
    snprintf(s->f_err, sizeof s->f_err, "not UTF-8 (byte %zu)", bad_at);
    s->f_rc = AIN_EINVAL;
    free(text);
    return;
  }
  s->f_out.items = cJSON_CreateArray();
  int lineno = 0;
  for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
    next = strchr(line, '\n');
    if (next != NULL) {
      *next++ = '\0';
    }
    lineno++;
    if (strspn(line, " \t\r") == strlen(line)) {
      continue;
    }
    cJSON *rec = cJSON_Parse(line);
    ain_err_t err;
    ain_err_clear(&err);
    if (rec == NULL) {
      ain_err_set(&err, AIN_EINVAL, "invalid JSON");
    } else if (ain_feed_check_record(rec, s->cfg->name, &err) == 0) {
      cJSON_AddItemToArray(s->f_out.items, rec);
      continue;
    }
    cJSON_Delete(rec);
    if (s->f_out.refused++ == 0) {
      snprintf(s->f_out.first_refusal, sizeof s->f_out.first_refusal, "line %d: %s", lineno,
               err.msg);
    }
  }
  free(text);
  s->f_lm = ain_strdup(stamp);
}

void ain__src_fetch(uv_work_t *w) {
  ain__src_t *s = w->data;
  s->f_rc = 0;
  s->f_err[0] = '\0';
  s->f_not_modified = 0;
  memset(&s->f_out, 0, sizeof s->f_out);
  s->f_etag = s->f_lm = NULL;
  if (s->cfg->kind == AIN_SOURCE_JSONL) {
    fetch_file(s);
  } else {
    fetch_http(s);
  }
}
