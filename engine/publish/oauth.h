/* OAuth 2.0 for the channel kinds (RFC 6749 §6, the refresh-token grant): the client id, client
 * secret and refresh token come from the secrets provider by the names in the channel's config;
 * the access token lives in memory only (an optional access_token_secret seeds it). A request
 * answered 401 is retried once after one refresh; a refresh the server refuses is AIN_ECREDS.
 * Tokens never appear in logs, errors, audit rows or saved session state.
 * Relies on: http.h, core/secret.h, cJSON. Blocking: thread pool only. */
#ifndef AIN_PUBLISH_OAUTH_H
#define AIN_PUBLISH_OAUTH_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "publish/http.h"

typedef struct ain_oauth ain_oauth_t;

/* From the channel's opts: token_url (default_token_url when absent), client_id_secret, client_secret_secret,
 * refresh_token_secret (required), access_token_secret (optional); client_id_param names the
 * form field of the client id ("client_id"; TikTok says "client_key"). Reads the secrets now:
 * AIN_ECONFIG naming channels.<name>.<key> when one is missing. */
int ain_oauth_open(const char *name, const cJSON *opts, const char *secrets_dir,
                   const char *client_id_param, const char *default_token_url, ain_oauth_t **out,
                   ain_err_t *err);
void ain_oauth_close(ain_oauth_t *o);
/* Checks the keys above (for a kind's check). */
int ain_oauth_check(const char *name, const cJSON *opts, ain_err_t *err);
/* Performs req with the current access token (refreshing first when there is none); on a 401
 * refreshes once and performs it again. 0 with *resp (any other status is the caller's),
 * AIN_ECREDS when the refresh was refused or the retried request is still 401, else as
 * ain_http_do. req->bearer is set by this call. */
int ain_oauth_do(ain_oauth_t *o, ain_http_t *h, ain_http_req_t *req, ain_http_resp_t *resp,
                 ain_err_t *err);
/* ain_oauth_do, and after no answer (dropped, timed out) or a 5xx, the same request again up to
 * `retries` more times, sleeping retry_base_ms * 2^n (at most 30 s) between: for requests that
 * are safe to repeat (reads). After the last try its outcome is returned as ain_oauth_do's. */
int ain_oauth_do_retry(ain_oauth_t *o, ain_http_t *h, ain_http_req_t *req, ain_http_resp_t *resp,
                       int64_t retries, int64_t retry_base_ms, ain_err_t *err);
/* How many refreshes this client made (tests, logs). */
int ain_oauth_refreshes(const ain_oauth_t *o);

#endif
