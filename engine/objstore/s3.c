/* S3 object store backend (objstore.h's vtab over the S3 REST API, docs/objstore.md).
 * put: one pass over the file computes SHA-256 (the key), the MD5 is taken as the bytes go out; an object already stored under
 * the key is not sent again; below the multipart threshold one streamed PUT carrying
 * x-amz-content-sha256 (S3 checks the body against it) and x-amz-checksum-sha256, and the answer
 * is checked against our hashes (the checksum S3 echoes, else the single-part ETag = MD5); above
 * it, s3_multipart.c. get_path: a verified local copy under cache_dir/objects/ (content-addressed,
 * so a cached copy never goes stale). read_range: from the cached copy if there is one, else a
 * ranged GET. presign_get: sigv4.c (curl signs only what it sends). set_class: copy in place with
 * x-amz-storage-class (tiering).
 * Thread-safe: no mutable state after open; each call makes its own curl handle.
 * Relies on: s3_http.c, s3_multipart.c, sigv4.c, libcurl, OpenSSL EVP, core/util. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "objstore/s3_internal.h"
#include "objstore/sigv4.h"

#define S3(s) ((ain__s3_t *)(s)->impl)

/* 1 and the hex hash (64 + NUL) when key is "sha256/ab/<62 hex>[.ext]". */
static int content_hash(const char *key, char hex[65]) {
  size_t n = strlen(key);
  if (n < 72 || strncmp(key, "sha256/", 7) != 0 || key[9] != '/' ||
      strspn(key + 7, "0123456789abcdef") != 2 || strspn(key + 10, "0123456789abcdef") != 62 ||
      (key[72] != '\0' && key[72] != '.')) {
    return 0;
  }
  memcpy(hex, key + 7, 2);
  memcpy(hex + 2, key + 10, 62);
  hex[64] = '\0';
  return 1;
}

static void to_hex(const unsigned char *d, size_t n, char *out) {
  static const char x[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = x[d[i] >> 4];
    out[2 * i + 1] = x[d[i] & 15];
  }
  out[2 * n] = '\0';
}

static const char *content_type(const char *ext) {
  static const char *const map[][2] = {
      {"mp4", "video/mp4"},   {"jpg", "image/jpeg"},     {"jpeg", "image/jpeg"},
      {"png", "image/png"},   {"wav", "audio/wav"},      {"json", "application/json"},
      {"txt", "text/plain"},  {"srt", "application/x-subrip"}, {"vtt", "text/vtt"}};
  for (size_t i = 0; ext != NULL && i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(ext, map[i][0]) == 0) {
      return map[i][1];
    }
  }
  return "application/octet-stream";
}

/* The file's SHA-256 (its key). The MD5 a single-part ETag is checked against is taken while
 * the bytes go out (s3_http.c), and a multipart upload's when it is needed: one pass here, not
 * two, is what keeps a PUT near curl's own speed. */
static int hash_file(int fd, const char *path, char sha_hex[65], unsigned char sha[32],
                     ain_err_t *err) {
  EVP_MD_CTX *a = EVP_MD_CTX_new();
  enum { BUF = 1 << 20 };
  unsigned char *buf = malloc(BUF);
  int rc = 0;
  if (a == NULL || buf == NULL || EVP_DigestInit_ex(a, EVP_sha256(), NULL) != 1) {
    rc = ain_err_set(err, AIN_ENOMEM, "s3 put: no memory");
    goto done;
  }
  for (;;) {
    ssize_t n = read(fd, buf, BUF);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      rc = ain_err_field(err, AIN_EIO, "src_path", "s3 put: read %s: %s", path, strerror(errno));
      goto done;
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(a, buf, (size_t)n);
  }
  EVP_DigestFinal_ex(a, sha, NULL);
  to_hex(sha, 32, sha_hex);
done:
  free(buf);
  EVP_MD_CTX_free(a);
  return rc;
}

/* MD5 hex of the whole file (a multipart ETag check against servers that give the file's MD5). */
static int md5_file(int fd, char md5_hex[33], ain_err_t *err) {
  EVP_MD_CTX *a = EVP_MD_CTX_new();
  unsigned char buf[1 << 16], d[16];
  int rc = 0;
  if (a == NULL || EVP_DigestInit_ex(a, EVP_md5(), NULL) != 1) {
    EVP_MD_CTX_free(a);
    return ain_err_set(err, AIN_ENOMEM, "s3 put: digest init failed");
  }
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      rc = ain_err_set(err, AIN_EIO, "s3 put: read: %s", strerror(errno));
      break;
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(a, buf, (size_t)n);
    off += n;
  }
  EVP_DigestFinal_ex(a, d, NULL);
  EVP_MD_CTX_free(a);
  to_hex(d, 16, md5_hex);
  return rc;
}

