/* bench/queue: the durable queue's throughput and latency on SQLite, against references measured in
 * the same run.
 *   1. reference: raw SQLite (same schema), batches of 100 claims + 100 completions, one audit row
 *      per transition, WAL, synchronous=FULL: the ceiling the engine's overhead is measured against.
 *   2. enqueue N no-op tasks through the store API (batches of 1,000).
 *   3. drain them through the engine: every claim and completion committed, each task a Lua step.
 *   4. enqueue->start latency with an idle engine: 500 tasks enqueued one by one, 5 ms apart.
 *   5. the cost of one Lua step call (a no-op policy function through the Lua host).
 * Usage: bench_queue [N] [SHARDS]   (defaults 100000, number of cores). Prints one line per figure.
 *
 * Traced mode (issue 11): bench_queue --traced [N [ROUNDS]] (defaults 100000, 5) drains N no-op
 * Lua tasks with metrics and tracing off, then with both on, exporting every step's span as
 * OTLP/HTTP JSON to a live receiver on loopback (bench/otlp_sink.c, or $AIN_BENCH_OTLP, a
 * collector's base URL), alternating rounds on fresh stores in the same run. The figure is the
 * ratio of the median rates (bar: >= 0.95; exit 1 when missed); every span must reach the
 * receiver. --traced --short: 2,000 tasks, one round, the bar printed but not enforced (the
 * suite's form). */
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "lua/host.h"
#include "sched/engine.h"
#include "store/store.h"

#include "common.h"
#include "obs/obs.h"
#include "otlp_sink.h"

const char *bench_name = "bench_queue";

static char tmpdir[256];

/* ---- 1. raw SQLite reference ------------------------------------------------------------------ */

static void exec_sql(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "bench_queue: %s: %s\n", sql, msg);
    exit(1);
  }
}

