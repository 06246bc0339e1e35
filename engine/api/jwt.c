/* Bearer tokens: verification on the server's loop and minting for `ain token issue`.
 * libjwt (1.10) checks the signature; everything else is checked here, in this order, so that no
 * token reaches the signature check with an algorithm we did not configure: the header's alg
 * must be the configured one (alg "none", and an HS256 token "signed" with an RSA public key's PEM
 * text, are refused before libjwt sees them), then the signature, then the claims (aud "ain-api",
 * exp required and at most api.max_token_ttl ahead, nbf and iat with AIN__API_JWT_SKEW_S, sub,
 * role). The reason goes to err for the log; the response only says 401.
 * A token that passed is remembered (its bytes, caller and time claims; SEEN_MAX of them): sent
 * again, only the time checks run, which are the only ones whose answer can change. A client
 * sends the same token with every request, and libjwt's decode (base64, JSON, HMAC or a public-key
 * verification) would otherwise be the costliest step of a small request on the server's loop.
 * Relies on: libjwt, OpenSSL (key type checks), cJSON, core/secret.h. */
#include <cjson/cJSON.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "core/secret.h"
#include "core/util.h"

#define TOKEN_MAX 8192
#define HS256_MIN_KEY 32 /* bytes: the hash's size; a shorter HMAC key is guessable */
#define SEEN_MAX 32
#define NO_CLAIM (-1e300) /* an absent nbf or iat: before any time */

struct ain__api_jwt_seen {
  char *token; /* NULL: a free slot */
  size_t len;
  double exp, nbf, iat; /* nbf, iat: NO_CLAIM when absent */
  ain__api_caller_t caller;
};


static int key_type_ok(int alg, const unsigned char *pem, size_t len, int private_key) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) {
    return 0;
  }
  EVP_PKEY *k = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                            : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (k == NULL) {
    return 0;
  }
  int ok = alg == JWT_ALG_RS256 ? EVP_PKEY_base_id(k) == EVP_PKEY_RSA
                                : EVP_PKEY_base_id(k) == EVP_PKEY_EC && EVP_PKEY_bits(k) == 256;
  EVP_PKEY_free(k);
  return ok;
}

/* The key cfg names for verifying (private_key 0) or signing (1). Caller frees (*key, *len). */
static int load_key(const ain_config_t *cfg, int alg, int private_key, unsigned char **key,
                    size_t *len, ain_err_t *err) {
  const ain_api_config_t *ac = &cfg->api;
  char *v = NULL;
  if (alg == JWT_ALG_HS256) {
    int rc = ain_secret_resolve(cfg->secrets_dir, ac->jwt.secret, &v, len, err);
    if (rc != 0) {
      ain_err_prefix(err, "api.jwt.secret");
      snprintf(err->field, sizeof err->field, "api.jwt.secret");
      return rc;
    }
    if (*len < HS256_MIN_KEY) {
      ain_secret_free(v, *len);
      return ain_err_field(err, AIN_ECONFIG, "api.jwt.secret",
                           "api.jwt.secret: the HS256 key '%s' has %zu bytes; it needs at least "
                           "%d", ac->jwt.secret, *len, HS256_MIN_KEY);
    }
    *key = (unsigned char *)v;
    return 0;
  }
  const char *file = private_key ? ac->jwt.private_key : ac->jwt.public_key;
  const char *field = private_key ? "api.jwt.private_key" : "api.jwt.public_key";
  if (file == NULL) {
    return ain_err_field(err, AIN_ECONFIG, field, "%s is not set (%s tokens)", field,
                         ac->jwt.alg);
  }
  int rc = ain_read_file(file, &v, len);
  if (rc != 0) {
    return ain_err_field(err, AIN_ECONFIG, field, "%s: cannot read %s", field, file);
  }
  if (!key_type_ok(alg, (unsigned char *)v, *len, private_key)) {
    free(v);
    return ain_err_field(err, AIN_ECONFIG, field, "%s: %s is not a PEM %s %s key", field, file,
                         alg == JWT_ALG_RS256 ? "RSA" : "P-256 EC",
                         private_key ? "private" : "public");
  }
  *key = (unsigned char *)v;
  return 0;
}

