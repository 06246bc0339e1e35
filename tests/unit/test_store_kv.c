/* Contract tests for the store's KV ops (KV_GET / KV_PUT / KV_DELETE), run against SQLite (a fresh
 * file per test) and Postgres (AIN_TEST_STORE_URL=postgres://..., see store_fixture.h for the reset
 * hook; tests/integration/store_postgres.sh runs this binary on a real server). Every test uses a
 * fresh UUIDv7 namespace, so they also pass on a shared database.
 * Relies on: store_fixture.h, store/store.h, libuv, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

/* put -> status; *version = new version (0 on failure); msg (may be NULL) gets err.msg */
static int put(fx_t *f, const char *ns, const char *key, const char *val, int64_t expect,
               int64_t *version, char *msg) {
  ain_store_req_t r;
  ain_store_req_kv_put(&r, ns, key, val, expect);
  int rc = ain_store_wait(f->s, &r);
  if (version != NULL) {
    *version = rc == 0 ? r.u.kv.version : 0;
  }
  if (msg != NULL) {
    snprintf(msg, 512, "%s", r.err.msg);
  }
  ASSERT_EQ(r.status, rc);
  ain_store_req_cleanup(&r);
  return rc;
}

/* get -> status; value copied into val[4096] */
static int get(fx_t *f, const char *ns, const char *key, char *val, int64_t *version) {
  ain_store_req_t r;
  ain_store_req_kv_get(&r, ns, key);
  int rc = ain_store_wait(f->s, &r);
  val[0] = '\0';
  *version = 0;
  if (rc == 0) {
    ASSERT_NOT_NULL(r.u.kv.out_value);
    snprintf(val, 4096, "%s", r.u.kv.out_value);
    *version = r.u.kv.version;
  } else {
    ASSERT_NULL(r.u.kv.out_value);
  }
  ain_store_req_cleanup(&r);
  ASSERT_NULL(r.u.kv.out_value);
  return rc;
}

static int del(fx_t *f, const char *ns, const char *key, int64_t expect, char *msg) {
  ain_store_req_t r;
  ain_store_req_kv_delete(&r, ns, key, expect);
  int rc = ain_store_wait(f->s, &r);
  if (msg != NULL) {
    snprintf(msg, 512, "%s", r.err.msg);
  }
  ain_store_req_cleanup(&r);
  return rc;
}

TEST(put_get_replace) {
  fx_t f;
  fx_open(&f);
  char val[4096];
  int64_t v = 0;
  ASSERT_EQ(get(&f, f.ns, "k", val, &v), AIN_ENOTFOUND);
  ASSERT_OK(put(&f, f.ns, "k", "{\"a\":1}", -1, &v, NULL));
  ASSERT_EQ(v, 1);
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_STR_EQ(val, "{\"a\":1}");
  ASSERT_EQ(v, 1);
  ASSERT_OK(put(&f, f.ns, "k", "\"two\"", -1, &v, NULL));
  ASSERT_EQ(v, 2);
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_STR_EQ(val, "\"two\"");
  ASSERT_EQ(v, 2);
  /* UTF-8 and a key with spaces and slashes are just text */
  ASSERT_OK(put(&f, f.ns, "a b/c", "\"h\xc3\xa9\"", -1, &v, NULL));
  ASSERT_OK(get(&f, f.ns, "a b/c", val, &v));
  ASSERT_STR_EQ(val, "\"h\xc3\xa9\"");
  fx_close(&f);
}

TEST(expect_version_is_occ) {
  fx_t f;
  fx_open(&f);
  char msg[512], val[4096];
  int64_t v = 0;
  /* 0 = create only */
  ASSERT_OK(put(&f, f.ns, "k", "1", 0, &v, NULL));
  ASSERT_EQ(v, 1);
  ASSERT_EQ(put(&f, f.ns, "k", "2", 0, &v, msg), AIN_ECONFLICT);
  ASSERT_STR_CONTAINS(msg, "found 1");
  /* the right version wins once; the same version again is stale */
  ASSERT_OK(put(&f, f.ns, "k", "3", 1, &v, NULL));
  ASSERT_EQ(v, 2);
  ASSERT_EQ(put(&f, f.ns, "k", "4", 1, &v, msg), AIN_ECONFLICT);
  ASSERT_STR_CONTAINS(msg, "expected version 1, found 2");
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_STR_EQ(val, "3");
  ASSERT_EQ(v, 2);
  /* a version on a missing key */
  ASSERT_EQ(put(&f, f.ns, "missing", "1", 5, &v, msg), AIN_ECONFLICT);
  ASSERT_STR_CONTAINS(msg, "does not exist");
  ASSERT_EQ(get(&f, f.ns, "missing", val, &v), AIN_ENOTFOUND);
  fx_close(&f);
}

static void count_cb(ain_store_req_t *r) { (*(int *)r->data)++; }