static double raw_sqlite_reference(int n) {
  char path[512];
  snprintf(path, sizeof path, "%s/raw.db", tmpdir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  char url[600];
  snprintf(url, sizeof url, "sqlite:%s", path);
  bench_close_store(bench_open_store(&loop, url), &loop); /* the engine's own schema and indexes */
  uv_loop_close(&loop);
  sqlite3 *db;
  sqlite3_open(path, &db);
  exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  exec_sql(db, "BEGIN");
  sqlite3_stmt *ins;
  sqlite3_prepare_v2(db,
                     "INSERT INTO tasks(id,type,handler,payload,status,priority,attempts,"
                     "max_attempts,deps_pending,timeout_ms,run_at,state_version,created_at,"
                     "updated_at) VALUES(?1,'noop','noop','{}','ready',0,0,3,0,0,0,0,0,0)",
                     -1, &ins, NULL);
  for (int i = 0; i < n; i++) {
    char id[40];
    ain_uuid7(id);
    sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  exec_sql(db, "COMMIT");
  sqlite3_stmt *claim, *done, *audit;
  sqlite3_prepare_v2(db,
                     "UPDATE tasks SET status='running', lease_owner='raw', lease_until=?1, "
                     "attempts=attempts+1, state_version=state_version+1 WHERE id IN (SELECT id "
                     "FROM tasks WHERE status='ready' AND run_at<=?1 ORDER BY priority DESC, "
                     "run_at, id LIMIT 100) RETURNING id, state_version",
                     -1, &claim, NULL);
  sqlite3_prepare_v2(db,
                     "UPDATE tasks SET status='succeeded', result='{}', lease_owner=NULL, "
                     "state_version=state_version+1 WHERE id=?1 AND state_version=?2 AND "
                     "status='running'",
                     -1, &done, NULL);
  sqlite3_prepare_v2(db,
                     "INSERT INTO audit_log(task_id,actor,from_status,to_status,state_version,ts) "
                     "VALUES(?1,'raw',?2,?3,?4,?5)",
                     -1, &audit, NULL);
  uint64_t t0 = ain_mono_ns();
  int drained = 0;
  char ids[100][40];
  int64_t vers[100];
  for (;;) {
    int64_t now = ain_now_ms();
    exec_sql(db, "BEGIN IMMEDIATE");
    sqlite3_bind_int64(claim, 1, now);
    int k = 0;
    while (sqlite3_step(claim) == SQLITE_ROW) {
      snprintf(ids[k], sizeof ids[k], "%s", sqlite3_column_text(claim, 0));
      vers[k++] = sqlite3_column_int64(claim, 1);
    }
    sqlite3_reset(claim);
    for (int i = 0; i < k; i++) {
      sqlite3_bind_text(audit, 1, ids[i], -1, SQLITE_STATIC);
      sqlite3_bind_text(audit, 2, "ready", -1, SQLITE_STATIC);
      sqlite3_bind_text(audit, 3, "running", -1, SQLITE_STATIC);
      sqlite3_bind_int64(audit, 4, vers[i]);
      sqlite3_bind_int64(audit, 5, now);
      sqlite3_step(audit);
      sqlite3_reset(audit);
    }
    exec_sql(db, "COMMIT");
    if (k == 0) {
      break;
    }
    exec_sql(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < k; i++) {
      sqlite3_bind_text(done, 1, ids[i], -1, SQLITE_STATIC);
      sqlite3_bind_int64(done, 2, vers[i]);
      sqlite3_step(done);
      sqlite3_reset(done);
      sqlite3_bind_text(audit, 1, ids[i], -1, SQLITE_STATIC);
      sqlite3_bind_text(audit, 2, "running", -1, SQLITE_STATIC);
      sqlite3_bind_text(audit, 3, "succeeded", -1, SQLITE_STATIC);
      sqlite3_bind_int64(audit, 4, vers[i] + 1);
      sqlite3_bind_int64(audit, 5, now);
      sqlite3_step(audit);
      sqlite3_reset(audit);
    }
    exec_sql(db, "COMMIT");
    drained += k;
  }
  double s = bench_secs_since(t0);
  sqlite3_finalize(claim);
  sqlite3_finalize(done);
  sqlite3_finalize(audit);
  sqlite3_close(db);
  if (drained != n) {
    fprintf(stderr, "bench_queue: raw reference drained %d of %d\n", drained, n);
    exit(1);
  }
  return n / s;
}

/* ---- 4. latency with an idle engine -------------------------------------------------------------- */


/* ---- 5. one Lua step call ---------------------------------------------------------------------------- */

static int calls_done;
static void call_cb(ain_lua_call_t *c, int status, const char *res, const char *error, void *d) {
  if (status != 0) {
    fprintf(stderr, "bench_queue: lua call failed: %s\n", error);
    exit(1);
  }
  calls_done++;
}

static double lua_call_ns(int n) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_lua_opts_t lo = {.scripts_dir = AIN_SOURCE_DIR "/bench/scripts", .name = "bench"};
  ain_lua_host_t *h;
  ain_err_t err;
  if (ain_lua_host_new(&loop, &lo, &h, &err) != 0) {
    bench_die("lua host", &err);
  }
  ain_lua_call_opts_t o = {.module = "bench_noop", .function = "run", .payload_json = "{}",
                           .ctx_json = "{\"task_id\":\"x\"}"};
  for (int i = 0; i < 1000; i++) { /* warm-up: loads the module */
    ain_lua_call(h, &o, call_cb, NULL, NULL, &err);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  uint64_t t0 = ain_mono_ns();
  for (int i = 0; i < n; i++) {
    ain_lua_call(h, &o, call_cb, NULL, NULL, &err);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  double ns = (double)(ain_mono_ns() - t0) / n;
  uv_run(&loop, UV_RUN_DEFAULT);
  ain_lua_host_free(h);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return ns;
}

/* ---- traced mode: metrics + tracing on vs off ------------------------------------------------- */

/* One drain of n no-op tasks on a fresh store, with metrics and tracing both on (exporting to
 * endpoint) or both off; tasks/s. */
static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* *cpu: the process's CPU seconds per task (every thread: shards, the exporter, the sink), the
 * steadier figure on a shared machine. */
static double traced_drain(int n, int on, int round, const char *endpoint, int shards,
                           double *cpu) {
  char url[600];
  snprintf(url, sizeof url, "sqlite:%s/traced-%d-%d.db", tmpdir, round, on);
  bench_enqueue_noop(url, n, 1000, NULL);
  ain_config_t cfg;
  bench_engine_config(&cfg, url, shards);
  cfg.metrics.enabled = on;
  cfg.tracing.enabled = on;
  if (on) {
    cfg.tracing.endpoint = ain_strdup(endpoint);
  }
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
    fprintf(stderr, "bench_queue: only %lld of %d tasks succeeded\n",
            (long long)sum.store.tasks[AIN_TASK_SUCCEEDED], n);
    exit(1);
  }
  ain_config_free(&cfg);
  return n / s;
}

static int traced_main(int argc, char **argv) {
  int short_form = argc > 2 && strcmp(argv[2], "--short") == 0;
  int n = short_form ? 2000 : argc > 2 ? atoi(argv[2]) : 100000;
  int rounds = short_form ? 1 : argc > 3 ? atoi(argv[3]) : 5;
  if (n <= 0 || rounds <= 0 || rounds > 50) {
    fprintf(stderr, "usage: bench_queue --traced [N [ROUNDS]] | --traced --short\n");
    return 2;
  }
  bench_otlp_sink_t *sink = NULL;
  char endpoint[300];
  const char *ext = getenv("AIN_BENCH_OTLP");
  if (ext != NULL && ext[0] != '\0') {
    snprintf(endpoint, sizeof endpoint, "%s", ext);
  } else {
    int port = 0;
    sink = bench_otlp_sink_start(&port);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
  }
  double load[3] = {0};
  if (getloadavg(load, 3) < 0) {
    load[0] = -1;
  }
  printf("bench/queue --traced: N=%d, %d round(s), SQLite, %ld cores, load %.2f, receiver %s\n",
         n, rounds, sysconf(_SC_NPROCESSORS_ONLN), load[0], endpoint);
  fflush(stdout);
  double off[50], on[50], coff[50], con[50];
  for (int r = 0; r < rounds; r++) {
    /* alternate the order, so a drift of the machine's load favours neither */
    int first = r % 2;
    for (int k = 0; k < 2; k++) {
      int traced = k == 0 ? first : !first;
      double cpu = 0;
      double rate = traced_drain(n, traced, r, endpoint, 0, &cpu);
      (traced ? on : off)[r] = rate;
      (traced ? con : coff)[r] = cpu;
      printf("  round %d %-6s %8.0f tasks/s, %.1f us CPU per task\n", r + 1,
             traced ? "traced" : "off", rate, cpu * 1e6);
      fflush(stdout);
    }
  }
  qsort(off, (size_t)rounds, sizeof *off, bench_cmp_double);
  qsort(on, (size_t)rounds, sizeof *on, bench_cmp_double);
  double moff = rounds % 2 ? off[rounds / 2] : (off[rounds / 2 - 1] + off[rounds / 2]) / 2;
  double mon = rounds % 2 ? on[rounds / 2] : (on[rounds / 2 - 1] + on[rounds / 2]) / 2;
  double ratio = mon / moff;
  qsort(coff, (size_t)rounds, sizeof *coff, bench_cmp_double);
  qsort(con, (size_t)rounds, sizeof *con, bench_cmp_double);
  double mcoff = rounds % 2 ? coff[rounds / 2] : (coff[rounds / 2 - 1] + coff[rounds / 2]) / 2;
  double mcon = rounds % 2 ? con[rounds / 2] : (con[rounds / 2 - 1] + con[rounds / 2]) / 2;
  double exported = ain_obs_get(AIN_M_TRACE_SPANS_EXPORTED, NULL);
  const char *reasons[] = {"queue_full", "export_failed", "shutdown"};
  double dropped = 0;
  for (int i = 0; i < 3; i++) {
    const char *v[1] = {reasons[i]};
    dropped += ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, v);
  }
  long long received = sink ? bench_otlp_sink_spans(sink) : -1;
  printf("drain, metrics+tracing on / off (median of %d): %.0f / %.0f tasks/s = %.3f (bar >= 0.95: "
         "%s)\n",
         rounds, mon, moff, ratio, ratio >= 0.95 ? "met" : "MISSED");
  printf("CPU per task, off / on (median): %.1f / %.1f us; ratio off/on %.3f\n", mcoff * 1e6,
         mcon * 1e6, mcoff / mcon);
  printf("spans: %.0f exported, %.0f dropped, %lld received by the sink in %lld request(s) "
         "(want %lld)\n",
         exported, dropped, received, sink ? bench_otlp_sink_requests(sink) : -1LL,
         (long long)n * rounds);
  if (sink != NULL) {
    bench_otlp_sink_stop(sink);
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) {
    return 1;
  }
  int all = exported == (double)n * rounds && dropped == 0 &&
            (received < 0 || received == (long long)n * rounds);
  if (!all) {
    fprintf(stderr, "bench_queue: not every span was exported\n");
    return 1;
  }
  return short_form || ratio >= 0.95 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--traced") == 0) {
    ain_log_set_level(AIN_LOG_WARN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ain-bench-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
      return 1;
    }
    return traced_main(argc, argv);
  }
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  ain_log_set_level(AIN_LOG_WARN);
  int shards = argc > 2 ? atoi(argv[2]) : 0;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/ain-bench-XXXXXX");
  if (mkdtemp(tmpdir) == NULL || n <= 0) {
    return 1;
  }
  char url[600];
  snprintf(url, sizeof url, "sqlite:%s/engine.db", tmpdir);
  printf("bench/queue: N=%d, SQLite WAL synchronous=FULL, %ld cores\n", n,
         sysconf(_SC_NPROCESSORS_ONLN));
  fflush(stdout);

  double raw = raw_sqlite_reference(n);
  printf("reference raw SQLite claim100+complete100+audit: %.0f tasks/s\n", raw);
  fflush(stdout);

  double enq = bench_enqueue_noop(url, n, 1000, NULL);
  printf("enqueue (store API, batches of 1000): %.0f tasks/s\n", enq);
  fflush(stdout);

  ain_config_t cfg;
  bench_engine_config(&cfg, url, shards);
  ain_run_opts_t o = {.until_idle = 1};
  ain_run_summary_t sum;
  ain_err_t err;
  uint64_t t0 = ain_mono_ns();
  if (ain_engine_run(&cfg, &o, &sum, &err) != 0) {
    bench_die("engine", &err);
  }
  double drain_s = bench_secs_since(t0);
  if (sum.store.tasks[AIN_TASK_SUCCEEDED] != n) {
    fprintf(stderr, "bench_queue: only %lld of %d tasks succeeded\n",
            (long long)sum.store.tasks[AIN_TASK_SUCCEEDED], n);
    return 1;
  }
  printf("engine drain (%d shards, Lua no-op steps, every claim+finish committed): %.0f tasks/s "
         "(%.2f s; ratio to raw SQLite %.2f)\n",
         cfg.shards, n / drain_s, drain_s, (n / drain_s) / raw);
  fflush(stdout);
  ain_config_free(&cfg);

  char url2[600];
  snprintf(url2, sizeof url2, "sqlite:%s/latency.db", tmpdir);
  double p50, p99, mx;
  ain_config_t lcfg;
  bench_engine_config(&lcfg, url2, shards);
  bench_idle_latency(&lcfg, url2, &p50, &p99, &mx);
  ain_config_free(&lcfg);
  printf("enqueue->start latency, idle engine, 500 tasks 5 ms apart: p50 %.2f ms, p99 %.2f ms, "
         "max %.2f ms\n",
         p50, p99, mx);
  double ns = lua_call_ns(200000);
  printf("one Lua step call (no-op policy function, JIT off, sandboxed): %.0f ns\n", ns);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : 1;
}