int ain__api_jwt_init(ain__api_jwt_t *j, const ain_config_t *cfg, ain_err_t *err) {
  memset(j, 0, sizeof *j);
  j->max_ttl_s = cfg->api.max_token_ttl_s;
  if (cfg->api.jwt.alg == NULL) {
    return 0;
  }
  int alg = (int)jwt_str_alg(cfg->api.jwt.alg);
  int rc = load_key(cfg, alg, 0, &j->key, &j->key_len, err);
  if (rc == 0) {
    j->alg = alg;
  }
  return rc;
}

void ain__api_jwt_free(ain__api_jwt_t *j) {
  for (int i = 0; j->seen != NULL && i < SEEN_MAX; i++) {
    free(j->seen[i].token);
  }
  free(j->seen);
  if (j->key != NULL) {
    ain_secret_free((char *)j->key, j->key_len);
  }
  memset(j, 0, sizeof *j);
}

static int num_claim(cJSON *claims, const char *name, int required, double *out, ain_err_t *err) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
  if (v == NULL) {
    return required ? ain_err_field(err, AIN_EINVAL, name, "no '%s' claim", name) : 1;
  }
  if (!cJSON_IsNumber(v)) {
    return ain_err_field(err, AIN_EINVAL, name, "'%s' is not a number", name);
  }
  *out = v->valuedouble;
  return 0;
}

static int aud_ok(cJSON *aud) {
  if (cJSON_IsString(aud)) {
    return strcmp(aud->valuestring, AIN__API_JWT_AUD) == 0;
  }
  cJSON *e;
  cJSON_ArrayForEach(e, aud) {
    if (cJSON_IsArray(aud) && cJSON_IsString(e) && strcmp(e->valuestring, AIN__API_JWT_AUD) == 0) {
      return 1;
    }
  }
  return 0;
}

/* The time checks, alone: also what a remembered token passes again. */
static int check_times(const ain__api_jwt_t *j, double exp, double nbf, double iat, int64_t now,
                       ain_err_t *err) {
  if ((double)now > exp + AIN__API_JWT_SKEW_S) {
    return ain_err_field(err, AIN_EINVAL, "exp", "expired %.0f s ago", (double)now - exp);
  }
  if (exp - (double)now > (double)(j->max_ttl_s + AIN__API_JWT_SKEW_S)) {
    return ain_err_field(err, AIN_EINVAL, "exp",
                         "exp is %.0f s ahead, more than api.max_token_ttl (%lld s)",
                         exp - (double)now, (long long)j->max_ttl_s);
  }
  if (nbf > (double)(now + AIN__API_JWT_SKEW_S)) {
    return ain_err_field(err, AIN_EINVAL, "nbf", "not valid for another %.0f s",
                         nbf - (double)now);
  }
  if (iat > (double)(now + AIN__API_JWT_SKEW_S)) {
    return ain_err_field(err, AIN_EINVAL, "iat", "issued %.0f s in the future",
                         iat - (double)now);
  }
  return 0;
}

