/* What every backend shares (vec.h): result cleanup, the kind check, and the process's backend
 * and embedder. One per process on purpose: the flat index is memory that every shard and API
 * worker reads, so it cannot belong to one of them; ain_vec_global_init runs at start-up before
 * any thread uses it (engine start, the CLI), and a process that never calls it gets
 * hashed-ngrams over a flat index (ain test, unit tests).
 * Relies on: vec.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec/vec.h"

void ain_vec_results_free(ain_vec_result_t *r, size_t n) {
  for (size_t i = 0; r != NULL && i < n; i++) {
    free(r[i].label);
  }
  free(r);
}

int ain_vec_kind_check(const char *kind, ain_err_t *err) {
  size_t n = kind ? strlen(kind) : 0;
  if (n == 0 || n > AIN_VEC_KIND_MAX ||
      strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
    return ain_err_field(err, AIN_EINVAL, "kind",
                         "kind must be 1..%d bytes of [a-z0-9_], got \"%.64s\"", AIN_VEC_KIND_MAX,
                         kind ? kind : "");
  }
  return 0;
}

static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static ain_vec_backend_t *global_backend;
static int global_flat = 1;
static ain_vec_embedder_t global_embed = {.provider = AIN_VEC_HASHED_MODEL, .dims = 1024};
static char *global_strs[4]; /* owned copies of the embedder's strings */

static const char *keep(int i, const char *s) {
  free(global_strs[i]);
  global_strs[i] = s ? strdup(s) : NULL;
  return global_strs[i];
}

int ain_vec_global_init(const ain_vec_global_opts_t *o, ain_err_t *err) {
  ain_vec_backend_t *b = NULL;
  int flat = o->backend == NULL || strcmp(o->backend, "flat") == 0;
  if (flat) {
    b = ain_vec_flat_new();
  } else if (strcmp(o->backend, "qdrant") == 0) {
    int rc = ain_vec_qdrant_new(&o->qdrant, &b, err);
    if (rc != 0) {
      return rc;
    }
  } else {
    return ain_err_field(err, AIN_ECONFIG, "vectors.backend",
                         "unknown backend \"%s\" (flat or qdrant)", o->backend);
  }
  if (b == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "vectors: out of memory");
  }
  pthread_mutex_lock(&global_mu);
  ain_vec_backend_t *old = global_backend;
  global_backend = b;
  global_flat = flat;
  global_embed = o->embed;
  global_embed.provider = keep(0, o->embed.provider ? o->embed.provider : AIN_VEC_HASHED_MODEL);
  global_embed.url = keep(1, o->embed.url);
  global_embed.model = keep(2, o->embed.model);
  global_embed.api_key = keep(3, o->embed.api_key);
  pthread_mutex_unlock(&global_mu);
  if (old != NULL) {
    old->vt->free(old); /* start-up only: nothing uses the old one yet */
  }
  return 0;
}

ain_vec_backend_t *ain_vec_global_backend(void) {
  pthread_mutex_lock(&global_mu);
  if (global_backend == NULL) {
    global_backend = ain_vec_flat_new();
    global_flat = 1;
  }
  ain_vec_backend_t *b = global_backend;
  pthread_mutex_unlock(&global_mu);
  return b;
}

const ain_vec_embedder_t *ain_vec_global_embedder(void) {
  return &global_embed;
}

int ain_vec_global_is_flat(void) {
  (void)ain_vec_global_backend();
  return global_flat;
}
