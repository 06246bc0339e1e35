/* The OpenClaw Gateway client (see openclaw.h): one thread running a libuv loop that libwebsockets
 * drives (its libuv event library, the loop handed in as a foreign loop), a uv_async the engine
 * wakes with capacity or a stop, and a timer for reconnects.
 *
 * Protocol v3, node role (the gateway's docs/gateway/protocol/handshake.md): the gateway opens
 * with a connect.challenge event (nonce, ts); we answer with a connect request (role "node",
 * client id "node-host", mode "node", the shared token, and the device identity signing the v3
 * payload "v3|device|client|mode|role|scopes|signedAt|token|nonce|platform|family"); a hello-ok
 * response means we are in its presence and node lists. Then every heartbeat sends a
 * node.event "node.host.stats" (cpu count, load, memory: the gateway stamps it, so its
 * updatedAtMs is our heartbeat there). The gateway's node schemas are closed, so the engine's own
 * capacity travels in the connect (display name and version); running steps stay in the store.
 * Relies on: libwebsockets, libuv, cJSON, core/, obs/. */
#include "cluster/openclaw.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <uv.h>

#include "cluster/openclaw_internal.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/util.h"
#include "obs/obs.h"

#define MAX_MESSAGE (8 << 20) /* hello-ok carries a snapshot; anything bigger is not for us */
#define OUT_MAX 8
#define HANDSHAKE_MS 20000 /* connect + upgrade + hello, or the attempt is cut */

struct ain_openclaw {
  /* options, copied */
  char *url, *token_secret, *secrets_dir, *identity_path, *instance_id, *node_name;
  int64_t min_ms, max_ms;
  int64_t stats_ms; /* node.host.stats at most this often */

  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t retry_timer;
  struct lws_context *ctx;
  struct lws *wsi;

  /* shared with other threads, under mu */
  uv_mutex_t mu;
  ain_openclaw_capacity_t cap;
  int cap_fresh; /* a report arrived that is not sent yet */
  int stopping;
  ain_openclaw_state_t state;
  int64_t since;

  /* client thread only */
  ain__openclaw_identity_t id;
  int have_id;
  char *token; /* resolved per attempt, wiped after */
  int attempt; /* consecutive failures: the backoff exponent */
  int refused; /* the gateway refused the connect: retry at the slow end */
  int hello;   /* hello-ok received on this connection */
  int pending_logged; /* "not approved yet" said on this connection */
  int64_t stats_at;
  int64_t dialed_at; /* when the current attempt started */
  char last_error[256]; /* logged once until it changes */
  char *rx;
  size_t nrx;
  char *out[OUT_MAX]; /* frames waiting for a writable socket */
  int nout;
  unsigned long next_id;
  char connect_id[32];
  struct lws_protocols protocols[2];
};

const char *ain_openclaw_state_name(ain_openclaw_state_t s) {
  switch (s) {
  case AIN_OPENCLAW_CONNECTED:
    return "connected";
  case AIN_OPENCLAW_ERROR:
    return "error";
  default:
    return "connecting";
  }
}

static void set_state(ain_openclaw_t *oc, ain_openclaw_state_t s) {
  uv_mutex_lock(&oc->mu);
  if (oc->state != s) {
    oc->state = s;
    oc->since = ain_now_ms();
  }
  uv_mutex_unlock(&oc->mu);
  ain_obs_set(AIN_M_OPENCLAW_CONNECTED, NULL, s == AIN_OPENCLAW_CONNECTED);
}

/* Logs a failure once per distinct reason (a gateway down for an hour is one line, not 1,000). */
static void fail(ain_openclaw_t *oc, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(ain_openclaw_t *oc, const char *result, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *r[1] = {result};
  ain_obs_inc(AIN_M_OPENCLAW_CONNECTS, r);
  if (strcmp(msg, oc->last_error) != 0) {
    ain_log_warn("openclaw: %s (gateway %s); retrying with backoff, nothing else waits on it", msg,
                 oc->url);
    snprintf(oc->last_error, sizeof oc->last_error, "%s", msg);
  }
  set_state(oc, AIN_OPENCLAW_ERROR);
}

static void clear_out(ain_openclaw_t *oc) {
  for (int i = 0; i < oc->nout; i++) {
    free(oc->out[i]);
  }
  oc->nout = 0;
  free(oc->rx);
  oc->rx = NULL;
  oc->nrx = 0;
}

static void queue_frame(ain_openclaw_t *oc, cJSON *frame) {
  char *s = cJSON_PrintUnformatted(frame);
  cJSON_Delete(frame);
  if (s == NULL || oc->nout == OUT_MAX || oc->wsi == NULL) {
    free(s); /* a full queue means the socket is stuck; the next report supersedes this one */
    return;
  }
  oc->out[oc->nout++] = s;
  lws_callback_on_writable(oc->wsi);
}

static cJSON *request(ain_openclaw_t *oc, const char *method, char *id_out, size_t cap) {
  char id[32];
  snprintf(id, sizeof id, "ain-%lu", ++oc->next_id);
  if (id_out != NULL) {
    snprintf(id_out, cap, "%s", id);
  }
  cJSON *f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "type", "req");
  cJSON_AddStringToObject(f, "id", id);
  cJSON_AddStringToObject(f, "method", method);
  return f;
}

