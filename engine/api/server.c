/* The API server's life: h2o configured from api.* (limits, timeouts), the listening socket, the
 * connection count, the server's thread, and the drain on stop. Everything that can fail is set
 * up on the caller's thread before the server's thread starts, so `ain run` reports a bad key
 * file or a taken port at once, naming the key.
 * Relies on: h2o (libuv build), internal.h (jwt.c, tls.c, work.c, route.c, health.c). */
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/log.h"
#include "objstore/objstore.h"
#include "objstore/open.h"

typedef struct {
  h2o_handler_t super;
  ain_api_t *api;
} api_handler_t;

/* An accepted connection's handle; h2o owns handle->data, so the server is found beside it. */
typedef struct {
  uv_tcp_t tcp;
  ain_api_t *api;
} api_conn_t;

static void on_conn_closed(uv_handle_t *h) {
  api_conn_t *c = (api_conn_t *)h;
  c->api->nconns--;
  free(c);
}

static void on_refused_closed(uv_handle_t *h) {
  free(h);
}

static void on_accept(uv_stream_t *listener, int status) {
  ain_api_t *api = listener->data;
  if (status != 0) {
    ain_log_warn("api: accept failed: %s", uv_strerror(status));
    return;
  }
  api_conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return;
  }
  c->api = api;
  uv_tcp_init(&api->loop, &c->tcp);
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
    return;
  }
  if (api->nconns >= api->cfg->api.max_connections || api->stopping) {
    /* Over the limit: closed at once (cheaper than a 503 we would have to parse a request for). */
    static uint64_t last_warn_ms;
    uint64_t now = uv_now(&api->loop);
    if (now - last_warn_ms > 5000) {
      last_warn_ms = now;
      ain_log_warn("api: %d connections open (api.max_connections): closing new ones",
                   api->nconns);
    }
    uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  api->nconns++;
  h2o_accept(&api->accept, h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed));
}

/* host:port, [v6]:port -> sockaddr. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, ain_err_t *err) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) {
    return ain_err_field(err, AIN_ECONFIG, "api.listen", "'api.listen' host is too long");
  }
  memcpy(host, listen, hl);
  host[hl] = '\0';
  int port = atoi(colon + 1);
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    host[hl - 1] = '\0';
    if (uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)ss) == 0) {
      return 0;
    }
  } else if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) {
    return 0;
  }
  return ain_err_field(err, AIN_ECONFIG, "api.listen",
                       "'api.listen' %s: not an IP address and port (use 127.0.0.1:8080 or "
                       "[::1]:8080)", listen);
}

static int start_listener(ain_api_t *api, ain_err_t *err) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  int rc = parse_listen(api->cfg->api.listen, &ss, err);
  if (rc != 0) {
    return rc;
  }
  uv_tcp_init(&api->loop, &api->listener);
  api->listener.data = api;
  api->listening = 1;
  int r = uv_tcp_bind(&api->listener, (struct sockaddr *)&ss, 0);
  if (r == 0) {
    r = uv_listen((uv_stream_t *)&api->listener, 128, on_accept); /* bind errors surface here */
  }
  if (r != 0) {
    return ain_err_field(err, AIN_EIO, "api.listen", "api: cannot listen on %s: %s",
                         api->cfg->api.listen, uv_strerror(r));
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&api->listener, (struct sockaddr *)&bound, &blen);
  api->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

static void on_closed_noop(uv_handle_t *h) {
  (void)h;
}

/* Every piece of the drain has ended once no connection is left. */
static void finish(ain_api_t *api) {
  uv_timer_stop(&api->drain_timer);
  uv_close((uv_handle_t *)&api->drain_timer, on_closed_noop);
  uv_close((uv_handle_t *)&api->stop_async, on_closed_noop);
  ain__api_pool_join(api);
  ain__api_loopread_close(api);
  /* h2o keeps timers of its own on the loop: stop here, dispose after uv_run returned. */
  uv_stop(&api->loop);
}

static void on_drain_timer(uv_timer_t *t) {
  ain_api_t *api = t->data;
  if (ain__api_pool_inflight(api) > 0) {
    return; /* a store call is running for a request: let it answer */
  }
  /* Idle keep-alive connections (HTTP/1 waiting for a request, HTTP/2 with no stream) would wait
   * out request_timeout_ms: time them out now. Connections writing a response close after it
   * (Connection: close once shutdown is requested; HTTP/2 got GOAWAY). */
  h2o_timeout_run(&api->loop, &api->ctx.http1.req_timeout, UINT64_MAX);
  h2o_timeout_run(&api->loop, &api->ctx.http2.idle_timeout, UINT64_MAX);
  if (api->nconns == 0) {
    finish(api);
  }
}

