/* Retention on the engine's main loop (retention.h): timer -> PURGE batch (store request) ->
 * object deletions (thread pool) -> the next batch while batches come back full, else wait for
 * the timer. One batch in flight at a time; stop waits for it. Relies on: retention.h,
 * store/purge.h, objstore/open.h (the store objstore.* names: dir or S3), libuv, core/log.h. */
#include "privacy/retention.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "objstore/open.h"
#include "store/purge.h"

struct ain_retention {
  uv_loop_t *loop;
  ain_store_t *store;
  ain_retention_opts_t o;
  char *actor;
  uv_timer_t timer;
  ain_store_req_t req;
  ain_store_purge_t purge;
  uv_work_t work;
  int busy;     /* a batch (store request or object deletion) is in flight */
  int stopping; /* stop was called: free once idle and the timer is closed */
  int timer_closed;
  /* the pool's results */
  size_t deleted;
  int del_rc;
  ain_err_t del_err;
  /* this run's totals, logged when it ends */
  int64_t dags, tasks, objects;
};

static void maybe_free(ain_retention_t *r) {
  if (r->stopping && !r->busy && r->timer_closed) {
    free(r->actor);
    free(r);
  }
}

static void on_timer_closed(uv_handle_t *h) {
  ain_retention_t *r = h->data;
  r->timer_closed = 1;
  maybe_free(r);
}

void ain_retention_stop(ain_retention_t *r) {
  if (r == NULL || r->stopping) {
    return;
  }
  r->stopping = 1;
  uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

int ain_retention_delete_objects(const ain_config_t *cfg, char *const *keys, size_t n,
                                 size_t *deleted, ain_err_t *err) {
  *deleted = 0;
  if (n == 0) {
    return 0;
  }
  ain_objstore_t *os = NULL;
  int rc = ain_objstore_open(cfg, &os, err);
  if (rc != 0) {
    return rc;
  }
  int first = 0;
  for (size_t i = 0; i < n; i++) {
    ain_err_t e;
    ain_err_clear(&e);
    int d = ain_objstore_delete(os, keys[i], &e);
    if (d == 0) {
      (*deleted)++;
    } else if (d != AIN_ENOTFOUND && first == 0) {
      first = d;
      *err = e;
    }
  }
  ain_objstore_close(os);
  return first;
}

static void send_batch(ain_retention_t *r);

static void end_run(ain_retention_t *r) {
  if (r->dags + r->tasks > 0) {
    ain_log_info("retention: purged %lld DAG(s) and %lld task(s) finished more than %lld ms "
                 "ago, %lld object(s) deleted",
                 (long long)r->dags, (long long)r->tasks, (long long)r->o.max_age_ms,
                 (long long)r->objects);
  }
  r->dags = r->tasks = r->objects = 0;
}

/* Pool thread: the objects only the purged rows referenced. */
static void delete_work(uv_work_t *w) {
  ain_retention_t *r = w->data;
  ain_err_clear(&r->del_err);
  r->del_rc = ain_retention_delete_objects(r->o.cfg, r->purge.keys, r->purge.nkeys,
                                           &r->deleted, &r->del_err);
}

static void after_delete(uv_work_t *w, int status) {
  ain_retention_t *r = w->data;
  if (status == 0 && r->del_rc != 0) {
    ain_log_warn("retention: deleting purged objects: %s", r->del_err.msg);
  }
  r->objects += (int64_t)r->deleted;
  int full = r->purge.dags >= AIN_RETENTION_BATCH || r->purge.tasks >= AIN_RETENTION_BATCH;
  ain_store_req_cleanup(&r->req);
  r->busy = 0;
  if (full && !r->stopping) {
    send_batch(r); /* more to do: the next batch now, not in an interval */
    return;
  }
  end_run(r);
  maybe_free(r);
}

static void on_purged(ain_store_req_t *req) {
  ain_retention_t *r = req->data;
  if (req->status != 0) {
    ain_log_error("retention: purge: %s", req->err.msg);
    ain_store_req_cleanup(req);
    r->busy = 0;
    end_run(r);
    maybe_free(r);
    return;
  }
  r->dags += r->purge.dags;
  r->tasks += r->purge.tasks;
  r->deleted = 0;
  r->del_rc = 0;
  if (r->purge.nkeys == 0) {
    after_delete(&r->work, 0);
    return;
  }
  int rc = uv_queue_work(r->loop, &r->work, delete_work, after_delete);
  if (rc != 0) {
    ain_log_error("retention: queueing object deletions: %s", uv_strerror(rc));
    after_delete(&r->work, rc);
  }
}

static void send_batch(ain_retention_t *r) {
  if (r->busy || r->stopping) {
    return;
  }
  ain_store_req_purge(&r->req, &r->purge, ain_now_ms() - r->o.max_age_ms, AIN_RETENTION_BATCH, 0);
  r->req.data = r;
  r->req.cb = on_purged;
  r->req.actor = r->actor;
  r->busy = 1;
  if (ain_store_submit(r->store, &r->req) != 0) {
    ain_log_error("retention: %s", r->req.err.msg);
    r->busy = 0;
  }
}

static void on_timer(uv_timer_t *t) {
  send_batch(t->data);
}

int ain_retention_start(uv_loop_t *loop, ain_store_t *store, const ain_retention_opts_t *opts,
                        ain_retention_t **out, ain_err_t *err) {
  if (opts->max_age_ms <= 0 || opts->interval_ms <= 0 || opts->cfg == NULL) {
    return ain_err_field(err, AIN_EINVAL, "retention",
                         "retention needs max_age_ms > 0, interval_ms > 0 and cfg");
  }
  ain_retention_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  r->loop = loop;
  r->store = store;
  r->o = *opts;
  r->actor = ain_strdup(opts->actor != NULL ? opts->actor : "retention");
  r->o.actor = r->actor;
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  r->work.data = r; /* after_delete also runs directly when a batch freed no object */
  /* the first run soon after start (not in the start-up rush), then every interval */
  uint64_t first = opts->interval_ms < 5000 ? (uint64_t)opts->interval_ms : 5000;
  uv_timer_start(&r->timer, on_timer, first, (uint64_t)opts->interval_ms);
  *out = r;
  return 0;
}
