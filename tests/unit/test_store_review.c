/* Contract tests of the review/publish store ops (VIDEO_JUDGED, REVIEW_LIST, REVIEW_DECIDE,
 * RECEIPT_PUT, SETTING) and of parking (finish kind PARK, task status waiting), written against
 * store.h only: SQLite by default (a fresh file per test), Postgres with
 * AIN_TEST_STORE_URL=postgres://... (and AIN_TEST_STORE_RESET, as tests/unit/store_fixture.h).
 * Relies on: store_fixture.h, store/store.h, libuv, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)

/* One running task of handler `handler` (enqueued and claimed); *version gets its token. */
static void running_task(fx_t *f, const char *handler, char id[AIN_UUID_LEN + 1],
                         int64_t *version) {
  ain_task_t t;
  memset(&t, 0, sizeof t);
  ain_uuid7(t.id);
  t.type = "step";
  t.handler = (char *)handler;
  t.payload = "{}";
  t.max_attempts = 3;
  t.run_at = T0;
  ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  ain_store_req_claim(&r, "test/1/shard-0", 1, 30000);
  r.now = T0 + 1;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ASSERT_EQ(r.u.claim.ntasks, 1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, t.id);
  *version = r.u.claim.tasks[0].state_version;
  snprintf(id, AIN_UUID_LEN + 1, "%s", t.id);
  ain_store_req_cleanup(&r);
}

static ain_finish_item_t park(fx_t *f, const char *id, int64_t version) {
  ain_finish_item_t it = {.task_id = id, .state_version = version, .kind = AIN_FINISH_PARK,
                          .detail = "{\"parked\":\"test\"}"};
  ain_store_req_t r;
  ain_store_req_finish(&r, &it, 1);
  r.now = T0 + 2;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_EQ(it.status, 0);
  return it;
}

static ain_task_status_t status_of(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_task_status_t st = r.u.get_task.task.status;
  ain_store_req_cleanup(&r);
  return st;
}

/* Records a judged video; decision "review" names task_id as its gate. */
static int judged(fx_t *f, const char *video_id, const char *decision, const char *task_id,
                  ain_video_review_t *out) {
  ain_video_review_t in = {.video_id = (char *)video_id,
                           .dag_id = NULL,
                           .task_id = (char *)task_id,
                           .persona_id = "techie_tina",
                           .decision = (char *)decision,
                           .confidence = 0.65,
                           .checks = "[{\"name\":\"pii\",\"passed\":true,\"score\":1}]",
                           .report = "{\"thresholds\":{\"pass\":0.8,\"reject\":0.5}}",
                           .video_key = "ab/abcdef.mp4",
                           .thumbnail_key = "cd/cdef.jpg"};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &in);
  r.actor = "test/gate";
  int rc = ain_store_wait(f->s, &r);
  if (rc == 0 && out != NULL) {
    *out = r.u.video_judged.row;
    memset(&r.u.video_judged.row, 0, sizeof r.u.video_judged.row);
  }
  ain_store_req_cleanup(&r);
  return rc;
}

