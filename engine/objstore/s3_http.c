/* One S3 exchange over libcurl (s3_internal.h): URL from the key, SigV4 signed by curl itself
 * (CURLOPT_AWS_SIGV4 + CURLOPT_USERPWD), the body streamed from a file by a read callback and to a
 * file or a bounded buffer by a write callback, so memory stays flat whatever the object's size;
 * retries with backoff after transport errors, truncated bodies, 429 and 5xx.
 * Runs on the calling thread (the libuv pool): one easy handle per request, CURLOPT_NOSIGNAL.
 * Relies on: libcurl, OpenSSL EVP, objstore/sigv4.h (URI encoding), core/err. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "objstore/s3_internal.h"
#include "objstore/sigv4.h"

void ain__s3_req_init(ain__s3_req_t *r, const char *method, const char *key) {
  memset(r, 0, sizeof *r);
  r->method = method;
  r->key = key;
  r->up_fd = -1;
  r->down_fd = -1;
}

typedef struct {
  ain__s3_req_t *r;
  CURL *h;
  uint64_t up_pos;
  int sink_err; /* errno of a failed write to down_fd */
} xfer_t;

static size_t read_cb(char *buf, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  ain__s3_req_t *r = x->r;
  size_t want = size * n;
  uint64_t total = r->up_mem ? r->up_mem_len : r->up_len;
  if (x->up_pos >= total) {
    return 0;
  }
  if (want > total - x->up_pos) {
    want = (size_t)(total - x->up_pos);
  }
  if (r->up_mem != NULL) {
    memcpy(buf, r->up_mem + x->up_pos, want);
    x->up_pos += want;
    return want;
  }
  ssize_t got = pread(r->up_fd, buf, want, (off_t)(r->up_off + x->up_pos));
  if (got <= 0) {
    /* The file shrank or failed under us: abort rather than send a short body. */
    return CURL_READFUNC_ABORT;
  }
  if (r->up_md5 != NULL) {
    EVP_DigestUpdate(r->up_md5, buf, (size_t)got);
  }
  x->up_pos += (uint64_t)got;
  return (size_t)got;
}

static int seek_cb(void *ud, curl_off_t off, int origin) {
  xfer_t *x = ud;
  if (origin != SEEK_SET || off < 0) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  if (x->r->up_md5 != NULL && off != 0) {
    return CURL_SEEKFUNC_CANTSEEK; /* the running MD5 can only start over */
  }
  if (x->r->up_md5 != NULL) {
    EVP_DigestInit_ex(x->r->up_md5, EVP_md5(), NULL);
  }
  x->up_pos = (uint64_t)off;
  return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  ain__s3_req_t *r = x->r;
  size_t len = size * n;
  long code = 0;
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300) {
    size_t room = sizeof r->errbody - 1 - r->errlen;
    size_t k = len < room ? len : room;
    memcpy(r->errbody + r->errlen, data, k);
    r->errlen += k;
    r->errbody[r->errlen] = '\0';
    return len;
  }
  if (r->down_sha != NULL) {
    EVP_DigestUpdate(r->down_sha, data, len);
  }
  if (r->down_fd >= 0) {
    size_t off = 0;
    while (off < len) {
      ssize_t w = write(r->down_fd, data + off, len - off);
      if (w < 0) {
        if (errno == EINTR) {
          continue;
        }
        x->sink_err = errno;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
      }
      off += (size_t)w;
    }
  } else if (r->down_buf != NULL) {
    size_t room = r->down_cap - r->down_len;
    size_t k = len < room ? len : room;
    memcpy(r->down_buf + r->down_len, data, k);
    r->down_len += k;
    if (k < len) {
      r->down_over = 1;
    }
  }
  return len;
}

/* Copies a header's value (trimmed, quotes kept) into out when line is "name: value". */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':') {
    return 0;
  }
  const char *v = line + nl + 1;
  size_t vl = len - nl - 1;
  while (vl > 0 && (*v == ' ' || *v == '\t')) {
    v++, vl--;
  }
  while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) {
    vl--;
  }
  if (vl >= cap) {
    vl = cap - 1;
  }
  memcpy(out, v, vl);
  out[vl] = '\0';
  return 1;
}

