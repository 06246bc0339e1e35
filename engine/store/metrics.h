/* Two store ops for observability and the automatic incident control.
 *
 * METRICS (read only, one read transaction): what a /metrics scrape reports from the store, the
 * same on every node: open tasks by type and status (queue depth), the review backlog (pending
 * reviews) and the age of its oldest, every node's last heartbeat, whether publishing is paused
 * and by whom; on Postgres also the dead tuples of the queue tables (tasks, task_deps) and the age
 * of the oldest open transaction. Index tasks_status_type (migration 017) keeps the depth query
 * off the finished rows.
 *
 * PUBLISH_GUARD (one write transaction): the review-backlog control of DESIGN §10. With B pending
 * reviews: B >= pause_at and publishing not paused and not held open by an operator -> pause
 * (setting publishers.paused = true, publishers.paused_by = backlog, audited with the backlog);
 * B < resume_at and publishing paused by the backlog -> resume (parked publish steps woken, as
 * `ain publishers resume` does). A pause or resume by an operator sets paused_by = operator
 * (engine/ops/review.c): the guard never lifts an operator's pause, and after an operator's resume
 * it does not pause again until the backlog has first dropped below resume_at (re-armed: the
 * marker is cleared).
 * Relies on: store.h. SQL: store/sqlite/metrics.c, store/postgres/metrics.c and
 * sql/postgres/017_metrics.sql (ain_publish_guard). */
#ifndef AIN_STORE_METRICS_H
#define AIN_STORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AIN_STORE_METRICS_MAX_TYPES 200 /* task types reported; the rest fold into "other" */
#define AIN_STORE_METRICS_MAX_NODES 200

typedef struct {
  char *type;
  ain_task_status_t status;
  int64_t count;
} ain_store_depth_t;

typedef struct {
  char *id;    /* "node_id/pid" */
  char *state; /* alive | dead (stopped nodes are left out) */
  int64_t last_beat;
} ain_store_beat_t;

typedef struct ain_store_metrics {
  /* out (owned by the request: ain_store_req_cleanup frees them) */
  ain_store_depth_t *depth; /* statuses pending, ready, running, waiting, dead */
  size_t ndepth;
  int64_t review_backlog;
  int64_t review_oldest_at; /* ms; 0 when the backlog is empty */
  int64_t takedowns_pending; /* manual takedowns raised to the operator (store/posts.h) */
  ain_store_beat_t *nodes;  /* alive nodes, and dead ones that beat within the last hour */
  size_t nnodes;
  int paused;         /* publishers.paused = true */
  char paused_by[16]; /* "operator" | "backlog" | "" */
  int64_t now;        /* the store's clock (ms), for the ages */
  int postgres;       /* the rest is only read on Postgres */
  int64_t dead_tuples_tasks, dead_tuples_task_deps;
  double oldest_txn_age_s; /* 0 when no other transaction is open */
} ain_store_metrics_t;

typedef enum {
  AIN_STORE_GUARD_NONE = 0,
  AIN_STORE_GUARD_PAUSED,
  AIN_STORE_GUARD_RESUMED,
  AIN_STORE_GUARD_REARMED /* an operator's resume stops holding the guard off */
} ain_store_guard_action_t;

typedef struct ain_store_guard {
  int64_t pause_at, resume_at; /* in: resume_at < pause_at, both > 0 */
  int64_t backlog;             /* out */
  ain_store_guard_action_t action; /* out */
  int paused;                  /* out: publishers.paused afterwards */
} ain_store_guard_t;

/* Zero req, set the op and its struct (borrowed until the callback). */
void ain_store_req_metrics(ain_store_req_t *req, ain_store_metrics_t *m);
void ain_store_req_publish_guard(ain_store_req_t *req, ain_store_guard_t *g, int64_t pause_at,
                                 int64_t resume_at);

/* Generic layer and backends. */
int ain__store_guard_check(const ain_store_req_t *req, ain_err_t *err);
void ain__store_metrics_cleanup(ain_store_req_t *req);
/* Appends one depth row (type folded into "other" past the bound). */
int ain__store_metrics_add_depth(ain_store_metrics_t *m, const char *type, const char *status,
                                 int64_t count);
int ain__store_metrics_add_node(ain_store_metrics_t *m, const char *id, const char *state,
                                int64_t last_beat);

#endif
