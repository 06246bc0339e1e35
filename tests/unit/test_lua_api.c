/* Tests for the ain.* functions that talk to the world: http (against an HTTP server this binary
 * runs on the test's own loop), store (a real SQLite store on the same loop), emit, secret and
 * hmac_sha256. Policies are fixtures in tests/fixtures/lua_api. Every test ends with the host
 * freed and uv_loop_close() == 0: no leaked handles, also after a cancelled request.
 * Relies on: lua/host.h, store/store.h, cJSON (reading results), libuv, the C harness. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "store/posts.h"
#include "lua/host.h"
#include "obs/obs.h"
#include "sched/step.h"
#include "store/store.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/* The harness ends each test with _exit(), which skips LeakSanitizer: check at every teardown. */
#define CHECK_LEAKS() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define CHECK_LEAKS() ((void)0)
#endif

/* ---- a tiny HTTP/1.1 server on the test loop ------------------------------------------------ */

typedef struct conn {
  uv_tcp_t tcp;
  char buf[1 << 16];
  size_t len;
  int answered;
  struct server *srv;
  struct conn *next;
} conn_t;

typedef struct server {
  uv_tcp_t listener;
  int port;
  conn_t *conns;
  int accepted;
  int open; /* handles not yet closed */
} server_t;

static void conn_closed(uv_handle_t *h) {
  conn_t *c = h->data;
  server_t *s = c->srv;
  for (conn_t **p = &s->conns; *p; p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      break;
    }
  }
  s->open--;
  free(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)hint;
  conn_t *c = h->data;
  b->base = c->buf + c->len;
  b->len = sizeof c->buf - 1 - c->len;
}

typedef struct {
  uv_write_t w;
  char *data;
} wreq_t;

static void on_written(uv_write_t *w, int status) {
  (void)status;
  wreq_t *r = (wreq_t *)w;
  conn_t *c = w->handle->data;
  free(r->data);
  free(r);
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
  }
}

static void on_kept_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void respond(conn_t *c, int status, const char *extra_headers, const char *body,
                    size_t body_len) {
  size_t cap = body_len + 1024;
  char *out = malloc(cap);
  ASSERT_NOT_NULL(out);
  int n = snprintf(out, cap,
                   "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                   body_len, extra_headers);
  memcpy(out + n, body, body_len);
  wreq_t *w = calloc(1, sizeof *w);
  w->data = out;
  uv_buf_t b = uv_buf_init(out, (unsigned)((size_t)n + body_len));
  ASSERT_OK(uv_write(&w->w, (uv_stream_t *)&c->tcp, &b, 1, on_written));
}

/* Routes: /v1/chat/completions (a chat completion with usage), /busy/v1/chat/completions (503,
 * Retry-After: 0), /hello, /echo (method, body and x-echo header back), /status/NNN, /big (2 MiB),
 * /slow (never answers). */
static void route(conn_t *c) {
  char *end = strstr(c->buf, "\r\n\r\n");
  if (end == NULL) {
    return;
  }
  size_t head = (size_t)(end + 4 - c->buf);
  size_t clen = 0;
  char *cl = strcasestr(c->buf, "\r\ncontent-length:");
  if (cl != NULL && cl < end) {
    clen = strtoul(cl + 17, NULL, 10);
  }
  if (c->len < head + clen) {
    return; /* body still coming */
  }
  c->answered = 1;
  char method[16] = "", path[256] = "";
  sscanf(c->buf, "%15s %255s", method, path);
  if (strcmp(path, "/keep") == 0) {
    /* keep-alive: the connection stays open after the answer, as most servers do */
    static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept";
    wreq_t *w = calloc(1, sizeof *w);
    w->data = NULL;
    uv_buf_t b = uv_buf_init((char *)ans, sizeof ans - 1);
    ASSERT_OK(uv_write(&w->w, (uv_stream_t *)&c->tcp, &b, 1, on_kept_written));
    /* ready for the next request on this connection */
    size_t used = head + clen;
    memmove(c->buf, c->buf + used, c->len - used + 1);
    c->len -= used;
    c->answered = 0;
  } else if (strcmp(path, "/v1/chat/completions") == 0) {
    static const char ans[] =
        "{\"model\":\"m\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":"
        "{\"role\":\"assistant\",\"content\":\"{\\\"topic\\\":\\\"trains\\\"}\"}}],"
        "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}";
    respond(c, 200, "Content-Type: application/json\r\n", ans, sizeof ans - 1);
  } else if (strcmp(path, "/busy/v1/chat/completions") == 0) {
    static const char busy[] = "{\"error\":{\"message\":\"busy\"}}";
    respond(c, 503, "Retry-After: 0\r\n", busy, sizeof busy - 1);
  } else if (strcmp(path, "/hello") == 0) {
    respond(c, 200, "X-Test: one\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n", "hello", 5);
  } else if (strcmp(path, "/echo") == 0) {
    char body[8192], hv[256] = "";
    char *h = strcasestr(c->buf, "\r\nx-echo:");
    if (h != NULL && h < end) {
      sscanf(h + 9, " %255[^\r]", hv);
    }
    int n = snprintf(body, sizeof body, "%s|%.*s|%s", method, (int)clen, c->buf + head, hv);
    respond(c, 200, "Content-Type: text/plain\r\n", body, (size_t)n);
  } else if (strncmp(path, "/status/", 8) == 0) {
    respond(c, atoi(path + 8), "", "status", 6);
  } else if (strcmp(path, "/big") == 0) {
    size_t n = 2u << 20;
    char *big = malloc(n);
    memset(big, 'b', n);
    respond(c, 200, "", big, n);
    free(big);
  } else if (strcmp(path, "/slow") == 0) {
    /* never answers: the client's timeout or cancel must end it */
  } else {
    respond(c, 404, "", "no", 2);
  }
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  (void)b;
  conn_t *c = st->data;
  if (n < 0) {
    if (!uv_is_closing((uv_handle_t *)st)) {
      uv_close((uv_handle_t *)st, conn_closed);
    }
    return;
  }
  c->len += (size_t)n;
  c->buf[c->len] = '\0';
  if (!c->answered) {
    route(c);
  }
}

static void on_conn(uv_stream_t *l, int status) {
  ASSERT_OK(status);
  server_t *s = l->data;
  conn_t *c = calloc(1, sizeof *c);
  c->srv = s;
  uv_tcp_init(l->loop, &c->tcp);
  c->tcp.data = c;
  s->open++;
  c->next = s->conns;
  s->conns = c;
  ASSERT_OK(uv_accept(l, (uv_stream_t *)&c->tcp));
  s->accepted++;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void listener_closed(uv_handle_t *h) { ((server_t *)h->data)->open--; }

static void server_start(server_t *s, uv_loop_t *loop) {
  memset(s, 0, sizeof *s);
  ASSERT_OK(uv_tcp_init(loop, &s->listener));
  s->listener.data = s;
  s->open = 1;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  ASSERT_OK(uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0));
  ASSERT_OK(uv_listen((uv_stream_t *)&s->listener, 64, on_conn));
  struct sockaddr_in got;
  int len = sizeof got;
  ASSERT_OK(uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len));
  s->port = ntohs(got.sin_port);
}

