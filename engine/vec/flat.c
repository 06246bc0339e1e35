/* The flat backend (vec.h): exact search over one contiguous float32 block per (kind, model),
 * in this process's memory. Upserts append (or overwrite the row of a known id, found through an
 * open-addressing table of ids); a search is one pass of ain_vec_topk over the block under the
 * index's read lock, so searches on many threads run together and an upsert waits for them.
 * The block grows by half its size (realloc: Linux moves large blocks with mremap, no copy peak).
 * Relies on: vec.h, pthreads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec/vec.h"

typedef struct flat_index {
  char kind[AIN_VEC_KIND_MAX + 1];
  char model[AIN_VEC_MODEL_MAX];
  int dims;
  size_t n, cap;
  float *block;
  int64_t *ts;
  char **ids, **labels;
  size_t *slots; /* id table: row + 1, 0 = empty; nslots a power of two >= 2 * n */
  size_t nslots;
  int64_t synced; /* the highest store seq loaded */
  int64_t floor;  /* late commits are looked for above this seq only */
  struct recent {
    int64_t seq, at_ms;
  } *recent;      /* seqs loaded within the hold, in load order (vec.h: sync_point) */
  size_t nrecent, caprecent;
  pthread_rwlock_t lock;
  struct flat_index *next;
} flat_index_t;

typedef struct {
  ain_vec_backend_t base;
  pthread_mutex_t mu; /* guards the list, not the indexes */
  flat_index_t *indexes;
} flat_t;

static uint64_t id_hash(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) {
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  }
  return h ^ (h >> 31);
}

/* The slot of id: its row's slot, or the empty slot where it would go. */
static size_t *slot_of(flat_index_t *x, const char *id) {
  size_t mask = x->nslots - 1, i = id_hash(id) & mask;
  while (x->slots[i] != 0 && strcmp(x->ids[x->slots[i] - 1], id) != 0) {
    i = (i + 1) & mask;
  }
  return &x->slots[i];
}

static int rehash(flat_index_t *x, size_t want) {
  size_t ns = 16;
  while (ns < 2 * want) {
    ns *= 2;
  }
  if (ns <= x->nslots) {
    return 0;
  }
  size_t *s = calloc(ns, sizeof *s);
  if (s == NULL) {
    return -1;
  }
  free(x->slots);
  x->slots = s;
  x->nslots = ns;
  for (size_t r = 0; r < x->n; r++) {
    *slot_of(x, x->ids[r]) = r + 1;
  }
  return 0;
}

static int grow(flat_index_t *x, size_t want) {
  if (want <= x->cap) {
    return rehash(x, want);
  }
  size_t cap = x->cap ? x->cap + x->cap / 2 : 1024;
  while (cap < want) {
    cap += cap / 2;
  }
  float *b = realloc(x->block, cap * (size_t)x->dims * sizeof *b);
  if (b == NULL) {
    return -1;
  }
  x->block = b;
  int64_t *ts = realloc(x->ts, cap * sizeof *ts);
  if (ts == NULL) {
    return -1;
  }
  x->ts = ts;
  char **ids = realloc(x->ids, cap * sizeof *ids);
  if (ids == NULL) {
    return -1;
  }
  x->ids = ids;
  char **labels = realloc(x->labels, cap * sizeof *labels);
  if (labels == NULL) {
    return -1;
  }
  x->labels = labels;
  x->cap = cap;
  return rehash(x, want);
}

/* The index of (kind, model); created (with dims) when create is set, else NULL when absent. */
static flat_index_t *find(flat_t *f, const char *kind, const char *model, int dims, int create) {
  pthread_mutex_lock(&f->mu);
  flat_index_t *x = f->indexes;
  while (x != NULL && (strcmp(x->kind, kind) != 0 || strcmp(x->model, model) != 0)) {
    x = x->next;
  }
  if (x == NULL && create) {
    x = calloc(1, sizeof *x);
    if (x != NULL) {
      snprintf(x->kind, sizeof x->kind, "%s", kind);
      snprintf(x->model, sizeof x->model, "%s", model);
      x->dims = dims;
      pthread_rwlock_init(&x->lock, NULL);
      x->next = f->indexes;
      f->indexes = x;
    }
  }
  pthread_mutex_unlock(&f->mu);
  return x;
}

