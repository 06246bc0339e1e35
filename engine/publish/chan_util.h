/* Small shared pieces of the HTTP channel kinds instagram.c and webhook.c (private to
 * engine/publish/): one blocking libcurl exchange (body from memory or streamed from the object
 * store in bounded chunks, reply capped, Retry-After read), config-table checks that name the
 * key, a media URL for a file the platform fetches (public base URL or presigned), and a
 * backoff sleep. Blocking: thread pool only (channel.h).
 * Relies on: libcurl, cJSON, objstore/objstore.h, publish/publish.h, core/secret.h. */
#ifndef AIN_PUBLISH_CHAN_UTIL_H
#define AIN_PUBLISH_CHAN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "objstore/objstore.h"
#include "publish/publish.h"

#define AIN__CHAN_REPLY_MAX (1 << 20) /* bytes of a reply body kept; the rest is an error */

typedef struct {
  const char *method;         /* "GET", "POST", "DELETE" */
  const char *url;            /* never echoed into errors: it may carry a token */
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  const char *body;           /* request body from memory, or NULL */
  size_t body_len;
  ain_objstore_t *objects; /* or streamed from here: key[offset, offset + len) */
  const char *key;
  uint64_t offset, len;
  long timeout_ms; /* the whole exchange, connect included */
} ain__chan_http_req_t;

typedef struct {
  long status;         /* 0: no HTTP answer (refused, dropped, timed out): see transport */
  char transport[256]; /* curl's reason when status is 0 */
  char *body;          /* NUL-terminated reply body (caller frees with _resp_free) */
  size_t len;
  int64_t retry_after_ms; /* Retry-After (seconds or an HTTP date), -1 when absent */
} ain__chan_http_resp_t;

/* One exchange. 0 once the exchange ran (resp->status 0 for a transport failure), AIN_ENOMEM,
 * AIN_EIO naming the key when the object store could not be read, AIN_ETOOBIG for a reply past
 * AIN__CHAN_REPLY_MAX. what prefixes messages ("instagram POST /media"). */
int ain__chan_http(const char *what, const ain__chan_http_req_t *req, ain__chan_http_resp_t *resp,
                   ain_err_t *err);
void ain__chan_http_resp_free(ain__chan_http_resp_t *resp);

/* Sleeps base * 2^attempt ms (attempt 0 first), capped at 30 s. */
void ain__chan_backoff(int64_t base_ms, int attempt);

/* Config checks: err names "channels.<name>.<key>". allowed is NULL-terminated; the common keys
 * every channel has (kind, max_duration_ms, safe_area, account, quota) are always allowed. */
int ain__chan_check_keys(const char *name, const cJSON *opts, const char *const *allowed,
                         ain_err_t *err);
/* *out = the string (or def when absent); AIN_ECONFIG if present and not a string, empty, or
 * (url = 1) not http:// or https://, or (secret = 1) not a valid secret name. */
int ain__chan_opt_str(const char *name, const cJSON *opts, const char *key, const char *def,
                      int required, int url, int secret, const char **out, ain_err_t *err);
/* *out = the integer in [min, max] (or def when absent); AIN_ECONFIG otherwise. */
int ain__chan_opt_int(const char *name, const cJSON *opts, const char *key, int64_t def,
                      int64_t min, int64_t max, int64_t *out, ain_err_t *err);
int ain__chan_opt_bool(const char *name, const cJSON *opts, const char *key, int def, int *out,
                       ain_err_t *err);

/* A URL the platform may GET key from: base_url + "/" + key when base_url is set, else the object
 * store's presigned URL for ttl_s. AIN_ECONFIG naming channels.<name>.media_base_url when neither
 * exists (a dir store cannot presign). */
int ain__chan_media_url(const char *name, ain_objstore_t *objects, const char *base_url,
                        int64_t ttl_s, const char *key, char *out, size_t cap, ain_err_t *err);

/* The first file of req with role "video" (its key), or NULL. */
const char *ain__chan_video_key(const ain_publish_req_t *req);

/* Copies at most cap-1 bytes of s, cutting at a UTF-8 character boundary. */
void ain__chan_utf8_copy(char *dst, size_t cap, const char *s);

#endif
