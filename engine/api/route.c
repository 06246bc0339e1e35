/* Routing and the checks every request passes before its handler: header bytes
 * (api.max_header_bytes, 431), method + path against the route table (404, or 405 with Allow),
 * who is calling (bearer token or client certificate; 401 without saying why, the reason goes to
 * the log) and whether the caller's role may use the route (403).
 * Relies on: internal.h (jwt.c, tls.c, respond.c), the table in routes.c. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "core/log.h"

/* Next segment of p (after a '/') ending at '/' or the end. */
static size_t seg_len(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] != '/') {
    i++;
  }
  return i;
}

static int pattern_matches(const char *pat, const char *path, size_t plen, h2o_iovec_t *params) {
  size_t pi = 0, np = 0, pl = strlen(pat);
  size_t i = 0;
  while (pi < pl && i < plen) {
    if (pat[pi] == '{') {
      const char *close = strchr(pat + pi, '}');
      size_t sl = seg_len(path + i, plen - i);
      if (close == NULL || sl == 0 || np >= AIN__API_MAX_PARAMS) {
        return 0;
      }
      params[np++] = h2o_iovec_init(path + i, sl);
      pi = (size_t)(close - pat) + 1;
      i += sl;
    } else if (pat[pi] == path[i]) {
      pi++, i++;
    } else {
      return 0;
    }
  }
  return pi == pl && i == plen;
}

const ain__api_route_t *ain__api_route_match(const ain__api_route_t *routes, size_t n,
                                             const char *method, size_t mlen, const char *path,
                                             size_t plen, h2o_iovec_t *params, int *status,
                                             char *allow, size_t allow_cap) {
  /* A trailing slash is the same resource ("/v1/tasks/" = "/v1/tasks"), not a 404 surprise. */
  if (plen > 1 && path[plen - 1] == '/') {
    plen--;
  }
  size_t used = 0;
  allow[0] = '\0';
  *status = 404;
  for (size_t i = 0; i < n; i++) {
    h2o_iovec_t p[AIN__API_MAX_PARAMS] = {{0}};
    if (!pattern_matches(routes[i].pattern, path, plen, p)) {
      continue;
    }
    if (strlen(routes[i].method) == mlen && memcmp(routes[i].method, method, mlen) == 0) {
      memcpy(params, p, sizeof p);
      *status = 200;
      return &routes[i];
    }
    *status = 405;
    if (strstr(allow, routes[i].method) == NULL) {
      int w = snprintf(allow + used, allow_cap - used, "%s%s", used ? ", " : "",
                       routes[i].method);
      if (w > 0 && (size_t)w < allow_cap - used) {
        used += (size_t)w;
      }
    }
  }
  return NULL;
}

static void remote_addr(h2o_req_t *req, char *out, size_t cap) {
  struct sockaddr_storage ss;
  socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
  snprintf(out, cap, "?");
  if (len > 0 && ss.ss_family == AF_INET) {
    uv_ip4_name((struct sockaddr_in *)&ss, out, cap);
  } else if (len > 0 && ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, out, cap);
  }
}

/* Who is calling: a bearer token if one is sent, else the verified client certificate.
 * 0 = known (caller filled), 401 or 403 = refused (answered here). media.c calls it too. */
