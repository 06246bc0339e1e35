/* Private to engine/obs/: the series table of each family (metrics.c) as the exposition
 * (expose.c) walks it. */
#ifndef AIN_OBS_INTERNAL_H
#define AIN_OBS_INTERNAL_H

#include <stdatomic.h>
#include <uv.h>

#include "obs/obs.h"

typedef struct {
  char values[AIN_OBS_MAX_LABELS][AIN_OBS_MAX_VALUE + 1];
  uint64_t hash;
  /* counter, gauge: the value as double bits; histogram: the sum as double bits */
  _Atomic uint64_t bits;
  /* histogram: count per bucket, not cumulative; [nbuckets] is the +Inf bucket */
  _Atomic uint64_t counts[AIN_OBS_MAX_BUCKETS + 1];
  /* info: the labels after the first (under ain__obs_info_mu); info_set = 0 hides the series */
  int info_set;
} ain__obs_series_t;

typedef struct {
  _Atomic(ain__obs_series_t *) slots[AIN_OBS_MAX_SERIES];
  _Atomic(ain__obs_series_t *) overflow; /* every label "other" */
} ain__obs_family_t;

extern ain__obs_family_t ain__obs_families[AIN_M_COUNT];
extern uv_mutex_t ain__obs_info_mu; /* initialised once (ain__obs_init) */
void ain__obs_init(void);
double ain__obs_bits_double(uint64_t bits);

#endif
