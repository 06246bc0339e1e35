/* Contract tests of the tiering ops (store/tier.h): TIER_LIST names the keys whose newest
 * checkpoint is old, except the render and thumbnail of a video that is or may still be published,
 * and except those already marked in the class since that checkpoint; TIER_MARK records them;
 * keyset paging; bad inputs name the field. SQLite by default, Postgres with AIN_TEST_STORE_URL
 * (tests/integration/store_postgres.sh); keys carry this test's namespace, so a shared database
 * does not disturb it. Relies on: store_fixture.h, store/tier.h, the C harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/store.h"
#include "store/tier.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)
#define DAY INT64_C(86400000)

typedef struct {
  char wav[128], png[128], mp4[128], jpg[128], mp4_rej[128], mp4_pass[128], fresh[128];
  char prefix[96];
} keys_t;

static void mk_keys(fx_t *f, keys_t *k) {
  snprintf(k->prefix, sizeof k->prefix, "tier/%s/", f->ns);
  snprintf(k->wav, sizeof k->wav, "%sa.wav", k->prefix);
  snprintf(k->png, sizeof k->png, "%sb.png", k->prefix);
  snprintf(k->mp4, sizeof k->mp4, "%sc.mp4", k->prefix);
  snprintf(k->jpg, sizeof k->jpg, "%sd.jpg", k->prefix);
  snprintf(k->mp4_rej, sizeof k->mp4_rej, "%se.mp4", k->prefix);
  snprintf(k->mp4_pass, sizeof k->mp4_pass, "%sf.mp4", k->prefix);
  snprintf(k->fresh, sizeof k->fresh, "%sg.png", k->prefix);
}

static void artifact(fx_t *f, const char *dag, const char *step, int64_t at, const char *k1,
                     const char *k2) {
  char keys[400];
  if (k2 != NULL) {
    snprintf(keys, sizeof keys, "[\"%s\",\"%s\"]", k1, k2);
  } else {
    snprintf(keys, sizeof keys, "[\"%s\"]", k1);
  }
  char dag_id[160], task[AIN_UUID_LEN + 1];
  snprintf(dag_id, sizeof dag_id, "%s-%s", f->ns, dag);
  ain_uuid7(task);
  ain_artifact_t a = {.dag_id = dag_id, .step = (char *)step, .task_id = task, .keys = keys,
                      .result = "{}"};
  ain_store_req_t r;
  ain_store_req_artifact_put(&r, &a);
  r.now = at;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static void video(fx_t *f, const char *name, const char *decision, const char *mp4,
                  const char *jpg, int publish) {
  char id[160];
  snprintf(id, sizeof id, "%s-%s", f->ns, name);
  ain_video_review_t in = {.video_id = id, .persona_id = "p", .decision = (char *)decision,
                           .confidence = 0.9, .checks = "[]", .report = "{}",
                           .video_key = (char *)mp4, .thumbnail_key = (char *)jpg};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &in);
  r.actor = "test";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  if (publish) {
    char idem[200];
    snprintf(idem, sizeof idem, "%s-idem", id);
    ain_receipt_t rc = {.video_id = id, .channel = "outbox", .idempotency_key = idem,
                        .location = "/tmp/x.mp4"};
    ain_store_req_receipt_put(&r, &rc, 0);
    r.actor = "test";
    ASSERT_OK(ain_store_wait(f->s, &r));
    ASSERT_EQ(r.u.receipt_put.created, 1);
    ain_store_req_cleanup(&r);
  }
}

/* The listed keys of this test (those under k->prefix), joined with spaces, from the first key
 * after `after` (NULL: the prefix). */
