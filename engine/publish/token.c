/* Publish tokens: the key from publish.token, minting with libjwt, and a verifier that refuses
 * anything but the configured alg before libjwt sees the token (as engine/api/jwt.c does for API
 * tokens: alg "none" and an HS256 token "signed" with a public key's PEM text never reach the
 * signature check). Relies on: libjwt 1.10, OpenSSL (sha256, key type checks), cJSON,
 * core/secret.h. */
#include "publish/token.h"

#include <cjson/cJSON.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/secret.h"
#include "core/util.h"

#define TOKEN_MAX 4096
#define HS256_MIN_KEY 32 /* bytes: the hash's size; a shorter HMAC key is guessable */

struct ain_publish_tokens {
  jwt_alg_t alg;
  unsigned char *sign_key; /* HS256: the secret; ES256: the private key's PEM */
  size_t sign_len;
  unsigned char *verify_key; /* HS256: the same secret (not a copy); ES256: the public PEM */
  size_t verify_len;
  int64_t ttl_s, grant_ttl_s;
};

static const char *const verdict_names[] = {
    [AIN_PUBLISH_TOKEN_OK] = "ok",
    [AIN_PUBLISH_TOKEN_MALFORMED] = "malformed",
    [AIN_PUBLISH_TOKEN_FORGED] = "forged",
    [AIN_PUBLISH_TOKEN_AUDIENCE] = "wrong_audience",
    [AIN_PUBLISH_TOKEN_SUBJECT] = "wrong_subject",
    [AIN_PUBLISH_TOKEN_LIFETIME] = "lifetime",
    [AIN_PUBLISH_TOKEN_REPLAYED] = "replayed",
    [AIN_PUBLISH_TOKEN_EXPIRED] = "expired",
};

const char *ain_publish_token_verdict_name(ain_publish_token_verdict_t v) {
  return (unsigned)v < sizeof verdict_names / sizeof *verdict_names ? verdict_names[v] : "?";
}

void ain_publish_token_jti(const char *video_id, const char *channel, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(c, video_id, strlen(video_id)) != 1 ||
      EVP_DigestUpdate(c, channel, strlen(channel)) != 1 || EVP_DigestFinal_ex(c, md, &n) != 1) {
    abort(); /* sha256 of memory cannot fail but for lack of memory */
  }
  EVP_MD_CTX_free(c);
  for (unsigned int i = 0; i < n && i < 32; i++) {
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  }
  out[64] = '\0';
}

/* 1 when pem holds a P-256 key of the wanted half. */
static int p256_ok(const unsigned char *pem, size_t len, int private_key) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) {
    return 0;
  }
  EVP_PKEY *k = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                            : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  int ok = k != NULL && EVP_PKEY_base_id(k) == EVP_PKEY_EC && EVP_PKEY_bits(k) == 256;
  EVP_PKEY_free(k);
  return ok;
}

static int read_pem(const char *file, const char *field, int private_key, unsigned char **out,
                    size_t *len, ain_err_t *err) {
  char *v = NULL;
  if (ain_read_file(file, &v, len) != 0) {
    return ain_err_field(err, AIN_ECONFIG, field, "%s: cannot read %s", field, file);
  }
  if (!p256_ok((unsigned char *)v, *len, private_key)) {
    ain_secret_free(v, *len);
    return ain_err_field(err, AIN_ECONFIG, field, "%s: %s is not a PEM P-256 EC %s key", field,
                         file, private_key ? "private" : "public");
  }
  *out = (unsigned char *)v;
  return 0;
}

void ain_publish_tokens_free(ain_publish_tokens_t *t) {
  if (t == NULL) {
    return;
  }
  if (t->sign_key != NULL) {
    ain_secret_free((char *)t->sign_key, t->sign_len);
  }
  if (t->verify_key != NULL && t->verify_key != t->sign_key) {
    ain_secret_free((char *)t->verify_key, t->verify_len);
  }
  free(t);
}

