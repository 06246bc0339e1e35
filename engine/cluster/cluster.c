/* Heartbeat, dead-node fencing and archiving on the main loop (see cluster.h). One request of
 * each kind in flight at most; a tick that finds its request still in flight skips. Failures are
 * logged and retried at the next tick: a store outage must not stop the engine, and the store
 * (not this process) decides who is dead. Relies on: store/store.h, core/log.h, core/util.h. */
#include "cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/openclaw.h"
#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "store/metrics.h"

/* The self-test gives a notification this long to arrive. */
#define SELFTEST_MS 3000

/* Archive at most this many tasks per request; a full batch asks for another one at once. */
#define ARCHIVE_BATCH 2000

struct ain_cluster {
  uv_loop_t *loop;
  ain_store_t *store;
  ain_cluster_opts_t opts;
  char id[256];
  char host[256];
  ain_node_t self;
  uv_timer_t beat_timer, archive_timer;
  ain_store_req_t beat_req, archive_req;
  int beat_inflight, archive_inflight;
  ain_store_req_t guard_req;
  ain_store_guard_t guard;
  int guard_inflight;
  int stopped;
  int open_handles;
  int beat_failing; /* log a failing store once per outage, not every tick */
  /* When this node's own beats started succeeding again (0 while they fail). A node that could
   * not reach the store cannot tell a dead peer from its own outage: after an outage (a Postgres
   * restart) every peer looks silent, so no verdict is given until this node has been beating
   * for a full timeout itself. */
  int64_t healthy_since;
  ain_store_req_t final_req;
  int final_inflight;
  uv_timer_t final_timer;
  int final_expired;
  /* LISTEN/NOTIFY self-test: a second connection that must hear a heartbeat's NOTIFY */
  ain_store_t *probe;
  ain_store_req_t probe_req;
  uv_timer_t selftest_timer;
  int probe_ready, selftest_done;
  int selftest_rebeat; /* the probe got ready while a beat was in flight: send one more */
  uint64_t selftest_ns;
};

static void send_beat(ain_cluster_t *c);
static void send_archive(ain_cluster_t *c);

/* ---- the review-backlog guard ---------------------------------------------------------------- */

static void on_guard_done(ain_store_req_t *req) {
  ain_cluster_t *c = req->data;
  c->guard_inflight = 0;
  const ain_store_guard_t *g = &c->guard;
  if (req->status != 0) {
    ain_log_error("node %s: review backlog guard failed: %s", c->id, req->err.msg);
  } else if (g->action == AIN_STORE_GUARD_PAUSED) {
    const char *a[1] = {"pause"};
    ain_obs_inc(AIN_M_PUBLISH_GUARD, a);
    ain_log_warn("node %s: review backlog is %lld (review.backlog_pause_at %lld): publishers "
                 "paused on every node until it falls below %lld",
                 c->id, (long long)g->backlog, (long long)g->pause_at, (long long)g->resume_at);
  } else if (g->action == AIN_STORE_GUARD_RESUMED) {
    const char *a[1] = {"resume"};
    ain_obs_inc(AIN_M_PUBLISH_GUARD, a);
    ain_log_info("node %s: review backlog is %lld (below review.backlog_resume_at %lld): "
                 "publishers resumed",
                 c->id, (long long)g->backlog, (long long)g->resume_at);
  } else if (g->action == AIN_STORE_GUARD_REARMED) {
    ain_log_info("node %s: review backlog is %lld: the automatic pause is armed again after an "
                 "operator's resume",
                 c->id, (long long)g->backlog);
  }
  ain_store_req_cleanup(req);
}

static void send_guard(ain_cluster_t *c) {
  if (c->guard_inflight || c->stopped || c->opts.backlog_pause_at <= 0) {
    return;
  }
  ain_store_req_publish_guard(&c->guard_req, &c->guard, c->opts.backlog_pause_at,
                              c->opts.backlog_resume_at);
  c->guard_req.data = c;
  c->guard_req.cb = on_guard_done;
  c->guard_req.actor = "system:review-backlog";
  c->guard_inflight = 1;
  if (ain_store_submit(c->store, &c->guard_req) != 0) {
    c->guard_inflight = 0;
    ain_log_error("node %s: cannot submit the review backlog guard: %s", c->id,
                  c->guard_req.err.msg);
  }
}

