/* Operations on the engine itself: the nodes sharing the store, the policy versions and pins,
 * and the purge of old finished work (retention).
 * Relies on: ops/ops.h, store/store.h (NODES, SCRIPT_*), store/purge.h, privacy/retention.h. */
#ifndef AIN_OPS_ADMIN_H
#define AIN_OPS_ADMIN_H

#include "ops/ops.h"
#include "store/purge.h"

/* ---- nodes ----------------------------------------------------------------------------------- */

typedef struct {
  const ain_node_t *nodes; /* by id */
  size_t nnodes;
  int64_t now;        /* when they were read (ms) */
  int64_t timeout_ms; /* cluster.node_timeout_ms */
  ain_store_req_t req_;
} ain_ops_nodes_t;

int ain_ops_nodes(ain_ops_t *ops, ain_ops_nodes_t *out, ain_err_t *err);
void ain_ops_nodes_free(ain_ops_nodes_t *n);
/* The state an operator should see: the stored one, or "dead" when an alive row has been silent
 * past the timeout (no live node has declared it yet, but the next heartbeat of any will). */
const char *ain_ops_node_state(const ain_ops_nodes_t *ns, const ain_node_t *n);
/* [{id, node, host, version, pid, shards, running, state, stored_state, started_at, last_beat,
 * beat_age_ms, state_version}...] */
cJSON *ain_ops_nodes_json(const ain_ops_nodes_t *ns);

/* ---- policy versions and pins ---------------------------------------------------------------- */

typedef struct {
  const ain_script_version_t *versions; /* by module, newest first */
  size_t nversions;
  const ain_script_pin_t *pins;
  size_t npins;
  ain_store_req_t req_;
} ain_ops_scripts_t;

/* Every recorded version of module (NULL = every module), and the pins. */
int ain_ops_scripts_list(ain_ops_t *ops, const char *module, ain_ops_scripts_t *out,
                         ain_err_t *err);
void ain_ops_scripts_free(ain_ops_scripts_t *s);
/* The sha module is pinned to, NULL when it is not. */
const char *ain_ops_scripts_pin_of(const ain_ops_scripts_t *s, const char *module);
/* {"ok":true,"versions":[{module, sha, created_at, valid, pinned, error}...],
 *  "pins":[{module, sha, updated_at}...]} */
cJSON *ain_ops_scripts_json(const ain_ops_scripts_t *s);

typedef struct {
  const ain_script_version_t *version; /* with its source */
  ain_store_req_t req_;
} ain_ops_script_t;

/* One version by sha or a unique prefix of 8+ hex digits. AIN_ENOTFOUND when none matches. */
int ain_ops_script_get(ain_ops_t *ops, const char *sha, ain_ops_script_t *out, ain_err_t *err);
void ain_ops_script_free(ain_ops_script_t *s);
/* {"ok":true, module, sha, created_at, error, source} */
cJSON *ain_ops_script_json(const ain_ops_script_t *s);

/* Pins module to a valid version (sha or unique prefix), or unpins it (sha NULL), audited as
 * actor; every node applies it at its next pin poll. pinned[65] gets the full sha ("" after an
 * unpin), *changed 0 when it was already so. */
int ain_ops_script_pin(ain_ops_t *ops, const char *module, const char *sha, const char *actor,
                       char pinned[65], int *changed, ain_err_t *err);

/* ---- purge ----------------------------------------------------------------------------------- */

typedef struct {
  long long batch; /* 1-based */
  int dags, tasks;
  size_t deleted;           /* object files deleted */
  const char *object_error; /* the rows are purged but a file stays: why (NULL if none) */
} ain_ops_purge_batch_t;

typedef struct {
  int64_t older_than; /* ms since epoch: DAGs (and lone tasks) that finished before this */
  int batch;          /* DAGs per transaction, 1..AIN_STORE_PURGE_LIMIT_MAX */
  int dry_run;        /* list what would go, change nothing */
  const char *actor;
  /* after each committed batch (not in a dry run); may be NULL */
  void (*on_batch)(void *data, const ain_ops_purge_batch_t *b);
  void *data;
} ain_ops_purge_opts_t;

typedef struct {
  long long batches, dags, tasks, artifacts, videos, objects;
  /* dry run only: the DAGs and object keys that would go (owned by the result) */
  char *const *dag_ids;
  size_t ndag_ids;
  char *const *keys;
  size_t nkeys;
  ain_store_purge_t p_;
  ain_store_req_t req_;
} ain_ops_purge_result_t;

/* Deletes finished DAGs and their data (store/purge.h) in batches until one comes back short,
 * then the object files only they referenced (under data_dir/objects). Audited as actor. */
int ain_ops_purge(ain_ops_t *ops, const ain_ops_purge_opts_t *o, ain_ops_purge_result_t *out,
                  ain_err_t *err);
void ain_ops_purge_free(ain_ops_purge_result_t *r);

#endif
