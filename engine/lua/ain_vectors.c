/* ain.embed and ain.vectors (docs/lua-api.md "Embeddings and vectors", docs/vectors.md).
 *  ain.embed(texts) -> vecs | nil, "ECODE: ...", code: the process's embedder (vec/vec.h) over
 *    an array of strings. vecs is a userdata: #vecs rows of vecs:dims() float32, L2-normalised,
 *    under vecs:model(); vecs:get(i) -> {numbers}, vecs:cosine(i, j) -> number.
 *  vecs:dedup(threshold) -> {[i] = false | {row = j, score = s}}: greedy in-batch duplicates.
 *  vecs:select({rows}) -> vecs of those rows; vecs:cosine(i, [other,] j).
 *  ain.vectors.add(kind, vecs, items) -> true | nil, err: items[i] = {id = , label = }; stored in
 *    the store's embeddings table (VEC_PUT), then in the process's backend.
 *  ain.vectors.search(kind, vecs, {k = 10, min = -1, since = epoch_s}) -> {[i] = {hits}}, each
 *    hit {id, label, score, created_at (epoch s)}, best first.
 * Never on the loop thread: the openai embedder, dedup, search and backend upserts run on the
 * libuv thread pool and the call yields until they finish (the hashed embedder, microseconds per
 * text, runs inline). The flat backend is first brought up to date with the store's rows after
 * the last sequence number it saw (VEC_LOAD on the host's store handle, yielding), so rows added
 * by other shards or nodes are found. Vectors live in a malloc'd, reference-counted block, not in
 * the Lua heap, so a pool job never reads memory the collector of a cancelled call freed.
 * Relies on: vec/vec.h, store/store.h, lua/internal.h, libuv (uv_queue_work). */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "store/store.h"
#include "vec/vec.h"

#define VECS_MT "ain.vectors"
#define EMBED_MAX_TEXTS 100000

typedef struct {
  _Atomic int refs;
  size_t n;
  int dims;
  char model[AIN_VEC_MODEL_MAX];
  float *v;
} vblock_t;

static void vb_unref(vblock_t *b) {
  if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
    free(b->v);
    free(b);
  }
}

static vblock_t *vb_ref(vblock_t *b) {
  atomic_fetch_add(&b->refs, 1);
  return b;
}

static vblock_t *check_vecs(lua_State *L, int arg) {
  return *(vblock_t **)luaL_checkudata(L, arg, VECS_MT);
}

/* Pushes a new userdata owning b (one reference). */
static void push_vecs(lua_State *L, vblock_t *b) {
  vblock_t **box = lua_newuserdata(L, sizeof *box);
  *box = b;
  luaL_getmetatable(L, VECS_MT);
  lua_setmetatable(L, -2);
}

/* ---- pool jobs ------------------------------------------------------------------------------ */

typedef enum { J_EMBED, J_DEDUP, J_SEARCH, J_UPSERT } job_kind_t;

typedef struct {
  uv_work_t work;
  ain_lua_call_t *call; /* NULL once cancelled: the job still ends in job_done, which frees it */
  ain_store_req_t req;  /* VEC_LOAD / VEC_PUT before the pool part */
  int req_busy;
  int record;           /* embed through a provider: its answer goes into the call's "io" */
  int64_t *have;        /* VEC_LOAD: the seqs the index loaded lately (vec.h sync_point) */
  job_kind_t kind;
  vblock_t *b;
  char vkind[AIN_VEC_KIND_MAX + 1];
  /* embed */
  char **texts;
  size_t ntexts;
  float *out;
  int dims;
  /* dedup */
  float threshold;
  long *dup;
  float *score;
  /* search */
  ain_vec_query_t q;
  ain_vec_result_t **res;
  size_t *nres;
  /* upsert */
  ain_store_vec_row_t *rows;
  int rc;
  ain_err_t err;
} job_t;

static void job_free(job_t *j) {
  for (size_t i = 0; j->texts != NULL && i < j->ntexts; i++) {
    free(j->texts[i]);
  }
  free(j->texts);
  free(j->out);
  free(j->dup);
  free(j->score);
  for (size_t i = 0; j->res != NULL && i < j->b->n; i++) {
    ain_vec_results_free(j->res[i], j->nres[i]);
  }
  free(j->res);
  free(j->nres);
  for (size_t i = 0; j->rows != NULL && i < j->b->n; i++) {
    free(j->rows[i].item_id);
    free(j->rows[i].label);
  }
  free(j->rows);
  if (j->req_busy == 0) {
    free(j->have); /* a request in flight still reads it: then it is freed with the job later */
  }
  if (j->req_busy == 0 && j->req.op != 0) {
    ain_store_req_cleanup(&j->req);
  }
  vb_unref(j->b);
  free(j);
}

