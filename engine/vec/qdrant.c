/* The Qdrant backend (vec.h) over Qdrant's REST API (https://qdrant.tech/documentation/):
 *  - one collection per (kind, model), "<prefix><kind>__<model>" with every byte outside
 *    [A-Za-z0-9_-] of the model turned into '_', created on first upsert with
 *    PUT /collections/{name} {"vectors": {"size": dims, "distance": "Cosine"}};
 *  - PUT /collections/{name}/points?wait=true {"points": [{"id": uuid, "vector": [...],
 *    "payload": {"item_id", "label", "created_at"}}]}; Qdrant point ids are unsigned integers
 *    or UUIDs, so the id is a UUID made of the sha256 of the item id (the item id rides in the
 *    payload); a 404 (no collection yet) creates it and retries once;
 *  - POST /collections/{name}/points/search {"vector", "limit", "with_payload": true,
 *    "score_threshold", "filter": {"must": [{"key": "created_at", "range": {"gte": since}}]}};
 *    a 404 is an empty index;
 *  - POST /collections/{name}/points/count {"exact": true}.
 * Every answer must be {"status": "ok", "result": ...} of the documented shape, else the call
 * fails naming the field. Blocking libcurl easy (one handle per call): worker threads only.
 * Relies on: vec.h, libcurl, cJSON, OpenSSL (SHA-256). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vec/vec.h"

#define QD_MAX_BODY (64u << 20)

typedef struct {
  ain_vec_backend_t base;
  char *url, *api_key, *prefix;
  int64_t timeout_ms;
} qdrant_t;

static void collection(const qdrant_t *q, const char *kind, const char *model, char *out,
                       size_t cap) {
  int n = snprintf(out, cap, "%s%s__", q->prefix, kind);
  for (const char *m = model; *m && (size_t)n + 1 < cap; m++, n++) {
    char c = *m;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    out[n] = ok ? c : '_';
  }
  out[n] = '\0';
}

/* One request; *status the HTTP status, *root the parsed JSON answer (caller deletes, may be
 * NULL on a non-JSON answer). Transport failure: AIN_EHTTP / AIN_ETIMEOUT. */
static int qd_call(const qdrant_t *q, const char *method, const char *path, cJSON *body,
                   long *status, cJSON **root, ain_err_t *err) {
  char url[1024], key[600], errbuf[CURL_ERROR_SIZE] = "";
  ain_capbuf_t b = {.max = QD_MAX_BODY};
  struct curl_slist *hdrs = NULL;
  char *req = body ? cJSON_PrintUnformatted(body) : NULL;
  int rc = 0;
  *root = NULL;
  snprintf(url, sizeof url, "%s%s", q->url, path);
  CURL *c = curl_easy_init();
  if (c == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "qdrant: out of memory");
    goto fail;
  }
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  if (q->api_key != NULL) {
    snprintf(key, sizeof key, "api-key: %s", q->api_key);
    hdrs = curl_slist_append(hdrs, key);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  if (req != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ain_capbuf_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cr = curl_easy_perform(c);
  if (cr != CURLE_OK) {
    rc = ain_err_field(err, cr == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP,
                       "vectors.qdrant.url", "qdrant %s %s: %s", method, path,
                       errbuf[0] ? errbuf : curl_easy_strerror(cr));
    goto fail;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  *root = b.p ? cJSON_ParseWithLength(b.p, b.n) : NULL;
  if (*status >= 200 && *status <= 299) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(*root, "status");
    if (!cJSON_IsObject(*root) || !cJSON_IsString(st) || strcmp(st->valuestring, "ok") != 0) {
      rc = ain_err_field(err, AIN_EHTTP, "status",
                         "qdrant %s %s: the answer is not {\"status\": "
                         "\"ok\", ...}: %.120s",
                         method, path, b.p ? b.p : "");
    }
  } else if (*status != 404) {
    rc = ain_err_field(err, AIN_EHTTP, "vectors.qdrant.url", "qdrant %s %s: HTTP %ld: %.200s",
                       method, path, *status, b.p ? b.p : "");
  }
fail:
  if (rc != 0) {
    cJSON_Delete(*root);
    *root = NULL;
  }
  if (c != NULL) {
    curl_easy_cleanup(c);
  }
  curl_slist_free_all(hdrs);
  cJSON_free(req);
  free(b.p);
  return rc;
}

static void point_uuid(const char *id, char out[37]) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)id, strlen(id), d);
  d[6] = (unsigned char)((d[6] & 0x0f) | 0x50); /* a name-based UUID (version 5 layout) */
  d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0],
           d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
           d[15]);
}