static void server_stop(server_t *s) {
  uv_close((uv_handle_t *)&s->listener, listener_closed);
  for (conn_t *c = s->conns; c; c = c->next) {
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
      uv_close((uv_handle_t *)&c->tcp, conn_closed);
    }
  }
}

/* A port nothing listens on: bind, read the port, close. */
static int dead_port(uv_loop_t *loop) {
  uv_tcp_t t;
  uv_tcp_init(loop, &t);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  ASSERT_OK(uv_tcp_bind(&t, (const struct sockaddr *)&a, 0));
  struct sockaddr_in got;
  int len = sizeof got;
  ASSERT_OK(uv_tcp_getsockname(&t, (struct sockaddr *)&got, &len));
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return ntohs(got.sin_port);
}

/* ---- the Lua host and calls ----------------------------------------------------------------- */

typedef struct {
  int calls;
  int status;
  cJSON *result;
  char *error;
  char *io; /* ain_lua_call_io() of the call */
} outcome_t;

static void on_done(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  outcome_t *o = data;
  o->io = ain_lua_call_io(call);
  o->calls++;
  o->status = status;
  o->result = result ? cJSON_Parse(result) : NULL;
  o->error = error ? ain_strdup(error) : NULL;
}

static void outcome_free(outcome_t *o) {
  cJSON_Delete(o->result);
  free(o->io);
  free(o->error);
  memset(o, 0, sizeof *o);
}

typedef struct {
  uv_loop_t loop;
  ain_lua_host_t *h;
  ain_store_t *store;
  server_t srv;
  char url[64];
  char secrets[512];
} env_t;

static int replay_mode; /* next env_init makes a host with no_side_effects */
/* next env_init makes a host that loads only the sources given to it, as a registry's shard host
 * does: agents/api.lua and personas/alpha.lua (personas/broken.lua was never published) */
static int published_mode;
static ain_store_batch_t *next_outbox; /* the outbox start() gives the calls it makes */
static const char *next_replay_io;     /* the recorded exchanges start() gives its calls */

static void env_init(env_t *e, int with_store, int with_server) {
  memset(e, 0, sizeof *e);
  ASSERT_OK(uv_loop_init(&e->loop));
  ain_err_t err = {0};
  if (with_store) {
    char url[700];
    static int n;
    snprintf(url, sizeof url, "sqlite:%s/api%d.db", ain_test_tmpdir(), n++);
    ain_store_config_t cfg = {.url = url, .busy_timeout_ms = 5000};
    ASSERT_OK(ain_store_open(&cfg, &e->loop, &e->store, &err));
    ain_store_req_t r;
    ain_store_req_migrate(&r);
    if (ain_store_wait(e->store, &r) != 0) {
      fprintf(stderr, "migrate: %s\n", r.err.msg);
      abort();
    }
    ain_store_req_cleanup(&r);
  }
  snprintf(e->secrets, sizeof e->secrets, "%s/secrets", ain_test_tmpdir());
  mkdir(e->secrets, 0700);
  ain_lua_opts_t o = {.scripts_dir = ain_test_src("tests/fixtures/lua_api"),
                      .name = "test",
                      .store = e->store,
                      .secrets_dir = e->secrets,
                      .default_max_attempts = 4,
                      .no_side_effects = replay_mode,
                      .sources_only = published_mode};
  int rc = ain_lua_host_new(&e->loop, &o, &e->h, &err);
  if (rc != 0) {
    fprintf(stderr, "host: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  if (published_mode) {
    static const char *const mods[][2] = {{"api", "agents/api.lua"},
                                          {"personas/alpha", "personas/alpha.lua"}};
    for (size_t i = 0; i < 2; i++) {
      char path[1024], *src = NULL;
      size_t len = 0;
      snprintf(path, sizeof path, "%s/%s", o.scripts_dir, mods[i][1]);
      ASSERT_OK(ain_read_file(path, &src, &len));
      ASSERT_OK(ain_lua_host_set_source(e->h, mods[i][0], src, len, NULL, &err));
      free(src);
    }
  }
  if (with_server) {
    server_start(&e->srv, &e->loop);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d", e->srv.port);
  }
}

static void store_closed(void *d) { *(int *)d = 1; }

static void env_done(env_t *e) {
  ASSERT_EQ(ain_lua_host_active(e->h), 0);
  ain_lua_host_free(e->h);
  if (e->srv.port != 0) {
    server_stop(&e->srv);
  }
  if (e->store != NULL) {
    int closed = 0;
    ain_store_close(e->store, store_closed, &closed);
    while (!closed) {
      uv_run(&e->loop, UV_RUN_ONCE);
    }
  }
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT));
  ASSERT_EQ(e->srv.open, 0);
  ASSERT_EQ(uv_loop_close(&e->loop), 0);
  CHECK_LEAKS();
}

static ain_lua_call_t *start(env_t *e, const char *mod, const char *fn, const char *payload,
                             outcome_t *o) {
  ain_lua_call_opts_t co = {
      .module = mod, .function = fn, .payload_json = payload, .outbox = next_outbox,
      .replay_io = next_replay_io};
  ain_err_t err = {0};
  ain_lua_call_t *call = NULL;
  int rc = ain_lua_call(e->h, &co, on_done, o, &call, &err);
  if (rc != 0) {
    fprintf(stderr, "call: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  return call;
}

/* Runs the loop until the call has ended (the server keeps the loop alive, so not UV_RUN_DEFAULT). */
static void wait_call(env_t *e, outcome_t *o) {
  uint64_t t0 = ain_mono_ns();
  while (o->calls == 0) {
    uv_run(&e->loop, UV_RUN_ONCE);
    ASSERT_LE((ain_mono_ns() - t0) / 1000000, 20000);
  }
  ASSERT_EQ(o->calls, 1);
}

static void run(env_t *e, const char *mod, const char *fn, const char *payload, outcome_t *o) {
  start(e, mod, fn, payload, o);
  wait_call(e, o);
  if (o->status != 0) {
    fprintf(stderr, "%s.%s: %s\n", mod, fn, o->error);
  }
}

static const char *str_at(const cJSON *o, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL) {
    x = cJSON_GetObjectItemCaseSensitive(x, b);
  }
  return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL) {
    x = cJSON_GetObjectItemCaseSensitive(x, b);
  }
  return cJSON_IsNumber(x) ? x->valuedouble : -12345;
}

