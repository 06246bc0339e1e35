/* The tiering sweep on the engine's main loop (tiering.h): timer -> TIER_LIST (store request) ->
 * set_class on the thread pool -> TIER_MARK -> the next page while pages come back full, else wait
 * for the timer. Relies on: tiering.h, store/tier.h, objstore/open.h, obs/obs.h, core/log.h. */
#include "sched/tiering.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "objstore/open.h"
#include "obs/obs.h"
#include "store/tier.h"

struct ain_tiering {
  uv_loop_t *loop;
  ain_store_t *store;
  const ain_config_t *cfg;
  int64_t max_age_ms;
  uv_timer_t timer;
  ain_store_req_t lreq, mreq; /* TIER_LIST (its keys live until the page is marked), TIER_MARK */
  ain_store_tier_t list, mark;
  uv_work_t work;
  int busy;     /* a page (store request or pool job) is in flight */
  int stopping; /* stop was called: free once idle and the timer is closed */
  int timer_closed;
  /* the pool's results for the page: the keys now in the class (borrowed from list.keys) */
  char **done;
  size_t ndone, nfailed;
  ain_err_t first_err;
  char *after;  /* the last key of the previous page: where the next one starts */
  int64_t moved, failed; /* this run's totals */
};

static void maybe_free(ain_tiering_t *t) {
  if (t->stopping && !t->busy && t->timer_closed) {
    free(t->done);
    free(t->after);
    free(t);
  }
}

static void on_timer_closed(uv_handle_t *h) {
  ain_tiering_t *t = h->data;
  t->timer_closed = 1;
  maybe_free(t);
}

