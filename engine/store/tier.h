/* The tiering ops (issue 15, docs/objstore.md "Tiering"): which objects the tiering sweep
 * (sched/tiering.c) may move to a cheaper storage class, and the record of what it moved.
 *
 * TIER_LIST: object-store keys named by step checkpoints (artifacts.keys) whose NEWEST checkpoint
 * was recorded before older_than, that are not the video or thumbnail of a video that is or may
 * still be published (status other than 'rejected': passed, in_review, approved, published; a
 * published render stays hot), and that the sweep has not already put in storage_class since that
 * checkpoint (table object_classes, migration 018: a key put again by a newer checkpoint, e.g.
 * after a purge, is considered again). Keys in byte order after after_key, at most limit.
 * TIER_MARK: records keys as now in storage_class (upsert, updated_at = now). Both are idempotent,
 * so sweeps on several nodes at once only repeat work (the backend's set_class finds an object
 * already in its class and copies nothing).
 * Relies on: store.h. SQL: store/sqlite/tier.c, store/postgres/tier.c. */
#ifndef AIN_STORE_TIER_H
#define AIN_STORE_TIER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AIN_STORE_TIER_LIMIT_MAX 1000

typedef struct ain_store_tier {
  /* in */
  const char *storage_class; /* the class the sweep moves objects to ("STANDARD_IA") */
  int64_t older_than;        /* LIST: ms since epoch */
  const char *after_key;     /* LIST: keyset paging, NULL or "" = from the start */
  int limit;                 /* LIST: 1..AIN_STORE_TIER_LIMIT_MAX */
  char *const *mark_keys;    /* MARK: the keys now in storage_class (borrowed) */
  size_t nmark;
  /* out (LIST; owned by the request: ain_store_req_cleanup frees them) */
  char **keys; /* byte order */
  size_t nkeys;
} ain_store_tier_t;

/* Zero req, set op TIER_LIST with t (borrowed until the callback; its outputs are zeroed). */
void ain_store_req_tier_list(ain_store_req_t *req, ain_store_tier_t *t, const char *storage_class,
                             int64_t older_than, const char *after_key, int limit);
/* Zero req, set op TIER_MARK with t: keys[0..n) are now in storage_class. */
void ain_store_req_tier_mark(ain_store_req_t *req, ain_store_tier_t *t, const char *storage_class,
                             char *const *keys, size_t n);

/* Generic layer (store.c calls these). */
int ain__store_tier_check(const ain_store_req_t *req, ain_err_t *err);
void ain__store_tier_cleanup(ain_store_req_t *req);
/* Backends: append one key to t->keys. 0 or AIN_ENOMEM. */
int ain__store_tier_take(ain_store_tier_t *t, const char *key);

#endif