/* The policy raises for misuse `what`: status ELUA, "bad argument" naming the function. */
static void expect_raise(env_t *e, const char *what, const char *needle) {
  char payload[256];
  snprintf(payload, sizeof payload, "{\"what\":\"%s\",\"url\":\"%s\"}", what,
           e->url[0] ? e->url : "http://127.0.0.1:1");
  outcome_t o = {0};
  start(e, "api", "raise", payload, &o);
  wait_call(e, &o);
  if (o.status != AIN_ELUA || strstr(o.error, needle) == NULL) {
    fprintf(stderr, "%s: status %d: %s\n", what, o.status, o.error ? o.error : "(no error)");
  }
  ASSERT_EQ(o.status, AIN_ELUA);
  ASSERT_STR_CONTAINS(o.error, needle);
  outcome_free(&o);
}

/* ---- hmac_sha256, secret ------------------------------------------------------------------- */

TEST(hmac_sha256) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  /* RFC 4231 test case 2 */
  run(&e, "api", "hmac", "{\"key\":\"Jefe\",\"msg\":\"what do ya want for nothing?\"}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(str_at(o.result, "hex", NULL),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  outcome_free(&o);
  run(&e, "api", "hmac", "{\"key\":\"\",\"msg\":\"\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "hex", NULL),
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  outcome_free(&o);
  run(&e, "api", "hmac_bad", NULL, &o);
  ASSERT_EQ(o.status, AIN_ELUA);
  ASSERT_STR_CONTAINS(o.error, "bad argument #1 to 'hmac_sha256'");
  outcome_free(&o);
  env_done(&e);
}

static void write_file(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  ASSERT_OK(chmod(path, mode));
}

TEST(secret_providers) {
  env_t e;
  env_init(&e, 0, 0);
  char path[700];
  outcome_t o = {0};
  /* environment first, name upper-cased */
  setenv("AIN_SECRET_API_TOKEN", "from-env", 1);
  snprintf(path, sizeof path, "%s/api_token", e.secrets);
  write_file(path, "from-file\n", 0600);
  run(&e, "api", "secret", "{\"name\":\"api_token\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "ok", NULL), "from-env");
  outcome_free(&o);
  unsetenv("AIN_SECRET_API_TOKEN");
  /* then the 0600 file, final newline dropped */
  run(&e, "api", "secret", "{\"name\":\"api_token\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "ok", NULL), "from-file");
  outcome_free(&o);
  /* a file others can read is refused, and the message does not contain the value */
  snprintf(path, sizeof path, "%s/loose", e.secrets);
  write_file(path, "hunter2", 0644);
  run(&e, "api", "secret", "{\"name\":\"loose\"}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_NULL(str_at(o.result, "ok", NULL));
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ECONFIG");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "ECONFIG: secret 'loose'");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "chmod 600");
  ASSERT_TRUE(strstr(str_at(o.result, "err", NULL), "hunter2") == NULL);
  outcome_free(&o);
  snprintf(path, sizeof path, "%s/grp", e.secrets);
  write_file(path, "x", 0640);
  run(&e, "api", "secret", "{\"name\":\"grp\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ECONFIG");
  outcome_free(&o);
  /* nowhere */
  run(&e, "api", "secret", "{\"name\":\"nope\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ENOTFOUND");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "ENOTFOUND: secret 'nope'");
  outcome_free(&o);
  /* a directory is not a secret */
  snprintf(path, sizeof path, "%s/adir", e.secrets);
  mkdir(path, 0700);
  run(&e, "api", "secret", "{\"name\":\"adir\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EIO");
  outcome_free(&o);
  expect_raise(&e, "secret_name", "bad argument #1 to 'secret'");
  expect_raise(&e, "secret_none", "bad argument #1 to 'secret'");
  env_done(&e);
}

/* ---- http ----------------------------------------------------------------------------------- */

static void http(env_t *e, const char *req_json, outcome_t *o) {
  char payload[2048];
  snprintf(payload, sizeof payload, "{\"req\":%s}", req_json);
  run(e, "api", "http", payload, o);
  ASSERT_EQ(o->status, 0);
}

TEST(http_requests) {
  env_t e;
  env_init(&e, 0, 1);
  outcome_t o = {0};
  char req[1024];
  snprintf(req, sizeof req, "{\"url\":\"%s/hello\"}", e.url);
  http(&e, req, &o);
  ASSERT_EQ(num_at(o.result, "status", NULL), 200);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "hello");
  ASSERT_STR_EQ(str_at(o.result, "headers", "x-test"), "one");
  ASSERT_STR_EQ(str_at(o.result, "headers", "set-cookie"), "a=1, b=2");
  ASSERT_STR_EQ(str_at(o.result, "headers", "content-length"), "5");
  outcome_free(&o);
  /* method, body and headers reach the server */
  snprintf(req, sizeof req,
           "{\"url\":\"%s/echo\",\"method\":\"PUT\",\"body\":\"{\\\"a\\\":1}\","
           "\"headers\":{\"X-Echo\":\"hi there\",\"Content-Type\":\"application/json\"}}",
           e.url);
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "PUT|{\"a\":1}|hi there");
  outcome_free(&o);
  snprintf(req, sizeof req, "{\"url\":\"%s/echo\",\"method\":\"POST\"}", e.url);
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "POST||");
  outcome_free(&o);
  /* a large body goes out without waiting for 100-continue */
  char *big = malloc(6000);
  memset(big, 'q', 5999);
  big[5999] = '\0';
  char *bigreq = malloc(7000);
  snprintf(bigreq, 7000, "{\"url\":\"%s/echo\",\"method\":\"POST\",\"body\":\"%s\"}", e.url, big);
  char *payload = malloc(7100);
  snprintf(payload, 7100, "{\"req\":%s}", bigreq);
  uint64_t t0 = ain_mono_ns();
  run(&e, "api", "http", payload, &o);
  ASSERT_LE((ain_mono_ns() - t0) / 1000000, 900);
  ASSERT_EQ(num_at(o.result, "len", NULL), 5 + 5999 + 1);
  outcome_free(&o);
  free(big);
  free(bigreq);
  free(payload);
  /* a 404 or 500 is an answer, not a failure */
  snprintf(req, sizeof req, "{\"url\":\"%s/status/503\"}", e.url);
  http(&e, req, &o);
  ASSERT_EQ(num_at(o.result, "status", NULL), 503);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "status");
  outcome_free(&o);
  /* HEAD has no body */
  snprintf(req, sizeof req, "{\"url\":\"%s/hello\",\"method\":\"HEAD\"}", e.url);
  http(&e, req, &o);
  ASSERT_EQ(num_at(o.result, "status", NULL), 200);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "");
  outcome_free(&o);
  /* two requests one after the other in one call */
  snprintf(req, sizeof req, "{\"url\":\"%s\"}", e.url);
  run(&e, "api", "http_twice", req, &o);
  ASSERT_EQ(num_at(o.result, "a", NULL), 200);
  ASSERT_STR_EQ(str_at(o.result, "b", NULL), "POST|again|");
  outcome_free(&o);
  env_done(&e);
}

