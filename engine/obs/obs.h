/* Process metrics: one declarative catalog of counters, gauges, histograms and info metrics
 * (obs/catalog.c, listed in docs/metrics.md), their series by label values, and the Prometheus
 * text exposition (format 0.0.4) of all of them.
 *
 * Hot path. A shard, the main loop or a worker updates a series with atomics only: the series of a
 * family live in a fixed open-addressing table whose slots are filled once by compare-and-swap,
 * and values are atomic integers (or doubles stored as bits, added with a CAS loop). No lock is
 * taken, nothing is freed while the process runs. Label sets are bounded: a family holds at most
 * AIN_OBS_MAX_SERIES series; a value beyond that lands in the series whose labels are all
 * "other" (counted in ain_metrics_series_overflow_total), and label values are cut to
 * AIN_OBS_MAX_VALUE bytes. Nothing unbounded (a task id) is ever passed as a label value.
 *
 * Counters start at zero in each process, as Prometheus expects (rate() handles the reset).
 * Store-derived gauges (queue depth, review backlog) are not kept here: the API's scrape reads
 * them from the store and writes them with ain_obs_write_header / ain_obs_write_sample.
 *
 * Relies on: C11 atomics, libuv (the mutex of info metrics), core/. */
#ifndef AIN_OBS_OBS_H
#define AIN_OBS_OBS_H

#include <stddef.h>
#include <stdint.h>

#define AIN_OBS_MAX_LABELS 3
#define AIN_OBS_MAX_SERIES 128 /* per family (slots of its table; the overflow series is extra) */
#define AIN_OBS_MAX_VALUE 64   /* bytes of one label value */
#define AIN_OBS_MAX_BUCKETS 16

typedef enum { AIN_OBS_COUNTER, AIN_OBS_GAUGE, AIN_OBS_HISTOGRAM, AIN_OBS_INFO } ain_obs_kind_t;

/* Every metric of the process, in exposition order. The catalog (catalog.c) gives each its name,
 * help, kind, label names and buckets. */
typedef enum {
  AIN_M_TASKS_CLAIMED,       /* ain_tasks_claimed_total{type} */
  AIN_M_TASKS_FINISHED,      /* ain_tasks_finished_total{type,status} */
  AIN_M_TASK_RETRIES,        /* ain_task_retries_total{type} */
  AIN_M_TASK_DEAD_LETTERS,   /* ain_task_dead_letters_total{type} */
  AIN_M_STEP_DURATION,       /* ain_step_duration_seconds{type} */
  AIN_M_QUEUE_LATENCY,       /* ain_task_queue_latency_seconds{type} */
  AIN_M_LEASE_REAPS,         /* ain_lease_reaps_total{result} */
  AIN_M_FENCED,              /* ain_fenced_results_total{op} */
  AIN_M_PUBLISHES,           /* ain_publishes_total{channel,result} */
  AIN_M_POLICY_RELOADS,      /* ain_policy_reloads_total{module,result} */
  AIN_M_POLICY_VERSION,      /* ain_policy_version_info{module,sha} */
  AIN_M_LUA_BUDGET_STOPS,    /* ain_lua_budget_stops_total{kind} */
  AIN_M_RENDER_SLOTS_BUSY,   /* ain_render_slots_busy */
  AIN_M_RENDER_SLOTS_QUEUED, /* ain_render_slots_queued */
  AIN_M_STORE_TXN,           /* ain_store_request_duration_seconds{backend,op} */
  AIN_M_HEARTBEATS,          /* ain_node_heartbeats_total{result} */
  AIN_M_NODES_DECLARED_DEAD, /* ain_nodes_declared_dead_total */
  AIN_M_PUBLISH_GUARD,       /* ain_publishers_backlog_actions_total{action} */
  AIN_M_STEPS_RUNNING,       /* ain_steps_running */
  AIN_M_STEPS_CAPACITY,      /* ain_steps_capacity */
  AIN_M_SOURCE_FETCHES,      /* ain_source_fetches_total{source,result} */
  AIN_M_SOURCE_RECORDS,      /* ain_source_records_total{source} */
  AIN_M_SOURCE_UP,           /* ain_source_up{source} */
  AIN_M_OPENCLAW_CONNECTED,  /* ain_openclaw_connected */
  AIN_M_OPENCLAW_CONNECTS,   /* ain_openclaw_connect_attempts_total{result} */
  AIN_M_TRACE_SPANS_EXPORTED,  /* ain_trace_spans_exported_total */
  AIN_M_TRACE_SPANS_DROPPED,   /* ain_trace_spans_dropped_total{reason} */
  AIN_M_TRACE_EXPORT_FAILURES, /* ain_trace_export_failures_total */
  AIN_M_TRACE_QUEUE,           /* ain_trace_queue_spans */
  AIN_M_SERIES_OVERFLOW,     /* ain_metrics_series_overflow_total{metric} */
  AIN_M_LLM_REQUESTS,        /* ain_llm_requests_total{result} */
  AIN_M_LLM_TOKENS,          /* ain_llm_tokens_total{kind} */
  AIN_M_LLM_COST,            /* ain_llm_cost_total */
  AIN_M_OBJSTORE_TIERED,     /* ain_objstore_tier_objects_total{storage_class,result} */
  AIN_M_PUBLISH_TOKENS,      /* ain_publish_tokens_total{channel,result} */
  AIN_M_PUBLISH_QUOTA_LEFT,  /* ain_publish_quota_remaining_units{channel} */
  AIN_M_PUBLISH_QUOTA_PARKS, /* ain_publish_quota_parks_total{channel,reason} */
  AIN_M_POST_TAKEDOWNS,      /* ain_post_takedowns_total{channel,method} */
  AIN_M_POST_METRICS_PULLS,  /* ain_post_metrics_pulls_total{channel,result} */
  AIN_M_PUBLISH_COMPENSATIONS, /* ain_publish_compensations_total{action} */
  AIN_M_COUNT
} ain_obs_metric_t;