/* Two writers that read version 1 and both try to write: exactly one wins. */
TEST(racing_writers_one_wins) {
  fx_t f;
  fx_open(&f);
  int64_t v = 0;
  ASSERT_OK(put(&f, f.ns, "k", "0", -1, &v, NULL));
  ain_store_req_t a, b;
  int done = 0;
  ain_store_req_kv_put(&a, f.ns, "k", "\"a\"", 1);
  ain_store_req_kv_put(&b, f.ns, "k", "\"b\"", 1);
  a.cb = b.cb = count_cb;
  a.data = b.data = &done;
  ASSERT_OK(ain_store_submit(f.s, &a));
  ASSERT_OK(ain_store_submit(f.s, &b));
  while (done < 2) {
    uv_run(&f.loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(a.status, 0);
  ASSERT_EQ(a.u.kv.version, 2);
  ASSERT_EQ(b.status, AIN_ECONFLICT);
  ain_store_req_cleanup(&a);
  ain_store_req_cleanup(&b);
  char val[4096];
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_STR_EQ(val, "\"a\"");
  fx_close(&f);
}

TEST(delete_checks_version) {
  fx_t f;
  fx_open(&f);
  char msg[512], val[4096];
  int64_t v = 0;
  ASSERT_EQ(del(&f, f.ns, "k", -1, msg), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(msg, "not found");
  ASSERT_OK(put(&f, f.ns, "k", "1", -1, &v, NULL));
  ASSERT_OK(put(&f, f.ns, "k", "2", -1, &v, NULL));
  ASSERT_EQ(del(&f, f.ns, "k", 1, msg), AIN_ECONFLICT);
  ASSERT_STR_CONTAINS(msg, "found 2");
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_OK(del(&f, f.ns, "k", 2, NULL));
  ASSERT_EQ(get(&f, f.ns, "k", val, &v), AIN_ENOTFOUND);
  /* a new key after a delete starts again at version 1 */
  ASSERT_OK(put(&f, f.ns, "k", "3", 0, &v, NULL));
  ASSERT_EQ(v, 1);
  ASSERT_OK(del(&f, f.ns, "k", -1, NULL));
  ASSERT_EQ(del(&f, f.ns, "k", -1, NULL), AIN_ENOTFOUND);
  fx_close(&f);
}

TEST(namespaces_are_separate) {
  fx_t f;
  fx_open(&f);
  char other[80], val[4096];
  snprintf(other, sizeof other, "%s-other", f.ns);
  int64_t v = 0;
  ASSERT_OK(put(&f, f.ns, "k", "\"mine\"", -1, &v, NULL));
  ASSERT_EQ(get(&f, other, "k", val, &v), AIN_ENOTFOUND);
  ASSERT_OK(put(&f, other, "k", "\"theirs\"", 0, &v, NULL));
  ASSERT_EQ(v, 1);
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  ASSERT_STR_EQ(val, "\"mine\"");
  ASSERT_OK(del(&f, other, "k", -1, NULL));
  ASSERT_OK(get(&f, f.ns, "k", val, &v));
  fx_close(&f);
}

/* Bad inputs are refused by ain_store_submit before a backend sees them (no callback). */
TEST(bad_inputs) {
  fx_t f;
  fx_open(&f);
  char msg[512], big_key[AIN_STORE_KV_KEY_MAX + 2], val[4096];
  memset(big_key, 'k', sizeof big_key - 1);
  big_key[sizeof big_key - 1] = '\0';
  int64_t v;
  ASSERT_EQ(put(&f, "", "k", "1", -1, &v, msg), AIN_EINVAL);
  ASSERT_STR_CONTAINS(msg, "namespace");
  ASSERT_EQ(put(&f, NULL, "k", "1", -1, &v, msg), AIN_EINVAL);
  ASSERT_EQ(put(&f, f.ns, "", "1", -1, &v, msg), AIN_EINVAL);
  ASSERT_STR_CONTAINS(msg, "key");
  ASSERT_EQ(put(&f, f.ns, big_key, "1", -1, &v, msg), AIN_EINVAL);
  ASSERT_EQ(put(&f, f.ns, "k", NULL, -1, &v, msg), AIN_EINVAL);
  ASSERT_STR_CONTAINS(msg, "value");
  ASSERT_EQ(put(&f, f.ns, "k", "1", -2, &v, msg), AIN_EINVAL);
  ASSERT_STR_CONTAINS(msg, "expect_version");
  ASSERT_EQ(del(&f, f.ns, "k", 0, msg), AIN_EINVAL);
  ASSERT_EQ(get(&f, f.ns, NULL, val, &v), AIN_EINVAL);
  char *huge = malloc(AIN_STORE_KV_VALUE_MAX + 3);
  ASSERT_NOT_NULL(huge);
  memset(huge, 'x', AIN_STORE_KV_VALUE_MAX + 2);
  huge[0] = huge[AIN_STORE_KV_VALUE_MAX + 1] = '"';
  huge[AIN_STORE_KV_VALUE_MAX + 2] = '\0';
  ASSERT_EQ(put(&f, f.ns, "k", huge, -1, &v, msg), AIN_ETOOBIG);
  free(huge);
  /* the request was refused up front: nothing was stored */
  ASSERT_EQ(get(&f, f.ns, "k", val, &v), AIN_ENOTFOUND);
  fx_close(&f);
}

/* A store that was never migrated has no kv table: a store error, not a crash or a "not found". */
TEST(unmigrated_store_is_estore) {
  if (!fx_exclusive_db()) {
    return; /* a shared Postgres database is migrated already */
  }
  fx_t f;
  fx_open_url(&f, fx_fresh_url()); /* not migrated */
  char msg[512];
  int64_t v;
  ASSERT_EQ(put(&f, f.ns, "k", "1", -1, &v, msg), AIN_ESTORE);
  ASSERT_STR_CONTAINS(msg, "kv");
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(put_get_replace), TEST_ENTRY(expect_version_is_occ),
          TEST_ENTRY(racing_writers_one_wins), TEST_ENTRY(delete_checks_version),
          TEST_ENTRY(namespaces_are_separate), TEST_ENTRY(bad_inputs),
          TEST_ENTRY(unmigrated_store_is_estore))