/* ain.llm.chat (engine/lua/llm.lua) on the host's ain.http: the answer validated and priced, and
 * its requests, tokens and cost counted in the process's metrics; a 503 retried (Retry-After: 0)
 * until max_attempts, then ELLM_HTTP. */
TEST(llm_chat_counts) {
  env_t e;
  env_init(&e, 0, 1);
  const char *pk[] = {"prompt"}, *ck[] = {"completion"}, *okk[] = {"ok"},
             *busyk[] = {"server_error"};
  double p0 = ain_obs_get(AIN_M_LLM_TOKENS, pk), c0 = ain_obs_get(AIN_M_LLM_TOKENS, ck);
  double ok0 = ain_obs_get(AIN_M_LLM_REQUESTS, okk), b0 = ain_obs_get(AIN_M_LLM_REQUESTS, busyk);
  double cost0 = ain_obs_get(AIN_M_LLM_COST, NULL);
  outcome_t o = {0};
  char req[256];
  snprintf(req, sizeof req, "{\"url\":\"%s\"}", e.url);
  run(&e, "api", "llm", req, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(str_at(o.result, "topic", NULL), "trains");
  ASSERT_EQ(num_at(o.result, "tokens", NULL), 18);
  ASSERT_EQ(num_at(o.result, "attempts", NULL), 1);
  ASSERT_TRUE(num_at(o.result, "cost", NULL) == (11.0 * 1 + 7.0 * 2) / 1000);
  ASSERT_TRUE(ain_obs_get(AIN_M_LLM_TOKENS, pk) - p0 == 11);
  ASSERT_TRUE(ain_obs_get(AIN_M_LLM_TOKENS, ck) - c0 == 7);
  ASSERT_TRUE(ain_obs_get(AIN_M_LLM_REQUESTS, okk) - ok0 == 1);
  ASSERT_TRUE(ain_obs_get(AIN_M_LLM_COST, NULL) - cost0 > 0.0249 &&
              ain_obs_get(AIN_M_LLM_COST, NULL) - cost0 < 0.0251);
  outcome_free(&o);
  snprintf(req, sizeof req, "{\"url\":\"%s/busy\"}", e.url);
  run(&e, "api", "llm", req, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ELLM_HTTP");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "HTTP 503: busy (after 2 attempts)");
  ASSERT_TRUE(ain_obs_get(AIN_M_LLM_REQUESTS, busyk) - b0 == 2);
  outcome_free(&o);
  env_done(&e);
}

TEST(http_concurrent_calls) {
  env_t e;
  env_init(&e, 0, 1);
  enum { N = 20 };
  outcome_t o[N];
  memset(o, 0, sizeof o);
  char payload[512];
  snprintf(payload, sizeof payload, "{\"req\":{\"url\":\"%s/hello\"}}", e.url);
  for (int i = 0; i < N; i++) {
    start(&e, "api", "http", payload, &o[i]);
  }
  for (int i = 0; i < N; i++) {
    wait_call(&e, &o[i]);
    ASSERT_EQ(o[i].status, 0);
    ASSERT_EQ(num_at(o[i].result, "status", NULL), 200);
    outcome_free(&o[i]);
  }
  ASSERT_EQ(e.srv.accepted, N);
  env_done(&e);
}

TEST(http_failures) {
  env_t e;
  env_init(&e, 0, 1);
  outcome_t o = {0};
  char req[512];
  /* refused connection */
  snprintf(req, sizeof req, "{\"url\":\"http://127.0.0.1:%d/x?token=s3cret\"}", dead_port(&e.loop));
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EHTTP");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "EHTTP: GET http://127.0.0.1:");
  ASSERT_TRUE(strstr(str_at(o.result, "err", NULL), "s3cret") == NULL); /* no query string */
  outcome_free(&o);
  /* timeout */
  snprintf(req, sizeof req, "{\"url\":\"%s/slow\",\"timeout_ms\":200}", e.url);
  uint64_t t0 = ain_mono_ns();
  http(&e, req, &o);
  uint64_t ms = (ain_mono_ns() - t0) / 1000000;
  ASSERT_GE(ms, 150);
  ASSERT_LE(ms, 3000);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ETIMEOUT");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "ETIMEOUT: GET ");
  outcome_free(&o);
  /* the response cap */
  snprintf(req, sizeof req, "{\"url\":\"%s/big\",\"max_bytes\":100000}", e.url);
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EHTTP");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "larger than 100000 bytes");
  outcome_free(&o);
  snprintf(req, sizeof req, "{\"url\":\"%s/big\"}", e.url);
  http(&e, req, &o);
  ASSERT_EQ(num_at(o.result, "len", NULL), 2 << 20);
  outcome_free(&o);
  /* unknown host (resolver failure) */
  http(&e, "{\"url\":\"http://no-such-host.invalid/\",\"timeout_ms\":5000}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EHTTP");
  outcome_free(&o);
  env_done(&e);
}

TEST(http_misuse_raises) {
  env_t e;
  env_init(&e, 0, 1);
  expect_raise(&e, "http_url", "bad argument #1 to 'http' (url must be");
  expect_raise(&e, "http_method", "method must be");
  expect_raise(&e, "http_header", "headers must be");
  expect_raise(&e, "http_timeout", "timeout_ms must be");
  expect_raise(&e, "http_body", "body must be a string");
  expect_raise(&e, "http_notable", "bad argument #1 to 'http' (table expected");
  ASSERT_EQ(e.srv.accepted, 0);
  env_done(&e);
}

/* Cancelling a call that waits on ain.http ends it at once and leaves no handle behind. */
TEST(http_cancel_leaves_no_handles) {
  env_t e;
  env_init(&e, 0, 1);
  outcome_t o = {0};
  char payload[256];
  snprintf(payload, sizeof payload, "{\"req\":{\"url\":\"%s/slow\"}}", e.url);
  ain_lua_call_t *call = start(&e, "api", "http", payload, &o);
  ASSERT_NOT_NULL(call);
  uint64_t t0 = ain_mono_ns();
  while (e.srv.conns == NULL || e.srv.conns->len == 0) { /* the request is on the wire */
    uv_run(&e.loop, UV_RUN_ONCE);
    ASSERT_LE((ain_mono_ns() - t0) / 1000000, 5000);
  }
  ASSERT_EQ(o.calls, 0);
  ain_lua_call_cancel(call, AIN_ETIMEOUT, "step timeout");
  ASSERT_EQ(o.calls, 1);
  ASSERT_EQ(o.status, AIN_ETIMEOUT);
  ASSERT_STR_CONTAINS(o.error, "api.http cancelled: step timeout");
  /* the client closed its socket: the server sees EOF */
  t0 = ain_mono_ns();
  while (e.srv.conns != NULL) {
    uv_run(&e.loop, UV_RUN_ONCE);
    ASSERT_LE((ain_mono_ns() - t0) / 1000000, 5000);
  }
  ASSERT_EQ(o.calls, 1);
  outcome_free(&o);
  /* freeing the host with a request in flight: shutdown cancels it, no handle is left */
  start(&e, "api", "http", payload, &o);
  t0 = ain_mono_ns();
  while (e.srv.conns == NULL || e.srv.conns->len == 0) {
    uv_run(&e.loop, UV_RUN_ONCE);
    ASSERT_LE((ain_mono_ns() - t0) / 1000000, 5000);
  }
  ain_lua_host_free(e.h);
  ASSERT_EQ(o.calls, 1);
  ASSERT_EQ(o.status, AIN_ESHUTDOWN);
  outcome_free(&o);
  server_stop(&e.srv);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(e.srv.open, 0);
  ASSERT_EQ(uv_loop_close(&e.loop), 0);
  CHECK_LEAKS();
}

static void count_busy(uv_handle_t *h, void *arg) {
  if ((h->type == UV_POLL || h->type == UV_TIMER) && uv_is_active(h) && uv_has_ref(h)) {
    (*(int *)arg)++;
  }
}

/* After a keep-alive answer curl keeps the connection: ain.http must not keep the loop alive with
 * it (a shard's loop ends when nothing is active), yet the next request reuses it. */
TEST(http_idle_connection_does_not_hold_the_loop) {
  env_t e;
  env_init(&e, 0, 1);
  outcome_t o = {0};
  char req[256];
  snprintf(req, sizeof req, "{\"url\":\"%s/keep\"}", e.url);
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "kept");
  outcome_free(&o);
  int busy = 0;
  uv_walk(&e.loop, count_busy, &busy);
  ASSERT_EQ(busy, 0); /* only the test server's own TCP handles are left active */
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "body", NULL), "kept");
  outcome_free(&o);
  ASSERT_EQ(e.srv.accepted, 1); /* the second request reused the connection */
  env_done(&e);
}