typedef struct {
  const char *name; /* Prometheus name: ain_ prefix, base units, _total on counters */
  const char *help;
  ain_obs_kind_t kind;
  int nlabels;
  const char *labels[AIN_OBS_MAX_LABELS];
  int nbuckets; /* histograms: upper bounds, ascending; +Inf is implied */
  double buckets[AIN_OBS_MAX_BUCKETS];
} ain_obs_def_t;

/* The catalog entry of m. */
const ain_obs_def_t *ain_obs_def(ain_obs_metric_t m);

/* Updates. values holds the family's nlabels label values in its order (NULL for a family without
 * labels; a NULL value is written as ""). Safe from any thread, lock-free. */
void ain_obs_add(ain_obs_metric_t m, const char *const *values, double v); /* counter, gauge */
void ain_obs_inc(ain_obs_metric_t m, const char *const *values);           /* add 1 */
void ain_obs_set(ain_obs_metric_t m, const char *const *values, double v); /* gauge */
void ain_obs_observe(ain_obs_metric_t m, const char *const *values, double v); /* histogram */
/* Info metric: the series whose first label is values[0] now carries values[1..] (a module's new
 * sha): the old ones are gone from the exposition. Takes a mutex (rare: policy loads). */
void ain_obs_info_set(ain_obs_metric_t m, const char *const *values);

/* Reads a series' value (counter, gauge) or count (histogram, info: 1 when present); 0 when the
 * series does not exist. Tests and benchmarks. */
double ain_obs_get(ain_obs_metric_t m, const char *const *values);

/* Metrics on or off for the process (metrics.enabled; bench/queue's comparison). Off: updates
 * return at once. On by default. */
void ain_obs_enable(int on);

/* ---- exposition ------------------------------------------------------------------------------ */

typedef struct {
  char *p;
  size_t n, cap;
  int oom; /* an allocation failed: the text is incomplete */
} ain_obs_buf_t;

void ain_obs_buf_printf(ain_obs_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ain_obs_buf_free(ain_obs_buf_t *b);

/* Appends every family of the catalog to b (HELP, TYPE, then its series). */
void ain_obs_expose(ain_obs_buf_t *b);
/* Writers for metrics kept elsewhere (the store's gauges): "# HELP name help" (escaped) and
 * "# TYPE name type"; then samples `name{k="v",...} value` with label values escaped (\\, \", \n).
 */
void ain_obs_write_header(ain_obs_buf_t *b, const char *name, const char *type, const char *help);
void ain_obs_write_sample(ain_obs_buf_t *b, const char *name, int nlabels,
                          const char *const *keys, const char *const *values, double v);

/* Drops every series (tests only: not safe while other threads update). */
void ain_obs_reset(void);

#endif
