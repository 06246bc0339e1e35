/* Host names of a Postgres URL, looked up on libuv's thread pool before connecting.
 *
 * libpq resolves a host *name* with a blocking getaddrinfo inside PQconnectPoll, which would stall
 * the shard's loop (every step it runs) for as long as DNS takes: seconds when a resolver is slow
 * or down. So before each connect the names are looked up with uv_getaddrinfo, one at a time, and
 * libpq gets `hostaddr` for each host, so it never resolves anything itself. `host` stays as
 * written: libpq still uses it for TLS verification, Kerberos and the password file. A name with
 * several addresses becomes several (host, hostaddr, port) entries, tried in order as libpq tries
 * the addresses of a name. Unix-socket paths, IP literals and a URL that already gives `hostaddr`
 * need no lookup.
 *
 * Relies on: internal.h (the handle), libpq's PQconninfoParse (URL syntax), libuv. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/internal.h"

#define MAX_HOSTS 64 /* entries after expansion; more addresses than this are dropped */

typedef struct {
  uv_getaddrinfo_t gai;
  ain__pg_t *p;
  ain__pg_resolved_cb cb;
  char *hosts[MAX_HOSTS]; /* as written in the URL */
  char *ports[MAX_HOSTS]; /* NULL: the URL's single port (or the default) applies */
  int nhosts;
  int next; /* the host being looked up */
  /* the expanded lists handed to libpq */
  char *out_host[MAX_HOSTS], *out_addr[MAX_HOSTS], *out_port[MAX_HOSTS];
  int nout;
  int per_host_ports; /* the URL lists one port per host */
} resolve_t;

static int needs_lookup(const char *h) {
  unsigned char buf[16];
  return h[0] != '\0' && h[0] != '/' && h[0] != '@' && inet_pton(AF_INET, h, buf) != 1 &&
         inet_pton(AF_INET6, h, buf) != 1;
}

/* Splits a comma-separated libpq list into owned items, counting them in *n; -1 when there are
 * too many or memory ran out (the items made so far are still counted, for freeing). */
static int split(const char *list, char **items, int *n) {
  const char *s = list;
  *n = 0;
  for (;;) {
    size_t len = strcspn(s, ",");
    if (*n == MAX_HOSTS || (items[*n] = malloc(len + 1)) == NULL) {
      return -1;
    }
    memcpy(items[*n], s, len);
    items[(*n)++][len] = '\0';
    if (s[len] == '\0') {
      return 0;
    }
    s += len + 1;
  }
}

static void add_out(resolve_t *r, const char *host, const char *addr, const char *port) {
  if (r->nout == MAX_HOSTS) {
    return;
  }
  r->out_host[r->nout] = ain_strdup(host);
  r->out_addr[r->nout] = ain_strdup(addr);
  r->out_port[r->nout] = port ? ain_strdup(port) : NULL;
  r->nout++;
}

/* "a,b,c" from items (NULL items as empty). */
static char *join(char **items, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) {
    len += (items[i] ? strlen(items[i]) : 0) + 1;
  }
  char *s = malloc(len), *w = s;
  if (s == NULL) {
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    size_t k = items[i] ? strlen(items[i]) : 0;
    if (i > 0) {
      *w++ = ',';
    }
    memcpy(w, items[i] ? items[i] : "", k);
    w += k;
  }
  *w = '\0';
  return s;
}

static void resolve_free(resolve_t *r) {
  if (r == NULL) {
    return;
  }
  for (int i = 0; i < r->nhosts; i++) {
    free(r->hosts[i]);
    free(r->ports[i]);
  }
  for (int i = 0; i < r->nout; i++) {
    free(r->out_host[i]);
    free(r->out_addr[i]);
    free(r->out_port[i]);
  }
  free(r);
}

static void finish(resolve_t *r, const char *err) {
  ain__pg_conn_params_t cp = {0};
  char msg[512];
  if (err == NULL && r->nout == 0) {
    snprintf(msg, sizeof msg, "no address for any host");
    err = msg;
  }
  if (err == NULL) {
    cp.host = join(r->out_host, r->nout);
    cp.hostaddr = join(r->out_addr, r->nout);
    cp.port = r->per_host_ports ? join(r->out_port, r->nout) : NULL;
  }
  ain__pg_resolved_cb cb = r->cb;
  ain__pg_t *p = r->p;
  resolve_free(r);
  cb(p, err == NULL ? &cp : NULL, err);
  free(cp.host);
  free(cp.hostaddr);
  free(cp.port);
}

