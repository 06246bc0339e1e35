/* The channel kinds (one line each: a kind is a global table in engine/publish/<kind>.c), opening
 * a configured channel by name, the helpers every kind's check uses so that each error names
 * channels.<name>.<key>, and the pieces several kinds share (the video's file and media URL, an
 * HTTP exchange, backoff, parsing a metric count), each here once.
 * Relies on: channel.h, http.h, config/channels.h, cJSON. */
#ifndef AIN_PUBLISH_KINDS_H
#define AIN_PUBLISH_KINDS_H

#include "publish/channel.h"
#include "publish/http.h"

extern const ain_channel_kind_t ain_channel_outbox;
extern const ain_channel_kind_t ain_channel_youtube;
extern const ain_channel_kind_t ain_channel_tiktok;
extern const ain_channel_kind_t ain_channel_instagram;
extern const ain_channel_kind_t ain_channel_webhook;

/* "outbox, youtube, ..." for error messages. */
const char *ain_channel_kind_names(void);

/* Opens the configured channel called name: AIN_ENOTFOUND for a name the config does not define.
 * objects is borrowed for the channel's lifetime. Caller closes with ain_channel_close. */
int ain_channel_open(const ain_config_t *cfg, const char *name, ain_objstore_t *objects,
                     ain_channel_t **out, ain_err_t *err);
/* Validates req (ain_publish_req_check) and calls the kind's publish. */
int ain_channel_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                        ain_channel_session_t *session, ain_channel_result_t *res, ain_err_t *err);
void ain_channel_close(ain_channel_t *ch);
/* For a kind's open: allocates the ain_channel_t carrying impl (name copied). */
ain_channel_t *ain_channel_new(const ain_channel_kind_t *kind, const char *name, void *impl);
/* Frees what ain_channel_new allocated (not impl). */
void ain_channel_free(ain_channel_t *ch);

/* The key of the request's video file (role "video", else the first file); NULL without files. */
const char *ain_channel_video_key(const ain_publish_req_t *req);
/* Object key of objects opened for reading: *fd (caller closes) and *size. Blocking (an S3
 * object store copies it to its cache first); an upload streams it with http.h's body_fd. */
int ain_channel_object_fd(ain_objstore_t *objects, const char *key, int *fd, uint64_t *size,
                          ain_err_t *err);
/* ain_channel_object_fd of the request's video file. */
int ain_channel_video_fd(const ain_publish_req_t *req, int *fd, uint64_t *size, ain_err_t *err);
/* A URL the platform may GET key from: base_url + "/" + key when base_url is set, else the
 * object store's presigned URL for ttl_s; AIN_ECONFIG naming channels.<name>.media_base_url when
 * neither exists (a dir store cannot presign). */
int ain_channel_media_url(const char *name, ain_objstore_t *objects, const char *base_url,
                          int64_t ttl_s, const char *key, char *out, size_t cap, ain_err_t *err);
/* Copies at most cap-1 bytes of s, cutting at a UTF-8 character boundary. */
void ain_channel_utf8_copy(char *dst, size_t cap, const char *s);
/* One exchange on an HTTP client of its own (for kinds whose channel serves concurrent
 * publishes). 0 once the exchange ran: with an answer, *resp as ain_http_do fills it; with none
 * (refused, dropped, timed out) resp->status 0, resp->body "" and the reason (no query, no
 * token) in transport. Else AIN_ENOMEM or AIN_EIO (the body file) as ain_http_do. Free *resp
 * with ain_http_resp_free. */
int ain_channel_http(const ain_http_req_t *req, ain_http_resp_t *resp, char *transport,
                     size_t cap, ain_err_t *err);
/* Sleeps ms milliseconds (the calling thread is a pool thread: never a loop). */
void ain_channel_sleep_ms(int64_t ms);
/* Sleeps base_ms * 2^attempt (attempt 0 first), at most 30 s: the wait before a retry. */
void ain_channel_backoff(int64_t base_ms, int attempt);

/* Repeats of a metrics read after a 5xx or no answer, at most (fewer when the channel's retries
 * says so): a pass reads every post, and the next pass asks again anyway. */
#define AIN_CHANNEL_METRICS_RETRIES 2

/* A count of a platform's metrics reply (channel.h ain_channel_post_metrics_t): obj's member key
 * as a non-negative integer, a JSON number or a string of digits (YouTube sends "123"). *out is
 * -1 when the member is absent or null (the platform does not report it); -1 is returned (and
 * *out -1) when it is anything else, so the caller can name the field. */
int ain_channel_metric_count(const cJSON *obj, const char *key, int64_t *out);

/* ---- checks (no I/O) --------------------------------------------------------------------- */
/* Refuses a key of opts that is neither shared (kind, account, max_duration_ms, safe_area, quota)
 * nor in keys (NULL-terminated). */
int ain_channel_check_keys(const char *name, const cJSON *opts, const char *const *keys,
                           ain_err_t *err);
/* A string key: required or absent; max_len bytes at most, no control characters. */
int ain_channel_check_str(const char *name, const cJSON *opts, const char *key, int required,
                          size_t max_len, ain_err_t *err);
/* An http:// or https:// base URL without spaces, query, fragment or trailing slash. */
int ain_channel_check_url(const char *name, const cJSON *opts, const char *key, int required,
                          ain_err_t *err);
/* An http:// or https:// endpoint URL (a path, query and trailing slash allowed; no spaces). */
int ain_channel_check_endpoint(const char *name, const cJSON *opts, const char *key, int required,
                               ain_err_t *err);
/* The name of a secret (core/secret.h), never its value. */
int ain_channel_check_secret(const char *name, const cJSON *opts, const char *key, int required,
                             ain_err_t *err);
/* An integer in [min, max] when present. */
int ain_channel_check_int(const char *name, const cJSON *opts, const char *key, int64_t min,
                          int64_t max, ain_err_t *err);
/* true or false when present. */
int ain_channel_check_bool(const char *name, const cJSON *opts, const char *key, ain_err_t *err);
/* One of the NULL-terminated values when present. */
int ain_channel_check_enum(const char *name, const cJSON *opts, const char *key,
                           const char *const *values, ain_err_t *err);

/* Reading opts (after check): the string, or def; the integer, or def; the boolean, or def. */
const char *ain_channel_opt_str(const cJSON *opts, const char *key, const char *def);
int64_t ain_channel_opt_int(const cJSON *opts, const char *key, int64_t def);
int ain_channel_opt_bool(const cJSON *opts, const char *key, int def);

#endif