/* ---- the handshake ------------------------------------------------------------------------- */

static void send_connect(ain_openclaw_t *oc, const char *nonce, int64_t ts) {
  const char *token = oc->token != NULL ? oc->token : "";
  char payload[1024], sig[128], display[160];
  /* v3 device payload; scopes empty (a node asks for none), platform lower-case, no family */
  snprintf(payload, sizeof payload, "v3|%s|node-host|node|node||%lld|%s|%s|linux|",
           oc->id.device_id, (long long)ts, token, nonce);
  if (ain__openclaw_identity_sign(&oc->id, payload, sig, sizeof sig) != 0) {
    fail(oc, "failed", "cannot sign the gateway's challenge");
    return;
  }
  uv_mutex_lock(&oc->mu);
  ain_openclaw_capacity_t cap = oc->cap;
  uv_mutex_unlock(&oc->mu);
  snprintf(display, sizeof display, "ain %s (%d shards, %d renders)", oc->node_name, cap.shards,
           cap.max_renders);
  cJSON *f = request(oc, "connect", oc->connect_id, sizeof oc->connect_id);
  cJSON *p = cJSON_AddObjectToObject(f, "params");
  cJSON_AddNumberToObject(p, "minProtocol", 3);
  cJSON_AddNumberToObject(p, "maxProtocol", 3);
  cJSON *cl = cJSON_AddObjectToObject(p, "client");
  cJSON_AddStringToObject(cl, "id", "node-host");
  cJSON_AddStringToObject(cl, "displayName", display);
  cJSON_AddStringToObject(cl, "version", AIN_VERSION);
  cJSON_AddStringToObject(cl, "platform", "linux");
  cJSON_AddStringToObject(cl, "mode", "node");
  cJSON_AddStringToObject(cl, "instanceId", oc->instance_id);
  cJSON_AddStringToObject(p, "role", "node");
  cJSON_AddArrayToObject(p, "scopes");
  cJSON_AddArrayToObject(p, "caps");
  cJSON_AddArrayToObject(p, "commands");
  if (oc->token != NULL) {
    cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "auth"), "token", oc->token);
  }
  cJSON_AddStringToObject(p, "userAgent", "ain/" AIN_VERSION);
  cJSON *d = cJSON_AddObjectToObject(p, "device");
  cJSON_AddStringToObject(d, "id", oc->id.device_id);
  cJSON_AddStringToObject(d, "publicKey", oc->id.public_key);
  cJSON_AddStringToObject(d, "signature", sig);
  cJSON_AddNumberToObject(d, "signedAt", (double)ts);
  cJSON_AddStringToObject(d, "nonce", nonce);
  queue_frame(oc, f);
}

/* node.host.stats: the gateway's heartbeat of a node host (closed schema: cpuCount 1..4096,
 * loadAverage, memory free <= total). */
static void send_stats(ain_openclaw_t *oc) {
  struct sysinfo si;
  oc->stats_at = ain_now_ms();
  double load[3] = {0, 0, 0};
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (sysinfo(&si) != 0 || getloadavg(load, 3) != 3) {
    return;
  }
  cJSON *f = request(oc, "node.event", NULL, 0);
  cJSON *p = cJSON_AddObjectToObject(f, "params");
  cJSON_AddStringToObject(p, "event", "node.host.stats");
  cJSON *s = cJSON_AddObjectToObject(p, "payload");
  cJSON_AddNumberToObject(s, "cpuCount", cpus < 1 ? 1 : cpus > 4096 ? 4096 : (double)cpus);
  cJSON *la = cJSON_AddArrayToObject(s, "loadAverage");
  for (int i = 0; i < 3; i++) {
    cJSON_AddItemToArray(la, cJSON_CreateNumber(load[i] > 100000 ? 100000 : load[i]));
  }
  double unit = si.mem_unit ? (double)si.mem_unit : 1.0;
  cJSON_AddNumberToObject(s, "memoryTotalBytes", (double)si.totalram * unit);
  cJSON_AddNumberToObject(s, "memoryFreeBytes", (double)si.freeram * unit);
  queue_frame(oc, f);
}

