/* The generic layer of the METRICS and PUBLISH_GUARD ops (store/metrics.h): initialisers, the
 * checks every backend relies on, output building and cleanup. The SQL lives in sqlite/metrics.c,
 * postgres/metrics.c and sql/postgres/017_metrics.sql.
 * Relies on: store.h, store/metrics.h. */
#include "store/metrics.h"

#include <stdlib.h>
#include <string.h>

void ain_store_req_metrics(ain_store_req_t *req, ain_store_metrics_t *m) {
  memset(req, 0, sizeof *req);
  memset(m, 0, sizeof *m);
  req->op = AIN_STORE_METRICS;
  req->u.metrics = m;
}

void ain_store_req_publish_guard(ain_store_req_t *req, ain_store_guard_t *g, int64_t pause_at,
                                 int64_t resume_at) {
  memset(req, 0, sizeof *req);
  memset(g, 0, sizeof *g);
  req->op = AIN_STORE_PUBLISH_GUARD;
  g->pause_at = pause_at;
  g->resume_at = resume_at;
  req->u.guard = g;
}

int ain__store_guard_check(const ain_store_req_t *req, ain_err_t *err) {
  const ain_store_guard_t *g = req->u.guard;
  if (g == NULL) {
    return ain_err_field(err, AIN_EINVAL, "guard", "publish guard request without its struct");
  }
  if (g->pause_at < 1 || g->resume_at < 1 || g->resume_at >= g->pause_at) {
    return ain_err_field(err, AIN_EINVAL, "resume_at",
                         "need 0 < resume_at < pause_at, got resume_at %lld, pause_at %lld",
                         (long long)g->resume_at, (long long)g->pause_at);
  }
  return 0;
}

int ain__store_metrics_add_depth(ain_store_metrics_t *m, const char *type, const char *status,
                                 int64_t count) {
  int st = ain_task_status_parse(status);
  if (st < 0) {
    return 0; /* a status this build does not know: not a depth */
  }
  size_t distinct = 0;
  for (size_t i = 0; i < m->ndepth; i++) {
    distinct += i == 0 || strcmp(m->depth[i].type, m->depth[i - 1].type) != 0;
  }
  if (distinct >= AIN_STORE_METRICS_MAX_TYPES) {
    type = "other"; /* rows come sorted by type: everything past the bound is "other" */
    for (size_t i = 0; i < m->ndepth; i++) {
      if (strcmp(m->depth[i].type, "other") == 0 && (int)m->depth[i].status == st) {
        m->depth[i].count += count;
        return 0;
      }
    }
  }
  ain_store_depth_t *d = realloc(m->depth, (m->ndepth + 1) * sizeof *d);
  if (d == NULL) {
    return AIN_ENOMEM;
  }
  m->depth = d;
  d[m->ndepth].type = ain_strdup(type != NULL ? type : "");
  d[m->ndepth].status = (ain_task_status_t)st;
  d[m->ndepth].count = count;
  m->ndepth++;
  return 0;
}

int ain__store_metrics_add_node(ain_store_metrics_t *m, const char *id, const char *state,
                                int64_t last_beat) {
  if (m->nnodes >= AIN_STORE_METRICS_MAX_NODES) {
    return 0;
  }
  ain_store_beat_t *n = realloc(m->nodes, (m->nnodes + 1) * sizeof *n);
  if (n == NULL) {
    return AIN_ENOMEM;
  }
  m->nodes = n;
  n[m->nnodes].id = ain_strdup(id != NULL ? id : "");
  n[m->nnodes].state = ain_strdup(state != NULL ? state : "");
  n[m->nnodes].last_beat = last_beat;
  m->nnodes++;
  return 0;
}

void ain__store_metrics_cleanup(ain_store_req_t *req) {
  ain_store_metrics_t *m = req->u.metrics;
  if (m == NULL) {
    return;
  }
  for (size_t i = 0; i < m->ndepth; i++) {
    free(m->depth[i].type);
  }
  free(m->depth);
  for (size_t i = 0; i < m->nnodes; i++) {
    free(m->nodes[i].id);
    free(m->nodes[i].state);
  }
  free(m->nodes);
  m->depth = NULL;
  m->nodes = NULL;
  m->ndepth = m->nnodes = 0;
}