/* HEAD key: 1 present (r filled), 0 absent, or a negative AIN_E*. */
static int head(ain__s3_t *s, const char *key, ain__s3_req_t *r, const char *extra_header,
                ain_err_t *err) {
  ain__s3_req_init(r, "HEAD", key);
  if (extra_header != NULL) {
    r->headers[r->nheaders++] = extra_header;
  }
  int rc = ain__s3_perform(s, r, "HEAD", err);
  if (rc != 0) {
    return rc;
  }
  if (r->status == 404) {
    return 0;
  }
  if (r->status < 200 || r->status >= 300) {
    return ain__s3_status_err(r, "HEAD", key, err);
  }
  return 1;
}

/* Strips the quotes S3 puts around an ETag. */
static void etag_bare(const char *etag, char *out, size_t cap) {
  size_t n = strlen(etag);
  if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
    etag++, n -= 2;
  }
  snprintf(out, cap, "%.*s", (int)n, etag);
}

static int put_single(ain__s3_t *s, int fd, uint64_t size, const char *sha_hex,
                      const unsigned char sha[32], const char *key, const char *ext,
                      ain_err_t *err) {
  char h_sha[100], h_sum[100], h_type[160], b64[45];
  ain__s3_b64_sha256(sha, b64);
  snprintf(h_sha, sizeof h_sha, "x-amz-content-sha256: %s", sha_hex);
  snprintf(h_sum, sizeof h_sum, "x-amz-checksum-sha256: %s", b64);
  snprintf(h_type, sizeof h_type, "Content-Type: %s", content_type(ext));
  ain__s3_req_t r;
  ain__s3_req_init(&r, "PUT", key);
  r.headers[r.nheaders++] = h_sha;
  r.headers[r.nheaders++] = h_sum;
  r.headers[r.nheaders++] = h_type;
  r.up_fd = fd;
  r.up_len = size;
  r.up_md5 = EVP_MD_CTX_new();
  if (r.up_md5 == NULL || EVP_DigestInit_ex(r.up_md5, EVP_md5(), NULL) != 1) {
    EVP_MD_CTX_free(r.up_md5);
    return ain_err_set(err, AIN_ENOMEM, "s3 put: digest init failed");
  }
  int rc = ain__s3_perform(s, &r, "PUT", err);
  unsigned char md5[16];
  char md5_hex[33];
  EVP_DigestFinal_ex(r.up_md5, md5, NULL);
  EVP_MD_CTX_free(r.up_md5);
  to_hex(md5, 16, md5_hex);
  if (rc != 0) {
    return rc;
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, "PUT", key, err);
  }
  /* The server's view of what it stored, against ours. */
  char etag[96];
  etag_bare(r.etag, etag, sizeof etag);
  const char *bad = NULL;
  if (r.checksum[0] != '\0') {
    bad = strcmp(r.checksum, b64) != 0 ? "x-amz-checksum-sha256" : NULL;
  } else if (etag[0] != '\0') {
    bad = strcmp(etag, md5_hex) != 0 ? "ETag (MD5)" : NULL;
  } else {
    bad = "no ETag or checksum in the answer";
  }
  if (bad != NULL) {
    ain__s3_req_t d;
    ain_err_t derr = {0};
    ain__s3_req_init(&d, "DELETE", key);
    ain__s3_perform(s, &d, "DELETE", &derr); /* a wrong object must not stand under this key */
    return ain_err_field(err, AIN_EIO, "key", "s3 PUT %s: the server's %s does not match the file "
                         "(ours: sha256 %s, md5 %s; ETag %s, checksum %s)",
                         key, bad, sha_hex, md5_hex, etag, r.checksum[0] ? r.checksum : "-");
  }
  return 0;
}

