/* Vectors: embeddings and exact nearest-neighbour search (issue 15 §3, docs/vectors.md).
 *
 * Shape. Three pieces, each usable alone:
 *  - math (math.c): dot products over float32, L2 normalisation, exact top-k by cosine over one
 *    contiguous block of rows. Rows are stored normalised, so cosine is a dot product.
 *  - embedders (hash.c, openai.c): text -> float32 vectors. "hashed-ngrams" is the embedded
 *    default: hashed character 3- and 4-grams plus word unigrams, L2-normalised. It is LEXICAL,
 *    not semantic ("car" and "automobile" are unrelated to it); it needs no model. "openai" asks
 *    any OpenAI-compatible POST {url}/v1/embeddings server. Both are blocking: callers on a loop
 *    thread run them on the libuv thread pool (lua/ain_embed.c), the CLI and the API workers call
 *    them directly.
 *  - backends (backend.c, flat.c, qdrant.c): where vectors of a kind (trend, script, persona) are
 *    searched, behind a table of function pointers. "flat" keeps one contiguous float32 block per
 *    (kind, model) in this process's memory, shared by every shard (a mutex per registry, a
 *    rwlock per index); "qdrant" speaks Qdrant's REST API. The store's `embeddings` table
 *    (sql/NNN_vectors.sql) stays the source of truth: a flat index is filled from it.
 *
 * Thread-safety: math and embedders are pure; a backend may be used from any thread.
 * Relies on: core/err.h; libcurl and cJSON (openai.c, qdrant.c). */
#ifndef AIN_VEC_VEC_H
#define AIN_VEC_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define AIN_VEC_DIMS_MAX 8192
#define AIN_VEC_KIND_MAX 64 /* bytes of a kind: [a-z0-9_], like "trend", "video_script" */
#define AIN_VEC_ID_MAX 256  /* bytes of an item id */
#define AIN_VEC_MODEL_MAX 128
#define AIN_VEC_K_MAX 1000

/* ---- math ----------------------------------------------------------------------------------- */

float ain_vec_dot(const float *a, const float *b, size_t dims);
/* Scales v to unit length. AIN_EINVAL when v has a NaN or infinity, or is all zeros (no
 * direction: cosine is undefined), v unchanged then. */
int ain_vec_normalize(float *v, size_t dims, ain_err_t *err);

typedef struct {
  size_t row;
  float score; /* cosine in [-1, 1] */
} ain_vec_hit_t;

/* Exact top-k of q against the n rows of block (row-major, n * dims floats, each normalised):
 * at most k hits with score >= min_score, best first (ties: lower row first). When ts is not NULL
 * a row with ts[row] < since is skipped. Returns the number of hits written to out (cap k). */
size_t ain_vec_topk(const float *block, size_t n, size_t dims, const float *q, size_t k,
                    float min_score, const int64_t *ts, int64_t since, ain_vec_hit_t *out);

/* Greedy in-batch de-duplication: for each row i of block (n rows, normalised), dup[i] = the
 * first earlier kept row j with cos(i, j) >= threshold (row i is then not kept) or -1, and
 * score[i] its cosine (may be NULL). O(n * kept * dims). */
void ain_vec_dedup(const float *block, size_t n, size_t dims, float threshold, long *dup,
                   float *score);

/* sparse.c: the same exact cosines through posting lists of the non-zeros, for sparse vectors
 * (hashed-ngrams). is_sparse: at most one component in eight is non-zero (sampled rows).
 * dedup_sparse: ain_vec_dedup's answer. topk_many_sparse: for each of nq queries (qs, nq * dims)
 * the hits of ain_vec_topk into out + q * k and their count into nout[q]; min_score must be > 0.
 * Both return -1 when out of memory (nothing written), else 0. */
int ain_vec_is_sparse(const float *block, size_t n, size_t dims);
int ain_vec_dedup_sparse(const float *block, size_t n, size_t dims, float threshold, long *dup,
                         float *score);
