/* After publishing (issue 14 §5, §6): the POSTS store op (takedowns, flags, post metrics) on
 * SQLite by default and on Postgres with AIN_TEST_STORE_URL (tests/integration/store_postgres.sh),
 * and publish/after.h on top of it: unpublish through a kind's delete call, a manual takedown for
 * a kind without one, idempotence, the bad inputs, compensation, the analytics pull, and the
 * outbox's atomic takedown of its folder.
 * The channel kinds here are the test's own (platform kinds need their servers: the integration
 * tests use them); they count calls so the tests can say what reached the "platform".
 * Relies on: store_fixture.h, store/posts.h, publish/after.h, the C harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "publish/after.h"
#include "store/metrics.h"
#include "store/grants.h"
#include "store/posts.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)

static void judged(fx_t *f, const char *video_id, const char *persona) {
  ain_video_review_t in = {.video_id = (char *)video_id,
                           .persona_id = (char *)persona,
                           .decision = "pass",
                           .confidence = 0.9,
                           .checks = "[]",
                           .report = "{}",
                           .video_key = "ab/x.mp4"};
  ain_store_req_t r;
  ain_store_req_video_judged(&r, &in);
  r.actor = "test/gate";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static int64_t receipt(fx_t *f, const char *video_id, const char *channel, int64_t now) {
  char key[200];
  snprintf(key, sizeof key, "%s-%s-key", video_id, channel);
  ain_receipt_t in = {.video_id = (char *)video_id,
                      .channel = (char *)channel,
                      .idempotency_key = key,
                      .location = key};
  ain_store_req_t r;
  ain_store_req_receipt_put(&r, &in, 0);
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  int64_t id = r.u.receipt_put.receipt.id;
  ain_store_req_cleanup(&r);
  return id;
}

/* One POSTS request; the parsed answer, or NULL with *rc (and field) set. */
static cJSON *posts(fx_t *f, const char *action, const char *args, int *rc, char *field) {
  ain_store_req_t r;
  ain_store_req_posts(&r, action, args);
  r.actor = "operator:test";
  *rc = ain_store_wait(f->s, &r);
  cJSON *o = *rc == 0 ? cJSON_Parse(r.u.posts.out) : NULL;
  if (*rc != 0 && field != NULL) {
    snprintf(field, 128, "%s", r.err.field);
  }
  ain_store_req_cleanup(&r);
  return o;
}

static cJSON *posts_ok(fx_t *f, const char *action, const char *args) {
  int rc;
  cJSON *o = posts(f, action, args, &rc, NULL);
  ASSERT_OK(rc);
  ASSERT_TRUE(o != NULL);
  return o;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int is_true(const cJSON *o, const char *k) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static const char *video_status(fx_t *f, const char *vid) {
  static char out[64];
  char args[256];
  snprintf(args, sizeof args, "{\"video_id\":\"%s\"}", vid);
  cJSON *o = posts_ok(f, "receipts", args);
  snprintf(out, sizeof out, "%s", str(cJSON_GetObjectItemCaseSensitive(o, "video"), "status"));
  cJSON_Delete(o);
  return out;
}

/* Operator audit rows (no task, no DAG: the test's videos have none) whose to_status is `to`. */
static int audit_rows_to(fx_t *f, const char *to, const char *detail_has) {
  ain_store_req_t r;
  ain_store_req_audit_operator(&r, 1000);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int n = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    const ain_audit_t *a = &r.u.audit.rows[i];
    if (a->to_status != NULL && strcmp(a->to_status, to) == 0 &&
        (detail_has == NULL || (a->detail != NULL && strstr(a->detail, detail_has) != NULL))) {
      n++;
    }
  }
  ain_store_req_cleanup(&r);
  return n;
}

