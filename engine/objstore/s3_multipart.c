/* S3 multipart upload with resume after a crash (s3_internal.h).
 * The checkpoint is a sidecar file, cache_dir/uploads/<content sha256>, not a store row: the
 * object store runs on pool threads with no store handle (the store is request/callback based on
 * the loops), and what is resumed is a local file on this node, so the checkpoint lives beside the
 * node's cache. It is a line log: "ain-s3-upload 1 <part_size> <upload id> <key>" first, then one
 * "part <n> <etag>" line appended and fdatasync'd after each part S3 accepted. A put of the same
 * content finds it and sends only the missing parts; an upload S3 no longer knows (NoSuchUpload,
 * aborted by a lifecycle rule) restarts from zero once.
 * Integrity: each part is read once before sending to compute its SHA-256 (x-amz-content-sha256,
 * which S3 checks against the body) and MD5 (its ETag); the completed object's ETag must be the
 * MD5 of the parts' MD5s with "-N", as S3 computes it.
 * Relies on: s3_http.c, OpenSSL EVP, POSIX file I/O. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objstore/s3_internal.h"
#include "objstore/sigv4.h"

#define MAX_PARTS 10000

typedef struct {
  char upload_id[512];
  uint64_t part_size;
  uint32_t nparts;
  char (*etags)[40]; /* [nparts], "" = not sent yet; bare hex MD5 */
} mp_t;

static void hexs(const unsigned char *d, size_t n, char *out) {
  static const char x[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = x[d[i] >> 4];
    out[2 * i + 1] = x[d[i] & 15];
  }
  out[2 * n] = '\0';
}

/* Reads a checkpoint for this key and part size into m (upload_id "" when none fits). */
static void load_checkpoint(const char *path, const char *key, mp_t *m) {
  m->upload_id[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return;
  }
  char line[1200], id[512], k[600];
  unsigned long long ps = 0;
  if (fgets(line, sizeof line, f) == NULL ||
      sscanf(line, "ain-s3-upload 1 %llu %511s %599s", &ps, id, k) != 3 || ps != m->part_size ||
      strcmp(k, key) != 0) {
    fclose(f);
    return;
  }
  snprintf(m->upload_id, sizeof m->upload_id, "%s", id);
  unsigned n;
  char etag[40];
  while (fgets(line, sizeof line, f) != NULL) {
    /* A torn last line (crash mid-append) fails to parse and is simply not a done part. */
    if (sscanf(line, "part %u %39s", &n, etag) == 2 && n >= 1 && n <= m->nparts &&
        strlen(etag) == 32 && strchr(line, '\n') != NULL) {
      snprintf(m->etags[n - 1], sizeof m->etags[0], "%s", etag);
    }
  }
  fclose(f);
}

static int append_line(const char *path, const char *line, int create, ain_err_t *err) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : O_APPEND), 0600);
  if (fd < 0) {
    return ain_err_set(err, AIN_EIO, "s3 multipart: checkpoint %s: %s", path, strerror(errno));
  }
  size_t n = strlen(line);
  int ok = write(fd, line, n) == (ssize_t)n && fdatasync(fd) == 0;
  int e = errno;
  close(fd);
  return ok ? 0 : ain_err_set(err, AIN_EIO, "s3 multipart: checkpoint %s: %s", path, strerror(e));
}

static int create_upload(ain__s3_t *s, const char *key, const char *ckpt, mp_t *m,
                         ain_err_t *err) {
  char xml[4096];
  ain__s3_req_t r;
  ain__s3_req_init(&r, "POST", key);
  r.query = "uploads=";
  r.headers[r.nheaders++] = "x-amz-content-sha256: "
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.headers[r.nheaders++] = "Content-Type: application/octet-stream";
  r.up_mem = "";
  r.down_buf = xml;
  r.down_cap = sizeof xml - 1;
  int rc = ain__s3_perform(s, &r, "CreateMultipartUpload", err);
  if (rc != 0) {
    return rc;
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, "CreateMultipartUpload", key, err);
  }
  if (ain__s3_xml_tag(xml, r.down_len, "UploadId", m->upload_id, sizeof m->upload_id) != 0 ||
      m->upload_id[0] == '\0' || strpbrk(m->upload_id, " \n\r") != NULL) {
    return ain_err_field(err, AIN_EHTTP, "key", "s3 CreateMultipartUpload %s: no UploadId in the "
                         "answer", key);
  }
  for (uint32_t i = 0; i < m->nparts; i++) {
    m->etags[i][0] = '\0';
  }
  char line[1200];
  snprintf(line, sizeof line, "ain-s3-upload 1 %llu %s %s\n", (unsigned long long)m->part_size,
           m->upload_id, key);
  return append_line(ckpt, line, 1, err);
}