static void list(fx_t *f, const keys_t *k, const char *cls, int64_t older, const char *after,
                 int limit, char *out, size_t cap) {
  ain_store_tier_t t;
  ain_store_req_t r;
  ain_store_req_tier_list(&r, &t, cls, older, after != NULL ? after : k->prefix, limit);
  ASSERT_OK(ain_store_wait(f->s, &r));
  out[0] = '\0';
  for (size_t i = 0; i < t.nkeys; i++) {
    if (i > 0) {
      ASSERT_TRUE(strcmp(t.keys[i - 1], t.keys[i]) < 0); /* byte order, no duplicates */
    }
    if (strncmp(t.keys[i], k->prefix, strlen(k->prefix)) == 0) {
      size_t n = strlen(out);
      snprintf(out + n, cap - n, "%s%s", n > 0 ? " " : "", t.keys[i] + strlen(k->prefix));
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_NULL(t.keys);
}

static void mark(fx_t *f, const char *cls, int64_t at, const char *key) {
  ain_store_tier_t t;
  ain_store_req_t r;
  char *keys[1] = {(char *)key};
  ain_store_req_tier_mark(&r, &t, cls, keys, 1);
  r.now = at;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

TEST(old_unpublished_objects_are_listed_and_marked) {
  fx_t f;
  fx_open(&f);
  keys_t k;
  mk_keys(&f, &k);
  /* DAG 1 (published): tts + background at T0, render + thumbnail at T0. */
  artifact(&f, "d1", "tts", T0, k.wav, k.png);
  artifact(&f, "d1", "render", T0, k.mp4, k.jpg);
  video(&f, "v1", "pass", k.mp4, k.jpg, 1);
  /* DAG 2: its render was rejected; DAG 3's render passed and waits to be published. */
  artifact(&f, "d2", "render", T0, k.mp4_rej, NULL);
  video(&f, "v2", "reject", k.mp4_rej, NULL, 0);
  artifact(&f, "d3", "render", T0, k.mp4_pass, NULL);
  video(&f, "v3", "pass", k.mp4_pass, NULL, 0);
  /* DAG 4, ten days later, uses the same speech (content-addressed) and a new picture. */
  artifact(&f, "d4", "tts", T0 + 10 * DAY, k.wav, k.fresh);

  char got[1024];
  list(&f, &k, "STANDARD_IA", T0 + 5 * DAY, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "b.png e.mp4"); /* not a.wav (used again), c/d (published), f (may be) */
  /* Nothing is old before T0. */
  list(&f, &k, "STANDARD_IA", T0, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "");
  /* Later everything unpublished is old, the reused speech included. */
  list(&f, &k, "STANDARD_IA", T0 + 11 * DAY, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "a.wav b.png e.mp4 g.png");

  /* Keyset paging: one key a page, each page after the last key. */
  char after[256];
  list(&f, &k, "STANDARD_IA", T0 + 5 * DAY, NULL, 1, got, sizeof got);
  ASSERT_STR_EQ(got, "b.png");
  snprintf(after, sizeof after, "%sb.png", k.prefix);
  list(&f, &k, "STANDARD_IA", T0 + 5 * DAY, after, 1, got, sizeof got);
  ASSERT_STR_EQ(got, "e.mp4");
  snprintf(after, sizeof after, "%se.mp4", k.prefix);
  list(&f, &k, "STANDARD_IA", T0 + 5 * DAY, after, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "");

  /* Marked: not listed for that class again (by any node), still for another class. */
  mark(&f, "STANDARD_IA", T0 + 6 * DAY, k.png);
  list(&f, &k, "STANDARD_IA", T0 + 5 * DAY, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "e.mp4");
  list(&f, &k, "GLACIER_IR", T0 + 5 * DAY, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "b.png e.mp4");
  mark(&f, "STANDARD_IA", T0 + 6 * DAY, k.png); /* again: an upsert, no error */

  /* A checkpoint newer than the mark names the key again (it may have been put again, in
   * STANDARD, after a purge): once that checkpoint is old too, the key is listed again. */
  artifact(&f, "d5", "background", T0 + 7 * DAY, k.png, NULL);
  list(&f, &k, "STANDARD_IA", T0 + 8 * DAY, NULL, 100, got, sizeof got);
  ASSERT_STR_EQ(got, "b.png e.mp4");
  fx_close(&f);
}

TEST(bad_inputs_name_the_field) {
  fx_t f;
  fx_open(&f);
  ain_store_tier_t t;
  ain_store_req_t r;
  ain_store_req_tier_list(&r, &t, "STANDARD_IA", T0, NULL, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  ain_store_req_cleanup(&r);
  ain_store_req_tier_list(&r, &t, "STANDARD_IA", T0, NULL, AIN_STORE_TIER_LIMIT_MAX + 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  ain_store_req_tier_list(&r, &t, "standard_ia", T0, NULL, 10);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "storage_class");
  ain_store_req_cleanup(&r);
  ain_store_req_tier_list(&r, &t, "STANDARD_IA", 0, NULL, 10);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "older_than");
  ain_store_req_cleanup(&r);
  char *keys[1] = {""};
  ain_store_req_tier_mark(&r, &t, "STANDARD_IA", keys, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "keys");
  ain_store_req_cleanup(&r);
  ain_store_req_tier_mark(&r, NULL, "STANDARD_IA", keys, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "tier");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(old_unpublished_objects_are_listed_and_marked),
          TEST_ENTRY(bad_inputs_name_the_field))
