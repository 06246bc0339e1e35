/* The registry's hot path: finding a family's series by its label values and updating it with
 * atomics. A series is created once, by the first update that names its labels, and published
 * in a slot with compare-and-swap; a thread that loses the race frees its copy and uses the
 * winner's. Series are never freed while the process runs (ain_obs_reset is for tests), so a
 * pointer read from a slot stays valid without a lock.
 * Relies on: internal.h, C11 atomics, libuv (uv_once, the info mutex). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "obs/internal.h"

ain__obs_family_t ain__obs_families[AIN_M_COUNT];
uv_mutex_t ain__obs_info_mu;
static uv_once_t init_once = UV_ONCE_INIT;
static atomic_int enabled = 1;

static void init_mu(void) {
  uv_mutex_init(&ain__obs_info_mu);
}

void ain__obs_init(void) {
  uv_once(&init_once, init_mu);
}

void ain_obs_enable(int on) {
  atomic_store_explicit(&enabled, on != 0, memory_order_relaxed);
}

double ain__obs_bits_double(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static uint64_t double_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static void add_double(_Atomic uint64_t *a, double v) {
  uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(a, &old, double_bits(ain__obs_bits_double(old) + v),
                                                memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* FNV-1a over the label values (cut to AIN_OBS_MAX_VALUE bytes), each ended by a 0xff byte. */
static uint64_t hash_values(int n, const char *const *values) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < n; i++) {
    const char *s = values != NULL && values[i] != NULL ? values[i] : "";
    for (size_t k = 0; s[k] != '\0' && k < AIN_OBS_MAX_VALUE; k++) {
      h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
    }
    h = (h ^ 0xffu) * 1099511628211ull;
  }
  return h;
}

static int same(const ain__obs_series_t *s, int n, const char *const *values) {
  for (int i = 0; i < n; i++) {
    const char *v = values != NULL && values[i] != NULL ? values[i] : "";
    if (strncmp(s->values[i], v, AIN_OBS_MAX_VALUE) != 0) {
      return 0;
    }
    if (strlen(v) > AIN_OBS_MAX_VALUE && s->values[i][AIN_OBS_MAX_VALUE] != '\0') {
      return 0;
    }
  }
  return 1;
}

static ain__obs_series_t *new_series(int n, const char *const *values, uint64_t h) {
  ain__obs_series_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    const char *v = values != NULL && values[i] != NULL ? values[i] : "";
    size_t len = strnlen(v, AIN_OBS_MAX_VALUE);
    memcpy(s->values[i], v, len);
    s->values[i][len] = '\0';
  }
  s->hash = h;
  return s;
}

/* Publishes a fresh series in *slot unless another thread did first; the series in the slot. */
static ain__obs_series_t *publish(_Atomic(ain__obs_series_t *) *slot, ain__obs_series_t *mine) {
  ain__obs_series_t *expected = NULL;
  if (atomic_compare_exchange_strong_explicit(slot, &expected, mine, memory_order_acq_rel,
                                              memory_order_acquire)) {
    return mine;
  }
  free(mine);
  return expected;
}

static ain__obs_series_t *overflow(ain_obs_metric_t m, const ain_obs_def_t *d) {
  ain__obs_family_t *f = &ain__obs_families[m];
  ain__obs_series_t *s = atomic_load_explicit(&f->overflow, memory_order_acquire);
  if (s == NULL) {
    const char *other[AIN_OBS_MAX_LABELS] = {"other", "other", "other"};
    ain__obs_series_t *mine = new_series(d->nlabels, other, 0);
    if (mine == NULL) {
      return NULL;
    }
    s = publish(&f->overflow, mine);
  }
  if (m != AIN_M_SERIES_OVERFLOW) {
    const char *name[1] = {d->name};
    ain_obs_inc(AIN_M_SERIES_OVERFLOW, name);
  }
  return s;
}

/* The series of m with these label values, created when missing; NULL only out of memory. */
static ain__obs_series_t *series(ain_obs_metric_t m, const char *const *values) {
  const ain_obs_def_t *d = ain_obs_def(m);
  ain__obs_family_t *f = &ain__obs_families[m];
  int nkey = d->kind == AIN_OBS_INFO ? 1 : d->nlabels; /* an info series is keyed by its first */
  uint64_t h = hash_values(nkey, values);
  size_t start = (size_t)(h % AIN_OBS_MAX_SERIES);
  for (size_t i = 0; i < AIN_OBS_MAX_SERIES; i++) {
    _Atomic(ain__obs_series_t *) *slot = &f->slots[(start + i) % AIN_OBS_MAX_SERIES];
    ain__obs_series_t *s = atomic_load_explicit(slot, memory_order_acquire);
    if (s == NULL) {
      ain__obs_series_t *mine = new_series(nkey, values, h);
      if (mine == NULL) {
        return NULL;
      }
      s = publish(slot, mine);
    }
    if (s->hash == h && same(s, nkey, values)) {
      return s;
    }
  }
  return overflow(m, d);
}

