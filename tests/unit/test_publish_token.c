/* Signed publish tokens (publish/token.h) and their config keys: a minted token verifies for
 * exactly its publish; expired, forged (bad signature, alg none, the wrong key, HS256 against an
 * ES256 verifier), wrong audience/subject/jti, replayed and too long-lived tokens are refused with
 * AIN_ETOKEN and the verdict; a TTL above 300 s is refused at mint and at config load.
 * Relies on: publish/token.h, config/config.h, libjwt and OpenSSL (to craft hostile tokens and
 * a P-256 key pair), the C harness. */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"
#include "publish/quota.h"
#include "publish/token.h"

#define KEY_A "0123456789abcdef0123456789abcdef-key-a"
#define KEY_B "0123456789abcdef0123456789abcdef-key-b"
#define JTI "504741ebd295d9f0d2061d03007726fac0a272f4d465c996d18da74e8e8ef6aa"

static const char *write_file(const char *name, const char *text) {
  static char path[4][1024];
  static int n;
  char *p = path[n++ % 4];
  snprintf(p, sizeof path[0], "%s/%s", ain_test_tmpdir(), name);
  FILE *f = fopen(p, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  return p;
}

/* A handle on an HS256 key given through the environment provider. */
static ain_publish_tokens_t *hs256(const char *secret_name, const char *value, int64_t ttl) {
  char env[128];
  snprintf(env, sizeof env, "AIN_SECRET_%s", secret_name);
  setenv(env, value, 1);
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  cfg.publish.token.alg = ain_strdup("HS256");
  char lower[64];
  snprintf(lower, sizeof lower, "%s", secret_name);
  for (char *c = lower; *c; c++) {
    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
  }
  cfg.publish.token.secret = ain_strdup(lower);
  cfg.publish.token.ttl_s = ttl;
  ain_publish_tokens_t *t = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_publish_tokens_open(&cfg, &t, &err);
  if (rc != 0) {
    fprintf(stderr, "%s\n", err.msg);
  }
  ASSERT_OK(rc);
  ASSERT_NOT_NULL(t);
  ain_config_free(&cfg);
  return t;
}

static int verify(ain_publish_tokens_t *t, const char *tok, const char *video, const char *ch,
                  int64_t used_at, int64_t now, ain_publish_token_verdict_t *v, ain_err_t *err) {
  ain_err_clear(err);
  return ain_publish_token_verify(t, tok, video, ch, JTI, used_at, now, v, err);
}

TEST(jti_is_the_policy_idempotency_key) {
  char jti[65];
  ain_publish_token_jti("v1", "outbox", jti); /* publisher.lua: ain.sha256(video_id .. channel) */
  ASSERT_STR_EQ(jti, JTI);
}

TEST(mint_and_verify) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ASSERT_OK(ain_publish_token_mint(t, "v1", "outbox", JTI, now, 300, &tok, &err));
  ain_publish_token_verdict_t v = AIN_PUBLISH_TOKEN_MALFORMED;
  ASSERT_OK(verify(t, tok, "v1", "outbox", 0, now, &v, &err));
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_OK);
  ASSERT_OK(verify(t, tok, "v1", "outbox", 0, now + 299, &v, &err)); /* still inside its life */
  free(tok);
  ain_publish_tokens_free(t);
}

TEST(expired) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ASSERT_OK(ain_publish_token_mint(t, "v1", "outbox", JTI, now - 400, 60, &tok, &err));
  ain_publish_token_verdict_t v;
  ASSERT_EQ(verify(t, tok, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_EXPIRED);
  ASSERT_STR_EQ(err.field, "exp");
  ASSERT_STR_CONTAINS(err.msg, "expired 340 s ago");
  free(tok);
  ain_publish_tokens_free(t);
}