static int s3_put_file(ain_objstore_t *os, const char *src_path, const char *ext, char *key_out,
                       size_t cap, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  int fd = open(src_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ain_err_field(err, errno == ENOENT ? AIN_ENOTFOUND : AIN_EIO, "src_path",
                         "s3 put: open %s: %s", src_path, strerror(errno));
  }
  int rc = 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = ain_err_field(err, AIN_EINVAL, "src_path", "s3 put: %s is not a regular file", src_path);
    goto done;
  }
  char sha_hex[65], md5_hex[33], key[128];
  unsigned char sha[32];
  if ((rc = hash_file(fd, src_path, sha_hex, sha, err)) != 0) {
    goto done;
  }
  snprintf(key, sizeof key, "sha256/%.2s/%s%s%s", sha_hex, sha_hex + 2, ext ? "." : "",
           ext ? ext : "");
  if (strlen(key) + 1 > cap) {
    rc = ain_err_field(err, AIN_ETOOBIG, "key_out", "s3 put: key buffer too small");
    goto done;
  }
  /* Content-addressed: an object of the same size under the key is this file. */
  ain__s3_req_t h;
  rc = head(s, key, &h, NULL, err);
  if (rc < 0) {
    goto done;
  }
  if (rc == 1 && h.have_length && h.content_length == (uint64_t)st.st_size) {
    /* Stored already (maybe by a multipart upload that completed just before a crash: its
     * checkpoint goes too). */
    char ckpt[4300];
    snprintf(ckpt, sizeof ckpt, "%s/uploads/%s", s->cache_dir, sha_hex);
    unlink(ckpt);
    rc = 0;
  } else if ((uint64_t)st.st_size >= s->mp_threshold) {
    if ((rc = md5_file(fd, md5_hex, err)) == 0) {
      rc = ain__s3_put_multipart(s, fd, (uint64_t)st.st_size, sha_hex, md5_hex, key, err);
    }
  } else {
    rc = put_single(s, fd, (uint64_t)st.st_size, sha_hex, sha, key, ext, err);
  }
  if (rc == 0) {
    memcpy(key_out, key, strlen(key) + 1);
  }
done:
  close(fd);
  return rc;
}

static int cache_path(ain__s3_t *s, const char *key, char *out, size_t cap, ain_err_t *err) {
  int n = snprintf(out, cap, "%s/objects/%s", s->cache_dir, key);
  if (n < 0 || (size_t)n >= cap) {
    return ain_err_field(err, AIN_ETOOBIG, "key", "s3: cache path of %s too long", key);
  }
  return 0;
}

/* GET key into a temp file, hash checked against a content-addressed key, renamed to out. */
static int fetch_to_cache(ain__s3_t *s, const char *key, const char *out, ain_err_t *err) {
  char tmp[4200], dir[4200];
  snprintf(dir, sizeof dir, "%s", out);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  int e = ain_mkdir_p(dir);
  if (e != 0) {
    return ain_err_set(err, AIN_EIO, "s3 get: mkdir %s: %s", dir, strerror(-e));
  }
  snprintf(tmp, sizeof tmp, "%s/tmp/%016llx.part", s->cache_dir,
           (unsigned long long)ain_random_u64());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ain_err_set(err, AIN_EIO, "s3 get: create %s: %s", tmp, strerror(errno));
  }
  EVP_MD_CTX *sha = EVP_MD_CTX_new();
  ain__s3_req_t r;
  ain__s3_req_init(&r, "GET", key);
  r.down_fd = fd;
  r.down_sha = sha;
  int rc = sha == NULL ? ain_err_set(err, AIN_ENOMEM, "s3 get: no memory")
                       : ain__s3_perform(s, &r, "GET", err);
  if (rc == 0 && (r.status < 200 || r.status >= 300)) {
    rc = ain__s3_status_err(&r, "GET", key, err);
  }
  char want[65];
  if (rc == 0 && content_hash(key, want)) {
    unsigned char d[32];
    char got[65];
    EVP_DigestFinal_ex(sha, d, NULL);
    to_hex(d, 32, got);
    if (strcmp(got, want) != 0) {
      rc = ain_err_field(err, AIN_EIO, "key", "object %s is corrupt: content hashes to %s", key,
                         got);
    }
  }
  if (rc == 0 && close(fd) != 0) {
    rc = ain_err_set(err, AIN_EIO, "s3 get: close %s: %s", tmp, strerror(errno));
  }
  fd = -1;
  if (rc == 0 && rename(tmp, out) != 0) {
    rc = ain_err_set(err, AIN_EIO, "s3 get: rename to %s: %s", out, strerror(errno));
  }
  if (fd >= 0) {
    close(fd);
  }
  if (rc != 0) {
    unlink(tmp);
  }
  EVP_MD_CTX_free(sha);
  return rc;
}

