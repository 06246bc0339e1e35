/* engine/vec/: exact top-k against a naive reference, normalisation of bad vectors, the flat
 * backend (replace by id, dims mismatch, empty and unknown indexes, the time window), the
 * hashed-ngrams embedder, the OpenAI response parser on bad answers, and the store's embeddings
 * ops (VEC_PUT / VEC_LOAD: replace takes a new seq, paging, dims check) on the fixture's store.
 * Relies on: vec/vec.h, store_fixture.h, the C harness. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <stdio.h>

#include "harness.h"
#include "store_fixture.h"
#include "vec/vec.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

static float *random_rows(size_t n, size_t d) {
  float *m = malloc(n * d * sizeof *m);
  for (size_t i = 0; i < n * d; i++) {
    m[i] = frand();
  }
  for (size_t i = 0; i < n; i++) {
    ain_err_t err;
    ASSERT_OK(ain_vec_normalize(m + i * d, d, &err));
  }
  return m;
}

TEST(dot_matches_naive_for_every_tail) {
  for (size_t d = 1; d <= 77; d++) {
    float *a = random_rows(1, d), *b = random_rows(1, d);
    double ref = 0;
    for (size_t i = 0; i < d; i++) {
      ref += (double)a[i] * b[i];
    }
    ASSERT_TRUE(fabs(ain_vec_dot(a, b, d) - ref) < 1e-5);
    free(a);
    free(b);
  }
}

/* The naive reference: every score, sorted by score then row. */
TEST(topk_matches_naive_reference) {
  size_t n = 3000, d = 384, k = 10;
  float *m = random_rows(n, d), *q = random_rows(1, d);
  /* a few exact ties and a copy of q */
  memcpy(m + 17 * d, m + 16 * d, d * sizeof *m);
  memcpy(m + 2000 * d, q, d * sizeof *m);
  double *ref = malloc(n * sizeof *ref);
  for (size_t r = 0; r < n; r++) {
    ref[r] = ain_vec_dot(m + r * d, q, d);
  }
  ain_vec_hit_t hits[10];
  size_t nh = ain_vec_topk(m, n, d, q, k, -1, NULL, 0, hits);
  ASSERT_EQ(nh, k);
  ASSERT_EQ(hits[0].row, 2000);
  ASSERT_TRUE(hits[0].score > 0.9999f);
  for (size_t i = 0; i < k; i++) {
    /* exactly i rows beat hit i (ties broken by row) */
    size_t better = 0;
    for (size_t r = 0; r < n; r++) {
      if (ref[r] > hits[i].score || (ref[r] == hits[i].score && r < hits[i].row)) {
        better++;
      }
    }
    ASSERT_EQ(better, i);
  }
  /* min_score and the time filter */
  int64_t *ts = calloc(n, sizeof *ts);
  ts[2000] = 5; /* only the copy of q is older than since = 10 */
  for (size_t r = 0; r < n; r++) {
    ts[r] = r == 2000 ? 5 : 100;
  }
  nh = ain_vec_topk(m, n, d, q, k, -1, ts, 10, hits);
  ASSERT_TRUE(nh == k && hits[0].row != 2000);
  nh = ain_vec_topk(m, n, d, q, k, 0.99f, NULL, 0, hits);
  ASSERT_EQ(nh, 1);
  ASSERT_EQ(ain_vec_topk(m, 0, d, q, k, -1, NULL, 0, hits), 0); /* empty */
  ASSERT_EQ(ain_vec_topk(m, n, d, q, 0, -1, NULL, 0, hits), 0);
  free(ts);
  free(ref);
  free(m);
  free(q);
}