int ain__api_authenticate(ain_api_t *api, h2o_req_t *req, ain__api_caller_t *caller) {
  char addr[64];
  ssize_t ah = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  if (ah >= 0) {
    h2o_iovec_t v = req->headers.entries[ah].value;
    ain_err_t err;
    ain_err_clear(&err);
    int rc;
    if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0) {
      rc = ain__api_jwt_verify(&api->jwt, v.base + 7, v.len - 7, (int64_t)time(NULL), caller,
                               &err);
    } else {
      rc = ain_err_set(&err, AIN_EINVAL, "Authorization is not \"Bearer <token>\"");
    }
    if (rc == 0) {
      return 0;
    }
    remote_addr(req, addr, sizeof addr);
    ain_log_warn("api: %.*s %.*s from %s refused (401): token: %s%s%s%s", (int)req->method.len,
                 req->method.base, (int)req->path_normalized.len, req->path_normalized.base, addr,
                 err.msg, err.field[0] ? " (claim " : "", err.field, err.field[0] ? ")" : "");
  } else if (api->cfg->api.tls.client_ca != NULL) {
    char names[4][160];
    int n = ain__api_tls_peer_names(req, names, 4);
    for (int i = 0; i < n; i++) {
      ain_role_t r = ain_api_config_subject_role(&api->cfg->api, names[i]);
      if (r != AIN_ROLE_NONE) {
        snprintf(caller->subject, sizeof caller->subject, "%s", names[i]);
        snprintf(caller->actor, sizeof caller->actor, "operator:%s", names[i]);
        caller->role = r;
        caller->via = "mtls";
        return 0;
      }
    }
    remote_addr(req, addr, sizeof addr);
    if (n > 0) {
      ain_log_warn("api: client certificate %s from %s has no role in api.tls.roles (403)",
                   names[0], addr);
      ain__api_send_error(req, "EFORBIDDEN", NULL,
                          "this client certificate has no role on this server");
      return 403;
    }
    ain_log_warn("api: %.*s %.*s from %s refused (401): no client certificate",
                 (int)req->method.len, req->method.base, (int)req->path_normalized.len,
                 req->path_normalized.base, addr);
  } else {
    remote_addr(req, addr, sizeof addr);
    ain_log_warn("api: %.*s %.*s from %s refused (401): no Authorization header",
                 (int)req->method.len, req->method.base, (int)req->path_normalized.len,
                 req->path_normalized.base, addr);
  }
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE,
                 H2O_STRLIT("Bearer realm=\"ain-api\""), 1);
  ain__api_send_error(req, "EAUTH", NULL, "authentication required");
  return 401;
}

static size_t header_bytes(const h2o_req_t *req) {
  size_t n = req->method.len + req->path.len + req->authority.len + 16;
  for (size_t i = 0; i < req->headers.size; i++) {
    n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
  }
  return n;
}

int ain__api_dispatch(h2o_handler_t *self, h2o_req_t *req) {
  ain_api_t *api = ain__api_of_handler(self);
  if (header_bytes(req) > (size_t)api->cfg->api.max_header_bytes) {
    req->http1_is_persistent = 0;
    ain__api_send_error(req, "EHEADERS", "headers",
                        "request line and headers exceed api.max_header_bytes (%lld)",
                        (long long)api->cfg->api.max_header_bytes);
    return 0;
  }
  ain__api_call_t call = {.req = req, .api = api};
  int status = 0;
  char allow[128];
  size_t plen = req->path_normalized.len;
  const ain__api_route_t *r =
      ain__api_route_match(ain__api_routes, ain__api_nroutes, req->method.base, req->method.len,
                           req->path_normalized.base, plen, call.params, &status, allow,
                           sizeof allow);
  if (r == NULL && status == 405) {
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, allow, strlen(allow), 1);
    ain__api_send_error(req, "EMETHOD", "method", "%.*s is not allowed here (allowed: %s)",
                        (int)req->method.len, req->method.base, allow);
    return 0;
  }
  if (r == NULL) {
    ain__api_send_error(req, "ENOROUTE", "path", "no route %.*s", (int)plen,
                        req->path_normalized.base);
    return 0;
  }
  ain__api_caller_t caller;
  memset(&caller, 0, sizeof caller);
  /* A scraper without a token may read /metrics when the operator says so (CONTRACTS §6). */
  int open = r->role == AIN_ROLE_NONE ||
             (r->handle == ain__api_metrics && api->cfg->api.metrics_public);
  if (!open) {
    if (ain__api_authenticate(api, req, &caller) != 0) {
      return 0;
    }
    if (caller.role < r->role) {
      ain_log_warn("api: %s (%s) refused %s %s: needs %s (403)", caller.actor,
                   ain_role_name(caller.role), r->method, r->pattern, ain_role_name(r->role));
      ain__api_send_error(req, "EFORBIDDEN", "role", "role %s may not %s %s (needs %s)",
                          ain_role_name(caller.role), r->method, r->pattern,
                          ain_role_name(r->role));
      return 0;
    }
    call.caller = &caller;
  }
  return r->handle(&call);
}
