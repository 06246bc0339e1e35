/* AWS Signature Version 4 computed by us, for the one thing libcurl cannot sign: a presigned URL.
 * CURLOPT_AWS_SIGV4 signs a request curl itself sends (Authorization header); a presigned GET is
 * a URL we hand to someone else (the console, a channel that fetches by URL), so its query-string
 * signature (X-Amz-Signature) has to be computed here. Every request the S3 backend sends is
 * still signed by curl. The pieces are public to the module so the tests can check each step
 * (canonical request, string to sign, signature) against AWS's published test vectors.
 * Private to engine/objstore/. Relies on: OpenSSL (HMAC, SHA-256). */
#ifndef AIN_OBJSTORE_SIGV4_H
#define AIN_OBJSTORE_SIGV4_H

#include <stddef.h>
#include <stdint.h>

/* A request header as it is signed: name in any case (lower-cased here), value trimmed here. */
typedef struct {
  const char *name, *value;
} ain__sigv4_header_t;

/* What one signature covers. path is the raw (unencoded) absolute path; query the raw pairs
 * "a=1&b=2" (each name and value is URI-encoded and the pairs sorted here; NULL or "" = none). */
typedef struct {
  const char *method;
  const char *path;
  const char *query;
  const ain__sigv4_header_t *headers;
  size_t nheaders; /* at most 32 */
  const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
  const char *amz_date;     /* "20150830T123600Z" */
  const char *region, *service;
  /* S3 encodes the path once; every other service encodes the already-encoded path again. */
  int s3_path;
} ain__sigv4_req_t;

/* RFC 3986 encoding as SigV4 wants it (unreserved A-Za-z0-9-._~ kept, %XX upper case); keep_slash
 * leaves '/' as is (paths). Writes at most cap bytes with NUL; -1 if it does not fit. */
int ain__sigv4_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap);

/* The canonical request, the string to sign and the signed-header list ("host;x-amz-date"), each
 * NUL-terminated into the caller's buffers; sig_hex gets the 64-hex signature. 0, or -1 when a
 * buffer is too small or the request is malformed (more than 32 headers). */
int ain__sigv4_sign(const ain__sigv4_req_t *r, const char *secret_key, char *canonical,
                    size_t canonical_cap, char *to_sign, size_t to_sign_cap, char *signed_headers,
                    size_t signed_headers_cap, char sig_hex[65]);

/* A presigned GET URL: base is "scheme://host[:port]" as the client will connect (the Host header
 * is signed), path the raw absolute path ("/bucket/key" or "/key"), now the signing time (seconds
 * since the epoch) and ttl_s the life (1 .. 604800, S3's limit). 0, or -1 when out is too small
 * or an argument is out of range. */
int ain__sigv4_presign_get(const char *base, const char *path, const char *access_key,
                           const char *secret_key, const char *region, int64_t now,
                           int64_t ttl_s, char *out, size_t cap);

#endif
