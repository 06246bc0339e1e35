/* The span exporter: a bounded queue filled by any thread, emptied by one thread of its own that
 * POSTs batches to {endpoint}/v1/traces with libcurl's easy API (blocking, but only this thread
 * ever waits on the collector). Producers hold the mutex for a pointer store; the exporter holds
 * it only to move a batch of pointers out, never across the network. */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "trace/trace.h"

struct ain_trace {
  char *url;          /* {endpoint}/v1/traces */
  char *service_name; /* resource service.name */
  char *instance;     /* resource service.instance.id */
  size_t batch;
  int64_t flush_ns, timeout_ms, shutdown_ms;
  uv_mutex_t mu;
  uv_cond_t cv;
  ain_span_t **ring; /* cap slots; count of them from head, guarded by mu */
  size_t cap, head, count;
  int stopping;          /* guarded by mu */
  atomic_ullong abort_at; /* ain_mono_ns() past which a request in flight is aborted; 0 = none */
  uint64_t deadline_ns;  /* ain_mono_ns() after which the shutdown flush drops, guarded by mu */
  uv_thread_t thread;
  atomic_llong exported, dropped, failed_requests, requests;
  int failing; /* exporter thread only: the last request failed (log on change, not per batch) */
};

static size_t discard_body(char *p, size_t size, size_t n, void *data) {
  (void)p;
  (void)data;
  return size * n;
}

/* libcurl's progress callback: a request still running at the shutdown deadline is aborted, so
 * ain_trace_stop() waits at most shutdown_timeout_ms even for a collector that never answers. */
static int on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  ain_trace_t *t = data;
  uint64_t at = atomic_load(&t->abort_at);
  return at != 0 && ain_mono_ns() >= at;
}

static void count_drop(ain_trace_t *t, const char *reason, size_t n) {
  if (n == 0) {
    return;
  }
  atomic_fetch_add(&t->dropped, (long long)n);
  const char *v[1] = {reason};
  ain_obs_add(AIN_M_TRACE_SPANS_DROPPED, v, (double)n);
}

/* One export request of n spans (the exporter thread). The spans are freed here. */
static void send_batch(ain_trace_t *t, CURL *curl, ain_span_t **spans, size_t n,
                       int64_t timeout_ms) {
  ain_trace_resource_t res = {t->service_name, t->instance, AIN_VERSION};
  char *body = ain_trace_otlp_json(spans, n, &res);
  for (size_t i = 0; i < n; i++) {
    ain_span_free(spans[i]);
  }
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
  atomic_fetch_add(&t->requests, 1);
  CURLcode cc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  free(body);
  if (cc == CURLE_OK && code >= 200 && code < 300) {
    atomic_fetch_add(&t->exported, (long long)n);
    ain_obs_add(AIN_M_TRACE_SPANS_EXPORTED, NULL, (double)n);
    if (t->failing) {
      ain_log_info("tracing: %s accepts spans again", t->url);
      t->failing = 0;
    }
    return;
  }
  atomic_fetch_add(&t->failed_requests, 1);
  ain_obs_inc(AIN_M_TRACE_EXPORT_FAILURES, NULL);
  count_drop(t, "export_failed", n);
  if (!t->failing) { /* once per outage, not once per batch */
    if (cc != CURLE_OK) {
      ain_log_warn("tracing: exporting %zu span(s) to %s failed: %s (spans are dropped and "
                   "counted until it answers)",
                   n, t->url, curl_easy_strerror(cc));
    } else {
      ain_log_warn("tracing: exporting %zu span(s) to %s failed: HTTP %ld (spans are dropped and "
                   "counted until it answers)",
                   n, t->url, code);
    }
    t->failing = 1;
  }
}

static void exporter_main(void *arg) {
  ain_trace_t *t = arg;
  CURL *curl = curl_easy_init();
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
  if (curl == NULL || hdr == NULL) {
    abort();
  }
  curl_easy_setopt(curl, CURLOPT_URL, t->url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* a thread must not take SIGALRM for a timeout */
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "ain/" AIN_VERSION);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  ain_span_t **batch = calloc(t->batch, sizeof *batch);
  if (batch == NULL) {
    abort();
  }
  uv_mutex_lock(&t->mu);
  for (;;) {
    /* A full batch goes at once; a partial one after flush_interval_ms. */
    if (!t->stopping && t->count < t->batch) {
      uv_cond_timedwait(&t->cv, &t->mu, (uint64_t)t->flush_ns);
    }
    int64_t timeout = t->timeout_ms;
    if (t->stopping) {
      uint64_t now = ain_mono_ns();
      if (t->count == 0 || now >= t->deadline_ns) {
        break;
      }
      int64_t left = (int64_t)((t->deadline_ns - now) / 1000000);
      timeout = left < timeout ? left : timeout;
    }
    size_t n = t->count < t->batch ? t->count : t->batch;
    for (size_t i = 0; i < n; i++) {
      batch[i] = t->ring[(t->head + i) % t->cap];
    }
    t->head = (t->head + n) % t->cap;
    t->count -= n;
    ain_obs_set(AIN_M_TRACE_QUEUE, NULL, (double)t->count);
    uv_mutex_unlock(&t->mu);
    if (n > 0) {
      send_batch(t, curl, batch, n, timeout);
    }
    uv_mutex_lock(&t->mu);
  }
  /* The shutdown deadline passed (or nothing is left): what remains is dropped. */
  size_t left = t->count;
  for (size_t i = 0; i < left; i++) {
    ain_span_free(t->ring[(t->head + i) % t->cap]);
  }
  t->count = 0;
  uv_mutex_unlock(&t->mu);
  count_drop(t, "shutdown", left);
  if (left > 0) {
    ain_log_warn("tracing: %zu span(s) not exported by the shutdown deadline (%lld ms)", left,
                 (long long)t->shutdown_ms);
  }
  free(batch);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(curl);
}

