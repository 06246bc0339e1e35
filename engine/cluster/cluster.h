/* Cluster housekeeping on the engine's main loop: the node heartbeat (a nodes row per engine
 * process: id "node_id/pid", host, pid, version, shards, last beat; the store counts its running
 * steps), dead-node detection (every beat declares nodes silent past the timeout dead and fences
 * their leases: the store bumps each task's state_version and expires its lease, so a paused
 * node's late result is refused and the reaper retries the step), and the archive (finished tasks
 * of finished DAGs leave the hot tasks table). On Postgres it also checks at start-up that
 * LISTEN/NOTIFY works (a transaction-mode pooler breaks it) and says so in the log either way.
 *
 * After each beat it runs the review-backlog guard when configured (publishers paused while the
 * review backlog is high, DESIGN §10).
 *
 * With cluster.openclaw, each beat also reports to the OpenClaw Gateway client
 * (cluster/openclaw.h) and writes its connection state into the nodes row; the gateway never
 * decides liveness.
 *
 * Postgres is the coordination point: no consensus of our own. Relies on: store/store.h,
 * store/metrics.h, obs/obs.h, libuv, core/log.h. */
#ifndef AIN_CLUSTER_CLUSTER_H
#define AIN_CLUSTER_CLUSTER_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"
#include "store/store.h"

typedef struct ain_cluster ain_cluster_t;

typedef struct {
  const char *node_id; /* configured node id (default: host name) */
  int shards;
  int64_t heartbeat_ms;
  int64_t node_timeout_ms;
  int64_t archive_interval_ms; /* 0 = no archiving */
  int64_t archive_after_ms;
  /* Called on the loop when a beat fenced leases of dead nodes (the caller runs its reaper now
   * rather than at the next reap tick). May be NULL. */
  void (*on_fenced)(void *data, int expired);
  void *data;
  /* Postgres: how to open a second connection for the start-up self-test of LISTEN/NOTIFY (a
   * heartbeat NOTIFYs; the probe must hear it). NULL, or another backend: no self-test. */
  const ain_store_config_t *store_cfg;
  int64_t poll_ms; /* named in the log when the self-test fails */
  /* Set (from any thread) when this node is unhealthy and about to exit (a wedged shard,
   * sched/watchdog.c): no beat is sent from then on, so a beat cannot report it alive again after
   * it marked itself dead. May be NULL. */
  const atomic_int *halted;
  /* The review-backlog guard (review.backlog_pause_at / _resume_at; 0 = off): after each
   * successful beat, one PUBLISH_GUARD request (store/metrics.h) pauses or resumes publishing for
   * every node, so all nodes obey within one heartbeat. */
  int64_t backlog_pause_at, backlog_resume_at;
  /* OpenClaw presence (cluster.openclaw; NULL = off): each beat hands it this node's capacity
   * and records its connection state in the nodes row (borrowed: freed after the cluster).
   * running counts this process's running steps (may be NULL), max_renders its render slots. */
  struct ain_openclaw *openclaw;
  const atomic_int *running;
  int max_renders;
} ain_cluster_opts_t;

/* Starts the heartbeat (the first beat is sent at once) and the archive timer on loop, using
 * store (a handle on that loop, which must outlive the cluster). Caller frees with
 * ain_cluster_free(). */
int ain_cluster_start(uv_loop_t *loop, ain_store_t *store, const ain_cluster_opts_t *opts,
                      ain_cluster_t **out, ain_err_t *err);
/* This node's id, "node_id/pid": the prefix of its lease owners. Valid until free. */
const char *ain_cluster_node_id(const ain_cluster_t *c);
/* Stops the timers (the loop may then exit); requests in flight still complete. */
void ain_cluster_stop(ain_cluster_t *c);
/* Records a final "stopped" beat (drives the store's loop until it is written; call it where
 * ain_store_wait is allowed: after the shards ended) and closes the timers; the memory is freed
 * in their close callbacks, so the caller runs the loop afterwards. */
void ain_cluster_free(ain_cluster_t *c);

#endif