static void job_run(uv_work_t *w) {
  job_t *j = w->data;
  ain_vec_backend_t *be = ain_vec_global_backend();
  switch (j->kind) {
  case J_EMBED:
    j->rc = ain_vec_embed(ain_vec_global_embedder(), (const char *const *)j->texts, j->ntexts,
                          &j->out, &j->dims, &j->err);
    break;
  case J_DEDUP:
    ain_vec_dedup(j->b->v, j->b->n, (size_t)j->b->dims, j->threshold, j->dup, j->score);
    break;
  case J_SEARCH:
    if (ain_vec_global_is_flat()) {
      j->rc = ain_vec_flat_search_many(be, j->vkind, j->b->model, j->b->dims, j->b->v, j->b->n,
                                       &j->q, j->res, j->nres, &j->err);
      break;
    }
    for (size_t i = 0; i < j->b->n && j->rc == 0; i++) {
      j->rc =
          be->vt->search(be, j->vkind, j->b->model, j->b->dims, j->b->v + i * (size_t)j->b->dims,
                         &j->q, &j->res[i], &j->nres[i], &j->err);
    }
    break;
  case J_UPSERT: {
    ain_vec_item_t *items = malloc(j->b->n * sizeof *items);
    if (items == NULL) {
      j->rc = ain_err_set(&j->err, AIN_ENOMEM, "out of memory");
      break;
    }
    for (size_t i = 0; i < j->b->n; i++) {
      items[i] = (ain_vec_item_t){j->rows[i].item_id, j->rows[i].label, j->rows[i].created_at,
                                  j->b->v + i * (size_t)j->b->dims};
    }
    j->rc = be->vt->upsert(be, j->vkind, j->b->model, j->b->dims, items, j->b->n, &j->err);
    free(items);
    break;
  }
  }
}

static int push_results(lua_State *co, job_t *j) {
  if (j->rc != 0) {
    return ain__lua_push_fail(co, j->rc, "%s", j->err.msg);
  }
  switch (j->kind) {
  case J_EMBED: {
    vblock_t *b = calloc(1, sizeof *b);
    if (b == NULL) {
      return ain__lua_push_fail(co, AIN_ENOMEM, "out of memory");
    }
    b->refs = 1;
    b->n = j->ntexts;
    b->dims = j->dims;
    ain_vec_model_name(ain_vec_global_embedder(), b->model);
    b->v = j->out;
    j->out = NULL;
    push_vecs(co, b);
    return 1;
  }
  case J_DEDUP:
    lua_createtable(co, (int)j->b->n, 0);
    for (size_t i = 0; i < j->b->n; i++) {
      if (j->dup[i] < 0) {
        lua_pushboolean(co, 0);
      } else {
        lua_createtable(co, 0, 2);
        lua_pushinteger(co, (lua_Integer)j->dup[i] + 1);
        lua_setfield(co, -2, "row");
        lua_pushnumber(co, j->score[i]);
        lua_setfield(co, -2, "score");
      }
      lua_rawseti(co, -2, (int)i + 1);
    }
    return 1;
  case J_SEARCH:
    lua_createtable(co, (int)j->b->n, 0);
    for (size_t i = 0; i < j->b->n; i++) {
      lua_createtable(co, (int)j->nres[i], 0);
      for (size_t r = 0; r < j->nres[i]; r++) {
        const ain_vec_result_t *x = &j->res[i][r];
        lua_createtable(co, 0, 4);
        lua_pushstring(co, x->id);
        lua_setfield(co, -2, "id");
        lua_pushstring(co, x->label ? x->label : "");
        lua_setfield(co, -2, "label");
        lua_pushnumber(co, x->score);
        lua_setfield(co, -2, "score");
        lua_pushnumber(co, (lua_Number)x->created_at / 1000.0);
        lua_setfield(co, -2, "created_at");
        lua_rawseti(co, -2, (int)r + 1);
      }
      lua_rawseti(co, -2, (int)i + 1);
    }
    return 1;
  case J_UPSERT:
    lua_pushboolean(co, 1);
    return 1;
  }
  return 0;
}