/* ---- store ---------------------------------------------------------------------------------- */

TEST(store_kv) {
  env_t e;
  env_init(&e, 1, 0);
  outcome_t o = {0};
  run(&e, "api", "kv", NULL, &o);
  ASSERT_EQ(o.status, 0);
  cJSON *r = o.result;
  ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(r, "missing")));
  ASSERT_EQ(num_at(r, "v1", NULL), 1);
  ASSERT_EQ(num_at(r, "got_n", NULL), 1);
  ASSERT_EQ(num_at(r, "got_ver", NULL), 1);
  ASSERT_STR_EQ(str_at(r, "got_list2", NULL), "b");
  ASSERT_EQ(num_at(r, "v2", NULL), 2);
  ASSERT_STR_EQ(str_at(r, "conflict_code", NULL), "ECONFLICT");
  ASSERT_STR_CONTAINS(str_at(r, "conflict_err", NULL), "ECONFLICT: api/k: expected version 1, found 2");
  ASSERT_STR_EQ(str_at(r, "create_only", "code"), "ECONFLICT");
  ASSERT_STR_EQ(str_at(r, "str", NULL), "text");
  ASSERT_STR_EQ(str_at(r, "del_stale", "code"), "ECONFLICT");
  ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(r, "del")));
  ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(r, "del_again")));
  ASSERT_EQ(num_at(r, "num", NULL), 1);
  ASSERT_TRUE(num_at(r, "num_back", NULL) == 42.5);
  ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(r, "bool_back")));
  outcome_free(&o);
  /* the namespace is the calling module: "other" does not see api's keys */
  run(&e, "api", "kv_put", "{\"key\":\"shared\",\"value\":\"api's\"}", &o);
  ASSERT_EQ(num_at(o.result, "ok", NULL), 1);
  outcome_free(&o);
  run(&e, "other", "kv_get", "{\"key\":\"shared\"}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_NULL(cJSON_GetObjectItem(o.result, "value"));
  outcome_free(&o);
  run(&e, "api", "kv_get", "{\"key\":\"shared\"}", &o);
  ASSERT_STR_EQ(str_at(o.result, "value", NULL), "api's");
  outcome_free(&o);
  env_done(&e);
}

TEST(store_misuse_raises) {
  env_t e;
  env_init(&e, 1, 0);
  expect_raise(&e, "put_nil", "bad argument #2 to 'put' (value must be");
  expect_raise(&e, "put_fn", "bad argument #2 to 'put' (value is not JSON");
  expect_raise(&e, "put_key", "bad argument #1 to 'put' (key must be");
  expect_raise(&e, "put_version", "bad argument #3 to 'put' (expect_version");
  expect_raise(&e, "del_zero", "bad argument #2 to 'delete'");
  expect_raise(&e, "get_key", "bad argument #1 to 'get'");
  expect_raise(&e, "persona_id", "bad argument #1 to 'persona'");
  env_done(&e);
}

TEST(store_without_store_handle) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run(&e, "api", "kv_put", "{\"key\":\"k\",\"value\":1}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ESTORE");
  outcome_free(&o);
  env_done(&e);
}