static size_t header_cb(char *line, size_t size, size_t n, void *ud) {
  ain__s3_req_t *r = ((xfer_t *)ud)->r;
  size_t len = size * n;
  if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
    /* A new response (after 100 Continue): forget the previous one's headers. */
    r->etag[0] = r->checksum[0] = r->storage_class[0] = r->content_type[0] = '\0';
    return len;
  }
  if (!header_value(line, len, "etag", r->etag, sizeof r->etag) &&
      !header_value(line, len, "x-amz-checksum-sha256", r->checksum, sizeof r->checksum) &&
      !header_value(line, len, "x-amz-storage-class", r->storage_class, sizeof r->storage_class)) {
    header_value(line, len, "content-type", r->content_type, sizeof r->content_type);
  }
  return len;
}

/* The request's URL: base + prefix + encoded key + "?" + query. */
static int build_url(ain__s3_t *s, const ain__s3_req_t *r, char **out) {
  const char *key = r->key ? r->key : "";
  size_t klen = strlen(key);
  size_t cap = strlen(s->base_url) + strlen(s->prefix) + klen * 3 + 2 +
               (r->query ? strlen(r->query) : 0) + 1;
  char *enc = malloc(klen * 3 + 1);
  char *url = malloc(cap);
  if (enc == NULL || url == NULL) {
    free(enc);
    free(url);
    return AIN_ENOMEM;
  }
  ain__sigv4_uri_encode(key, klen, 1, enc, klen * 3 + 1);
  /* The bucket itself in path style is "/bucket" (the prefix without its last '/'). */
  size_t plen = strlen(s->prefix);
  if (r->key == NULL && plen > 1) {
    plen--;
  }
  snprintf(url, cap, "%s%.*s%s%s%s", s->base_url, (int)plen, s->prefix, enc,
           r->query ? "?" : "", r->query ? r->query : "");
  free(enc);
  *out = url;
  return 0;
}

static int transient(CURLcode cc, long status) {
  if (cc != CURLE_OK) {
    /* Our own sink failing or our read aborting is not the network's fault. */
    return cc != CURLE_WRITE_ERROR && cc != CURLE_ABORTED_BY_CALLBACK &&
           cc != CURLE_READ_ERROR && cc != CURLE_OUT_OF_MEMORY && cc != CURLE_URL_MALFORMAT;
  }
  return status == 429 || status >= 500;
}

/* Sink back to empty before a retry. */
static int reset_sink(ain__s3_req_t *r) {
  r->down_len = 0;
  r->down_over = 0;
  r->errlen = 0;
  r->errbody[0] = '\0';
  if (r->down_fd >= 0 && (ftruncate(r->down_fd, 0) != 0 || lseek(r->down_fd, 0, SEEK_SET) != 0)) {
    return -1;
  }
  if (r->down_sha != NULL && EVP_DigestInit_ex(r->down_sha, EVP_sha256(), NULL) != 1) {
    return -1;
  }
  if (r->up_md5 != NULL && EVP_DigestInit_ex(r->up_md5, EVP_md5(), NULL) != 1) {
    return -1;
  }
  return 0;
}

