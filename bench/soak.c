/* bench/soak: a long run through the real engine, watching for what only shows over time: memory
 * that grows and a drain rate that sags. The engine (shards, Lua host, store, reaper, archiver)
 * runs in this process on the store at AIN_SOAK_URL (SQLite or PostgreSQL), with default settings
 * except the ones below. A producer thread keeps a bounded backlog of no-op Lua tasks in front of
 * it (enqueued through its own store handle, in batches of 1,000) until N tasks went through, and
 * every AIN_SOAK_SAMPLE_MS prints one sample: elapsed time, tasks drained, drain rate over the
 * interval, open backlog, the process's resident set (VmRSS) and the machine's load average.
 * Then it stops the engine with SIGTERM, as an operator would, and prints a verdict:
 *
 *   RSS:  the last sample against the first one taken after the warm-up (10% of N drained);
 *         growth above AIN_SOAK_RSS_GROWTH_PCT percent (default 25) plus 16 MiB fails (exit 1).
 *
 *   rate: the mean of the last third of the intervals against the first third (reported; a
 *         shared machine's noise makes it a poor pass/fail line, docs/benchmarks.md reads it).
 *
 * Usage: AIN_SOAK_URL=sqlite:/tmp/x/soak.db | postgres://... bench_soak [N] [SHARDS]
 *
 * Env: AIN_SOAK_SAMPLE_MS (10000), AIN_SOAK_BACKLOG (30000 open tasks at most),
 * AIN_SOAK_ARCHIVE_MS (finished tasks move to the archive this long after they end; 10000, so the
 * archiver works during the run), AIN_SOAK_RSS_GROWTH_PCT (25). bench/soak.sh runs both stores.
 *
 * Relies on: sched/engine.h (ain_engine_run), store/store.h, bench/common.h. */
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

const char *bench_name = "bench_soak";

enum { BATCH = 1000, MAX_SAMPLES = 100000 };

typedef struct {
  double t_s;
  long drained;
  double rate;
  long open;
  long rss_kb;
  double load; /* 1-minute load average: the machine is shared, so a dip has a reason beside it */
} sample_t;

typedef struct {
  const char *url;
  long n, backlog;
  int64_t sample_ms;
  sample_t *samples;
  int nsamples;
  int warm; /* index of the first sample after the warm-up, -1 until then */
} soak_t;

static long env_long(const char *name, long def) {
  const char *v = getenv(name);
  return v != NULL && atol(v) > 0 ? atol(v) : def;
}

/* VmRSS of this process in KiB (0 if /proc is unreadable). */
static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = atol(line + 6);
      break;
    }
  }
  if (f != NULL) {
    fclose(f);
  }
  return kb;
}

static double loadavg(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  double l = 0;
  if (f != NULL) {
    if (fscanf(f, "%lf", &l) != 1) {
      l = 0;
    }
    fclose(f);
  }
  return l;
}

/* Tasks not finished yet (ready, running, pending). A full STATS: the idle check (open_work) only
 * says whether there are any. It counts by status over the hot table, which the archiver keeps
 * short, so the producer polls it every 200 ms. */
static long open_tasks(ain_store_t *s) {
  ain_store_req_t req;
  ain_store_req_stats(&req);
  if (ain_store_wait(s, &req) != 0) {
    bench_die("open work", &req.err);
  }
  const ain_store_stats_t *st = &req.u.stats.stats;
  long open =
      (long)st->tasks[AIN_TASK_READY] + st->tasks[AIN_TASK_RUNNING] + st->tasks[AIN_TASK_PENDING];
  ain_store_req_cleanup(&req);
  return open;
}