TEST(mark_records_takedowns_idempotently_and_audits) {
  fx_t f;
  fx_open(&f);
  char vid[64];
  snprintf(vid, sizeof vid, "v-%s", f.ns);
  judged(&f, vid, "chef_marco");
  int64_t a = receipt(&f, vid, "outbox", T0);
  int64_t b = receipt(&f, vid, "tiktok", T0 + 1);
  char args[512];
  snprintf(args, sizeof args, "{\"video_id\":\"%s\"}", vid);
  cJSON *o = posts_ok(&f, "receipts", args);
  cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "receipts");
  ASSERT_EQ(cJSON_GetArraySize(rs), 2);
  ASSERT_STR_EQ(str(cJSON_GetArrayItem(rs, 0), "state"), "live");
  ASSERT_STR_EQ(str(cJSON_GetArrayItem(rs, 0), "channel"), "outbox");
  ASSERT_STR_EQ(str(cJSON_GetArrayItem(rs, 0), "persona_id"), "chef_marco");
  ASSERT_STR_EQ(str(cJSON_GetObjectItemCaseSensitive(o, "video"), "status"), "published");
  cJSON_Delete(o);

  snprintf(args, sizeof args,
           "{\"receipt_id\":%lld,\"state\":\"unpublished\",\"method\":\"api\",\"reason\":\"dmca\"}",
           (long long)a);
  o = posts_ok(&f, "mark", args);
  ASSERT_TRUE(is_true(o, "changed"));
  ASSERT_STR_EQ(str(o, "video_status"), "published"); /* the tiktok post is still up */
  cJSON_Delete(o);
  o = posts_ok(&f, "mark", args); /* twice: nothing changes, nothing audited */
  ASSERT_TRUE(!is_true(o, "changed"));
  cJSON_Delete(o);
  ASSERT_EQ(audit_rows_to(&f, "post:unpublished", "dmca"), 1);

  snprintf(args, sizeof args,
           "{\"receipt_id\":%lld,\"state\":\"takedown_required\",\"method\":\"manual\","
           "\"reason\":\"dmca\"}",
           (long long)b);
  o = posts_ok(&f, "mark", args);
  ASSERT_TRUE(is_true(o, "changed"));
  cJSON_Delete(o);
  o = posts_ok(&f, "takedowns", "{\"state\":\"takedown_required\"}");
  rs = cJSON_GetObjectItemCaseSensitive(o, "posts");
  int pending = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, rs) {
    pending += strcmp(str(p, "video_id"), vid) == 0;
    if (strcmp(str(p, "video_id"), vid) == 0) {
      ASSERT_STR_EQ(str(p, "channel"), "tiktok");
      ASSERT_STR_EQ(str(p, "method"), "manual");
      ASSERT_STR_EQ(str(p, "actor"), "operator:test");
    }
  }
  ASSERT_EQ(pending, 1);
  cJSON_Delete(o);
  ASSERT_STR_EQ(video_status(&f, vid), "published");
  /* an operator confirms the manual takedown: the last post is down, so is the video */
  snprintf(args, sizeof args,
           "{\"receipt_id\":%lld,\"state\":\"unpublished\",\"method\":\"manual\","
           "\"reason\":\"done by hand\"}",
           (long long)b);
  o = posts_ok(&f, "mark", args);
  ASSERT_TRUE(is_true(o, "changed"));
  ASSERT_STR_EQ(str(o, "video_status"), "unpublished");
  cJSON_Delete(o);
  ASSERT_EQ(audit_rows_to(&f, "video:unpublished", vid), 1);
  /* once unpublished, a late "takedown required" does not bring it back */
  snprintf(args, sizeof args,
           "{\"receipt_id\":%lld,\"state\":\"takedown_required\",\"method\":\"manual\","
           "\"reason\":\"late\"}",
           (long long)b);
  o = posts_ok(&f, "mark", args);
  ASSERT_TRUE(!is_true(o, "changed"));
  ASSERT_STR_EQ(str(o, "state"), "unpublished");
  cJSON_Delete(o);
  fx_close(&f);
}

TEST(bad_inputs_are_named) {
  fx_t f;
  fx_open(&f);
  int rc;
  char field[128] = "";
  ASSERT_TRUE(posts(&f, "receipts", "{\"video_id\":\"no-such-video\"}", &rc, field) == NULL);
  ASSERT_EQ(rc, AIN_ENOTFOUND);
  ASSERT_STR_EQ(field, "video_id");
  ASSERT_TRUE(posts(&f, "mark",
                    "{\"receipt_id\":987654321,\"state\":\"unpublished\",\"method\":\"api\","
                    "\"reason\":\"x\"}",
                    &rc, field) == NULL);
  ASSERT_EQ(rc, AIN_ENOTFOUND);
  ASSERT_STR_EQ(field, "receipt_id");
  ASSERT_TRUE(posts(&f, "drop_tables", "{}", &rc, field) == NULL);
  ASSERT_EQ(rc, AIN_EINVAL);
  ASSERT_STR_EQ(field, "action");
  ASSERT_TRUE(posts(&f, "recent", "[1]", &rc, field) == NULL);
  ASSERT_EQ(rc, AIN_EINVAL);
  ASSERT_STR_EQ(field, "args");
  ASSERT_TRUE(posts(&f, "flag", "{\"video_id\":\"nope\",\"reason\":\"x\"}", &rc, field) == NULL);
  ASSERT_EQ(rc, AIN_ENOTFOUND);
  fx_close(&f);
}

