/* Responses: JSON bodies, the one error shape {"error":{"code","field","message"}} with the table
 * of codes -> HTTP statuses (docs/api.md), deferred requests that notice the client leaving, and
 * the filter that gives h2o's own refusals (413 past api.max_body_bytes, 400, 417) that shape.
 * Relies on: h2o, cJSON, core/err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

/* The API's own codes, which no AIN_E* code (core/err.h) has: the HTTP layer's refusals. The
 * AIN_E* codes map through the ops layer's one table (ain_ops_http_status, ops.c), the same
 * the CLI's exit codes come from; docs/api.md lists both. */
static const struct {
  const char *code;
  int status;
} api_codes[] = {
    {"EAUTH", 401},         /* no, or a refused, token or certificate */
    {"EFORBIDDEN", 403},    /* the caller's role may not do this */
    {"ENOROUTE", 404},      /* no route has this path */
    {"EMETHOD", 405},       /* a route has the path, not the method */
    {"ERANGE", 416},        /* the media routes: a Range past the end */
    {"EPRECONDITION", 428}, /* an OCC write without If-Match */
    {"EHEADERS", 431},      /* headers past api.max_header_bytes */
    {"ENOTREADY", 503},     /* /readyz: not ready */
};

static const struct {
  int status;
  const char *reason;
} reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {428, "Precondition Required"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

static const char *reason_of(int status) {
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
    if (reasons[i].status == status) {
      return reasons[i].reason;
    }
  }
  return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
}

int ain__api_status_of(const char *code) {
  for (size_t i = 0; i < sizeof api_codes / sizeof api_codes[0]; i++) {
    if (strcmp(api_codes[i].code, code) == 0) {
      return api_codes[i].status;
    }
  }
  int c = ain_err_code(code);
  return c != 0 ? ain_ops_http_status(c) : 500;
}

static void send_text(h2o_req_t *req, int status, char *text) {
  size_t n = strlen(text);
  char *b = h2o_mem_alloc_pool(&req->pool, n + 1);
  memcpy(b, text, n);
  b[n] = '\n';
  free(text);
  req->res.status = status;
  req->res.reason = reason_of(status);
  /* A known length keeps HTTP/1.1 keep-alive on every status: h2o closes the connection after a
   * chunked response that is not a 200. */
  req->res.content_length = n + 1;
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                 H2O_STRLIT("application/json"), 1);
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"),
                 1);
  h2o_send_inline(req, b, n + 1);
}

void ain__api_send_json(h2o_req_t *req, int status, cJSON *body) {
  char *text = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  ain__api_send_json_text(req, status, text);
}

void ain__api_send_json_text(h2o_req_t *req, int status, char *text) {
  if (text == NULL) {
    text = strdup("{\"error\":{\"code\":\"ENOMEM\",\"field\":\"\",\"message\":\"out of memory\"}}");
    status = 500;
  }
  send_text(req, status, text);
}

static cJSON *error_body(const char *code, const char *field, const char *msg) {
  cJSON *root = cJSON_CreateObject();
  cJSON *e = cJSON_AddObjectToObject(root, "error");
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "field", field ? field : "");
  cJSON_AddStringToObject(e, "message", msg);
  return root;
}

void ain__api_send_error(h2o_req_t *req, const char *code, const char *field, const char *fmt,
                         ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ain__api_send_json(req, ain__api_status_of(code), error_body(code, field, msg));
}

void ain__api_send_err(h2o_req_t *req, const ain_err_t *err) {
  const char *code = ain_err_name(err->code);
  /* The ops layer's table (ops.c) maps AIN_E* codes for the CLI and the API alike. */
  ain__api_send_json(req, ain_ops_http_status(err->code),
                     error_body(code, err->field, err->msg[0] ? err->msg
                                                              : ain_strerror(err->code)));
}

/* ---- deferred requests ------------------------------------------------------------------------ */

static void on_req_disposed(void *obj) {
  ain__api_defer_t **slot = obj;
  if (*slot != NULL) {
    (*slot)->req = NULL;
    (*slot)->link_ = NULL;
  }
}

void ain__api_defer_attach(ain__api_defer_t *d, h2o_req_t *req) {
  d->req = req;
  ain__api_defer_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof *slot, on_req_disposed);
  *slot = d;
  d->link_ = slot;
}

h2o_req_t *ain__api_defer_take(ain__api_defer_t *d) {
  h2o_req_t *req = d->req;
  if (d->link_ != NULL) {
    *d->link_ = NULL;
  }
  d->link_ = NULL;
  d->req = NULL;
  return req;
}

/* ---- h2o's own refusals as JSON -------------------------------------------------------------- */

typedef struct {
  h2o_ostream_t super;
  h2o_iovec_t body;
} json_ostream_t;

/* Drops h2o's text body and sends ours once the response is complete. */
static void json_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
                         h2o_send_state_t state) {
  json_ostream_t *o = (json_ostream_t *)self;
  if (state == H2O_SEND_STATE_IN_PROGRESS) {
    h2o_ostream_send_next(self, req, NULL, 0, state);
    return;
  }
  h2o_ostream_send_next(self, req, &o->body, state == H2O_SEND_STATE_FINAL ? 1 : 0, state);
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot) {
  ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
  int ours = ct >= 0 && req->res.headers.entries[ct].value.len >= 16 &&
             memcmp(req->res.headers.entries[ct].value.base, "application/json", 16) == 0;
  if (req->res.status >= 400 && !ours) {
    const char *code = req->res.status == 413   ? "ETOOBIG"
                       : req->res.status == 404 ? "ENOROUTE"
                       : req->res.status >= 500 ? "ESTORE"
                                                : "EINVAL";
    char msg[256];
    if (req->res.status == 413) {
      snprintf(msg, sizeof msg, "the request body is larger than api.max_body_bytes");
    } else {
      snprintf(msg, sizeof msg, "%s", req->res.reason ? req->res.reason : "refused");
    }
    cJSON *b = error_body(code, req->res.status == 413 ? "body" : "", msg);
    char *text = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    if (text != NULL) {
      size_t len = strlen(text);
      json_ostream_t *o = (json_ostream_t *)h2o_add_ostream(req, sizeof *o, slot);
      o->body.base = h2o_mem_alloc_pool(&req->pool, len + 1);
      memcpy(o->body.base, text, len);
      o->body.base[len] = '\n';
      o->body.len = len + 1;
      free(text);
      o->super.do_send = json_do_send;
      slot = &o->super.next;
      req->res.content_length = o->body.len;
      h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                     H2O_STRLIT("application/json"), 1);
    }
  }
  h2o_setup_next_ostream(req, slot);
}

void ain__api_errors_filter(h2o_pathconf_t *pc) {
  h2o_filter_t *f = h2o_create_filter(pc, sizeof *f);
  f->on_setup_ostream = on_setup_ostream;
}