static void enqueue(ain_store_t *s, ain_task_t *tasks, int k) {
  for (int i = 0; i < k; i++) {
    bench_fill_task(&tasks[i], "lua:bench_noop.run", "{}");
  }
  ain_store_batch_t b = {.tasks = tasks, .ntasks = (size_t)k};
  ain_store_req_t req;
  ain_store_req_enqueue(&req, &b);
  req.actor = "bench";
  if (ain_store_wait(s, &req) != 0) {
    bench_die("enqueue", &req.err);
  }
  ain_store_req_cleanup(&req);
}

static void take_sample(soak_t *k, uint64_t t0, long drained, long open, long *last_drained,
                        double *last_t) {
  if (k->nsamples == MAX_SAMPLES) {
    return;
  }
  double t = bench_secs_since(t0);
  sample_t *s = &k->samples[k->nsamples];
  *s = (sample_t){.t_s = t,
                  .drained = drained,
                  .rate = t > *last_t ? (double)(drained - *last_drained) / (t - *last_t) : 0,
                  .open = open,
                  .rss_kb = rss_kb(),
                  .load = loadavg()};
  if (k->warm < 0 && drained >= k->n / 10) {
    k->warm = k->nsamples;
  }
  printf("| %7.1f | %9ld | %8.0f | %7ld | %8.1f | %5.1f |\n", s->t_s, s->drained, s->rate, s->open,
         (double)s->rss_kb / 1024.0, s->load);
  fflush(stdout);
  k->nsamples++;
  *last_drained = drained;
  *last_t = t;
}

/* The producer: keeps at most `backlog` tasks open until n were enqueued, samples on schedule,
 * and stops the engine once all n are finished. */
static void producer(void *arg) {
  soak_t *k = arg;
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, k->url);
  ain_task_t *tasks = calloc(BATCH, sizeof *tasks);
  if (tasks == NULL) {
    bench_die("out of memory", NULL);
  }
  uint64_t t0 = ain_mono_ns(), next = t0 + (uint64_t)k->sample_ms * 1000000u;
  long enqueued = 0, last_drained = 0;
  double last_t = 0;
  printf(
      "| t (s) | drained | tasks/s | open | RSS (MiB) | load |\n|---:|---:|---:|---:|---:|---:|\n");
  take_sample(k, t0, 0, 0, &last_drained, &last_t);
  for (;;) {
    long open = open_tasks(s), drained = enqueued - open;
    if (ain_mono_ns() >= next) {
      take_sample(k, t0, drained, open, &last_drained, &last_t);
      while (next <= ain_mono_ns()) { /* a slow poll skips a sample rather than bunching them */
        next += (uint64_t)k->sample_ms * 1000000u;
      }
    }
    if (drained >= k->n) {
      break;
    }
    int queued = 0;
    while (enqueued < k->n && open + BATCH <= k->backlog) {
      int b = k->n - enqueued < BATCH ? (int)(k->n - enqueued) : BATCH;
      enqueue(s, tasks, b);
      enqueued += b;
      open += b;
      queued = 1;
    }
    if (!queued) {
      usleep(200000);
    }
  }
  long open = open_tasks(s);
  take_sample(k, t0, enqueued - open, open, &last_drained, &last_t);
  free(tasks);
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
  kill(getpid(), SIGTERM); /* the engine stops gracefully */
}

static double mean_rate(const soak_t *k, int from, int to) {
  double sum = 0;
  int n = 0;
  for (int i = from; i < to; i++) {
    sum += k->samples[i].rate;
    n++;
  }
  return n ? sum / n : 0;
}

