/* Store contract tests of the script registry ops (SCRIPT_PUT/GET/LIST/PIN), written against
 * store.h only: the same binary runs against SQLite (a fresh file per test) and Postgres
 * (AIN_TEST_STORE_URL=postgres://..., AIN_TEST_STORE_RESET as in store_fixture.h).
 * Relies on: store_fixture.h, store/store.h, libuv, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

static int wait(fx_t *f, ain_store_req_t *r) {
  r->actor = "test";
  int rc = ain_store_wait(f->s, r);
  if (rc != 0 && rc != AIN_ENOTFOUND && rc != AIN_EINVAL) {
    fprintf(stderr, "store: %s\n", r->err.msg);
  }
  return rc;
}

/* fx_open, then f->ns becomes a module name unique to the test ("m_" and 12 hex digits of a
 * fresh UUIDv7), so a shared Postgres database works too. */
static void open_fx(fx_t *f) {
  fx_open(f);
  char id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  snprintf(f->ns, sizeof f->ns, "m_%.8s%.4s", id + 24, id + 9);
}

/* A random 64-hex sha (the store does not recompute it), with a chosen first 8 digits. */
static void mk_sha(char out[65], const char *prefix8) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 64; i++) {
    out[i] = hex[ain_random_u64() & 15];
  }
  out[64] = '\0';
  if (prefix8 != NULL) {
    memcpy(out, prefix8, 8);
  }
}