static void on_beat_done(ain_store_req_t *req) {
  ain_cluster_t *c = req->data;
  c->beat_inflight = 0;
  const char *res[1] = {req->status != 0 ? "failed" : "ok"};
  ain_obs_inc(AIN_M_HEARTBEATS, res);
  if (req->status != 0) {
    if (!c->beat_failing) {
      ain_log_error("node %s: heartbeat failed: %s", c->id, req->err.msg);
    }
    c->beat_failing = 1;
    c->healthy_since = 0;
  } else {
    if (c->healthy_since == 0) {
      c->healthy_since = ain_now_ms();
    }
    if (c->beat_failing) {
      ain_log_info("node %s: heartbeat recorded again", c->id);
    }
    c->beat_failing = 0;
    ain_obs_add(AIN_M_NODES_DECLARED_DEAD, NULL, req->u.node_beat.dead_nodes);
    if (req->u.node_beat.dead_nodes > 0 || req->u.node_beat.expired > 0) {
      ain_log_warn("node %s: %d node(s) silent for %lld ms declared dead; %d lease(s) fenced and "
                   "handed to the reaper",
                   c->id, req->u.node_beat.dead_nodes, (long long)c->opts.node_timeout_ms,
                   req->u.node_beat.expired);
    }
    if (req->u.node_beat.expired > 0 && c->opts.on_fenced != NULL && !c->stopped) {
      c->opts.on_fenced(c->opts.data, req->u.node_beat.expired);
    }
  }
  int beat_ok = req->status == 0;
  ain_store_req_cleanup(req);
  if (beat_ok) {
    send_guard(c);
  }
  if (c->selftest_rebeat && !c->stopped) {
    c->selftest_rebeat = 0;
    send_beat(c);
  }
}

static void send_beat(ain_cluster_t *c) {
  if (c->beat_inflight || (c->opts.halted != NULL && atomic_load(c->opts.halted))) {
    return;
  }
  int64_t now = ain_now_ms();
  int judge = c->healthy_since != 0 && now - c->healthy_since >= c->opts.node_timeout_ms;
  /* Not judging: a timeout no silence can reach (the beat still records this node). */
  if (c->opts.openclaw != NULL) {
    ain_openclaw_capacity_t cap = {.shards = c->opts.shards,
                                   .running = c->opts.running ? atomic_load(c->opts.running) : 0,
                                   .max_renders = c->opts.max_renders,
                                   .last_beat = now};
    ain_openclaw_report(c->opts.openclaw, &cap);
    /* a static name: the store only reads it while this beat is in flight */
    c->self.gateway = (char *)ain_openclaw_state_name(
        ain_openclaw_state(c->opts.openclaw, &c->self.gateway_since));
  }
  ain_store_req_node_beat(&c->beat_req, &c->self,
                          judge ? c->opts.node_timeout_ms : INT64_C(1) << 60, 0);
  c->beat_req.now = now;
  c->beat_req.data = c;
  c->beat_req.cb = on_beat_done;
  c->beat_req.actor = c->id;
  c->beat_inflight = 1;
  if (ain_store_submit(c->store, &c->beat_req) != 0) {
    c->beat_inflight = 0;
    ain_log_error("node %s: cannot submit a heartbeat: %s", c->id, c->beat_req.err.msg);
  }
}

static void on_beat_timer(uv_timer_t *t) {
  send_beat(t->data);
}

static void on_archive_done(ain_store_req_t *req) {
  ain_cluster_t *c = req->data;
  c->archive_inflight = 0;
  int again = 0;
  if (req->status != 0) {
    ain_log_error("archiving finished tasks failed: %s", req->err.msg);
  } else {
    again = req->u.archive.archived >= ARCHIVE_BATCH;
  }
  ain_store_req_cleanup(req);
  if (again && !c->stopped) {
    send_archive(c);
  }
}

static void send_archive(ain_cluster_t *c) {
  if (c->archive_inflight) {
    return;
  }
  ain_store_req_archive(&c->archive_req, ain_now_ms() - c->opts.archive_after_ms, ARCHIVE_BATCH);
  c->archive_req.data = c;
  c->archive_req.cb = on_archive_done;
  c->archive_inflight = 1;
  if (ain_store_submit(c->store, &c->archive_req) != 0) {
    c->archive_inflight = 0;
  }
}