/* ---- recording a provider's embeddings for replay ------------------------------------------ */

/* What identifies one ain.embed request in a recording: the sha256 of every text, each preceded
 * by its length (so ["ab","c"] and ["a","bc"] differ). */
static void texts_sha256(char *const *texts, size_t n, char out[65]) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += strlen(texts[i]) + 21;
  }
  char *buf = malloc(total + 1), *p = buf;
  if (buf == NULL) {
    abort(); /* OOM is fatal, as in ain_strdup */
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(texts[i]);
    p += sprintf(p, "%zu:", len);
    memcpy(p, texts[i], len);
    p += len;
  }
  ain__lua_sha256_hex(buf, (size_t)(p - buf), out);
  free(buf);
}

/* The provider's answer (or failure) as an "embed" exchange: {kind, model, texts_sha256, n, dims,
 * vectors = base64 of the float32 little-endian values} or {..., error, code}. Vectors past the
 * call's recording budget (AIN_LUA_IO_TOTAL_MAX) are left out with "truncated": true. */
static void record_embed(ain_lua_call_t *call, const job_t *j) {
  cJSON *rec = cJSON_CreateObject();
  char model[AIN_VEC_MODEL_MAX], sha[65];
  ain_vec_model_name(ain_vec_global_embedder(), model);
  texts_sha256(j->texts, j->ntexts, sha);
  cJSON_AddStringToObject(rec, "kind", "embed");
  cJSON_AddStringToObject(rec, "model", model);
  cJSON_AddStringToObject(rec, "texts_sha256", sha);
  cJSON_AddNumberToObject(rec, "n", (double)j->ntexts);
  if (j->rc != 0) {
    cJSON_AddStringToObject(rec, "error", j->err.msg);
    cJSON_AddStringToObject(rec, "code", ain_err_name(j->rc));
    ain__lua_io_add(call, rec);
    return;
  }
  cJSON_AddNumberToObject(rec, "dims", j->dims);
  size_t nfl = j->ntexts * (size_t)j->dims, raw = nfl * 4, enc = 4 * ((raw + 2) / 3);
  size_t room = call->io_bytes < AIN_LUA_IO_TOTAL_MAX ? AIN_LUA_IO_TOTAL_MAX - call->io_bytes : 0;
  if (enc > room) {
    cJSON_AddTrueToObject(rec, "truncated");
    ain__lua_io_add(call, rec);
    return;
  }
  unsigned char *le = malloc(raw ? raw : 1);
  char *b64 = malloc(enc + 1);
  if (le == NULL || b64 == NULL) {
    abort();
  }
  ain__store_vec_to_le(j->out, (int)nfl, le); /* float32 little-endian, whatever the host */
  EVP_EncodeBlock((unsigned char *)b64, le, (int)raw);
  b64[enc] = '\0';
  cJSON_AddStringToObject(rec, "vectors", b64);
  call->io_bytes += enc;
  free(le);
  free(b64);
  ain__lua_io_add(call, rec);
}

/* Replay: the recorded answer to these very texts from this model, as ain.embed returns it, or
 * EREPLAY. Returns the number of Lua results. */
