/* bench/pgqueue: the durable queue on PostgreSQL, through the real engine.
 *   1. enqueue N no-op Lua tasks through the store API (batches of 1,000).
 *   2. drain them through the engine (shards, Lua host, every claim and completion committed with
 *      the server's synchronous_commit, audit rows for both transitions). The window runs from the
 *      engine's start until a second connection sees no open task and every task succeeded
 *      (polled every 20 ms), as the peer drivers measure theirs.
 *   3. enqueue->start latency with an idle engine: 500 tasks enqueued one by one, 5 ms apart.
 *   4. claim latency (claim 10 + give them back) with an empty history, with 1,000,000 finished
 *      tasks in the hot table, and after the archive moved them out.
 * Usage: AIN_BENCH_PG_URL=postgres://... AIN_BENCH_PG_RESET='cmd' bench_pgqueue [N] [SHARDS]
 * The reset command (e.g. tools/pg-test-server.sh reset DIR) runs before each figure; psql must be
 * on PATH (it bulk-loads the finished history). Prints one line per figure, and with --json one
 * JSON object at the end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "sched/engine.h"
#include "store/store.h"

#include "common.h"

const char *bench_name = "bench_pgqueue";

static const char *url, *reset_cmd;

static void reset_db(void) {
  if (reset_cmd != NULL && system(reset_cmd) != 0) {
    fprintf(stderr, "bench_pgqueue: reset command failed: %s\n", reset_cmd);
    exit(1);
  }
}

static double enqueue_n(ain_store_t *s, int n, const char *handler) {
  ain_task_t *tasks = calloc(1000, sizeof *tasks);
  uint64_t t0 = ain_mono_ns();
  for (int done = 0; done < n;) {
    int k = n - done < 1000 ? n - done : 1000;
    for (int i = 0; i < k; i++) {
      bench_fill_task(&tasks[i], handler, "{}");
    }
    ain_store_batch_t b = {.tasks = tasks, .ntasks = (size_t)k};
    ain_store_req_t req;
    ain_store_req_enqueue(&req, &b);
    req.actor = "bench";
    if (ain_store_wait(s, &req) != 0) {
      bench_die("enqueue", &req.err);
    }
    ain_store_req_cleanup(&req);
    done += k;
  }
  free(tasks);
  return n / bench_secs_since(t0);
}

static void bench_config(ain_config_t *cfg, int shards) {
  ain_config_defaults(cfg);
  free(cfg->store.url);
  cfg->store.url = ain_strdup(url);
  free(cfg->scripts_dir);
  cfg->scripts_dir = ain_strdup(AIN_SOURCE_DIR "/bench/scripts");
  free(cfg->log_level);
  cfg->log_level = ain_strdup("warn");
  free(cfg->trends.source);
  cfg->trends.source = ain_strdup("");
  if (shards > 0) {
    cfg->shards = shards;
  }
  cfg->queue.poll_ms = 20;
  const char *cb = getenv("AIN_BENCH_CLAIM_BATCH");
  if (cb != NULL && atoi(cb) > 0) {
    cfg->queue.claim_batch = atoi(cb);
  }
}

/* ---- drain window ------------------------------------------------------------------------------ */

/* Watches the store from its own connection every 20 ms, as the peer drivers do (their window ends
 * when the database shows every job complete, not when the worker process exits): records when no
 * task is open any more (the engine's own idle check, a few index probes), then confirms with a
 * full count that `n` tasks succeeded. */
typedef struct {
  int n;
  uint64_t t_done;
  volatile int stop;
} watch_t;

static int open_tasks(const ain_store_stats_t *st) {
  return st->tasks[AIN_TASK_READY] + st->tasks[AIN_TASK_RUNNING] + st->tasks[AIN_TASK_PENDING] > 0;
}