static int check_claims(const ain__api_jwt_t *j, cJSON *c, int64_t now, ain__api_caller_t *caller,
                        double times[3], ain_err_t *err) {
  if (!aud_ok(cJSON_GetObjectItemCaseSensitive(c, "aud"))) {
    return ain_err_field(err, AIN_EINVAL, "aud", "aud is not \"%s\"", AIN__API_JWT_AUD);
  }
  double exp = 0, nbf = NO_CLAIM, iat = NO_CLAIM;
  int rc = num_claim(c, "exp", 1, &exp, err);
  if (rc != 0) {
    return rc;
  }
  if ((rc = num_claim(c, "nbf", 0, &nbf, err)) < 0) {
    return rc;
  }
  if ((rc = num_claim(c, "iat", 0, &iat, err)) < 0) {
    return rc;
  }
  if ((rc = check_times(j, exp, nbf, iat, now, err)) != 0) {
    return rc;
  }
  times[0] = exp, times[1] = nbf, times[2] = iat;
  cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
  if (!cJSON_IsString(sub) || sub->valuestring[0] == '\0' ||
      strlen(sub->valuestring) >= sizeof caller->subject) {
    return ain_err_field(err, AIN_EINVAL, "sub", "no 'sub' (1..159 bytes)");
  }
  for (const unsigned char *p = (const unsigned char *)sub->valuestring; *p; p++) {
    if (*p < 0x21 || *p == 0x7f || *p == '"' || *p == '\\') {
      return ain_err_field(err, AIN_EINVAL, "sub", "'sub' has a control, space or quote byte");
    }
  }
  cJSON *role = cJSON_GetObjectItemCaseSensitive(c, "role");
  ain_role_t r = cJSON_IsString(role) ? ain_role_parse(role->valuestring) : AIN_ROLE_NONE;
  if (r == AIN_ROLE_NONE) {
    return ain_err_field(err, AIN_EINVAL, "role",
                         "no 'role' claim of viewer, reviewer, operator or admin");
  }
  snprintf(caller->subject, sizeof caller->subject, "%s", sub->valuestring);
  snprintf(caller->actor, sizeof caller->actor, "operator:%s", sub->valuestring);
  caller->role = r;
  caller->via = "jwt";
  return 0;
}

/* The remembered entry of token, or NULL. */
static ain__api_jwt_seen_t *seen_find(ain__api_jwt_t *j, const char *token, size_t len) {
  for (int i = 0; j->seen != NULL && i < SEEN_MAX; i++) {
    ain__api_jwt_seen_t *s = &j->seen[i];
    if (s->token != NULL && s->len == len && memcmp(s->token, token, len) == 0) {
      return s;
    }
  }
  return NULL;
}

static void seen_add(ain__api_jwt_t *j, const char *token, size_t len, const double times[3],
                     const ain__api_caller_t *caller) {
  if (j->seen == NULL && (j->seen = calloc(SEEN_MAX, sizeof *j->seen)) == NULL) {
    return; /* nothing remembered: every request verifies in full */
  }
  ain__api_jwt_seen_t *s = &j->seen[j->seen_next++ % SEEN_MAX];
  free(s->token);
  s->token = malloc(len);
  if (s->token == NULL) {
    return;
  }
  memcpy(s->token, token, len);
  s->len = len;
  s->exp = times[0], s->nbf = times[1], s->iat = times[2];
  s->caller = *caller;
}

static int verify_full(const ain__api_jwt_t *j, const char *token, size_t len, int64_t now_s,
                       ain__api_caller_t *caller, double times[3], ain_err_t *err);

int ain__api_jwt_verify(ain__api_jwt_t *j, const char *token, size_t len, int64_t now_s,
                        ain__api_caller_t *caller, ain_err_t *err) {
  if (j->alg == JWT_ALG_NONE) {
    return ain_err_set(err, AIN_EINVAL, "bearer tokens are not configured (api.jwt)");
  }
  if (len == 0 || len > TOKEN_MAX) {
    return ain_err_set(err, AIN_EINVAL, "token of %zu bytes", len);
  }
  ain__api_jwt_seen_t *s = seen_find(j, token, len);
  if (s != NULL) {
    int rc = check_times(j, s->exp, s->nbf, s->iat, now_s, err);
    if (rc == 0) {
      *caller = s->caller;
    }
    return rc;
  }
  double times[3];
  int rc = verify_full(j, token, len, now_s, caller, times, err);
  if (rc == 0) {
    seen_add(j, token, len, times, caller);
  }
  return rc;
}

