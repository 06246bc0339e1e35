/* The generic layer of the PURGE op (purge.h): initialiser, input checks, output cleanup and the
 * JSON lists both backends return. Relies on: store.h, cJSON. */
#include "store/purge.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void ain_store_req_purge(ain_store_req_t *req, ain_store_purge_t *p, int64_t older_than, int limit,
                         int dry_run) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_PURGE;
  req->u.purge = p;
  if (p != NULL) {
    memset(p, 0, sizeof *p);
    p->older_than = older_than;
    p->limit = limit;
    p->dry_run = dry_run;
  }
}

int ain__store_purge_check(const ain_store_req_t *req, ain_err_t *err) {
  const ain_store_purge_t *p = req->u.purge;
  if (p == NULL) {
    return ain_err_field(err, AIN_EINVAL, "purge", "a purge request needs its ain_store_purge_t");
  }
  if (p->limit <= 0 || p->limit > AIN_STORE_PURGE_LIMIT_MAX) {
    return ain_err_field(err, AIN_EINVAL, "limit", "purge limit must be 1..%d, got %d",
                         AIN_STORE_PURGE_LIMIT_MAX, p->limit);
  }
  if (p->older_than <= 0) {
    return ain_err_field(err, AIN_EINVAL, "older_than", "purge older_than must be > 0 ms");
  }
  return 0;
}

static void free_list(char ***list, size_t *n) {
  for (size_t i = 0; *list != NULL && i < *n; i++) {
    free((*list)[i]);
  }
  free(*list);
  *list = NULL;
  *n = 0;
}

void ain__store_purge_cleanup(ain_store_req_t *req) {
  ain_store_purge_t *p = req->u.purge;
  if (p == NULL) {
    return;
  }
  free_list(&p->dag_ids, &p->ndag_ids);
  free_list(&p->keys, &p->nkeys);
}

static int take(const char *json, char ***out, size_t *n) {
  cJSON *a = json != NULL ? cJSON_Parse(json) : NULL;
  int count = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
  if (count == 0) {
    cJSON_Delete(a);
    return 0;
  }
  *out = calloc((size_t)count, sizeof **out);
  if (*out == NULL) {
    cJSON_Delete(a);
    return AIN_ENOMEM;
  }
  cJSON *it;
  cJSON_ArrayForEach(it, a) {
    if (cJSON_IsString(it)) {
      (*out)[*n] = strdup(it->valuestring);
      if ((*out)[*n] == NULL) {
        cJSON_Delete(a);
        return AIN_ENOMEM;
      }
      (*n)++;
    }
  }
  cJSON_Delete(a);
  return 0;
}

int ain__store_purge_take_lists(ain_store_purge_t *p, const char *dag_ids_json,
                                const char *keys_json, ain_err_t *err) {
  if (take(dag_ids_json, &p->dag_ids, &p->ndag_ids) != 0 ||
      take(keys_json, &p->keys, &p->nkeys) != 0) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory reading the purge's lists");
  }
  return 0;
}