int ain_publish_tokens_open(const ain_config_t *cfg, ain_publish_tokens_t **out, ain_err_t *err) {
  *out = NULL;
  const char *alg = cfg->publish.token.alg;
  if (alg == NULL) {
    return 0;
  }
  ain_publish_tokens_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  t->ttl_s = cfg->publish.token.ttl_s;
  t->grant_ttl_s = cfg->publish.token.grant_ttl_s;
  int rc;
  if (strcmp(alg, "HS256") == 0) {
    t->alg = JWT_ALG_HS256;
    char *v = NULL;
    rc = ain_secret_resolve(cfg->secrets_dir, cfg->publish.token.secret, &v, &t->sign_len, err);
    if (rc != 0) {
      ain_err_prefix(err, "publish.token.secret");
      snprintf(err->field, sizeof err->field, "publish.token.secret");
      goto fail;
    }
    t->sign_key = t->verify_key = (unsigned char *)v;
    t->verify_len = t->sign_len;
    if (t->sign_len < HS256_MIN_KEY) {
      rc = ain_err_field(err, AIN_ECONFIG, "publish.token.secret",
                         "publish.token.secret: the HS256 key '%s' has %zu bytes; it needs at "
                         "least %d",
                         cfg->publish.token.secret, t->sign_len, HS256_MIN_KEY);
      goto fail;
    }
  } else if (strcmp(alg, "ES256") == 0) {
    t->alg = JWT_ALG_ES256;
    if ((rc = read_pem(cfg->publish.token.private_key, "publish.token.private_key", 1,
                       &t->sign_key, &t->sign_len, err)) != 0 ||
        (rc = read_pem(cfg->publish.token.public_key, "publish.token.public_key", 0,
                       &t->verify_key, &t->verify_len, err)) != 0) {
      goto fail;
    }
  } else {
    rc = ain_err_field(err, AIN_ECONFIG, "publish.token.alg",
                       "publish.token.alg must be HS256 or ES256, got '%s'", alg);
    goto fail;
  }
  *out = t;
  return 0;
fail:
  ain_publish_tokens_free(t);
  return rc;
}

int64_t ain_publish_tokens_ttl_s(const ain_publish_tokens_t *t) {
  return t->ttl_s;
}

int64_t ain_publish_tokens_grant_ttl_s(const ain_publish_tokens_t *t) {
  return t->grant_ttl_s;
}

int ain_publish_token_mint(const ain_publish_tokens_t *t, const char *video_id,
                           const char *channel, const char *jti, int64_t now_s, int64_t ttl_s,
                           char **token, ain_err_t *err) {
  *token = NULL;
  if (ttl_s < 1 || ttl_s > AIN_PUBLISH_TOKEN_MAX_TTL_S) {
    return ain_err_field(err, AIN_EINVAL, "ttl_s",
                         "a publish token lives 1 to %d s, asked for %lld s",
                         AIN_PUBLISH_TOKEN_MAX_TTL_S, (long long)ttl_s);
  }
  if (video_id == NULL || video_id[0] == '\0' || channel == NULL || channel[0] == '\0' ||
      jti == NULL || jti[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, video_id == NULL || !video_id[0] ? "sub"
                                          : channel == NULL || !channel[0] ? "aud"
                                                                           : "jti",
                         "a publish token needs a video id, a channel and an idempotency key");
  }
  jwt_t *jwt = NULL;
  int rc = 0;
  if (jwt_new(&jwt) != 0 || jwt_add_grant(jwt, "iss", AIN_PUBLISH_TOKEN_ISS) != 0 ||
      jwt_add_grant(jwt, "sub", video_id) != 0 || jwt_add_grant(jwt, "aud", channel) != 0 ||
      jwt_add_grant(jwt, "jti", jti) != 0 || jwt_add_grant_int(jwt, "iat", (long)now_s) != 0 ||
      jwt_add_grant_int(jwt, "exp", (long)(now_s + ttl_s)) != 0 ||
      jwt_set_alg(jwt, t->alg, t->sign_key, (int)t->sign_len) != 0 ||
      (*token = jwt_encode_str(jwt)) == NULL) {
    rc = ain_err_set(err, AIN_EINVAL, "libjwt could not sign the publish token with the %s key",
                     jwt_alg_str(t->alg));
  }
  jwt_free(jwt);
  return rc;
}


