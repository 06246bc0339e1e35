/* ain.http{method=, url=, headers={}, body=, timeout_ms=, max_bytes=} -> {status=, headers={},
 * body=} | nil, "EHTTP: ..."/"ETIMEOUT: ...", code.
 * One libcurl multi per Lua host, driven by the host's loop with the multi_socket API: curl tells
 * us which sockets to watch (one uv_poll per socket, created on first interest, closed on
 * CURL_POLL_REMOVE and freed in its close callback) and when to call back (one uv_timer, re-armed
 * only from curl's timer callback; -1 stops it). After every socket_action we drain
 * curl_multi_info_read and resume the finished calls - never from inside a curl callback.
 * A non-2xx status is an answer, not a failure: only transport errors, the timeout and a body over
 * max_bytes fail. Redirects are not followed. The body is capped while it arrives. Error
 * messages name the method and the URL without its query string (which may carry tokens).
 * Every answer (or failure) is recorded with the call (lua/io_record.c); a replay host answers a
 * request from that recording when one matches (method, full URL and body by sha256), and refuses
 * any other with EREPLAY.
 * Relies on: libcurl (multi_socket), libuv (uv_poll, uv_timer), lua/internal.h, core/util.h
 * (ain_mono_ns), cJSON (the record). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "lua/internal.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_MAX_TIMEOUT_MS 600000
#define HTTP_DEFAULT_MAX_BYTES (8u << 20)
#define HTTP_MAX_MAX_BYTES (64u << 20)
#define HTTP_MAX_HEADER_BYTES (256u << 10)

typedef struct http_sock {
  uv_poll_t poll; /* first: the close callback frees the struct through the handle */
  curl_socket_t fd;
  struct ain__lua_http *ht;
  struct http_sock *prev, *next;
} http_sock_t;

struct ain__lua_http {
  ain_lua_host_t *h;
  CURLM *multi;
  uv_timer_t *timer;   /* heap: freed in its close callback */
  http_sock_t *socks;  /* watched sockets, so shutdown can close them */
  int closing;
};

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

typedef struct {
  struct ain__lua_http *ht;
  CURL *easy;
  ain_lua_call_t *call;
  struct curl_slist *hdrs;
  buf_t body;
  buf_t head; /* header lines of the last response (a 100 Continue's are dropped) */
  size_t max_bytes;
  int too_big;
  char what[300]; /* "GET http://host/path" for error messages */
  cJSON *rec;     /* the exchange as it will be recorded: {kind, method, url, url_sha256, ...} */
  uint64_t start_ns;
  char errbuf[CURL_ERROR_SIZE];
} http_op_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- the multi on the loop ---- */

static void check_done(struct ain__lua_http *ht);

static void sock_free(uv_handle_t *hd) { free(hd); }

static void sock_close(http_sock_t *s) {
  struct ain__lua_http *ht = s->ht;
  if (s->prev) {
    s->prev->next = s->next;
  } else {
    ht->socks = s->next;
  }
  if (s->next) {
    s->next->prev = s->prev;
  }
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, sock_free);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  http_sock_t *s = (http_sock_t *)p;
  struct ain__lua_http *ht = s->ht;
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
    flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
  }
  int running = 0;
  curl_multi_socket_action(ht->multi, s->fd, flags, &running);
  check_done(ht);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  (void)easy;
  struct ain__lua_http *ht = userp;
  http_sock_t *s = socketp;
  if (ht->closing) {
    return 0;
  }
  if (what == CURL_POLL_REMOVE) {
    if (s != NULL) {
      sock_close(s);
      curl_multi_assign(ht->multi, fd, NULL);
    }
    return 0;
  }
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    if (s == NULL) {
      return -1;
    }
    if (uv_poll_init_socket(ht->h->loop, &s->poll, fd) != 0) {
      free(s);
      return -1;
    }
    s->fd = fd;
    s->ht = ht;
    s->next = ht->socks;
    if (ht->socks) {
      ht->socks->prev = s;
    }
    ht->socks = s;
    curl_multi_assign(ht->multi, fd, s);
  }
  int events = 0;
  events |= (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ? UV_READABLE : 0;
  events |= (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ? UV_WRITABLE : 0;
  uv_poll_start(&s->poll, events, on_poll);
  return 0;
}

static void on_timer(uv_timer_t *t) {
  struct ain__lua_http *ht = t->data;
  int running = 0;
  curl_multi_socket_action(ht->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(ht);
}

/* Only (re)arms the uv timer: calling socket_action from here would re-enter curl. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  struct ain__lua_http *ht = userp;
  if (ht->closing) {
    return 0;
  }
  if (timeout_ms < 0) {
    uv_timer_stop(ht->timer);
  } else {
    /* curl asks from inside a policy's resume: the cached loop time may be a long step old */
    uv_update_time(ht->timer->loop);
    uv_timer_start(ht->timer, on_timer, (uint64_t)timeout_ms, 0);
  }
  return 0;
}

