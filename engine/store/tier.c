/* The generic layer of the tiering ops (tier.h): initialisers, input checks and the list's
 * cleanup. Relies on: store.h. */
#include "store/tier.h"

#include <stdlib.h>
#include <string.h>

static void init(ain_store_req_t *req, ain_store_op_t op, ain_store_tier_t *t,
                 const char *storage_class) {
  memset(req, 0, sizeof *req);
  req->op = op;
  req->u.tier = t;
  if (t != NULL) {
    memset(t, 0, sizeof *t);
    t->storage_class = storage_class;
  }
}

void ain_store_req_tier_list(ain_store_req_t *req, ain_store_tier_t *t, const char *storage_class,
                             int64_t older_than, const char *after_key, int limit) {
  init(req, AIN_STORE_TIER_LIST, t, storage_class);
  if (t != NULL) {
    t->older_than = older_than;
    t->after_key = after_key;
    t->limit = limit;
  }
}

void ain_store_req_tier_mark(ain_store_req_t *req, ain_store_tier_t *t, const char *storage_class,
                             char *const *keys, size_t n) {
  init(req, AIN_STORE_TIER_MARK, t, storage_class);
  if (t != NULL) {
    t->mark_keys = keys;
    t->nmark = n;
  }
}

int ain__store_tier_check(const ain_store_req_t *req, ain_err_t *err) {
  const ain_store_tier_t *t = req->u.tier;
  if (t == NULL) {
    return ain_err_field(err, AIN_EINVAL, "tier", "a tiering request needs its ain_store_tier_t");
  }
  size_t n = t->storage_class != NULL ? strlen(t->storage_class) : 0;
  if (n == 0 || n > 64 || strspn(t->storage_class, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != n) {
    return ain_err_field(err, AIN_EINVAL, "storage_class",
                         "a storage class is 1..64 of A-Z and _, got \"%s\"",
                         t->storage_class != NULL ? t->storage_class : "");
  }
  if (req->op == AIN_STORE_TIER_MARK) {
    for (size_t i = 0; i < t->nmark; i++) {
      if (t->mark_keys[i] == NULL || t->mark_keys[i][0] == '\0') {
        return ain_err_field(err, AIN_EINVAL, "keys", "tier mark: key %zu is empty", i);
      }
    }
    return 0;
  }
  if (t->limit <= 0 || t->limit > AIN_STORE_TIER_LIMIT_MAX) {
    return ain_err_field(err, AIN_EINVAL, "limit", "tier list limit must be 1..%d, got %d",
                         AIN_STORE_TIER_LIMIT_MAX, t->limit);
  }
  if (t->older_than <= 0) {
    return ain_err_field(err, AIN_EINVAL, "older_than", "tier list older_than must be > 0 ms");
  }
  return 0;
}

void ain__store_tier_cleanup(ain_store_req_t *req) {
  ain_store_tier_t *t = req->u.tier;
  if (t == NULL) {
    return;
  }
  for (size_t i = 0; i < t->nkeys; i++) {
    free(t->keys[i]);
  }
  free(t->keys);
  t->keys = NULL;
  t->nkeys = 0;
}

int ain__store_tier_take(ain_store_tier_t *t, const char *key) {
  char **g = realloc(t->keys, (t->nkeys + 1) * sizeof *g);
  if (g == NULL) {
    return AIN_ENOMEM;
  }
  t->keys = g;
  t->keys[t->nkeys] = strdup(key);
  if (t->keys[t->nkeys] == NULL) {
    return AIN_ENOMEM;
  }
  t->nkeys++;
  return 0;
}