static int decide(fx_t *f, const char *video_id, int64_t expect, int approve, const char *who,
                  ain_err_t *err, int *woke) {
  ain_store_req_t r;
  ain_store_req_review_decide(&r, video_id, expect, approve, who, "looks fine");
  r.actor = "operator:test";
  int rc = ain_store_wait(f->s, &r);
  if (err != NULL) {
    *err = r.err;
  }
  if (woke != NULL) {
    *woke = r.u.review_decide.woke;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

static void unique_id(char *buf, size_t n, const char *prefix) {
  char u[AIN_UUID_LEN + 1];
  ain_uuid7(u);
  snprintf(buf, n, "%s-%s", prefix, u);
}

/* ---- tests -------------------------------------------------------------------------------- */

TEST(review_parks_gate_and_approval_wakes_it) {
  fx_t f;
  fx_open(&f);
  char task[AIN_UUID_LEN + 1], vid[80];
  int64_t ver;
  unique_id(vid, sizeof vid, "v");
  running_task(&f, "review_gate", task, &ver);
  ain_video_review_t row;
  ASSERT_OK(judged(&f, vid, "review", task, &row));
  ASSERT_STR_EQ(row.status, "in_review");
  ASSERT_STR_EQ(row.review_status, "pending");
  ASSERT_EQ(row.review_version, 0);
  ASSERT_STR_CONTAINS(row.checks, "\"pii\"");
  ain_video_review_free(&row);

  ain_finish_item_t it = park(&f, task, ver);
  ASSERT_EQ(it.new_status, AIN_TASK_WAITING);
  ASSERT_EQ(status_of(&f, task), AIN_TASK_WAITING);
  /* A parked task is not claimable. */
  ain_store_req_t r;
  ain_store_req_claim(&r, "test/1/shard-0", 10, 30000);
  r.now = T0 + 3;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.claim.ntasks, 0);
  ain_store_req_cleanup(&r);
  ain_store_req_stats(&r);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_GE(r.u.stats.stats.tasks[AIN_TASK_WAITING], 1);
  ain_store_req_cleanup(&r);
  /* The queue lists it. */
  ain_store_req_review_list(&r, "pending", NULL, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int seen = 0;
  for (size_t i = 0; i < r.u.review_list.nrows; i++) {
    seen += strcmp(r.u.review_list.rows[i].video_id, vid) == 0;
  }
  ASSERT_EQ(seen, 1);
  ain_store_req_cleanup(&r);

  int woke = 0;
  ASSERT_OK(decide(&f, vid, 0, 1, "alice", NULL, &woke));
  ASSERT_EQ(woke, 1);
  ASSERT_EQ(status_of(&f, task), AIN_TASK_READY);
  ain_store_req_review_list(&r, NULL, vid, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.review_list.nrows, 1);
  ASSERT_STR_EQ(r.u.review_list.rows[0].review_status, "approved");
  ASSERT_STR_EQ(r.u.review_list.rows[0].reviewer, "alice");
  ASSERT_STR_EQ(r.u.review_list.rows[0].status, "approved");
  ASSERT_EQ(r.u.review_list.rows[0].review_version, 1);
  ain_store_req_cleanup(&r);
  /* The transitions are audited: the task's park and wake. */
  ain_store_req_audit(&r, task, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int parked = 0, woken = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    const ain_audit_t *a = &r.u.audit.rows[i];
    parked += strcmp(a->to_status, "waiting") == 0 && strcmp(a->from_status, "running") == 0;
    woken += strcmp(a->to_status, "ready") == 0 && a->from_status != NULL &&
             strcmp(a->from_status, "waiting") == 0;
  }
  ASSERT_EQ(parked, 1);
  ASSERT_EQ(woken, 1);
  ain_store_req_cleanup(&r);
  /* Claimed again, the attempt that parked was given back. */
  ain_store_req_claim(&r, "test/1/shard-0", 10, 30000);
  r.now = T0 + 10;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.claim.ntasks, 1);
  ASSERT_EQ(r.u.claim.tasks[0].attempts, 1);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(two_reviewers_race_one_wins_one_conflict) {
  fx_t f;
  fx_open(&f);
  char task[AIN_UUID_LEN + 1], vid[80];
  int64_t ver;
  unique_id(vid, sizeof vid, "v");
  running_task(&f, "review_gate", task, &ver);
  ASSERT_OK(judged(&f, vid, "review", task, NULL));
  park(&f, task, ver);
  ain_err_t err;
  ASSERT_OK(decide(&f, vid, 0, 1, "alice", NULL, NULL));
  ASSERT_EQ(decide(&f, vid, 0, 0, "bob", &err, NULL), AIN_ECONFLICT);
  ASSERT_STR_CONTAINS(err.msg, "expected version 0, found version 1");
  ASSERT_STR_CONTAINS(err.msg, "approved by alice");
  /* Even with the right version, a decided review is not decided again. */
  ASSERT_EQ(decide(&f, vid, 1, 0, "bob", &err, NULL), AIN_ECONFLICT);
  /* The loser changed nothing. */
  ain_store_req_t r;
  ain_store_req_review_list(&r, NULL, vid, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.review_list.rows[0].review_status, "approved");
  ASSERT_STR_EQ(r.u.review_list.rows[0].reviewer, "alice");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(decision_before_park_lands_leaves_task_ready) {
  fx_t f;
  fx_open(&f);
  char task[AIN_UUID_LEN + 1], vid[80];
  int64_t ver;
  unique_id(vid, sizeof vid, "v");
  running_task(&f, "review_gate", task, &ver);
  ASSERT_OK(judged(&f, vid, "review", task, NULL));
  int woke = -1;
  ASSERT_OK(decide(&f, vid, 0, 0, "carol", NULL, &woke));
  ASSERT_EQ(woke, 0); /* still running: nothing to wake yet */
  ain_finish_item_t it = park(&f, task, ver);
  ASSERT_EQ(it.new_status, AIN_TASK_READY); /* the wake-up was not lost */
  ain_store_req_t r;
  ain_store_req_review_list(&r, NULL, vid, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.review_list.rows[0].status, "rejected");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(judged_once_per_video_and_bad_inputs) {
  fx_t f;
  fx_open(&f);
  char vid[80];
  unique_id(vid, sizeof vid, "v");
  ain_video_review_t row;
  ASSERT_OK(judged(&f, vid, "pass", NULL, &row));
  ASSERT_STR_EQ(row.status, "passed");
  ASSERT_NULL(row.review_status);
  int64_t v0 = row.state_version;
  ain_video_review_free(&row);
  /* A second judgement (the gate re-run) changes nothing. */
  ASSERT_OK(judged(&f, vid, "reject", NULL, &row));
  ASSERT_STR_EQ(row.status, "passed");
  ASSERT_STR_EQ(row.decision, "pass");
  ASSERT_EQ(row.state_version, v0);
  ain_video_review_free(&row);
  /* Bad inputs are refused naming the field. */
  ain_video_review_t in = {.video_id = "../etc", .decision = "pass", .checks = "[]"};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &in);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "video_id");
  ain_store_req_cleanup(&r);
  in.video_id = vid;
  in.decision = "maybe";
  ain_store_req_video_judged(&r, &in);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "decision");
  ain_store_req_cleanup(&r);
  in.decision = "pass";
  in.confidence = 1.5;
  ain_store_req_video_judged(&r, &in);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  in.confidence = 0.5;
  in.checks = "{}";
  ain_store_req_video_judged(&r, &in);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  in.checks = "[]";
  in.decision = "review"; /* without a gate task */
  ain_store_req_video_judged(&r, &in);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  ain_store_req_review_list(&r, "bogus", NULL, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  ain_store_req_review_list(&r, NULL, "no-such-video", 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  /* A video never sent to review cannot be decided; an unknown one neither. */
  ASSERT_EQ(decide(&f, vid, 0, 1, "alice", NULL, NULL), AIN_ENOTFOUND);
  ASSERT_EQ(decide(&f, "no-such-video", 0, 1, "alice", NULL, NULL), AIN_ENOTFOUND);
  ASSERT_EQ(decide(&f, vid, -1, 1, "alice", NULL, NULL), AIN_EINVAL);
  ASSERT_EQ(decide(&f, vid, 0, 1, "", NULL, NULL), AIN_EINVAL);
  fx_close(&f);
}

TEST(receipts_unique_per_key_and_channel) {
  fx_t f;
  fx_open(&f);
  char vid[80], key[100], key2[100];
  unique_id(vid, sizeof vid, "v");
  unique_id(key, sizeof key, "k");
  unique_id(key2, sizeof key2, "k");
  ASSERT_OK(judged(&f, vid, "pass", NULL, NULL));
  ain_receipt_t in = {.video_id = vid, .channel = "outbox", .idempotency_key = key,
                      .location = "/tmp/outbox/x", .task_id = "t1"};
  ain_store_req_t r;
  ain_store_req_receipt_put(&r, &in, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  ain_store_req_receipt_put(&r, &in, 0);
  r.actor = "test/publish";
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.receipt_put.created, 1);
  int64_t id = r.u.receipt_put.receipt.id;
  ASSERT_STR_EQ(r.u.receipt_put.receipt.location, "/tmp/outbox/x");
  ain_store_req_cleanup(&r);
  /* The retry finds it and adds nothing. */
  in.location = "/elsewhere";
  ain_store_req_receipt_put(&r, &in, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.receipt_put.created, 0);
  ASSERT_EQ(r.u.receipt_put.receipt.id, id);
  ASSERT_STR_EQ(r.u.receipt_put.receipt.location, "/tmp/outbox/x");
  ain_store_req_cleanup(&r);
  ain_store_req_receipt_put(&r, &in, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.receipt_put.receipt.id, id);
  ain_store_req_cleanup(&r);
  /* Another key for the same (video, channel) is a conflict, not a second receipt. */
  in.idempotency_key = key2;
  ain_store_req_receipt_put(&r, &in, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ECONFLICT);
  ain_store_req_cleanup(&r);
  /* The video is published, once, audited. */
  ain_store_req_review_list(&r, NULL, vid, 0);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.review_list.rows[0].status, "published");
  ASSERT_EQ(r.u.review_list.rows[0].state_version, 1);
  ain_store_req_cleanup(&r);
  /* A receipt for an unknown video, or without a key, is refused. */
  in.video_id = "no-such-video";
  ain_store_req_receipt_put(&r, &in, 0);
  ASSERT_NE(ain_store_wait(f.s, &r), 0);
  ain_store_req_cleanup(&r);
  in.idempotency_key = NULL;
  ain_store_req_receipt_put(&r, &in, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

static int set(fx_t *f, const char *key, const char *value, char **out, int *changed) {
  ain_store_req_t r;
  ain_store_req_setting(&r, key, value);
  r.actor = "operator:test";
  int rc = ain_store_wait(f->s, &r);
  if (out != NULL) {
    *out = r.u.setting.out_value;
    r.u.setting.out_value = NULL;
  }
  if (changed != NULL) {
    *changed = r.u.setting.changed;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

TEST(pause_parks_publish_and_resume_wakes_it) {
  fx_t f;
  fx_open(&f);
  char *v = NULL;
  int changed = 0;
  ASSERT_OK(set(&f, "publishers.paused", "true", &v, &changed));
  ASSERT_STR_EQ(v, "true");
  ASSERT_EQ(changed, 1);
  free(v);
  ASSERT_OK(set(&f, "publishers.paused", "true", NULL, &changed));
  ASSERT_EQ(changed, 0);
  ASSERT_OK(set(&f, "publishers.paused", NULL, &v, NULL));
  ASSERT_STR_EQ(v, "true");
  free(v);
  char task[AIN_UUID_LEN + 1];
  int64_t ver;
  running_task(&f, "publish", task, &ver);
  ain_finish_item_t it = park(&f, task, ver);
  ASSERT_EQ(it.new_status, AIN_TASK_WAITING);
  ASSERT_OK(set(&f, "publishers.paused", "false", NULL, &changed));
  ASSERT_EQ(changed, 1);
  ASSERT_EQ(status_of(&f, task), AIN_TASK_READY);
  /* Not paused: a publish step that parks anyway is ready at once. */
  ain_store_req_t r;
  ain_store_req_claim(&r, "test/1/shard-0", 1, 30000);
  r.now = T0 + 5;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.claim.ntasks, 1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, task);
  ver = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);
  it = park(&f, task, ver);
  ASSERT_EQ(it.new_status, AIN_TASK_READY);
  /* Bad keys. */
  ASSERT_EQ(set(&f, "", "x", NULL, NULL), AIN_EINVAL);
  ASSERT_OK(set(&f, "never.set", NULL, &v, NULL));
  ASSERT_NULL(v);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(review_parks_gate_and_approval_wakes_it),
          TEST_ENTRY(two_reviewers_race_one_wins_one_conflict),
          TEST_ENTRY(decision_before_park_lands_leaves_task_ready),
          TEST_ENTRY(judged_once_per_video_and_bad_inputs),
          TEST_ENTRY(receipts_unique_per_key_and_channel),
          TEST_ENTRY(pause_parks_publish_and_resume_wakes_it))