static struct ain__lua_http *http_get(ain_lua_host_t *h) {
  if (h->http != NULL) {
    return h->http;
  }
  pthread_once(&curl_once, curl_init_once);
  struct ain__lua_http *ht = calloc(1, sizeof *ht);
  uv_timer_t *timer = calloc(1, sizeof *timer);
  CURLM *multi = curl_multi_init();
  if (ht == NULL || timer == NULL || multi == NULL) {
    free(ht);
    free(timer);
    if (multi != NULL) {
      curl_multi_cleanup(multi);
    }
    return NULL;
  }
  ht->h = h;
  ht->multi = multi;
  ht->timer = timer;
  uv_timer_init(h->loop, timer);
  timer->data = ht;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, ht);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, ht);
  h->http = ht;
  return ht;
}

static void timer_free(uv_handle_t *t) { free(t); }

void ain__lua_http_free(ain_lua_host_t *h) {
  struct ain__lua_http *ht = h->http;
  if (ht == NULL) {
    return;
  }
  h->http = NULL;
  /* every call was cancelled, so no easy handle is left; close what curl still watches (idle
   * connections) ourselves and ignore its callbacks while it cleans up */
  ht->closing = 1;
  while (ht->socks != NULL) {
    sock_close(ht->socks);
  }
  uv_timer_stop(ht->timer);
  uv_close((uv_handle_t *)ht->timer, timer_free);
  curl_multi_cleanup(ht->multi);
  free(ht);
}

/* ---- one request ---- */

static void op_free(http_op_t *op) {
  if (op->easy != NULL) {
    curl_multi_remove_handle(op->ht->multi, op->easy);
    curl_easy_cleanup(op->easy);
  }
  curl_slist_free_all(op->hdrs);
  cJSON_Delete(op->rec);
  free(op->body.p);
  free(op->head.p);
  free(op);
}

static void http_cancel(void *p) {
  http_op_t *op = p;
  op->call = NULL;
  op_free(op); /* removing the easy handle makes curl drop (and unwatch) its connection */
}

static int buf_add(buf_t *b, const char *s, size_t n, size_t max) {
  if (b->len + n > max) {
    return -1;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n + 1) {
      cap *= 2;
    }
    char *np = realloc(b->p, cap);
    if (np == NULL) {
      return -1;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata) {
  http_op_t *op = userdata;
  if (buf_add(&op->body, ptr, size * n, op->max_bytes) != 0) {
    op->too_big = 1;
    return 0; /* CURLE_WRITE_ERROR ends the transfer */
  }
  return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *userdata) {
  http_op_t *op = userdata;
  size_t len = size * n;
  if (len >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    op->head.len = 0; /* a new response (after 100 Continue): keep only the last one's headers */
  }
  if (buf_add(&op->head, ptr, len, HTTP_MAX_HEADER_BYTES) != 0) {
    op->too_big = 1;
    return 0;
  }
  return len;
}

/* Response headers as a JSON object: lower-case names; a repeated header's values are joined
 * with ", ". */
static cJSON *parse_headers(const buf_t *head) {
  cJSON *o = cJSON_CreateObject();
  const char *p = head->p, *end = head->p ? head->p + head->len : NULL;
  while (p != NULL && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon != NULL && colon > p && memcmp(p, "HTTP/", 5) != 0) {
      char name[256];
      size_t nl = (size_t)(colon - p) < sizeof name - 1 ? (size_t)(colon - p) : sizeof name - 1;
      for (size_t i = 0; i < nl; i++) {
        name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
      }
      name[nl] = '\0';
      const char *v = colon + 1, *ve = line_end;
      while (v < ve && (*v == ' ' || *v == '\t')) {
        v++;
      }
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) {
        ve--;
      }
      size_t vl = (size_t)(ve - v);
      cJSON *old = cJSON_GetObjectItemCaseSensitive(o, name);
      size_t ol = cJSON_IsString(old) ? strlen(old->valuestring) + 2 : 0;
      char *val = malloc(ol + vl + 1);
      if (val == NULL) {
        abort();
      }
      if (ol > 0) {
        memcpy(val, old->valuestring, ol - 2);
        memcpy(val + ol - 2, ", ", 2);
      }
      memcpy(val + ol, v, vl);
      val[ol + vl] = '\0';
      /* a header value that is not UTF-8 cannot be JSON text: it is recorded empty */
      size_t bad = 0;
      cJSON *nv = cJSON_CreateString(ain_utf8_valid(val, ol + vl, &bad) ? val : "");
      free(val);
      if (old != NULL) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, name, nv);
      } else {
        cJSON_AddItemToObject(o, name, nv);
      }
    }
    p = eol ? eol + 1 : end;
  }
  return o;
}

