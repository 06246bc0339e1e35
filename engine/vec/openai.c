/* Embedders (vec.h): the dispatch, and the OpenAI-compatible provider. One POST
 * {url}/v1/embeddings per batch of texts, body {"model": m, "input": [texts...]}, answer
 * {"data": [{"index": i, "embedding": [floats]}...]} (OpenAI's documented shape, which llama.cpp,
 * vLLM, Ollama and text-embeddings-inference also serve). The answer is checked strictly: one
 * embedding per input, every index once, one dimension for all, finite numbers, not all zeros;
 * anything else fails naming the field rather than storing a wrong vector.
 * Blocking libcurl easy: run from a worker thread or the thread pool, never a loop thread.
 * Relies on: vec.h, libcurl, cJSON. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vec/vec.h"

#define EMBED_MAX_BODY (256u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ain_vec_model_name(const ain_vec_embedder_t *e, char out[AIN_VEC_MODEL_MAX]) {
  if (e->provider != NULL && strcmp(e->provider, "openai") == 0) {
    snprintf(out, AIN_VEC_MODEL_MAX, "%s", e->model ? e->model : "");
  } else {
    snprintf(out, AIN_VEC_MODEL_MAX, "%s-%d", AIN_VEC_HASHED_MODEL, e->dims > 0 ? e->dims : 1024);
  }
}

int ain_vec_openai_parse(const char *body, size_t len, size_t n, float **out, int *dims,
                         ain_err_t *err) {
  *out = NULL;
  float *m = NULL;
  char *seen = NULL;
  int rc = 0, d = 0;
  cJSON *root = cJSON_ParseWithLength(body, len);
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  if (root == NULL || !cJSON_IsObject(root)) {
    rc = ain_err_field(err, AIN_EHTTP, "response", "the answer is not a JSON object");
    goto fail;
  }
  if (!cJSON_IsArray(data)) {
    rc = ain_err_field(err, AIN_EHTTP, "data", "the answer has no \"data\" array");
    goto fail;
  }
  if ((size_t)cJSON_GetArraySize(data) != n) {
    rc = ain_err_field(err, AIN_EHTTP, "data", "%d embeddings for %zu inputs",
                       cJSON_GetArraySize(data), n);
    goto fail;
  }
  seen = calloc(n ? n : 1, 1);
  size_t pos = 0;
  for (const cJSON *it = data->child; it != NULL; it = it->next, pos++) {
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(it, "index");
    const cJSON *emb = cJSON_GetObjectItemCaseSensitive(it, "embedding");
    char field[64];
    snprintf(field, sizeof field, "data[%zu].index", pos);
    /* index is optional in some servers: the position then */
    double ixv = ix == NULL ? (double)pos : cJSON_IsNumber(ix) ? ix->valuedouble : -1;
    if (ixv < 0 || ixv >= (double)n || ixv != (double)(size_t)ixv || seen[(size_t)ixv]) {
      rc = ain_err_field(err, AIN_EHTTP, field, "not an unused index in 0..%zu", n - 1);
      goto fail;
    }
    size_t row = (size_t)ixv;
    seen[row] = 1;
    snprintf(field, sizeof field, "data[%zu].embedding", pos);
    if (!cJSON_IsArray(emb) || cJSON_GetArraySize(emb) < 1 ||
        cJSON_GetArraySize(emb) > AIN_VEC_DIMS_MAX) {
      rc = ain_err_field(err, AIN_EHTTP, field, "expected an array of 1..%d numbers",
                         AIN_VEC_DIMS_MAX);
      goto fail;
    }
    if (d == 0) {
      d = cJSON_GetArraySize(emb);
      m = malloc(n * (size_t)d * sizeof *m);
      if (m == NULL) {
        rc = ain_err_set(err, AIN_ENOMEM, "embeddings: out of memory");
        goto fail;
      }
    } else if (cJSON_GetArraySize(emb) != d) {
      rc = ain_err_field(err, AIN_EHTTP, field, "%d dimensions, the first embedding had %d",
                         cJSON_GetArraySize(emb), d);
      goto fail;
    }
    float *v = m + row * (size_t)d;
    int j = 0;
    for (const cJSON *x = emb->child; x != NULL; x = x->next, j++) {
      if (!cJSON_IsNumber(x)) {
        rc = ain_err_field(err, AIN_EHTTP, field, "element %d is not a number", j);
        goto fail;
      }
      v[j] = (float)x->valuedouble;
    }
    ain_err_t e2;
    ain_err_clear(&e2);
    if (ain_vec_normalize(v, (size_t)d, &e2) != 0) {
      rc = ain_err_field(err, AIN_EHTTP, field, "%s", e2.msg);
      goto fail;
    }
  }
  *out = m;
  *dims = d;
  m = NULL;
fail:
  free(m);
  free(seen);
  cJSON_Delete(root);
  return rc;
}

