/* GET /metrics: the Prometheus text exposition (format 0.0.4) of the process's metrics (the obs
 * registry: counters and histograms the shards, the store and the registry update) followed by
 * the gauges read from the store: queue depth by type and status, the review backlog and its
 * oldest age, every node's heartbeat age, the publishers switch, and on Postgres the dead tuples
 * of the queue tables and the oldest open transaction. Every node reads the same store, so every
 * node reports the same depth.
 *
 * Store load. One METRICS request (one read transaction) per refresh, on a worker; the text it
 * gives is reused for metrics.store_cache_ms (CONTRACTS §6). One worker refreshes at a time;
 * scrapes arriving meanwhile serve the previous text (ain_metrics_store_cache_age_seconds says
 * how old) instead of sending their own read or queueing every worker behind a slow store; only
 * the very first scrape waits for it. When the store cannot be read the process metrics are still
 * served, with ain_metrics_store_up 0.
 * Relies on: internal.h (opjob.c), obs/obs.h, store/metrics.h, ops/ops.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "store/metrics.h"

static const char *const depth_keys[2] = {"type", "status"};

static void write_store(ain_obs_buf_t *b, const ain_store_metrics_t *m, int64_t now) {
  ain_obs_write_header(b, "ain_queue_depth", "gauge",
                       "Tasks in the store by type and status (pending, ready, running, "
                       "waiting, dead): the same on every node.");
  for (size_t i = 0; i < m->ndepth; i++) {
    const char *v[2] = {m->depth[i].type, ain_task_status_name(m->depth[i].status)};
    ain_obs_write_sample(b, "ain_queue_depth", 2, depth_keys, v, (double)m->depth[i].count);
  }
  ain_obs_write_header(b, "ain_review_backlog", "gauge", "Videos whose review is pending.");
  ain_obs_write_sample(b, "ain_review_backlog", 0, NULL, NULL, (double)m->review_backlog);
  ain_obs_write_header(b, "ain_review_backlog_oldest_age_seconds", "gauge",
                       "Age of the oldest pending review; 0 when none is pending.");
  double oldest = m->review_oldest_at > 0 && now > m->review_oldest_at
                      ? (double)(now - m->review_oldest_at) / 1000.0
                      : 0;
  ain_obs_write_sample(b, "ain_review_backlog_oldest_age_seconds", 0, NULL, NULL, oldest);
  ain_obs_write_header(b, "ain_takedowns_pending", "gauge",
                       "Posts a person must take down by hand (their platform has no delete "
                       "call): `ain takedowns`.");
  ain_obs_write_sample(b, "ain_takedowns_pending", 0, NULL, NULL, (double)m->takedowns_pending);
  ain_obs_write_header(b, "ain_node_heartbeat_age_seconds", "gauge",
                       "Time since each node's last heartbeat (alive nodes, and nodes declared "
                       "dead within the last hour), by node id \"node_id/pid\" and state.");
  static const char *const node_keys[2] = {"node", "state"};
  for (size_t i = 0; i < m->nnodes; i++) {
    const char *v[2] = {m->nodes[i].id, m->nodes[i].state};
    double age = now > m->nodes[i].last_beat ? (double)(now - m->nodes[i].last_beat) / 1000.0 : 0;
    ain_obs_write_sample(b, "ain_node_heartbeat_age_seconds", 2, node_keys, v, age);
  }
  ain_obs_write_header(b, "ain_publishers_paused", "gauge",
                       "1 while publishing is paused (every node obeys the store's switch).");
  ain_obs_write_sample(b, "ain_publishers_paused", 0, NULL, NULL, m->paused);
  ain_obs_write_header(b, "ain_publishers_paused_by_backlog", "gauge",
                       "1 while publishing is paused by the review-backlog guard "
                       "(review.backlog_pause_at), not by an operator.");
  ain_obs_write_sample(b, "ain_publishers_paused_by_backlog", 0, NULL, NULL,
                       m->paused && strcmp(m->paused_by, "backlog") == 0);
  if (m->postgres) {
    static const char *const table_key[1] = {"table"};
    ain_obs_write_header(b, "ain_store_dead_tuples", "gauge",
                         "Dead tuples of the queue tables as Postgres's statistics last counted "
                         "them (vacuum falling behind).");
    const char *t1[1] = {"tasks"}, *t2[1] = {"task_deps"};
    ain_obs_write_sample(b, "ain_store_dead_tuples", 1, table_key, t1,
                         (double)m->dead_tuples_tasks);
    ain_obs_write_sample(b, "ain_store_dead_tuples", 1, table_key, t2,
                         (double)m->dead_tuples_task_deps);
    ain_obs_write_header(b, "ain_store_oldest_transaction_age_seconds", "gauge",
                         "Age of the oldest open transaction of another client session "
                         "(it holds back vacuum).");
    ain_obs_write_sample(b, "ain_store_oldest_transaction_age_seconds", 0, NULL, NULL,
                         m->oldest_txn_age_s);
  }
}

/* Worker, with refresh_mu held (not mu): reads the store's gauges and swaps them into the cache. */
static void refresh(ain_api_t *api, ain_ops_t *ops) {
  ain_store_metrics_t m;
  ain_store_req_t req;
  ain_err_t err;
  ain_store_req_metrics(&req, &m);
  uint64_t t0 = ain_mono_ns();
  int rc = ain_ops_wait(ops, &req, "api:metrics", &err);
  uint64_t t1 = ain_mono_ns();
  ain_obs_buf_t b = {0};
  if (rc == 0) {
    write_store(&b, &m, ain_now_ms());
  } else {
    ain_log_warn("api: /metrics cannot read the store: %s", err.msg);
  }
  ain_store_req_cleanup(&req);
  ain_obs_buf_printf(&b, "%s", "");
  if (b.oom) {
    free(b.p);
    b.p = NULL;
  }
  uv_mutex_lock(&api->metrics.mu);
  free(api->metrics.text);
  api->metrics.text = b.p;
  api->metrics.ok = rc == 0 && b.p != NULL;
  api->metrics.at_ns = t1;
  api->metrics.query_s = (double)(t1 - t0) / 1e9;
  uv_mutex_unlock(&api->metrics.mu);
}