TEST(metrics_latest_per_post_with_filters) {
  fx_t f;
  fx_open(&f);
  char v1[64], v2[64], args[1024];
  snprintf(v1, sizeof v1, "a-%s", f.ns);
  snprintf(v2, sizeof v2, "b-%s", f.ns);
  judged(&f, v1, "chef_marco");
  judged(&f, v2, "techie_tina");
  int64_t r1 = receipt(&f, v1, "tiktok", T0);
  int64_t r2 = receipt(&f, v2, "tiktok", T0 + 5);
  /* two pulls of r1 (the second wins), one of r2 with counters not reported, one of a receipt
   * that does not exist (dropped) */
  snprintf(args, sizeof args,
           "{\"rows\":[{\"receipt_id\":%lld,\"channel\":\"tiktok\",\"post_id\":\"p1\","
           "\"views\":10,\"likes\":1,\"comments\":0,\"shares\":0},"
           "{\"receipt_id\":987654321,\"channel\":\"tiktok\",\"post_id\":\"zz\",\"views\":5}]}",
           (long long)r1);
  ain_store_req_t r;
  ain_store_req_posts(&r, "metrics_put", args);
  r.now = T0 + 100;
  ASSERT_OK(ain_store_wait(f.s, &r));
  cJSON *o = cJSON_Parse(r.u.posts.out);
  ASSERT_EQ(num(o, "inserted"), 1);
  cJSON_Delete(o);
  ain_store_req_cleanup(&r);
  snprintf(args, sizeof args,
           "{\"rows\":[{\"receipt_id\":%lld,\"channel\":\"tiktok\",\"post_id\":\"p1\","
           "\"views\":250,\"likes\":20,\"comments\":3,\"shares\":2},"
           "{\"receipt_id\":%lld,\"channel\":\"tiktok\",\"post_id\":\"p2\",\"views\":40,"
           "\"likes\":null,\"comments\":null,\"shares\":null}]}",
           (long long)r1, (long long)r2);
  ain_store_req_posts(&r, "metrics_put", args);
  r.now = T0 + 200;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);

  snprintf(args, sizeof args, "{\"since\":%lld}", (long long)T0);
  o = posts_ok(&f, "metrics", args);
  const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "posts");
  int mine = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, ps) {
    if (num(p, "receipt_id") == (double)r1) {
      mine++;
      ASSERT_EQ(num(p, "views"), 250);
      ASSERT_EQ(num(p, "shares"), 2);
      ASSERT_EQ(num(p, "fetched_at"), (double)(T0 + 200));
      ASSERT_STR_EQ(str(p, "persona_id"), "chef_marco");
    } else if (num(p, "receipt_id") == (double)r2) {
      mine++;
      ASSERT_EQ(num(p, "views"), 40);
      ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "likes")));
    }
  }
  ASSERT_EQ(mine, 2);
  cJSON_Delete(o);
  o = posts_ok(&f, "metrics", "{\"persona\":\"techie_tina\",\"limit\":1000}");
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "posts")) {
    ASSERT_STR_EQ(str(p, "persona_id"), "techie_tina");
  }
  cJSON_Delete(o);
  /* recent: live posts only */
  snprintf(args, sizeof args,
           "{\"receipt_id\":%lld,\"state\":\"unpublished\",\"method\":\"api\",\"reason\":\"x\"}",
           (long long)r2);
  cJSON_Delete(posts_ok(&f, "mark", args));
  snprintf(args, sizeof args, "{\"since\":%lld}", (long long)T0);
  o = posts_ok(&f, "recent", args);
  int saw1 = 0, saw2 = 0;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "posts")) {
    saw1 += num(p, "receipt_id") == (double)r1;
    saw2 += num(p, "receipt_id") == (double)r2;
  }
  ASSERT_EQ(saw1, 1);
  ASSERT_EQ(saw2, 0);
  cJSON_Delete(o);
  fx_close(&f);
}