static int replay_embed(lua_State *L, char *const *texts, size_t n) {
  ain_lua_call_t *call = ain__lua_host_of(L)->running;
  char model[AIN_VEC_MODEL_MAX], sha[65];
  ain_vec_model_name(ain_vec_global_embedder(), model);
  texts_sha256(texts, n, sha);
  cJSON *e = ain__lua_io_take(call, "embed", "model", model, "texts_sha256", sha, NULL, NULL);
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const cJSON *dims = cJSON_GetObjectItemCaseSensitive(e, "dims");
  const cJSON *vec = cJSON_GetObjectItemCaseSensitive(e, "vectors");
  int nres;
  if (e == NULL) {
    nres = ain__lua_no_side_effects(L, "ain.embed: no recorded answer matches these texts");
  } else if (cJSON_IsString(err)) {
    int c = cJSON_IsString(code) ? ain_err_code(code->valuestring) : 0;
    nres = ain__lua_push_fail(L, c != 0 ? c : AIN_EHTTP, "%s", err->valuestring);
  } else if (!cJSON_IsNumber(dims) || dims->valuedouble < 1 || dims->valuedouble > 8192 ||
             !cJSON_IsString(vec)) {
    nres = ain__lua_no_side_effects(L, "ain.embed: the recorded answer was not kept whole");
  } else {
    int d = (int)dims->valuedouble;
    size_t enc = strlen(vec->valuestring), raw = n * (size_t)d * 4;
    unsigned char *le = malloc(enc / 4 * 3 + 3);
    float *v = malloc(raw ? raw : 1);
    int got = le != NULL && enc % 4 == 0
                  ? EVP_DecodeBlock(le, (const unsigned char *)vec->valuestring, (int)enc)
                  : -1;
    /* DecodeBlock counts the padding as zero bytes */
    size_t pad = enc >= 2 ? (vec->valuestring[enc - 1] == '=') + (vec->valuestring[enc - 2] == '=')
                          : 0;
    if (v == NULL || got < 0 || (size_t)got - pad != raw) {
      free(le);
      free(v);
      nres = ain__lua_no_side_effects(L, "ain.embed: the recorded vectors do not fit the texts");
    } else {
      ain__store_vec_from_le(le, (int)(n * (size_t)d), v);
      free(le);
      vblock_t *b = calloc(1, sizeof *b);
      if (b == NULL) {
        abort();
      }
      b->refs = 1;
      b->n = n;
      b->dims = d;
      snprintf(b->model, sizeof b->model, "%s", model);
      b->v = v;
      push_vecs(L, b);
      nres = 1;
    }
  }
  cJSON_Delete(e);
  return nres;
}

static void job_done(uv_work_t *w, int status) {
  job_t *j = w->data;
  ain_lua_call_t *call = j->call;
  if (call == NULL) {
    job_free(j);
    return;
  }
  call->pending.cancel = NULL;
  int n;
  if (status != 0) {
    n = ain__lua_push_fail(call->co, AIN_EIO, "vectors: %s", uv_strerror(status));
  } else {
    if (j->record) {
      record_embed(call, j); /* before push_results takes the vectors */
    }
    n = push_results(call->co, j);
  }
  job_free(j);
  ain__lua_resume(call, n);
}

static void job_cancel(void *p) {
  job_t *j = p;
  j->call = NULL;
  if (!j->req_busy) {
    uv_cancel((uv_req_t *)&j->work);
  }
}

/* Queues the pool part; resumes the call with nil, err when it cannot be queued. From a store
 * callback (resume != 0) or the binding itself (resume == 0: returns the yield). */
static int job_queue(ain_lua_call_t *call, job_t *j) {
  ain_lua_host_t *h = call->h;
  j->work.data = j;
  int rc = uv_queue_work(h->loop, &j->work, job_run, job_done);
  if (rc != 0) {
    j->rc = ain_err_set(&j->err, AIN_EIO, "vectors: uv_queue_work: %s", uv_strerror(rc));
    return -1;
  }
  return 0;
}

/* A store step failed or the pool refused the job: resume with the failure. */
static void job_fail_resume(job_t *j) {
  ain_lua_call_t *call = j->call;
  call->pending.cancel = NULL;
  int n = ain__lua_push_fail(call->co, j->rc ? j->rc : AIN_ESTORE, "%s", j->err.msg);
  job_free(j);
  ain__lua_resume(call, n);
}

/* ---- store steps: VEC_LOAD (sync a flat index) and VEC_PUT (add) ----------------------------- */

static int sync_submit(job_t *j);