/* Everything but the token's size: the header's alg, the signature, the claims. */
static int verify_full(const ain__api_jwt_t *j, const char *token, size_t len, int64_t now_s,
                       ain__api_caller_t *caller, double times[3], ain_err_t *err) {
  const char *dot = memchr(token, '.', len);
  if (dot == NULL || memchr(dot + 1, '.', len - (size_t)(dot + 1 - token)) == NULL) {
    return ain_err_set(err, AIN_EINVAL, "not a compact JWS (three dot-separated parts)");
  }
  unsigned char head[1024];
  long hl = ain_b64url_decode(token, (size_t)(dot - token), head, sizeof head - 1);
  if (hl < 0) {
    return ain_err_set(err, AIN_EINVAL, "the header is not base64url");
  }
  head[hl] = '\0';
  cJSON *h = cJSON_Parse((const char *)head);
  cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
  const char *want = jwt_alg_str((jwt_alg_t)j->alg);
  if (!cJSON_IsString(alg) || strcmp(alg->valuestring, want) != 0) {
    ain_err_set(err, AIN_EINVAL, "alg %s refused (api.jwt.alg is %s)",
                cJSON_IsString(alg) ? alg->valuestring : "(missing)", want);
    cJSON_Delete(h);
    return AIN_EINVAL;
  }
  cJSON_Delete(h);
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  memcpy(copy, token, len);
  copy[len] = '\0';
  jwt_t *jwt = NULL;
  int rc = jwt_decode(&jwt, copy, j->key, (int)j->key_len);
  free(copy);
  if (rc != 0 || jwt == NULL || (int)jwt_get_alg(jwt) != j->alg) {
    jwt_free(jwt);
    return ain_err_set(err, AIN_EINVAL, "the signature does not verify with the configured key");
  }
  char *grants = jwt_get_grants_json(jwt, NULL);
  jwt_free(jwt);
  cJSON *claims = grants ? cJSON_Parse(grants) : NULL;
  free(grants);
  if (!cJSON_IsObject(claims)) {
    cJSON_Delete(claims);
    return ain_err_set(err, AIN_EINVAL, "the claims are not a JSON object");
  }
  rc = check_claims(j, claims, now_s, caller, times, err);
  cJSON_Delete(claims);
  return rc;
}

int ain_api_token_issue(const ain_config_t *cfg, const char *sub, const char *role, int64_t ttl_s,
                        char **token, ain_err_t *err) {
  *token = NULL;
  const ain_api_config_t *ac = &cfg->api;
  if (ac->jwt.alg == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "api.jwt",
                         "no api.jwt in the config: there is no key to sign with");
  }
  if (sub == NULL || sub[0] == '\0' || strlen(sub) >= 160 || strpbrk(sub, " \"\\\t\r\n")) {
    return ain_err_field(err, AIN_EINVAL, "sub", "--sub must be 1..159 bytes without spaces or "
                         "quotes");
  }
  if (ain_role_parse(role) == AIN_ROLE_NONE) {
    return ain_err_field(err, AIN_EINVAL, "role",
                         "--role must be viewer, reviewer, operator or admin, got '%s'",
                         role ? role : "");
  }
  if (ttl_s < 1 || ttl_s > ac->max_token_ttl_s) {
    return ain_err_field(err, AIN_EINVAL, "ttl",
                         "--ttl must be from 1 s to api.max_token_ttl (%lld s), got %lld s",
                         (long long)ac->max_token_ttl_s, (long long)ttl_s);
  }
  int alg = (int)jwt_str_alg(ac->jwt.alg);
  unsigned char *key = NULL;
  size_t klen = 0;
  int rc = load_key(cfg, alg, 1, &key, &klen, err);
  if (rc != 0) {
    return rc;
  }
  jwt_t *jwt = NULL;
  int64_t now = (int64_t)time(NULL);
  if (jwt_new(&jwt) != 0 || jwt_add_grant(jwt, "sub", sub) != 0 ||
      jwt_add_grant(jwt, "aud", AIN__API_JWT_AUD) != 0 || jwt_add_grant(jwt, "role", role) != 0 ||
      jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
      jwt_add_grant_int(jwt, "exp", (long)(now + ttl_s)) != 0 ||
      jwt_set_alg(jwt, (jwt_alg_t)alg, key, (int)klen) != 0 ||
      (*token = jwt_encode_str(jwt)) == NULL) {
    rc = ain_err_set(err, AIN_EINVAL, "libjwt could not sign the token with the %s key", ac->jwt.alg);
  }
  jwt_free(jwt);
  ain_secret_free((char *)key, klen);
  return rc;
}
