/* The operator HTTP API's settings (config key `api`), parsed and validated at load: every error
 * names its key (api.tls.roles["alice"], api.max_token_ttl). The server itself is engine/api/.
 *
 * Shape (documented in ain.lua.example and docs/api.md):
 *   api = {
 *     enabled = true,                 -- false: `ain run` opens no socket
 *     listen = "127.0.0.1:8080",      -- host:port ([v6]:port); port 0 = any free port
 *     max_connections = 256,          -- accepted at once; more are closed at accept
 *     max_body_bytes = 1114112,       -- 1 MiB + 64 KiB envelope; larger bodies get 413
 *     max_header_bytes = 16384,       -- request line + headers; more gets 431
 *     request_timeout_ms = 10000,     -- whole request (headers and body) and keep-alive idle
 *     workers = 2,                    -- threads running store calls, each with its own handle
 *     events_poll_ms = 500,           -- GET /v1/events: how often the audit log is read (50..60000)
 *     max_event_streams = 64,         -- GET /v1/events streams open at once; more get 503
 *     max_token_ttl = "1h",           -- a JWT's exp at most this far ahead ("15m", "1h", 3600)
 *     metrics_public = false,         -- true: GET /metrics needs no caller (else viewer)
 *     media_ticket_ttl = "10m",       -- media_url/thumbnail_url tickets' life (1s .. 1d)
 *     jwt = { alg = "HS256", secret = "api_jwt" }    -- a secret's name (core/secret.h)
 *        or { alg = "RS256"|"ES256", public_key = "keys/api.pub",
 *             private_key = "keys/api.key" }         -- private_key: only `ain token issue`
 *     tls = { cert = "tls/server.crt", key = "tls/server.key",
 *             client_ca = "tls/ca.crt",              -- set: client certificates required
 *             roles = { ["ops-bot"] = "operator", alice = "reviewer" } },
 *   }
 * Relies on: LuaJIT (reads the config's table), core/err.h. */
#ifndef AIN_CONFIG_API_H
#define AIN_CONFIG_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lua_State;

/* Roles, weakest first: each one may do what the ones before it may. */
typedef enum {
  AIN_ROLE_NONE = 0,
  AIN_ROLE_VIEWER,   /* reads */
  AIN_ROLE_REVIEWER, /* + review decisions */
  AIN_ROLE_OPERATOR, /* + tasks, publishers, pins */
  AIN_ROLE_ADMIN,
} ain_role_t;

/* "viewer" -> AIN_ROLE_VIEWER; AIN_ROLE_NONE for anything else. */
ain_role_t ain_role_parse(const char *s);
const char *ain_role_name(ain_role_t r);

typedef struct {
  char *subject; /* a client certificate's CN or one of its DNS/email SANs */
  ain_role_t role;
} ain_api_subject_role_t;

typedef struct {
  int enabled;
  char *listen;
  int64_t max_connections;
  int64_t max_body_bytes;
  int64_t max_header_bytes;
  int64_t request_timeout_ms;
  int64_t workers;
  int64_t events_poll_ms;    /* GET /v1/events: the one poller's period */
  int64_t max_event_streams; /* streams open at once (0: the route answers 503) */
  int64_t max_token_ttl_s;
  int metrics_public; /* GET /metrics without a caller (a scraper without a token) */
  int64_t media_ticket_ttl_s; /* how long a media_url/thumbnail_url ticket is valid */
  struct {
    char *alg;         /* "HS256" | "RS256" | "ES256"; NULL = no bearer tokens */
    char *secret;      /* HS256: the secret's name */
    char *public_key;  /* RS256/ES256: PEM file that verifies */
    char *private_key; /* RS256/ES256: PEM file `ain token issue` signs with (optional) */
  } jwt;
  struct {
    char *cert, *key; /* both or neither: TLS (HTTP/2 by ALPN) */
    char *client_ca;  /* client certificates required and verified against it */
    ain_api_subject_role_t *roles;
    size_t nroles;
  } tls;
} ain_api_config_t;

#define AIN_API_MAX_TOKEN_TTL_S_MAX (7 * 86400)
#define AIN_API_MEDIA_TICKET_TTL_S_MAX 86400

void ain_api_config_defaults(ain_api_config_t *ac);
void ain_api_config_free(ain_api_config_t *ac);
/* Parses the table at the top of L's stack (the value of `api`) over ac. where = "file:line";
 * base_dir resolves relative file names. Files named are checked to exist and be readable. */
int ain_api_config_parse(struct lua_State *L, ain_api_config_t *ac, const char *where,
                         const char *base_dir, ain_err_t *err);
/* The role a client certificate subject maps to, AIN_ROLE_NONE when it is not in the map. */
ain_role_t ain_api_config_subject_role(const ain_api_config_t *ac, const char *subject);

/* "90" or 90 (seconds), "90s", "15m", "2h", "7d" -> seconds. -1 when s is not a duration. */
int64_t ain_duration_s(const char *s);

#endif