TEST(store_personas) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run(&e, "api", "personas", NULL, &o);
  ASSERT_EQ(o.status, 0);
  const cJSON *ids = cJSON_GetObjectItem(o.result, "ids");
  ASSERT_EQ(cJSON_GetArraySize(ids), 1); /* broken.lua is skipped */
  ASSERT_STR_EQ(cJSON_GetArrayItem(ids, 0)->valuestring, "alpha");
  ASSERT_STR_EQ(str_at(o.result, "alpha_name", NULL), "Alpha Persona");
  ASSERT_STR_EQ(str_at(o.result, "one", NULL), "Alpha Persona");
  ASSERT_STR_EQ(str_at(o.result, "missing", "code"), "ENOTFOUND");
  outcome_free(&o);
  env_done(&e);
}

/* Records two sightings of trends the way the planner does (PLAN_COMMIT). */
static void plan_trends(env_t *e) {
  const char *keys[] = {"older", "newer"}, *recs[] = {"{\"title\":\"Old\"}", NULL};
  for (int i = 0; i < 2; i++) {
    ain_task_t t = {.type = "generate_video", .handler = "expand", .persona_id = "alpha",
                    .payload = "{}"};
    ain_uuid7(t.id);
    ain_plan_item_t it = {.persona_id = "alpha", .trend_key = keys[i], .trend_json = recs[i],
                          .task = &t};
    ain_store_req_t r;
    ain_store_req_plan_commit(&r, &it, 1);
    r.now = 1700000000000 + i;
    ASSERT_OK(ain_store_wait(e->store, &r));
    ain_store_req_cleanup(&r);
  }
}

TEST(store_trends) {
  env_t e;
  env_init(&e, 1, 0);
  outcome_t o = {0};
  run(&e, "api", "trends", NULL, &o); /* none seen yet */
  ASSERT_EQ(o.status, 0);
  ASSERT_EQ(num_at(o.result, "n", NULL), 0);
  outcome_free(&o);
  plan_trends(&e);
  run(&e, "api", "trends", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_EQ(num_at(o.result, "n", NULL), 2);
  const cJSON *keys = cJSON_GetObjectItem(o.result, "keys"),
              *titles = cJSON_GetObjectItem(o.result, "titles");
  ASSERT_STR_EQ(cJSON_GetArrayItem(keys, 0)->valuestring, "newer"); /* newest first */
  ASSERT_STR_EQ(cJSON_GetArrayItem(keys, 1)->valuestring, "older");
  ASSERT_STR_EQ(cJSON_GetArrayItem(titles, 0)->valuestring, "(none)"); /* no record kept */
  ASSERT_STR_EQ(cJSON_GetArrayItem(titles, 1)->valuestring, "Old");   /* decoded JSON */
  ASSERT_TRUE(cJSON_GetArrayItem(cJSON_GetObjectItem(o.result, "last"), 1)->valuedouble ==
              1700000000000.0);
  outcome_free(&o);
  run(&e, "api", "trends", "{\"limit\":1}", &o);
  ASSERT_EQ(num_at(o.result, "n", NULL), 1);
  outcome_free(&o);
  expect_raise(&e, "trends_zero", "bad argument #1 to 'trends' (limit must be");
  expect_raise(&e, "trends_frac", "bad argument #1 to 'trends' (limit must be");
  expect_raise(&e, "trends_big", "bad argument #1 to 'trends' (limit must be");
  env_done(&e);
  env_init(&e, 0, 0); /* a host without a store answers ESTORE */
  run(&e, "api", "trends", NULL, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ESTORE");
  outcome_free(&o);
  env_done(&e);
}

/* ain.store.post_metrics: a video with a receipt and one pull of its metrics (likes not
 * reported), read back through the policy; bad filters raise; no store is ESTORE. */
TEST(store_post_metrics) {
  env_t e;
  env_init(&e, 1, 0);
  ain_video_review_t v = {.video_id = "vid-pm", .persona_id = "alpha", .decision = "pass",
                          .confidence = 0.9, .checks = "[]", .report = "{}"};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &v);
  ASSERT_OK(ain_store_wait(e.store, &r));
  ain_store_req_cleanup(&r);
  ain_receipt_t rc = {.video_id = "vid-pm", .channel = "youtube", .idempotency_key = "pm-key-1234",
                      .location = "yt:abc"};
  ain_store_req_receipt_put(&r, &rc, 0);
  ASSERT_OK(ain_store_wait(e.store, &r));
  char args[256];
  snprintf(args, sizeof args,
           "{\"rows\":[{\"receipt_id\":%lld,\"channel\":\"youtube\",\"post_id\":\"abc\","
           "\"views\":321,\"likes\":null}]}",
           (long long)r.u.receipt_put.receipt.id);
  ain_store_req_cleanup(&r);
  ain_store_req_posts(&r, "metrics_put", args);
  ASSERT_OK(ain_store_wait(e.store, &r));
  ain_store_req_cleanup(&r);
  outcome_t o = {0};
  run(&e, "api", "post_metrics", "{\"persona\":\"alpha\"}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_EQ(num_at(o.result, "n", NULL), 1);
  ASSERT_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(o.result, "views"), 0)->valuedouble, 321);
  ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(o.result, "likes"), 0)->valuestring,
                "absent");
  outcome_free(&o);
  run(&e, "api", "post_metrics", "{\"persona\":\"beta\"}", &o);
  ASSERT_EQ(num_at(o.result, "n", NULL), 0);
  outcome_free(&o);
  expect_raise(&e, "pm_persona", "persona must be a string");
  expect_raise(&e, "pm_limit", "limit must be an integer from 1 to 1000");
  expect_raise(&e, "pm_arg", "bad argument #1 to 'post_metrics'");
  env_done(&e);
  env_init(&e, 0, 0);
  run(&e, "api", "post_metrics", NULL, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ESTORE");
  outcome_free(&o);
  env_done(&e);
}

/* ---- emit ----------------------------------------------------------------------------------- */