static int s3_get_path(ain_objstore_t *os, const char *key, char *out, size_t cap,
                       ain_err_t *err) {
  ain__s3_t *s = S3(os);
  int rc = cache_path(s, key, out, cap, err);
  if (rc != 0) {
    return rc;
  }
  struct stat st;
  if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
    return 0; /* immutable content: a cached copy stays right */
  }
  return fetch_to_cache(s, key, out, err);
}

static int s3_exists(ain_objstore_t *os, const char *key, ain_err_t *err) {
  ain__s3_req_t r;
  return head(S3(os), key, &r, NULL, err);
}

static int s3_stat(ain_objstore_t *os, const char *key, ain_objstore_stat_t *st, ain_err_t *err) {
  ain__s3_req_t r;
  int rc = head(S3(os), key, &r, NULL, err);
  if (rc == 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc < 0) {
    return rc;
  }
  st->size = r.content_length;
  st->mtime_s = r.mtime > 0 ? r.mtime : 0;
  return 0;
}

static int s3_verify(ain_objstore_t *os, const char *key, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  char want[65];
  if (!content_hash(key, want)) {
    return ain_err_field(err, AIN_EINVAL, "key", "object key \"%.64s\" is not content-addressed",
                         key);
  }
  /* S3 keeps the SHA-256 it checked at upload: compare it without moving the bytes. A multipart
   * object's checksum is a checksum of part checksums ("…-N"), so those are read and hashed. */
  ain__s3_req_t r;
  int rc = head(s, key, &r, "x-amz-checksum-mode: ENABLED", err);
  if (rc == 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc < 0) {
    return rc;
  }
  unsigned char d[32];
  char b64[45], got[65];
  if (r.checksum[0] != '\0' && strchr(r.checksum, '-') == NULL) {
    ain__s3_unhex32(want, d);
    ain__s3_b64_sha256(d, b64);
    if (strcmp(b64, r.checksum) != 0) {
      return ain_err_field(err, AIN_EIO, "key", "object %s is corrupt: S3's sha256 is %s", key,
                           r.checksum);
    }
    return 0;
  }
  EVP_MD_CTX *sha = EVP_MD_CTX_new();
  if (sha == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "s3 verify: no memory");
  }
  ain__s3_req_init(&r, "GET", key);
  r.down_sha = sha;
  rc = ain__s3_perform(s, &r, "GET", err);
  if (rc == 0 && (r.status < 200 || r.status >= 300)) {
    rc = ain__s3_status_err(&r, "GET", key, err);
  }
  if (rc == 0) {
    EVP_DigestFinal_ex(sha, d, NULL);
    to_hex(d, 32, got);
    if (strcmp(got, want) != 0) {
      rc = ain_err_field(err, AIN_EIO, "key", "object %s is corrupt: content hashes to %s", key,
                         got);
    }
  }
  EVP_MD_CTX_free(sha);
  return rc;
}

static int s3_del(ain_objstore_t *os, const char *key, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  ain__s3_req_t r;
  int rc = head(s, key, &r, NULL, err); /* S3 answers 204 for an absent key too */
  if (rc == 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc < 0) {
    return rc;
  }
  ain__s3_req_init(&r, "DELETE", key);
  if ((rc = ain__s3_perform(s, &r, "DELETE", err)) != 0) {
    return rc;
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, "DELETE", key, err);
  }
  char p[4200];
  if (cache_path(s, key, p, sizeof p, err) == 0) {
    unlink(p);
  }
  return 0;
}