TEST(forged_signature_and_wrong_key) {
  ain_publish_tokens_t *a = hs256("PT_A", KEY_A, 300), *b = hs256("PT_B", KEY_B, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ain_publish_token_verdict_t v;
  ASSERT_OK(ain_publish_token_mint(b, "v1", "outbox", JTI, now, 300, &tok, &err));
  ASSERT_EQ(verify(a, tok, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN); /* another key */
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_FORGED);
  ASSERT_STR_EQ(err.field, "signature");
  free(tok);
  /* One bit of the payload changed (sub v1 -> v3 would be 'MQ' -> 'Mw'): the signature fails. */
  ASSERT_OK(ain_publish_token_mint(a, "v1", "outbox", JTI, now, 300, &tok, &err));
  char *dot = strchr(tok, '.');
  dot[5] = dot[5] == 'A' ? 'B' : 'A';
  ASSERT_EQ(verify(a, tok, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_TRUE(v == AIN_PUBLISH_TOKEN_FORGED || v == AIN_PUBLISH_TOKEN_MALFORMED);
  free(tok);
  ASSERT_EQ(verify(a, "not-a-token", "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_MALFORMED);
  ASSERT_EQ(verify(a, "", "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ain_publish_tokens_free(a);
  ain_publish_tokens_free(b);
}

/* base64url of s without padding. */
static void b64url(const char *s, char *out, size_t cap) {
  unsigned char buf[1024];
  int n = EVP_EncodeBlock(buf, (const unsigned char *)s, (int)strlen(s));
  size_t k = 0;
  for (int i = 0; i < n && k + 1 < cap; i++) {
    char c = (char)buf[i];
    if (c == '=') {
      break;
    }
    out[k++] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  out[k] = '\0';
}

TEST(alg_none_refused) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char head[128], body[512], claims[512], tok[1024];
  b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", head, sizeof head);
  snprintf(claims, sizeof claims,
           "{\"iss\":\"ain\",\"sub\":\"v1\",\"aud\":\"outbox\",\"jti\":\"%s\",\"iat\":%lld,"
           "\"exp\":%lld}",
           JTI, (long long)now, (long long)now + 60);
  b64url(claims, body, sizeof body);
  snprintf(tok, sizeof tok, "%s.%s.", head, body);
  ain_publish_token_verdict_t v;
  ain_err_t err;
  ASSERT_EQ(verify(t, tok, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_FORGED);
  ASSERT_STR_EQ(err.field, "alg");
  ASSERT_STR_CONTAINS(err.msg, "alg none refused");
  ain_publish_tokens_free(t);
}

TEST(wrong_audience_subject_jti) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ain_publish_token_verdict_t v;
  ASSERT_OK(ain_publish_token_mint(t, "v1", "outbox", JTI, now, 300, &tok, &err));
  ASSERT_EQ(verify(t, tok, "v1", "youtube", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_AUDIENCE);
  ASSERT_STR_EQ(err.field, "aud");
  ASSERT_EQ(verify(t, tok, "v2", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_SUBJECT);
  ASSERT_STR_EQ(err.field, "sub");
  ain_err_clear(&err);
  ASSERT_EQ(ain_publish_token_verify(t, tok, "v1", "outbox", "other-key", 0, now, &v, &err),
            AIN_ETOKEN);
  ASSERT_STR_EQ(err.field, "jti");
  free(tok);
  ain_publish_tokens_free(t);
}

TEST(replayed) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ain_publish_token_verdict_t v;
  ASSERT_OK(ain_publish_token_mint(t, "v1", "outbox", JTI, now, 300, &tok, &err));
  ASSERT_EQ(verify(t, tok, "v1", "outbox", now * 1000 - 5, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_REPLAYED);
  ASSERT_STR_EQ(ain_publish_token_verdict_name(v), "replayed");
  /* A retry of the same publish before it landed (used_at 0) still verifies. */
  ASSERT_OK(verify(t, tok, "v1", "outbox", 0, now, &v, &err));
  free(tok);
  ain_publish_tokens_free(t);
}

TEST(ttl_above_300_refused) {
  ain_publish_tokens_t *t = hs256("PT_A", KEY_A, 300);
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain_publish_token_mint(t, "v1", "outbox", JTI, now, 301, &tok, &err), AIN_EINVAL);
  ASSERT_NULL(tok);
  ASSERT_STR_EQ(err.field, "ttl_s");
  /* A token signed with our key but made to live an hour (not by this engine) is refused. */
  jwt_t *j = NULL;
  ASSERT_OK(jwt_new(&j));
  jwt_add_grant(j, "iss", "ain");
  jwt_add_grant(j, "sub", "v1");
  jwt_add_grant(j, "aud", "outbox");
  jwt_add_grant(j, "jti", JTI);
  jwt_add_grant_int(j, "iat", (long)now);
  jwt_add_grant_int(j, "exp", (long)now + 3600);
  ASSERT_OK(jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)KEY_A, (int)strlen(KEY_A)));
  char *longlived = jwt_encode_str(j);
  jwt_free(j);
  ain_publish_token_verdict_t v;
  ASSERT_EQ(verify(t, longlived, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_LIFETIME);
  free(longlived);
  ain_publish_tokens_free(t);
}

static void write_p256(const char *priv_path, const char *pub_path) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  ASSERT_NOT_NULL(k);
  FILE *f = fopen(priv_path, "w");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
  fclose(f);
  f = fopen(pub_path, "w");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(PEM_write_PUBKEY(f, k), 1);
  fclose(f);
  EVP_PKEY_free(k);
}

TEST(es256_and_alg_confusion) {
  char priv[1024], pub[1024];
  snprintf(priv, sizeof priv, "%s/p256.pem", ain_test_tmpdir());
  snprintf(pub, sizeof pub, "%s/p256.pub.pem", ain_test_tmpdir());
  write_p256(priv, pub);
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  cfg.publish.token.alg = ain_strdup("ES256");
  cfg.publish.token.private_key = ain_strdup(priv);
  cfg.publish.token.public_key = ain_strdup(pub);
  ain_publish_tokens_t *t = NULL;
  ain_err_t err;
  ASSERT_OK(ain_publish_tokens_open(&cfg, &t, &err));
  int64_t now = (int64_t)time(NULL);
  char *tok = NULL;
  ASSERT_OK(ain_publish_token_mint(t, "v1", "outbox", JTI, now, 120, &tok, &err));
  ain_publish_token_verdict_t v;
  ASSERT_OK(verify(t, tok, "v1", "outbox", 0, now, &v, &err));
  free(tok);
  /* HS256 "signed" with the public key's PEM text: refused on its alg before any HMAC. */
  char *pem = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(pub, &pem, &len));
  jwt_t *j = NULL;
  ASSERT_OK(jwt_new(&j));
  jwt_add_grant(j, "iss", "ain");
  jwt_add_grant(j, "sub", "v1");
  jwt_add_grant(j, "aud", "outbox");
  jwt_add_grant(j, "jti", JTI);
  jwt_add_grant_int(j, "iat", (long)now);
  jwt_add_grant_int(j, "exp", (long)now + 60);
  ASSERT_OK(jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)pem, (int)len));
  char *confused = jwt_encode_str(j);
  jwt_free(j);
  free(pem);
  ASSERT_EQ(verify(t, confused, "v1", "outbox", 0, now, &v, &err), AIN_ETOKEN);
  ASSERT_EQ(v, AIN_PUBLISH_TOKEN_FORGED);
  ASSERT_STR_EQ(err.field, "alg");
  free(confused);
  ain_publish_tokens_free(t);
  /* A public key where the private one belongs is a config error naming the key. */
  free(cfg.publish.token.private_key);
  cfg.publish.token.private_key = ain_strdup(pub);
  ain_err_clear(&err);
  ASSERT_EQ(ain_publish_tokens_open(&cfg, &t, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "publish.token.private_key");
  ain_config_free(&cfg);
}

TEST(short_or_missing_secret) {
  setenv("AIN_SECRET_PT_SHORT", "too-short", 1);
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  cfg.publish.token.alg = ain_strdup("HS256");
  cfg.publish.token.secret = ain_strdup("pt_short");
  ain_publish_tokens_t *t = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain_publish_tokens_open(&cfg, &t, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "publish.token.secret");
  ASSERT_STR_CONTAINS(err.msg, "at least 32");
  free(cfg.publish.token.secret);
  cfg.publish.token.secret = ain_strdup("pt_absent");
  ain_err_clear(&err);
  ASSERT_NE(ain_publish_tokens_open(&cfg, &t, &err), 0);
  ASSERT_STR_EQ(err.field, "publish.token.secret");
  ASSERT_NULL(t);
  ain_config_free(&cfg);
  /* No publish.token: tokens are off, no handle, no error. */
  ain_config_defaults(&cfg);
  ASSERT_OK(ain_publish_tokens_open(&cfg, &t, &err));
  ASSERT_NULL(t);
  char *tok = NULL;
  ASSERT_EQ(ain_publish_token_for(&cfg, "v1", "webhook", JTI, &tok, &err), AIN_ECONFIG);
  ain_config_free(&cfg);
}

static int load(const char *text, ain_config_t *cfg, ain_err_t *err) {
  ain_config_defaults(cfg);
  ain_err_clear(err);
  return ain_config_load(cfg, write_file("ain.lua", text), err);
}

TEST(config_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("publish = { token = { alg = 'HS256', secret = 'publish_key', ttl_s = 120 } }\n"
                 "channels = { outbox = { quota = { units_per_day = 10, window_s = 60, "
                 "units_per_publish = 5, requests_per_minute = 30 } } }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.publish.token.alg, "HS256");
  ASSERT_EQ(cfg.publish.token.ttl_s, 120);
  ain_config_quota_t q;
  ASSERT_EQ(ain_publish_quota_of(&cfg, "outbox", &q), 1);
  ASSERT_EQ(q.units_per_day, 10);
  ASSERT_EQ(q.units_per_publish, 5);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field;
  } bad[] = {
      {"publish = { token = { alg = 'HS256', secret = 'k', ttl_s = 301 } }\n",
       "publish.token.ttl_s"},
      {"publish = { token = { alg = 'RS256', secret = 'k' } }\n", "publish.token.alg"},
      {"publish = { token = { alg = 'HS256' } }\n", "publish.token.secret"},
      {"publish = { token = { secret = 'k' } }\n", "publish.token.alg"},
      {"publish = { token = { alg = 'ES256', secret = 'k' } }\n", "publish.token.private_key"},
      {"publish = { token = { alg = 'HS256', secret = 'bad name!' } }\n", "publish.token.secret"},
      {"publish = { token = { alg = 'HS256', secret = 'k', lifetime = 5 } }\n",
       "publish.token.lifetime"},
      {"channels = { outbox = { quota = { units_per_day = 0 } } }\n",
       "channels.outbox.quota.units_per_day"},
      {"channels = { outbox = { quota = { units_per_day = 5, units_per_publish = 6 } } }\n",
       "channels.outbox.quota.units_per_publish"},
      {"channels = { outbox = { quota = { window_s = 90000 } } }\n",
       "channels.outbox.quota.window_s"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = load(bad[i].text, &cfg, &err);
    if (rc != AIN_ECONFIG || strcmp(err.field, bad[i].field) != 0) {
      fprintf(stderr, "case %zu: rc %d field '%s' msg %s\n", i, rc, err.field, err.msg);
    }
    ASSERT_EQ(rc, AIN_ECONFIG);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

TEST_MAIN(TEST_ENTRY(jti_is_the_policy_idempotency_key), TEST_ENTRY(mint_and_verify),
          TEST_ENTRY(expired), TEST_ENTRY(forged_signature_and_wrong_key),
          TEST_ENTRY(alg_none_refused), TEST_ENTRY(wrong_audience_subject_jti),
          TEST_ENTRY(replayed), TEST_ENTRY(ttl_above_300_refused),
          TEST_ENTRY(es256_and_alg_confusion), TEST_ENTRY(short_or_missing_secret),
          TEST_ENTRY(config_keys))
