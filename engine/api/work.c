/* The API's worker threads: store calls never run on the server's loop (a SQLite write waits for
 * its lock, a Postgres round trip for the network). Each worker owns a private uv loop and a
 * store handle on it, takes jobs from one queue and hands them back through a uv_async to the
 * server's loop, where the response is sent. Not libuv's thread pool: the media steps use that,
 * and a request must not wait behind a render's file I/O (nor hold it up).
 * Relies on: ops/ops.h (a worker's store handle and every operation), internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/log.h"

/* The reads a worker takes together at most: enough that a burst costs one wake-up and one read
 * snapshot per 16 requests, few enough that the last of them does not wait long for the first. */
#define BATCH_MAX 16

/* Takes the next batch off the queue (pool->mu held): a job that is not a batch_read alone, else
 * the batch_reads at the head, at most BATCH_MAX and no more than this worker's share when other
 * workers were woken for them too. Returns how many. */
static int take_batch(ain__api_pool_t *pool, ain__api_job_t **out) {
  ain__api_job_t *job = pool->head;
  int n = 1;
  if (job->batch_read) {
    int share = (pool->queued + pool->signalled) / (pool->signalled + 1);
    int max = share < BATCH_MAX ? share : BATCH_MAX;
    while (n < max && job->next_ != NULL && job->next_->batch_read) {
      job = job->next_;
      n++;
    }
  }
  *out = pool->head;
  pool->head = job->next_;
  job->next_ = NULL;
  if (pool->head == NULL) {
    pool->tail = NULL;
  }
  pool->queued -= n;
  pool->running += n;
  return n;
}

/* Hands a finished job to the server's loop. One uv_async_send per batch of answers the server
 * has not yet picked up: a send while the list is non-empty would only repeat the pending one. */
static void finish_job(ain__api_pool_t *pool, ain__api_job_t *job) {
  job->next_ = NULL;
  uv_mutex_lock(&pool->done_mu);
  int first = pool->done_head == NULL;
  if (pool->done_tail) {
    pool->done_tail->next_ = job;
  } else {
    pool->done_head = job;
  }
  pool->done_tail = job;
  uv_mutex_unlock(&pool->done_mu);
  if (first) {
    uv_async_send(&pool->done_async);
  }
}

static void worker_main(void *arg) {
  ain__api_worker_t *w = arg;
  ain__api_pool_t *pool = &w->api->pool;
  uv_mutex_lock(&pool->mu);
  for (;;) {
    while (pool->head == NULL && !pool->stopping) {
      pool->idle++;
      uv_cond_wait(&pool->cond, &pool->mu);
      pool->idle--;
      if (pool->signalled > 0) {
        pool->signalled--;
      }
    }
    if (pool->stopping) {
      break;
    }
    ain__api_job_t *batch;
    int n = take_batch(pool, &batch);
    uv_mutex_unlock(&pool->mu);
    /* Reads taken together share one read snapshot (one set of the store's read locks instead of
     * one per request). Every one of them arrived before it is taken, so each still sees every
     * write committed before its request came in. */
    int snap = n > 1 && w->ops_open && ain_ops_snapshot_begin(&w->ops) == 0;
    while (batch != NULL) {
      ain__api_job_t *next = batch->next_;
      batch->run(batch, w);
      finish_job(pool, batch);
      batch = next;
    }
    if (snap) {
      ain_ops_snapshot_end(&w->ops);
    }
    uv_mutex_lock(&pool->mu);
    pool->running -= n;
  }
  uv_mutex_unlock(&pool->mu);
  if (w->ops_open) {
    ain_ops_close(&w->ops); /* the store handle and the loop */
    w->ops_open = 0;
  }
}

/* Server loop: answer what the workers finished. */
static void on_done(uv_async_t *a) {
  ain_api_t *api = a->data;
  ain__api_pool_t *pool = &api->pool;
  uv_mutex_lock(&pool->done_mu);
  ain__api_job_t *job = pool->done_head;
  pool->done_head = pool->done_tail = NULL;
  uv_mutex_unlock(&pool->done_mu);
  while (job != NULL) {
    ain__api_job_t *next = job->next_;
    job->done(job, 0);
    job = next;
  }
}

