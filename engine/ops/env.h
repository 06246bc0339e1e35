/* What an operator operation runs against: a private loop, the store on it (may be NULL for an
 * operation that needs none, `ain judge eval` on the files of scripts_dir), the loaded config and
 * the operator every write is audited as. The CLI fills one from its command line; an API would
 * fill one per request. Operations never print: they return structs or cJSON. (Helper `ops` of
 * issue 10 brings ain_ops_t, the same loop, store and config; when both meet, this struct becomes
 * that one plus the actor, and ain_ops_env_wait its ain_ops_wait.)
 * Relies on: libuv, config/config.h, store/store.h. */
#ifndef AIN_OPS_ENV_H
#define AIN_OPS_ENV_H

#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

typedef struct {
  uv_loop_t *loop;          /* private to the operation's thread, never a shard's */
  ain_store_t *store;       /* bound to loop; NULL: no store was opened */
  const ain_config_t *cfg;
  const char *actor;        /* "operator:alice": audit actor of writes */
} ain_ops_env_t;

/* Runs one store request to completion on env->loop (actor env->actor unless the request names
 * one). 0, or the AIN_E* code with *err filled (never an empty message); AIN_ESTORE when the
 * operation was started without a store. */
int ain_ops_env_wait(const ain_ops_env_t *env, ain_store_req_t *req, ain_err_t *err);

#endif
