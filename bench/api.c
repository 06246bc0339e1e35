/* bench/api: the operator HTTP API (engine/api/) under load, against the server's own ceiling
 * measured in the same run, on SQLite. One process: the API server as `ain run` starts it (its
 * thread, its workers with their own store handles, HS256 bearer tokens), the engine draining on
 * the main thread as in bench/queue, and the load from outside the process (wrk) or from a thread
 * (the constant-rate client, bench/rate.c).
 *   1. ceiling: wrk on GET /healthz (no caller, answered on the server's loop: route table, a
 *      constant JSON body; no token, no worker, no store).
 *   2. GET /v1/tasks/{id} (wrk, bearer token, ids of stored tasks in turn): rps, p99, ratio to 1.
 *      1 and 2 run as REPS rounds in alternating order; the bar is the median of the rounds' ratios.
 *   3. GET /v1/tasks/{id} at a constant 1,000 requests/s with the engine idle (reference latency).
 *   4. the queue drain (bench/queue's method: N no-op Lua tasks enqueued through the store API,
 *      then the engine until idle) with the API idle and with the API answering 1,000 GETs/s,
 *      REPS pairs in alternating order after a warm-up drain: the drain ratio (loaded / idle,
 *      medians) and the GET p99 during each loaded drain.
 *   5. POST /v1/tasks (wrk), batches of 100 new tasks (fresh ids each request): tasks/s, against
 *      the store API enqueueing batches of 100 in this process right after (the store's share).
 * Prints each figure, its ratio, and whether each of issue 10's bars is met (the exit status does
 * not depend on the bars: a benchmark reports, it does not judge a noisy machine).
 * Usage: bench_api [--short] [N]   (N tasks per drain, default 50000; --short: 1 s per wrk run,
 * N 2000, one rep, for the test suite). AIN_BENCH_SECS (10), AIN_BENCH_REPS (3) and
 * AIN_BENCH_CONNS (32, wrk's keep-alive connections) override; AIN_BENCH_RATE_PATH (e.g. /healthz)
 * changes what the constant-rate client asks for. Needs wrk (tools/setup.sh --test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "sched/engine.h"

#include "common.h"
#include "rate.h"

const char *bench_name = "bench_api";

#define SEED_TASKS 1000 /* tasks the GETs read */
#define RATE 1000.0     /* requests/s of the latency runs (the issue's fixed rate) */
#define RATE_CONNS 16

typedef struct {
  double rps, secs, p50_ms, p99_ms, max_ms;
  long long requests, non2xx, errors;
} wrk_result_t;

static char tmpdir[256];
static int secs = 10, conns = 32;

/* Runs wrk with bench/api.lua in mode (env AIN_WRK_*), returns its AIN_WRK line parsed. */
static void run_wrk(const char *mode, int port, int c, wrk_result_t *out) {
  char cmd[1024];
  setenv("AIN_WRK_MODE", mode, 1);
  snprintf(cmd, sizeof cmd,
           "wrk -t1 -c%d -d%ds --timeout 10s -s '%s/bench/api.lua' http://127.0.0.1:%d 2>&1", c,
           secs, AIN_SOURCE_DIR, port);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    bench_die("cannot run wrk", NULL);
  }
  char line[512];
  int found = 0;
  memset(out, 0, sizeof *out);
  while (fgets(line, sizeof line, p) != NULL) {
    long long p50, p99, mx;
    if (sscanf(line,
               "AIN_WRK requests=%lld secs=%lf non2xx=%lld errors=%lld p50_us=%lld p99_us=%lld "
               "max_us=%lld",
               &out->requests, &out->secs, &out->non2xx, &out->errors, &p50, &p99, &mx) == 7) {
      out->p50_ms = (double)p50 / 1000, out->p99_ms = (double)p99 / 1000;
      out->max_ms = (double)mx / 1000;
      found = 1;
    } else if (!found && strstr(line, "AIN_WRK") == NULL && strstr(line, "Running") == NULL &&
               strncmp(line, "  ", 2) != 0 && strncmp(line, "Requests/sec", 12) != 0 &&
               strncmp(line, "Transfer/sec", 12) != 0 && strstr(line, "requests in") == NULL) {
      fprintf(stderr, "wrk: %s", line); /* anything unexpected: a Lua error, a refused port */
    }
  }
  int rc = pclose(p);
  if (!found || rc != 0 || out->secs <= 0) {
    fprintf(stderr, "bench_api: wrk (%s) gave no result (exit %d)\n", mode, rc);
    exit(1);
  }
  out->rps = (double)(out->requests - out->non2xx - out->errors) / out->secs;
}

