/* The Prometheus text exposition (format 0.0.4) of the catalog, and the writers the API's scrape
 * uses for the store's gauges. Runs on the API's worker (never a shard): it reads the atomics
 * without stopping the writers, so a histogram's _count is the sum of the bucket counts it read
 * (cumulative buckets and _count always agree; _sum may include an observation more or less).
 * Relies on: internal.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/internal.h"

void ain_obs_buf_printf(ain_obs_buf_t *b, const char *fmt, ...) {
  if (b->oom) {
    return;
  }
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->n;
    int n = vsnprintf(b->p != NULL ? b->p + b->n : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = 1;
      return;
    }
    if ((size_t)n < room) {
      b->n += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n <= (size_t)n) {
      cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

void ain_obs_buf_free(ain_obs_buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* Appends s escaped: in HELP text \\ and \n; in a label value also \". */
static void put_escaped(ain_obs_buf_t *b, const char *s, int quote) {
  for (; *s != '\0'; s++) {
    if (*s == '\\') {
      ain_obs_buf_printf(b, "\\\\");
    } else if (*s == '\n') {
      ain_obs_buf_printf(b, "\\n");
    } else if (*s == '"' && quote) {
      ain_obs_buf_printf(b, "\\\"");
    } else {
      ain_obs_buf_printf(b, "%c", *s);
    }
  }
}

static void put_value(ain_obs_buf_t *b, double v) {
  if (isnan(v)) {
    ain_obs_buf_printf(b, "NaN\n");
  } else if (isinf(v)) {
    ain_obs_buf_printf(b, v > 0 ? "+Inf\n" : "-Inf\n");
  } else if (v == floor(v) && fabs(v) < 1e15) {
    ain_obs_buf_printf(b, "%.0f\n", v);
  } else {
    ain_obs_buf_printf(b, "%.15g\n", v);
  }
}

void ain_obs_write_header(ain_obs_buf_t *b, const char *name, const char *type, const char *help) {
  ain_obs_buf_printf(b, "# HELP %s ", name);
  put_escaped(b, help, 0);
  ain_obs_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* name{k="v",...,extra_k="extra_v"} with the label values escaped; extra may be NULL. */
static void put_series(ain_obs_buf_t *b, const char *name, const char *suffix, int n,
                       const char *const *keys, const char *const *values, const char *extra_k,
                       const char *extra_v) {
  ain_obs_buf_printf(b, "%s%s", name, suffix);
  if (n == 0 && extra_k == NULL) {
    ain_obs_buf_printf(b, " ");
    return;
  }
  ain_obs_buf_printf(b, "{");
  for (int i = 0; i < n; i++) {
    ain_obs_buf_printf(b, "%s%s=\"", i ? "," : "", keys[i]);
    put_escaped(b, values[i] != NULL ? values[i] : "", 1);
    ain_obs_buf_printf(b, "\"");
  }
  if (extra_k != NULL) {
    ain_obs_buf_printf(b, "%s%s=\"%s\"", n ? "," : "", extra_k, extra_v);
  }
  ain_obs_buf_printf(b, "} ");
}

void ain_obs_write_sample(ain_obs_buf_t *b, const char *name, int nlabels,
                          const char *const *keys, const char *const *values, double v) {
  put_series(b, name, "", nlabels, keys, values, NULL, NULL);
  put_value(b, v);
}

static const char *type_name(ain_obs_kind_t k) {
  switch (k) {
  case AIN_OBS_COUNTER:
    return "counter";
  case AIN_OBS_HISTOGRAM:
    return "histogram";
  default:
    return "gauge"; /* an info metric is a gauge of value 1 in format 0.0.4 */
  }
}

static void expose_series(ain_obs_buf_t *b, const ain_obs_def_t *d, ain__obs_series_t *s) {
  const char *values[AIN_OBS_MAX_LABELS];
  for (int i = 0; i < d->nlabels; i++) {
    values[i] = s->values[i];
  }
  if (d->kind == AIN_OBS_HISTOGRAM) {
    uint64_t cum = 0;
    char le[32];
    for (int k = 0; k <= d->nbuckets; k++) {
      cum += atomic_load_explicit(&s->counts[k], memory_order_relaxed);
      if (k < d->nbuckets) {
        snprintf(le, sizeof le, "%g", d->buckets[k]);
      } else {
        snprintf(le, sizeof le, "+Inf");
      }
      put_series(b, d->name, "_bucket", d->nlabels, d->labels, values, "le", le);
      put_value(b, (double)cum);
    }
    put_series(b, d->name, "_sum", d->nlabels, d->labels, values, NULL, NULL);
    put_value(b, ain__obs_bits_double(atomic_load_explicit(&s->bits, memory_order_relaxed)));
    put_series(b, d->name, "_count", d->nlabels, d->labels, values, NULL, NULL);
    put_value(b, (double)cum);
    return;
  }
  if (d->kind == AIN_OBS_INFO) {
    if (s->info_set) { /* under the info mutex (ain_obs_expose) */
      put_series(b, d->name, "", d->nlabels, d->labels, values, NULL, NULL);
      put_value(b, 1);
    }
    return;
  }
  put_series(b, d->name, "", d->nlabels, d->labels, values, NULL, NULL);
  put_value(b, ain__obs_bits_double(atomic_load_explicit(&s->bits, memory_order_relaxed)));
}

void ain_obs_expose(ain_obs_buf_t *b) {
  ain__obs_init();
  for (int m = 0; m < AIN_M_COUNT; m++) {
    const ain_obs_def_t *d = ain_obs_def((ain_obs_metric_t)m);
    ain__obs_family_t *f = &ain__obs_families[m];
    ain_obs_write_header(b, d->name, type_name(d->kind), d->help);
    if (d->kind == AIN_OBS_INFO) {
      uv_mutex_lock(&ain__obs_info_mu);
    }
    if (d->nlabels == 0 && d->kind != AIN_OBS_INFO) {
      /* a family without labels always shows its one series, 0 before the first update */
      ain_obs_add((ain_obs_metric_t)m, NULL, 0);
    }
    for (size_t i = 0; i < AIN_OBS_MAX_SERIES; i++) {
      ain__obs_series_t *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
      if (s != NULL) {
        expose_series(b, d, s);
      }
    }
    ain__obs_series_t *o = atomic_load_explicit(&f->overflow, memory_order_acquire);
    if (o != NULL) {
      expose_series(b, d, o);
    }
    if (d->kind == AIN_OBS_INFO) {
      uv_mutex_unlock(&ain__obs_info_mu);
    }
  }
}
