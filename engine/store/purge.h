/* The PURGE store op (retention, `ain purge`): deletes finished DAGs (succeeded, failed or
 * cancelled, every task terminal) that ended before a time, with everything that holds their
 * data: their tasks (hot and archived, and the root task that expanded into the DAG) with payloads
 * and results, edges, step checkpoints (artifacts), videos with safety reports, reviews and publish
 * receipts; and finished tasks outside any DAG. Audit rows stay: ids, versions, actors and times;
 * their detail keeps only the policy versions. The purge writes one audit row of its own (actor,
 * counts). At most `limit` DAGs (and `limit` lone tasks) per request, one transaction each: call
 * it again while it purges something.
 * Object-store keys are content-addressed and may be shared by DAGs: the op returns the keys of
 * the purged rows that no remaining row references, and the caller deletes those objects after
 * the commit (a crash in between leaves unreferenced objects, never a reference to a missing one).
 * Relies on: store.h. SQL: store/sqlite/purge.c, sql/postgres/011_purge.sql (ain_purge). */
#ifndef AIN_STORE_PURGE_H
#define AIN_STORE_PURGE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct ain_store_purge {
  /* in */
  int64_t older_than; /* ms since epoch: DAGs that ended before this */
  int limit;          /* DAGs per request, 1..10000 */
  int dry_run;        /* report what would go, change nothing */
  /* out (owned by the request: ain_store_req_cleanup frees them) */
  int dags, tasks, artifacts, videos;
  char **dag_ids; /* the DAGs purged, oldest first */
  size_t ndag_ids;
  char **keys; /* object-store keys no remaining row references */
  size_t nkeys;
} ain_store_purge_t;

#define AIN_STORE_PURGE_LIMIT_MAX 10000

/* Zeroes req, sets op PURGE with p (borrowed until the callback; its outputs are zeroed). */
void ain_store_req_purge(ain_store_req_t *req, ain_store_purge_t *p, int64_t older_than, int limit,
                         int dry_run);

/* Generic layer (store.c calls these). */
int ain__store_purge_check(const ain_store_req_t *req, ain_err_t *err);
void ain__store_purge_cleanup(ain_store_req_t *req);
/* Backends: parse the JSON arrays of DAG ids and keys into the outputs. 0 or AIN_ENOMEM. */
int ain__store_purge_take_lists(ain_store_purge_t *p, const char *dag_ids_json,
                                const char *keys_json, ain_err_t *err);

#endif
