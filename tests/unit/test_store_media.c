/* Contract tests of the checkpoint and planner store ops (ARTIFACT_PUT/GET, PLAN_COMMIT,
 * PLANNED_LIST, TRENDS_LIST), written against store.h only: SQLite by default (a fresh file per
 * test), Postgres with AIN_TEST_STORE_URL=postgres://... (and AIN_TEST_STORE_RESET, as
 * store_fixture.h). Ids are fresh UUIDv7s and trend keys carry a per-run nonce, so the tests also
 * pass on a shared database. Relies on: store_fixture.h, store/store.h, libuv, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)

/* A key unique to this process, so runs on a shared Postgres never collide. */
static const char *nonce(void) {
  static char buf[AIN_UUID_LEN + 1];
  if (buf[0] == '\0') {
    ain_uuid7(buf);
  }
  return buf;
}

static int put(fx_t *f, const char *dag, const char *step, const char *task, const char *keys,
               const char *result, ain_err_t *err) {
  ain_artifact_t a = {.dag_id = (char *)dag,
                      .step = (char *)step,
                      .task_id = (char *)task,
                      .keys = (char *)keys,
                      .result = (char *)result};
  ain_store_req_t r;
  ain_store_req_artifact_put(&r, &a);
  r.now = T0;
  int rc = ain_store_wait(f->s, &r);
  if (err != NULL) {
    *err = r.err;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

TEST(artifact_put_get_replace) {
  fx_t f;
  fx_open(&f);
  char dag[AIN_UUID_LEN + 1], t1[AIN_UUID_LEN + 1], t2[AIN_UUID_LEN + 1];
  ain_uuid7(dag);
  ain_uuid7(t1);
  ain_uuid7(t2);

  ain_store_req_t r;
  ain_store_req_artifact_get(&r, dag, "render");
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);

  ASSERT_OK(put(&f, dag, "render", t1, "[\"sha256/aa/x.mp4\"]", "{\"video_id\":\"v1\"}", NULL));
  ain_store_req_artifact_get(&r, dag, "render");
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.artifact_get.artifact.dag_id, dag);
  ASSERT_STR_EQ(r.u.artifact_get.artifact.step, "render");
  ASSERT_STR_EQ(r.u.artifact_get.artifact.task_id, t1);
  ASSERT_STR_EQ(r.u.artifact_get.artifact.keys, "[\"sha256/aa/x.mp4\"]");
  ASSERT_STR_EQ(r.u.artifact_get.artifact.result, "{\"video_id\":\"v1\"}");
  ASSERT_EQ(r.u.artifact_get.artifact.created_at, T0);
  ain_store_req_cleanup(&r);
  ASSERT_NULL(r.u.artifact_get.artifact.keys);

  /* Another step of the same DAG is its own checkpoint. */
  ain_store_req_artifact_get(&r, dag, "tts");
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);

  /* A redone step replaces its checkpoint (non-ASCII survives byte for byte). */
  ASSERT_OK(put(&f, dag, "render", t2, "[\"sha256/bb/y.mp4\",\"sha256/cc/y.jpg\"]",
                "{\"title\":\"Caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac\"}", NULL));
  ain_store_req_artifact_get(&r, dag, "render");
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.artifact_get.artifact.task_id, t2);
  ASSERT_STR_EQ(r.u.artifact_get.artifact.keys, "[\"sha256/bb/y.mp4\",\"sha256/cc/y.jpg\"]");
  ASSERT_STR_EQ(r.u.artifact_get.artifact.result,
                "{\"title\":\"Caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac\"}");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(artifact_bad_inputs) {
  fx_t f;
  fx_open(&f);
  char dag[AIN_UUID_LEN + 1];
  ain_uuid7(dag);
  ain_err_t err;
  ASSERT_EQ(put(&f, dag, "tts", "t", "{\"a\":1}", "{}", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "keys");
  ASSERT_EQ(put(&f, dag, "tts", "t", "[1]", "{}", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "keys");
  ASSERT_EQ(put(&f, dag, "tts", "t", "[\"k\"]", "[]", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "result");
  ASSERT_EQ(put(&f, dag, "tts", "t", "[\"k\"]", "{not json", &err), AIN_EINVAL);
  ASSERT_EQ(put(&f, "", "tts", "t", "[\"k\"]", "{}", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "dag_id");
  ASSERT_EQ(put(&f, dag, NULL, "t", "[\"k\"]", "{}", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "step");
  ain_store_req_t r;
  ain_store_req_artifact_get(&r, dag, "");
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  /* Nothing was written by the refused puts. */
  ain_store_req_artifact_get(&r, dag, "tts");
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

typedef struct {
  ain_task_t task;
  char key[200];
  ain_plan_item_t item;
} plan_fx_t;

static void mk_item(plan_fx_t *p, const char *persona, const char *key) {
  memset(p, 0, sizeof *p);
  snprintf(p->key, sizeof p->key, "%s %s", key, nonce());
  ain_uuid7(p->task.id);
  p->task.type = "generate_video";
  p->task.handler = "expand";
  p->task.persona_id = (char *)persona;
  p->task.payload = "{\"title\":\"x\"}";
  p->task.priority = 42;
  p->item.persona_id = persona;
  p->item.trend_key = p->key;
  p->item.trend_json = "{\"title\":\"x\"}";
  p->item.task = &p->task;
}

static int64_t commit_now = T0; /* the clock of the next commit */

static int commit(fx_t *f, plan_fx_t *p, size_t n, int *planned, ain_err_t *err) {
  ain_plan_item_t items[8];
  for (size_t i = 0; i < n; i++) {
    items[i] = p[i].item;
  }
  ain_store_req_t r;
  ain_store_req_plan_commit(&r, items, n);
  r.now = commit_now;
  r.actor = "planner";
  int rc = ain_store_wait(f->s, &r);
  for (size_t i = 0; i < n; i++) {
    p[i].item.planned = items[i].planned;
  }
  if (planned != NULL) {
    *planned = r.u.plan_commit.planned;
  }
  if (err != NULL) {
    *err = r.err;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

static int task_exists(fx_t *f, const char *id, ain_task_status_t *st) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  int rc = ain_store_wait(f->s, &r);
  if (rc == 0 && st != NULL) {
    *st = r.u.get_task.task.status;
  }
  if (rc == 0) {
    ASSERT_EQ(r.u.get_task.task.priority, 42);
    ASSERT_STR_EQ(r.u.get_task.task.type, "generate_video");
  }
  ain_store_req_cleanup(&r);
  return rc == 0;
}

static int pair_listed(fx_t *f, const char *persona, const char *key) {
  ain_store_req_t r;
  ain_store_req_planned_list(&r);
  ASSERT_OK(ain_store_wait(f->s, &r));
  char want[400];
  snprintf(want, sizeof want, "%s|%s", persona, key);
  int found = 0;
  for (size_t i = 0; i < r.u.planned_list.npairs; i++) {
    found += strcmp(r.u.planned_list.pairs[i], want) == 0;
  }
  ain_store_req_cleanup(&r);
  return found;
}

TEST(plan_commit_never_twice) {
  fx_t f;
  fx_open(&f);
  plan_fx_t p[3];
  mk_item(&p[0], "techie_tina", "apple m5 chip leak");
  mk_item(&p[1], "chef_marco", "apple m5 chip leak"); /* same trend, other persona: allowed */
  mk_item(&p[2], "chef_marco", "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac ramen");
  int planned = -1;
  ASSERT_OK(commit(&f, p, 3, &planned, NULL));
  ASSERT_EQ(planned, 3);
  for (int i = 0; i < 3; i++) {
    ain_task_status_t st;
    ASSERT_EQ(p[i].item.planned, 1);
    ASSERT_TRUE(task_exists(&f, p[i].task.id, &st));
    ASSERT_EQ(st, AIN_TASK_READY);
    ASSERT_EQ(pair_listed(&f, p[i].item.persona_id, p[i].key), 1);
  }

  /* The same pairs again (new task ids, as a restarted planner would make): nothing is written,
   * a new pair in the same request is. */
  plan_fx_t q[3];
  mk_item(&q[0], "techie_tina", "apple m5 chip leak");
  mk_item(&q[1], "chef_marco", "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac ramen");
  mk_item(&q[2], "coach_ava", "apple m5 chip leak");
  ASSERT_OK(commit(&f, q, 3, &planned, NULL));
  ASSERT_EQ(planned, 1);
  ASSERT_EQ(q[0].item.planned, 0);
  ASSERT_EQ(q[1].item.planned, 0);
  ASSERT_EQ(q[2].item.planned, 1);
  ASSERT_TRUE(!task_exists(&f, q[0].task.id, NULL));
  ASSERT_TRUE(!task_exists(&f, q[1].task.id, NULL));
  ASSERT_TRUE(task_exists(&f, q[2].task.id, NULL));
  ASSERT_EQ(pair_listed(&f, "techie_tina", q[0].key), 1);

  /* Across a reopen (a restart): still planned once. */
  char url[1024];
  snprintf(url, sizeof url, "%s", f.url);
  fx_close(&f);
  fx_open_url(&f, url);
  ASSERT_OK(fx_migrate(&f, NULL));
  mk_item(&q[0], "techie_tina", "apple m5 chip leak");
  ASSERT_OK(commit(&f, q, 1, &planned, NULL));
  ASSERT_EQ(planned, 0);
  ASSERT_TRUE(!task_exists(&f, q[0].task.id, NULL));
  fx_close(&f);
}

TEST(plan_commit_bad_inputs_write_nothing) {
  fx_t f;
  fx_open(&f);
  plan_fx_t p[2];
  ain_err_t err;
  /* The same pair twice in one request. */
  mk_item(&p[0], "techie_tina", "dup");
  mk_item(&p[1], "techie_tina", "dup");
  ASSERT_EQ(commit(&f, p, 2, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "items[].trend_key");
  ASSERT_EQ(pair_listed(&f, "techie_tina", p[0].key), 0);
  /* A task for another persona than its pair. */
  mk_item(&p[0], "techie_tina", "mismatch");
  p[0].task.persona_id = "chef_marco";
  ASSERT_EQ(commit(&f, p, 1, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "items[].task.persona_id");
  /* Missing key, missing task, trend that is not an object, '|' in a persona id. */
  mk_item(&p[0], "techie_tina", "k");
  p[0].item.trend_key = "";
  ASSERT_EQ(commit(&f, p, 1, NULL, &err), AIN_EINVAL);
  mk_item(&p[0], "techie_tina", "k");
  p[0].item.task = NULL;
  ASSERT_EQ(commit(&f, p, 1, NULL, &err), AIN_EINVAL);
  mk_item(&p[0], "techie_tina", "k");
  p[0].item.trend_json = "[1,2]";
  ASSERT_EQ(commit(&f, p, 1, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "items[].trend_json");
  mk_item(&p[0], "a|b", "k");
  ASSERT_EQ(commit(&f, p, 1, NULL, &err), AIN_EINVAL);
  ain_store_req_t r;
  ain_store_req_plan_commit(&r, NULL, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);

  /* A task id that already exists: the whole commit rolls back, the pair is not recorded. */
  mk_item(&p[0], "techie_tina", "first");
  ASSERT_OK(commit(&f, p, 1, NULL, NULL));
  plan_fx_t again;
  mk_item(&again, "techie_tina", "second");
  memcpy(again.task.id, p[0].task.id, sizeof again.task.id);
  ASSERT_EQ(commit(&f, &again, 1, NULL, &err), AIN_EEXIST);
  ASSERT_EQ(again.item.planned, 0);
  ASSERT_EQ(pair_listed(&f, "techie_tina", again.key), 0);
  fx_close(&f);
}

/* Position of our trend `key` (with the run's nonce) in a TRENDS_LIST, -1 when absent. */
static int trend_at(const ain_store_req_t *r, const char *key) {
  char want[300];
  snprintf(want, sizeof want, "%s %s", key, nonce());
  for (size_t i = 0; i < r->u.trends_list.ntrends; i++) {
    if (strcmp(r->u.trends_list.trends[i].trend_key, want) == 0) {
      return (int)i;
    }
  }
  return -1;
}

/* The trends PLAN_COMMIT saw, newest first: first_seen_at stays, last_seen_at moves, a record
 * is kept when a later sighting brings none; limits are checked. */
TEST(trends_list_newest_first) {
  fx_t f;
  fx_open(&f);
  plan_fx_t a[1], b[2], c[1];
  mk_item(&a[0], "techie_tina", "older trend");
  a[0].item.trend_json = "{\"title\":\"Old \\\"one\\\" \xc3\xa9\",\"n\":1}";
  commit_now = T0 + 1000;
  ASSERT_OK(commit(&f, a, 1, NULL, NULL));
  mk_item(&b[0], "chef_marco", "newer trend");
  b[0].item.trend_json = NULL; /* no record kept */
  mk_item(&b[1], "coach_ava", "older trend");
  b[1].item.trend_json = NULL; /* seen again: the old record stays */
  commit_now = T0 + 2000;
  ASSERT_OK(commit(&f, b, 2, NULL, NULL));
  mk_item(&c[0], "chef_marco", "latest trend");
  commit_now = T0 + 3000;
  ASSERT_OK(commit(&f, c, 1, NULL, NULL));
  commit_now = T0;

  ain_store_req_t r;
  ain_store_req_trends_list(&r, 1000);
  ASSERT_OK(ain_store_wait(f.s, &r));
  if (fx_exclusive_db()) {
    ASSERT_EQ(r.u.trends_list.ntrends, 3);
  }
  int latest = trend_at(&r, "latest trend"), newer = trend_at(&r, "newer trend"),
      older = trend_at(&r, "older trend");
  ASSERT_TRUE(latest >= 0 && newer >= 0 && older >= 0);
  ASSERT_TRUE(latest < newer && newer < older); /* by last seen, then by key */
  const ain_trend_t *o = &r.u.trends_list.trends[older];
  ASSERT_EQ(o->first_seen_at, T0 + 1000);
  ASSERT_EQ(o->last_seen_at, T0 + 2000);
  ASSERT_STR_EQ(o->record, "{\"title\":\"Old \\\"one\\\" \xc3\xa9\",\"n\":1}");
  ASSERT_NULL(r.u.trends_list.trends[newer].record);
  ASSERT_STR_EQ(r.u.trends_list.trends[latest].record, "{\"title\":\"x\"}");
  ain_store_req_cleanup(&r);

  ain_store_req_trends_list(&r, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.trends_list.ntrends, 1);
  ain_store_req_cleanup(&r);
  int bad[] = {0, -5, AIN_STORE_TRENDS_MAX + 1};
  for (int i = 0; i < 3; i++) {
    ain_store_req_trends_list(&r, bad[i]);
    ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
    ASSERT_STR_EQ(r.err.field, "limit");
    ain_store_req_cleanup(&r);
  }
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(artifact_put_get_replace), TEST_ENTRY(artifact_bad_inputs),
          TEST_ENTRY(plan_commit_never_twice), TEST_ENTRY(plan_commit_bad_inputs_write_nothing),
          TEST_ENTRY(trends_list_newest_first))
