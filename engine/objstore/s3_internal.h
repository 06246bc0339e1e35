/* Private to the S3 backend (s3.c, s3_http.c, s3_multipart.c): the store's settings and one HTTP
 * exchange with S3, signed by libcurl (CURLOPT_AWS_SIGV4), bodies streamed from and to files.
 * Relies on: libcurl, OpenSSL EVP, core/err. */
#ifndef AIN_OBJSTORE_S3_INTERNAL_H
#define AIN_OBJSTORE_S3_INTERNAL_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "objstore/objstore.h"

typedef struct {
  ain_objstore_t base;
  char *base_url; /* "scheme://host[:port]" requests go to (virtual host: "scheme://bucket.host") */
  char *prefix;   /* path before the key: "/bucket/" (path style) or "/" */
  char *bucket, *region;
  char *access_key, *secret_key;
  char *userpwd;  /* "access:secret" for CURLOPT_USERPWD; wiped at close */
  char sigv4[160]; /* "aws:amz:<region>:s3" */
  uint64_t mp_threshold, part_size;
  long timeout_ms;
  int retries;
  char *cache_dir;
} ain__s3_t;

#define AIN__S3_MAX_HEADERS 12

/* One request: fill, ain__s3_perform, read the outputs. Body sources and sinks are optional. */
typedef struct {
  const char *method; /* GET PUT HEAD DELETE POST */
  const char *key;    /* object key; NULL = the bucket itself */
  const char *query;  /* canonical (sorted, encoded) query, e.g. "partNumber=1&uploadId=x" */
  const char *headers[AIN__S3_MAX_HEADERS]; /* "Name: value" */
  size_t nheaders;
  /* Upload from a file: up_len bytes at up_off, read as curl asks (never the whole in RAM). */
  int up_fd;
  uint64_t up_off, up_len;
  EVP_MD_CTX *up_md5; /* if set: the MD5 of the bytes sent (as read), for the ETag check */
  /* Or from memory (CompleteMultipartUpload's XML). */
  const char *up_mem;
  size_t up_mem_len;
  /* Download of a 2xx body: hashed into down_sha if set, and written to down_fd (from offset 0)
   * or into down_buf (at most down_cap bytes; more is dropped and flagged by down_over). */
  int down_fd;
  EVP_MD_CTX *down_sha;
  char *down_buf;
  size_t down_cap, down_len;
  int down_over;
  /* Outputs. */
  long status;
  char etag[96], checksum[64], storage_class[40], content_type[128];
  uint64_t content_length;
  int have_length;
  int64_t mtime;
  char errbody[600]; /* the start of a non-2xx body (S3's XML error) */
  size_t errlen;
} ain__s3_req_t;

/* A request with every field zero except fds at -1. */
void ain__s3_req_init(ain__s3_req_t *r, const char *method, const char *key);
/* Sends r, retrying (backoff 200 ms doubling, at most s->retries more tries) after a transport
 * error, a truncated body, 429 or 5xx; each retry rewinds the upload and resets the sink.
 * 0 with r->status set for any HTTP answer (the caller maps statuses), or AIN_EHTTP naming what
 * (op) failed when no answer came. */
int ain__s3_perform(ain__s3_t *s, ain__s3_req_t *r, const char *op, ain_err_t *err);
/* Maps a non-2xx answer: 404 AIN_ENOTFOUND, anything else AIN_EHTTP with S3's <Code> and
 * <Message>; messages name op and key. */
int ain__s3_status_err(const ain__s3_req_t *r, const char *op, const char *key, ain_err_t *err);
/* The text of the first <tag>…</tag> in xml[0..len) into out (NUL-terminated); 0 or -1. */
int ain__s3_xml_tag(const char *xml, size_t len, const char *tag, char *out, size_t cap);

/* Base64 of a SHA-256 digest (45 bytes with NUL), as x-amz-checksum-sha256 carries it. */
void ain__s3_b64_sha256(const unsigned char d[32], char out[45]);
/* Hex "ab…" (64) to 32 bytes; 0 or -1. */
int ain__s3_unhex32(const char *hex, unsigned char out[32]);

/* Multipart upload of fd (size bytes; its content's sha256 and md5 hex) to key, resuming an
 * earlier try of the same content from its checkpoint under cache_dir/uploads/ (s3_multipart.c). */
int ain__s3_put_multipart(ain__s3_t *s, int fd, uint64_t size, const char *sha_hex,
                          const char *md5_hex, const char *key, ain_err_t *err);

#endif