/* ---- publish/after.h with the test's kinds ------------------------------------------------ */

static int deleted, metric_calls;

static int k_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err);
static void k_close(ain_channel_t *ch) {
  free(ch->name);
  free(ch);
}
static int k_unpublish(ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  (void)ch;
  if (strstr(post_id, "fail") != NULL) {
    return ain_err_set(err, AIN_EHTTP, "platform: 500 on delete");
  }
  deleted++;
  return 0;
}
static int k_metrics(ain_channel_t *ch, const char *post_id, ain_channel_post_metrics_t *m,
                     ain_err_t *err) {
  (void)ch, (void)post_id, (void)err;
  metric_calls++;
  m->views = 1000 + metric_calls;
  m->likes = 50;
  m->comments = -1; /* not reported */
  m->shares = 7;
  return 0;
}
/* "deletable": a platform with a delete call and metrics; "nodelete": neither */
static const ain_channel_kind_t k_deletable = {.kind = "deletable", .open = k_open,
                                               .unpublish = k_unpublish, .metrics = k_metrics,
                                               .close = k_close};
static const ain_channel_kind_t k_nodelete = {.kind = "nodelete", .open = k_open,
                                              .close = k_close};
static int k_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  (void)err;
  ain_channel_t *ch = calloc(1, sizeof *ch);
  ch->kind = strncmp(o->name, "tiktok", 6) == 0 ? &k_nodelete : &k_deletable;
  ch->name = ain_strdup(o->name);
  *out = ch;
  return 0;
}
/* Channels: "youtube" (deletable), "tiktok" (no delete), anything else is not configured. */
static int opener(void *data, const ain_config_t *cfg, const char *name, ain_channel_t **out,
                  ain_err_t *err) {
  (void)data, (void)cfg;
  if (strcmp(name, "youtube") != 0 && strcmp(name, "tiktok") != 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "channel", "no channel '%s'", name);
  }
  ain_channel_open_t o = {.name = name};
  return k_open(&o, out, err);
}

/* The store gauge of a /metrics scrape: manual takedowns waiting. */
static int64_t takedowns_pending(fx_t *f) {
  ain_store_req_t r;
  ain_store_metrics_t m;
  memset(&m, 0, sizeof m);
  ain_store_req_metrics(&r, &m);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int64_t n = m.takedowns_pending;
  ain_store_req_cleanup(&r);
  return n;
}

static const cJSON *post_on(const cJSON *out, const char *channel) {
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(out, "posts")) {
    if (strcmp(str(p, "channel"), channel) == 0) {
      return p;
    }
  }
  return NULL;
}

