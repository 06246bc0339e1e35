/* Signed publish tokens (issue 14, docs/publish-tokens-quotas.md): a JWT the engine mints when
 * the judge passes a video or a reviewer approves it, and that the publish built-in verifies
 * before it calls a channel. Claims: iss "ain", sub = the video id, aud = the channel's name,
 * jti = the publish's idempotency key (sha256 of video id and channel), iat, exp; at most
 * AIN_PUBLISH_TOKEN_MAX_TTL_S of life. Signed HS256 (a secret from core/secret.h) or ES256 (a
 * P-256 key pair in PEM files), as publish.token says.
 *
 * Only C reaches the key: no Lua binding mints or reads one (a policy can name a video, it
 * cannot authorise it). The verifier refuses, before libjwt sees the token, any alg but the
 * configured one (alg "none" included).
 * Threading: ain_publish_tokens_open reads files (blocking: start-up or the thread pool); mint
 * and verify are CPU only (an HMAC or one P-256 operation) and safe from any thread on a shared
 * handle. Relies on: libjwt (1.10), OpenSSL, cJSON, core/secret.h, config/config.h. */
#ifndef AIN_PUBLISH_TOKEN_H
#define AIN_PUBLISH_TOKEN_H

#include <stdint.h>

#include "config/config.h"
#include "core/err.h"

#define AIN_PUBLISH_TOKEN_MAX_TTL_S 300
#define AIN_PUBLISH_TOKEN_SKEW_S 5 /* clock difference tolerated between nodes */
#define AIN_PUBLISH_TOKEN_ISS "ain"

typedef struct ain_publish_tokens ain_publish_tokens_t;

/* Loads publish.token's key (blocking). *out = NULL and 0 when publish.token is not configured
 * (tokens off). AIN_ECONFIG naming publish.token.* for a missing/short secret (HS256 needs 32
 * bytes) or a PEM file that is not a P-256 key. */
int ain_publish_tokens_open(const ain_config_t *cfg, ain_publish_tokens_t **out, ain_err_t *err);
void ain_publish_tokens_free(ain_publish_tokens_t *t);
/* publish.token.ttl_s and grant_ttl_s of the handle. */
int64_t ain_publish_tokens_ttl_s(const ain_publish_tokens_t *t);
int64_t ain_publish_tokens_grant_ttl_s(const ain_publish_tokens_t *t);

/* Mints a token for (video_id, channel, jti) valid from now_s for ttl_s (1 .. 300: a longer one
 * is refused with AIN_EINVAL naming "ttl_s"). *token: caller frees with free(). */
int ain_publish_token_mint(const ain_publish_tokens_t *t, const char *video_id,
                           const char *channel, const char *jti, int64_t now_s, int64_t ttl_s,
                           char **token, ain_err_t *err);

/* Why a token was refused (err->field names the claim). */
typedef enum {
  AIN_PUBLISH_TOKEN_OK = 0,
  AIN_PUBLISH_TOKEN_MALFORMED, /* not a compact JWS, bad base64/JSON, a claim missing */
  AIN_PUBLISH_TOKEN_FORGED,    /* alg not the configured one (none included), bad signature */
  AIN_PUBLISH_TOKEN_AUDIENCE,  /* aud is not the channel */
  AIN_PUBLISH_TOKEN_SUBJECT,   /* sub is not the video, or jti not the idempotency key */
  AIN_PUBLISH_TOKEN_LIFETIME,  /* exp - iat above 300 s, or iat in the future */
  AIN_PUBLISH_TOKEN_REPLAYED,  /* its jti already belongs to a publish that landed */
  AIN_PUBLISH_TOKEN_EXPIRED    /* genuine in every other respect, but past exp */
} ain_publish_token_verdict_t;

/* "ok", "malformed", "forged", "wrong_audience", "wrong_subject", "lifetime", "replayed",
 * "expired": the audit detail's and the metric's word for a verdict. */
const char *ain_publish_token_verdict_name(ain_publish_token_verdict_t v);

/* Verifies token for a publish of video_id to channel under idempotency key jti at now_s.
 * used_at: when the grant's jti was used by a publish that landed (0 = never); a used jti is a
 * replay. Checks in this order: shape and alg, signature, iss/aud/sub/jti, lifetime, replay,
 * expiry, so that EXPIRED means "signed by us for exactly this publish, only old". 0 or
 * AIN_ETOKEN with *verdict and err naming the claim (never the token's bytes). */
int ain_publish_token_verify(const ain_publish_tokens_t *t, const char *token,
                             const char *video_id, const char *channel, const char *jti,
                             int64_t used_at, int64_t now_s, ain_publish_token_verdict_t *verdict,
                             ain_err_t *err);

/* The idempotency key (and jti) of publishing video_id to channel: lowercase hex sha256 of
 * video_id .. channel, as scripts/agents/publisher.lua computes it. out: 65 bytes. */
void ain_publish_token_jti(const char *video_id, const char *channel, char out[65]);

/* For a channel that forwards the token (webhook: Authorization: Bearer): loads publish.token's
 * key and mints a fresh token for (video_id, channel, jti) with publish.token.ttl_s. Blocking
 * (reads the key): call it on the thread pool, where channels run. AIN_ECONFIG when
 * publish.token is not configured. *token: caller frees. */
int ain_publish_token_for(const ain_config_t *cfg, const char *video_id, const char *channel,
                          const char *jti, char **token, ain_err_t *err);

#endif
