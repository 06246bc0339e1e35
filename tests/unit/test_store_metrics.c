/* Contract tests of the METRICS and PUBLISH_GUARD store ops (store/metrics.h), written against
 * store.h only: SQLite by default, Postgres through tests/integration/store_postgres.sh. METRICS:
 * depth by type and status (finished rows left out), the review backlog and its oldest, the
 * publishers switch, bad requests. PUBLISH_GUARD: every transition of the guard (pause at the
 * threshold, resume below the resume level, an operator's pause never lifted, an operator's
 * resume holding off a new pause until the backlog was low), audited with the backlog, and a
 * refused request (resume_at >= pause_at).
 * Relies on: store_fixture.h, store/store.h, store/metrics.h, libuv, the C harness. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/metrics.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)

static void enqueue(fx_t *f, const char *type, int n, int64_t run_at) {
  ain_task_t *t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n; i++) {
    ain_uuid7(t[i].id);
    t[i].type = (char *)type;
    t[i].handler = "noop";
    t[i].payload = "{}";
    t[i].max_attempts = 3;
    t[i].run_at = run_at;
  }
  ain_store_batch_t b = {.tasks = t, .ntasks = (size_t)n};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  free(t);
}

/* Claims up to n due tasks and finishes them succeeded. */
static void run_n(fx_t *f, int n) {
  ain_store_req_t r;
  ain_store_req_claim(&r, "t/1/shard-0", n, 30000);
  r.now = T0 + 10;
  ASSERT_OK(ain_store_wait(f->s, &r));
  size_t k = r.u.claim.ntasks;
  ain_finish_item_t *it = calloc(k, sizeof *it);
  for (size_t i = 0; i < k; i++) {
    it[i].task_id = r.u.claim.tasks[i].id;
    it[i].state_version = r.u.claim.tasks[i].state_version;
    it[i].kind = AIN_FINISH_SUCCEEDED;
  }
  ain_store_req_t fr;
  ain_store_req_finish(&fr, it, k);
  fr.now = T0 + 20;
  ASSERT_OK(ain_store_wait(f->s, &fr));
  ain_store_req_cleanup(&fr);
  ain_store_req_cleanup(&r);
  free(it);
}

static void add_review(fx_t *f, int64_t at) {
  char vid[AIN_UUID_LEN + 4];
  char u[AIN_UUID_LEN + 1];
  ain_uuid7(u);
  snprintf(vid, sizeof vid, "v-%s", u);
  char gate[AIN_UUID_LEN + 1];
  ain_uuid7(gate); /* a gate task that never runs: the review only names it */
  ain_video_review_t in = {.video_id = vid, .task_id = gate, .persona_id = "p",
                           .decision = "review", .confidence = 0.6, .checks = "[]",
                           .report = "{}"};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &in);
  r.now = at;
  r.actor = "test/gate";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

/* Approves every pending review. */
static void decide_all(fx_t *f) {
  ain_store_req_t r;
  ain_store_req_review_list(&r, "pending", NULL, 0);
  ASSERT_OK(ain_store_wait(f->s, &r));
  for (size_t i = 0; i < r.u.review_list.nrows; i++) {
    ain_store_req_t d;
    ain_store_req_review_decide(&d, r.u.review_list.rows[i].video_id,
                                r.u.review_list.rows[i].review_version, 1, "alice", "ok");
    d.actor = "operator:alice";
    ASSERT_OK(ain_store_wait(f->s, &d));
    ain_store_req_cleanup(&d);
  }
  ain_store_req_cleanup(&r);
}

