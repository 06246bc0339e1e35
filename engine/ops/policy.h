/* Policy code for operations that re-run policies off the engine (`ain replay`, `ain judge eval`,
 * `ain judge shadow`): sets of module sources (the files of a scripts folder checked as the
 * registry checks them, or recorded versions read from script_versions by sha), and a runner: a
 * Lua host that loads nothing from disk, refuses every side effect (ain.spawn, ain.http, ain.emit,
 * ain.store writes return "EREPLAY: ...") and runs module.fn(payload, ctx) to completion on the
 * operation's loop.
 * Relies on: ops/ops.h, lua/host.h, lua/registry.h (the check), store/store.h (script_versions). */
#ifndef AIN_OPS_POLICY_H
#define AIN_OPS_POLICY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "ops/ops.h"

typedef struct {
  char *module; /* "judge", "personas/coach_ava", "safety/lexicon" */
  char sha[65];
  char *source;
} ain_ops_source_t;

/* module -> source; one entry per module. */
typedef struct {
  ain_ops_source_t *v;
  size_t n, cap;
} ain_ops_sources_t;

void ain_ops_sources_free(ain_ops_sources_t *s);
/* Adds module's source, replacing an earlier one of the same module. Copies. */
void ain_ops_sources_put(ain_ops_sources_t *s, const char *module, const char *sha,
                         const char *source);
/* Adds a source whatever the set holds (a cache of versions keyed by sha). Copies. */
void ain_ops_sources_append(ain_ops_sources_t *s, const char *module, const char *sha,
                            const char *source);
const ain_ops_source_t *ain_ops_sources_find(const ain_ops_sources_t *s, const char *module);

/* The version the registry would publish of every policy file under dir's folders (agents/,
 * personas/, and any other the registry knows): each file compiled, run and contract-checked in
 * the sandbox under cfg's budgets exactly as the registry and `ain check` do. A file that fails
 * is kept out, as the registry keeps it out, and its "path: ECODE: message" is appended to
 * *rejected (a cJSON array the caller owns; may be NULL). AIN_ENOTFOUND when dir is not a
 * folder. */
int ain_ops_sources_from_dir(const ain_config_t *cfg, const char *dir, ain_ops_sources_t *out,
                             cJSON *rejected, ain_err_t *err);

/* A recorded version from script_versions: sha is full or a unique prefix (8+ hex digits);
 * module NULL = the version's own module (the sha picks it). A version the registry rejected is
 * refused (AIN_EINVAL naming its error), since the engine could never serve it. Adds it to out
 * and, when module_out is given, names its module there (valid while out lives). */
int ain_ops_sources_fetch(ain_ops_t *ops, const char *sha, const char *module,
                          ain_ops_sources_t *out, const char **module_out, ain_err_t *err);

/* Candidate versions (`--policy-sha`, repeatable): fetches each sha into out as above and appends
 * {"module","sha"} for each to the JSON array listed. Two shas of one module are refused
 * (AIN_EINVAL, field policy_sha). */
int ain_ops_candidates_fetch(ain_ops_t *ops, const char *const *shas, size_t nshas,
                             ain_ops_sources_t *out, cJSON *listed, ain_err_t *err);

/* How one call ended: status 0 and result (JSON object text), or an AIN_E* status and error
 * ("ECODE: message"). versions: {"module": "sha"} of every module the call required. */
typedef struct {
  int status;
  char *result;
  char *error;
  char *versions;
} ain_ops_outcome_t;

void ain_ops_outcome_free(ain_ops_outcome_t *o);

typedef struct ain_ops_runner ain_ops_runner_t;

/* A side-effect-free host on ops->loop holding the sources of every layer, a later layer's
 * module replacing an earlier one's (current files, then recorded versions, then candidates).
 * Caller frees with ain_ops_runner_free(). */
int ain_ops_runner_new(ain_ops_t *ops, const char *name,
                       const ain_ops_sources_t *const *layers, size_t nlayers,
                       ain_ops_runner_t **out, ain_err_t *err);
/* Adds one more module source to the runner (a shim module of the operation's own). */
int ain_ops_runner_set(ain_ops_runner_t *r, const char *module, const char *source,
                       ain_err_t *err);
/* Runs module.fn(payload, ctx) and waits for it on the loop. replay_io (NULL: none) is the
 * JSON array of exchanges the recorded call made ("io" of its audit row, lua/io_record.c): the
 * host answers matching ain.http / ain.store.get requests from it. 0 with *o filled (the
 * policy's own failure is o->status, not the return), or an error when the call could not
 * start. Caller frees o with ain_ops_outcome_free(). */
int ain_ops_runner_call(ain_ops_runner_t *r, const char *module, const char *fn,
                        const char *payload_json, const char *ctx_json, const char *replay_io,
                        ain_ops_outcome_t *o, ain_err_t *err);
void ain_ops_runner_free(ain_ops_runner_t *r);

#endif