int ain__s3_perform(ain__s3_t *s, ain__s3_req_t *r, const char *op, ain_err_t *err) {
  char *url = NULL;
  struct curl_slist *hl = NULL;
  CURL *h = NULL;
  int rc = build_url(s, r, &url);
  if (rc != 0) {
    return ain_err_set(err, rc, "s3 %s: no memory", op);
  }
  for (size_t i = 0; i < r->nheaders; i++) {
    struct curl_slist *n = curl_slist_append(hl, r->headers[i]);
    if (n == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "s3 %s: no memory", op);
      goto fail;
    }
    hl = n;
  }
  /* S3 wants the payload's hash on every request (s3rver refuses one without); curl 7.88 signs
   * the header's value as the payload hash instead of hashing a body it streams. */
  int has_sha = 0;
  for (size_t i = 0; i < r->nheaders; i++) {
    has_sha |= strncasecmp(r->headers[i], "x-amz-content-sha256:", 21) == 0;
  }
  if (!has_sha) {
    struct curl_slist *n = curl_slist_append(
        hl, (r->up_mem == NULL && r->up_fd < 0) || (r->up_mem != NULL && r->up_mem_len == 0)
                ? "x-amz-content-sha256: "
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                : "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (n == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "s3 %s: no memory", op);
      goto fail;
    }
    hl = n;
  }
  h = curl_easy_init();
  if (h == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "s3 %s: curl_easy_init failed", op);
    goto fail;
  }
  xfer_t x = {.r = r, .h = h};
  char curl_err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
  curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms < 10000 ? s->timeout_ms : 10000L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Larger buffers than curl's 64 KiB: fewer callbacks and syscalls per 100 MB object (memory
   * stays bounded: these are the only buffers a transfer has). */
  curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L << 10);
  if (strcmp(r->method, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (strcmp(r->method, "PUT") == 0) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t)(r->up_mem ? r->up_mem_len : r->up_len));
  } else if (strcmp(r->method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(r->up_mem ? r->up_mem_len : r->up_len));
  } else if (strcmp(r->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  }
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(h, CURLOPT_READDATA, &x);
  curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);

  CURLcode cc = CURLE_OK;
  for (int attempt = 0;; attempt++) {
    x.up_pos = 0;
    x.sink_err = 0;
    r->status = 0;
    curl_err[0] = '\0';
    if (reset_sink(r) != 0) {
      rc = ain_err_set(err, AIN_EIO, "s3 %s %s: resetting the download: %s", op,
                       r->key ? r->key : "", strerror(errno));
      goto fail;
    }
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (!transient(cc, r->status) || attempt >= s->retries) {
      break;
    }
    long ms = 200L << (attempt < 4 ? attempt : 4);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (cc != CURLE_OK) {
    if (x.sink_err != 0) {
      rc = ain_err_set(err, AIN_EIO, "s3 %s %s: writing the download: %s", op,
                       r->key ? r->key : "", strerror(x.sink_err));
    } else {
      rc = ain_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP,
                       "s3 %s %s: %s%s%s (after %d tr%s)", op, r->key ? r->key : "",
                       curl_easy_strerror(cc), curl_err[0] ? ": " : "", curl_err,
                       s->retries + 1, s->retries == 0 ? "y" : "ies");
    }
    goto fail;
  }
  curl_off_t cl = -1;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0) {
    r->content_length = (uint64_t)cl;
    r->have_length = 1;
  }
  curl_off_t ft = -1;
  if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft >= 0) {
    r->mtime = (int64_t)ft;
  }
  rc = 0;
fail:
  if (h != NULL) {
    curl_easy_cleanup(h);
  }
  curl_slist_free_all(hl);
  free(url);
  return rc;
}

int ain__s3_xml_tag(const char *xml, size_t len, const char *tag, char *out, size_t cap) {
  char open[64], close[64];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  const char *end = xml + len;
  size_t ol = strlen(open);
  for (const char *p = xml; p + ol <= end; p++) {
    if (memcmp(p, open, ol) != 0) {
      continue;
    }
    const char *v = p + ol;
    size_t cl = strlen(close);
    for (const char *q = v; q + cl <= end; q++) {
      if (memcmp(q, close, cl) == 0) {
        size_t n = (size_t)(q - v);
        if (n >= cap) {
          return -1;
        }
        memcpy(out, v, n);
        out[n] = '\0';
        return 0;
      }
    }
    return -1;
  }
  return -1;
}

int ain__s3_status_err(const ain__s3_req_t *r, const char *op, const char *key, ain_err_t *err) {
  char code[64] = "", msg[256] = "";
  ain__s3_xml_tag(r->errbody, r->errlen, "Code", code, sizeof code);
  ain__s3_xml_tag(r->errbody, r->errlen, "Message", msg, sizeof msg);
  if (r->status == 404) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key ? key : "");
  }
  return ain_err_field(err, AIN_EHTTP, "key", "s3 %s %s: HTTP %ld%s%s%s%s", op, key ? key : "",
                       r->status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

void ain__s3_b64_sha256(const unsigned char d[32], char out[45]) {
  EVP_EncodeBlock((unsigned char *)out, d, 32);
}

int ain__s3_unhex32(const char *hex, unsigned char out[32]) {
  for (int i = 0; i < 32; i++) {
    unsigned v = 0;
    for (int j = 0; j < 2; j++) {
      char c = hex[2 * i + j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) {
        return -1;
      }
      v = v * 16 + (unsigned)d;
    }
    out[i] = (unsigned char)v;
  }
  return 0;
}
