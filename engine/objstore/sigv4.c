/* SigV4 canonical request, string to sign, signing key and presigned URLs (see sigv4.h for why
 * curl cannot do the presigning). Follows AWS's "Create a signed request" steps literally so each
 * intermediate string can be compared with the published test vectors.
 * Relies on: OpenSSL (HMAC-SHA256, SHA-256). */
#include "objstore/sigv4.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HEADERS 32
#define MAX_PAIRS 64

typedef struct {
  char *p;
  size_t len, cap;
  int over;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
  if (b->over || b->len + n + 1 > b->cap) {
    b->over = 1;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s) {
  put(b, s, strlen(s));
}

static void hex(const unsigned char *d, size_t n, char *out) {
  static const char x[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = x[d[i] >> 4];
    out[2 * i + 1] = x[d[i] & 15];
  }
  out[2 * n] = '\0';
}

static void sha256_hex(const char *s, size_t n, char out[65]) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)s, n, d);
  hex(d, sizeof d, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32]) {
  unsigned int olen = 32;
  HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &olen);
}

int ain__sigv4_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap) {
  static const char x[] = "0123456789ABCDEF";
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int keep = isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
               (keep_slash && c == '/');
    if (o + (keep ? 1 : 3) + 1 > cap) {
      return -1;
    }
    if (keep) {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = x[c >> 4];
      out[o++] = x[c & 15];
    }
  }
  if (o + 1 > cap) {
    return -1;
  }
  out[o] = '\0';
  return 0;
}

typedef struct {
  char name[64];
  const char *value; /* trimmed on output */
} hdr_t;

static int hdr_cmp(const void *a, const void *b) {
  return strcmp(((const hdr_t *)a)->name, ((const hdr_t *)b)->name);
}

typedef struct {
  char *name, *value; /* encoded */
} pair_t;

static int pair_cmp(const void *a, const void *b) {
  const pair_t *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c != 0 ? c : strcmp(x->value, y->value);
}

/* Appends the canonical query of raw "a=1&b=2" to b: each side encoded, pairs sorted. */
static int canonical_query(buf_t *b, const char *q) {
  pair_t pairs[MAX_PAIRS];
  size_t n = 0;
  int rc = 0;
  const char *p = q;
  while (q != NULL && *p != '\0') {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (n == MAX_PAIRS) {
      rc = -1;
      break;
    }
    const char *eq = memchr(p, '=', len);
    size_t nlen = eq ? (size_t)(eq - p) : len;
    size_t vlen = eq ? len - nlen - 1 : 0;
    pairs[n].name = malloc(nlen * 3 + 1);
    pairs[n].value = malloc(vlen * 3 + 1);
    if (pairs[n].name == NULL || pairs[n].value == NULL) {
      free(pairs[n].name);
      free(pairs[n].value);
      rc = -1;
      break;
    }
    ain__sigv4_uri_encode(p, nlen, 0, pairs[n].name, nlen * 3 + 1);
    ain__sigv4_uri_encode(eq ? eq + 1 : "", vlen, 0, pairs[n].value, vlen * 3 + 1);
    n++;
    p += len + (end ? 1 : 0);
  }
  if (rc == 0) {
    qsort(pairs, n, sizeof pairs[0], pair_cmp);
    for (size_t i = 0; i < n; i++) {
      if (i > 0) {
        puts_(b, "&");
      }
      puts_(b, pairs[i].name);
      puts_(b, "=");
      puts_(b, pairs[i].value);
    }
  }
  for (size_t i = 0; i < n; i++) {
    free(pairs[i].name);
    free(pairs[i].value);
  }
  return rc;
}

/* A header value as signed: leading and trailing spaces dropped, inner runs of spaces as one. */
static void put_trimmed(buf_t *b, const char *v) {
  while (*v == ' ' || *v == '\t') {
    v++;
  }
  size_t n = strlen(v);
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
    n--;
  }
  for (size_t i = 0; i < n; i++) {
    if ((v[i] == ' ' || v[i] == '\t') && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
      continue;
    }
    put(b, v[i] == '\t' ? " " : v + i, 1);
  }
}

