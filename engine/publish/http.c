/* The channels' blocking HTTP client (http.h): libcurl easy, one handle per channel so keep-alive
 * connections are reused, a file range streamed through the read callback with pread (memory is
 * libcurl's upload buffer whatever the range), headers read as they arrive.
 * Relies on: libcurl, core/err.h. */
#include "publish/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct ain_http {
  CURL *curl;
};

typedef struct {
  const ain_http_req_t *req;
  ain_http_resp_t *resp;
  uint64_t pos;   /* body bytes handed out */
  int read_errno; /* a pread failure */
} xfer_t;

ain_http_t *ain_http_new(void) {
  ain_http_t *h = calloc(1, sizeof *h);
  if (h == NULL) {
    return NULL;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT); /* once per process in effect; thread-safe since 7.84 */
  h->curl = curl_easy_init();
  if (h->curl == NULL) {
    free(h);
    return NULL;
  }
  return h;
}

void ain_http_free(ain_http_t *h) {
  if (h != NULL) {
    curl_easy_cleanup(h->curl);
    free(h);
  }
}

void ain_http_resp_free(ain_http_resp_t *resp) {
  free(resp->body);
  memset(resp, 0, sizeof *resp);
}

void ain_http_url_for_log(const char *url, char *out, size_t cap) {
  size_t n = strcspn(url != NULL ? url : "", "?#");
  snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), url != NULL ? url : "");
}

static size_t on_body(char *p, size_t size, size_t n, void *data) {
  xfer_t *x = data;
  ain_http_resp_t *r = x->resp;
  size_t len = size * n, keep = len;
  if (r->body_len + keep > AIN_HTTP_BODY_MAX) {
    keep = AIN_HTTP_BODY_MAX - r->body_len;
  }
  if (keep > 0) {
    char *g = realloc(r->body, r->body_len + keep + 1);
    if (g == NULL) {
      return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    memcpy(g + r->body_len, p, keep);
    r->body = g;
    r->body_len += keep;
    r->body[r->body_len] = '\0';
  }
  return len;
}

/* Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
static int64_t retry_after(const char *v) {
  char *end;
  long long s = strtoll(v, &end, 10);
  if (end != v && (*end == '\0' || isspace((unsigned char)*end))) {
    return s < 0 ? 0 : s * 1000;
  }
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL) {
    return -1;
  }
  int64_t when = (int64_t)timegm(&tm), now = (int64_t)time(NULL);
  return when > now ? (when - now) * 1000 : 0;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n) {
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) {
    n--;
  }
  snprintf(dst, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
}

static size_t on_header(char *p, size_t size, size_t n, void *data) {
  xfer_t *x = data;
  ain_http_resp_t *r = x->resp;
  size_t len = size * n;
  if (len > 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
    r->location[0] = r->range[0] = r->content_type[0] = '\0';
    r->retry_after_ms = -1;
    return len;
  }
  const char *colon = memchr(p, ':', len);
  if (colon == NULL) {
    return len;
  }
  size_t nlen = (size_t)(colon - p);
  const char *v = colon + 1;
  while (v < p + len && *v == ' ') {
    v++;
  }
  size_t vlen = (size_t)(p + len - v);
  if (nlen == 8 && strncasecmp(p, "Location", 8) == 0) {
    copy_value(r->location, sizeof r->location, v, vlen);
  } else if (nlen == 5 && strncasecmp(p, "Range", 5) == 0) {
    copy_value(r->range, sizeof r->range, v, vlen);
  } else if (nlen == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
    copy_value(r->content_type, sizeof r->content_type, v, vlen);
  } else if (nlen == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
    char tmp[64];
    copy_value(tmp, sizeof tmp, v, vlen);
    r->retry_after_ms = retry_after(tmp);
  }
  return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *data) {
  xfer_t *x = data;
  const ain_http_req_t *q = x->req;
  uint64_t left = q->body_length - x->pos;
  size_t want = size * n < left ? size * n : (size_t)left;
  if (want == 0) {
    return 0;
  }
  ssize_t got;
  do {
    got = pread(q->body_fd, buf, want, (off_t)(q->body_offset + x->pos));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) { /* a short file is as bad as an unreadable one: the length was promised */
    x->read_errno = got < 0 ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  x->pos += (uint64_t)got;
  x->resp->sent = x->pos;
  return (size_t)got;
}

/* Rewinds a streamed body (libcurl resends after a redirect or an auth round). */
static int on_seek(void *data, curl_off_t offset, int origin) {
  xfer_t *x = data;
  if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body_length) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  x->pos = (uint64_t)offset;
  return CURL_SEEKFUNC_OK;
}

int ain_http_do(ain_http_t *h, const ain_http_req_t *req, ain_http_resp_t *resp, ain_err_t *err) {
  memset(resp, 0, sizeof *resp);
  resp->retry_after_ms = -1;
  char where[512];
  ain_http_url_for_log(req->url, where, sizeof where);
  CURL *c = h->curl;
  curl_easy_reset(c);
  struct curl_slist *hl = NULL, *g;
  int rc = 0;
  char auth[8192];
  for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
    if ((g = curl_slist_append(hl, req->headers[i])) == NULL) {
      goto nomem;
    }
    hl = g;
  }
  if (req->bearer != NULL) {
    if (snprintf(auth, sizeof auth, "Authorization: Bearer %s", req->bearer) >= (int)sizeof auth) {
      rc = ain_err_set(err, AIN_EINVAL, "%s %s: access token too long", req->method, where);
      goto done;
    }
    g = curl_slist_append(hl, auth);
    memset(auth, 0, sizeof auth); /* the slist keeps its own copy */
    if (g == NULL) {
      goto nomem;
    }
    hl = g;
  }
  /* A PUT/POST body of our own: no "Expect: 100-continue" round trip per chunk. */
  if ((g = curl_slist_append(hl, "Expect:")) == NULL) {
    goto nomem;
  }
  hl = g;
  xfer_t x = {.req = req, .resp = resp};
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (req->timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
  }
  if (req->body_fd >= 0 && req->body == NULL) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L); /* PUT by default; the method below overrides */
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &x);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_length);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024L);
  } else if (req->body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  } else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
  }
  if (strcmp(req->method, "GET") != 0) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  }
  CURLcode cc = curl_easy_perform(c);
  if (x.read_errno != 0) {
    rc = ain_err_set(err, AIN_EIO, "%s %s: reading the upload: %s", req->method, where,
                     strerror(x.read_errno));
    goto done;
  }
  if (cc != CURLE_OK) {
    rc = ain_err_set(err, AIN_EHTTP, "%s %s: %s", req->method, where, curl_easy_strerror(cc));
    goto done;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  if (resp->body == NULL && (resp->body = calloc(1, 1)) == NULL) {
    goto nomem;
  }
done:
  curl_slist_free_all(hl);
  if (rc != 0) {
    ain_http_resp_free(resp);
    resp->retry_after_ms = -1;
  }
  return rc;
nomem:
  rc = ain_err_set(err, AIN_ENOMEM, "out of memory");
  goto done;
}