static void watcher(void *arg) {
  watch_t *w = arg;
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, url);
  while (!w->stop) {
    ain_store_req_t req;
    ain_store_req_open_work(&req);
    int idle = ain_store_wait(s, &req) == 0 && !open_tasks(&req.u.stats.stats);
    uint64_t t = ain_mono_ns();
    ain_store_req_cleanup(&req);
    if (idle) {
      ain_store_req_stats(&req);
      if (ain_store_wait(s, &req) == 0 && req.u.stats.stats.tasks[AIN_TASK_SUCCEEDED] >= w->n) {
        w->t_done = t;
        ain_store_req_cleanup(&req);
        break;
      }
      ain_store_req_cleanup(&req);
    }
    usleep(20000);
  }
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
}

/* ---- claim latency vs finished history ------------------------------------------------------- */

/* Median and p99 of `rounds` claims of 10 (each followed by a release of the 10, not timed), in
 * ms, on the queue as it is. */
static void claim_latency(ain_store_t *s, int rounds, double *p50, double *p99) {
  double *lat = calloc((size_t)rounds, sizeof *lat);
  for (int r = 0; r < rounds; r++) {
    ain_store_req_t req;
    ain_store_req_claim(&req, "bench/1/shard-0", 10, 30000);
    uint64_t t0 = ain_mono_ns();
    if (ain_store_wait(s, &req) != 0 || req.u.claim.ntasks == 0) {
      bench_die("claim", &req.err);
    }
    lat[r] = bench_secs_since(t0) * 1000.0;
    ain_finish_item_t it[10];
    size_t n = req.u.claim.ntasks;
    for (size_t i = 0; i < n; i++) {
      it[i] = (ain_finish_item_t){.task_id = req.u.claim.tasks[i].id,
                                  .state_version = req.u.claim.tasks[i].state_version,
                                  .kind = AIN_FINISH_RELEASE};
    }
    ain_store_req_t fin;
    ain_store_req_finish(&fin, it, n);
    if (ain_store_wait(s, &fin) != 0) {
      bench_die("release", &fin.err);
    }
    ain_store_req_cleanup(&fin);
    ain_store_req_cleanup(&req);
  }
  qsort(lat, (size_t)rounds, sizeof *lat, bench_cmp_double);
  *p50 = lat[rounds / 2];
  *p99 = lat[(rounds * 99) / 100];
  free(lat);
}