int ain__api_pool_start(ain_api_t *api, int nworkers, ain_err_t *err) {
  ain__api_pool_t *pool = &api->pool;
  uv_mutex_init(&pool->mu);
  uv_mutex_init(&pool->done_mu);
  uv_cond_init(&pool->cond);
  pool->max_queued = 1024;
  uv_async_init(&api->loop, &pool->done_async, on_done);
  pool->done_async.data = api;
  pool->workers = calloc((size_t)nworkers, sizeof *pool->workers);
  if (pool->workers == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (int i = 0; i < nworkers; i++) {
    ain__api_worker_t *w = &pool->workers[i];
    w->api = api;
    w->index = i;
    /* Opening sends nothing (Postgres connects asynchronously), so it may happen here; the
     * handle is then used by the worker's thread alone. */
    if (ain_ops_open(&w->ops, api->cfg, &w->loop, &w->open_err) != 0) {
      ain_log_warn("api: worker %d has no store handle: %s", i, w->open_err.msg);
    } else {
      w->ops_open = 1;
    }
    int rc = uv_thread_create(&w->thread, worker_main, w);
    if (rc != 0) {
      if (w->ops_open) {
        ain_ops_close(&w->ops);
      }
      return ain_err_set(err, AIN_EIO, "api: cannot start worker %d: %s", i, uv_strerror(rc));
    }
    pool->nworkers++;
  }
  return 0;
}

int ain__api_pool_submit(ain_api_t *api, ain__api_job_t *job) {
  ain__api_pool_t *pool = &api->pool;
  int rc = 0, wake = 0;
  job->next_ = NULL;
  uv_mutex_lock(&pool->mu);
  if (pool->stopping) {
    rc = AIN_ESHUTDOWN;
  } else if (pool->queued >= pool->max_queued) {
    rc = AIN_EBUSY;
  } else {
    if (pool->tail) {
      pool->tail->next_ = job;
    } else {
      pool->head = job;
    }
    pool->tail = job;
    pool->queued++;
    /* Only a worker that sleeps needs a signal (a busy one looks at the queue before it sleeps),
     * and only one per job queued while it wakes. Signalled after the unlock, so it does not wake
     * into a mutex we still hold. */
    if (pool->idle > pool->signalled) {
      pool->signalled++;
      wake = 1;
    }
  }
  uv_mutex_unlock(&pool->mu);
  if (wake) {
    uv_cond_signal(&pool->cond);
  }
  return rc;
}

int ain__api_pool_inflight(ain_api_t *api) {
  ain__api_pool_t *pool = &api->pool;
  uv_mutex_lock(&pool->mu);
  int n = pool->queued + pool->running;
  uv_mutex_unlock(&pool->mu);
  uv_mutex_lock(&pool->done_mu);
  n += pool->done_head != NULL;
  uv_mutex_unlock(&pool->done_mu);
  return n;
}

void ain__api_pool_stop(ain_api_t *api) {
  ain__api_pool_t *pool = &api->pool;
  if (pool->workers == NULL) {
    return;
  }
  uv_mutex_lock(&pool->mu);
  pool->stopping = 1;
  ain__api_job_t *job = pool->head;
  pool->head = pool->tail = NULL;
  pool->queued = 0;
  uv_cond_broadcast(&pool->cond);
  uv_mutex_unlock(&pool->mu);
  while (job != NULL) { /* never started: answered now (503) */
    ain__api_job_t *next = job->next_;
    job->done(job, 1);
    job = next;
  }
}

void ain__api_pool_join(ain_api_t *api) {
  ain__api_pool_t *pool = &api->pool;
  if (pool->workers == NULL) {
    return;
  }
  for (int i = 0; i < pool->nworkers; i++) {
    uv_thread_join(&pool->workers[i].thread);
  }
  on_done(&pool->done_async); /* anything finished after the last wake-up */
  uv_close((uv_handle_t *)&pool->done_async, NULL);
  free(pool->workers);
  pool->workers = NULL;
  pool->nworkers = 0;
  uv_mutex_destroy(&pool->mu);
  uv_mutex_destroy(&pool->done_mu);
  uv_cond_destroy(&pool->cond);
}