TEST(unpublish_api_manual_and_idempotent) {
  fx_t f;
  fx_open(&f);
  ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  ain_post_after_t pa = {.cfg = &cfg, .store = f.s, .actor = "operator:alice", .open = opener};
  char vid[64];
  snprintf(vid, sizeof vid, "v-%s", f.ns);
  judged(&f, vid, "chef_marco");
  receipt(&f, vid, "youtube", T0);
  receipt(&f, vid, "tiktok", T0 + 1);
  ain_err_t err;
  ain_err_clear(&err);
  cJSON *out = NULL;
  /* bad inputs first: nothing is taken down */
  ASSERT_EQ(ain_post_unpublish(&pa, vid, NULL, "  ", &out, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "reason");
  ASSERT_EQ(ain_post_unpublish(&pa, "no-such-video", NULL, "r", &out, &err), AIN_ENOTFOUND);
  ASSERT_STR_EQ(err.field, "video_id");
  ASSERT_EQ(ain_post_unpublish(&pa, vid, "instagram", "r", &out, &err), AIN_ENOTFOUND);
  ASSERT_STR_EQ(err.field, "channel");
  ASSERT_TRUE(out == NULL);
  ASSERT_EQ(deleted, 0);

  ASSERT_OK(ain_post_unpublish(&pa, vid, NULL, "copyright claim", &out, &err));
  ASSERT_STR_EQ(str(post_on(out, "youtube"), "outcome"), "unpublished");
  ASSERT_STR_EQ(str(post_on(out, "tiktok"), "outcome"), "takedown_required");
  ASSERT_STR_EQ(str(out, "video_status"), "published"); /* tiktok's post is still up */
  ASSERT_EQ(deleted, 1);
  cJSON_Delete(out);
  if (fx_exclusive_db()) {
    ASSERT_EQ(takedowns_pending(&f), 1); /* raised to the operator: ain_takedowns_pending */
  }
  ASSERT_EQ(audit_rows_to(&f, "post:unpublished", "copyright claim"), 1);
  ASSERT_EQ(audit_rows_to(&f, "post:takedown_required", "copyright claim"), 1);
  /* twice: youtube is already down (no second delete call), tiktok still waits for a person */
  ASSERT_OK(ain_post_unpublish(&pa, vid, NULL, "copyright claim", &out, &err));
  ASSERT_STR_EQ(str(post_on(out, "youtube"), "outcome"), "already");
  ASSERT_STR_EQ(str(post_on(out, "tiktok"), "outcome"), "takedown_required");
  ASSERT_EQ(deleted, 1);
  ASSERT_EQ(audit_rows_to(&f, "post:takedown_required", "copyright claim"), 1);
  cJSON_Delete(out);
  /* the operator confirms the manual one */
  cJSON *td = NULL;
  ASSERT_OK(ain_post_takedowns(&pa, 1, 100, &td, &err));
  const cJSON *p;
  int64_t rid = 0;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(td, "posts")) {
    if (strcmp(str(p, "video_id"), vid) == 0) {
      rid = (int64_t)num(p, "receipt_id");
    }
  }
  cJSON_Delete(td);
  ASSERT_TRUE(rid > 0);
  int changed = 0;
  ASSERT_EQ(ain_post_takedown_done(&pa, rid, "", &changed, &err), AIN_EINVAL);
  ASSERT_OK(ain_post_takedown_done(&pa, rid, "removed in the TikTok app", &changed, &err));
  ASSERT_EQ(changed, 1);
  ASSERT_OK(ain_post_takedown_done(&pa, rid, "again", &changed, &err));
  ASSERT_EQ(changed, 0);
  ASSERT_STR_EQ(video_status(&f, vid), "unpublished");
  if (fx_exclusive_db()) {
    ASSERT_EQ(takedowns_pending(&f), 0);
  }
  fx_close(&f);
}

TEST(unpublish_failure_leaves_post_up_and_says_so) {
  fx_t f;
  fx_open(&f);
  ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  ain_post_after_t pa = {.cfg = &cfg, .store = f.s, .actor = "operator:alice", .open = opener};
  char vid[64];
  snprintf(vid, sizeof vid, "fail-%s", f.ns); /* its post id holds "fail": the delete 500s */
  judged(&f, vid, "chef_marco");
  receipt(&f, vid, "youtube", T0);
  ain_err_t err;
  ain_err_clear(&err);
  cJSON *out = NULL;
  ASSERT_EQ(ain_post_unpublish(&pa, vid, "youtube", "r", &out, &err), AIN_EHTTP);
  ASSERT_TRUE(strstr(err.msg, "500") != NULL);
  ASSERT_STR_EQ(str(post_on(out, "youtube"), "outcome"), "failed");
  ASSERT_STR_EQ(str(out, "video_status"), "published");
  cJSON_Delete(out);
  fx_close(&f);
}

TEST(compensation_flags_or_takes_the_others_down) {
  fx_t f;
  fx_open(&f);
  ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  ain_post_after_t pa = {.cfg = &cfg, .store = f.s, .actor = "node/compensation", .open = opener};
  char v1[64], v2[64];
  snprintf(v1, sizeof v1, "c1-%s", f.ns);
  snprintf(v2, sizeof v2, "c2-%s", f.ns);
  judged(&f, v1, "chef_marco");
  judged(&f, v2, "chef_marco");
  receipt(&f, v1, "youtube", T0);
  receipt(&f, v2, "youtube", T0);
  ain_err_t err;
  ain_err_clear(&err);
  cJSON *out = NULL;
  ASSERT_EQ(ain_post_compensate(&pa, v1, "instagram", "shrug", "x", &out, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "action");
  int before = deleted;
  ASSERT_OK(ain_post_compensate(&pa, v1, "instagram", AIN_COMPENSATE_FLAG, "EHTTP: 500", &out,
                                &err));
  ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "posts")), 0);
  cJSON_Delete(out);
  ASSERT_EQ(deleted, before); /* flag keeps the others */
  ASSERT_STR_EQ(video_status(&f, v1), "flagged");
  ASSERT_EQ(audit_rows_to(&f, "video:flagged", "publish to instagram failed"), 1);
  ASSERT_OK(ain_post_compensate(&pa, v2, "instagram", AIN_COMPENSATE_UNPUBLISH_OTHERS,
                                "EHTTP: 500", &out, &err));
  ASSERT_STR_EQ(str(post_on(out, "youtube"), "outcome"), "unpublished");
  cJSON_Delete(out);
  ASSERT_EQ(deleted, before + 1);
  ASSERT_STR_EQ(video_status(&f, v2), "unpublished");
  fx_close(&f);
}

