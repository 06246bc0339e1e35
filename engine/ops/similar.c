/* Operator vector search (similar.h). The query is embedded with the process's embedder; with the
 * flat backend the index of (kind, model) is first brought up to date from the store's
 * embeddings rows after the last sequence number it holds (VEC_LOAD pages), so a CLI process
 * starting cold loads the whole kind once and an API worker only what was added since.
 * Relies on: similar.h, vec/vec.h, store/store.h, core/secret.h, cJSON. */
#include "ops/similar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "vec/vec.h"

static int resolve(const ain_config_t *cfg, const char *key, const char *name, char **out,
                   ain_err_t *err) {
  *out = NULL;
  if (name == NULL) {
    return 0;
  }
  size_t len = 0;
  ain_err_t e2;
  ain_err_clear(&e2);
  if (ain_secret_resolve(cfg->secrets_dir, name, out, &len, &e2) != 0) {
    return ain_err_field(err, AIN_ECONFIG, key, "'%s': secret '%s': %s", key, name, e2.msg);
  }
  return 0;
}

int ain_ops_vectors_init(const ain_config_t *cfg, ain_err_t *err) {
  char *ekey = NULL, *qkey = NULL;
  int rc = resolve(cfg, "embed.secret", cfg->embed.secret, &ekey, err);
  if (rc == 0) {
    rc = resolve(cfg, "vectors.qdrant.secret", cfg->vectors.qdrant.secret, &qkey, err);
  }
  if (rc == 0) {
    ain_vec_global_opts_t o = {.embed = {.provider = cfg->embed.provider,
                                         .dims = (int)cfg->embed.dims,
                                         .url = cfg->embed.url,
                                         .model = cfg->embed.model,
                                         .api_key = ekey,
                                         .timeout_ms = cfg->embed.timeout_ms,
                                         .batch = (int)cfg->embed.batch},
                               .backend = cfg->vectors.backend,
                               .qdrant = {.url = cfg->vectors.qdrant.url,
                                          .api_key = qkey,
                                          .prefix = cfg->vectors.qdrant.prefix,
                                          .timeout_ms = cfg->vectors.qdrant.timeout_ms}};
    rc = ain_vec_global_init(&o, err);
  }
  if (ekey != NULL) {
    ain_secret_free(ekey, strlen(ekey));
  }
  if (qkey != NULL) {
    ain_secret_free(qkey, strlen(qkey));
  }
  return rc;
}

/* Loads the store's rows of (kind, model) the flat index has not: after its highest sequence
 * number, and late commits below it (vec.h, ain_vec_flat_sync_point). */
static int sync_flat(ain_ops_t *ops, ain_vec_backend_t *be, const char *kind, const char *model,
                     int dims, ain_err_t *err) {
  int64_t *have = malloc(AIN_VEC_LATE_MAX * sizeof *have);
  if (have == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  int rc = 0;
  for (;;) {
    int64_t after, recheck;
    size_t nhave;
    ain_vec_flat_sync_point(be, kind, model, ain_now_ms(), &after, &recheck, have,
                            AIN_VEC_LATE_MAX, &nhave);
    ain_store_req_t req;
    ain_store_req_vec_load(&req, kind, model, dims, after, AIN_STORE_VEC_LOAD_MAX);
    ain_store_req_vec_load_late(&req, recheck, have, nhave);
    rc = ain_ops_wait(ops, &req, NULL, err);
    if (rc != 0) {
      break;
    }
    size_t n = req.u.vec.nrows;
    ain_vec_item_t *items = malloc((n ? n : 1) * sizeof *items);
    int64_t *seqs = malloc((n ? n : 1) * sizeof *seqs);
    for (size_t i = 0; items != NULL && seqs != NULL && i < n; i++) {
      const ain_store_vec_row_t *r = &req.u.vec.rows[i];
      items[i] = (ain_vec_item_t){r->item_id, r->label, r->created_at, r->vec};
      seqs[i] = r->seq;
    }
    rc = items == NULL || seqs == NULL ? ain_err_set(err, AIN_ENOMEM, "out of memory")
         : n > 0                       ? be->vt->upsert(be, kind, model, dims, items, n, err)
                                       : 0;
    if (rc == 0) {
      ain_vec_flat_loaded(be, kind, model, seqs, n, ain_now_ms());
    }
    free(items);
    free(seqs);
    ain_store_req_cleanup(&req);
    if (rc != 0 || n < (size_t)AIN_STORE_VEC_LOAD_MAX) {
      break;
    }
  }
  free(have);
  return rc;
}

int ain_ops_similar(ain_ops_t *ops, const char *text, const char *kind, long k,
                    ain_ops_similar_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  kind = kind != NULL && kind[0] != '\0' ? kind : "trend";
  if (text == NULL || text[0] == '\0' || strlen(text) > AIN_OPS_SIMILAR_TEXT_MAX) {
    return ain_err_field(err, AIN_EINVAL, "q", "a query text of 1..%d bytes is required",
                         AIN_OPS_SIMILAR_TEXT_MAX);
  }
  if (k < 1 || k > AIN_VEC_K_MAX) {
    return ain_err_field(err, AIN_EINVAL, "k", "k must be 1..%d, got %ld", AIN_VEC_K_MAX, k);
  }
  int rc = ain_vec_kind_check(kind, err);
  if (rc != 0) {
    return rc;
  }
  const ain_vec_embedder_t *e = ain_vec_global_embedder();
  ain_vec_backend_t *be = ain_vec_global_backend();
  float *v = NULL;
  int dims = 0;
  ain_err_t e2;
  ain_err_clear(&e2);
  if ((rc = ain_vec_embed(e, &text, 1, &v, &dims, &e2)) != 0) {
    /* the one text is the query: name it so */
    return ain_err_field(err, rc, rc == AIN_EINVAL ? "q" : e2.field, "%s", e2.msg);
  }
  snprintf(out->kind, sizeof out->kind, "%s", kind);
  ain_vec_model_name(e, out->model);
  out->k = (size_t)k;
  if (ain_vec_global_is_flat()) {
    rc = sync_flat(ops, be, kind, out->model, dims, err);
  }
  if (rc == 0) {
    ain_vec_query_t q = {.k = (size_t)k, .min_score = -1, .since = 0};
    ain_vec_result_t *res = NULL;
    rc = be->vt->search(be, kind, out->model, dims, v, &q, &res, &out->nresults, err);
    out->results = res;
  }
  free(v);
  return rc;
}

void ain_ops_similar_free(ain_ops_similar_t *s) {
  ain_vec_results_free(s->results, s->nresults);
  memset(s, 0, sizeof *s);
}

cJSON *ain_ops_similar_json(const ain_ops_similar_t *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "kind", s->kind);
  cJSON_AddStringToObject(o, "model", s->model);
  cJSON_AddNumberToObject(o, "k", (double)s->k);
  cJSON *arr = cJSON_AddArrayToObject(o, "results");
  const ain_vec_result_t *r = s->results;
  for (size_t i = 0; i < s->nresults; i++) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "id", r[i].id);
    cJSON_AddStringToObject(x, "label", r[i].label ? r[i].label : "");
    /* four decimals: a float's noise is not part of the answer */
    cJSON_AddNumberToObject(
        x, "score", (double)(long)(r[i].score * 10000 + (r[i].score < 0 ? -0.5 : 0.5)) / 10000);
    cJSON_AddNumberToObject(x, "created_at", (double)r[i].created_at);
    cJSON_AddItemToArray(arr, x);
  }
  return o;
}