static int s3_read_range(ain_objstore_t *os, const char *key, uint64_t offset, void *buf,
                         size_t len, size_t *got, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  char p[4200];
  *got = 0;
  if (len == 0) {
    return 0;
  }
  if (cache_path(s, key, p, sizeof p, err) == 0) {
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      size_t n = 0;
      while (n < len) {
        ssize_t r = pread(fd, (char *)buf + n, len - n, (off_t)(offset + n));
        if (r < 0 && errno == EINTR) {
          continue;
        }
        if (r <= 0) {
          break;
        }
        n += (size_t)r;
      }
      close(fd);
      *got = n;
      return 0;
    }
  }
  char range[80];
  snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)offset,
           (unsigned long long)(offset + len - 1));
  ain__s3_req_t r;
  ain__s3_req_init(&r, "GET", key);
  r.headers[r.nheaders++] = range;
  r.down_buf = buf;
  r.down_cap = len;
  int rc = ain__s3_perform(s, &r, "GET", err);
  if (rc != 0) {
    return rc;
  }
  if (r.status == 416) {
    return 0; /* at or past the end */
  }
  if (r.status != 206 && !(r.status == 200 && offset == 0)) {
    return r.status >= 200 && r.status < 300
               ? ain_err_field(err, AIN_EHTTP, "key", "s3 GET %s: HTTP %ld to a ranged request",
                               key, r.status)
               : ain__s3_status_err(&r, "GET", key, err);
  }
  *got = r.down_len;
  return 0;
}

static int s3_presign_get(ain_objstore_t *os, const char *key, int64_t ttl_s, char *out,
                          size_t cap, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  ain__s3_req_t r;
  int rc = head(s, key, &r, NULL, err);
  if (rc == 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc < 0) {
    return rc;
  }
  char path[1100];
  snprintf(path, sizeof path, "%s%s", s->prefix, key);
  if (ain__sigv4_presign_get(s->base_url, path, s->access_key, s->secret_key, s->region,
                             (int64_t)time(NULL), ttl_s, out, cap) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "out", "s3 presign %s: URL buffer too small", key);
  }
  return 0;
}

static int s3_set_class(ain_objstore_t *os, const char *key, const char *cls, ain_err_t *err) {
  ain__s3_t *s = S3(os);
  ain__s3_req_t r;
  int rc = head(s, key, &r, NULL, err);
  if (rc == 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc < 0) {
    return rc;
  }
  /* S3 leaves the header out for STANDARD. */
  const char *now = r.storage_class[0] ? r.storage_class : "STANDARD";
  if (strcmp(now, cls) == 0) {
    return 0;
  }
  if (r.content_length > (5ull << 30)) {
    return ain_err_field(err, AIN_ETOOBIG, "key", "s3 set_class %s: objects over 5 GiB need a "
                         "multipart copy, which this backend does not do", key);
  }
  /* Copy in place; REPLACE (with the type sent again) is what makes a self-copy legal for every
   * S3 implementation, not only those that accept a class change alone. */
  char h_src[700], h_cls[80], h_type[200], xml[2048];
  snprintf(h_src, sizeof h_src, "x-amz-copy-source: /%s/%s", s->bucket, key);
  snprintf(h_cls, sizeof h_cls, "x-amz-storage-class: %s", cls);
  snprintf(h_type, sizeof h_type, "Content-Type: %s",
           r.content_type[0] ? r.content_type : "application/octet-stream");
  ain__s3_req_init(&r, "PUT", key);
  r.headers[r.nheaders++] = h_src;
  r.headers[r.nheaders++] = "x-amz-metadata-directive: REPLACE";
  r.headers[r.nheaders++] = h_cls;
  r.headers[r.nheaders++] = h_type;
  r.headers[r.nheaders++] = "x-amz-content-sha256: UNSIGNED-PAYLOAD";
  r.down_buf = xml;
  r.down_cap = sizeof xml - 1;
  if ((rc = ain__s3_perform(s, &r, "COPY", err)) != 0) {
    return rc;
  }
  xml[r.down_len] = '\0';
  /* A copy can fail after its 200 is sent: the error is then in the body. */
  if (r.status >= 200 && r.status < 300 && strstr(xml, "<Error>") != NULL) {
    memcpy(r.errbody, xml, r.down_len < sizeof r.errbody ? r.down_len : sizeof r.errbody - 1);
    r.errlen = strlen(r.errbody);
    r.status = 500;
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, "COPY", key, err);
  }
  return 0;
}

static void wipe_free(char *p) {
  if (p != NULL) {
    OPENSSL_cleanse(p, strlen(p));
    free(p);
  }
}

static void s3_close(ain_objstore_t *os) {
  ain__s3_t *s = S3(os);
  free(s->base_url);
  free(s->prefix);
  free(s->bucket);
  free(s->region);
  wipe_free(s->access_key);
  wipe_free(s->secret_key);
  wipe_free(s->userpwd);
  free(s->cache_dir);
  free(s);
}

