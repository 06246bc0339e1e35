/* bench/metrics: what metrics cost (issue 11).
 *   1. The engine's drain of N no-op Lua tasks on SQLite with metrics on and off, in the same run:
 *      rounds alternate off/on on fresh stores; the figure is the ratio of the median rates
 *      (bar: >= 0.95).
 *   2. GET /metrics through the real API server (h2o, a worker, the store's gauges read on every
 *      scrape: metrics.store_cache_ms = 0) with 100,000 tasks in the store, spread over 10 types
 *      and all open (ready: every one in the depth query's index), over one keep-alive
 *      connection: p50/p99/max of 1,000 scrapes (bar: p99 <= 50 ms).
 * Usage: build/bench_metrics [N_DRAIN [N_STORE [ROUNDS]]], or --short (the suite's form: 2,000
 * and 5,000 tasks, one round, 50 scrapes, bars printed but not enforced). Full mode exits 1 when
 * a bar is missed. Figures: docs/benchmarks.md. */
#include <curl/curl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "common.h"
#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "sched/engine.h"

const char *bench_name = "bench_metrics";
static char tmpdir[256];

static void enqueue_n(const char *url, int n, int types) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, url);
  ain_task_t *tasks = calloc(1000, sizeof *tasks);
  char type_names[10][16];
  for (int i = 0; i < 10; i++) {
    snprintf(type_names[i], sizeof type_names[i], "bench_type_%d", i);
  }
  for (int done = 0; done < n;) {
    int k = n - done < 1000 ? n - done : 1000;
    for (int i = 0; i < k; i++) {
      bench_fill_task(&tasks[i], "lua:bench_noop.run", "{}");
      if (types > 1) {
        tasks[i].type = type_names[(done + i) % types];
      }
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
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
}

static void base_config(ain_config_t *cfg, const char *url) {
  ain_config_defaults(cfg);
  free(cfg->store.url);
  cfg->store.url = ain_strdup(url);
  free(cfg->scripts_dir);
  cfg->scripts_dir = ain_strdup(AIN_SOURCE_DIR "/bench/scripts");
  free(cfg->log_level);
  cfg->log_level = ain_strdup("warn");
  free(cfg->trends.source);
  cfg->trends.source = ain_strdup("");
  cfg->queue.poll_ms = 20;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* One drain of n tasks on a fresh store; tasks/s, and the process's CPU seconds per task in
 * *cpu (steadier than wall time on a shared machine: other processes' load does not count). */
static double drain(int n, int metrics_on, int round, double *cpu) {
  char url[600];
  snprintf(url, sizeof url, "sqlite:%s/drain-%d-%d.db", tmpdir, round, metrics_on);
  enqueue_n(url, n, 1);
  ain_config_t cfg;
  base_config(&cfg, url);
  cfg.metrics.enabled = metrics_on;
  ain_run_opts_t o = {.until_idle = 1};
  ain_run_summary_t sum;
  ain_err_t err;
  uint64_t t0 = ain_mono_ns();
  double c0 = cpu_s();
  if (ain_engine_run(&cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  double s = bench_secs_since(t0);
  *cpu = (cpu_s() - c0) / n;
  if (sum.store.tasks[AIN_TASK_SUCCEEDED] != n) {
    fprintf(stderr, "bench_metrics: only %lld of %d tasks succeeded\n",
            (long long)sum.store.tasks[AIN_TASK_SUCCEEDED], n);
    exit(1);
  }
  ain_config_free(&cfg);
  return n / s;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static size_t sink(char *p, size_t size, size_t n, void *data) {
  (void)p;
  *(size_t *)data += size * n;
  return size * n;
}

/* Scrapes /metrics `scrapes` times; fills p50/p99/max in ms; returns the last body's size. */
static size_t scrape(const char *url, int scrapes, double *p50, double *p99, double *mx) {
  CURL *c = curl_easy_init();
  size_t bytes = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
  double *ms = calloc((size_t)scrapes, sizeof *ms);
  for (int i = -5; i < scrapes; i++) { /* 5 warm-up scrapes */
    bytes = 0;
    uint64_t t0 = ain_mono_ns();
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
      fprintf(stderr, "bench_metrics: scrape failed: %s, HTTP %ld\n", curl_easy_strerror(rc),
              status);
      exit(1);
    }
    if (i >= 0) {
      ms[i] = bench_secs_since(t0) * 1000;
    }
  }
  qsort(ms, (size_t)scrapes, sizeof *ms, bench_cmp_double);
  *p50 = ms[scrapes / 2];
  *p99 = ms[(int)(scrapes * 0.99) < scrapes ? (int)(scrapes * 0.99) : scrapes - 1];
  *mx = ms[scrapes - 1];
  free(ms);
  curl_easy_cleanup(c);
  return bytes;
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--short") == 0;
  int n_drain = quick ? 2000 : argc > 1 ? atoi(argv[1]) : 50000;
  int n_store = quick ? 5000 : argc > 2 ? atoi(argv[2]) : 100000;
  int rounds = quick ? 1 : argc > 3 ? atoi(argv[3]) : 3;
  int scrapes = quick ? 50 : 1000;
  ain_log_set_level(AIN_LOG_WARN);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/ain-bench-metrics-XXXXXX");
  if (mkdtemp(tmpdir) == NULL || n_drain <= 0 || n_store <= 0 || rounds <= 0 || rounds > 20) {
    fprintf(stderr, "usage: bench_metrics [N_DRAIN [N_STORE [ROUNDS<=20]]] | --short\n");
    return 2;
  }
  printf("bench/metrics: drain N=%d x %d rounds, store %d tasks, %d scrapes, %ld cores%s\n",
         n_drain, rounds, n_store, scrapes, sysconf(_SC_NPROCESSORS_ONLN),
         quick ? " (short: bars not enforced)" : "");
  fflush(stdout);

  /* 1. drain with metrics off and on, alternating which goes first */
  double off[20], on[20], coff[20], con[20];
  for (int r = 0; r < rounds; r++) {
    if (r % 2 == 0) {
      off[r] = drain(n_drain, 0, r, &coff[r]);
      on[r] = drain(n_drain, 1, r, &con[r]);
    } else {
      on[r] = drain(n_drain, 1, r, &con[r]);
      off[r] = drain(n_drain, 0, r, &coff[r]);
    }
    printf("  round %d: metrics off %.0f tasks/s (%.1f us CPU/task), on %.0f tasks/s (%.1f us "
           "CPU/task)\n",
           r + 1, off[r], coff[r] * 1e6, on[r], con[r] * 1e6);
    fflush(stdout);
  }
  double moff = median(off, rounds), mon = median(on, rounds);
  double ratio = mon / moff;
  double cratio = median(coff, rounds) / median(con, rounds);
  printf("engine drain, median: metrics off %.0f tasks/s, on %.0f tasks/s: ratio %.3f (bar >= "
         "0.95); CPU per task off/on %.3f\n",
         moff, mon, ratio, cratio);
  /* the hot path alone: what one step's updates cost (claimed, finished, step duration, queue
   * latency, and its share of two store requests) */
  const char *ty[1] = {"noop_lua"}, *ts[2] = {"noop_lua", "succeeded"};
  const char *so[2] = {"sqlite", "finish"};
  ain_obs_enable(1); /* the last drain may have run with metrics off */
  uint64_t t0 = ain_mono_ns();
  for (int i = 0; i < 1000000; i++) {
    ain_obs_inc(AIN_M_TASKS_CLAIMED, ty);
    ain_obs_inc(AIN_M_TASKS_FINISHED, ts);
    ain_obs_observe(AIN_M_STEP_DURATION, ty, 0.0002);
    ain_obs_observe(AIN_M_QUEUE_LATENCY, ty, 0.002);
    ain_obs_observe(AIN_M_STORE_TXN, so, 0.0001);
  }
  printf("the metric updates of one step (5 updates, one thread): %.0f ns\n",
         (double)(ain_mono_ns() - t0) / 1e6);
  fflush(stdout);

  /* 2. /metrics with n_store open tasks, the store read on every scrape */
  char url[600];
  snprintf(url, sizeof url, "sqlite:%s/scrape.db", tmpdir);
  enqueue_n(url, n_store, 10);
  ain_config_t cfg;
  base_config(&cfg, url);
  cfg.metrics.store_cache_ms = 0;
  cfg.api.metrics_public = 1;
  free(cfg.api.listen);
  cfg.api.listen = ain_strdup("127.0.0.1:0");
  ain_api_t *api = NULL;
  ain_err_t err;
  if (ain_api_start(&cfg, &api, &err) != 0) {
    bench_die("api", &err);
  }
  char murl[100];
  snprintf(murl, sizeof murl, "http://127.0.0.1:%d/metrics", ain_api_port(api));
  curl_global_init(CURL_GLOBAL_DEFAULT);
  double p50, p99, mx;
  double c0 = cpu_s();
  size_t bytes = scrape(murl, scrapes, &p50, &p99, &mx);
  double cpu_ms = (cpu_s() - c0) / (scrapes + 5) * 1000; /* server and client: one process */
  printf("GET /metrics, %d tasks in the store (10 types, open), store read every scrape: p50 "
         "%.2f ms, p99 %.2f ms, max %.2f ms, %zu bytes, %.2f ms CPU per scrape (bar p99 <= 50 "
         "ms)\n",
         n_store, p50, p99, mx, bytes, cpu_ms);
  ain_api_stop(api, 2000);
  ain_api_free(api);
  ain_config_free(&cfg);
  curl_global_cleanup();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) {
    return 1;
  }
  if (!quick && (ratio < 0.95 || p99 > 50)) {
    printf("bar missed\n");
    return 1;
  }
  return 0;
}
