/* The operator API's pure parts: route matching (404, 405 with Allow, parameters), durations,
 * the `api` config table's refusals (each naming its key), and bearer-token verification: a token
 * minted by ain_api_token_issue passes; alg none, a forged signature, the wrong audience, expired,
 * too long-lived, not yet valid, issued in the future, no exp, no role and an unknown role are
 * refused with the reason in err. (Key types and mTLS: tests/integration/api_auth.sh, api_mtls.sh.) */
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "config/config.h"
#include "harness.h"

static int noop(ain__api_call_t *c) {
  (void)c;
  return 0;
}

static const ain__api_route_t routes[] = {
    {"GET", "/healthz", AIN_ROLE_NONE, noop},
    {"GET", "/v1/tasks", AIN_ROLE_VIEWER, noop},
    {"POST", "/v1/tasks", AIN_ROLE_OPERATOR, noop},
    {"GET", "/v1/tasks/{id}", AIN_ROLE_VIEWER, noop},
    {"POST", "/v1/tasks/{id}/cancel", AIN_ROLE_OPERATOR, noop},
    {"POST", "/v1/scripts/{module}/pin/{sha}", AIN_ROLE_OPERATOR, noop},
};
#define NR (sizeof routes / sizeof routes[0])

static const ain__api_route_t *match(const char *m, const char *p, int *status, char *allow,
                                     h2o_iovec_t *params) {
  return ain__api_route_match(routes, NR, m, strlen(m), p, strlen(p), params, status, allow, 128);
}

TEST(route_match) {
  int status;
  char allow[128];
  h2o_iovec_t params[AIN__API_MAX_PARAMS];
  const ain__api_route_t *r = match("GET", "/v1/tasks/abc-1", &status, allow, params);
  ASSERT_TRUE(r == &routes[3]);
  ASSERT_EQ(status, 200);
  ASSERT_EQ(params[0].len, 5);
  ASSERT_TRUE(memcmp(params[0].base, "abc-1", 5) == 0);
  r = match("POST", "/v1/scripts/agents.judge/pin/0123abcd", &status, allow, params);
  ASSERT_TRUE(r == &routes[5]);
  ASSERT_TRUE(memcmp(params[1].base, "0123abcd", 8) == 0);
  /* a trailing slash names the same resource */
  ASSERT_TRUE(match("GET", "/v1/tasks/", &status, allow, params) == &routes[1]);
  /* method and path */
  ASSERT_TRUE(match("POST", "/v1/tasks", &status, allow, params) == &routes[2]);
  ASSERT_NULL(match("DELETE", "/v1/tasks", &status, allow, params));
  ASSERT_EQ(status, 405);
  ASSERT_STR_EQ(allow, "GET, POST");
  ASSERT_NULL(match("GET", "/v1/tasks/x/cancel", &status, allow, params));
  ASSERT_EQ(status, 405);
  ASSERT_STR_EQ(allow, "POST");
  /* a parameter is one non-empty segment */
  ASSERT_NULL(match("GET", "/v1/tasks/a/b", &status, allow, params));
  ASSERT_EQ(status, 404);
  ASSERT_NULL(match("GET", "/v1/tasks//", &status, allow, params));
  ASSERT_EQ(status, 404);
  ASSERT_NULL(match("GET", "/v1/taskss", &status, allow, params));
  ASSERT_EQ(status, 404);
  ASSERT_NULL(match("GET", "/", &status, allow, params));
  ASSERT_EQ(status, 404);
  ASSERT_NULL(match("GET", "", &status, allow, params));
  ASSERT_EQ(status, 404);
}

TEST(durations_and_roles) {
  ASSERT_EQ(ain_duration_s("90"), 90);
  ASSERT_EQ(ain_duration_s("90s"), 90);
  ASSERT_EQ(ain_duration_s("15m"), 900);
  ASSERT_EQ(ain_duration_s("2h"), 7200);
  ASSERT_EQ(ain_duration_s("7d"), 604800);
  ASSERT_EQ(ain_duration_s("1.5h"), -1);
  ASSERT_EQ(ain_duration_s("-5m"), -1);
  ASSERT_EQ(ain_duration_s("5 m"), -1);
  ASSERT_EQ(ain_duration_s("m"), -1);
  ASSERT_EQ(ain_duration_s(""), -1);
  ASSERT_EQ(ain_role_parse("viewer"), AIN_ROLE_VIEWER);
  ASSERT_EQ(ain_role_parse("admin"), AIN_ROLE_ADMIN);
  ASSERT_EQ(ain_role_parse("Admin"), AIN_ROLE_NONE);
  ASSERT_EQ(ain_role_parse("none"), AIN_ROLE_NONE);
  ASSERT_TRUE(AIN_ROLE_VIEWER < AIN_ROLE_REVIEWER && AIN_ROLE_REVIEWER < AIN_ROLE_OPERATOR &&
              AIN_ROLE_OPERATOR < AIN_ROLE_ADMIN);
}