static int on(void) {
  return atomic_load_explicit(&enabled, memory_order_relaxed);
}

void ain_obs_add(ain_obs_metric_t m, const char *const *values, double v) {
  if (!on() || (unsigned)m >= AIN_M_COUNT) {
    return;
  }
  ain__obs_series_t *s = series(m, values);
  if (s != NULL) {
    add_double(&s->bits, v);
  }
}

void ain_obs_inc(ain_obs_metric_t m, const char *const *values) {
  ain_obs_add(m, values, 1.0);
}

void ain_obs_set(ain_obs_metric_t m, const char *const *values, double v) {
  if (!on() || (unsigned)m >= AIN_M_COUNT) {
    return;
  }
  ain__obs_series_t *s = series(m, values);
  if (s != NULL) {
    atomic_store_explicit(&s->bits, double_bits(v), memory_order_relaxed);
  }
}

void ain_obs_observe(ain_obs_metric_t m, const char *const *values, double v) {
  if (!on() || (unsigned)m >= AIN_M_COUNT || isnan(v)) {
    return;
  }
  const ain_obs_def_t *d = ain_obs_def(m);
  ain__obs_series_t *s = series(m, values);
  if (s == NULL) {
    return;
  }
  int b = 0;
  while (b < d->nbuckets && v > d->buckets[b]) {
    b++;
  }
  atomic_fetch_add_explicit(&s->counts[b], 1, memory_order_relaxed);
  add_double(&s->bits, v);
}

void ain_obs_info_set(ain_obs_metric_t m, const char *const *values) {
  if (!on() || (unsigned)m >= AIN_M_COUNT || values == NULL) {
    return;
  }
  ain__obs_init();
  ain__obs_series_t *s = series(m, values); /* keyed by the first label only */
  if (s == NULL) {
    return;
  }
  const ain_obs_def_t *d = ain_obs_def(m);
  uv_mutex_lock(&ain__obs_info_mu);
  for (int i = 1; i < d->nlabels; i++) {
    const char *v = values[i] != NULL ? values[i] : "";
    size_t len = strnlen(v, AIN_OBS_MAX_VALUE);
    memcpy(s->values[i], v, len);
    s->values[i][len] = '\0';
  }
  s->info_set = 1;
  uv_mutex_unlock(&ain__obs_info_mu);
}

double ain_obs_get(ain_obs_metric_t m, const char *const *values) {
  if ((unsigned)m >= AIN_M_COUNT) {
    return 0;
  }
  const ain_obs_def_t *d = ain_obs_def(m);
  ain__obs_family_t *f = &ain__obs_families[m];
  int nkey = d->kind == AIN_OBS_INFO ? 1 : d->nlabels;
  uint64_t h = hash_values(nkey, values);
  for (size_t i = 0; i < AIN_OBS_MAX_SERIES; i++) {
    ain__obs_series_t *s = atomic_load_explicit(
        &f->slots[(h % AIN_OBS_MAX_SERIES + i) % AIN_OBS_MAX_SERIES], memory_order_acquire);
    if (s == NULL) {
      return 0;
    }
    if (s->hash == h && same(s, nkey, values)) {
      if (d->kind == AIN_OBS_HISTOGRAM) {
        uint64_t n = 0;
        for (int b = 0; b <= d->nbuckets; b++) {
          n += atomic_load_explicit(&s->counts[b], memory_order_relaxed);
        }
        return (double)n;
      }
      if (d->kind == AIN_OBS_INFO) {
        return s->info_set;
      }
      return ain__obs_bits_double(atomic_load_explicit(&s->bits, memory_order_relaxed));
    }
  }
  return 0;
}

void ain_obs_reset(void) {
  for (int m = 0; m < AIN_M_COUNT; m++) {
    ain__obs_family_t *f = &ain__obs_families[m];
    for (size_t i = 0; i < AIN_OBS_MAX_SERIES; i++) {
      free(atomic_exchange(&f->slots[i], NULL));
    }
    free(atomic_exchange(&f->overflow, NULL));
  }
}