static void on_message(ain_openclaw_t *oc, const char *text, size_t n) {
  cJSON *m = cJSON_ParseWithLength(text, n);
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(m, "type"));
  if (m == NULL || type == NULL) {
    cJSON_Delete(m);
    return;
  }
  if (strcmp(type, "event") == 0) {
    const char *ev = cJSON_GetStringValue(cJSON_GetObjectItem(m, "event"));
    if (ev != NULL && strcmp(ev, "connect.challenge") == 0 && !oc->hello) {
      cJSON *pl = cJSON_GetObjectItem(m, "payload");
      const char *nonce = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "nonce"));
      cJSON *ts = cJSON_GetObjectItem(pl, "ts");
      if (nonce == NULL || !cJSON_IsNumber(ts) || ts->valuedouble < 0 || strlen(nonce) > 256) {
        fail(oc, "failed", "the gateway sent a malformed connect.challenge");
      } else {
        send_connect(oc, nonce, (int64_t)ts->valuedouble);
      }
    }
  } else if (strcmp(type, "res") == 0) {
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "id"));
    int ok = cJSON_IsTrue(cJSON_GetObjectItem(m, "ok"));
    cJSON *e = cJSON_GetObjectItem(m, "error");
    const char *emsg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
    const char *detail =
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "details"), "code"));
    if (id != NULL && strcmp(id, oc->connect_id) == 0) {
      if (ok) {
        oc->hello = 1;
        oc->attempt = 0;
        oc->refused = 0;
        oc->last_error[0] = '\0';
        const char *r[1] = {"ok"};
        ain_obs_inc(AIN_M_OPENCLAW_CONNECTS, r);
        set_state(oc, AIN_OPENCLAW_CONNECTED);
        ain_log_info("openclaw: connected to gateway %s as node %s (device %.12s)", oc->url,
                     oc->instance_id, oc->id.device_id);
        send_stats(oc);
      } else {
        oc->refused = 1;
        /* The gateway's message and codes never contain the token; neither does this line. */
        fail(oc, "refused", "the gateway refused the connect: %s%s%s (%s)%s",
             code != NULL ? code : "error", detail != NULL ? "/" : "", detail != NULL ? detail : "",
             emsg != NULL ? emsg : "no message",
             detail != NULL && strncmp(detail, "AUTH_", 5) == 0
                 ? "; check the secret named by cluster.openclaw.token_secret"
                 : "");
      }
    } else if (!ok && detail != NULL && strcmp(detail, "PAIRING_CHANGED") == 0) {
      if (!oc->pending_logged) { /* once per connection: the operator's move, not ours */
        ain_log_warn("openclaw: gateway %s has not approved node %s (device %.12s) yet: it is "
                     "listed but its heartbeat is refused until an operator approves the pairing "
                     "(openclaw nodes approve)",
                     oc->url, oc->instance_id, oc->id.device_id);
        oc->pending_logged = 1;
      }
    } else if (!ok) {
      ain_log_debug("openclaw: gateway answered %s with %s: %s", id != NULL ? id : "?",
                    code != NULL ? code : "error", emsg != NULL ? emsg : "");
    } else {
      cJSON *pl = cJSON_GetObjectItem(m, "payload");
      const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "reason"));
      if (cJSON_IsFalse(cJSON_GetObjectItem(pl, "handled"))) {
        ain_log_debug("openclaw: the gateway did not take our host stats: %s", why ? why : "?");
      }
    }
  }
  cJSON_Delete(m);
}

/* ---- connecting and backoff ------------------------------------------------------------------ */

static void on_retry(uv_timer_t *t);

