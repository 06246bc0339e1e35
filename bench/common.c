/* Helpers shared by the queue benchmarks; see common.h. */
#include "common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "sched/engine.h"

double bench_secs_since(uint64_t t0) {
  return (double)(ain_mono_ns() - t0) / 1e9;
}

void bench_die(const char *what, const ain_err_t *err) {
  fprintf(stderr, "%s: %s: %s\n", bench_name, what, err ? err->msg : "");
  exit(1);
}

static void closed_cb(void *data) {
  *(int *)data = 1;
}

void bench_close_store(ain_store_t *s, uv_loop_t *loop) {
  int closed = 0;
  ain_store_close(s, closed_cb, &closed);
  uv_run(loop, UV_RUN_DEFAULT);
}

ain_store_t *bench_open_store(uv_loop_t *loop, const char *url) {
  ain_store_config_t sc = {.url = url, .sql_dir = AIN_SOURCE_DIR "/sql", .synchronous_full = 1};
  ain_store_t *s = NULL;
  ain_err_t err;
  if (ain_store_open(&sc, loop, &s, &err) != 0) {
    bench_die("open", &err);
  }
  ain_store_req_t req;
  ain_store_req_migrate(&req);
  if (ain_store_wait(s, &req) != 0) {
    bench_die("migrate", &req.err);
  }
  ain_store_req_cleanup(&req);
  return s;
}

void bench_fill_task(ain_task_t *t, const char *handler, const char *payload) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = (char *)"noop_lua";
  t->handler = (char *)handler;
  t->persona_id = (char *)"bench";
  t->payload = (char *)payload;
  t->max_attempts = 3;
}

double bench_enqueue_noop(const char *url, int n, int batch, FILE *ids) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, url);
  ain_task_t *tasks = calloc((size_t)batch, sizeof *tasks);
  if (tasks == NULL) {
    bench_die("out of memory", NULL);
  }
  uint64_t t0 = ain_mono_ns();
  for (int done = 0; done < n;) {
    int k = n - done < batch ? n - done : batch;
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
    for (int i = 0; ids != NULL && i < k; i++) {
      fprintf(ids, "%s\n", tasks[i].id);
    }
    done += k;
  }
  double rate = n / bench_secs_since(t0);
  free(tasks);
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
  return rate;
}

void bench_engine_config(ain_config_t *cfg, const char *url, int shards) {
  ain_config_defaults(cfg);
  free(cfg->store.url);
  cfg->store.url = ain_strdup(url);
  free(cfg->scripts_dir);
  cfg->scripts_dir = ain_strdup(AIN_SOURCE_DIR "/bench/scripts");
  free(cfg->log_level);
  cfg->log_level = ain_strdup("warn");
  if (shards > 0) {
    cfg->shards = shards;
  }
  free(cfg->trends.source); /* no planner: the benchmark enqueues its own tasks */
  cfg->trends.source = ain_strdup("");
  cfg->queue.poll_ms = 20;
  const char *cb = getenv("AIN_BENCH_CLAIM_BATCH");
  if (cb != NULL && atoi(cb) > 0) {
    cfg->queue.claim_batch = atoi(cb);
  }
}

int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

enum { LAT_N = 500 };

typedef struct {
  const char *url;
  char ids[LAT_N][AIN_UUID_LEN + 1];
} producer_t;

static void producer(void *arg) {
  producer_t *p = arg;
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, p->url);
  usleep(500000); /* let the engine go idle */
  for (int i = 0; i < LAT_N; i++) {
    char payload[64];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(payload, sizeof payload, "{\"t_us\":%.0f}",
             (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3);
    ain_task_t t;
    bench_fill_task(&t, "lua:bench_noop.stamp", payload);
    snprintf(p->ids[i], sizeof p->ids[i], "%s", t.id);
    ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
    ain_store_req_t req;
    ain_store_req_enqueue(&req, &b);
    req.actor = "bench";
    if (ain_store_wait(s, &req) != 0) {
      bench_die("enqueue", &req.err);
    }
    ain_store_req_cleanup(&req);
    usleep(5000);
  }
  usleep(300000);
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
  kill(getpid(), SIGTERM); /* the engine stops gracefully */
}

void bench_idle_latency(const ain_config_t *cfg, const char *url, double *p50, double *p99,
                        double *max) {
  producer_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    bench_die("out of memory", NULL);
  }
  p->url = url;
  uv_thread_t th;
  uv_thread_create(&th, producer, p);
  ain_run_opts_t o = {0};
  ain_run_summary_t sum;
  ain_err_t err;
  if (ain_engine_run(cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  uv_thread_join(&th);
  /* Each step's result carries the latency it measured. */
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_store_t *s = bench_open_store(&loop, url);
  double lat[LAT_N];
  int k = 0;
  for (int i = 0; i < LAT_N; i++) {
    ain_store_req_t req;
    ain_store_req_get_task(&req, p->ids[i]);
    if (ain_store_wait(s, &req) == 0 && req.u.get_task.task.result) {
      const char *r = strstr(req.u.get_task.task.result, "\"lat_us\":");
      if (r) {
        lat[k++] = atof(r + 9) / 1000.0;
      }
    }
    ain_store_req_cleanup(&req);
  }
  bench_close_store(s, &loop);
  uv_loop_close(&loop);
  free(p);
  if (k < LAT_N) {
    fprintf(stderr, "%s: only %d of %d latency samples\n", bench_name, k, LAT_N);
    exit(1);
  }
  qsort(lat, (size_t)k, sizeof lat[0], bench_cmp_double);
  *p50 = lat[k / 2];
  *p99 = lat[(k * 99) / 100];
  *max = lat[k - 1];
}