int ain_vec_topk_many_sparse(const float *block, size_t n, size_t dims, const float *qs, size_t nq,
                             size_t k, float min_score, const int64_t *ts, int64_t since,
                             ain_vec_hit_t *out, size_t *nout);

/* ---- embedders ------------------------------------------------------------------------------ */

typedef struct {
  const char *provider; /* "hashed-ngrams" (default when NULL) | "openai" */
  int dims;             /* hashed-ngrams: 16..AIN_VEC_DIMS_MAX (default 1024) */
  const char *url;      /* openai: "http://host:port" ({url}/v1/embeddings) */
  const char *model;    /* openai: the model asked for */
  const char *api_key;  /* openai: Bearer token (NULL: no Authorization header) */
  int64_t timeout_ms;   /* openai: per request */
  int batch;            /* openai: texts per request (1..2048) */
} ain_vec_embedder_t;

#define AIN_VEC_HASHED_MODEL "hashed-ngrams"

/* The model name vectors of e are stored under: "hashed-ngrams-<dims>" or the openai model. */
void ain_vec_model_name(const ain_vec_embedder_t *e, char out[AIN_VEC_MODEL_MAX]);

/* Embeds n texts into out (n * *dims floats, malloc'd, caller frees), each L2-normalised.
 * *dims is the provider's dimension. A text that is empty or gives a zero vector (no letters or
 * digits) yields AIN_EINVAL naming "texts[i]". Network failures and non-2xx answers: AIN_EHTTP /
 * AIN_ETIMEOUT; a response that is not the documented shape: AIN_EHTTP naming the field
 * ("data[2].embedding"). Blocking. */
int ain_vec_embed(const ain_vec_embedder_t *e, const char *const *texts, size_t n, float **out,
                  int *dims, ain_err_t *err);
/* hashed-ngrams of one text into v (dims floats), normalised. AIN_EINVAL when it has no
 * letters or digits. */
int ain_vec_hash_embed(const char *text, size_t len, float *v, int dims, ain_err_t *err);
/* Parses an OpenAI embeddings response (body) for n inputs into out (n * *dims, malloc'd). */
int ain_vec_openai_parse(const char *body, size_t len, size_t n, float **out, int *dims,
                         ain_err_t *err);

/* ---- backends ------------------------------------------------------------------------------- */

typedef struct {
  const char *id;    /* item id (a trend key, a video id, a persona id) */
  const char *label; /* what a person reads: a title (may be NULL) */
  int64_t created_at;
  const float *vec; /* dims floats, normalised */
} ain_vec_item_t;

typedef struct {
  char id[AIN_VEC_ID_MAX + 1];
  char *label; /* owned by the result array: ain_vec_results_free */
  int64_t created_at;
  float score;
} ain_vec_result_t;

typedef struct {
  size_t k;        /* 1..AIN_VEC_K_MAX */
  float min_score; /* hits below are dropped (-1: none dropped) */
  int64_t since;   /* rows created before are skipped (0: none) */
} ain_vec_query_t;

typedef struct ain_vec_backend ain_vec_backend_t;
typedef struct {
  const char *name;
  /* Adds or replaces (same kind, model and id) n items of dims floats. */
  int (*upsert)(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                const ain_vec_item_t *items, size_t n, ain_err_t *err);
  /* Top q->k of vec in (kind, model): results malloc'd into *out (*nout), best first. An unknown
   * kind or model is an empty index (0 results), not an error. */
  int (*search)(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                const float *vec, const ain_vec_query_t *q, ain_vec_result_t **out, size_t *nout,
                ain_err_t *err);
  /* Rows in (kind, model); -1 when the backend cannot say cheaply. */
  int64_t (*count)(ain_vec_backend_t *b, const char *kind, const char *model);
  void (*free)(ain_vec_backend_t *b);
} ain_vec_backend_vt;