static const char *write_file(const char *name, const char *text) {
  static char path[4][1024];
  static int n;
  char *p = path[n++ % 4];
  snprintf(p, 1024, "%s/%s", ain_test_tmpdir(), name);
  FILE *f = fopen(p, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  return p;
}

TEST(config_refusals_name_the_key) {
  write_file("cert.pem", "not a cert\n");
  static const struct {
    const char *text, *field;
  } cases[] = {
      {"api = 5", "api"},
      {"api = { listen = \"8080\" }", "api.listen"},
      {"api = { listen = \"127.0.0.1:70000\" }", "api.listen"},
      {"api = { enabled = \"yes\" }", "api.enabled"},
      {"api = { max_connections = 0 }", "api.max_connections"},
      {"api = { max_body_bytes = 1.5 }", "api.max_body_bytes"},
      {"api = { request_timeout_ms = 5 }", "api.request_timeout_ms"},
      {"api = { workers = 100 }", "api.workers"},
      {"api = { events_poll_ms = 10 }", "api.events_poll_ms"},
      {"api = { events_poll_ms = \"fast\" }", "api.events_poll_ms"},
      {"api = { max_event_streams = -1 }", "api.max_event_streams"},
      {"api = { max_event_streams = 1e6 }", "api.max_event_streams"},
      {"api = { max_token_ttl = \"8d\" }", "api.max_token_ttl"},
      {"api = { max_token_ttl = \"soon\" }", "api.max_token_ttl"},
      {"api = { media_ticket_ttl = \"2d\" }", "api.media_ticket_ttl"},
      {"api = { media_ticket_ttl = 0 }", "api.media_ticket_ttl"},
      {"api = { media_ticket_ttl = 1.5 }", "api.media_ticket_ttl"},
      {"api = { media_ticket_ttl = true }", "api.media_ticket_ttl"},
      {"api = { port = 1 }", "api.port"},
      {"api = { jwt = { alg = \"none\" } }", "api.jwt.alg"},
      {"api = { jwt = { alg = \"HS512\", secret = \"k\" } }", "api.jwt.alg"},
      {"api = { jwt = { alg = \"HS256\" } }", "api.jwt.secret"},
      {"api = { jwt = { alg = \"HS256\", secret = \"a b\" } }", "api.jwt.secret"},
      {"api = { jwt = { alg = \"RS256\", secret = \"k\" } }", "api.jwt.public_key"},
      {"api = { jwt = { alg = \"RS256\", public_key = \"missing.pem\" } }", "api.jwt.public_key"},
      {"api = { jwt = { secret = \"k\" } }", "api.jwt.alg"},
      {"api = { jwt = { alg = \"HS256\", secret = \"k\", kid = 1 } }", "api.jwt.kid"},
      {"api = { tls = { cert = \"cert.pem\" } }", "api.tls.key"},
      {"api = { tls = { cert = \"cert.pem\", key = \"cert.pem\", roles = { a = \"viewer\" } } }",
       "api.tls.client_ca"},
      {"api = { tls = { cert = \"cert.pem\", key = \"cert.pem\", client_ca = \"cert.pem\", "
       "roles = { alice = \"boss\" } } }",
       "api.tls.roles[\"alice\"]"},
      {"api = { tls = { cert = \"cert.pem\", key = \"cert.pem\", ca = \"cert.pem\" } }",
       "api.tls.ca"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ain_config_t cfg;
    ain_err_t err;
    ain_config_defaults(&cfg);
    ain_err_clear(&err);
    int rc = ain_config_load(&cfg, write_file("ain.lua", cases[i].text), &err);
    if (rc != AIN_ECONFIG || strcmp(err.field, cases[i].field) != 0) {
      AIN__FAIL("case %zu (%s): rc %d, field '%s' (want '%s'): %s", i, cases[i].text, rc,
                err.field, cases[i].field, err.msg);
    }
    ASSERT_STR_CONTAINS(err.msg, "ain.lua:1");
    ain_config_free(&cfg);
  }
  /* and a good one */
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_OK(ain_config_load(&cfg,
                            write_file("ok.lua", "api = { listen = \"[::1]:0\", max_token_ttl = "
                                                 "\"15m\", workers = 3, jwt = { alg = \"HS256\", "
                                                 "secret = \"api_jwt\" } }"),
                            &err));
  ASSERT_EQ(cfg.api.max_token_ttl_s, 900);
  ASSERT_EQ(cfg.api.media_ticket_ttl_s, 600); /* the default */
  ASSERT_EQ(cfg.api.workers, 3);
  ASSERT_STR_EQ(cfg.api.jwt.secret, "api_jwt");
  ASSERT_EQ(cfg.api.enabled, 1);
  ain_config_free(&cfg);
}

#define KEY "0123456789abcdef0123456789abcdef-test-key"

static void hs_config(ain_config_t *cfg) {
  ain_err_t err;
  ain_config_defaults(cfg);
  setenv("AIN_SECRET_API_JWT", KEY, 1);
  ASSERT_OK(ain_config_load(
      cfg, write_file("hs.lua", "api = { max_token_ttl = \"1h\", jwt = { alg = \"HS256\", "
                                "secret = \"api_jwt\" } }"),
      &err));
}

/* A token with exactly these claims (JSON), signed HS256 with key. */
static char *mint(const char *claims, const char *key) {
  jwt_t *j = NULL;
  ASSERT_OK(jwt_new(&j));
  ASSERT_OK(jwt_add_grants_json(j, claims));
  ASSERT_OK(jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)key, (int)strlen(key)));
  char *t = jwt_encode_str(j);
  jwt_free(j);
  ASSERT_NOT_NULL(t);
  return t;
}