static int refuse(ain_publish_token_verdict_t *verdict, ain_publish_token_verdict_t v,
                  ain_err_t *err, const char *field, const char *msg) {
  *verdict = v;
  return ain_err_field(err, AIN_ETOKEN, field, "publish token %s: %s",
                       ain_publish_token_verdict_name(v), msg);
}

/* The header's alg is the configured one (checked before any signature work). */
static int header_ok(const ain_publish_tokens_t *t, const char *token, size_t len,
                     ain_publish_token_verdict_t *verdict, ain_err_t *err) {
  const char *dot = memchr(token, '.', len);
  if (dot == NULL || memchr(dot + 1, '.', len - (size_t)(dot + 1 - token)) == NULL) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_MALFORMED, err, "token",
                  "not a compact JWS (three dot-separated parts)");
  }
  unsigned char head[512];
  long hl = ain_b64url_decode(token, (size_t)(dot - token), head, sizeof head - 1);
  if (hl < 0) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_MALFORMED, err, "token",
                  "the header is not base64url");
  }
  head[hl] = '\0';
  cJSON *h = cJSON_Parse((const char *)head);
  const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
  int ok = cJSON_IsString(alg) && strcmp(alg->valuestring, jwt_alg_str(t->alg)) == 0;
  char got[32];
  snprintf(got, sizeof got, "%s", cJSON_IsString(alg) ? alg->valuestring : "(missing)");
  cJSON_Delete(h);
  if (!ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "alg %s refused (publish.token.alg is %s)", got,
             jwt_alg_str(t->alg));
    return refuse(verdict, AIN_PUBLISH_TOKEN_FORGED, err, "alg", msg);
  }
  return 0;
}

static const char *claim_str(const cJSON *c, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int claims_ok(const cJSON *c, const char *video_id, const char *channel, const char *jti,
                     int64_t used_at, int64_t now_s, ain_publish_token_verdict_t *verdict,
                     ain_err_t *err) {
  const cJSON *iat = cJSON_GetObjectItemCaseSensitive(c, "iat");
  const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
  const char *iss = claim_str(c, "iss"), *sub = claim_str(c, "sub"), *aud = claim_str(c, "aud"),
             *id = claim_str(c, "jti");
  if (!cJSON_IsNumber(iat) || !cJSON_IsNumber(exp) || iss == NULL || sub == NULL ||
      aud == NULL || id == NULL) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_MALFORMED, err, "claims",
                  "iss, sub, aud, jti, iat and exp are required");
  }
  char msg[256];
  if (strcmp(iss, AIN_PUBLISH_TOKEN_ISS) != 0) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_FORGED, err, "iss", "iss is not \"ain\"");
  }
  if (strcmp(aud, channel) != 0) {
    snprintf(msg, sizeof msg, "aud is channel '%.64s', this publish goes to '%.64s'", aud,
             channel);
    return refuse(verdict, AIN_PUBLISH_TOKEN_AUDIENCE, err, "aud", msg);
  }
  if (strcmp(sub, video_id) != 0) {
    snprintf(msg, sizeof msg, "sub is video '%.64s', this publish is of '%.64s'", sub, video_id);
    return refuse(verdict, AIN_PUBLISH_TOKEN_SUBJECT, err, "sub", msg);
  }
  if (strcmp(id, jti) != 0) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_SUBJECT, err, "jti",
                  "jti is not this publish's idempotency key");
  }
  double life = exp->valuedouble - iat->valuedouble;
  if (life <= 0 || life > AIN_PUBLISH_TOKEN_MAX_TTL_S) {
    snprintf(msg, sizeof msg, "it lives %.0f s (exp - iat); at most %d s is accepted", life,
             AIN_PUBLISH_TOKEN_MAX_TTL_S);
    return refuse(verdict, AIN_PUBLISH_TOKEN_LIFETIME, err, "exp", msg);
  }
  if (iat->valuedouble > (double)(now_s + AIN_PUBLISH_TOKEN_SKEW_S)) {
    snprintf(msg, sizeof msg, "issued %.0f s in the future", iat->valuedouble - (double)now_s);
    return refuse(verdict, AIN_PUBLISH_TOKEN_LIFETIME, err, "iat", msg);
  }
  if (used_at != 0) {
    snprintf(msg, sizeof msg, "its jti was used by a publish that landed at %lld ms; a token "
                              "authorises one publish",
             (long long)used_at);
    return refuse(verdict, AIN_PUBLISH_TOKEN_REPLAYED, err, "jti", msg);
  }
  if ((double)now_s > exp->valuedouble + AIN_PUBLISH_TOKEN_SKEW_S) {
    snprintf(msg, sizeof msg, "expired %.0f s ago", (double)now_s - exp->valuedouble);
    return refuse(verdict, AIN_PUBLISH_TOKEN_EXPIRED, err, "exp", msg);
  }
  *verdict = AIN_PUBLISH_TOKEN_OK;
  return 0;
}