/* Hashes part bytes [off, off+len) of fd: SHA-256 hex and MD5 (raw and hex). */
static int hash_part(int fd, uint64_t off, uint64_t len, char sha_hex[65], unsigned char md5[16],
                     ain_err_t *err) {
  EVP_MD_CTX *a = EVP_MD_CTX_new(), *b = EVP_MD_CTX_new();
  int rc = 0;
  unsigned char buf[1 << 16], sha[32];
  if (a == NULL || b == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "s3 multipart: no memory");
    goto done;
  }
  EVP_DigestInit_ex(a, EVP_sha256(), NULL);
  EVP_DigestInit_ex(b, EVP_md5(), NULL);
  for (uint64_t done = 0; done < len;) {
    size_t want = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
    ssize_t n = pread(fd, buf, want, (off_t)(off + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      rc = ain_err_set(err, AIN_EIO, "s3 multipart: reading the file: %s",
                       n == 0 ? "it shrank" : strerror(errno));
      goto done;
    }
    EVP_DigestUpdate(a, buf, (size_t)n);
    EVP_DigestUpdate(b, buf, (size_t)n);
    done += (uint64_t)n;
  }
  EVP_DigestFinal_ex(a, sha, NULL);
  EVP_DigestFinal_ex(b, md5, NULL);
  hexs(sha, 32, sha_hex);
done:
  EVP_MD_CTX_free(a);
  EVP_MD_CTX_free(b);
  return rc;
}

/* Sends part n (1-based). AIN_ENOTFOUND when S3 no longer knows the upload. */
static int put_part(ain__s3_t *s, const char *key, int fd, uint64_t size, mp_t *m, uint32_t n,
                    const char *ckpt, ain_err_t *err) {
  uint64_t off = (uint64_t)(n - 1) * m->part_size;
  uint64_t len = size - off < m->part_size ? size - off : m->part_size;
  char sha_hex[65], md5_hex[33], h_sha[100], query[700], id_enc[1600];
  unsigned char md5[16];
  int rc = hash_part(fd, off, len, sha_hex, md5, err);
  if (rc != 0) {
    return rc;
  }
  hexs(md5, 16, md5_hex);
  ain__sigv4_uri_encode(m->upload_id, strlen(m->upload_id), 0, id_enc, sizeof id_enc);
  snprintf(query, sizeof query, "partNumber=%u&uploadId=%s", n, id_enc);
  snprintf(h_sha, sizeof h_sha, "x-amz-content-sha256: %s", sha_hex);
  ain__s3_req_t r;
  ain__s3_req_init(&r, "PUT", key);
  r.query = query;
  r.headers[r.nheaders++] = h_sha;
  r.up_fd = fd;
  r.up_off = off;
  r.up_len = len;
  char op[64];
  snprintf(op, sizeof op, "UploadPart %u", n);
  if ((rc = ain__s3_perform(s, &r, op, err)) != 0) {
    return rc;
  }
  if (r.status == 404) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "s3 %s %s: the upload is gone", op, key);
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, op, key, err);
  }
  char etag[96];
  size_t el = strlen(r.etag);
  snprintf(etag, sizeof etag, "%.*s", (int)(el >= 2 && r.etag[0] == '"' ? el - 2 : el),
           r.etag + (el >= 2 && r.etag[0] == '"'));
  if (strcmp(etag, md5_hex) != 0) {
    return ain_err_field(err, AIN_EIO, "key", "s3 %s %s: ETag %s is not the part's MD5 %s", op,
                         key, etag, md5_hex);
  }
  snprintf(m->etags[n - 1], sizeof m->etags[0], "%s", md5_hex);
  char line[80];
  snprintf(line, sizeof line, "part %u %s\n", n, md5_hex);
  return append_line(ckpt, line, 0, err);
}