int ain__sigv4_sign(const ain__sigv4_req_t *r, const char *secret_key, char *canonical,
                    size_t canonical_cap, char *to_sign, size_t to_sign_cap, char *signed_headers,
                    size_t signed_headers_cap, char sig_hex[65]) {
  if (r->nheaders > MAX_HEADERS || strlen(r->amz_date) != 16) {
    return -1;
  }
  hdr_t hs[MAX_HEADERS];
  for (size_t i = 0; i < r->nheaders; i++) {
    size_t n = strlen(r->headers[i].name);
    if (n >= sizeof hs[i].name) {
      return -1;
    }
    for (size_t j = 0; j <= n; j++) {
      hs[i].name[j] = (char)tolower((unsigned char)r->headers[i].name[j]);
    }
    hs[i].value = r->headers[i].value;
  }
  qsort(hs, r->nheaders, sizeof hs[0], hdr_cmp);

  buf_t sh = {signed_headers, 0, signed_headers_cap, 0};
  if (signed_headers_cap > 0) {
    signed_headers[0] = '\0';
  }
  for (size_t i = 0; i < r->nheaders; i++) {
    if (i > 0) {
      puts_(&sh, ";");
    }
    puts_(&sh, hs[i].name);
  }

  buf_t c = {canonical, 0, canonical_cap, 0};
  if (canonical_cap > 0) {
    canonical[0] = '\0';
  }
  puts_(&c, r->method);
  puts_(&c, "\n");
  size_t plen = strlen(r->path);
  /* once: 3 bytes per byte at most; twice: 9 */
  char *enc = malloc(plen * 12 + 2), *enc2 = NULL;
  if (enc == NULL) {
    return -1;
  }
  ain__sigv4_uri_encode(r->path, plen, 1, enc, plen * 3 + 1);
  if (!r->s3_path) {
    enc2 = enc + plen * 3 + 1;
    ain__sigv4_uri_encode(enc, strlen(enc), 1, enc2, plen * 9 + 1);
  }
  puts_(&c, enc2 ? enc2 : enc);
  free(enc);
  puts_(&c, "\n");
  if (canonical_query(&c, r->query) != 0) {
    return -1;
  }
  puts_(&c, "\n");
  for (size_t i = 0; i < r->nheaders; i++) {
    puts_(&c, hs[i].name);
    puts_(&c, ":");
    put_trimmed(&c, hs[i].value);
    puts_(&c, "\n");
  }
  puts_(&c, "\n");
  puts_(&c, signed_headers);
  puts_(&c, "\n");
  puts_(&c, r->payload_hash);

  char scope[160], creq_hash[65];
  snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", r->amz_date, r->region, r->service);
  buf_t t = {to_sign, 0, to_sign_cap, 0};
  if (to_sign_cap > 0) {
    to_sign[0] = '\0';
  }
  sha256_hex(canonical, c.len, creq_hash);
  puts_(&t, "AWS4-HMAC-SHA256\n");
  puts_(&t, r->amz_date);
  puts_(&t, "\n");
  puts_(&t, scope);
  puts_(&t, "\n");
  puts_(&t, creq_hash);
  if (c.over || t.over || sh.over) {
    return -1;
  }

  /* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
  size_t slen = strlen(secret_key);
  char *k0 = malloc(slen + 5);
  if (k0 == NULL) {
    return -1;
  }
  memcpy(k0, "AWS4", 4);
  memcpy(k0 + 4, secret_key, slen + 1);
  char date[9];
  memcpy(date, r->amz_date, 8);
  date[8] = '\0';
  unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
  hmac(k0, slen + 4, date, k1);
  OPENSSL_cleanse(k0, slen + 4);
  free(k0);
  hmac(k1, 32, r->region, k2);
  hmac(k2, 32, r->service, k3);
  hmac(k3, 32, "aws4_request", k4);
  hmac(k4, 32, to_sign, sig);
  OPENSSL_cleanse(k4, sizeof k4);
  hex(sig, sizeof sig, sig_hex);
  return 0;
}

int ain__sigv4_presign_get(const char *base, const char *path, const char *access_key,
                           const char *secret_key, const char *region, int64_t now,
                           int64_t ttl_s, char *out, size_t cap) {
  if (ttl_s < 1 || ttl_s > 604800 || now <= 0) {
    return -1;
  }
  const char *host = strstr(base, "://");
  if (host == NULL || host[3] == '\0') {
    return -1;
  }
  host += 3;
  char amz_date[17];
  time_t t = (time_t)now;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
  char query[1024];
  int n = snprintf(query, sizeof query,
                   "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s/%.8s/%s/s3/aws4_request"
                   "&X-Amz-Date=%s&X-Amz-Expires=%lld&X-Amz-SignedHeaders=host",
                   access_key, amz_date, region, amz_date, (long long)ttl_s);
  if (n < 0 || (size_t)n >= sizeof query) {
    return -1;
  }
  ain__sigv4_header_t h = {"host", host};
  ain__sigv4_req_t r = {.method = "GET",
                        .path = path,
                        .query = query,
                        .headers = &h,
                        .nheaders = 1,
                        .payload_hash = "UNSIGNED-PAYLOAD",
                        .amz_date = amz_date,
                        .region = region,
                        .service = "s3",
                        .s3_path = 1};
  size_t plen = strlen(path);
  size_t ccap = plen * 3 + 4096;
  char *canonical = malloc(ccap);
  char *encpath = malloc(plen * 3 + 1);
  char to_sign[512], signed_headers[16], sig[65];
  int rc = -1;
  if (canonical == NULL || encpath == NULL) {
    goto done;
  }
  if (ain__sigv4_sign(&r, secret_key, canonical, ccap, to_sign, sizeof to_sign, signed_headers,
                      sizeof signed_headers, sig) != 0) {
    goto done;
  }
  /* The query as signed is the canonical request's second line after the path. */
  const char *q = strchr(canonical, '\n');
  q = q ? strchr(q + 1, '\n') : NULL;
  const char *qend = q ? strchr(q + 1, '\n') : NULL;
  if (qend == NULL) {
    goto done;
  }
  ain__sigv4_uri_encode(path, plen, 1, encpath, plen * 3 + 1);
  n = snprintf(out, cap, "%s%s?%.*s&X-Amz-Signature=%s", base, encpath, (int)(qend - q - 1), q + 1,
               sig);
  rc = (n < 0 || (size_t)n >= cap) ? -1 : 0;
done:
  free(canonical);
  free(encpath);
  return rc;
}