int ain_publish_token_verify(const ain_publish_tokens_t *t, const char *token,
                             const char *video_id, const char *channel, const char *jti,
                             int64_t used_at, int64_t now_s, ain_publish_token_verdict_t *verdict,
                             ain_err_t *err) {
  size_t len = token != NULL ? strlen(token) : 0;
  if (len == 0 || len > TOKEN_MAX) {
    return refuse(verdict, AIN_PUBLISH_TOKEN_MALFORMED, err, "token",
                  len == 0 ? "no token" : "longer than 4096 bytes");
  }
  int rc = header_ok(t, token, len, verdict, err);
  if (rc != 0) {
    return rc;
  }
  jwt_t *jwt = NULL;
  if (jwt_decode(&jwt, token, t->verify_key, (int)t->verify_len) != 0 || jwt == NULL ||
      jwt_get_alg(jwt) != t->alg) {
    jwt_free(jwt);
    return refuse(verdict, AIN_PUBLISH_TOKEN_FORGED, err, "signature",
                  "the signature does not verify with publish.token's key");
  }
  char *grants = jwt_get_grants_json(jwt, NULL);
  jwt_free(jwt);
  cJSON *claims = grants != NULL ? cJSON_Parse(grants) : NULL;
  free(grants);
  if (!cJSON_IsObject(claims)) {
    cJSON_Delete(claims);
    return refuse(verdict, AIN_PUBLISH_TOKEN_MALFORMED, err, "claims",
                  "the claims are not a JSON object");
  }
  rc = claims_ok(claims, video_id, channel, jti, used_at, now_s, verdict, err);
  cJSON_Delete(claims);
  return rc;
}

int ain_publish_token_for(const ain_config_t *cfg, const char *video_id, const char *channel,
                          const char *jti, char **token, ain_err_t *err) {
  *token = NULL;
  ain_publish_tokens_t *t = NULL;
  int rc = ain_publish_tokens_open(cfg, &t, err);
  if (rc != 0) {
    return rc;
  }
  if (t == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "publish.token",
                         "no publish.token in the config: there is no key to sign with");
  }
  rc = ain_publish_token_mint(t, video_id, channel, jti, (int64_t)time(NULL), t->ttl_s, token,
                              err);
  ain_publish_tokens_free(t);
  return rc;
}
