/* A constant-rate HTTP/1.1 load client for bench/api (Debian's wrk has no wrk2 `-R`): requests are
 * due at fixed times (start + k / rate) and sent over a pool of keep-alive connections; each
 * latency is measured from the time the request was DUE, not from when a free connection let it
 * go out, so a stalled server is charged for the requests that queued behind the stall (wrk2's
 * "coordinated omission" correction).
 * Linux only (epoll, timerfd); one thread of its own. Relies on: libuv (threads). */
#ifndef AIN_BENCH_RATE_H
#define AIN_BENCH_RATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct {
  int port;            /* on 127.0.0.1 */
  const char *request; /* the whole request text (GET with its headers, keep-alive) */
  double rate;         /* requests per second */
  int conns;           /* keep-alive connections in the pool */
} bench_rate_opts_t;

typedef struct {
  bench_rate_opts_t o;
  uv_thread_t thread;
  atomic_int stop;
  /* results, valid after bench_rate_stop */
  double *lat_ms; /* one per answered request */
  size_t n, cap;
  long long errors;  /* connection closed or refused, unparsable response */
  long long non200;  /* answered with another status */
  long long late;    /* requests still due when stopped (not sent) */
  double secs;       /* from the first due time to the stop */
} bench_rate_t;

/* Opens the connections and starts sending. Returns 0, or -1 with a message on stderr. */
int bench_rate_start(bench_rate_t *r, const bench_rate_opts_t *o);
/* Stops, joins the thread and fills the results (caller frees r->lat_ms with bench_rate_free). */
void bench_rate_stop(bench_rate_t *r);
/* Latency percentile p (0..100) in ms over what was answered; 0 without samples. Sorts lat_ms. */
double bench_rate_pct(bench_rate_t *r, double p);
void bench_rate_free(bench_rate_t *r);

#endif