static void on_loaded(ain_store_req_t *r) {
  job_t *j = r->data;
  j->req_busy = 0;
  if (j->call == NULL) {
    job_free(j);
    return;
  }
  if (r->status != 0) {
    j->rc = r->status;
    j->err = r->err;
    job_fail_resume(j);
    return;
  }
  ain_vec_backend_t *be = ain_vec_global_backend();
  size_t n = r->u.vec.nrows;
  if (n > 0) {
    /* one VEC_LOAD page (at most AIN_STORE_VEC_LOAD_MAX rows): a memcpy per row, on the loop */
    ain_vec_item_t *items = malloc(n * sizeof *items);
    int64_t *seqs = malloc(n * sizeof *seqs);
    for (size_t i = 0; items != NULL && seqs != NULL && i < n; i++) {
      const ain_store_vec_row_t *row = &r->u.vec.rows[i];
      items[i] = (ain_vec_item_t){row->item_id, row->label, row->created_at, row->vec};
      seqs[i] = row->seq;
    }
    int rc = items == NULL || seqs == NULL
                 ? ain_err_set(&j->err, AIN_ENOMEM, "out of memory")
                 : be->vt->upsert(be, j->vkind, j->b->model, j->b->dims, items, n, &j->err);
    free(items);
    if (rc != 0) {
      free(seqs);
      j->rc = rc;
      ain_store_req_cleanup(r);
      job_fail_resume(j);
      return;
    }
    ain_vec_flat_loaded(be, j->vkind, j->b->model, seqs, n, ain_now_ms());
    free(seqs);
  }
  int more = n == (size_t)AIN_STORE_VEC_LOAD_MAX;
  ain_store_req_cleanup(r);
  memset(r, 0, sizeof *r);
  if (more ? sync_submit(j) != 0 : job_queue(j->call, j) != 0) {
    job_fail_resume(j);
  }
}

/* Asks for the next page of rows after the flat index's sequence number; 0, or the failure in
 * j->rc / j->err (the caller resumes or returns it). */
static int sync_submit(job_t *j) {
  ain_lua_host_t *h = j->call->h;
  ain_vec_backend_t *be = ain_vec_global_backend();
  if (j->have == NULL && (j->have = malloc(AIN_VEC_LATE_MAX * sizeof *j->have)) == NULL) {
    j->rc = ain_err_set(&j->err, AIN_ENOMEM, "out of memory");
    return j->rc;
  }
  int64_t after, recheck;
  size_t nhave;
  ain_vec_flat_sync_point(be, j->vkind, j->b->model, ain_now_ms(), &after, &recheck, j->have,
                          AIN_VEC_LATE_MAX, &nhave);
  ain_store_req_vec_load(&j->req, j->vkind, j->b->model, j->b->dims, after,
                         AIN_STORE_VEC_LOAD_MAX);
  ain_store_req_vec_load_late(&j->req, recheck, j->have, nhave);
  j->req.data = j;
  j->req.cb = on_loaded;
  j->req.actor = j->call->actor;
  j->req_busy = 1;
  if (ain_store_submit(h->store, &j->req) != 0) {
    j->req_busy = 0;
    j->rc = j->req.err.code ? j->req.err.code : AIN_ESTORE;
    j->err = j->req.err;
    ain_store_req_cleanup(&j->req);
    memset(&j->req, 0, sizeof j->req);
    return j->rc;
  }
  return 0;
}

static void on_put(ain_store_req_t *r) {
  job_t *j = r->data;
  j->req_busy = 0;
  if (j->call == NULL) {
    job_free(j);
    return;
  }
  if (r->status != 0) {
    j->rc = r->status;
    j->err = r->err;
    job_fail_resume(j);
    return;
  }
  if (job_queue(j->call, j) != 0) {
    job_fail_resume(j);
  }
}

/* ---- bindings -------------------------------------------------------------------------------- */

static job_t *job_new(lua_State *L, ain_lua_call_t *call, job_kind_t kind, vblock_t *b) {
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    luaL_error(L, "ain.vectors: out of memory");
    return NULL;
  }
  j->call = call;
  j->kind = kind;
  j->b = b ? vb_ref(b) : NULL;
  j->work.data = j;
  return j;
}

/* Outside any call (`ain test` runs busted as a plain script, with no loop to keep free) the
 * work runs here and now, and a store is not used. */
static int no_call(lua_State *L) {
  return ain__lua_host_of(L)->running == NULL;
}

static int run_inline(lua_State *L, job_t *j) {
  job_run(&j->work);
  int n = push_results(L, j);
  job_free(j);
  return n;
}

static int yield_on(lua_State *L, ain_lua_call_t *call, job_t *j) {
  ain__lua_set_pending(call, job_cancel, j);
  return lua_yield(L, 0);
}