/* The answer table {status, headers, body, ms} onto co. */
static void push_answer(lua_State *co, long status, const cJSON *headers, const char *body,
                        size_t body_len, double ms) {
  lua_createtable(co, 0, 4);
  lua_pushinteger(co, (lua_Integer)status);
  lua_setfield(co, -2, "status");
  lua_newtable(co);
  for (const cJSON *hd = headers ? headers->child : NULL; hd != NULL; hd = hd->next) {
    if (cJSON_IsString(hd)) {
      lua_pushstring(co, hd->valuestring);
      lua_setfield(co, -2, hd->string);
    }
  }
  lua_setfield(co, -2, "headers");
  lua_pushlstring(co, body ? body : "", body_len);
  lua_setfield(co, -2, "body");
  lua_pushnumber(co, ms);
  lua_setfield(co, -2, "ms");
}

static void op_finish(http_op_t *op, CURLcode res) {
  ain_lua_call_t *call = op->call;
  lua_State *co = call->co;
  call->pending.cancel = NULL;
  int n = 1;
  /* whole milliseconds: what replay serves back must be what the policy saw */
  double ms = (double)((ain_mono_ns() - op->start_ns) / 1000000u);
  cJSON *rec = op->rec;
  op->rec = NULL;
  if (res == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &status);
    cJSON *headers = parse_headers(&op->head);
    push_answer(co, status, headers, op->body.p, op->body.len, ms);
    cJSON_AddNumberToObject(rec, "status", (double)status);
    cJSON_AddItemToObject(rec, "headers", headers);
    ain__lua_io_add_body(call, rec, "body", op->body.p ? op->body.p : "", op->body.len);
  } else {
    int code = res == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP;
    if (op->too_big) {
      n = ain__lua_push_fail(co, AIN_EHTTP, "%s: the response is larger than %d bytes", op->what,
                             (int)op->max_bytes);
    } else {
      n = ain__lua_push_fail(co, code, "%s: %s", op->what,
                             op->errbuf[0] ? op->errbuf : curl_easy_strerror(res));
    }
    cJSON_AddStringToObject(rec, "error", lua_tostring(co, -2));
    cJSON_AddStringToObject(rec, "code", lua_tostring(co, -1));
  }
  cJSON_AddNumberToObject(rec, "ms", ms);
  ain__lua_io_add(call, rec);
  op_free(op);
  ain__lua_resume(call, n);
}

/* Resumes every finished transfer. Runs after socket_action returned, outside curl callbacks. */
static void check_done(struct ain__lua_http *ht) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(ht->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) {
      continue;
    }
    http_op_t *op = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&op);
    CURLcode res = m->data.result; /* m is invalid once the handle is removed */
    if (op != NULL && op->call != NULL) {
      op_finish(op, res);
    }
  }
}

/* ---- the binding ---- */