static void begin_drain(ain_api_t *api) {
  if (api->stopping) {
    return;
  }
  api->stopping = 1;
  if (api->listening) {
    uv_close((uv_handle_t *)&api->listener, on_closed_noop);
    api->listening = 0;
  }
  ain__api_health_close(api); /* answers /readyz waiters: shutting down */
  ain__api_events_close(api); /* ends the event streams: the drain does not wait for them */
  h2o_context_request_shutdown(&api->ctx);
  ain__api_pool_stop(api);
  uv_timer_start(&api->drain_timer, on_drain_timer, 0, 20);
}

static void on_stop_async(uv_async_t *a) {
  ain_api_t *api = a->data;
  if (atomic_load(&api->stop_requested)) {
    begin_drain(api);
  }
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) {
    uv_close(h, NULL);
  }
}

static void server_thread(void *arg) {
  ain_api_t *api = arg;
  uv_run(&api->loop, UV_RUN_DEFAULT);
  /* h2o's HTTP/2 graceful shutdown keeps an entry on its one-second timeout after every HTTP/2
   * connection is gone; h2o_context_dispose asserts that no timeout has one. */
  if (h2o_timeout_is_linked(&api->ctx.http2._graceful_shutdown_timeout)) {
    h2o_timeout_unlink(&api->ctx.http2._graceful_shutdown_timeout);
  }
  h2o_context_dispose(&api->ctx); /* runs the loop once itself: must be outside uv_run */
  uv_walk(&api->loop, close_any, NULL);
  uv_run(&api->loop, UV_RUN_DEFAULT);
  /* h2o keeps freed socket buffers in a thread-local recycle list; this thread is ending, so
   * hand them back (popping one returns it to us). */
  while (h2o_socket_buffer_prototype.allocator.cnt > 0) {
    free(h2o_mem_alloc_recycle(&h2o_socket_buffer_prototype.allocator, 0));
  }
  uv_mutex_lock(&api->done_mu);
  atomic_store(&api->finished, 1);
  uv_cond_signal(&api->done_cond);
  uv_mutex_unlock(&api->done_mu);
}

