/* OpenClaw presence (cluster.openclaw, DESIGN §10): this node connects to an OpenClaw Gateway
 * over its WebSocket protocol v3 with role "node" and reports its heartbeat and capacity (shards,
 * running steps, max renders, version), so operators see the engines in the gateway's presence
 * and node lists. It is informative only: the store stays the source of truth for liveness, no
 * step ever waits on the gateway, and an outage only changes the state `ain nodes` shows.
 *
 * Threading: libwebsockets runs on a thread of its own, on a libuv loop of its own (lws's libuv
 * event library), so a slow DNS look-up, TLS handshake or dead gateway never touches the engine's
 * loops. The engine hands capacity over with ain_openclaw_report (a mutex and a uv_async) and
 * reads the connection state with ain_openclaw_state; both return at once.
 *
 * Reconnects: exponential backoff with jitter between reconnect_min_ms and reconnect_max_ms; a
 * refused connect (wrong token, pairing required) is logged once per distinct reason, with the
 * gateway's code but never the token, and retried at the slow end of the backoff.
 *
 * The device identity the gateway pairs is an Ed25519 key in identity_path (created 0600 on first
 * use: cluster/openclaw_identity.c). Relies on: libwebsockets (libuv event lib), libuv, cJSON,
 * core/secret.h, core/log.h, obs/obs.h. */
#ifndef AIN_CLUSTER_OPENCLAW_H
#define AIN_CLUSTER_OPENCLAW_H

#include <stdint.h>

#include "core/err.h"

typedef struct ain_openclaw ain_openclaw_t;

typedef struct {
  const char *url;           /* ws:// or wss:// (validated by the config loader) */
  const char *token_secret;  /* secret name of the gateway token, or NULL */
  const char *secrets_dir;   /* the secrets provider's folder (core/secret.h) */
  const char *identity_path; /* the device key file */
  const char *instance_id;   /* this process: "node_id/pid" */
  const char *node_name;     /* the configured node_id: the gateway's display name */
  int64_t reconnect_min_ms, reconnect_max_ms;
  int64_t stats_interval_ms; /* node.host.stats (the heartbeat the gateway shows) at most this often */
} ain_openclaw_opts_t;

typedef struct {
  int shards;
  int running; /* steps running in this process now */
  int max_renders;
  int64_t last_beat; /* ms since epoch of the store heartbeat this report rides on */
} ain_openclaw_capacity_t;

typedef enum {
  AIN_OPENCLAW_CONNECTING = 0, /* dialing, handshaking, or waiting to retry after a clean drop */
  AIN_OPENCLAW_CONNECTED,      /* hello-ok received: the node is in the gateway's lists */
  AIN_OPENCLAW_ERROR,          /* the last attempt failed (unreachable, refused): retrying */
} ain_openclaw_state_t;

/* "connecting" | "connected" | "error" */
const char *ain_openclaw_state_name(ain_openclaw_state_t s);

/* Copies opts and starts the client thread (the first connect is attempted at once). Caller
 * frees with ain_openclaw_free. Fails only on bad options or when no thread can be made. */
int ain_openclaw_start(const ain_openclaw_opts_t *opts, ain_openclaw_t **out, ain_err_t *err);
/* Hands the latest capacity to the client thread, which sends it if connected. Any thread; never
 * blocks on I/O. */
void ain_openclaw_report(ain_openclaw_t *oc, const ain_openclaw_capacity_t *cap);
/* The connection state and since when (ms since epoch). Any thread. */
ain_openclaw_state_t ain_openclaw_state(ain_openclaw_t *oc, int64_t *since);
/* Closes the connection (the gateway then drops the node from its connected list), stops and
 * joins the thread, frees. NULL is a no-op. */
void ain_openclaw_free(ain_openclaw_t *oc);

#endif