static void psql(const char *sql) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "psql -X -q -v ON_ERROR_STOP=1 '%s' -c \"%s\" >/dev/null", url, sql);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_pgqueue: psql failed: %s\n", sql);
    exit(1);
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  int shards = argc > 2 ? atoi(argv[2]) : 0;
  int history = getenv("AIN_BENCH_HISTORY") ? atoi(getenv("AIN_BENCH_HISTORY")) : 1000000;
  url = getenv("AIN_BENCH_PG_URL");
  reset_cmd = getenv("AIN_BENCH_PG_RESET");
  if (url == NULL || n <= 0) {
    fprintf(stderr, "usage: AIN_BENCH_PG_URL=postgres://... [AIN_BENCH_PG_RESET=cmd] "
                    "bench_pgqueue [N] [SHARDS]\n");
    return 2;
  }
  ain_log_set_level(AIN_LOG_WARN);
  printf("bench/pgqueue: N=%d, %ld cores\n", n, sysconf(_SC_NPROCESSORS_ONLN));
  fflush(stdout);

  reset_db();
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, url);
  double enq = enqueue_n(s, n, "lua:bench_noop.run");
  bench_close_store(s, &loop);
  printf("enqueue (store API, batches of 1000): %.0f tasks/s\n", enq);
  fflush(stdout);

  ain_config_t cfg;
  bench_config(&cfg, shards);
  cfg.cluster.archive_interval_ms = 0; /* the drain is measured without archiving */
  ain_run_opts_t o = {.until_idle = 1};
  ain_run_summary_t sum;
  ain_err_t err;
  watch_t w = {.n = n};
  uv_thread_t wt;
  uv_thread_create(&wt, watcher, &w);
  uint64_t t0 = ain_mono_ns();
  if (ain_engine_run(&cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  double exit_s = bench_secs_since(t0);
  w.stop = 1;
  uv_thread_join(&wt);
  /* The window: engine start (shards, Lua hosts, connections included) until the store shows
   * every task succeeded; the engine's own exit adds its idle check and shutdown. */
  double drain_s = w.t_done ? (double)(w.t_done - t0) / 1e9 : exit_s;
  if (sum.store.tasks[AIN_TASK_SUCCEEDED] != n) {
    fprintf(stderr, "bench_pgqueue: only %lld of %d tasks succeeded\n",
            (long long)sum.store.tasks[AIN_TASK_SUCCEEDED], n);
    return 1;
  }
  double drain = n / drain_s;
  printf("AIN drain (%d shards, claim batch %d, Lua no-op steps): %.0f jobs/s (%.2f s until the "
         "store showed all done; engine exited after %.2f s)\n",
         cfg.shards, cfg.queue.claim_batch, drain, drain_s, exit_s);
  fflush(stdout);
  ain_config_free(&cfg);

  reset_db();
  double p50, p99, mx;
  ain_config_t lcfg;
  bench_config(&lcfg, shards);
  bench_idle_latency(&lcfg, url, &p50, &p99, &mx);
  ain_config_free(&lcfg);
  printf("AIN enqueue->start latency, idle engine, 500 tasks 5 ms apart: p50 %.2f ms, p99 %.2f ms, "
         "max %.2f ms\n",
         p50, p99, mx);
  fflush(stdout);

  /* Claim latency: 2,000 ready tasks; empty history, then `history` finished tasks in the hot
   * table, then after the archive moved them out. */
  reset_db();
  uv_loop_init(&loop);
  s = bench_open_store(&loop, url);
  enqueue_n(s, 2000, "lua:bench_noop.run");
  psql("VACUUM ANALYZE tasks");
  double e50, e99, h50, h99, a50, a99;
  claim_latency(s, 300, &e50, &e99);
  char sql[1024];
  snprintf(sql, sizeof sql,
           "INSERT INTO tasks (id, type, handler, payload, status, run_at, state_version, "
           "created_at, updated_at, finished_at, result, attempts) SELECT 'h' || g, 'noop_lua', "
           "'lua:bench_noop.run', '{}', 'succeeded', 1, 2, 1, 1, 1, '{}', 1 "
           "FROM generate_series(1, %d) g",
           history);
  uint64_t tl = ain_mono_ns();
  psql(sql);
  psql("VACUUM ANALYZE tasks");
  double load_s = bench_secs_since(tl);
  claim_latency(s, 300, &h50, &h99);
  ain_store_req_t ar;
  int moved = 0;
  uint64_t ta = ain_mono_ns();
  do {
    ain_store_req_archive(&ar, ain_now_ms(), 50000);
    if (ain_store_wait(s, &ar) != 0) {
      bench_die("archive", &ar.err);
    }
    moved += ar.u.archive.archived;
  } while (ar.u.archive.archived == 50000);
  double arch_s = bench_secs_since(ta);
  psql("VACUUM ANALYZE tasks");
  claim_latency(s, 300, &a50, &a99);
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
  printf("claim 10 latency, empty history: p50 %.3f ms, p99 %.3f ms\n", e50, e99);
  printf("claim 10 latency, %d finished tasks in the hot table (loaded in %.1f s): p50 %.3f ms, "
         "p99 %.3f ms (ratio to empty %.2f)\n",
         history, load_s, h50, h99, h50 / e50);
  printf("claim 10 latency, after the archive moved %d tasks out (%.1f s): p50 %.3f ms, p99 %.3f "
         "ms (ratio to empty %.2f)\n",
         moved, arch_s, a50, a99, a50 / e50);
  printf("{\"drain\":%.0f,\"lat_p50\":%.3f,\"lat_p99\":%.3f,\"claim_empty_p50\":%.3f,"
         "\"claim_hist_p50\":%.3f,\"claim_arch_p50\":%.3f}\n",
         drain, p50, p99, e50, h50, a50);
  return 0;
}