static void print_wrk(const char *what, const wrk_result_t *r) {
  printf("%s: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms (%lld requests, %lld "
         "non-2xx, %lld socket errors)\n",
         what, r->rps, r->p50_ms, r->p99_ms, r->max_ms, r->requests, r->non2xx, r->errors);
  fflush(stdout);
}

typedef struct {
  double p50, p99, max, rate;
  long long n, errors, non200, late;
} rate_result_t;

static void rate_start(bench_rate_t *r, int port, const char *token, char *reqbuf, size_t cap,
                       const char *id) {
  /* AIN_BENCH_RATE_PATH=/healthz: the same rate without the store (tells the server's share of an
   * effect from the store's) */
  const char *path = getenv("AIN_BENCH_RATE_PATH");
  char p[128];
  snprintf(p, sizeof p, "/v1/tasks/%s", id);
  snprintf(reqbuf, cap,
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n",
           path != NULL && path[0] == '/' ? path : p, port, token);
  bench_rate_opts_t o = {.port = port, .request = reqbuf, .rate = RATE, .conns = RATE_CONNS};
  if (bench_rate_start(r, &o) != 0) {
    exit(1);
  }
}

static void rate_finish(bench_rate_t *r, rate_result_t *out) {
  bench_rate_stop(r);
  out->n = (long long)r->n;
  out->errors = r->errors, out->non200 = r->non200, out->late = r->late;
  out->rate = r->secs > 0 ? (double)r->n / r->secs : 0;
  out->p50 = bench_rate_pct(r, 50);
  out->p99 = bench_rate_pct(r, 99);
  out->max = bench_rate_pct(r, 100);
  bench_rate_free(r);
}

static void print_rate(const char *what, const rate_result_t *r) {
  printf("%s: %.0f requests/s answered, p50 %.2f ms, p99 %.2f ms, max %.2f ms (%lld answered, "
         "%lld not 200, %lld socket errors, %lld never sent)\n",
         what, r->rate, r->p50, r->p99, r->max, r->n, r->non200, r->errors, r->late);
  fflush(stdout);
}