int ain_trace_start(const ain_tracing_config_t *cfg, const char *instance, ain_trace_t **out,
                    ain_err_t *err) {
  *out = NULL;
  if (cfg->endpoint == NULL || cfg->batch_size < 1 || cfg->queue_size < cfg->batch_size) {
    return ain_err_field(err, AIN_ECONFIG, "tracing.endpoint",
                         "tracing: an endpoint and 1 <= batch_size <= queue_size are required");
  }
  ain_trace_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tracing: out of memory");
  }
  size_t n = strlen(cfg->endpoint) + sizeof "/v1/traces";
  t->url = malloc(n);
  t->ring = calloc((size_t)cfg->queue_size, sizeof *t->ring);
  if (t->url == NULL || t->ring == NULL) {
    free(t->url);
    free(t->ring);
    free(t);
    return ain_err_set(err, AIN_ENOMEM, "tracing: out of memory");
  }
  snprintf(t->url, n, "%s/v1/traces", cfg->endpoint);
  t->service_name = ain_strdup(cfg->service_name ? cfg->service_name : "ain");
  t->instance = ain_strdup(instance);
  t->batch = (size_t)cfg->batch_size;
  t->cap = (size_t)cfg->queue_size;
  t->flush_ns = cfg->flush_interval_ms * 1000000;
  t->timeout_ms = cfg->timeout_ms;
  t->shutdown_ms = cfg->shutdown_timeout_ms;
  int rc;
  if ((rc = uv_mutex_init(&t->mu)) != 0) {
    goto fail_mu;
  }
  if ((rc = uv_cond_init(&t->cv)) != 0) {
    goto fail_cv;
  }
  if ((rc = uv_thread_create(&t->thread, exporter_main, t)) != 0) {
    goto fail_thread;
  }
  *out = t;
  return 0;
fail_thread:
  uv_cond_destroy(&t->cv);
fail_cv:
  uv_mutex_destroy(&t->mu);
fail_mu:
  free(t->instance);
  free(t->service_name);
  free(t->ring);
  free(t->url);
  free(t);
  return ain_err_set(err, AIN_EIO, "tracing: starting the exporter thread: %s", uv_strerror(rc));
}

void ain_trace_submit(ain_trace_t *t, ain_span_t *span) {
  if (t == NULL) {
    ain_span_free(span);
    return;
  }
  uv_mutex_lock(&t->mu);
  if (t->count == t->cap || t->stopping) {
    uv_mutex_unlock(&t->mu);
    ain_span_free(span);
    count_drop(t, "queue_full", 1);
    return;
  }
  t->ring[(t->head + t->count) % t->cap] = span;
  t->count++;
  size_t count = t->count;
  if (count == t->batch) { /* wake the exporter once per full batch, not per span */
    uv_cond_signal(&t->cv);
  }
  uv_mutex_unlock(&t->mu);
  ain_obs_set(AIN_M_TRACE_QUEUE, NULL, (double)count);
}

void ain_trace_stats(ain_trace_t *t, ain_trace_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (t == NULL) {
    return;
  }
  uv_mutex_lock(&t->mu);
  out->queued = (int64_t)t->count;
  uv_mutex_unlock(&t->mu);
  out->exported = atomic_load(&t->exported);
  out->dropped = atomic_load(&t->dropped);
  out->failed_requests = atomic_load(&t->failed_requests);
  out->requests = atomic_load(&t->requests);
}

void ain_trace_stop(ain_trace_t *t) {
  if (t == NULL) {
    return;
  }
  uv_mutex_lock(&t->mu);
  t->stopping = 1;
  t->deadline_ns = ain_mono_ns() + (uint64_t)t->shutdown_ms * 1000000;
  atomic_store(&t->abort_at, t->deadline_ns);
  uv_cond_signal(&t->cv);
  uv_mutex_unlock(&t->mu);
  uv_thread_join(&t->thread);
  ain_obs_set(AIN_M_TRACE_QUEUE, NULL, 0);
  uv_cond_destroy(&t->cv);
  uv_mutex_destroy(&t->mu);
  free(t->instance);
  free(t->service_name);
  free(t->ring);
  free(t->url);
  free(t);
}