static int stale(ain_api_t *api) {
  uint64_t ttl = (uint64_t)api->cfg->metrics.store_cache_ms * 1000000u;
  return api->metrics.at_ns == 0 || !api->metrics.ok || ain_mono_ns() - api->metrics.at_ns >= ttl;
}

static int run_metrics(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_api_t *api = j->api;
  ain_obs_buf_t b = {0};
  ain_obs_expose(&b);
  uv_mutex_lock(&api->metrics.mu);
  int refresh_now = stale(api), have = api->metrics.at_ns != 0;
  uv_mutex_unlock(&api->metrics.mu);
  if (refresh_now) {
    /* One refresher; the others serve the previous text, or wait for the very first one. */
    if (uv_mutex_trylock(&api->metrics.refresh_mu) == 0) {
      uv_mutex_lock(&api->metrics.mu);
      refresh_now = stale(api); /* another worker may have refreshed in between */
      uv_mutex_unlock(&api->metrics.mu);
      if (refresh_now) {
        refresh(api, ops);
      }
      uv_mutex_unlock(&api->metrics.refresh_mu);
    } else if (!have) {
      uv_mutex_lock(&api->metrics.refresh_mu);
      uv_mutex_unlock(&api->metrics.refresh_mu);
    }
  }
  uv_mutex_lock(&api->metrics.mu);
  if (api->metrics.text != NULL) {
    ain_obs_buf_printf(&b, "%s", api->metrics.text);
  }
  ain_obs_write_header(&b, "ain_metrics_store_up", "gauge",
                       "1 when this scrape's store gauges were read, 0 when the store did not "
                       "answer (the process metrics above are still current).");
  ain_obs_write_sample(&b, "ain_metrics_store_up", 0, NULL, NULL, api->metrics.ok);
  ain_obs_write_header(&b, "ain_metrics_store_query_duration_seconds", "gauge",
                       "How long the last read of the store's gauges took.");
  ain_obs_write_sample(&b, "ain_metrics_store_query_duration_seconds", 0, NULL, NULL,
                       api->metrics.query_s);
  ain_obs_write_header(&b, "ain_metrics_store_cache_age_seconds", "gauge",
                       "Age of the store gauges in this scrape (metrics.store_cache_ms; older "
                       "while another scrape is reading the store).");
  ain_obs_write_sample(&b, "ain_metrics_store_cache_age_seconds", 0, NULL, NULL,
                       api->metrics.at_ns ? (double)(ain_mono_ns() - api->metrics.at_ns) / 1e9
                                          : 0);
  uv_mutex_unlock(&api->metrics.mu);
  ain_obs_buf_printf(&b, "%s", "");
  if (b.oom) {
    free(b.p);
    return ain_err_set(&j->err, AIN_ENOMEM, "out of memory writing the exposition");
  }
  j->text = b.p;
  j->text_type = "text/plain; version=0.0.4; charset=utf-8";
  return 0;
}

int ain__api_metrics(ain__api_call_t *call) {
  if (call->req->query_at != SIZE_MAX) {
    ain__api_send_error(call->req, "EINVAL", "query", "/metrics takes no query parameters");
    return 0;
  }
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_metrics);
  if (j == NULL) {
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}
