/* Remaining publish quota per channel account (issue 14), for `ain publishers status` and
 * anything else that shows it: the configured quota of each channel that has one, with its bucket
 * as the store holds it brought up to now (publish/quota.h: the same arithmetic the publish step
 * takes with). Relies on: ops/ops.h, store/grants.h, publish/quota.h, cJSON. */
#ifndef AIN_OPS_PUBLISH_QUOTA_H
#define AIN_OPS_PUBLISH_QUOTA_H

#include <cjson/cJSON.h>

#include "ops/ops.h"

/* *out: a JSON array of {channel, units_per_day, window_s, units_per_publish,
 * requests_per_minute, remaining_units (-1: no units limit), taken_units, next_refill_ms (epoch
 * ms when the next publish's units are there; 0: now), blocked_until_ms (0: not rate-limited)}.
 * An empty array when no channel has a quota. Caller frees. */
int ain_ops_publish_quotas(ain_ops_t *ops, const char *actor, cJSON **out, ain_err_t *err);

#endif
