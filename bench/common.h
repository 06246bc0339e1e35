/* Shared by the queue benchmarks (bench/queue.c on SQLite, bench/pgqueue.c on PostgreSQL, and
 * bench/api.c's drains): store handles on a private loop, no-op tasks, the engine's config, and
 * the idle-engine enqueue->start latency run. */
#ifndef AIN_BENCH_COMMON_H
#define AIN_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "config/config.h"
#include "store/store.h"

/* Name printed in error messages ("bench_queue"). */
extern const char *bench_name;

double bench_secs_since(uint64_t t0_ns);
/* Prints "NAME: what: detail" and exits 1. */
void bench_die(const char *what, const ain_err_t *err) __attribute__((noreturn));
/* Opens url on loop (synchronous=FULL for SQLite) and applies the migrations; exits on error. */
ain_store_t *bench_open_store(uv_loop_t *loop, const char *url);
void bench_close_store(ain_store_t *s, uv_loop_t *loop);
/* A no-op task row for `handler`; strings are borrowed (not freed by anyone). */
void bench_fill_task(ain_task_t *t, const char *handler, const char *payload);
/* Enqueues n no-op Lua tasks (lua:bench_noop.run) through the store API in batches of `batch`
 * and returns tasks/s; writes each id on a line of ids when it is not NULL. */
double bench_enqueue_noop(const char *url, int n, int batch, FILE *ids);
/* The engine's config for a queue benchmark: store url, bench/scripts, no planner, log level warn,
 * shards (0 = the default), AIN_BENCH_CLAIM_BATCH if set. Caller frees with ain_config_free. */
void bench_engine_config(ain_config_t *cfg, const char *url, int shards);
int bench_cmp_double(const void *a, const void *b);
/* Runs the engine (cfg) idle while a producer thread enqueues 500 tasks one by one, 5 ms apart,
 * through its own handle on url; each step (lua:bench_noop.stamp) reports how long after its
 * enqueue it started. Returns p50/p99/max in ms. */
void bench_idle_latency(const ain_config_t *cfg, const char *url, double *p50, double *p99,
                        double *max);

#endif