/* One request for texts[0..n) into out (n * d); *dims must match across batches. */
static int openai_batch(const ain_vec_embedder_t *e, const char *const *texts, size_t n,
                        float **out, int *dims, ain_err_t *err) {
  int rc = 0;
  char url[1024], auth[1100], errbuf[CURL_ERROR_SIZE] = "";
  ain_capbuf_t b = {.max = EMBED_MAX_BODY};
  struct curl_slist *hdrs = NULL;
  char *req = NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "model", e->model);
  cJSON *in = cJSON_AddArrayToObject(o, "input");
  for (size_t i = 0; i < n; i++) {
    cJSON_AddItemToArray(in, cJSON_CreateString(texts[i]));
  }
  req = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  size_t ul = strlen(e->url);
  snprintf(url, sizeof url, "%.*s/v1/embeddings",
           (int)(ul > 0 && e->url[ul - 1] == '/' ? ul - 1 : ul), e->url);
  CURL *c = curl_easy_init();
  if (c == NULL || req == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "embeddings: out of memory");
    goto fail;
  }
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  if (e->api_key != NULL) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", e->api_key);
    hdrs = curl_slist_append(hdrs, auth);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(e->timeout_ms > 0 ? e->timeout_ms : 30000));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ain_capbuf_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cr = curl_easy_perform(c);
  /* messages name the URL but never the key */
  if (cr != CURLE_OK) {
    rc = ain_err_field(err, cr == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP, "embed.url",
                       "POST %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
    goto fail;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    rc = ain_err_field(err, AIN_EHTTP, "embed.url", "POST %s: HTTP %ld: %.200s", url, status,
                       b.p ? b.p : "");
    goto fail;
  }
  float *m = NULL;
  int d = 0;
  ain_err_t e2;
  ain_err_clear(&e2);
  if ((rc = ain_vec_openai_parse(b.p ? b.p : "", b.n, n, &m, &d, &e2)) != 0) {
    rc = ain_err_field(err, rc, e2.field, "POST %s: %s", url, e2.msg);
    goto fail;
  }
  if (*dims != 0 && d != *dims) {
    free(m);
    rc = ain_err_field(err, AIN_EHTTP, "data", "POST %s: %d dimensions, an earlier batch had %d",
                       url, d, *dims);
    goto fail;
  }
  *dims = d;
  *out = m;
fail:
  if (c != NULL) {
    curl_easy_cleanup(c);
  }
  curl_slist_free_all(hdrs);
  cJSON_free(req);
  free(b.p);
  return rc;
}

static int openai_embed(const ain_vec_embedder_t *e, const char *const *texts, size_t n,
                        float **out, int *dims, ain_err_t *err) {
  if (e->url == NULL || e->url[0] == '\0' || e->model == NULL || e->model[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "embed.url", "the openai provider needs url and model");
  }
  pthread_once(&curl_once, curl_init_once);
  size_t batch = e->batch > 0 ? (size_t)e->batch : 64;
  float *all = NULL;
  int d = 0, rc = 0;
  for (size_t at = 0; at < n; at += batch) {
    size_t m = n - at < batch ? n - at : batch;
    float *part = NULL;
    if ((rc = openai_batch(e, texts + at, m, &part, &d, err)) != 0) {
      goto fail;
    }
    if (all == NULL) {
      all = malloc(n * (size_t)d * sizeof *all);
      if (all == NULL) {
        free(part);
        rc = ain_err_set(err, AIN_ENOMEM, "embeddings: out of memory");
        goto fail;
      }
    }
    memcpy(all + at * (size_t)d, part, m * (size_t)d * sizeof *all);
    free(part);
  }
  *out = all;
  *dims = d;
  return 0;
fail:
  free(all);
  return rc;
}

int ain_vec_embed(const ain_vec_embedder_t *e, const char *const *texts, size_t n, float **out,
                  int *dims, ain_err_t *err) {
  *out = NULL;
  *dims = 0;
  if (n == 0) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (texts[i] == NULL || texts[i][0] == '\0') {
      char f[32];
      snprintf(f, sizeof f, "texts[%zu]", i + 1);
      return ain_err_field(err, AIN_EINVAL, f, "%s is empty", f);
    }
  }
  if (e->provider != NULL && strcmp(e->provider, "openai") == 0) {
    return openai_embed(e, texts, n, out, dims, err);
  }
  if (e->provider != NULL && strcmp(e->provider, AIN_VEC_HASHED_MODEL) != 0) {
    return ain_err_field(err, AIN_ECONFIG, "embed.provider",
                         "unknown provider \"%s\" (hashed-ngrams or openai)", e->provider);
  }
  int d = e->dims > 0 ? e->dims : 1024;
  float *m = malloc(n * (size_t)d * sizeof *m);
  if (m == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "embeddings: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    ain_err_t e2;
    ain_err_clear(&e2);
    if (ain_vec_hash_embed(texts[i], strlen(texts[i]), m + i * (size_t)d, d, &e2) != 0) {
      char f[32];
      snprintf(f, sizeof f, "texts[%zu]", i + 1);
      free(m);
      return ain_err_field(err, AIN_EINVAL, f, "%s: %s", f, e2.msg);
    }
  }
  *out = m;
  *dims = d;
  return 0;
}