TEST(emit_enqueues_a_valid_task) {
  env_t e;
  env_init(&e, 1, 0);
  outcome_t o = {0};
  run(&e, "api", "emit",
      "{\"msg\":{\"type\":\"planner\",\"persona_id\":\"alpha\",\"payload\":{\"topic\":\"x\"},"
      "\"priority\":7,\"run_at\":1700000000000}}",
      &o);
  ASSERT_EQ(o.status, 0);
  const char *id = str_at(o.result, "ok", NULL);
  ASSERT_NOT_NULL(id);
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  ASSERT_OK(ain_store_wait(e.store, &r));
  ASSERT_STR_EQ(r.u.get_task.task.type, "planner");
  ASSERT_NULL(r.u.get_task.task.handler); /* producers leave it to the scheduler */
  char *handler = ain_handler_for_type(r.u.get_task.task.type);
  ASSERT_STR_EQ(handler, "lua:planner.run");
  free(handler);
  ASSERT_STR_EQ(r.u.get_task.task.persona_id, "alpha");
  ASSERT_STR_EQ(r.u.get_task.task.payload, "{\"topic\":\"x\"}");
  ASSERT_EQ(r.u.get_task.task.priority, 7);
  ASSERT_EQ(r.u.get_task.task.run_at, 1700000000000LL);
  ASSERT_EQ(r.u.get_task.task.max_attempts, 4); /* the host's default */
  ASSERT_EQ(r.u.get_task.task.status, AIN_TASK_READY);
  ain_store_req_cleanup(&r);
  outcome_free(&o);
  /* generate_video expands; an empty payload is {} */
  run(&e, "api", "emit", "{\"msg\":{\"type\":\"generate_video\",\"persona_id\":\"alpha\"}}", &o);
  id = str_at(o.result, "ok", NULL);
  ASSERT_NOT_NULL(id);
  ain_store_req_get_task(&r, id);
  ASSERT_OK(ain_store_wait(e.store, &r));
  ASSERT_NULL(r.u.get_task.task.handler);
  handler = ain_handler_for_type(r.u.get_task.task.type);
  ASSERT_STR_EQ(handler, "expand");
  free(handler);
  ASSERT_STR_EQ(r.u.get_task.task.payload, "{}");
  ain_store_req_cleanup(&r);
  outcome_free(&o);
  env_done(&e);
}

/* With an outbox (a step's), ain.emit enqueues nothing: the task joins the outbox, its id is
 * returned at once, and the caller commits it with the call's outcome. */
TEST(emit_into_outbox) {
  env_t e;
  env_init(&e, 1, 0);
  ain_store_batch_t box = {0};
  next_outbox = &box;
  outcome_t o = {0};
  run(&e, "api", "emit",
      "{\"msg\":{\"type\":\"planner\",\"persona_id\":\"alpha\",\"payload\":{\"k\":1}}}", &o);
  next_outbox = NULL;
  ASSERT_EQ(o.status, 0);
  const char *id = str_at(o.result, "ok", NULL);
  ASSERT_NOT_NULL(id);
  ASSERT_EQ(box.ntasks, 1);
  ASSERT_STR_EQ(box.tasks[0].id, id);
  ASSERT_NULL(box.tasks[0].handler); /* named by the scheduler when claimed */
  ASSERT_STR_EQ(box.tasks[0].payload, "{\"k\":1}");
  ASSERT_EQ(box.tasks[0].max_attempts, 4);
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  ASSERT_EQ(ain_store_wait(e.store, &r), AIN_ENOTFOUND); /* not enqueued */
  ain_store_req_cleanup(&r);
  outcome_free(&o);
  for (size_t i = 0; i < box.ntasks; i++) {
    ain_task_free(&box.tasks[i]);
  }
  free(box.tasks);
  env_done(&e);
}

/* PII in an emitted payload is replaced before the task exists (privacy/privacy.h); this host has
 * no key, so values are redacted without a hash. */
TEST(emit_scrubs_pii) {
  env_t e;
  env_init(&e, 1, 0);
  ain_store_batch_t box = {0};
  next_outbox = &box;
  outcome_t o = {0};
  run(&e, "api", "emit",
      "{\"msg\":{\"type\":\"planner\",\"persona_id\":\"alpha\",\"payload\":{\"note\":"
      "\"mail ava@example.com or +1 415 555 0132\",\"user_id\":42,\"n\":7}}}",
      &o);
  next_outbox = NULL;
  ASSERT_EQ(o.status, 0);
  ASSERT_EQ(box.ntasks, 1);
  /* (Lua tables have no key order) */
  ASSERT_STR_CONTAINS(box.tasks[0].payload, "\"note\":\"mail <pii:email> or <pii:phone>\"");
  ASSERT_STR_CONTAINS(box.tasks[0].payload, "\"user_id\":\"<pii:uid>\"");
  ASSERT_STR_CONTAINS(box.tasks[0].payload, "\"n\":7");
  outcome_free(&o);
  for (size_t i = 0; i < box.ntasks; i++) {
    ain_task_free(&box.tasks[i]);
  }
  free(box.tasks);
  env_done(&e);
}

TEST(emit_misuse_raises) {
  env_t e;
  env_init(&e, 1, 0);
  /* Every error names the call and the field. */
  expect_raise(&e, "emit_notable", "ain.emit: bad argument #1 (table expected, got string)");
  expect_raise(&e, "emit_type", "ain.emit: type: must be a type name");
  expect_raise(&e, "emit_persona", "ain.emit: persona_id: required field is missing");
  expect_raise(&e, "emit_list", "ain.emit: payload: must be a table with named fields");
  expect_raise(&e, "emit_field", "ain.emit: colour: unknown field");
  expect_raise(&e, "emit_priority", "ain.emit: priority: must be an integer in -1000..1000");
  /* A persona that does not exist, and one whose file breaks the persona contract. */
  expect_raise(&e, "emit_unknown_persona",
               "ain.emit: persona_id: unknown persona 'nobody' (known: alpha, broken)");
  expect_raise(&e, "emit_broken_persona",
               "ain.emit: persona_id: persona 'broken' has no valid version: ");
  expect_raise(&e, "emit_deep_payload", "ain.emit: payload: nested deeper than 128 levels");
  ain_store_req_t r;
  ain_store_req_stats(&r);
  ASSERT_OK(ain_store_wait(e.store, &r));
  ASSERT_EQ(r.u.stats.stats.tasks[AIN_TASK_READY], 0); /* nothing was enqueued */
  ain_store_req_cleanup(&r);
  env_done(&e);
}

/* A host that takes its versions from the registry knows the personas published to it, and only
 * those: the persona files on disk do not count. */
