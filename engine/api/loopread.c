/* Point reads answered on the server's own loop, for the embedded SQLite store only.
 *
 * Why: a GET of one row through a worker costs two thread wake-ups and a uv_async hand-off, and
 * on this class of VM a wake-up costs more than the read (docs/benchmarks.md, bench/api_cost.sh:
 * a GET's context switches 3.1-3.7 -> 1.0 per request alone). A SQLite read in WAL mode on a
 * read-only connection of its own waits for no writer; it is a few page-cache reads, like the
 * file serving h2o itself does on its loop. What could still make it wait, a lock (WAL recovery,
 * a checkpoint restart), is refused instead: the handle has no busy timeout, and a read that
 * would wait fails with AIN_EBUSY and goes to a worker as before. Postgres (network round trips)
 * always goes to the workers.
 *
 * Reads answered in one loop iteration share one read snapshot, taken at the first of them and
 * released by a check handle after the iteration's I/O callbacks: every request answered in it
 * had arrived before the snapshot was taken, so each still sees every write committed before it
 * came in (the same argument as the workers' batches, work.c).
 * Relies on: internal.h (ain__api_worker_t, jobs), ops/ops.h. */
#include <string.h>

#include "api/internal.h"
#include "core/log.h"

static void on_check(uv_check_t *c) {
  ain_api_t *api = c->data;
  if (api->loopread.snapshot) {
    ain_ops_snapshot_end(&api->loopread.w.ops);
    api->loopread.snapshot = 0;
  }
  uv_check_stop(c);
}

void ain__api_loopread_open(ain_api_t *api) {
  ain__api_worker_t *w = &api->loopread.w;
  w->api = api;
  w->index = -1;
  if (ain_ops_open_nowait(&w->ops, api->cfg, &w->loop, &w->open_err) != 0) {
    ain_log_warn("api: reads go to the workers only: %s", w->open_err.msg);
    return;
  }
  if (strcmp(ain_store_backend_name(w->ops.store), "sqlite") != 0) {
    ain_ops_close(&w->ops);
    return;
  }
  w->ops_open = 1;
  uv_check_init(&api->loop, &api->loopread.check);
  api->loopread.check.data = api;
}

int ain__api_loopread_run(ain_api_t *api, ain__api_job_t *job) {
  ain__api_worker_t *w = &api->loopread.w;
  if (!w->ops_open || api->stopping) {
    return 0;
  }
  if (!api->loopread.snapshot) {
    api->loopread.snapshot = ain_ops_snapshot_begin(&w->ops) == 0;
    if (api->loopread.snapshot) {
      uv_check_start(&api->loopread.check, on_check);
    }
  }
  job->run(job, w);
  return 1;
}

void ain__api_loopread_close(ain_api_t *api) {
  ain__api_worker_t *w = &api->loopread.w;
  if (!w->ops_open) {
    return;
  }
  on_check(&api->loopread.check);
  uv_close((uv_handle_t *)&api->loopread.check, NULL);
  ain_ops_close(&w->ops);
  w->ops_open = 0;
}