static int dims_mismatch(const flat_index_t *x, int dims, ain_err_t *err) {
  return ain_err_field(err, AIN_EINVAL, "dims",
                       "%s/%s holds %d-dimensional vectors, this one has %d", x->kind, x->model,
                       x->dims, dims);
}

static int flat_upsert(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                       const ain_vec_item_t *items, size_t n, ain_err_t *err) {
  flat_t *f = (flat_t *)b;
  int rc = ain_vec_kind_check(kind, err);
  if (rc != 0) {
    return rc;
  }
  if (dims < 1 || dims > AIN_VEC_DIMS_MAX) {
    return ain_err_field(err, AIN_EINVAL, "dims", "dims must be 1..%d, got %d", AIN_VEC_DIMS_MAX,
                         dims);
  }
  flat_index_t *x = find(f, kind, model, dims, 1);
  if (x == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "vectors: out of memory");
  }
  if (x->dims != dims) {
    return dims_mismatch(x, dims, err);
  }
  pthread_rwlock_wrlock(&x->lock);
  if (grow(x, x->n + n) != 0) {
    rc = ain_err_set(err, AIN_ENOMEM, "vectors: out of memory growing %s/%s", kind, model);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const ain_vec_item_t *it = &items[i];
    if (it->id == NULL || it->id[0] == '\0' || strlen(it->id) > AIN_VEC_ID_MAX) {
      rc = ain_err_field(err, AIN_EINVAL, "id", "item %zu: an id of 1..%d bytes is required", i + 1,
                         AIN_VEC_ID_MAX);
      goto fail;
    }
    size_t *slot = slot_of(x, it->id);
    size_t row;
    if (*slot != 0) {
      row = *slot - 1;
      free(x->labels[row]);
    } else {
      row = x->n++;
      x->ids[row] = strdup(it->id);
      *slot = row + 1;
    }
    x->labels[row] = strdup(it->label ? it->label : "");
    x->ts[row] = it->created_at;
    memcpy(x->block + row * (size_t)dims, it->vec, (size_t)dims * sizeof(float));
  }
fail:
  pthread_rwlock_unlock(&x->lock);
  return rc;
}

static int flat_search(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                       const float *vec, const ain_vec_query_t *q, ain_vec_result_t **out,
                       size_t *nout, ain_err_t *err) {
  flat_t *f = (flat_t *)b;
  *out = NULL;
  *nout = 0;
  if (q->k < 1 || q->k > AIN_VEC_K_MAX) {
    return ain_err_field(err, AIN_EINVAL, "k", "k must be 1..%d, got %zu", AIN_VEC_K_MAX, q->k);
  }
  flat_index_t *x = find(f, kind, model, dims, 0);
  if (x == NULL) {
    return 0;
  }
  if (x->dims != dims) {
    return dims_mismatch(x, dims, err);
  }
  ain_vec_hit_t *hits = malloc(q->k * sizeof *hits);
  ain_vec_result_t *res = calloc(q->k, sizeof *res);
  if (hits == NULL || res == NULL) {
    free(hits);
    free(res);
    return ain_err_set(err, AIN_ENOMEM, "vectors: out of memory");
  }
  pthread_rwlock_rdlock(&x->lock);
  size_t nh = ain_vec_topk(x->block, x->n, (size_t)dims, vec, q->k, q->min_score,
                           q->since > 0 ? x->ts : NULL, q->since, hits);
  for (size_t i = 0; i < nh; i++) {
    snprintf(res[i].id, sizeof res[i].id, "%s", x->ids[hits[i].row]);
    res[i].label = strdup(x->labels[hits[i].row]);
    res[i].created_at = x->ts[hits[i].row];
    res[i].score = hits[i].score;
  }
  pthread_rwlock_unlock(&x->lock);
  free(hits);
  *out = res;
  *nout = nh;
  return 0;
}