static int put(fx_t *f, const char *mod, const char *sha, const char *src, const char *error,
               int *inserted) {
  ain_store_req_t r;
  ain_store_req_script_put(&r, mod, sha, src, error);
  int rc = wait(f, &r);
  if (inserted) {
    *inserted = r.u.script_put.inserted;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

TEST(put_get_once) {
  fx_t f;
  open_fx(&f);
  char sha[65];
  mk_sha(sha, NULL);
  int ins = -1;
  ASSERT_OK(put(&f, f.ns, sha, "return {f = function() end}\n", NULL, &ins));
  ASSERT_EQ(ins, 1);
  /* the same version again: kept as first recorded (first_error too) */
  ASSERT_OK(put(&f, f.ns, sha, "return {f = function() end}\n", "ELUA: later error", &ins));
  ASSERT_EQ(ins, 0);
  ain_store_req_t r;
  ain_store_req_script_get(&r, sha, NULL);
  ASSERT_OK(wait(&f, &r));
  ASSERT_STR_EQ(r.u.script_get.version.sha, sha);
  ASSERT_STR_EQ(r.u.script_get.version.module, f.ns);
  ASSERT_STR_EQ(r.u.script_get.version.source, "return {f = function() end}\n");
  ASSERT_NULL(r.u.script_get.version.error);
  ASSERT_TRUE(r.u.script_get.version.created_at > 0);
  ain_store_req_cleanup(&r);
  char prefix[13];
  snprintf(prefix, sizeof prefix, "%.12s", sha);
  ain_store_req_script_get(&r, prefix, f.ns);
  ASSERT_OK(wait(&f, &r));
  ASSERT_STR_EQ(r.u.script_get.version.sha, sha);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(get_bad_input) {
  fx_t f;
  open_fx(&f);
  char sha[65], other[65];
  mk_sha(sha, "abcdef01");
  mk_sha(other, "abcdef01");
  ASSERT_OK(put(&f, f.ns, sha, "a", NULL, NULL));
  ASSERT_OK(put(&f, f.ns, other, "b", NULL, NULL));
  ain_store_req_t r;
  ain_store_req_script_get(&r, "abcdef01", f.ns);
  ASSERT_EQ(wait(&f, &r), AIN_EINVAL); /* ambiguous prefix */
  ASSERT_STR_CONTAINS(r.err.msg, "ambiguous");
  ain_store_req_cleanup(&r);
  char unknown[65];
  mk_sha(unknown, "00000000");
  ain_store_req_script_get(&r, unknown, NULL);
  ASSERT_EQ(wait(&f, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  ain_store_req_script_get(&r, sha, "some_other_module");
  ASSERT_EQ(wait(&f, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  static const char *const bad[] = {"abc", "ABCDEF0123", "abcdefgh", "xyz", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_store_req_script_get(&r, bad[i], NULL);
    ASSERT_EQ(wait(&f, &r), AIN_EINVAL);
    ASSERT_STR_EQ(r.err.field, "sha");
    ain_store_req_cleanup(&r);
  }
  ASSERT_EQ(put(&f, "bad module!", sha, "x", NULL, NULL), AIN_EINVAL);
  ASSERT_EQ(put(&f, f.ns, "abcdef01", "x", NULL, NULL), AIN_EINVAL); /* put needs a full sha */
  ASSERT_EQ(put(&f, f.ns, sha, NULL, NULL, NULL), AIN_EINVAL);
  fx_close(&f);
}

TEST(list_newest_first_with_errors) {
  fx_t f;
  open_fx(&f);
  char a[65], b[65];
  mk_sha(a, NULL);
  mk_sha(b, NULL);
  ain_store_req_t r;
  ain_store_req_script_put(&r, f.ns, a, "old", NULL);
  r.now = 1700000000000;
  ASSERT_OK(wait(&f, &r));
  ain_store_req_cleanup(&r);
  ain_store_req_script_put(&r, f.ns, b, "new", "ELUA: agents/x.lua:3: boom");
  r.now = 1700000001000;
  ASSERT_OK(wait(&f, &r));
  ain_store_req_cleanup(&r);
  ain_store_req_script_list(&r, f.ns);
  ASSERT_OK(wait(&f, &r));
  ASSERT_EQ(r.u.script_list.nversions, 2);
  ASSERT_STR_EQ(r.u.script_list.versions[0].sha, b);
  ASSERT_STR_EQ(r.u.script_list.versions[0].error, "ELUA: agents/x.lua:3: boom");
  ASSERT_NULL(r.u.script_list.versions[0].source); /* lists carry no sources */
  ASSERT_STR_EQ(r.u.script_list.versions[1].sha, a);
  ASSERT_NULL(r.u.script_list.versions[1].error);
  ASSERT_EQ(r.u.script_list.npins, 0);
  ain_store_req_cleanup(&r);
  ain_store_req_script_list(&r, "bad module!");
  ASSERT_EQ(wait(&f, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

static int pin(fx_t *f, const char *mod, const char *sha, int *changed, char pinned[65]) {
  ain_store_req_t r;
  ain_store_req_script_pin(&r, mod, sha);
  int rc = wait(f, &r);
  if (changed) {
    *changed = r.u.script_pin.changed;
  }
  if (pinned) {
    memcpy(pinned, r.u.script_pin.pinned, 65);
  }
  ain_store_req_cleanup(&r);
  return rc;
}

TEST(pin_unpin) {
  fx_t f;
  open_fx(&f);
  char good[65], rejected[65], other_mod[65];
  mk_sha(good, NULL);
  mk_sha(rejected, NULL);
  mk_sha(other_mod, NULL);
  ASSERT_OK(put(&f, f.ns, good, "good", NULL, NULL));
  ASSERT_OK(put(&f, f.ns, rejected, "bad", "ELUA: x.lua:1: nope", NULL));
  ASSERT_OK(put(&f, "someone_else", other_mod, "other", NULL, NULL));
  int changed = -1;
  char pinned[65];
  char prefix[11];
  snprintf(prefix, sizeof prefix, "%.10s", good);
  ASSERT_OK(pin(&f, f.ns, prefix, &changed, pinned));
  ASSERT_EQ(changed, 1);
  ASSERT_STR_EQ(pinned, good);
  ASSERT_OK(pin(&f, f.ns, good, &changed, NULL));
  ASSERT_EQ(changed, 0); /* already */
  ASSERT_EQ(pin(&f, f.ns, rejected, NULL, NULL), AIN_EINVAL);
  ASSERT_EQ(pin(&f, f.ns, other_mod, NULL, NULL), AIN_ENOTFOUND); /* another module's version */
  char unknown[65];
  mk_sha(unknown, NULL);
  ASSERT_EQ(pin(&f, f.ns, unknown, NULL, NULL), AIN_ENOTFOUND);
  ASSERT_EQ(pin(&f, f.ns, "nothex!!", NULL, NULL), AIN_EINVAL);
  ASSERT_EQ(pin(&f, "", good, NULL, NULL), AIN_EINVAL);
  ain_store_req_t r;
  ain_store_req_script_list(&r, f.ns);
  ASSERT_OK(wait(&f, &r));
  ASSERT_EQ(r.u.script_list.npins, 1);
  ASSERT_STR_EQ(r.u.script_list.pins[0].module, f.ns);
  ASSERT_STR_EQ(r.u.script_list.pins[0].sha, good); /* the failed pins changed nothing */
  ain_store_req_cleanup(&r);
  ain_store_req_script_list(&r, NULL);
  r.u.script_list.pins_only = 1; /* the registry's poll: pins without the version history */
  ASSERT_OK(wait(&f, &r));
  ASSERT_EQ(r.u.script_list.nversions, 0);
  ASSERT_GE(r.u.script_list.npins, 1);
  ain_store_req_cleanup(&r);
  ASSERT_OK(pin(&f, f.ns, NULL, &changed, pinned));
  ASSERT_EQ(changed, 1);
  ASSERT_STR_EQ(pinned, "");
  ASSERT_OK(pin(&f, f.ns, NULL, &changed, NULL));
  ASSERT_EQ(changed, 0);
  ain_store_req_script_list(&r, f.ns);
  ASSERT_OK(wait(&f, &r));
  ASSERT_EQ(r.u.script_list.npins, 0);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(put_get_once), TEST_ENTRY(get_bad_input),
          TEST_ENTRY(list_newest_first_with_errors), TEST_ENTRY(pin_unpin))