static int header_token_ok(const char *s) {
  if (*s == '\0') {
    return 0;
  }
  for (; *s; s++) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("!#$%&'*+-.^_`|~", *s) != NULL)) {
      return 0;
    }
  }
  return 1;
}

static lua_Number opt_number(lua_State *L, const char *field, lua_Number def, lua_Number min,
                             lua_Number max) {
  lua_getfield(L, 1, field);
  lua_Number v = def;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= min) ||
        lua_tonumber(L, -1) > max) {
      luaL_argerror(L, 1, lua_pushfstring(L, "%s must be a number from %d to %d", field, (int)min,
                                          (int)max));
    }
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* Validates the request table; raises on misuse before anything is allocated. */
static void http_check(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "url");
  const char *url = lua_tostring(L, -1);
  if (lua_type(L, -1) != LUA_TSTRING ||
      (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
      strpbrk(url, " \r\n\t") != NULL) {
    luaL_argerror(L, 1, "url must be an http:// or https:// URL without spaces");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "method");
  if (!lua_isnil(L, -1)) {
    const char *m = lua_tostring(L, -1);
    int ok = lua_type(L, -1) == LUA_TSTRING && *m != '\0' && strlen(m) <= 16;
    for (const char *p = m; ok && *p; p++) {
      ok = *p >= 'A' && *p <= 'Z';
    }
    if (!ok) {
      luaL_argerror(L, 1, "method must be an upper-case HTTP method such as GET or POST");
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "body");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) {
    luaL_argerror(L, 1, "body must be a string (encode tables with ain.json.encode)");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "headers");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      luaL_argerror(L, 1, "headers must be a table of name = value strings");
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING ||
          !header_token_ok(lua_tostring(L, -2)) || strpbrk(lua_tostring(L, -1), "\r\n") != NULL) {
        luaL_argerror(L, 1, "headers must be a table of name = value strings (a token name, "
                            "no CR or LF in the value)");
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  opt_number(L, "timeout_ms", HTTP_DEFAULT_TIMEOUT_MS, 1, HTTP_MAX_TIMEOUT_MS);
  opt_number(L, "max_bytes", HTTP_DEFAULT_MAX_BYTES, 1, HTTP_MAX_MAX_BYTES);
}

/* The record of a request: {kind, method, url (no query string or fragment), url_sha256 (full
 * URL), body_sha256 (request body, "" when none)}. */
static cJSON *request_record(const char *method, const char *url, const char *body,
                             size_t body_len) {
  char sha[65];
  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "kind", "http");
  cJSON_AddStringToObject(rec, "method", method);
  size_t ulen = strcspn(url, "?#");
  char *bare = malloc(ulen + 1);
  if (bare == NULL) {
    abort();
  }
  memcpy(bare, url, ulen);
  bare[ulen] = '\0';
  cJSON_AddStringToObject(rec, "url", bare);
  free(bare);
  ain__lua_sha256_hex(url, strlen(url), sha);
  cJSON_AddStringToObject(rec, "url_sha256", sha);
  ain__lua_sha256_hex(body ? body : "", body ? body_len : 0, sha);
  cJSON_AddStringToObject(rec, "body_sha256", sha);
  return rec;
}

/* Replay: the recorded answer to this very request (method, URL, body), or EREPLAY. */
static int http_replay(lua_State *L, ain_lua_call_t *call, const char *method, const char *url,
                       const char *body, size_t body_len) {
  cJSON *want = request_record(method, url, body, body_len);
  const char *usha = cJSON_GetObjectItemCaseSensitive(want, "url_sha256")->valuestring;
  const char *bsha = cJSON_GetObjectItemCaseSensitive(want, "body_sha256")->valuestring;
  cJSON *e = ain__lua_io_take(call, "http", "method", method, "url_sha256", usha, "body_sha256",
                              bsha);
  cJSON_Delete(want);
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(e, "status");
  const cJSON *rbody = cJSON_GetObjectItemCaseSensitive(e, "body");
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "ms");
  int n;
  if (e == NULL) {
    n = ain__lua_no_side_effects(L, "ain.http: no recorded exchange matches this request");
  } else if (cJSON_IsString(err)) {
    int c = cJSON_IsString(code) && strcmp(code->valuestring, "ETIMEOUT") == 0 ? AIN_ETIMEOUT
                                                                              : AIN_EHTTP;
    n = ain__lua_push_fail(L, c, "%s", err->valuestring);
  } else if (!cJSON_IsNumber(status) || !cJSON_IsString(rbody) ||
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "truncated"))) {
    n = ain__lua_no_side_effects(L, "ain.http: the recorded answer was cut at 64 KiB");
  } else {
    push_answer(L, (long)status->valuedouble, cJSON_GetObjectItemCaseSensitive(e, "headers"),
                rbody->valuestring, strlen(rbody->valuestring),
                cJSON_IsNumber(ms) ? ms->valuedouble : 0);
    n = 1;
  }
  cJSON_Delete(e);
  return n;
}