int ain_vec_flat_search_many(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                             const float *qs, size_t nq, const ain_vec_query_t *q,
                             ain_vec_result_t **res, size_t *nres, ain_err_t *err) {
  flat_t *f = (flat_t *)b;
  if (q->k < 1 || q->k > AIN_VEC_K_MAX) {
    return ain_err_field(err, AIN_EINVAL, "k", "k must be 1..%d, got %zu", AIN_VEC_K_MAX, q->k);
  }
  flat_index_t *x = find(f, kind, model, dims, 0);
  if (x != NULL && x->dims != dims) {
    return dims_mismatch(x, dims, err);
  }
  int sparse = 0;
  ain_vec_hit_t *hits = NULL;
  size_t *nh = NULL;
  if (x != NULL) {
    pthread_rwlock_rdlock(&x->lock);
    sparse = q->min_score > 0 && x->n > 0 && ain_vec_is_sparse(qs, nq, (size_t)dims) &&
             ain_vec_is_sparse(x->block, x->n, (size_t)dims);
    if (sparse) {
      hits = malloc(nq * q->k * sizeof *hits);
      nh = calloc(nq ? nq : 1, sizeof *nh);
      sparse = hits != NULL && nh != NULL &&
               ain_vec_topk_many_sparse(x->block, x->n, (size_t)dims, qs, nq, q->k, q->min_score,
                                        q->since > 0 ? x->ts : NULL, q->since, hits, nh) == 0;
    }
    if (sparse) {
      int rc = 0;
      for (size_t i = 0; i < nq && rc == 0; i++) {
        res[i] = calloc(q->k, sizeof *res[i]);
        nres[i] = res[i] ? nh[i] : 0;
        rc = res[i] ? 0 : ain_err_set(err, AIN_ENOMEM, "vectors: out of memory");
        for (size_t j = 0; j < nres[i]; j++) {
          const ain_vec_hit_t *h = &hits[i * q->k + j];
          snprintf(res[i][j].id, sizeof res[i][j].id, "%s", x->ids[h->row]);
          res[i][j].label = strdup(x->labels[h->row]);
          res[i][j].created_at = x->ts[h->row];
          res[i][j].score = h->score;
        }
      }
      pthread_rwlock_unlock(&x->lock);
      free(hits);
      free(nh);
      return rc;
    }
    pthread_rwlock_unlock(&x->lock);
    free(hits);
    free(nh);
  }
  for (size_t i = 0; i < nq; i++) {
    int rc = flat_search(b, kind, model, dims, qs + i * (size_t)dims, q, &res[i], &nres[i], err);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}

static int64_t flat_count(ain_vec_backend_t *b, const char *kind, const char *model) {
  flat_index_t *x = find((flat_t *)b, kind, model, 0, 0);
  if (x == NULL) {
    return 0;
  }
  pthread_rwlock_rdlock(&x->lock);
  int64_t n = (int64_t)x->n;
  pthread_rwlock_unlock(&x->lock);
  return n;
}

static void flat_free(ain_vec_backend_t *b) {
  flat_t *f = (flat_t *)b;
  while (f->indexes != NULL) {
    flat_index_t *x = f->indexes;
    f->indexes = x->next;
    for (size_t r = 0; r < x->n; r++) {
      free(x->ids[r]);
      free(x->labels[r]);
    }
    free(x->ids);
    free(x->labels);
    free(x->ts);
    free(x->block);
    free(x->slots);
    free(x->recent);
    pthread_rwlock_destroy(&x->lock);
    free(x);
  }
  pthread_mutex_destroy(&f->mu);
  free(f);
}

static const ain_vec_backend_vt flat_vt = {"flat", flat_upsert, flat_search, flat_count, flat_free};

ain_vec_backend_t *ain_vec_flat_new(void) {
  flat_t *f = calloc(1, sizeof *f);
  if (f == NULL) {
    return NULL;
  }
  f->base.vt = &flat_vt;
  pthread_mutex_init(&f->mu, NULL);
  return &f->base;
}

/* Drops loaded seqs past the hold (or beyond the cap), moving the floor over them, and any
 * left at or below the floor. Write lock held. */
static void age_recent(flat_index_t *x, int64_t now_ms) {
  size_t drop = 0;
  while (drop < x->nrecent && (x->recent[drop].at_ms <= now_ms - AIN_VEC_LATE_HOLD_MS ||
                               x->nrecent - drop > AIN_VEC_LATE_MAX)) {
    if (x->recent[drop].seq > x->floor) {
      x->floor = x->recent[drop].seq;
    }
    drop++;
  }
  size_t w = 0;
  for (size_t r = drop; r < x->nrecent; r++) {
    if (x->recent[r].seq > x->floor) {
      x->recent[w++] = x->recent[r];
    }
  }
  x->nrecent = w;
}

void ain_vec_flat_sync_point(ain_vec_backend_t *b, const char *kind, const char *model,
                             int64_t now_ms, int64_t *after, int64_t *recheck_after, int64_t *have,
                             size_t cap, size_t *nhave) {
  *after = *recheck_after = 0;
  *nhave = 0;
  flat_index_t *x = b->vt == &flat_vt ? find((flat_t *)b, kind, model, 0, 0) : NULL;
  if (x == NULL) {
    return;
  }
  pthread_rwlock_wrlock(&x->lock);
  age_recent(x, now_ms);
  /* more than the caller has room for: the oldest go below the floor now */
  size_t drop = x->nrecent > cap ? x->nrecent - cap : 0;
  for (size_t i = 0; i < drop; i++) {
    x->floor = x->recent[i].seq > x->floor ? x->recent[i].seq : x->floor;
  }
  if (drop > 0) {
    memmove(x->recent, x->recent + drop, (x->nrecent - drop) * sizeof *x->recent);
    x->nrecent -= drop;
    age_recent(x, now_ms); /* and those now at or below the floor */
  }
  *after = x->synced;
  *recheck_after = x->floor < x->synced ? x->floor : x->synced;
  for (size_t i = 0; i < x->nrecent; i++) {
    have[i] = x->recent[i].seq;
  }
  *nhave = x->nrecent;
  pthread_rwlock_unlock(&x->lock);
}

void ain_vec_flat_loaded(ain_vec_backend_t *b, const char *kind, const char *model,
                         const int64_t *seqs, size_t n, int64_t now_ms) {
  flat_index_t *x = b->vt == &flat_vt ? find((flat_t *)b, kind, model, 0, 0) : NULL;
  if (x == NULL || n == 0) {
    return;
  }
  pthread_rwlock_wrlock(&x->lock);
  if (x->nrecent + n > x->caprecent) {
    size_t c = x->caprecent ? x->caprecent : 64;
    while (c < x->nrecent + n) {
      c *= 2;
    }
    struct recent *g = realloc(x->recent, c * sizeof *g);
    if (g == NULL) {
      /* cannot remember them: give up looking below them for late commits instead */
      for (size_t i = 0; i < n; i++) {
        x->floor = seqs[i] > x->floor ? seqs[i] : x->floor;
        x->synced = seqs[i] > x->synced ? seqs[i] : x->synced;
      }
      pthread_rwlock_unlock(&x->lock);
      return;
    }
    x->recent = g;
    x->caprecent = c;
  }
  for (size_t i = 0; i < n; i++) {
    x->recent[x->nrecent++] = (struct recent){seqs[i], now_ms};
    if (seqs[i] > x->synced) {
      x->synced = seqs[i];
    }
  }
  age_recent(x, now_ms);
  pthread_rwlock_unlock(&x->lock);
}

void ain_vec_flat_with_block(ain_vec_backend_t *b, const char *kind, const char *model,
                             void (*fn)(const float *block, size_t n, int dims, void *data),
                             void *data) {
  flat_index_t *x = b->vt == &flat_vt ? find((flat_t *)b, kind, model, 0, 0) : NULL;
  if (x == NULL) {
    fn(NULL, 0, 0, data);
    return;
  }
  pthread_rwlock_rdlock(&x->lock);
  fn(x->block, x->n, x->dims, data);
  pthread_rwlock_unlock(&x->lock);
}