static cJSON *float_array(const float *v, int dims) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < dims; i++) {
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
  }
  return a;
}

static int create_collection(qdrant_t *q, const char *path, int dims, ain_err_t *err) {
  cJSON *body = cJSON_CreateObject(), *vec = cJSON_AddObjectToObject(body, "vectors"), *root;
  cJSON_AddNumberToObject(vec, "size", dims);
  cJSON_AddStringToObject(vec, "distance", "Cosine");
  long status = 0;
  int rc = qd_call(q, "PUT", path, body, &status, &root, err);
  cJSON_Delete(body);
  cJSON_Delete(root);
  if (rc == 0 && status == 404) {
    rc = ain_err_field(err, AIN_EHTTP, "vectors.qdrant.url", "qdrant PUT %s: HTTP 404", path);
  }
  return rc;
}

static int qd_upsert(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                     const ain_vec_item_t *items, size_t n, ain_err_t *err) {
  qdrant_t *q = (qdrant_t *)b;
  int rc = ain_vec_kind_check(kind, err);
  if (rc != 0 || n == 0) {
    return rc;
  }
  char coll[400], path[512];
  collection(q, kind, model, coll, sizeof coll);
  snprintf(path, sizeof path, "/collections/%s/points?wait=true", coll);
  cJSON *body = cJSON_CreateObject(), *pts = cJSON_AddArrayToObject(body, "points");
  for (size_t i = 0; i < n; i++) {
    cJSON *p = cJSON_CreateObject();
    char uuid[37];
    point_uuid(items[i].id, uuid);
    cJSON_AddStringToObject(p, "id", uuid);
    cJSON_AddItemToObject(p, "vector", float_array(items[i].vec, dims));
    cJSON *pl = cJSON_AddObjectToObject(p, "payload");
    cJSON_AddStringToObject(pl, "item_id", items[i].id);
    cJSON_AddStringToObject(pl, "label", items[i].label ? items[i].label : "");
    cJSON_AddNumberToObject(pl, "created_at", (double)items[i].created_at);
    cJSON_AddItemToArray(pts, p);
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    long status = 0;
    cJSON *root = NULL;
    rc = qd_call(q, "PUT", path, body, &status, &root, err);
    cJSON_Delete(root);
    if (rc != 0 || status != 404) {
      break;
    }
    char cpath[450];
    snprintf(cpath, sizeof cpath, "/collections/%s", coll);
    if ((rc = create_collection(q, cpath, dims, err)) != 0) {
      break;
    }
    rc = ain_err_field(err, AIN_EHTTP, "vectors.qdrant.url",
                       "qdrant PUT %s: 404 after creating the collection", path);
  }
  cJSON_Delete(body);
  return rc;
}