static void set(fx_t *f, const char *key, const char *value) {
  ain_store_req_t r;
  ain_store_req_setting(&r, key, value);
  r.actor = "operator:bob";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static ain_store_guard_t guard(fx_t *f, int64_t pause_at, int64_t resume_at) {
  ain_store_guard_t g;
  ain_store_req_t r;
  ain_store_req_publish_guard(&r, &g, pause_at, resume_at);
  r.actor = "system:review-backlog";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  return g;
}

static void metrics(fx_t *f, ain_store_req_t *r, ain_store_metrics_t *m) {
  ain_store_req_metrics(r, m);
  ASSERT_OK(ain_store_wait(f->s, r));
}

static int64_t depth(const ain_store_metrics_t *m, const char *type, ain_task_status_t st) {
  for (size_t i = 0; i < m->ndepth; i++) {
    if (strcmp(m->depth[i].type, type) == 0 && m->depth[i].status == st) {
      return m->depth[i].count;
    }
  }
  return 0;
}

TEST(metrics_depth_backlog_switch) {
  fx_t f;
  fx_open(&f);
  enqueue(&f, "alpha", 5, T0);
  enqueue(&f, "beta", 3, T0 + 86400000); /* due tomorrow: stays ready */
  run_n(&f, 2);                          /* two alphas succeed (left out of the depth) */
  add_review(&f, T0 + 100);
  add_review(&f, T0 + 50);
  set(&f, "publishers.paused", "true");
  ain_store_req_t r;
  ain_store_metrics_t m;
  metrics(&f, &r, &m);
  if (fx_exclusive_db()) {
    ASSERT_EQ(depth(&m, "alpha", AIN_TASK_READY), 3);
    ASSERT_EQ(depth(&m, "beta", AIN_TASK_READY), 3);
    ASSERT_EQ(depth(&m, "alpha", AIN_TASK_SUCCEEDED), 0);
    ASSERT_EQ(m.review_backlog, 2);
    ASSERT_EQ(m.review_oldest_at, T0 + 50);
  }
  ASSERT_EQ(m.paused, 1);
  ASSERT_STR_EQ(m.paused_by, "");
  ASSERT_EQ(m.postgres, !fx_is_sqlite(f.url));
  ain_store_req_cleanup(&r);
  ASSERT_NULL(m.depth);

  ain_store_req_metrics(&r, &m);
  r.u.metrics = NULL;
  ASSERT_EQ(ain_store_submit(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "metrics");
  fx_close(&f);
}

TEST(guard_transitions) {
  fx_t f;
  fx_open(&f);
  if (!fx_exclusive_db()) {
    fx_close(&f); /* the backlog counts every review of the database */
    return;
  }
  ain_store_guard_t g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_NONE);
  ASSERT_EQ(g.paused, 0);
  for (int i = 0; i < 3; i++) {
    add_review(&f, T0 + i);
  }
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.backlog, 3);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_PAUSED);
  ASSERT_EQ(g.paused, 1);
  g = guard(&f, 3, 1); /* idempotent */
  ASSERT_EQ(g.action, AIN_STORE_GUARD_NONE);
  ASSERT_EQ(g.paused, 1);
  ain_store_req_t r;
  ain_store_metrics_t m;
  metrics(&f, &r, &m);
  ASSERT_STR_EQ(m.paused_by, "backlog");
  ain_store_req_cleanup(&r);
  /* audited as the guard, with the backlog */
  ain_store_req_audit_operator(&r, 10);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int found = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    const ain_audit_t *a = &r.u.audit.rows[i];
    if (strcmp(a->to_status, "setting:publishers.paused=true") == 0) {
      found++;
      ASSERT_STR_EQ(a->actor, "system:review-backlog");
      cJSON *d = cJSON_Parse(a->detail);
      ASSERT_NOT_NULL(d);
      ASSERT_EQ(cJSON_GetObjectItem(d, "review_backlog")->valueint, 3);
      ASSERT_EQ(cJSON_GetObjectItem(d, "pause_at")->valueint, 3);
      cJSON_Delete(d);
    }
  }
  ASSERT_EQ(found, 1);
  ain_store_req_cleanup(&r);

  decide_all(&f);
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_RESUMED);
  ASSERT_EQ(g.paused, 0);

  /* an operator's pause is never lifted */
  set(&f, "publishers.paused_by", "operator");
  set(&f, "publishers.paused", "true");
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_NONE);
  ASSERT_EQ(g.paused, 1);

  /* an operator's resume during a high backlog holds until the backlog was low */
  for (int i = 0; i < 4; i++) {
    add_review(&f, T0 + 10 + i);
  }
  set(&f, "publishers.paused_by", "operator");
  set(&f, "publishers.paused", "false");
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_NONE);
  ASSERT_EQ(g.paused, 0);
  decide_all(&f);
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_REARMED);
  for (int i = 0; i < 3; i++) {
    add_review(&f, T0 + 20 + i);
  }
  g = guard(&f, 3, 1);
  ASSERT_EQ(g.action, AIN_STORE_GUARD_PAUSED);

  /* refused: resume_at must be below pause_at, both positive */
  ain_store_req_publish_guard(&r, &g, 3, 3);
  ASSERT_EQ(ain_store_submit(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "resume_at");
  ain_store_req_publish_guard(&r, &g, 0, 0);
  ASSERT_EQ(ain_store_submit(f.s, &r), AIN_EINVAL);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(metrics_depth_backlog_switch), TEST_ENTRY(guard_transitions))