static int verify(ain__api_jwt_t *j, const char *tok, ain__api_caller_t *c, ain_err_t *err) {
  memset(c, 0, sizeof *c);
  ain_err_clear(err);
  return ain__api_jwt_verify(j, tok, strlen(tok), (int64_t)time(NULL), c, err);
}

TEST(jwt_verify) {
  ain_config_t cfg;
  hs_config(&cfg);
  ain__api_jwt_t j;
  ain_err_t err;
  ASSERT_OK(ain__api_jwt_init(&j, &cfg, &err));
  ain__api_caller_t c;

  char *tok = NULL;
  ASSERT_OK(ain_api_token_issue(&cfg, "alice", "reviewer", 900, &tok, &err));
  ASSERT_OK(verify(&j, tok, &c, &err));
  ASSERT_STR_EQ(c.actor, "operator:alice");
  ASSERT_EQ(c.role, AIN_ROLE_REVIEWER);
  /* verified again (remembered): the same caller; the time checks still run on it */
  memset(&c, 0, sizeof c);
  ASSERT_OK(ain__api_jwt_verify(&j, tok, strlen(tok), (int64_t)time(NULL) + 60, &c, &err));
  ASSERT_STR_EQ(c.actor, "operator:alice");
  ASSERT_EQ(c.role, AIN_ROLE_REVIEWER);
  ASSERT_EQ(ain__api_jwt_verify(&j, tok, strlen(tok), (int64_t)time(NULL) + 900 + 31, &c, &err),
            AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "exp");
  ASSERT_STR_CONTAINS(err.msg, "expired");
  ASSERT_EQ(ain__api_jwt_verify(&j, tok, strlen(tok), (int64_t)time(NULL) - 3600, &c, &err),
            AIN_EINVAL); /* seen from an hour before: iat in the future, exp past max_token_ttl */
  ASSERT_OK(verify(&j, tok, &c, &err));
  /* the signature covers every byte: flip one in the payload and one in the signature */
  char *bad = strdup(tok);
  char *p = strchr(bad, '.') + 3;
  *p = *p == 'A' ? 'B' : 'A';
  ASSERT_EQ(verify(&j, bad, &c, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "signature");
  strcpy(bad, tok);
  p = bad + strlen(bad) - 2;
  *p = *p == 'A' ? 'B' : 'A';
  ASSERT_EQ(verify(&j, bad, &c, &err), AIN_EINVAL);
  free(bad);
  free(tok);
  /* minting refuses a ttl past max_token_ttl, an unknown role */
  ASSERT_EQ(ain_api_token_issue(&cfg, "alice", "reviewer", 7200, &tok, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "ttl");
  ASSERT_EQ(ain_api_token_issue(&cfg, "alice", "root", 60, &tok, &err), AIN_EINVAL);

  long now = (long)time(NULL);
  static const struct {
    const char *claims; /* %ld = now */
    const char *key;
    const char *reason;
  } cases[] = {
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", "another-key-of-32-"
       "bytes-or-more-000000", "signature"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"other\",\"exp\":%ld}", KEY, "aud"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":[\"x\",\"y\"],\"exp\":%ld}", KEY, "aud"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"exp\":%ld}", KEY, "aud"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "expired"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "max_token_ttl"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"nbf\":%ld,\"exp\":%ld}", KEY,
       "not valid"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"iat\":%ld,\"exp\":%ld}", KEY,
       "future"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\"}", KEY, "exp"},
      {"{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":\"soon\"}", KEY, "number"},
      {"{\"sub\":\"a\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "role"},
      {"{\"sub\":\"a\",\"role\":\"root\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "role"},
      {"{\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "sub"},
      {"{\"sub\":\"a b\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", KEY, "sub"},
  };
  long exps[] = {now + 60,   now + 60,   now + 60,   now + 60,  now - 120,
                 now + 7300, now + 600,  now + 600,  0,         0,
                 now + 60,   now + 60,   now + 60,   now + 60};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char claims[512];
    if (strstr(cases[i].claims, "nbf") || strstr(cases[i].claims, "iat")) {
      snprintf(claims, sizeof claims, cases[i].claims, now + 300, exps[i]);
    } else {
      snprintf(claims, sizeof claims, cases[i].claims, exps[i]);
    }
    char *t = mint(claims, cases[i].key);
    int rc = verify(&j, t, &c, &err);
    if (rc != AIN_EINVAL || strstr(err.msg, cases[i].reason) == NULL) {
      AIN__FAIL("case %zu %s: rc %d, '%s' (want '%s')", i, claims, rc, err.msg, cases[i].reason);
    }
    free(t);
  }
  /* a small skew is allowed: expired 10 s ago, nbf 10 s ahead */
  char claims[256];
  snprintf(claims, sizeof claims,
           "{\"sub\":\"a\",\"role\":\"viewer\",\"aud\":[\"x\",\"ain-api\"],\"exp\":%ld,\"nbf\":%ld}",
           now - 10, now + 10);
  char *t = mint(claims, KEY);
  ASSERT_OK(verify(&j, t, &c, &err));
  free(t);
  /* alg none: header {"alg":"none"}, claims that would pass, an empty signature */
  const char *none_hdr = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; /* {"alg":"none","typ":"JWT"} */
  snprintf(claims, sizeof claims,
           "{\"sub\":\"a\",\"role\":\"admin\",\"aud\":\"ain-api\",\"exp\":%ld}", now + 60);
  char b64[512];
  size_t n = 0;
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t len = strlen(claims);
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned char)claims[i] << 16 |
                 (i + 1 < len ? (unsigned char)claims[i + 1] << 8 : 0) |
                 (i + 2 < len ? (unsigned char)claims[i + 2] : 0);
    b64[n++] = tbl[(v >> 18) & 63];
    b64[n++] = tbl[(v >> 12) & 63];
    if (i + 1 < len) {
      b64[n++] = tbl[(v >> 6) & 63];
    }
    if (i + 2 < len) {
      b64[n++] = tbl[v & 63];
    }
  }
  b64[n] = '\0';
  char none_tok[1024];
  snprintf(none_tok, sizeof none_tok, "%s.%s.", none_hdr, b64);
  ASSERT_EQ(verify(&j, none_tok, &c, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "alg none refused");
  ASSERT_EQ(verify(&j, "abc", &c, &err), AIN_EINVAL);
  ASSERT_EQ(verify(&j, "a.b.c", &c, &err), AIN_EINVAL);
  ASSERT_EQ(verify(&j, "", &c, &err), AIN_EINVAL);
  ain__api_jwt_free(&j);
  ain_config_free(&cfg);
}

TEST(hs256_key_too_short) {
  ain_config_t cfg;
  hs_config(&cfg);
  setenv("AIN_SECRET_API_JWT", "short", 1);
  ain__api_jwt_t j;
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain__api_jwt_init(&j, &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "api.jwt.secret");
  unsetenv("AIN_SECRET_API_JWT");
  cfg.secrets_dir[0] = '\0';
  ain_err_clear(&err);
  ASSERT_NE(ain__api_jwt_init(&j, &cfg, &err), 0);
  ASSERT_STR_EQ(err.field, "api.jwt.secret");
  ain_config_free(&cfg);
}

TEST_MAIN(TEST_ENTRY(route_match), TEST_ENTRY(durations_and_roles),
          TEST_ENTRY(config_refusals_name_the_key), TEST_ENTRY(jwt_verify),
          TEST_ENTRY(hs256_key_too_short))