static void lookup_next(resolve_t *r);

static void on_lookup(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  resolve_t *r = req->data;
  const char *host = r->hosts[r->next];
  const char *port = r->ports[r->next];
  if (status < 0) {
    char msg[512];
    uv_freeaddrinfo(res);
    snprintf(msg, sizeof msg, "cannot resolve host \"%s\": %s", host, uv_strerror(status));
    finish(r, msg);
    return;
  }
  for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
    char addr[64] = "";
    if (a->ai_family == AF_INET) {
      uv_ip4_name((const struct sockaddr_in *)a->ai_addr, addr, sizeof addr);
    } else if (a->ai_family == AF_INET6) {
      uv_ip6_name((const struct sockaddr_in6 *)a->ai_addr, addr, sizeof addr);
    }
    int dup = 0;
    for (int i = 0; i < r->nout; i++) { /* one entry per address, whatever the socket types */
      dup |= strcmp(r->out_host[i], host) == 0 && strcmp(r->out_addr[i], addr) == 0;
    }
    if (addr[0] != '\0' && !dup) {
      add_out(r, host, addr, port);
    }
  }
  uv_freeaddrinfo(res);
  r->next++;
  lookup_next(r);
}

static void lookup_next(resolve_t *r) {
  for (; r->next < r->nhosts; r->next++) {
    const char *h = r->hosts[r->next];
    if (needs_lookup(h)) {
      struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
      int rc = uv_getaddrinfo(r->p->base.loop, &r->gai, on_lookup, h, NULL, &hints);
      if (rc == 0) {
        return;
      }
      char msg[512];
      snprintf(msg, sizeof msg, "cannot resolve host \"%s\": %s", h, uv_strerror(rc));
      finish(r, msg);
      return;
    }
    /* an IP literal is its own address; a socket path has none (an empty hostaddr item makes
     * libpq use the host item as it is) */
    add_out(r, h, h[0] == '/' || h[0] == '@' || h[0] == '\0' ? "" : h, r->ports[r->next]);
  }
  finish(r, NULL);
}

int ain__pg_resolve_start(ain__pg_t *p, ain__pg_resolved_cb cb) {
  int started = 0;
  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse(p->url, &perr);
  PQfreemem(perr);
  if (opts == NULL) {
    return 0; /* libpq reports the syntax error when it connects */
  }
  const char *host = NULL, *hostaddr = NULL, *port = NULL;
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
    if (strcmp(o->keyword, "host") == 0) {
      host = o->val;
    } else if (strcmp(o->keyword, "hostaddr") == 0) {
      hostaddr = o->val;
    } else if (strcmp(o->keyword, "port") == 0) {
      port = o->val;
    }
  }
  if (host == NULL || host[0] == '\0') {
    host = getenv("PGHOST"); /* what libpq would fall back to */
  }
  if (port == NULL || port[0] == '\0') {
    port = getenv("PGPORT");
  }
  resolve_t *r = NULL;
  if (host != NULL && host[0] != '\0' && (hostaddr == NULL || hostaddr[0] == '\0')) {
    r = calloc(1, sizeof *r);
  }
  if (r != NULL) {
    r->p = p;
    r->cb = cb;
    r->gai.data = r;
    int ok = split(host, r->hosts, &r->nhosts) == 0;
    int nports = 0;
    char *ports[MAX_HOSTS] = {0};
    if (ok && port != NULL && strchr(port, ',') != NULL) {
      ok = split(port, ports, &nports) == 0;
    }
    if (ok && nports > 0 && nports == r->nhosts) {
      memcpy(r->ports, ports, sizeof ports);
      r->per_host_ports = 1;
    } else {
      for (int i = 0; i < nports; i++) {
        free(ports[i]); /* a count libpq itself refuses: let it say so */
      }
      ok = ok && nports == 0;
    }
    int any = 0;
    for (int i = 0; ok && i < r->nhosts; i++) {
      any |= needs_lookup(r->hosts[i]);
    }
    if (ok && any) {
      started = 1;
      lookup_next(r); /* may finish (and call cb) before it returns */
    } else {
      resolve_free(r); /* nothing to look up, or a list libpq will refuse with a clear error */
    }
  }
  PQconninfoFree(opts);
  return started;
}