static void configure_h2o(ain_api_t *api) {
  const ain_api_config_t *ac = &api->cfg->api;
  h2o_config_init(&api->h2o);
  api->h2o.server_name = h2o_iovec_init(H2O_STRLIT("ain"));
  api->h2o.max_request_entity_size = (size_t)ac->max_body_bytes;
  /* h2o's req_timeout covers the whole request (headers and body) from its first byte, and is
   * not re-armed per read: a client trickling headers is cut off when it passes. It is also the
   * keep-alive idle time. */
  api->h2o.http1.req_timeout = (uint64_t)ac->request_timeout_ms;
  api->h2o.http2.idle_timeout = (uint64_t)ac->request_timeout_ms;
  api->h2o.handshake_timeout = (uint64_t)ac->request_timeout_ms;
  api->h2o.http2.graceful_shutdown_timeout = 1000; /* after the second GOAWAY, stragglers close */
  h2o_hostconf_t *host =
      h2o_config_register_host(&api->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
  api_handler_t *h = (api_handler_t *)h2o_create_handler(pc, sizeof *h);
  h->api = api;
  h->super.on_req = ain__api_dispatch;
  ain__api_errors_filter(pc);
  ain__api_errors_filter(&host->fallback_path); /* h2o's own 413/400 are bound here */
}

ain_api_t *ain__api_of_handler(h2o_handler_t *self) {
  return ((api_handler_t *)self)->api;
}

int ain_api_start(const ain_config_t *cfg, ain_api_t **out, ain_err_t *err) {
  *out = NULL;
  if (!cfg->api.enabled) {
    return 0;
  }
  /* A client that leaves mid-response (or an event stream whose socket events.c shut down) makes
   * libuv's write() raise SIGPIPE, which would kill the engine: the write must fail with EPIPE,
   * which h2o handles by closing the connection. (h2o's own server ignores it the same way.) */
  signal(SIGPIPE, SIG_IGN);
  ain_api_t *api = calloc(1, sizeof *api);
  if (api == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  api->cfg = cfg;
  int rc = uv_loop_init(&api->loop);
  if (rc != 0) {
    free(api);
    return ain_err_set(err, AIN_EIO, "api: cannot create its loop: %s", uv_strerror(rc));
  }
  uv_mutex_init(&api->done_mu);
  uv_cond_init(&api->done_cond);
  uv_mutex_init(&api->metrics.mu);
  uv_mutex_init(&api->metrics.refresh_mu);
  configure_h2o(api);
  if ((rc = ain__api_jwt_init(&api->jwt, cfg, err)) != 0 ||
      (rc = ain__api_tls_new(cfg, &api->ssl_ctx, err)) != 0 ||
      (rc = ain__api_ticket_init(api, err)) != 0 ||
      (rc = ain_objstore_open(cfg, &api->objects, err)) != 0) {
    goto fail;
  }
  h2o_context_init(&api->ctx, &api->loop, &api->h2o);
  api->accept.ctx = &api->ctx;
  api->accept.hosts = api->h2o.hosts;
  api->accept.ssl_ctx = api->ssl_ctx;
  uv_async_init(&api->loop, &api->stop_async, on_stop_async);
  api->stop_async.data = api;
  uv_timer_init(&api->loop, &api->drain_timer);
  api->drain_timer.data = api;
  if ((rc = start_listener(api, err)) != 0 ||
      (rc = ain__api_pool_start(api, (int)cfg->api.workers, err)) != 0) {
    goto fail_ctx;
  }
  ain__api_loopread_open(api);
  if (api->jwt.alg == 0 && api->ssl_ctx == NULL) {
    ain_log_warn("api: neither api.jwt nor api.tls.client_ca is configured: every route but "
                 "/healthz and /readyz%s refuses (401)",
                 cfg->api.metrics_public ? " and /metrics (api.metrics_public)" : "");
  } else if (api->jwt.alg == 0 && cfg->api.tls.client_ca == NULL) {
    ain_log_warn("api: no api.jwt and no api.tls.client_ca: every route but /healthz and "
                 "/readyz%s refuses (401)",
                 cfg->api.metrics_public ? " and /metrics (api.metrics_public)" : "");
  }
  rc = uv_thread_create(&api->thread, server_thread, api);
  if (rc != 0) {
    rc = ain_err_set(err, AIN_EIO, "api: cannot start its thread: %s", uv_strerror(rc));
    goto fail_ctx;
  }
  api->thread_started = 1;
  ain_log_info("api: listening on %s (port %d, %s, %lld worker(s))", cfg->api.listen, api->port,
               api->ssl_ctx ? (cfg->api.tls.client_ca ? "TLS, client certificates required"
                                                      : "TLS")
                            : "plain HTTP",
               (long long)cfg->api.workers);
  *out = api;
  return 0;

fail_ctx:
  atomic_store(&api->stop_requested, 1);
  ain__api_pool_stop(api);
  ain__api_pool_join(api);
  ain__api_loopread_close(api);
  if (api->listening) {
    uv_close((uv_handle_t *)&api->listener, NULL);
  }
  uv_close((uv_handle_t *)&api->stop_async, NULL);
  uv_close((uv_handle_t *)&api->drain_timer, NULL);
  /* h2o's own handles keep the loop alive: dispose first, then close whatever is left. */
  h2o_context_dispose(&api->ctx);
  uv_walk(&api->loop, close_any, NULL);
  uv_run(&api->loop, UV_RUN_DEFAULT);
fail:
  atomic_store(&api->finished, 1);
  ain_api_free(api);
  return rc;
}

int ain_api_port(const ain_api_t *api) {
  return api ? api->port : 0;
}

void ain_api_engine_state(ain_api_t *api, ain_api_engine_state_t st) {
  if (api != NULL) {
    atomic_store(&api->engine_state, (int)st);
  }
}

int ain_api_stop(ain_api_t *api, int64_t deadline_ms) {
  if (api == NULL || !api->thread_started) {
    return 0;
  }
  if (!atomic_exchange(&api->stop_requested, 1)) {
    uv_async_send(&api->stop_async);
  }
  uint64_t end = uv_hrtime() + (uint64_t)deadline_ms * 1000000ull;
  uv_mutex_lock(&api->done_mu);
  while (!atomic_load(&api->finished)) {
    uint64_t now = uv_hrtime();
    if (now >= end || uv_cond_timedwait(&api->done_cond, &api->done_mu, end - now) != 0) {
      break;
    }
  }
  int finished = atomic_load(&api->finished);
  uv_mutex_unlock(&api->done_mu);
  if (!finished) {
    ain_log_warn("api: did not stop within %lld ms; leaving it to the process exit",
                 (long long)deadline_ms);
    return AIN_ETIMEOUT;
  }
  uv_thread_join(&api->thread);
  api->thread_started = 0;
  return 0;
}

void ain_api_free(ain_api_t *api) {
  if (api == NULL) {
    return;
  }
  if (api->thread_started || !atomic_load(&api->finished)) {
    return; /* still running (a stop that timed out): the process exit takes it */
  }
  uv_loop_close(&api->loop);
  h2o_config_dispose(&api->h2o);
  ain__api_jwt_free(&api->jwt);
  ain__api_tls_free(api->ssl_ctx);
  ain_objstore_close(api->objects);
  OPENSSL_cleanse(api->media_key, sizeof api->media_key);
  free(api->ready);
  free(api->metrics.text);
  uv_mutex_destroy(&api->metrics.mu);
  uv_mutex_destroy(&api->metrics.refresh_mu);
  ain__api_events_free(api);
  uv_mutex_destroy(&api->done_mu);
  uv_cond_destroy(&api->done_cond);
  free(api);
}