/* ain.embed(texts) */
static int l_embed(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = lua_objlen(L, 1);
  if (n == 0 || n > EMBED_MAX_TEXTS) {
    return luaL_argerror(L, 1, "texts must be an array of 1..100000 strings");
  }
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, (int)i);
    if (lua_type(L, -1) != LUA_TSTRING) {
      return luaL_argerror(L, 1, lua_pushfstring(L, "texts[%d] is not a string", (int)i));
    }
    lua_pop(L, 1);
  }
  const ain_vec_embedder_t *e = ain_vec_global_embedder();
  int remote = e->provider != NULL && strcmp(e->provider, "openai") == 0;
  int replay = remote && ain__lua_host_of(L)->no_side_effects;
  if (replay && no_call(L)) {
    return ain__lua_no_side_effects(L, "ain.embed"); /* a check's top level: nothing recorded */
  }
  ain_lua_call_t *call =
      remote && !replay && !no_call(L) ? ain__lua_call_for_yield(L, "ain.embed") : NULL;
  job_t *j = job_new(L, call, J_EMBED, NULL);
  j->texts = calloc(n, sizeof *j->texts);
  j->ntexts = n;
  for (size_t i = 0; j->texts != NULL && i < n; i++) {
    lua_rawgeti(L, 1, (int)i + 1);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    j->texts[i] = malloc(len + 1);
    if (j->texts[i] != NULL) {
      memcpy(j->texts[i], s, len + 1);
    }
    lua_pop(L, 1);
    if (j->texts[i] == NULL) {
      j->ntexts = i;
      job_free(j);
      return luaL_error(L, "ain.embed: out of memory");
    }
  }
  if (replay) {
    int nres = replay_embed(L, j->texts, j->ntexts);
    job_free(j);
    return nres;
  }
  j->record = remote;
  if (call == NULL) {
    /* hashed-ngrams: a few microseconds per text, inline (charged as work to the call) */
    ain__lua_charge(L, ain__lua_host_of(L), (uint64_t)n * 20);
    return run_inline(L, j);
  }
  if (job_queue(call, j) != 0) {
    int nres = ain__lua_push_fail(L, j->rc, "%s", j->err.msg);
    job_free(j);
    return nres;
  }
  return yield_on(L, call, j);
}

/* vecs:dedup(threshold) */
static int l_dedup(lua_State *L) {
  vblock_t *b = check_vecs(L, 1);
  lua_Number t = luaL_checknumber(L, 2);
  if (!(t >= -1 && t <= 1)) {
    return luaL_argerror(L, 2, "threshold must be a cosine in -1..1");
  }
  ain_lua_call_t *call = no_call(L) ? NULL : ain__lua_call_for_yield(L, "vecs:dedup");
  job_t *j = job_new(L, call, J_DEDUP, b);
  j->threshold = (float)t;
  j->dup = malloc((b->n ? b->n : 1) * sizeof *j->dup);
  j->score = malloc((b->n ? b->n : 1) * sizeof *j->score);
  if (call == NULL && j->dup != NULL && j->score != NULL) {
    return run_inline(L, j);
  }
  if (j->dup == NULL || j->score == NULL || job_queue(call, j) != 0) {
    job_free(j);
    return luaL_error(L, "vecs:dedup: out of memory");
  }
  return yield_on(L, call, j);
}

static const char *check_kind(lua_State *L, int arg) {
  const char *kind = luaL_checkstring(L, arg);
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_vec_kind_check(kind, &err) != 0) {
    luaL_argerror(L, arg, err.msg);
  }
  return kind;
}

