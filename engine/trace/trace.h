/* OpenTelemetry traces (DESIGN §9): W3C trace context, spans, and their export as OTLP/HTTP JSON.
 *
 * Context. A task message carries a `traceparent` ("00-<trace id>-<parent span id>-<flags>",
 * W3C Trace Context level 1). A step parses it (context.c), takes a new span id of its own under
 * the same trace id, and hands "00-<trace>-<its span>-01" to the work it creates (DAG steps,
 * ain.emit), so one trend's whole life is one trace. Ids are made whether or not export is on:
 * log lines carry them either way.
 *
 * Export (export.c). ain_trace_submit() is called by shards and the main loop: it takes one short
 * mutex to append to a bounded queue and never waits for the network; a full queue drops the
 * span and counts it (ain_trace_spans_dropped_total{reason="queue_full"}). A thread of its own
 * takes batches off the queue and POSTs them with libcurl (easy API, on that thread only) to
 * {endpoint}/v1/traces as the protobuf-JSON mapping of ExportTraceServiceRequest (otlp.c). A
 * failed request drops its batch (counted, reason "export_failed"); there is no retry, so a slow
 * or dead collector costs at most the queue bound in memory. ain_trace_stop() flushes what is
 * queued for at most tracing.shutdown_timeout_ms.
 *
 * Relies on: core/ (errors, log), config/config.h (ain_tracing_config_t), obs/ (the counters),
 * libuv (thread, mutex, condition), libcurl, cJSON. */
#ifndef AIN_TRACE_TRACE_H
#define AIN_TRACE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/err.h"

#define AIN_TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

/* One span's identity: its trace, its own id and the flags it propagates. */
typedef struct {
  uint8_t trace_id[16];
  uint8_t span_id[8];
  uint8_t flags; /* bit 0: sampled */
} ain_trace_ctx_t;

/* Parses a traceparent header value. 0, or AIN_EINVAL with err naming what is wrong: the length
 * (55 for version 00), the version (only 00 is understood; ff is forbidden by the spec), a
 * non-hex or upper-case character, a missing dash, an all-zero trace id or parent id. A version
 * above 00 with a longer value is accepted as the spec asks (its first 55 bytes are read) when
 * the byte after them is a dash. */
int ain_trace_parse(const char *s, ain_trace_ctx_t *out, ain_err_t *err);
/* Writes "00-<trace>-<span>-<flags>" and a NUL into out (AIN_TRACEPARENT_LEN + 1 bytes). */
void ain_trace_format(const ain_trace_ctx_t *c, char *out);
/* A new span: under parent's trace id when parent is not NULL, else under a new trace id; a new
 * non-zero span id; sampled. Thread-safe (a per-thread generator seeded from getrandom). */
void ain_trace_child(const ain_trace_ctx_t *parent, ain_trace_ctx_t *out);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void ain_trace_hex(const uint8_t *b, size_t n, char *out);

/* ---- spans ------------------------------------------------------------------------------------ */

/* OTLP enums, as their protobuf numbers (the JSON mapping writes enums as integers). */
enum { AIN_SPAN_KIND_INTERNAL = 1, AIN_SPAN_KIND_SERVER = 2, AIN_SPAN_KIND_CONSUMER = 5 };
enum { AIN_SPAN_STATUS_UNSET = 0, AIN_SPAN_STATUS_OK = 1, AIN_SPAN_STATUS_ERROR = 2 };

typedef struct {
  char *key;
  char *str;  /* string value, or NULL for an integer */
  int64_t i;
} ain_span_attr_t;

/* A finished (or finishing) span. Built by its owner, then handed to ain_trace_submit. */
typedef struct ain_span {
  ain_trace_ctx_t ctx;
  uint8_t parent_span_id[8];
  int has_parent;
  char *name;
  int kind;
  int64_t start_unix_ns, end_unix_ns;
  int status;       /* AIN_SPAN_STATUS_* */
  char *status_msg; /* NULL unless status is ERROR */
  ain_span_attr_t *attrs;
  size_t nattrs, cap_attrs;
} ain_span_t;

/* A span of ctx (its trace and span ids) whose parent span is parent_span_id (NULL: a root),
 * starting at start_unix_ns. Caller frees with ain_span_free, or gives it to ain_trace_submit. */
ain_span_t *ain_span_new(const ain_trace_ctx_t *ctx, const uint8_t *parent_span_id,
                         const char *name, int kind, int64_t start_unix_ns);
/* Attributes (copied). A NULL string value is skipped. */
void ain_span_attr_str(ain_span_t *s, const char *key, const char *value);
void ain_span_attr_int(ain_span_t *s, const char *key, int64_t value);
/* Status ERROR with a description (copied, cut to 1 KiB), or OK with msg NULL. */
void ain_span_set_status(ain_span_t *s, int status, const char *msg);
void ain_span_free(ain_span_t *s);
/* The wall clock in ns since the epoch (span timestamps). */
int64_t ain_trace_now_ns(void);

/* The OTLP/HTTP JSON body (ExportTraceServiceRequest) of n spans from one resource. Caller frees.
 * Ids are lower-case hex, enums integers, times and int64 attribute values decimal strings, as
 * the OTLP JSON encoding asks. */
typedef struct {
  const char *service_name; /* service.name */
  const char *instance;     /* service.instance.id (node/pid), may be NULL */
  const char *version;      /* service.version, may be NULL */
} ain_trace_resource_t;
char *ain_trace_otlp_json(ain_span_t *const *spans, size_t n, const ain_trace_resource_t *res);

/* ---- the exporter ---------------------------------------------------------------------------- */

typedef struct ain_trace ain_trace_t;

typedef struct {
  int64_t queued;          /* spans waiting now */
  int64_t exported;        /* spans the collector accepted (2xx) */
  int64_t dropped;         /* spans lost: queue full, failed request, shutdown deadline */
  int64_t failed_requests; /* export requests that failed (transport error or non-2xx) */
  int64_t requests;        /* export requests sent */
} ain_trace_stats_t;

/* Starts the exporter thread for cfg (enabled with an endpoint; config.c checked the rest).
 * instance names this process in the resource (node/pid). 0, or an AIN_E* code + err. */
int ain_trace_start(const ain_tracing_config_t *cfg, const char *instance, ain_trace_t **out,
                    ain_err_t *err);
/* Queues a finished span for export; takes ownership. Never blocks on the network: a full queue
 * drops the span (counted). t NULL (tracing off): the span is freed. Any thread. */
void ain_trace_submit(ain_trace_t *t, ain_span_t *span);
/* Counters so far (tests, benchmarks). Any thread. */
void ain_trace_stats(ain_trace_t *t, ain_trace_stats_t *out);
/* Sends what is queued, waiting at most cfg->shutdown_timeout_ms (a request in flight then is
 * aborted, within libcurl's progress-callback period of up to a second; the rest is dropped and
 * counted), joins the thread and frees t. NULL is a no-op. Call after every producer stopped. */
void ain_trace_stop(ain_trace_t *t);

#endif
