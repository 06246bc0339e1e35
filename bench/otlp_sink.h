/* A live OTLP/HTTP JSON receiver on loopback for the traced benchmarks (bench/otlp_sink.c): it
 * accepts, reads each export request, counts its spans and answers 200. */
#ifndef AIN_BENCH_OTLP_SINK_H
#define AIN_BENCH_OTLP_SINK_H

typedef struct bench_otlp_sink bench_otlp_sink_t;

/* Listens on 127.0.0.1 (a free port, written to *port) on a thread of its own; exits on error. */
bench_otlp_sink_t *bench_otlp_sink_start(int *port);
long long bench_otlp_sink_spans(bench_otlp_sink_t *s);    /* spans received so far */
long long bench_otlp_sink_requests(bench_otlp_sink_t *s); /* requests answered so far */
void bench_otlp_sink_stop(bench_otlp_sink_t *s);

#endif
