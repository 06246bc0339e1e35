/* The web console's files (web/console/, compiled into the binary by cmake/embed_files.cmake):
 * GET and HEAD /console (index.html) and /console/{file}. They are served without a caller: they
 * hold no data, and every API call the console makes carries the operator's token. Each answer
 * has the file's sha256 as a strong ETag, `Cache-Control: no-cache` (the browser revalidates, so
 * a new binary's console is picked up at once; If-None-Match gets a bodiless 304), and a
 * Content-Security-Policy that lets the page load and call only its own origin. A name that is
 * not a plain file name is 400, an unknown one 404: nothing is read from the file system, so
 * there is no path to traverse. The bytes are static: sent straight from the table, no copy.
 * Relies on: internal.h (routes, respond.c), assets.h (the generated table). */
#include <string.h>

#include "api/assets.h"
#include "api/internal.h"

/* Only this origin, for scripts, styles, images, media and fetch(); no plugins, no framing, no
 * <base> rewriting, no form posts. */
#define CONSOLE_CSP                                                                                \
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "    \
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "                   \
  "frame-ancestors 'none'"

const ain__api_asset_t *ain__api_asset_find(const ain__api_asset_t *assets, size_t count,
                                            const char *name, size_t n) {
  for (size_t i = 0; i < count; i++) {
    if (strlen(assets[i].name) == n && memcmp(assets[i].name, name, n) == 0) {
      return &assets[i];
    }
  }
  return NULL;
}

int ain__api_etag_listed(h2o_iovec_t v, const char *etag) {
  size_t el = strlen(etag);
  size_t i = 0;
  while (i < v.len) {
    while (i < v.len && (v.base[i] == ' ' || v.base[i] == '\t' || v.base[i] == ',')) {
      i++;
    }
    size_t start = i;
    while (i < v.len && v.base[i] != ',') {
      i++;
    }
    size_t end = i;
    while (end > start && (v.base[end - 1] == ' ' || v.base[end - 1] == '\t')) {
      end--;
    }
    const char *t = v.base + start;
    size_t tl = end - start;
    if (tl == 1 && t[0] == '*') {
      return 1;
    }
    if (tl > 2 && t[0] == 'W' && t[1] == '/') {
      t += 2, tl -= 2;
    }
    if (tl == el && memcmp(t, etag, el) == 0) {
      return 1;
    }
  }
  return 0;
}

static void set_headers(h2o_req_t *req, const ain__api_asset_t *a) {
  h2o_mem_pool_t *p = &req->pool;
  h2o_headers_t *hs = &req->res.headers;
  h2o_set_header(p, hs, H2O_TOKEN_ETAG, a->etag, strlen(a->etag), 1);
  h2o_set_header(p, hs, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-cache"), 1);
  h2o_set_header_by_str(p, hs, H2O_STRLIT("content-security-policy"), 0, H2O_STRLIT(CONSOLE_CSP),
                        1);
  h2o_set_header_by_str(p, hs, H2O_STRLIT("x-content-type-options"), 0, H2O_STRLIT("nosniff"), 1);
  h2o_set_header_by_str(p, hs, H2O_STRLIT("referrer-policy"), 0, H2O_STRLIT("no-referrer"), 1);
}

static int serve(ain__api_call_t *call, const char *name, size_t n) {
  static h2o_generator_t generator = {NULL, NULL}; /* static bytes: nothing to pull or free */
  h2o_req_t *req = call->req;
  const ain__api_asset_t *a =
      ain__api_asset_find(ain__api_console_assets, ain__api_console_assets_count, name, n);
  if (a == NULL) {
    ain__api_send_error(req, "ENOROUTE", "path", "the console has no file '%.*s'", (int)n, name);
    return 0;
  }
  set_headers(req, a);
  ssize_t inm = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
  int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
  if (inm >= 0 && ain__api_etag_listed(req->headers.entries[inm].value, a->etag)) {
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    return 0;
  }
  req->res.status = 200;
  req->res.reason = "OK";
  req->res.content_length = a->size;
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, a->content_type,
                 strlen(a->content_type), 1);
  h2o_start_response(req, &generator);
  h2o_iovec_t body = h2o_iovec_init(a->data, a->size);
  h2o_send(req, head ? NULL : &body, head ? 0 : 1, H2O_SEND_STATE_FINAL);
  return 0;
}

int ain__api_console_index(ain__api_call_t *call) {
  return serve(call, H2O_STRLIT("index.html"));
}

int ain__api_console_file(ain__api_call_t *call) {
  char name[128];
  if (ain__api_param(call, 0, "path", name, sizeof name) != 0) {
    return 0;
  }
  return serve(call, name, strlen(name));
}