static void schedule_retry(ain_openclaw_t *oc) {
  int stopping;
  uv_mutex_lock(&oc->mu);
  stopping = oc->stopping;
  uv_mutex_unlock(&oc->mu);
  if (stopping || uv_is_active((uv_handle_t *)&oc->retry_timer)) {
    return;
  }
  /* Exponential, capped, with "equal jitter": half fixed, half random, so many nodes restarted
   * with one gateway do not come back in lockstep. A refusal goes straight to the slow end. */
  int64_t d = oc->min_ms;
  for (int i = 0; i < oc->attempt && d < oc->max_ms; i++) {
    d *= 2;
  }
  if (d > oc->max_ms || oc->refused) {
    d = oc->max_ms;
  }
  d = d / 2 + (int64_t)(ain_random_u64() % (uint64_t)(d / 2 + 1));
  oc->attempt++;
  ain_log_debug("openclaw: next attempt in %lld ms", (long long)d);
  uv_timer_start(&oc->retry_timer, on_retry, (uint64_t)d, 0);
}

static void dial(ain_openclaw_t *oc) {
  char buf[600];
  const char *prot = NULL, *ads = NULL, *path = NULL;
  int port = 0;
  snprintf(buf, sizeof buf, "%s", oc->url);
  if (lws_parse_uri(buf, &prot, &ads, &port, &path) != 0) {
    fail(oc, "failed", "cannot parse the URL");
    schedule_retry(oc);
    return;
  }
  ain_secret_free(oc->token, oc->token != NULL ? strlen(oc->token) : 0);
  oc->token = NULL;
  if (oc->token_secret != NULL) {
    ain_err_t err;
    size_t len = 0;
    if (ain_secret_resolve(oc->secrets_dir, oc->token_secret, &oc->token, &len, &err) != 0) {
      oc->token = NULL;
      oc->refused = 1;
      fail(oc, "failed", "cluster.openclaw.token_secret: %s", err.msg);
      schedule_retry(oc);
      return;
    }
  }
  char fullpath[600], host[600];
  /* lws_parse_uri leaves the path's '/' off, except for a URL without one ("/") */
  snprintf(fullpath, sizeof fullpath, "%s%s", path[0] == '/' ? "" : "/", path);
  snprintf(host, sizeof host, "%s:%d", ads, port);
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = oc->ctx;
  ci.address = ads;
  ci.port = port;
  ci.path = fullpath;
  ci.host = host;
  ci.origin = NULL;
  ci.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
  ci.local_protocol_name = "ain-openclaw"; /* binds our callback; sends no subprotocol */
  ci.pwsi = &oc->wsi;
  oc->hello = 0;
  oc->pending_logged = 0;
  oc->dialed_at = ain_now_ms();
  clear_out(oc);
  if (oc->state != AIN_OPENCLAW_ERROR) {
    set_state(oc, AIN_OPENCLAW_CONNECTING);
  }
  if (lws_client_connect_via_info(&ci) == NULL) {
    oc->wsi = NULL;
    fail(oc, "failed", "cannot start a connection");
    schedule_retry(oc);
  }
}