/* ain.vectors.search(kind, vecs [, {k, min, since}]) */
static int l_search(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *kind = check_kind(L, 1);
  vblock_t *b = check_vecs(L, 2);
  ain_vec_query_t q = {.k = 10, .min_score = -1, .since = 0};
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_getfield(L, 3, "k");
    if (!lua_isnil(L, -1)) {
      lua_Number k = luaL_checknumber(L, -1);
      if (!(k >= 1 && k <= AIN_VEC_K_MAX) || k != (lua_Number)(int)k) {
        return luaL_argerror(L, 3, "k must be an integer in 1..1000");
      }
      q.k = (size_t)k;
    }
    lua_getfield(L, 3, "min");
    if (!lua_isnil(L, -1)) {
      lua_Number m = luaL_checknumber(L, -1);
      if (!(m >= -1 && m <= 1)) {
        return luaL_argerror(L, 3, "min must be a cosine in -1..1");
      }
      q.min_score = (float)m;
    }
    lua_getfield(L, 3, "since");
    if (!lua_isnil(L, -1)) {
      lua_Number s = luaL_checknumber(L, -1);
      if (!(s >= 0 && s < 1e11)) {
        return luaL_argerror(L, 3, "since must be epoch seconds");
      }
      q.since = (int64_t)(s * 1000);
    }
    lua_pop(L, 3);
  }
  ain_lua_call_t *call = no_call(L) ? NULL : ain__lua_call_for_yield(L, "ain.vectors.search");
  job_t *j = job_new(L, call, J_SEARCH, b);
  snprintf(j->vkind, sizeof j->vkind, "%s", kind);
  j->q = q;
  j->res = calloc(b->n ? b->n : 1, sizeof *j->res);
  j->nres = calloc(b->n ? b->n : 1, sizeof *j->nres);
  if (j->res == NULL || j->nres == NULL) {
    job_free(j);
    return luaL_error(L, "ain.vectors.search: out of memory");
  }
  if (call == NULL) {
    return run_inline(L, j);
  }
  if (h->store != NULL && ain_vec_global_is_flat()) {
    if (sync_submit(j) != 0) { /* then the pool part */
      int n = ain__lua_push_fail(L, j->rc, "%s", j->err.msg);
      job_free(j);
      return n;
    }
    return yield_on(L, call, j);
  }
  if (job_queue(call, j) != 0) {
    int n = ain__lua_push_fail(L, j->rc, "%s", j->err.msg);
    job_free(j);
    return n;
  }
  return yield_on(L, call, j);
}

/* ain.vectors.add(kind, vecs, items) */
static int l_add(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *kind = check_kind(L, 1);
  vblock_t *b = check_vecs(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  if (lua_objlen(L, 3) != b->n) {
    return luaL_argerror(L, 3,
                         lua_pushfstring(L,
                                         "items must have one entry per vector (%d), "
                                         "got %d",
                                         (int)b->n, (int)lua_objlen(L, 3)));
  }
  int n = ain__lua_no_side_effects(L, "ain.vectors.add");
  if (n != 0) {
    return n;
  }
  ain_lua_call_t *call = no_call(L) ? NULL : ain__lua_call_for_yield(L, "ain.vectors.add");
  job_t *j = job_new(L, call, J_UPSERT, b);
  snprintf(j->vkind, sizeof j->vkind, "%s", kind);
  j->rows = calloc(b->n ? b->n : 1, sizeof *j->rows);
  int64_t now = ain_now_ms();
  for (size_t i = 0; j->rows != NULL && i < b->n; i++) {
    lua_rawgeti(L, 3, (int)i + 1);
    if (!lua_istable(L, -1)) {
      job_free(j);
      return luaL_argerror(L, 3, lua_pushfstring(L, "items[%d] is not a table", (int)i + 1));
    }
    lua_getfield(L, -1, "id");
    lua_getfield(L, -2, "label");
    size_t idl = 0;
    const char *id = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &idl) : NULL;
    if (id == NULL || idl == 0 || idl > AIN_VEC_ID_MAX) {
      job_free(j);
      return luaL_argerror(L, 3,
                           lua_pushfstring(L,
                                           "items[%d].id must be a string of 1..256 "
                                           "bytes",
                                           (int)i + 1));
    }
    j->rows[i].item_id = strdup(id);
    j->rows[i].label = strdup(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
    j->rows[i].created_at = now;
    j->rows[i].vec = b->v + i * (size_t)b->dims;
    lua_pop(L, 3);
  }
  if (j->rows == NULL) {
    job_free(j);
    return luaL_error(L, "ain.vectors.add: out of memory");
  }
  if (call == NULL) {
    return run_inline(L, j);
  }
  if (h->store != NULL) {
    ain_store_req_vec_put(&j->req, j->vkind, b->model, b->dims, j->rows, b->n);
    j->req.data = j;
    j->req.cb = on_put;
    j->req.actor = call->actor;
    j->req_busy = 1;
    if (ain_store_submit(h->store, &j->req) != 0) {
      j->req_busy = 0;
      int nres = ain__lua_push_fail(L, j->req.err.code ? j->req.err.code : AIN_ESTORE, "%s",
                                    j->req.err.msg);
      job_free(j);
      return nres;
    }
    return yield_on(L, call, j);
  }
  if (job_queue(call, j) != 0) {
    int nres = ain__lua_push_fail(L, j->rc, "%s", j->err.msg);
    job_free(j);
    return nres;
  }
  return yield_on(L, call, j);
}

/* ---- the vecs userdata ------------------------------------------------------------------------
 */

static int l_gc(lua_State *L) {
  vblock_t **box = luaL_checkudata(L, 1, VECS_MT);
  vb_unref(*box);
  *box = NULL;
  return 0;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_vecs(L, 1)->n);
  return 1;
}