TEST(analytics_pull_writes_metrics_of_kinds_that_have_them) {
  fx_t f;
  fx_open(&f);
  ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  ain_post_after_t pa = {.cfg = &cfg, .store = f.s, .actor = "node/analytics", .open = opener};
  char vid[64];
  snprintf(vid, sizeof vid, "m-%s", f.ns);
  judged(&f, vid, "chef_marco");
  int64_t yt = receipt(&f, vid, "youtube", ain_now_ms());
  receipt(&f, vid, "tiktok", ain_now_ms()); /* its kind reports no metrics */
  ain_analytics_pass_t pass = {.since_ms = ain_now_ms() - 60000, .limit = 1000};
  ain_analytics_result_t res;
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain_analytics_pull(&pa, &(ain_analytics_pass_t){.limit = 0}, &res, &err), AIN_EINVAL);
  ASSERT_OK(ain_analytics_pull(&pa, &pass, &res, &err));
  ASSERT_TRUE(res.pulled >= 1);
  ASSERT_TRUE(res.skipped >= 1);
  ASSERT_EQ(res.failed, 0);
  char args[128];
  snprintf(args, sizeof args, "{\"persona\":\"chef_marco\",\"channel\":\"youtube\"}");
  cJSON *o = posts_ok(&f, "metrics", args);
  const cJSON *p, *mine = NULL;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "posts")) {
    if (num(p, "receipt_id") == (double)yt) {
      mine = p;
    }
  }
  ASSERT_TRUE(mine != NULL);
  ASSERT_TRUE(num(mine, "views") > 1000);
  ASSERT_EQ(num(mine, "likes"), 50);
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(mine, "comments")));
  cJSON_Delete(o);
  fx_close(&f);
}

/* The account's quota bucket as the store holds it (store/grants.h). */
static ain_store_bucket_t bucket_of(fx_t *f, const char *account) {
  ain_store_grants_t g = {.op = AIN_STORE_BUCKET_GET, .account = account};
  ain_store_req_t r;
  ain_store_req_grants(&r, &g);
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_bucket_t b = g.bucket;
  b.account = NULL;
  ain_store_req_cleanup(&r);
  return b;
}

TEST(quota_charges_reads_and_deletes_and_holds_them_when_spent) {
  fx_t f;
  fx_open(&f);
  char account[96];
  snprintf(account, sizeof account, "yt-%s", f.ns);
  ain_config_channel_t yt = {.name = "youtube", .kind = "youtube", .account = account,
                             .opts = cJSON_Parse("{\"quota\":{\"units_per_day\":1000}}")};
  ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.channels.list = &yt;
  cfg.channels.n = 1;
  ain_post_after_t pa = {.cfg = &cfg, .store = f.s, .actor = "node/analytics", .open = opener};
  char v1[64], v2[64];
  snprintf(v1, sizeof v1, "q1-%s", f.ns);
  snprintf(v2, sizeof v2, "q2-%s", f.ns);
  judged(&f, v1, "chef_marco");
  judged(&f, v2, "chef_marco");
  receipt(&f, v1, "youtube", ain_now_ms());
  receipt(&f, v2, "youtube", ain_now_ms());
  ain_err_t err;
  ain_err_clear(&err);
  ain_analytics_result_t res;
  ain_analytics_pass_t pass = {.since_ms = ain_now_ms() - 60000, .limit = 1000};

  /* a read is videos.list: 1 unit each (other tests' youtube posts are read too on a shared db) */
  int calls = metric_calls;
  ASSERT_OK(ain_analytics_pull(&pa, &pass, &res, &err));
  int reads = metric_calls - calls;
  ASSERT_TRUE(reads >= 2);
  ASSERT_EQ(res.deferred, 0);
  ain_store_bucket_t b = bucket_of(&f, account);
  ASSERT_EQ(b.taken, reads);

  /* leave exactly one delete's worth (50 units) in the bucket */
  ain_store_grants_t put = {.op = AIN_STORE_BUCKET_PUT, .expect_version = b.state_version,
                            .bucket = b};
  put.bucket.account = account;
  put.bucket.units_mu = 50 * 1000;
  put.bucket.updated_at = ain_now_ms();
  ain_store_req_t r;
  ain_store_req_grants(&r, &put);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);

  /* a delete is videos.delete: 50 units */
  int before = deleted;
  cJSON *out = NULL;
  ASSERT_OK(ain_post_unpublish(&pa, v1, "youtube", "takedown", &out, &err));
  cJSON_Delete(out);
  ASSERT_EQ(deleted, before + 1);
  b = bucket_of(&f, account);
  ASSERT_EQ(b.taken, reads + 50);
  ASSERT_TRUE(b.units_mu < 1000);

  /* spent: the next read waits for the next pass, no call made */
  calls = metric_calls;
  ASSERT_OK(ain_analytics_pull(&pa, &pass, &res, &err));
  ASSERT_EQ(metric_calls, calls);
  ASSERT_TRUE(res.deferred >= 1);
  /* and a delete fails with EBUSY naming the quota, the post still up, no call made */
  ASSERT_EQ(ain_post_unpublish(&pa, v2, "youtube", "takedown", &out, &err), AIN_EBUSY);
  ASSERT_TRUE(strstr(err.msg, "quota of account") != NULL);
  ASSERT_STR_EQ(str(post_on(out, "youtube"), "outcome"), "failed");
  ASSERT_STR_EQ(str(out, "video_status"), "published");
  cJSON_Delete(out);
  ASSERT_EQ(deleted, before + 1);
  ASSERT_EQ(bucket_of(&f, account).taken, reads + 50);
  cJSON_Delete(yt.opts);
  fx_close(&f);
}