struct ain_vec_backend {
  const ain_vec_backend_vt *vt;
};

void ain_vec_results_free(ain_vec_result_t *r, size_t n);
/* 0 or AIN_EINVAL naming "kind": 1..AIN_VEC_KIND_MAX bytes of [a-z0-9_]. */
int ain_vec_kind_check(const char *kind, ain_err_t *err);

/* The in-memory flat backend. Thread-safe. */
ain_vec_backend_t *ain_vec_flat_new(void);
/* Every query of qs (nq * dims) against (kind, model) of a flat backend under one read lock:
 * res[i] / nres[i] as search() answers them (caller frees each with ain_vec_results_free). Sparse
 * queries and rows with q->min_score > 0 go through posting lists (sparse.c). */
int ain_vec_flat_search_many(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                             const float *qs, size_t nq, const ain_vec_query_t *q,
                             ain_vec_result_t **res, size_t *nres, ain_err_t *err);
/* Incremental loading of a flat index from the store (VEC_LOAD), safe against sequence numbers
 * that commit out of order (Postgres: a writer takes seq 7, another takes 8 and commits first; a
 * loader that remembered only "8" would never see 7). The index remembers the seqs it loaded in
 * the last AIN_VEC_LATE_HOLD_MS (at most AIN_VEC_LATE_MAX of them, the oldest dropped first), and
 * each load asks for rows after the highest seq (*after) plus the rows in (*recheck_after,
 * *after] that it has not loaded (have[0..*nhave), the late commits). Once a loaded seq is older
 * than the hold, the window's floor moves past it: a commit later than that is not seen (as the
 * events tail gives up a gap after its hold). cap: the room in have. All zero when absent. */
#define AIN_VEC_LATE_HOLD_MS 30000
#define AIN_VEC_LATE_MAX 4096
void ain_vec_flat_sync_point(ain_vec_backend_t *b, const char *kind, const char *model,
                             int64_t now_ms, int64_t *after, int64_t *recheck_after, int64_t *have,
                             size_t cap, size_t *nhave);
/* The seqs of rows a load just folded into (kind, model) (after upserting them), at now_ms. */
void ain_vec_flat_loaded(ain_vec_backend_t *b, const char *kind, const char *model,
                         const int64_t *seqs, size_t n, int64_t now_ms);
/* Contiguous read access to one index for the benchmark and ain_vec_dedup callers: calls fn
 * with the block under the index's read lock. 0 rows when absent. */
void ain_vec_flat_with_block(ain_vec_backend_t *b, const char *kind, const char *model,
                             void (*fn)(const float *block, size_t n, int dims, void *data),
                             void *data);

/* Qdrant over its REST API (qdrant.c): url "http://host:port", api_key NULL or the `api-key`
 * header, one collection per (kind, model): "<prefix><kind>__<model>" (model sanitised). */
typedef struct {
  const char *url;
  const char *api_key;
  const char *prefix; /* default "ain_" */
  int64_t timeout_ms;
} ain_vec_qdrant_opts_t;
int ain_vec_qdrant_new(const ain_vec_qdrant_opts_t *o, ain_vec_backend_t **out, ain_err_t *err);

/* The process's backend (one per process, because a flat index is the memory every shard and
 * API worker shares) and embedder. Set once at start-up before any thread uses them
 * (ain_vec_global_init); without it, hashed-ngrams and a flat backend. */
typedef struct {
  ain_vec_embedder_t embed;
  const char *backend; /* "flat" (default) | "qdrant" */
  ain_vec_qdrant_opts_t qdrant;
} ain_vec_global_opts_t;
int ain_vec_global_init(const ain_vec_global_opts_t *o, ain_err_t *err);
ain_vec_backend_t *ain_vec_global_backend(void);
const ain_vec_embedder_t *ain_vec_global_embedder(void);
/* 1 when the backend is the flat one (filled from the store by its callers). */
int ain_vec_global_is_flat(void);

#endif