static void on_archive_timer(uv_timer_t *t) {
  send_archive(t->data);
}

/* ---- LISTEN/NOTIFY self-test ---------------------------------------------------------------- */

static void on_probe_closed(void *data) {
  ain_cluster_t *c = data;
  if (--c->open_handles == 0 && !c->final_inflight) {
    free(c);
  }
}

static void selftest_end(ain_cluster_t *c, int passed) {
  if (c->selftest_done) {
    return;
  }
  c->selftest_done = 1;
  uv_timer_stop(&c->selftest_timer);
  if (passed) {
    ain_log_info("LISTEN/NOTIFY self-test passed: a heartbeat's notification arrived in %.1f ms",
                 (double)(ain_mono_ns() - c->selftest_ns) / 1e6);
  } else {
    ain_log_warn("LISTEN/NOTIFY self-test failed: no notification within %d ms (a "
                 "transaction-mode pooler?); shards fall back to polling every %lld ms",
                 SELFTEST_MS, (long long)c->opts.poll_ms);
  }
  if (c->probe != NULL) {
    ain_store_t *p = c->probe;
    c->probe = NULL;
    ain_store_close(p, on_probe_closed, c);
  }
}

static void on_probe_wake(void *data) {
  ain_cluster_t *c = data;
  /* Wake-ups before the probe was connected include its own "I (re)connected" wake. */
  if (c->probe_ready) {
    selftest_end(c, 1);
  }
}

static void on_selftest_timer(uv_timer_t *t) {
  selftest_end(t->data, 0);
}

static void on_probe_ready(ain_store_req_t *req) {
  ain_cluster_t *c = req->data;
  int ok = req->status == 0;
  if (!ok) {
    ain_log_warn("LISTEN/NOTIFY self-test: the probe connection failed: %s", req->err.msg);
  }
  ain_store_req_cleanup(req);
  if (!ok || c->stopped) {
    selftest_end(c, 0);
    return;
  }
  c->probe_ready = 1;
  c->selftest_ns = ain_mono_ns();
  /* The next beat's NOTIFY is what the probe listens for; one in flight may have committed
   * before the probe listened. */
  if (c->beat_inflight) {
    c->selftest_rebeat = 1;
  } else {
    send_beat(c);
  }
}

static void selftest_start(ain_cluster_t *c) {
  ain_err_t err;
  ain_err_clear(&err);
  c->selftest_done = 1; /* until the probe is really running */
  if (c->opts.store_cfg == NULL || strcmp(ain_store_backend_name(c->store), "postgres") != 0) {
    return; /* SQLite wakes shards in-process: nothing to test */
  }
  if (ain_store_open(c->opts.store_cfg, c->loop, &c->probe, &err) != 0) {
    ain_log_warn("LISTEN/NOTIFY self-test: cannot open a probe connection: %s", err.msg);
    c->probe = NULL;
    return;
  }
  c->open_handles++; /* the probe; released in on_probe_closed */
  c->selftest_done = 0;
  ain_store_on_wakeup(c->probe, on_probe_wake, c);
  uv_timer_start(&c->selftest_timer, on_selftest_timer, SELFTEST_MS, 0);
  /* A first request connects the probe and subscribes it (LISTEN runs on connect). */
  ain_store_req_nodes(&c->probe_req);
  c->probe_req.data = c;
  c->probe_req.cb = on_probe_ready;
  if (ain_store_submit(c->probe, &c->probe_req) != 0) {
    selftest_end(c, 0);
  }
}