static const ain_objstore_vtab_t s3_vtab = {
    .name = "s3",
    .put_file = s3_put_file,
    .get_path = s3_get_path,
    .exists = s3_exists,
    .verify = s3_verify,
    .del = s3_del,
    .stat = s3_stat,
    .read_range = s3_read_range,
    .close = s3_close,
    .presign_get = s3_presign_get,
    .set_class = s3_set_class,
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) {
  /* Not thread-safe in every libcurl: done once before any handle exists. */
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ain_objstore_s3_open(const ain_objstore_s3_opts_t *o, ain_objstore_t **out, ain_err_t *err) {
  const char *need[][2] = {{"endpoint", o->endpoint},     {"bucket", o->bucket},
                           {"region", o->region},         {"access_key", o->access_key},
                           {"secret_key", o->secret_key}, {"cache_dir", o->cache_dir}};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (need[i][1] == NULL || need[i][1][0] == '\0') {
      return ain_err_field(err, AIN_EINVAL, need[i][0], "objstore s3: %s is required", need[i][0]);
    }
  }
  const char *host = strstr(o->endpoint, "://");
  if (host == NULL || host[3] == '\0' || strchr(host + 3, '/') != NULL ||
      (strncmp(o->endpoint, "http://", 7) != 0 && strncmp(o->endpoint, "https://", 8) != 0)) {
    return ain_err_field(err, AIN_EINVAL, "endpoint",
                         "objstore s3: endpoint \"%s\" is not http(s)://host[:port]",
                         o->endpoint);
  }
  if (o->part_size < (5u << 20) || o->multipart_threshold < o->part_size) {
    return ain_err_field(err, AIN_EINVAL, "part_size",
                         "objstore s3: part size %llu must be >= 5 MiB and <= the multipart "
                         "threshold %llu", (unsigned long long)o->part_size,
                         (unsigned long long)o->multipart_threshold);
  }
  if (strchr(o->access_key, ':') != NULL) {
    return ain_err_field(err, AIN_EINVAL, "access_key",
                         "objstore s3: the access key contains ':'");
  }
  pthread_once(&curl_once, curl_init);
  ain__s3_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "objstore s3: no memory");
  }
  s->base.impl = s; /* s3_close on the fail path finds it here */
  int rc = 0;
  size_t sl = (size_t)(host - o->endpoint);
  size_t n = strlen(o->endpoint) + strlen(o->bucket) + 4;
  s->base_url = malloc(n);
  s->prefix = malloc(strlen(o->bucket) + 3);
  s->userpwd = malloc(strlen(o->access_key) + strlen(o->secret_key) + 2);
  s->bucket = ain_strdup(o->bucket);
  s->region = ain_strdup(o->region);
  s->access_key = ain_strdup(o->access_key);
  s->secret_key = ain_strdup(o->secret_key);
  s->cache_dir = ain_strdup(o->cache_dir);
  if (s->base_url == NULL || s->prefix == NULL || s->userpwd == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "objstore s3: no memory");
    goto fail;
  }
  if (o->path_style) {
    snprintf(s->base_url, n, "%s", o->endpoint);
    snprintf(s->prefix, strlen(o->bucket) + 3, "/%s/", o->bucket);
  } else {
    snprintf(s->base_url, n, "%.*s://%s.%s", (int)sl, o->endpoint, o->bucket, host + 3);
    snprintf(s->prefix, 2, "/");
  }
  sprintf(s->userpwd, "%s:%s", o->access_key, o->secret_key);
  snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", o->region);
  s->mp_threshold = o->multipart_threshold;
  s->part_size = o->part_size;
  s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000;
  s->retries = o->retries < 0 ? 0 : o->retries;
  const char *subs[] = {"objects", "tmp", "uploads"};
  for (size_t i = 0; i < 3; i++) {
    char d[4200];
    snprintf(d, sizeof d, "%s/%s", o->cache_dir, subs[i]);
    int e = ain_mkdir_p(d);
    if (e != 0) {
      rc = ain_err_field(err, AIN_EIO, "cache_dir", "objstore s3: mkdir %s: %s", d, strerror(-e));
      goto fail;
    }
  }
  s->base.vt = &s3_vtab;
  s->base.impl = s;
  *out = &s->base;
  return 0;
fail:
  s3_close(&s->base);
  return rc;
}