TEST(normalize_refuses_nan_inf_and_zero) {
  ain_err_t err;
  float z[4] = {0, 0, 0, 0}, n[3] = {1, NAN, 0}, i[2] = {INFINITY, 1}, ok[2] = {3, 4};
  ASSERT_EQ(ain_vec_normalize(z, 4, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "all zeros");
  ASSERT_EQ(ain_vec_normalize(n, 3, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "component 1");
  ASSERT_EQ(ain_vec_normalize(i, 2, &err), AIN_EINVAL);
  ASSERT_OK(ain_vec_normalize(ok, 2, &err));
  ASSERT_TRUE(fabsf(ok[0] - 0.6f) < 1e-6f && fabsf(ok[1] - 0.8f) < 1e-6f);
}

TEST(dedup_names_the_first_kept_row) {
  size_t d = 64;
  float *m = random_rows(5, d);
  memcpy(m + 2 * d, m, d * sizeof *m);         /* row 2 = row 0 */
  memcpy(m + 4 * d, m + 2 * d, d * sizeof *m); /* row 4 = row 2 = row 0: names 0, not 2 */
  long dup[5];
  float score[5];
  ain_vec_dedup(m, 5, d, 0.95f, dup, score);
  ASSERT_EQ(dup[0], -1);
  ASSERT_EQ(dup[1], -1);
  ASSERT_EQ(dup[2], 0);
  ASSERT_EQ(dup[3], -1);
  ASSERT_EQ(dup[4], 0);
  ASSERT_TRUE(score[4] > 0.999f);
  free(m);
}

TEST(flat_backend) {
  ain_vec_backend_t *b = ain_vec_flat_new();
  ain_err_t err;
  float *m = random_rows(3, 8);
  ain_vec_item_t items[3] = {{"a", "A", 100, m}, {"b", "B", 200, m + 8}, {"c", NULL, 300, m + 16}};
  ain_vec_query_t q = {.k = 2, .min_score = -1, .since = 0};
  ain_vec_result_t *res = NULL;
  size_t nres = 9;
  /* an empty (unknown) index answers nothing */
  ASSERT_OK(b->vt->search(b, "trend", "m", 8, m, &q, &res, &nres, &err));
  ASSERT_EQ(nres, 0);
  ain_vec_results_free(res, nres);
  ASSERT_OK(b->vt->upsert(b, "trend", "m", 8, items, 3, &err));
  ASSERT_EQ(b->vt->count(b, "trend", "m"), 3);
  ASSERT_OK(b->vt->search(b, "trend", "m", 8, m + 8, &q, &res, &nres, &err));
  ASSERT_EQ(nres, 2);
  ASSERT_STR_EQ(res[0].id, "b");
  ASSERT_STR_EQ(res[0].label, "B");
  ASSERT_EQ(res[0].created_at, 200);
  ain_vec_results_free(res, nres);
  /* replacing "b" by a's vector keeps three rows */
  ain_vec_item_t again = {"b", "B2", 400, m};
  ASSERT_OK(b->vt->upsert(b, "trend", "m", 8, &again, 1, &err));
  ASSERT_EQ(b->vt->count(b, "trend", "m"), 3);
  q.since = 150;
  ASSERT_OK(b->vt->search(b, "trend", "m", 8, m, &q, &res, &nres, &err));
  ASSERT_STR_EQ(res[0].id, "b"); /* "a" is older than since */
  ASSERT_STR_EQ(res[0].label, "B2");
  ain_vec_results_free(res, nres);
  /* dims mismatch, bad k, bad kind */
  ASSERT_EQ(b->vt->search(b, "trend", "m", 4, m, &q, &res, &nres, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "8-dimensional");
  ASSERT_EQ(b->vt->upsert(b, "trend", "m", 4, items, 1, &err), AIN_EINVAL);
  q.k = 0;
  ASSERT_EQ(b->vt->search(b, "trend", "m", 8, m, &q, &res, &nres, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "k");
  ASSERT_EQ(b->vt->upsert(b, "Trend!", "m", 8, items, 1, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "kind");
  ain_vec_item_t noid = {"", "x", 1, m};
  ASSERT_EQ(b->vt->upsert(b, "trend", "m", 8, &noid, 1, &err), AIN_EINVAL);
  b->vt->free(b);
  free(m);
}

TEST(hashed_ngrams) {
  ain_vec_embedder_t e = {.provider = "hashed-ngrams", .dims = 256};
  const char *texts[] = {"Apple unveils M5", "M5 chip announced by Apple",
                         "Tokyo ramen bars go cashless", "apple UNVEILS m5!!"};
  float *v = NULL;
  int dims = 0;
  ain_err_t err;
  ASSERT_OK(ain_vec_embed(&e, texts, 4, &v, &dims, &err));
  ASSERT_EQ(dims, 256);
  float dup = ain_vec_dot(v, v + 256, 256), other = ain_vec_dot(v, v + 512, 256);
  ASSERT_TRUE(dup >= 0.45f); /* the default threshold catches this pair (docs/vectors.md) */
  ASSERT_TRUE(other < 0.2f);
  ASSERT_TRUE(ain_vec_dot(v, v + 768, 256) > 0.9999f); /* case and punctuation do not count */
  free(v);
  char model[AIN_VEC_MODEL_MAX];
  ain_vec_model_name(&e, model);
  ASSERT_STR_EQ(model, "hashed-ngrams-256");
  const char *bad[] = {"fine", "?!  ..."};
  ASSERT_EQ(ain_vec_embed(&e, bad, 2, &v, &dims, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "texts[2]");
  const char *empty[] = {""};
  ASSERT_EQ(ain_vec_embed(&e, empty, 1, &v, &dims, &err), AIN_EINVAL);
  ain_vec_embedder_t unknown = {.provider = "word2vec"};
  ASSERT_EQ(ain_vec_embed(&unknown, texts, 1, &v, &dims, &err), AIN_ECONFIG);
}

static int parse(const char *body, size_t n, ain_err_t *err) {
  float *v = NULL;
  int dims = 0;
  int rc = ain_vec_openai_parse(body, strlen(body), n, &v, &dims, err);
  free(v);
  return rc;
}

TEST(openai_parser_refuses_bad_answers) {
  ain_err_t err;
  float *v = NULL;
  int dims = 0;
  const char *ok =
      "{\"data\":[{\"index\":1,\"embedding\":[0,2]},{\"index\":0,\"embedding\":[3,4]}]}";
  ASSERT_OK(ain_vec_openai_parse(ok, strlen(ok), 2, &v, &dims, &err));
  ASSERT_EQ(dims, 2);
  ASSERT_TRUE(fabsf(v[0] - 0.6f) < 1e-6f && fabsf(v[3] - 1.0f) < 1e-6f); /* by index */
  free(v);
  ASSERT_EQ(parse("not json", 1, &err), AIN_EHTTP);
  ASSERT_EQ(parse("{\"object\":\"list\"}", 1, &err), AIN_EHTTP);
  ASSERT_STR_EQ(err.field, "data");
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[1]}]}", 2, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "1 embeddings for 2 inputs");
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1]}]}",
                  2, &err),
            AIN_EHTTP);
  ASSERT_STR_EQ(err.field, "data[1].embedding");
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":[1]}]}", 2,
                  &err),
            AIN_EHTTP);
  ASSERT_STR_EQ(err.field, "data[1].index");
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[0,0]}]}", 1, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "all zeros");
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[1,\"x\"]}]}", 1, &err), AIN_EHTTP);
  ASSERT_EQ(parse("{\"data\":[{\"index\":0,\"embedding\":[]}]}", 1, &err), AIN_EHTTP);
  ASSERT_EQ(parse("{\"data\":[{\"index\":7,\"embedding\":[1]}]}", 1, &err), AIN_EHTTP);
}