void ain_tiering_stop(ain_tiering_t *t) {
  if (t == NULL || t->stopping) {
    return;
  }
  t->stopping = 1;
  uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

static const char *cls(const ain_tiering_t *t) {
  return t->cfg->objstore.s3.tier_storage_class;
}

static void end_run(ain_tiering_t *t) {
  if (t->moved + t->failed > 0) {
    ain_log_info("tiering: %lld object(s) older than %lld day(s) now in %s, %lld failed%s%s",
                 (long long)t->moved, (long long)t->cfg->objstore.s3.tier_after_days, cls(t),
                 (long long)t->failed, t->failed > 0 ? "; first: " : "",
                 t->failed > 0 ? t->first_err.msg : "");
  }
  t->moved = t->failed = 0;
  ain_err_clear(&t->first_err);
  free(t->after);
  t->after = NULL; /* the next run starts from the first key again */
  t->busy = 0;
  maybe_free(t);
}

static void send_list(ain_tiering_t *t);

static void on_marked(ain_store_req_t *req) {
  ain_tiering_t *t = req->data;
  if (req->status != 0) {
    /* the objects moved; the next sweep finds them in their class and copies nothing */
    ain_log_warn("tiering: recording storage classes: %s", req->err.msg);
  }
  ain_store_req_cleanup(req);
  int full = t->list.nkeys >= AIN_TIERING_PAGE;
  ain_store_req_cleanup(&t->lreq); /* the page's keys, kept until now */
  if (full && !t->stopping) {
    t->busy = 0;
    send_list(t); /* more to do: the next page now, not in an interval */
    return;
  }
  end_run(t);
}

/* Pool thread: each listed object to the class. */
static void tier_work(uv_work_t *w) {
  ain_tiering_t *t = w->data;
  ain_objstore_t *os = NULL;
  ain_err_t e;
  ain_err_clear(&e);
  t->ndone = t->nfailed = 0;
  if (ain_objstore_open(t->cfg, &os, &e) != 0) {
    t->nfailed = t->list.nkeys;
    if (t->first_err.code == 0) {
      t->first_err = e;
    }
    return;
  }
  for (size_t i = 0; i < t->list.nkeys; i++) {
    ain_err_clear(&e);
    int rc = ain_objstore_set_class(os, t->list.keys[i], cls(t), &e);
    if (rc == 0) {
      t->done[t->ndone++] = t->list.keys[i];
    } else if (rc != AIN_ENOTFOUND) { /* gone (purged meanwhile): nothing to move */
      t->nfailed++;
      if (t->first_err.code == 0) {
        t->first_err = e;
      }
    }
  }
  ain_objstore_close(os);
}

static void after_work(uv_work_t *w, int status) {
  ain_tiering_t *t = w->data;
  if (status != 0) { /* cancelled: nothing ran */
    t->ndone = 0;
  }
  const char *ok[2] = {cls(t), "ok"}, *bad[2] = {cls(t), "error"};
  ain_obs_add(AIN_M_OBJSTORE_TIERED, ok, (double)t->ndone);
  ain_obs_add(AIN_M_OBJSTORE_TIERED, bad, (double)t->nfailed);
  t->moved += (int64_t)t->ndone;
  t->failed += (int64_t)t->nfailed;
  if (t->list.nkeys > 0) {
    free(t->after);
    t->after = ain_strdup(t->list.keys[t->list.nkeys - 1]);
  }
  ain_store_req_tier_mark(&t->mreq, &t->mark, cls(t), t->done, t->ndone);
  t->mreq.data = t;
  t->mreq.cb = on_marked;
  t->mreq.actor = "tiering";
  if (ain_store_submit(t->store, &t->mreq) != 0) {
    t->mreq.status = AIN_ESTORE;
    on_marked(&t->mreq);
  }
}

static void on_listed(ain_store_req_t *req) {
  ain_tiering_t *t = req->data;
  if (req->status != 0) {
    ain_log_error("tiering: listing objects: %s", req->err.msg);
    ain_store_req_cleanup(req);
    end_run(t);
    return;
  }
  if (t->list.nkeys == 0) {
    ain_store_req_cleanup(req);
    end_run(t);
    return;
  }
  char **g = realloc(t->done, t->list.nkeys * sizeof *g);
  if (g == NULL) {
    ain_log_error("tiering: out of memory");
    ain_store_req_cleanup(req);
    end_run(t);
    return;
  }
  t->done = g;
  int rc = uv_queue_work(t->loop, &t->work, tier_work, after_work);
  if (rc != 0) {
    ain_log_error("tiering: queueing the sweep: %s", uv_strerror(rc));
    ain_store_req_cleanup(req);
    end_run(t);
  }
}

static void send_list(ain_tiering_t *t) {
  if (t->busy || t->stopping) {
    return;
  }
  ain_store_req_tier_list(&t->lreq, &t->list, cls(t), ain_now_ms() - t->max_age_ms, t->after,
                          AIN_TIERING_PAGE);
  t->lreq.data = t;
  t->lreq.cb = on_listed;
  t->lreq.actor = "tiering";
  t->busy = 1;
  if (ain_store_submit(t->store, &t->lreq) != 0) {
    ain_log_error("tiering: %s", t->lreq.err.msg);
    t->busy = 0;
  }
}

static void on_timer(uv_timer_t *h) {
  send_list(h->data);
}

int ain_tiering_start(uv_loop_t *loop, ain_store_t *store, const ain_config_t *cfg,
                      ain_tiering_t **out, ain_err_t *err) {
  *out = NULL;
  if (cfg->objstore.kind == NULL || strcmp(cfg->objstore.kind, "s3") != 0 ||
      cfg->objstore.s3.tier_after_days <= 0) {
    return 0;
  }
  ain_tiering_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  t->loop = loop;
  t->store = store;
  t->cfg = cfg;
  t->max_age_ms = cfg->objstore.s3.tier_after_days * 86400000LL;
  uv_timer_init(loop, &t->timer);
  t->timer.data = t;
  t->work.data = t;
  /* the first sweep soon after start (not in the start-up rush), then every interval */
  uint64_t every = (uint64_t)cfg->objstore.s3.tier_interval_ms;
  uv_timer_start(&t->timer, on_timer, every < 5000 ? every : 5000, every);
  *out = t;
  return 0;
}
