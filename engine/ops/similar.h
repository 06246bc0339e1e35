/* Vector search for operators (docs/vectors.md): `ain similar TEXT` and GET /v1/similar both call
 * ain_ops_similar and print ain_ops_similar_json. And the one place the process's embedder and
 * vector backend are configured from the engine config (ain_ops_vectors_init), so the CLI, the
 * engine's shards (ain.embed) and the API workers use the same ones.
 * Relies on: ops/ops.h, vec/vec.h (embedders, backends), store/store.h (VEC_LOAD brings the flat
 * index up to date), core/secret.h. Blocking like every op: worker threads and the CLI only. */
#ifndef AIN_OPS_SIMILAR_H
#define AIN_OPS_SIMILAR_H

#include "ops/ops.h"

#define AIN_OPS_SIMILAR_TEXT_MAX 4096 /* bytes of a query */

/* Resolves embed.secret and vectors.qdrant.secret (a file read: start-up only) and sets the
 * process's embedder and backend from cfg. AIN_ECONFIG naming the key on failure; no secret
 * value ever appears in err. */
int ain_ops_vectors_init(const ain_config_t *cfg, ain_err_t *err);

typedef struct {
  char kind[65];
  char model[128];
  size_t k;
  void *results; /* ain_vec_result_t[nresults] (vec/vec.h, which this header keeps private) */
  size_t nresults;
} ain_ops_similar_t;

/* The k (1..1000) items of kind (default "trend") nearest to text, best first. AIN_EINVAL
 * naming "q", "kind" or "k"; embedder failures as the embedder reports them. */
int ain_ops_similar(ain_ops_t *ops, const char *text, const char *kind, long k,
                    ain_ops_similar_t *out, ain_err_t *err);
void ain_ops_similar_free(ain_ops_similar_t *s);
/* {"kind","model","k","results":[{"id","label","score","created_at"}]} (created_at: epoch ms). */
cJSON *ain_ops_similar_json(const ain_ops_similar_t *s);

#endif