int ain_cluster_start(uv_loop_t *loop, ain_store_t *store, const ain_cluster_opts_t *opts,
                      ain_cluster_t **out, ain_err_t *err) {
  *out = NULL;
  if (opts->heartbeat_ms <= 0 || opts->node_timeout_ms <= opts->heartbeat_ms) {
    return ain_err_field(err, AIN_ECONFIG, "cluster.node_timeout_ms",
                         "node timeout (%lld ms) must be longer than the heartbeat (%lld ms)",
                         (long long)opts->node_timeout_ms, (long long)opts->heartbeat_ms);
  }
  ain_cluster_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  c->loop = loop;
  c->store = store;
  c->opts = *opts;
  snprintf(c->id, sizeof c->id, "%s/%d", opts->node_id, (int)getpid());
  if (gethostname(c->host, sizeof c->host - 1) != 0) {
    snprintf(c->host, sizeof c->host, "unknown");
  }
  c->self.id = c->id;
  c->self.node = (char *)opts->node_id; /* borrowed: the store only reads inputs */
  c->self.host = c->host;
  c->self.version = AIN_VERSION;
  c->self.pid = (int64_t)getpid();
  c->self.shards = opts->shards;
  uv_timer_init(loop, &c->beat_timer);
  uv_timer_init(loop, &c->archive_timer);
  c->beat_timer.data = c->archive_timer.data = c;
  c->open_handles = 2;
  /* Start-up counts as healthy: rows of nodes that died before we started are old news. */
  c->healthy_since = ain_now_ms() - opts->node_timeout_ms;
  uv_timer_init(loop, &c->selftest_timer);
  c->selftest_timer.data = c;
  c->open_handles++;
  uv_timer_start(&c->beat_timer, on_beat_timer, 0, (uint64_t)opts->heartbeat_ms);
  selftest_start(c);
  c->opts.store_cfg = NULL; /* borrowed for the start only */
  if (opts->archive_interval_ms > 0) {
    uv_timer_start(&c->archive_timer, on_archive_timer, (uint64_t)opts->archive_interval_ms,
                   (uint64_t)opts->archive_interval_ms);
  }
  *out = c;
  return 0;
}

const char *ain_cluster_node_id(const ain_cluster_t *c) {
  return c->id;
}

void ain_cluster_stop(ain_cluster_t *c) {
  if (c == NULL) {
    return;
  }
  c->stopped = 1;
  uv_timer_stop(&c->beat_timer);
  uv_timer_stop(&c->archive_timer);

}

static void on_final_done(ain_store_req_t *req) {
  ain_cluster_t *c = req->data;
  if (req->status != 0) {
    ain_log_warn("node %s: recording the stop failed: %s", c->id, req->err.msg);
  }
  ain_store_req_cleanup(req);
  c->final_inflight = 0;
  if (c->open_handles == 0) {
    free(c);
  }
}

static void on_final_timer(uv_timer_t *t) {
  ain_cluster_t *c = t->data;
  c->final_expired = 1;
}

static void on_closed(uv_handle_t *h) {
  ain_cluster_t *c = h->data;
  if (--c->open_handles == 0 && !c->final_inflight) {
    free(c);
  }
}

void ain_cluster_free(ain_cluster_t *c) {
  if (c == NULL) {
    return;
  }
  ain_cluster_stop(c);
  if (c->opts.openclaw != NULL && !c->beat_inflight) { /* the gateway state as we leave */
    c->self.gateway = (char *)ain_openclaw_state_name(
        ain_openclaw_state(c->opts.openclaw, &c->self.gateway_since));
  }
  /* The "stopped" beat gets at most a second: a store that is down must not hold the exit (the
   * row then times out into "dead", which is also true). If it is still in flight, the store's
   * close fails it and its callback frees us. */
  ain_store_req_node_beat(&c->final_req, &c->self, INT64_C(1) << 60, 1);
  c->final_req.data = c;
  c->final_req.cb = on_final_done;
  c->final_req.actor = c->id;
  c->final_inflight = 1;
  if (ain_store_submit(c->store, &c->final_req) != 0) {
    c->final_inflight = 0;
  }
  uv_timer_init(c->loop, &c->final_timer);
  c->final_timer.data = c;
  c->open_handles++;
  uv_timer_start(&c->final_timer, on_final_timer, 1000, 0);
  while (c->final_inflight && !c->final_expired && uv_run(c->loop, UV_RUN_ONCE) != 0) {
  }
  if (c->probe != NULL) { /* still connecting: no verdict */
    ain_store_t *p = c->probe;
    c->probe = NULL;
    c->selftest_done = 1;
    ain_store_close(p, on_probe_closed, c);
  }
  uv_timer_stop(&c->selftest_timer);
  uv_close((uv_handle_t *)&c->selftest_timer, on_closed);
  uv_close((uv_handle_t *)&c->final_timer, on_closed);
  uv_close((uv_handle_t *)&c->beat_timer, on_closed);
  uv_close((uv_handle_t *)&c->archive_timer, on_closed);
}