static int qd_search(ain_vec_backend_t *b, const char *kind, const char *model, int dims,
                     const float *vec, const ain_vec_query_t *qq, ain_vec_result_t **out,
                     size_t *nout, ain_err_t *err) {
  qdrant_t *q = (qdrant_t *)b;
  *out = NULL;
  *nout = 0;
  if (qq->k < 1 || qq->k > AIN_VEC_K_MAX) {
    return ain_err_field(err, AIN_EINVAL, "k", "k must be 1..%d, got %zu", AIN_VEC_K_MAX, qq->k);
  }
  char coll[400], path[512];
  collection(q, kind, model, coll, sizeof coll);
  snprintf(path, sizeof path, "/collections/%s/points/search", coll);
  cJSON *body = cJSON_CreateObject();
  cJSON_AddItemToObject(body, "vector", float_array(vec, dims));
  cJSON_AddNumberToObject(body, "limit", (double)qq->k);
  cJSON_AddBoolToObject(body, "with_payload", 1);
  if (qq->min_score > -1) {
    cJSON_AddNumberToObject(body, "score_threshold", qq->min_score);
  }
  if (qq->since > 0) {
    cJSON *must = cJSON_AddArrayToObject(cJSON_AddObjectToObject(body, "filter"), "must");
    cJSON *cond = cJSON_CreateObject();
    cJSON_AddStringToObject(cond, "key", "created_at");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(cond, "range"), "gte", (double)qq->since);
    cJSON_AddItemToArray(must, cond);
  }
  long status = 0;
  cJSON *root = NULL;
  int rc = qd_call(q, "POST", path, body, &status, &root, err);
  cJSON_Delete(body);
  if (rc != 0 || status == 404) {
    cJSON_Delete(root);
    return rc;
  }
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
  if (!cJSON_IsArray(res)) {
    cJSON_Delete(root);
    return ain_err_field(err, AIN_EHTTP, "result", "qdrant POST %s: \"result\" is not an array",
                         path);
  }
  size_t n = (size_t)cJSON_GetArraySize(res), i = 0;
  ain_vec_result_t *r = calloc(n ? n : 1, sizeof *r);
  for (const cJSON *p = res->child; p != NULL && r != NULL; p = p->next, i++) {
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(p, "score");
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(p, "payload");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(pl, "item_id");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(pl, "label");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(pl, "created_at");
    if (!cJSON_IsNumber(score) || !isfinite(score->valuedouble) || !cJSON_IsString(id) ||
        strlen(id->valuestring) > AIN_VEC_ID_MAX) {
      ain_vec_results_free(r, i);
      cJSON_Delete(root);
      return ain_err_field(err, AIN_EHTTP, "result",
                           "qdrant POST %s: result[%zu] has no numeric "
                           "score or no payload.item_id",
                           path, i);
    }
    snprintf(r[i].id, sizeof r[i].id, "%s", id->valuestring);
    r[i].label = strdup(cJSON_IsString(label) ? label->valuestring : "");
    r[i].created_at = cJSON_IsNumber(ts) ? (int64_t)ts->valuedouble : 0;
    r[i].score = (float)score->valuedouble;
  }
  cJSON_Delete(root);
  if (r == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "qdrant: out of memory");
  }
  *out = r;
  *nout = n > qq->k ? qq->k : n;
  return 0;
}

static int64_t qd_count(ain_vec_backend_t *b, const char *kind, const char *model) {
  qdrant_t *q = (qdrant_t *)b;
  char coll[400], path[512];
  collection(q, kind, model, coll, sizeof coll);
  snprintf(path, sizeof path, "/collections/%s/points/count", coll);
  cJSON *body = cJSON_CreateObject(), *root = NULL;
  cJSON_AddBoolToObject(body, "exact", 1);
  long status = 0;
  ain_err_t err;
  ain_err_clear(&err);
  int rc = qd_call(q, "POST", path, body, &status, &root, &err);
  cJSON_Delete(body);
  int64_t n = rc != 0 ? -1 : status == 404 ? 0 : -1;
  const cJSON *c =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "result"), "count");
  if (rc == 0 && status != 404 && cJSON_IsNumber(c)) {
    n = (int64_t)c->valuedouble;
  }
  cJSON_Delete(root);
  return n;
}

static void qd_free(ain_vec_backend_t *b) {
  qdrant_t *q = (qdrant_t *)b;
  free(q->url);
  free(q->api_key);
  free(q->prefix);
  free(q);
}

static const ain_vec_backend_vt qdrant_vt = {"qdrant", qd_upsert, qd_search, qd_count, qd_free};

int ain_vec_qdrant_new(const ain_vec_qdrant_opts_t *o, ain_vec_backend_t **out, ain_err_t *err) {
  *out = NULL;
  if (o->url == NULL ||
      (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)) {
    return ain_err_field(err, AIN_ECONFIG, "vectors.qdrant.url",
                         "an http:// or https:// URL is required");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  qdrant_t *q = calloc(1, sizeof *q);
  if (q == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "qdrant: out of memory");
  }
  q->base.vt = &qdrant_vt;
  size_t ul = strlen(o->url);
  q->url = strndup(o->url, o->url[ul - 1] == '/' ? ul - 1 : ul);
  q->api_key = o->api_key ? strdup(o->api_key) : NULL;
  q->prefix = strdup(o->prefix ? o->prefix : "ain_");
  q->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
  *out = &q->base;
  return 0;
}
