/* The tiering sweep (issue 15, docs/objstore.md "Tiering"): with objstore.kind = "s3" and
 * objstore.s3.tier.after_days > 0, objects that only old step checkpoints name move to the
 * cheaper storage class objstore.s3.tier.storage_class; a video that is or may still be published
 * keeps its render and thumbnail hot (which keys qualify: store/tier.h).
 * Every interval a timer on the engine's main loop sends TIER_LIST (a store request, never
 * waited on), the listed objects' classes are changed on the libuv thread pool (a HEAD, then a
 * copy in place unless the object is already there: ain_objstore_set_class), and TIER_MARK
 * records the ones that are; the next page follows at once while pages come back full. One page
 * in flight at a time. Idempotent across nodes: two nodes sweeping at once repeat a HEAD, not a
 * copy's effect. Each object counts in ain_objstore_tier_objects_total{storage_class,result};
 * a run that moved or failed anything logs one line.
 * Relies on: store/tier.h, objstore/open.h, obs/obs.h, libuv, core/log.h. */
#ifndef AIN_SCHED_TIERING_H
#define AIN_SCHED_TIERING_H

#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

#define AIN_TIERING_PAGE 100 /* keys per TIER_LIST: one pool job heads/copies at most this many */

typedef struct ain_tiering ain_tiering_t;

/* Starts the sweep on loop with store (a handle on that loop that outlives the sweep) when cfg
 * asks for one (kind "s3", tier.after_days > 0); *out = NULL and 0 when it does not. cfg is
 * borrowed and must outlive the sweep. */
int ain_tiering_start(uv_loop_t *loop, ain_store_t *store, const ain_config_t *cfg,
                      ain_tiering_t **out, ain_err_t *err);
/* Stops the timer; a page in flight finishes (store request, pool job), then the sweep frees
 * itself; the loop must keep running. NULL is a no-op. */
void ain_tiering_stop(ain_tiering_t *t);

#endif
