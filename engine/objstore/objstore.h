/* Object store (DESIGN §6): artifacts (WAV, PNG, MP4, JPEG) stored under content-addressed keys
 * "sha256/ab/cdef…[.ext]". An interface (a table of function pointers, so an S3 backend can come
 * later) plus a local-directory backend with atomic writes (temp + fsync + rename).
 * Every key is validated before use: charset [A-Za-z0-9._/-], length 1..512, no absolute path,
 * no "." or ".." segment, no empty segment, no NUL or backslash.
 * Threading: calls are synchronous file I/O (hashing a video reads all of it). Call them from the
 * libuv thread pool (uv_queue_work), never on a loop thread; a store may be used from several
 * threads at once (the dir backend keeps no mutable state after open).
 * The S3 backend (s3*.c, docs/objstore.md) keeps the same contract over HTTP: put streams the file
 * up (in parts past a threshold, resumable after a crash), get_path fills a local read cache.
 * Relies on: OpenSSL (EVP SHA-256), POSIX file I/O, libcurl (S3), core/err. Opening the configured
 * backend: objstore/open.h. */
#ifndef AIN_OBJSTORE_OBJSTORE_H
#define AIN_OBJSTORE_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define AIN_OBJSTORE_KEY_MAX 512

typedef struct ain_objstore ain_objstore_t;

/* What a reader needs before the bytes: the size and when the object was stored. */
typedef struct {
  uint64_t size;
  int64_t mtime_s; /* seconds since the epoch; 0 if the backend does not know */
} ain_objstore_stat_t;

typedef struct {
  const char *name; /* "dir", "s3" */
  /* Stores a copy of src_path; writes its key ("sha256/xx/…" + "." ext if ext) to key_out. */
  int (*put_file)(ain_objstore_t *s, const char *src_path, const char *ext, char *key_out,
                  size_t cap, ain_err_t *err);
  /* A local path for reading the object (dir: the file itself); AIN_ENOTFOUND if absent. */
  int (*get_path)(ain_objstore_t *s, const char *key, char *out, size_t cap, ain_err_t *err);
  /* 1 if present, 0 if not, or a negative AIN_E*. */
  int (*exists)(ain_objstore_t *s, const char *key, ain_err_t *err);
  /* Re-hashes the object: 0 if it matches its key, AIN_EIO naming the key if corrupt. */
  int (*verify)(ain_objstore_t *s, const char *key, ain_err_t *err);
  /* Removes the object; AIN_ENOTFOUND if absent. */
  int (*del)(ain_objstore_t *s, const char *key, ain_err_t *err);
  /* Size and time of the object; AIN_ENOTFOUND if absent. */
  int (*stat)(ain_objstore_t *s, const char *key, ain_objstore_stat_t *st, ain_err_t *err);
  /* Up to len bytes from offset into buf; *got = how many (0 at or past the end). Stateless
   * (one call per chunk, as an S3 ranged GET would be): objects are immutable, so chunks of one
   * object read by separate calls fit together. AIN_ENOTFOUND if absent. */
  int (*read_range)(ain_objstore_t *s, const char *key, uint64_t offset, void *buf, size_t len,
                    size_t *got, ain_err_t *err);
  void (*close)(ain_objstore_t *s);
  /* Optional (NULL: the backend has none). A URL anyone may GET the object from for ttl_s
   * seconds (1 .. 604800); AIN_ENOTFOUND if absent. */
  int (*presign_get)(ain_objstore_t *s, const char *key, int64_t ttl_s, char *out, size_t cap,
                     ain_err_t *err);
  /* Optional. Moves the object to a storage class ("STANDARD_IA", ...); 0 if it already is. */
  int (*set_class)(ain_objstore_t *s, const char *key, const char *storage_class, ain_err_t *err);
} ain_objstore_vtab_t;

struct ain_objstore {
  const ain_objstore_vtab_t *vt;
  void *impl;
};

/* 0 if key[0..len) is a valid key, else AIN_EINVAL with a message naming the key and the rule. */
int ain_objstore_key_valid(const char *key, size_t len, ain_err_t *err);

/* Opens (creating if needed) a directory store rooted at root. Caller closes with
 * ain_objstore_close(). */
int ain_objstore_dir_open(const char *root, ain_objstore_t **out, ain_err_t *err);

/* An S3 store (s3.c). Strings are copied; access_key/secret_key are wiped at close. */
typedef struct {
  const char *endpoint;   /* "http(s)://host[:port]" */
  const char *bucket, *region;
  int path_style;         /* 1: endpoint/bucket/key; 0: bucket.host/key */
  const char *access_key, *secret_key;
  uint64_t multipart_threshold, part_size; /* bytes */
  long timeout_ms;
  int retries;            /* more tries after a 5xx, 429 or broken transfer */
  const char *cache_dir;  /* get_path's copies and the multipart checkpoints */
} ain_objstore_s3_opts_t;
int ain_objstore_s3_open(const ain_objstore_s3_opts_t *o, ain_objstore_t **out, ain_err_t *err);

/* Validating wrappers: every key is checked before it reaches a backend. */
int ain_objstore_put_file(ain_objstore_t *s, const char *src_path, const char *ext, char *key_out,
                          size_t cap, ain_err_t *err);
int ain_objstore_get_path(ain_objstore_t *s, const char *key, char *out, size_t cap,
                          ain_err_t *err);
int ain_objstore_exists(ain_objstore_t *s, const char *key, ain_err_t *err);
int ain_objstore_verify(ain_objstore_t *s, const char *key, ain_err_t *err);
int ain_objstore_delete(ain_objstore_t *s, const char *key, ain_err_t *err);
int ain_objstore_stat(ain_objstore_t *s, const char *key, ain_objstore_stat_t *st, ain_err_t *err);
int ain_objstore_read_range(ain_objstore_t *s, const char *key, uint64_t offset, void *buf,
                            size_t len, size_t *got, ain_err_t *err);
void ain_objstore_close(ain_objstore_t *s);
/* A presigned GET URL (AIN_EINVAL naming the backend when it has none). */
int ain_objstore_presign_get(ain_objstore_t *s, const char *key, int64_t ttl_s, char *out,
                             size_t cap, ain_err_t *err);
/* A storage-class change (AIN_EINVAL naming the backend when it has no classes). */
int ain_objstore_set_class(ain_objstore_t *s, const char *key, const char *storage_class,
                           ain_err_t *err);

/* Hex SHA-256 of a file (65 bytes with NUL). Blocking. */
int ain_objstore_sha256_file(const char *path, char hex[65], ain_err_t *err);
/* The same, also copying the bytes to dst_fd on the way when dst_fd >= 0 (one read for both;
 * the dir backend's put). field names the path in errors ("path", "src_path"). Blocking. */
int ain_objstore_sha256_copy(const char *path, const char *field, int dst_fd, char hex[65],
                             ain_err_t *err);

#endif