int main(int argc, char **argv) {
  soak_t k = {.n = argc > 1 ? atol(argv[1]) : 1000000, .warm = -1};
  int shards = argc > 2 ? atoi(argv[2]) : 0;
  k.url = getenv("AIN_SOAK_URL");
  k.sample_ms = env_long("AIN_SOAK_SAMPLE_MS", 10000);
  k.backlog = env_long("AIN_SOAK_BACKLOG", 30000);
  long growth_pct = env_long("AIN_SOAK_RSS_GROWTH_PCT", 25);
  if (k.url == NULL || k.n <= 0 || k.backlog < BATCH) {
    fprintf(stderr,
            "usage: AIN_SOAK_URL=sqlite:PATH|postgres://... bench_soak [N] [SHARDS] "
            "(AIN_SOAK_BACKLOG >= %d)\n",
            BATCH);
    return 2;
  }
  k.samples = calloc(MAX_SAMPLES, sizeof *k.samples);
  if (k.samples == NULL) {
    return 1;
  }
  ain_log_set_level(AIN_LOG_WARN);

  ain_config_t cfg;
  ain_config_defaults(&cfg);
  free(cfg.store.url);
  cfg.store.url = ain_strdup(k.url);
  free(cfg.scripts_dir);
  cfg.scripts_dir = ain_strdup(AIN_SOURCE_DIR "/bench/scripts");
  free(cfg.log_level);
  cfg.log_level = ain_strdup("warn");
  free(cfg.trends.source); /* no planner: the producer makes the work */
  cfg.trends.source = ain_strdup("");
  if (shards > 0) {
    cfg.shards = shards;
  }
  cfg.cluster.archive_after_ms = env_long("AIN_SOAK_ARCHIVE_MS", 10000);
  printf("bench/soak: N=%ld on %.*s, backlog %ld, sample every %lld ms, %ld cores\n\n", k.n,
         (int)strcspn(k.url, ":"), k.url, k.backlog, (long long)k.sample_ms,
         sysconf(_SC_NPROCESSORS_ONLN));
  fflush(stdout);

  /* The store's schema first, so the engine and the producer start on a migrated database. */
  uv_loop_t loop;
  uv_loop_init(&loop);
  bench_close_store(bench_open_store(&loop, k.url), &loop);
  uv_loop_close(&loop);

  uv_thread_t th;
  uv_thread_create(&th, producer, &k);
  ain_run_opts_t o = {0};
  ain_run_summary_t sum;
  ain_err_t err;
  if (ain_engine_run(&cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  uv_thread_join(&th);
  ain_config_free(&cfg);

  const sample_t *last = &k.samples[k.nsamples - 1];
  int rc = 0;
  printf("\nsteps run by the engine: %lld, wall %.1f s, mean %.0f tasks/s\n",
         (long long)sum.steps_run, last->t_s, (double)last->drained / last->t_s);
  if (last->drained < k.n) {
    printf("FAIL: only %ld of %ld tasks finished\n", last->drained, k.n);
    rc = 1;
  }
  if (k.warm >= 0 && k.warm < k.nsamples - 1) {
    const sample_t *w = &k.samples[k.warm];
    double grow = 100.0 * (double)(last->rss_kb - w->rss_kb) / (double)w->rss_kb;
    int ok = last->rss_kb <= w->rss_kb + w->rss_kb * growth_pct / 100 + 16 * 1024;
    printf("RSS: %.1f MiB after warm-up (t=%.0f s), %.1f MiB at the end: %+.1f%% (limit %ld%% + "
           "16 MiB) %s\n",
           (double)w->rss_kb / 1024, w->t_s, (double)last->rss_kb / 1024, grow, growth_pct,
           ok ? "ok" : "FAIL");
    rc |= !ok;
    /* Rates of whole intervals only: sample 0 has none and the last one may be short. */
    int m = k.nsamples - 2, third = m / 3;
    if (third > 0) {
      double a = mean_rate(&k, 1, 1 + third),
             b = mean_rate(&k, k.nsamples - 1 - third, k.nsamples - 1);
      printf("drain rate: first third of the run %.0f tasks/s, last third %.0f tasks/s (%.2fx)\n",
             a, b, a > 0 ? b / a : 0);
    }
  } else {
    printf("RSS: too few samples after the warm-up to judge (lower AIN_SOAK_SAMPLE_MS)\n");
  }
  free(k.samples);
  return rc;
}