/* ain.http{...}: see the file header */
static int l_http(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  http_check(L);
  if (h->no_side_effects) {
    /* no call (a check's top level): nothing recorded, so EREPLAY as before */
    ain_lua_call_t *call = h->running;
    lua_getfield(L, 1, "url");
    lua_getfield(L, 1, "method");
    lua_getfield(L, 1, "body");
    size_t blen = 0;
    const char *b = lua_tolstring(L, -1, &blen);
    return http_replay(L, call, lua_isnil(L, -2) ? "GET" : lua_tostring(L, -2),
                       lua_tostring(L, -3), b, blen);
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.http");
  struct ain__lua_http *ht = http_get(h);
  http_op_t *op = ht ? calloc(1, sizeof *op) : NULL;
  CURL *easy = op ? curl_easy_init() : NULL;
  if (easy == NULL) {
    free(op);
    return luaL_error(L, "ain.http: out of memory");
  }
  op->ht = ht;
  op->easy = easy;
  op->call = call;
  op->max_bytes = (size_t)opt_number(L, "max_bytes", HTTP_DEFAULT_MAX_BYTES, 1, HTTP_MAX_MAX_BYTES);
  long timeout = (long)opt_number(L, "timeout_ms", HTTP_DEFAULT_TIMEOUT_MS, 1, HTTP_MAX_TIMEOUT_MS);
  lua_getfield(L, 1, "url");
  lua_getfield(L, 1, "method");
  lua_getfield(L, 1, "body");
  const char *url = lua_tostring(L, -3);
  const char *method = lua_isnil(L, -2) ? "GET" : lua_tostring(L, -2);
  size_t body_len = 0;
  const char *body = lua_tolstring(L, -1, &body_len);
  size_t ulen = strcspn(url, "?#");
  snprintf(op->what, sizeof op->what, "%s %.*s", method, (int)(ulen < 240 ? ulen : 240), url);
  op->rec = request_record(method, url, body, body_len);
  op->start_ns = ain_mono_ns();

  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "ain");
  curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)op);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, op->errbuf);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, op);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, op);
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "GET") != 0 || body != NULL) {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
  }
  if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body ? body : "");
  }
  /* no "Expect: 100-continue" round trip before a large body */
  int has_expect = 0;
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      has_expect |= strcasecmp(lua_tostring(L, -2), "expect") == 0;
      lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
      struct curl_slist *nh = curl_slist_append(op->hdrs, lua_tostring(L, -1));
      if (nh != NULL) {
        op->hdrs = nh;
      }
      lua_pop(L, 2);
    }
  }
  if (!has_expect) {
    struct curl_slist *nh = curl_slist_append(op->hdrs, "Expect:");
    op->hdrs = nh ? nh : op->hdrs;
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, op->hdrs);
  CURLMcode mc = curl_multi_add_handle(ht->multi, easy);
  if (mc != CURLM_OK) {
    ain__lua_push_fail(L, AIN_EHTTP, "%s: %s", op->what, curl_multi_strerror(mc));
    curl_easy_cleanup(easy);
    op->easy = NULL;
    op_free(op);
    return 3;
  }
  ain__lua_set_pending(call, http_cancel, op);
  return lua_yield(L, 0);
}

void ain__lua_add_http(lua_State *L) {
  lua_pushcfunction(L, l_http);
  lua_setfield(L, -2, "http");
}