/* bench/queue's drain: n tasks enqueued through the store API, then the engine until idle. */
static double drain(const ain_config_t *cfg, int n) {
  bench_enqueue_noop(cfg->store.url, n, 1000, NULL);
  ain_run_opts_t o = {.until_idle = 1};
  ain_run_summary_t sum;
  ain_err_t err;
  uint64_t t0 = ain_mono_ns();
  if (ain_engine_run(cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  double s = bench_secs_since(t0);
  if (sum.steps_run < n) {
    fprintf(stderr, "bench_api: the drain ran %lld of %d steps\n", (long long)sum.steps_run, n);
    exit(1);
  }
  return n / s;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *met(int ok) {
  return ok ? "met" : "NOT met";
}

int main(int argc, char **argv) {
  int n = 50000, reps = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--short") == 0) {
      n = 2000, reps = 1, secs = 1;
    } else if (atoi(argv[i]) > 0) {
      n = atoi(argv[i]);
    } else {
      fprintf(stderr, "usage: bench_api [--short] [N]\n");
      return 2;
    }
  }
  const char *e;
  if ((e = getenv("AIN_BENCH_SECS")) != NULL && atoi(e) > 0) {
    secs = atoi(e);
  }
  if ((e = getenv("AIN_BENCH_REPS")) != NULL && atoi(e) > 0) {
    reps = atoi(e);
  }
  if ((e = getenv("AIN_BENCH_CONNS")) != NULL && atoi(e) > 0) {
    conns = atoi(e);
  }
  if (system("command -v wrk >/dev/null 2>&1") != 0) {
    fprintf(stderr, "bench_api: wrk is not installed (Debian package wrk; tools/setup.sh --test)\n");
    return 1;
  }
  ain_log_set_level(AIN_LOG_WARN);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/ain-bench-api-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    return 1;
  }
  char url[600], idfile[600], secret[65], nonce[16];
  snprintf(url, sizeof url, "sqlite:%s/engine.db", tmpdir);
  snprintf(idfile, sizeof idfile, "%s/ids.txt", tmpdir);
  /* A fresh HS256 key per run, through the secrets provider's environment form. */
  srand((unsigned)ain_mono_ns() ^ (unsigned)getpid());
  for (int i = 0; i < 64; i++) {
    secret[i] = "0123456789abcdef"[rand() % 16];
  }
  secret[64] = '\0';
  setenv("AIN_SECRET_API_JWT", secret, 1);
  snprintf(nonce, sizeof nonce, "%d", rand() % 16384);
  setenv("AIN_WRK_NONCE", nonce, 1);

  ain_config_t cfg;
  bench_engine_config(&cfg, url, 0);
  free(cfg.api.listen);
  cfg.api.listen = ain_strdup("127.0.0.1:0");
  free(cfg.api.jwt.alg);
  cfg.api.jwt.alg = ain_strdup("HS256");
  free(cfg.api.jwt.secret);
  cfg.api.jwt.secret = ain_strdup("api_jwt");
  cfg.api.enabled = 1;
  if ((e = getenv("AIN_BENCH_API_WORKERS")) != NULL) { /* api.workers, against the default */
    cfg.api.workers = atoi(e);
  }
  if ((e = getenv("AIN_BENCH_SHARD_NICE")) != NULL) { /* compare with the config's default */
    cfg.shard_nice = atoi(e);
  }

  printf("bench/api: SQLite WAL synchronous=FULL, %ld cores, %d api workers, %d shards at nice +%d, "
         "wrk -t1 -c%d -d%ds, drains of N=%d x %d\n",
         sysconf(_SC_NPROCESSORS_ONLN), (int)cfg.api.workers, cfg.shards, cfg.shard_nice, conns,
         secs, n, reps);
  fflush(stdout);

  /* The tasks the GETs read: enqueued and drained once (this also migrates the store). */
  FILE *ids = fopen(idfile, "w");
  if (ids == NULL) {
    bench_die("cannot write the id file", NULL);
  }
  bench_enqueue_noop(url, SEED_TASKS, 1000, ids);
  fclose(ids);
  char first_id[AIN_UUID_LEN + 1];
  ids = fopen(idfile, "r");
  if (ids == NULL || fscanf(ids, "%36s", first_id) != 1) {
    bench_die("cannot read the id file", NULL);
  }
  fclose(ids);
  ain_run_opts_t ro = {.until_idle = 1};
  ain_run_summary_t sum;
  ain_err_t err;
  if (ain_engine_run(&cfg, &ro, &sum, &err) != 0) {
    bench_die("engine (seed)", &err);
  }

  ain_api_t *api = NULL;
  if (ain_api_start(&cfg, &api, &err) != 0) {
    bench_die("api", &err);
  }
  int port = ain_api_port(api);
  char *token = NULL;
  if (ain_api_token_issue(&cfg, "bench", "operator", 3600, &token, &err) != 0) {
    bench_die("token", &err);
  }
  setenv("AIN_WRK_TOKEN", token, 1);
  setenv("AIN_WRK_IDS", idfile, 1);

  /* 1. and 2., interleaved: the ceiling on this box swings by a third from one run to the next
   * (the scheduler's placement of wrk and the server's threads on 2 cores), so one ceiling run
   * against one GET run measures the swing. REPS rounds in alternating order; the bar is the
   * median of the rounds' ratios. */
  wrk_result_t ceil_r[16], get_r[16], post;
  double get_ratios[16];
  int rounds = reps > 16 ? 16 : reps;
  for (int i = 0; i < rounds; i++) {
    if (i % 2 == 0) {
      run_wrk("healthz", port, conns, &ceil_r[i]);
    }
    run_wrk("get", port, conns, &get_r[i]);
    if (i % 2 == 1) {
      run_wrk("healthz", port, conns, &ceil_r[i]);
    }
    printf("round %d:\n", i + 1);
    print_wrk("  ceiling GET /healthz (server loop only)", &ceil_r[i]);
    print_wrk("  GET /v1/tasks/{id} (token, worker, store read)", &get_r[i]);
    get_ratios[i] = get_r[i].rps / ceil_r[i].rps;
    printf("  GET / ceiling = %.2f\n", get_ratios[i]);
  }
  double get_ratio = median(get_ratios, rounds);
  double ceil_rps[16], get_rps[16];
  for (int i = 0; i < rounds; i++) {
    ceil_rps[i] = ceil_r[i].rps, get_rps[i] = get_r[i].rps;
  }
  printf("GET / ceiling, median of %d rounds = %.2f\n", rounds, get_ratio);

  /* 3. the fixed-rate latency with nothing else running */
  char reqbuf[2048];
  bench_rate_t rc;
  rate_result_t idle_lat, load_lat[16];
  rate_start(&rc, port, token, reqbuf, sizeof reqbuf, first_id);
  sleep((unsigned)(secs < 3 ? secs : 3));
  rate_finish(&rc, &idle_lat);
  print_rate("GET /v1/tasks/{id} at 1,000/s, engine idle", &idle_lat);

  /* 4. drains, alternating idle API / API at 1,000 GETs/s */
  if (reps > 16) {
    reps = 16;
  }
  double idle_rate[16], load_rate[16];
  double worst_p99 = 0;
  drain(&cfg, n / 10 > 100 ? n / 10 : 100); /* warm-up, not counted: the first drain is slower */
  for (int i = 0; i < reps; i++) {
    /* the order alternates, so neither side always runs on a fresher file or a quieter box */
    if (i % 2 == 0) {
      idle_rate[i] = drain(&cfg, n);
    }
    rate_start(&rc, port, token, reqbuf, sizeof reqbuf, first_id);
    load_rate[i] = drain(&cfg, n);
    rate_finish(&rc, &load_lat[i]);
    if (i % 2 == 1) {
      idle_rate[i] = drain(&cfg, n);
    }
    printf("drain %d: API idle %.0f tasks/s, API at 1,000 GETs/s %.0f tasks/s (ratio %.2f); GET "
           "p99 during the drain %.2f ms\n",
           i + 1, idle_rate[i], load_rate[i], load_rate[i] / idle_rate[i], load_lat[i].p99);
    print_rate("  GET /v1/tasks/{id} at 1,000/s during the drain", &load_lat[i]);
    worst_p99 = load_lat[i].p99 > worst_p99 ? load_lat[i].p99 : worst_p99;
  }
  double idle_med = median(idle_rate, reps), load_med = median(load_rate, reps);
  double drain_ratio = load_med / idle_med;

  /* 5. POST: every request 100 new tasks; they stay queued (the store is thrown away after). */
  int post_conns = conns < 4 ? conns : 4;
  run_wrk("post", port, post_conns, &post);
  print_wrk("POST /v1/tasks, 100 new tasks per request", &post);
  double tasks_s = post.rps * 100;
  /* the reference: the same store, the same 100-task transactions, straight through the store
   * API in this process (no HTTP, no validation, no token) */
  double ref = bench_enqueue_noop(url, n < 20000 ? n : 20000, 100, NULL);
  printf("POST: %.0f tasks/s; reference, store API enqueue in batches of 100: %.0f tasks/s "
         "(ratio %.2f)\n",
         tasks_s, ref, tasks_s / ref);

  printf("\nbars (issue 10):\n");
  printf("  GET /v1/tasks/{id} >= 0.5 x ceiling: median ratio of %d rounds %.2f (medians %.0f / "
         "%.0f requests/s) -> %s\n",
         rounds, get_ratio, median(get_rps, rounds), median(ceil_rps, rounds),
         met(get_ratio >= 0.5));
  printf("  POST /v1/tasks >= 20,000 tasks/s (SQLite): %.0f -> %s\n", tasks_s,
         met(tasks_s >= 20000 && post.non2xx == 0 && post.errors == 0));
  printf("  p99 <= 5 ms at 1,000 requests/s while the engine drains: worst of %d drains %.2f ms "
         "-> %s\n",
         reps, worst_p99, met(worst_p99 <= 5.0));
  printf("  drain with the API at 1,000 GETs/s >= 0.9 x drain with the API idle: median %.0f / "
         "%.0f = %.2f -> %s\n",
         load_med, idle_med, drain_ratio, met(drain_ratio >= 0.9));
  fflush(stdout);

  int bad = post.non2xx + post.errors > 0;
  for (int i = 0; i < rounds; i++) {
    bad |= get_r[i].non2xx + get_r[i].errors + ceil_r[i].non2xx + ceil_r[i].errors > 0;
  }
  for (int i = 0; i < reps; i++) {
    bad |= load_lat[i].non200 > 0 || load_lat[i].n == 0;
  }
  bad |= idle_lat.non200 > 0 || idle_lat.n == 0;
  if (bad) {
    fprintf(stderr, "bench_api: some requests failed (see the counts above)\n");
  }
  free(token);
  if (ain_api_stop(api, 5000) == 0) {
    ain_api_free(api);
  }
  ain_config_free(&cfg);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) != 0 || bad;
}