TEST(emit_persona_from_published_versions) {
  published_mode = 1;
  env_t e;
  env_init(&e, 1, 0);
  published_mode = 0;
  expect_raise(&e, "emit_unknown_persona",
               "ain.emit: persona_id: unknown persona 'nobody' (known: alpha)");
  expect_raise(&e, "emit_broken_persona",
               "ain.emit: persona_id: unknown persona 'broken' (known: alpha)");
  outcome_t o = {0};
  run(&e, "api", "emit", "{\"msg\":{\"type\":\"noop\",\"persona_id\":\"alpha\"}}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_NOT_NULL(str_at(o.result, "ok", NULL));
  outcome_free(&o);
  env_done(&e);
}

/* An expected failure (no store) is returned, and it names the call too. */
TEST(emit_store_failure_names_emit) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run(&e, "api", "emit", "{\"msg\":{\"type\":\"noop\",\"persona_id\":\"alpha\"}}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "ESTORE");
  ASSERT_STR_EQ(str_at(o.result, "err", NULL), "ESTORE: ain.emit: this Lua host has no store");
  outcome_free(&o);
  env_done(&e);
}

/* Replay (no_side_effects): writes, emits and requests are refused with EREPLAY; reads work. */
TEST(replay_refuses_side_effects) {
  replay_mode = 1;
  env_t e;
  env_init(&e, 1, 1);
  outcome_t o = {0};
  run(&e, "api", "kv_put", "{\"key\":\"k\",\"value\":1}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EREPLAY");
  outcome_free(&o);
  run(&e, "api", "kv_get", "{\"key\":\"k\"}", &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_NULL(cJSON_GetObjectItem(o.result, "value"));
  outcome_free(&o);
  run(&e, "api", "emit", "{\"msg\":{\"type\":\"noop\",\"persona_id\":\"a\"}}", &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EREPLAY");
  outcome_free(&o);
  char req[256];
  snprintf(req, sizeof req, "{\"url\":\"%s/hello\"}", e.url);
  http(&e, req, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EREPLAY");
  outcome_free(&o);
  ASSERT_EQ(e.srv.accepted, 0);
  env_done(&e);
}

/* A call records what the outside answered it (secret found, store reads, HTTP answers and
 * failures; never the secret, never the query string), and a replay host with that record gives
 * the same result with no server, no store and no secret; a request not recorded is EREPLAY. */
TEST(replay_serves_recorded_exchanges) {
  env_t e;
  env_init(&e, 1, 1);
  outcome_t o = {0};
  setenv("AIN_SECRET_REC_KEY", "s3cr3t-value", 1);
  run(&e, "api", "kv_put", "{\"key\":\"k\",\"value\":{\"n\":7}}", &o);
  outcome_free(&o);
  char payload[512];
  snprintf(payload, sizeof payload, "{\"url\":\"%s\",\"body\":\"hello there\",\"key\":\"rec_key\"}",
           e.url);
  run(&e, "api", "recorded", payload, &o);
  unsetenv("AIN_SECRET_REC_KEY");
  ASSERT_EQ(o.status, 0);
  ASSERT_NOT_NULL(o.io);
  ASSERT_TRUE(strstr(o.io, "s3cr3t") == NULL);   /* the value is never recorded */
  ASSERT_TRUE(strstr(o.io, "token=abc") == NULL); /* nor the query string */
  ASSERT_STR_CONTAINS(o.io, "\"kind\":\"secret\",\"name\":\"rec_key\",\"found\":true");
  ASSERT_STR_CONTAINS(o.io, "\"kind\":\"store.get\",\"key\":\"absent\",\"found\":false");
  ASSERT_STR_CONTAINS(o.io, "\"code\":\"EHTTP\"");
  char *live = cJSON_PrintUnformatted(o.result);
  char *io = ain_strdup(o.io);
  char url[64];
  snprintf(url, sizeof url, "%s", e.url); /* the replayed call asks the same URLs */
  ASSERT_EQ(num_at(o.result, "key_len", NULL), 12);
  outcome_free(&o);
  env_done(&e);

  replay_mode = 1;
  env_init(&e, 0, 0); /* no store, no server */
  replay_mode = 0;
  next_replay_io = io;
  snprintf(payload, sizeof payload,
           "{\"url\":\"%s\",\"body\":\"hello there\",\"key\":\"rec_key\"}", url);
  run(&e, "api", "recorded", payload, &o);
  ASSERT_EQ(o.status, 0);
  char *replayed = cJSON_PrintUnformatted(o.result);
  /* the stand-in secret has another length; everything else is what the live call saw */
  cJSON_DeleteItemFromObject(o.result, "key_len");
  cJSON *lv = cJSON_Parse(live);
  cJSON_DeleteItemFromObject(lv, "key_len");
  ASSERT_TRUE(cJSON_Compare(lv, o.result, 1));
  cJSON_Delete(lv);
  outcome_free(&o);
  /* another body is another request: refused, and nothing is sent */
  snprintf(payload, sizeof payload,
           "{\"req\":{\"url\":\"http://127.0.0.1:1/echo\",\"method\":\"POST\",\"body\":\"x\"}}");
  run(&e, "api", "http", payload, &o);
  ASSERT_STR_EQ(str_at(o.result, "code", NULL), "EREPLAY");
  ASSERT_STR_CONTAINS(str_at(o.result, "err", NULL), "no recorded exchange matches");
  outcome_free(&o);
  next_replay_io = "{\"not\":\"an array\"}";
  ain_lua_call_opts_t co = {.module = "api", .function = "http", .replay_io = next_replay_io};
  ain_err_t err = {0};
  ASSERT_EQ(ain_lua_call(e.h, &co, on_done, &o, NULL, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "not a JSON array");
  next_replay_io = NULL;
  env_done(&e);
  free(live);
  free(replayed);
  free(io);
}

TEST_MAIN(TEST_ENTRY(hmac_sha256), TEST_ENTRY(secret_providers), TEST_ENTRY(http_requests),
          TEST_ENTRY(llm_chat_counts), TEST_ENTRY(http_concurrent_calls), TEST_ENTRY(http_failures),
          TEST_ENTRY(http_misuse_raises), TEST_ENTRY(http_cancel_leaves_no_handles),
          TEST_ENTRY(http_idle_connection_does_not_hold_the_loop),
          TEST_ENTRY(store_kv), TEST_ENTRY(store_misuse_raises),
          TEST_ENTRY(store_without_store_handle), TEST_ENTRY(store_personas), TEST_ENTRY(store_trends),
          TEST_ENTRY(store_post_metrics),
          TEST_ENTRY(emit_enqueues_a_valid_task), TEST_ENTRY(emit_into_outbox), TEST_ENTRY(emit_scrubs_pii),
          TEST_ENTRY(emit_misuse_raises),
          TEST_ENTRY(emit_persona_from_published_versions), TEST_ENTRY(emit_store_failure_names_emit),
          TEST_ENTRY(replay_refuses_side_effects), TEST_ENTRY(replay_serves_recorded_exchanges))
