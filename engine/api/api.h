/* The operator HTTP API server: h2o (Debian's libuv build) on a uv loop and a thread of its own,
 * never a shard's or the main loop, so a slow client or a large response cannot delay a step.
 * HTTP/1.1 and HTTP/2 (ALPN on TLS, h2c on plain), keep-alive, limits (connections, header and
 * body bytes, whole-request time), a declarative route table with one error shape
 * ({"error":{"code","field","message"}}), JWT bearer and mTLS callers with roles. Handlers that
 * need the store run on the server's worker threads, each with its own store handle; the response
 * is sent from the server's loop when the work is done. See docs/api.md.
 *
 * Threads: ain_api_start / ain_api_stop / ain_api_free on one controlling thread (`ain run`'s
 * main thread); ain_api_engine_state from any thread.
 * Relies on: config/api.h (settings), core/secret.h (the HS256 key), store (worker handles),
 * h2o, OpenSSL, libjwt, cJSON. */
#ifndef AIN_API_API_H
#define AIN_API_API_H

#include <stdint.h>

#include "config/config.h"
#include "core/err.h"

typedef struct ain_api ain_api_t;

/* Binds api.listen and starts the server's thread and workers. Every setup error (bad key file,
 * address in use, unreadable secret) is returned here, naming the config key. cfg is borrowed
 * until ain_api_free. With api.enabled false: 0 and *out = NULL. */
int ain_api_start(const ain_config_t *cfg, ain_api_t **out, ain_err_t *err);
/* The port actually bound (api.listen may say 0). */
int ain_api_port(const ain_api_t *api);

/* What the engine tells /readyz (thread-safe). */
typedef enum {
  AIN_API_ENGINE_STARTING = 0, /* not ready: store migrating, registry loading */
  AIN_API_ENGINE_RUNNING,      /* store migrated, registry loaded, shards started */
  AIN_API_ENGINE_STOPPING,     /* SIGTERM/SIGINT or idle: /readyz says 503, requests still served */
} ain_api_engine_state_t;
void ain_api_engine_state(ain_api_t *api, ain_api_engine_state_t st);

/* Stops accepting, lets requests in flight finish (HTTP/2 GOAWAY, HTTP/1 Connection: close),
 * closes idle connections and waits for the server's thread at most deadline_ms. Returns 0 when
 * it stopped, AIN_ETIMEOUT when it did not (the thread is left to the process exit). */
int ain_api_stop(ain_api_t *api, int64_t deadline_ms);
/* Frees a server that stopped (or never started). NULL is fine. */
void ain_api_free(ain_api_t *api);

/* Mints a bearer token from the configured key (api.jwt: the HS256 secret, or private_key for
 * RS256/ES256): sub, role, aud "ain-api", iat, exp = now + ttl_s (at most api.max_token_ttl).
 * Blocking (reads the secret or key file). Caller frees *token with free(). */
int ain_api_token_issue(const ain_config_t *cfg, const char *sub, const char *role, int64_t ttl_s,
                        char **token, ain_err_t *err);

#endif
