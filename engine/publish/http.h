/* The blocking HTTP client every HTTP channel kind uses: one libcurl easy handle per channel
 * (connections reused between requests), a request body from memory or streamed from a byte
 * range of a file with bounded memory (libcurl's upload buffer, never the range), and the
 * response's status, a capped body and the headers the platforms' protocols need (Location,
 * Range, Retry-After, Content-Type). A bearer token goes into the Authorization header and
 * nowhere else: errors name the method and the URL without its query. Blocking: thread pool only.
 * Relies on: libcurl, core/err.h. */
#ifndef AIN_PUBLISH_HTTP_H
#define AIN_PUBLISH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define AIN_HTTP_BODY_MAX (1u << 20) /* bytes of a response body kept; the rest is dropped */

typedef struct ain_http ain_http_t;

typedef struct {
  const char *method; /* "GET", "POST", "PUT", "DELETE" */
  const char *url;
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  const char *bearer;         /* access token for "Authorization: Bearer", or NULL */
  const char *body;           /* in-memory body (body_len bytes), or NULL */
  size_t body_len;
  int body_fd;                /* >= 0: the body is body_length bytes of this file from */
  uint64_t body_offset, body_length; /* body_offset (pread: the fd's position is untouched) */
  int64_t timeout_ms;         /* the whole request; 0 = no limit */
} ain_http_req_t;

typedef struct {
  long status;
  char *body; /* NUL-terminated, at most AIN_HTTP_BODY_MAX bytes; owned */
  size_t body_len;
  char location[2048];
  char range[128];        /* "bytes=0-1048575" as the server sent it, or "" */
  char content_type[128];
  int64_t retry_after_ms; /* Retry-After in ms (seconds or an HTTP date), -1 when absent */
  uint64_t sent;          /* request body bytes libcurl handed to the connection */
} ain_http_resp_t;

/* A client, or NULL (out of memory). */
ain_http_t *ain_http_new(void);
void ain_http_free(ain_http_t *h);
/* Performs req. 0 when a response arrived (any status: the caller judges it), with *resp
 * filled (free with ain_http_resp_free); AIN_EHTTP when none did (refused, dropped, timed out),
 * AIN_EIO when the body file could not be read; err names the method and URL (no query). */
int ain_http_do(ain_http_t *h, const ain_http_req_t *req, ain_http_resp_t *resp, ain_err_t *err);
void ain_http_resp_free(ain_http_resp_t *resp);

/* Shortens url to scheme://host/path (no query, at most cap - 1 bytes) for messages. */
void ain_http_url_for_log(const char *url, char *out, size_t cap);

#endif
