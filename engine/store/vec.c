/* The generic half of the embeddings ops (VEC_PUT / VEC_LOAD, store.h): request initialisers,
 * the input checks store.c runs before a backend sees a request, output cleanup, and the stored
 * byte order. Rows live in table embeddings (sql/<backend>/020_vectors.sql); the backends'
 * vec.c files hold the SQL. Relies on: store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void ain_store_req_vec_put(ain_store_req_t *req, const char *kind, const char *model, int dims,
                           ain_store_vec_row_t *rows, size_t nrows) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_VEC_PUT;
  req->u.vec.kind = kind;
  req->u.vec.model = model;
  req->u.vec.dims = dims;
  req->u.vec.rows = rows;
  req->u.vec.nrows = nrows;
}

void ain_store_req_vec_load(ain_store_req_t *req, const char *kind, const char *model, int dims,
                            int64_t after_seq, int limit) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_VEC_LOAD;
  req->u.vec.kind = kind;
  req->u.vec.model = model;
  req->u.vec.dims = dims;
  req->u.vec.after_seq = after_seq;
  req->u.vec.recheck_after = after_seq; /* no late rows looked for unless asked */
  req->u.vec.limit = limit;
}

void ain_store_req_vec_load_late(ain_store_req_t *req, int64_t recheck_after, const int64_t *have,
                                 size_t nhave) {
  req->u.vec.recheck_after = recheck_after;
  req->u.vec.have = have;
  req->u.vec.nhave = nhave;
}

/* have as a JSON array of integers (both backends bind it as text). NULL on no memory. */
char *ain__store_vec_have_json(const ain_store_req_t *req) {
  size_t n = req->u.vec.nhave;
  char *out = malloc(n * 21 + 3), *p = out;
  if (out == NULL) {
    return NULL;
  }
  *p++ = '[';
  for (size_t i = 0; i < n; i++) {
    p += sprintf(p, "%s%lld", i > 0 ? "," : "", (long long)req->u.vec.have[i]);
  }
  *p++ = ']';
  *p = '\0';
  return out;
}

static int by_id(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int ain__store_vec_check(const ain_store_req_t *req, ain_err_t *err) {
  const char *kind = req->u.vec.kind, *model = req->u.vec.model;
  size_t kl = kind ? strlen(kind) : 0;
  if (kl == 0 || kl > 64 || strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") != kl) {
    return ain_err_field(err, AIN_EINVAL, "kind", "kind must be 1..64 bytes of [a-z0-9_]");
  }
  if (model == NULL || model[0] == '\0' || strlen(model) > 128) {
    return ain_err_field(err, AIN_EINVAL, "model", "model must be 1..128 bytes");
  }
  if (req->u.vec.dims < 1 || req->u.vec.dims > 8192) {
    return ain_err_field(err, AIN_EINVAL, "dims", "dims must be 1..8192, got %d", req->u.vec.dims);
  }
  if (req->op == AIN_STORE_VEC_LOAD) {
    if (req->u.vec.limit < 1 || req->u.vec.limit > AIN_STORE_VEC_LOAD_MAX) {
      return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..%d, got %d",
                           AIN_STORE_VEC_LOAD_MAX, req->u.vec.limit);
    }
    if (req->u.vec.nhave > AIN_STORE_VEC_HAVE_MAX || (req->u.vec.nhave > 0 && !req->u.vec.have)) {
      return ain_err_field(err, AIN_EINVAL, "have", "at most %d held seqs, got %zu",
                           AIN_STORE_VEC_HAVE_MAX, req->u.vec.nhave);
    }
    return 0;
  }
  size_t n = req->u.vec.nrows;
  if (n == 0 || req->u.vec.rows == NULL) {
    return ain_err_field(err, AIN_EINVAL, "rows", "nothing to store");
  }
  char **ids = malloc(n * sizeof *ids);
  if (ids == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const ain_store_vec_row_t *r = &req->u.vec.rows[i];
    if (r->item_id == NULL || r->item_id[0] == '\0' || strlen(r->item_id) > 256) {
      rc =
          ain_err_field(err, AIN_EINVAL, "item_id", "row %zu: item_id must be 1..256 bytes", i + 1);
    } else if (r->vec == NULL) {
      rc = ain_err_field(err, AIN_EINVAL, "vec", "row %zu (%s) has no vector", i + 1, r->item_id);
    }
    ids[i] = r->item_id;
  }
  if (rc == 0) {
    /* one statement may not touch a row twice (Postgres ON CONFLICT refuses it) */
    qsort(ids, n, sizeof *ids, by_id);
    for (size_t i = 1; i < n && rc == 0; i++) {
      if (strcmp(ids[i - 1], ids[i]) == 0) {
        rc = ain_err_field(err, AIN_EINVAL, "item_id", "item_id %s appears twice", ids[i]);
      }
    }
  }
  free(ids);
  return rc;
}

void ain__store_vec_cleanup(ain_store_req_t *req) {
  for (size_t i = 0; req->u.vec.rows != NULL && i < req->u.vec.nrows; i++) {
    free(req->u.vec.rows[i].item_id);
    free(req->u.vec.rows[i].label);
    free(req->u.vec.rows[i].vec);
  }
  free(req->u.vec.rows);
  req->u.vec.rows = NULL;
  req->u.vec.nrows = 0;
}

void ain__store_vec_to_le(const float *v, int dims, unsigned char *out) {
  for (int i = 0; i < dims; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    out[4 * i] = (unsigned char)u;
    out[4 * i + 1] = (unsigned char)(u >> 8);
    out[4 * i + 2] = (unsigned char)(u >> 16);
    out[4 * i + 3] = (unsigned char)(u >> 24);
  }
}

void ain__store_vec_from_le(const unsigned char *in, int dims, float *v) {
  for (int i = 0; i < dims; i++) {
    uint32_t u = (uint32_t)in[4 * i] | (uint32_t)in[4 * i + 1] << 8 |
                 (uint32_t)in[4 * i + 2] << 16 | (uint32_t)in[4 * i + 3] << 24;
    memcpy(&v[i], &u, 4);
  }
}