TEST(store_embeddings_roundtrip) {
  fx_t f;
  fx_open(&f);
  char kind[64];
  snprintf(kind, sizeof kind, "k%lld", (long long)(ain_now_ms() % 1000000000)); /* shared pg db */
  float v[3][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0.5f, -0.25f, 3e-8f, -1e30f}};
  ain_store_vec_row_t rows[3] = {
      {0, "a", "A", 0, v[0]}, {0, "b", NULL, 1234, v[1]}, {0, "c", "C", 0, v[2]}};
  ain_store_req_t r;
  ain_store_req_vec_put(&r, kind, "m", 4, rows, 3);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_TRUE(rows[0].seq > 0 && rows[1].seq > rows[0].seq);
  /* replace "a": it moves after "c" */
  ain_store_vec_row_t again = {0, "a", "A2", 0, v[2]};
  ain_store_req_vec_put(&r, kind, "m", 4, &again, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_TRUE(again.seq > rows[2].seq);
  ain_store_req_vec_load(&r, kind, "m", 4, 0, 2);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.vec.nrows, 2);
  ASSERT_STR_EQ(r.u.vec.rows[0].item_id, "b");
  ASSERT_STR_EQ(r.u.vec.rows[0].label, "");
  ASSERT_EQ(r.u.vec.rows[0].created_at, 1234);
  int64_t after = r.u.vec.rows[1].seq;
  ASSERT_TRUE(memcmp(r.u.vec.rows[1].vec, v[2], sizeof v[2]) == 0); /* bit-exact */
  ain_store_req_cleanup(&r);
  ain_store_req_vec_load(&r, kind, "m", 4, after, 10);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.vec.nrows, 1);
  ASSERT_STR_EQ(r.u.vec.rows[0].label, "A2");
  ain_store_req_cleanup(&r);
  /* other dims under the same model: refused naming dims */
  ain_store_req_vec_load(&r, kind, "m", 8, 0, 10);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ESTORE);
  ASSERT_STR_EQ(r.err.field, "dims");
  ain_store_req_cleanup(&r);
  /* bad input: duplicate ids, bad kind, bad limit */
  ain_store_vec_row_t twice[2] = {{0, "x", "", 0, v[0]}, {0, "x", "", 0, v[1]}};
  ain_store_req_vec_put(&r, kind, "m", 4, twice, 2);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "item_id");
  ain_store_req_cleanup(&r);
  ain_store_req_vec_load(&r, "Bad Kind", "m", 4, 0, 10);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  ain_store_req_vec_load(&r, kind, "m", 4, 0, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

/* The loaded seqs are held for AIN_VEC_LATE_HOLD_MS, at most cap of them are handed out; past
 * the hold the floor moves up to the highest seq loaded. */
TEST(flat_sync_point_window) {
  ain_vec_backend_t *be = ain_vec_flat_new();
  ain_err_t err;
  float v[4] = {1, 0, 0, 0};
  ain_vec_item_t items[10];
  char ids[10][8];
  int64_t seqs[10], have[AIN_VEC_LATE_MAX], after, recheck;
  size_t nhave;
  for (int i = 0; i < 10; i++) {
    snprintf(ids[i], sizeof ids[i], "i%d", i);
    items[i] = (ain_vec_item_t){ids[i], "", 0, v};
    seqs[i] = 100 + 3 * i; /* 100, 103, ... 127: gaps between are other kinds' rows */
  }
  ain_vec_flat_sync_point(be, "k", "m", 1000, &after, &recheck, have, AIN_VEC_LATE_MAX, &nhave);
  ASSERT_EQ(after, 0);
  ASSERT_EQ(nhave, 0);
  ASSERT_OK(be->vt->upsert(be, "k", "m", 4, items, 2, &err));
  ain_vec_flat_loaded(be, "k", "m", seqs, 2, 1000);
  ain_vec_flat_sync_point(be, "k", "m", 2000, &after, &recheck, have, AIN_VEC_LATE_MAX, &nhave);
  ASSERT_EQ(after, 103);
  ASSERT_EQ(recheck, 0);
  ASSERT_EQ(nhave, 2);
  ASSERT_EQ(have[0], 100);
  ASSERT_EQ(have[1], 103);
  /* a late row (seq 101) loaded later joins them; past the hold of the first two the floor
   * moves to 103 and only what is above it stays */
  ASSERT_OK(be->vt->upsert(be, "k", "m", 4, items + 2, 8, &err));
  ain_vec_flat_loaded(be, "k", "m", seqs + 2, 8, 1000 + AIN_VEC_LATE_HOLD_MS / 2);
  int64_t late = 101;
  ain_vec_flat_loaded(be, "k", "m", &late, 1, 1000 + AIN_VEC_LATE_HOLD_MS / 2);
  ain_vec_flat_sync_point(be, "k", "m", 1000 + AIN_VEC_LATE_HOLD_MS, &after, &recheck, have,
                          AIN_VEC_LATE_MAX, &nhave);
  ASSERT_EQ(after, 127);
  ASSERT_EQ(recheck, 103);
  ASSERT_EQ(nhave, 8); /* 106 .. 127; 101 is below the floor now */
  ASSERT_EQ(have[0], 106);
  /* room for 3: the oldest go below the floor */
  ain_vec_flat_sync_point(be, "k", "m", 1000 + AIN_VEC_LATE_HOLD_MS, &after, &recheck, have, 3,
                          &nhave);
  ASSERT_EQ(nhave, 3);
  ASSERT_EQ(recheck, 118);
  ASSERT_EQ(have[0], 121);
  /* everything past the hold: nothing held, the floor at the top */
  ain_vec_flat_sync_point(be, "k", "m", 1000 + 3 * AIN_VEC_LATE_HOLD_MS, &after, &recheck, have,
                          AIN_VEC_LATE_MAX, &nhave);
  ASSERT_EQ(nhave, 0);
  ASSERT_EQ(recheck, 127);
  ASSERT_EQ(after, 127);
  be->vt->free(be);
}

/* What engine/ops/similar.c and ain.vectors do before a search: bring the flat index up to date. */
static void sync_index(fx_t *f, ain_vec_backend_t *be, const char *kind) {
  static int64_t have[AIN_VEC_LATE_MAX];
  int64_t after, recheck;
  size_t nhave;
  ain_vec_flat_sync_point(be, kind, "m", ain_now_ms(), &after, &recheck, have, AIN_VEC_LATE_MAX,
                          &nhave);
  ain_store_req_t r;
  ain_store_req_vec_load(&r, kind, "m", 4, after, 100);
  ain_store_req_vec_load_late(&r, recheck, have, nhave);
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_err_t err;
  int64_t seqs[100];
  for (size_t i = 0; i < r.u.vec.nrows; i++) {
    ain_store_vec_row_t *row = &r.u.vec.rows[i];
    ain_vec_item_t it = {row->item_id, row->label, row->created_at, row->vec};
    ASSERT_OK(be->vt->upsert(be, kind, "m", 4, &it, 1, &err));
    seqs[i] = row->seq;
  }
  ain_vec_flat_loaded(be, kind, "m", seqs, r.u.vec.nrows, ain_now_ms());
  ain_store_req_cleanup(&r);
}

/* Postgres: a row whose sequence number was taken before another's but that commits after it is
 * still loaded by an index that already holds the other (the gap is looked into again). */
TEST(postgres_late_commit_is_loaded) {
  fx_t f;
  fx_open(&f);
  if (fx_is_sqlite(f.url)) { /* one writer at a time: seqs commit in order; nothing to test */
    fx_close(&f);
    return;
  }
  char kind[64], sql[512];
  snprintf(kind, sizeof kind, "late%lld", (long long)(ain_now_ms() % 1000000000));
  PGconn *pg = PQconnectdb(f.url);
  ASSERT_EQ(PQstatus(pg), CONNECTION_OK);
  PGresult *res = PQexec(pg, "BEGIN");
  PQclear(res);
  snprintf(sql, sizeof sql,
           "INSERT INTO embeddings (kind, model, item_id, dims, vec, label, created_at) VALUES "
           "('%s', 'm', 'late', 4, decode('0000803f000000000000000000000000', 'hex'), '', 1) "
           "RETURNING seq", kind);
  res = PQexec(pg, sql);
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
  int64_t late_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  /* another writer takes a higher seq and commits first */
  float v[4] = {0, 1, 0, 0};
  ain_store_vec_row_t early = {0, "early", "", 0, v};
  ain_store_req_t r;
  ain_store_req_vec_put(&r, kind, "m", 4, &early, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_TRUE(early.seq > late_seq);
  ain_vec_backend_t *be = ain_vec_flat_new();
  sync_index(&f, be, kind);
  ASSERT_EQ(be->vt->count(be, kind, "m"), 1);
  res = PQexec(pg, "COMMIT");
  ASSERT_EQ(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  /* A loader that asked only for rows after the highest seq it holds misses it: */
  ain_store_req_vec_load(&r, kind, "m", 4, early.seq, 100);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.vec.nrows, 0);
  ain_store_req_cleanup(&r);
  /* ... this one finds it, once, and then asks for nothing more. */
  sync_index(&f, be, kind);
  ASSERT_EQ(be->vt->count(be, kind, "m"), 2);
  ain_vec_query_t q = {.k = 2, .min_score = -1};
  ain_vec_result_t *hits = NULL;
  size_t nhits = 0;
  ain_err_t err;
  float probe[4] = {1, 0, 0, 0};
  ASSERT_OK(be->vt->search(be, kind, "m", 4, probe, &q, &hits, &nhits, &err));
  ASSERT_TRUE(nhits >= 1);
  ASSERT_STR_EQ(hits[0].id, "late");
  ain_vec_results_free(hits, nhits);
  sync_index(&f, be, kind);
  ASSERT_EQ(be->vt->count(be, kind, "m"), 2);
  be->vt->free(be);
  PQfinish(pg);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(dot_matches_naive_for_every_tail), TEST_ENTRY(topk_matches_naive_reference),
          TEST_ENTRY(normalize_refuses_nan_inf_and_zero),
          TEST_ENTRY(dedup_names_the_first_kept_row), TEST_ENTRY(flat_backend),
          TEST_ENTRY(hashed_ngrams), TEST_ENTRY(openai_parser_refuses_bad_answers),
          TEST_ENTRY(store_embeddings_roundtrip), TEST_ENTRY(flat_sync_point_window),
          TEST_ENTRY(postgres_late_commit_is_loaded))