static int l_dims(lua_State *L) {
  lua_pushinteger(L, check_vecs(L, 1)->dims);
  return 1;
}

static int l_model(lua_State *L) {
  lua_pushstring(L, check_vecs(L, 1)->model);
  return 1;
}

static size_t check_row(lua_State *L, const vblock_t *b, int arg) {
  lua_Integer i = luaL_checkinteger(L, arg);
  if (i < 1 || (size_t)i > b->n) {
    luaL_argerror(L, arg, lua_pushfstring(L, "row must be 1..%d", (int)b->n));
  }
  return (size_t)i - 1;
}

static int l_get(lua_State *L) {
  vblock_t *b = check_vecs(L, 1);
  size_t r = check_row(L, b, 2);
  lua_createtable(L, b->dims, 0);
  for (int d = 0; d < b->dims; d++) {
    lua_pushnumber(L, b->v[r * (size_t)b->dims + (size_t)d]);
    lua_rawseti(L, -2, d + 1);
  }
  return 1;
}

static int l_cosine(lua_State *L) {
  vblock_t *b = check_vecs(L, 1);
  size_t r1 = check_row(L, b, 2);
  vblock_t *b2 = b;
  int arg = 3;
  if (lua_isuserdata(L, 3)) {
    b2 = check_vecs(L, 3);
    arg = 4;
    if (b2->dims != b->dims || strcmp(b2->model, b->model) != 0) {
      return luaL_argerror(L, 3, "vectors of another model or dims");
    }
  }
  size_t r2 = check_row(L, b2, arg);
  lua_pushnumber(
      L, ain_vec_dot(b->v + r1 * (size_t)b->dims, b2->v + r2 * (size_t)b->dims, (size_t)b->dims));
  return 1;
}

/* vecs:select({rows}) -> a new vecs of those rows, in that order (what to add after planning) */
static int l_select(lua_State *L) {
  vblock_t *b = check_vecs(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t n = lua_objlen(L, 2);
  vblock_t *nb = calloc(1, sizeof *nb);
  float *v = malloc((n ? n : 1) * (size_t)b->dims * sizeof *v);
  if (nb == NULL || v == NULL) {
    free(nb);
    free(v);
    return luaL_error(L, "vecs:select: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 2, (int)i + 1);
    lua_Integer r = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (r < 1 || (size_t)r > b->n) {
      free(nb);
      free(v);
      return luaL_argerror(
          L, 2, lua_pushfstring(L, "rows[%d] is not a row in 1..%d", (int)i + 1, (int)b->n));
    }
    memcpy(v + i * (size_t)b->dims, b->v + (size_t)(r - 1) * (size_t)b->dims,
           (size_t)b->dims * sizeof *v);
  }
  nb->refs = 1;
  nb->n = n;
  nb->dims = b->dims;
  memcpy(nb->model, b->model, sizeof nb->model);
  nb->v = v;
  push_vecs(L, nb);
  return 1;
}

static int l_tostring(lua_State *L) {
  vblock_t *b = check_vecs(L, 1);
  lua_pushfstring(L, "ain.vectors(%d x %d, %s)", (int)b->n, b->dims, b->model);
  return 1;
}

void ain__lua_add_vectors(lua_State *L) {
  if (luaL_newmetatable(L, VECS_MT)) {
    static const luaL_Reg meta[] = {
        {"__gc", l_gc}, {"__len", l_len}, {"__tostring", l_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"dims", l_dims},     {"model", l_model}, {"get", l_get},
                                       {"cosine", l_cosine}, {"dedup", l_dedup}, {"count", l_len},
                                       {"select", l_select}, {NULL, NULL}};
    luaL_register(L, NULL, meta);
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "ain.vectors");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_embed);
  lua_setfield(L, -2, "embed");
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, l_search);
  lua_setfield(L, -2, "search");
  lua_pushcfunction(L, l_add);
  lua_setfield(L, -2, "add");
  ain__lua_make_readonly(L, "ain.vectors");
  lua_setfield(L, -2, "vectors");
}