static int complete(ain__s3_t *s, const char *key, mp_t *m, const char *md5_hex,
                    ain_err_t *err) {
  size_t cap = 64 + (size_t)m->nparts * 96;
  char *xml = malloc(cap), query[700], id_enc[1600], answer[4096];
  if (xml == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "s3 CompleteMultipartUpload: no memory");
  }
  size_t o = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_md5(), NULL);
  for (uint32_t i = 0; i < m->nparts; i++) {
    o += (size_t)snprintf(xml + o, cap - o,
                          "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                          m->etags[i]);
    unsigned char raw[32];
    char padded[65];
    snprintf(padded, sizeof padded, "%s%s", m->etags[i], m->etags[i]);
    ain__s3_unhex32(padded, raw); /* the first 16 bytes are the part's MD5 */
    EVP_DigestUpdate(md, raw, 16);
  }
  o += (size_t)snprintf(xml + o, cap - o, "</CompleteMultipartUpload>");
  unsigned char d[16];
  char want[48];
  EVP_DigestFinal_ex(md, d, NULL);
  EVP_MD_CTX_free(md);
  hexs(d, 16, want);
  snprintf(want + 32, sizeof want - 32, "-%u", m->nparts);
  ain__sigv4_uri_encode(m->upload_id, strlen(m->upload_id), 0, id_enc, sizeof id_enc);
  snprintf(query, sizeof query, "uploadId=%s", id_enc);
  ain__s3_req_t r;
  ain__s3_req_init(&r, "POST", key);
  r.query = query;
  r.headers[r.nheaders++] = "x-amz-content-sha256: UNSIGNED-PAYLOAD";
  r.headers[r.nheaders++] = "Content-Type: application/xml";
  r.up_mem = xml;
  r.up_mem_len = o;
  r.down_buf = answer;
  r.down_cap = sizeof answer - 1;
  int rc = ain__s3_perform(s, &r, "CompleteMultipartUpload", err);
  free(xml);
  if (rc != 0) {
    return rc;
  }
  answer[r.down_len] = '\0';
  char etag[96] = "";
  /* S3 may answer 200 and put the error in the body. */
  if (r.status >= 200 && r.status < 300 &&
      ain__s3_xml_tag(answer, r.down_len, "ETag", etag, sizeof etag) != 0) {
    snprintf(r.errbody, sizeof r.errbody, "%s", answer);
    r.errlen = strlen(r.errbody);
    r.status = 500;
  }
  if (r.status < 200 || r.status >= 300) {
    return ain__s3_status_err(&r, "CompleteMultipartUpload", key, err);
  }
  /* The ETag comes quoted, literally or as &quot;. */
  char *e = etag;
  if (strncmp(e, "&quot;", 6) == 0) {
    e += 6;
    char *q = strstr(e, "&quot;");
    if (q != NULL) {
      *q = '\0';
    }
  } else if (*e == '"') {
    e++;
    e[strcspn(e, "\"")] = '\0';
  }
  /* S3 (and MinIO) give the MD5 of the parts' MD5s and "-N"; s3rver gives the whole file's MD5.
   * Either proves the server assembled our bytes; anything else does not. */
  if (strcmp(e, want) != 0 && strcmp(e, md5_hex) != 0) {
    return ain_err_field(err, AIN_EIO, "key", "s3 CompleteMultipartUpload %s: ETag %s is neither "
                         "the MD5 of the parts' MD5s %s nor the file's MD5 %s", key, e, want,
                         md5_hex);
  }
  return 0;
}

int ain__s3_put_multipart(ain__s3_t *s, int fd, uint64_t size, const char *sha_hex,
                          const char *md5_hex, const char *key, ain_err_t *err) {
  mp_t m = {.part_size = s->part_size};
  /* S3 allows 10,000 parts: a larger file gets larger parts (whole MiB). */
  if ((size + m.part_size - 1) / m.part_size > MAX_PARTS) {
    m.part_size = (((size + MAX_PARTS - 1) / MAX_PARTS) + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
  }
  m.nparts = (uint32_t)((size + m.part_size - 1) / m.part_size);
  if (m.nparts == 0) {
    m.nparts = 1;
  }
  m.etags = calloc(m.nparts, sizeof m.etags[0]);
  if (m.etags == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "s3 multipart: no memory");
  }
  char ckpt[4300];
  snprintf(ckpt, sizeof ckpt, "%s/uploads/%s", s->cache_dir, sha_hex);
  load_checkpoint(ckpt, key, &m);
  int rc = 0, restarted = 0;
  if (m.upload_id[0] == '\0' && (rc = create_upload(s, key, ckpt, &m, err)) != 0) {
    goto done;
  }
  for (uint32_t n = 1; n <= m.nparts; n++) {
    if (m.etags[n - 1][0] != '\0') {
      continue; /* sent before the crash */
    }
    rc = put_part(s, key, fd, size, &m, n, ckpt, err);
    if (rc == AIN_ENOTFOUND && !restarted) {
      restarted = 1;
      if ((rc = create_upload(s, key, ckpt, &m, err)) != 0) {
        goto done;
      }
      n = 0; /* every part again, under the new upload */
      continue;
    }
    if (rc != 0) {
      goto done; /* the checkpoint stays: the next put resumes here */
    }
  }
  rc = complete(s, key, &m, md5_hex, err);
  if (rc == 0) {
    unlink(ckpt);
  }
done:
  free(m.etags);
  return rc;
}