static void on_retry(uv_timer_t *t) {
  ain_log_debug("openclaw: dialing %s", ((ain_openclaw_t *)t->data)->url);
  dial(t->data);
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len) {
  (void)user;
  struct lws_context *ctx = lws_get_context(wsi);
  ain_openclaw_t *oc = ctx != NULL ? lws_context_user(ctx) : NULL;
  if (oc == NULL) {
    return 0;
  }
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    oc->wsi = NULL;
    fail(oc, "failed", "cannot connect: %s",
         in != NULL && len > 0 ? (const char *)in : "connection failed");
    clear_out(oc);
    schedule_retry(oc);
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE: {
    if (oc->nrx + len > MAX_MESSAGE) {
      fail(oc, "failed", "a gateway message is over %d bytes", MAX_MESSAGE);
      return -1;
    }
    char *grown = realloc(oc->rx, oc->nrx + len + 1);
    if (grown == NULL) {
      return -1;
    }
    oc->rx = grown;
    memcpy(oc->rx + oc->nrx, in, len);
    oc->nrx += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
      char *msg = oc->rx;
      size_t n = oc->nrx;
      oc->rx = NULL;
      oc->nrx = 0;
      on_message(oc, msg, n);
      free(msg);
      if (oc->refused && !oc->hello) {
        return -1; /* close; CLOSED schedules the retry */
      }
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_WRITEABLE: {
    if (oc->nout == 0) {
      return 0;
    }
    char *s = oc->out[0];
    size_t n = strlen(s);
    unsigned char *buf = malloc(LWS_PRE + n);
    if (buf == NULL) {
      return -1;
    }
    memcpy(buf + LWS_PRE, s, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    free(s);
    memmove(oc->out, oc->out + 1, (size_t)(oc->nout - 1) * sizeof oc->out[0]);
    oc->nout--;
    if (w < (int)n) {
      return -1;
    }
    if (oc->nout > 0) {
      lws_callback_on_writable(wsi);
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_CLOSED:
    oc->wsi = NULL;
    clear_out(oc);
    uv_mutex_lock(&oc->mu);
    int stopping = oc->stopping;
    uv_mutex_unlock(&oc->mu);
    if (stopping) {
      return 0; /* our own close at shutdown */
    }
    if (oc->hello) {
      oc->hello = 0;
      oc->attempt = 0;
      ain_log_warn("openclaw: the connection to gateway %s closed; reconnecting", oc->url);
      set_state(oc, AIN_OPENCLAW_CONNECTING);
    } else if (!oc->refused) {
      fail(oc, "failed", "the gateway closed the connection before hello");
    }
    schedule_retry(oc);
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    /* Every end of a connection passes here, including ones lws reports no error for (a
     * handshake it timed out on): no attempt may end without the next one scheduled. */
    if (oc->wsi == wsi) {
      oc->wsi = NULL;
      clear_out(oc);
    }
    if (oc->wsi == NULL) {
      if (oc->hello) {
        oc->hello = 0;
        set_state(oc, AIN_OPENCLAW_CONNECTING);
      }
      schedule_retry(oc);
    }
    return 0;
  default:
    return 0;
  }
}

/* ---- the thread ------------------------------------------------------------------------------ */

static void on_wake(uv_async_t *a) {
  ain_openclaw_t *oc = a->data;
  uv_mutex_lock(&oc->mu);
  int stopping = oc->stopping, fresh = oc->cap_fresh;
  oc->cap_fresh = 0;
  uv_mutex_unlock(&oc->mu);
  if (stopping) {
    uv_stop(&oc->loop);
    return;
  }
  int64_t now = ain_now_ms();
  if (fresh && oc->hello && oc->wsi != NULL && now - oc->stats_at >= oc->stats_ms) {
    send_stats(oc);
  }
  /* The safety net, checked on each heartbeat: a handshake that hangs is cut, and a client with
   * no connection and no retry pending gets one. */
  if (oc->ctx != NULL && oc->wsi != NULL && !oc->hello && now - oc->dialed_at > HANDSHAKE_MS) {
    lws_set_timeout(oc->wsi, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE, LWS_TO_KILL_ASYNC);
  } else if (oc->ctx != NULL && oc->wsi == NULL &&
             !uv_is_active((uv_handle_t *)&oc->retry_timer)) {
    schedule_retry(oc);
  }
}

static void lws_logger(int level, const char *line) {
  (void)level;
  ain_log_debug("openclaw: lws: %.*s", (int)strcspn(line, "\n"), line);
}

static void run(void *arg) {
  ain_openclaw_t *oc = arg;
  ain_err_t err;
  if (ain__openclaw_identity_load(&oc->id, oc->identity_path, &err) != 0) {
    ain_log_error("openclaw: %s; this node stays out of the gateway's presence", err.msg);
    set_state(oc, AIN_OPENCLAW_ERROR);
  } else {
    oc->have_id = 1;
  }
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_logger);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = {&oc->loop};
  oc->protocols[0].name = "ain-openclaw";
  oc->protocols[0].callback = on_lws;
  oc->protocols[0].rx_buffer_size = 65536;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = oc->protocols;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.foreign_loops = loops;
  info.user = oc;
  if (oc->have_id) {
    oc->ctx = lws_create_context(&info);
    if (oc->ctx == NULL) {
      ain_log_error("openclaw: libwebsockets could not start (its libuv event library, package "
                    "libwebsockets-evlib-uv, missing?); this node stays out of the gateway's "
                    "presence");
      set_state(oc, AIN_OPENCLAW_ERROR);
    } else {
      dial(oc);
    }
  }
  uv_run(&oc->loop, UV_RUN_DEFAULT);
  /* Stop: close the socket (the gateway sees a clean disconnect), let lws close its handles. */
  uv_timer_stop(&oc->retry_timer);
  uv_close((uv_handle_t *)&oc->retry_timer, NULL);
  uv_close((uv_handle_t *)&oc->wake, NULL);
  if (oc->ctx != NULL) {
    lws_context_destroy(oc->ctx);
  }
  uv_run(&oc->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&oc->loop) != 0) {
    ain_log_warn("openclaw: the client loop still had handles at exit");
  }
  oc->ctx = NULL;
}

int ain_openclaw_start(const ain_openclaw_opts_t *o, ain_openclaw_t **out, ain_err_t *err) {
  *out = NULL;
  if (o->url == NULL || o->identity_path == NULL || o->instance_id == NULL ||
      o->node_name == NULL) {
    return ain_err_field(err, AIN_EINVAL, "cluster.openclaw.url",
                         "the OpenClaw client needs a url, an identity path and the node's id");
  }
  ain_openclaw_t *oc = calloc(1, sizeof *oc);
  if (oc == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  oc->url = ain_strdup(o->url);
  oc->token_secret = o->token_secret != NULL ? ain_strdup(o->token_secret) : NULL;
  oc->secrets_dir = o->secrets_dir != NULL ? ain_strdup(o->secrets_dir) : NULL;
  oc->identity_path = ain_strdup(o->identity_path);
  oc->instance_id = ain_strdup(o->instance_id);
  oc->node_name = ain_strdup(o->node_name);
  oc->min_ms = o->reconnect_min_ms > 0 ? o->reconnect_min_ms : 1000;
  oc->max_ms = o->reconnect_max_ms >= oc->min_ms ? o->reconnect_max_ms : oc->min_ms;
  oc->stats_ms = o->stats_interval_ms > 0 ? o->stats_interval_ms : 15000;
  oc->state = AIN_OPENCLAW_CONNECTING;
  oc->since = ain_now_ms();
  uv_mutex_init(&oc->mu);
  int rc = uv_loop_init(&oc->loop);
  if (rc != 0) {
    ain_err_set(err, AIN_EIO, "openclaw: cannot make a loop: %s", uv_strerror(rc));
    goto fail;
  }
  uv_async_init(&oc->loop, &oc->wake, on_wake);
  oc->wake.data = oc;
  uv_timer_init(&oc->loop, &oc->retry_timer);
  oc->retry_timer.data = oc;
  ain_obs_set(AIN_M_OPENCLAW_CONNECTED, NULL, 0);
  rc = uv_thread_create(&oc->thread, run, oc);
  if (rc != 0) {
    uv_close((uv_handle_t *)&oc->wake, NULL);
    uv_close((uv_handle_t *)&oc->retry_timer, NULL);
    uv_run(&oc->loop, UV_RUN_DEFAULT);
    uv_loop_close(&oc->loop);
    ain_err_set(err, AIN_EIO, "openclaw: cannot start its thread: %s", uv_strerror(rc));
    goto fail;
  }
  *out = oc;
  return 0;
fail:
  uv_mutex_destroy(&oc->mu);
  free(oc->url);
  free(oc->token_secret);
  free(oc->secrets_dir);
  free(oc->identity_path);
  free(oc->instance_id);
  free(oc->node_name);
  free(oc);
  return err->code;
}

void ain_openclaw_report(ain_openclaw_t *oc, const ain_openclaw_capacity_t *cap) {
  if (oc == NULL) {
    return;
  }
  uv_mutex_lock(&oc->mu);
  oc->cap = *cap;
  oc->cap_fresh = 1;
  uv_mutex_unlock(&oc->mu);
  uv_async_send(&oc->wake);
}

ain_openclaw_state_t ain_openclaw_state(ain_openclaw_t *oc, int64_t *since) {
  uv_mutex_lock(&oc->mu);
  ain_openclaw_state_t s = oc->state;
  if (since != NULL) {
    *since = oc->since;
  }
  uv_mutex_unlock(&oc->mu);
  return s;
}

void ain_openclaw_free(ain_openclaw_t *oc) {
  if (oc == NULL) {
    return;
  }
  uv_mutex_lock(&oc->mu);
  oc->stopping = 1;
  uv_mutex_unlock(&oc->mu);
  uv_async_send(&oc->wake);
  uv_thread_join(&oc->thread);
  clear_out(oc);
  if (oc->have_id) {
    ain__openclaw_identity_free(&oc->id);
  }
  ain_secret_free(oc->token, oc->token != NULL ? strlen(oc->token) : 0);
  ain_obs_set(AIN_M_OPENCLAW_CONNECTED, NULL, 0);
  uv_mutex_destroy(&oc->mu);
  free(oc->url);
  free(oc->token_secret);
  free(oc->secrets_dir);
  free(oc->identity_path);
  free(oc->instance_id);
  free(oc->node_name);
  free(oc);
}