TEST(outbox_unpublish_removes_the_folder_atomically) {
  char dir[] = "/tmp/ain-outbox-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  const char *key = "0123456789abcdef";
  char path[512], file[600];
  snprintf(path, sizeof path, "%s/%s", dir, key);
  ASSERT_EQ(mkdir(path, 0755), 0);
  snprintf(file, sizeof file, "%s/v.mp4", path);
  FILE *fp = fopen(file, "w");
  ASSERT_TRUE(fp != NULL);
  fputs("video", fp);
  fclose(fp);
  ain_err_t err;
  ain_err_clear(&err);
  /* refused: not a key, a folder outside the outbox, no dir */
  ASSERT_EQ(ain_publish_outbox_unpublish(dir, "../etc", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "post_id");
  ASSERT_EQ(ain_publish_outbox_unpublish(dir, "/elsewhere/0123456789abcdef", &err), AIN_EINVAL);
  ASSERT_EQ(ain_publish_outbox_unpublish("", key, &err), AIN_ECONFIG);
  struct stat st;
  ASSERT_EQ(stat(path, &st), 0);
  /* the receipt's location (the folder) works as well as the key */
  ASSERT_OK(ain_publish_outbox_unpublish(dir, path, &err));
  ASSERT_TRUE(stat(path, &st) != 0);
  ASSERT_OK(ain_publish_outbox_unpublish(dir, key, &err)); /* gone already: fine */
  /* a takedown interrupted after its rename leaves a hidden folder: the next one clears it */
  char trash[600];
  snprintf(trash, sizeof trash, "%s/.unpublished-%s-crashed", dir, key);
  ASSERT_EQ(mkdir(trash, 0755), 0);
  ASSERT_OK(ain_publish_outbox_unpublish(dir, key, &err));
  ASSERT_TRUE(stat(trash, &st) != 0);
  ASSERT_EQ(rmdir(dir), 0); /* nothing left behind */
}

TEST_MAIN(TEST_ENTRY(mark_records_takedowns_idempotently_and_audits),
          TEST_ENTRY(bad_inputs_are_named), TEST_ENTRY(metrics_latest_per_post_with_filters),
          TEST_ENTRY(unpublish_api_manual_and_idempotent),
          TEST_ENTRY(unpublish_failure_leaves_post_up_and_says_so),
          TEST_ENTRY(compensation_flags_or_takes_the_others_down),
          TEST_ENTRY(analytics_pull_writes_metrics_of_kinds_that_have_them),
          TEST_ENTRY(quota_charges_reads_and_deletes_and_holds_them_when_spent),
          TEST_ENTRY(outbox_unpublish_removes_the_folder_atomically))
