/* The metrics of the youtube and tiktok channel kinds (engine/publish/youtube.c videos.list
 * part=statistics, tiktok.c Display API video/query) against tests/servers/youtube.js and
 * tiktok.js, both started by this binary: a real post is published through the kind first, then
 * its counters are read as the server holds them (set through its /__metrics), and the bad cases
 * fail clearly: a count that is not a number, a post the platform no longer lists (deleted), a
 * malformed id, 5xx (retried), an expired token (refreshed once), 429 (busy), a 5xx past the
 * retries. Members the platform leaves out (YouTube's shares, a hidden like count) are -1.
 * Relies on: chan_fixture.h, publish/kinds.h, node, ffmpeg. */
#include <curl/curl.h>

#include "chan_fixture.h"
#include "publish/kinds.h"

static int yt_port, tt_port;
static pid_t yt_pid, tt_pid;

typedef struct {
  char root[1024], key[AIN_OBJSTORE_KEY_MAX], sidecar[512];
  ain_objstore_t *os;
  ain_publish_file_t file;
  ain_publish_req_t req;
  cJSON *opts;
  ain_channel_t *ch;
  const ain_channel_kind_t *kind;
} fx_t;

/* A channel of kind on its test server (fx_port switched to it), with a video titled title. */
static void fx_init(fx_t *f, const ain_channel_kind_t *kind, const char *title,
                    const char *privacy) {
  memset(f, 0, sizeof *f);
  int yt = kind == &ain_channel_youtube;
  fx_port = yt ? yt_port : tt_port;
  f->kind = kind;
  setenv("AIN_SECRET_M_CID", "test-client", 1);
  setenv("AIN_SECRET_M_CSECRET", "test-secret", 1);
  setenv("AIN_SECRET_M_REFRESH", "test-refresh", 1);
  snprintf(f->root, sizeof f->root, "%s/objects", ain_test_tmpdir());
  fx_store_mp4(f->root, &f->os, f->key, sizeof f->key);
  snprintf(f->sidecar, sizeof f->sidecar,
           "{\"video_id\":\"v1\",\"title\":\"%s\",\"privacy_level\":\"%s\"}", title, privacy);
  f->file = (ain_publish_file_t){.role = "video", .key = f->key, .name = "v1.mp4"};
  f->req = (ain_publish_req_t){.video_id = "v1",
                               .idempotency_key = "key-v1-metrics",
                               .files = &f->file,
                               .nfiles = 1,
                               .sidecar_json = f->sidecar,
                               .objects = f->os};
  cJSON *o = f->opts = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "kind", kind->kind);
  cJSON_AddStringToObject(o, "api_url", fx_url(""));
  cJSON_AddStringToObject(o, "token_url", fx_url(yt ? "/token" : "/v2/oauth/token/"));
  cJSON_AddStringToObject(o, "client_id_secret", "m_cid");
  cJSON_AddStringToObject(o, "client_secret_secret", "m_csecret");
  cJSON_AddStringToObject(o, "refresh_token_secret", "m_refresh");
  cJSON_AddNumberToObject(o, "retries", 2);
  cJSON_AddNumberToObject(o, "retry_base_ms", 5);
  cJSON_AddNumberToObject(o, "timeout_ms", 5000);
  if (!yt) {
    cJSON_AddNumberToObject(o, "poll_ms", 10);
  }
  ain_err_t err = {0};
  ASSERT_OK(kind->check("m", o, &err));
  ain_channel_open_t op = {.name = "m", .opts = o, .objects = f->os};
  ASSERT_OK(kind->open(&op, &f->ch, &err));
}

static void fx_done(fx_t *f) {
  ain_channel_close(f->ch);
  cJSON_Delete(f->opts);
  ain_objstore_close(f->os);
}

/* Publishes the fixture's video: the post's id in post_id. */
static void post(fx_t *f, char *post_id, size_t cap) {
  ain_channel_result_t res;
  ain_err_t err = {0};
  ASSERT_OK(f->kind->publish(f->ch, &f->req, NULL, &res, &err));
  ASSERT_TRUE(res.post_id[0] != '\0');
  snprintf(post_id, cap, "%s", res.post_id);
}

/* POST /__metrics with the given JSON members for post id. */
static void set_metrics(const char *id, const char *members) {
  char body[512];
  snprintf(body, sizeof body, "{\"id\":\"%s\",%s}", id, members);
  cJSON_Delete(fx_call("POST", "/__metrics", body));
}

static int metrics(fx_t *f, const char *id, ain_channel_post_metrics_t *m, ain_err_t *err) {
  ain_err_clear(err);
  return f->kind->metrics(f->ch, id, m, err);
}

TEST(count_parsing) {
  cJSON *j = cJSON_Parse("{\"s\":\"123\",\"n\":45,\"z\":\"0\",\"nul\":null,\"neg\":-1,"
                         "\"frac\":1.5,\"word\":\"many\",\"empty\":\"\",\"sign\":\"+3\","
                         "\"long\":\"1234567890123456789\",\"big\":1e300,\"obj\":{}}");
  int64_t v;
  ASSERT_OK(ain_channel_metric_count(j, "s", &v));
  ASSERT_EQ(v, 123);
  ASSERT_OK(ain_channel_metric_count(j, "n", &v));
  ASSERT_EQ(v, 45);
  ASSERT_OK(ain_channel_metric_count(j, "z", &v));
  ASSERT_EQ(v, 0);
  ASSERT_OK(ain_channel_metric_count(j, "absent", &v));
  ASSERT_EQ(v, -1);
  ASSERT_OK(ain_channel_metric_count(j, "nul", &v));
  ASSERT_EQ(v, -1);
  static const char *const bad[] = {"neg", "frac", "word", "empty", "sign", "long", "big", "obj"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = 7;
    ASSERT_EQ(ain_channel_metric_count(j, bad[i], &v), -1);
    ASSERT_EQ(v, -1);
  }
  cJSON_Delete(j);
}

/* What both kinds must do on the server's fault kind k: a 5xx and an expired token are absorbed
 * (retried, refreshed once), 429 is busy (its message naming the platform's reason `busy`), a 5xx
 * past the retries fails; a forged count (naming `field`), a malformed id and a post the
 * platform no longer lists (its message saying `gone`) are clear errors, never numbers. */
static void shared_faults(fx_t *f, const char *id, const char *k, const char *busy,
                          const char *field, const char *bad_id, const char *gone) {
  ain_channel_post_metrics_t m;
  ain_err_t err = {0};
  char c[128];
  snprintf(c, sizeof c, "{\"fault\":\"500\",\"kind\":\"%s\"}", k);
  fx_control(c);
  snprintf(c, sizeof c, "{\"fault\":\"401\",\"kind\":\"%s\"}", k);
  fx_control(c);
  set_metrics(id, "\"views\":31");
  ASSERT_OK(metrics(f, id, &m, &err));
  ASSERT_EQ(m.views, 31);
  ASSERT_GE(fx_stat("refreshes", NULL), 2); /* the first token, then one after the 401 */
  snprintf(c, sizeof c, "{\"fault\":\"429\",\"kind\":\"%s\"}", k);
  fx_control(c);
  ASSERT_EQ(metrics(f, id, &m, &err), AIN_EBUSY);
  ASSERT_STR_CONTAINS(err.msg, busy);
  snprintf(c, sizeof c, "{\"fault\":\"500\",\"kind\":\"%s\",\"count\":3}", k);
  fx_control(c); /* retries = 2: three tries, all 500 */
  ASSERT_EQ(metrics(f, id, &m, &err), AIN_EHTTP);
  ASSERT_EQ(m.views, -1);
  snprintf(c, sizeof c, "{\"fault\":\"forged\",\"kind\":\"%s\"}", k);
  fx_control(c);
  ASSERT_EQ(metrics(f, id, &m, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, field);
  ASSERT_STR_CONTAINS(err.msg, "is not a count");
  ASSERT_EQ(m.views, -1);
  ASSERT_EQ(metrics(f, bad_id, &m, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "post_id");
  ASSERT_STR_CONTAINS(err.msg, bad_id);
  ASSERT_EQ(metrics(f, "", &m, &err), AIN_EINVAL);
  set_metrics(id, "\"deleted\":true");
  ASSERT_EQ(metrics(f, id, &m, &err), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, gone);
}

/* The post's counters as the kind reads them are these (-1: not reported). */
static void expect_counts(fx_t *f, const char *id, int64_t views, int64_t likes, int64_t comments,
                          int64_t shares) {
  ain_channel_post_metrics_t m;
  ain_err_t err = {0};
  ASSERT_OK(metrics(f, id, &m, &err));
  ASSERT_EQ(m.views, views);
  ASSERT_EQ(m.likes, likes);
  ASSERT_EQ(m.comments, comments);
  ASSERT_EQ(m.shares, shares);
}

TEST(youtube_statistics) {
  fx_t f;
  char id[AIN_CHANNEL_POST_ID_MAX];
  fx_init(&f, &ain_channel_youtube, "yt stats", "");
  post(&f, id, sizeof id);
  expect_counts(&f, id, 100, 5, 1, -1); /* the server's first post; YouTube reports no shares */
  set_metrics(id, "\"views\":12345678901,\"likes\":null,\"comments\":0");
  expect_counts(&f, id, 12345678901LL, -1, 0, -1); /* a hidden like count: not reported */
  shared_faults(&f, id, "stats", "rateLimitExceeded", "viewCount", "../x",
                "not on YouTube any more");
  fx_done(&f);
}

/* unpublish through videos.delete: a 5xx is retried, a post already gone is done (twice is not
 * an error), quota is busy, a malformed id is refused before any call; the post then reads as
 * gone. */
TEST(youtube_delete) {
  fx_t f;
  char id[AIN_CHANNEL_POST_ID_MAX];
  ain_err_t err = {0};
  fx_init(&f, &ain_channel_youtube, "yt delete", "");
  post(&f, id, sizeof id);
  ASSERT_EQ(f.kind->unpublish(f.ch, "../x", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "post_id");
  cJSON_Delete(fx_call("POST", "/__control", "{\"fault\":\"quota\",\"kind\":\"delete\"}"));
  ain_err_clear(&err);
  ASSERT_EQ(f.kind->unpublish(f.ch, id, &err), AIN_EBUSY);
  ASSERT_STR_CONTAINS(err.msg, "quotaExceeded");
  cJSON_Delete(fx_call("POST", "/__control", "{\"fault\":\"500\",\"kind\":\"delete\"}"));
  ain_err_clear(&err);
  ASSERT_OK(f.kind->unpublish(f.ch, id, &err));
  ain_err_clear(&err);
  ASSERT_OK(f.kind->unpublish(f.ch, id, &err)); /* 404 videoNotFound: already gone */
  ain_channel_post_metrics_t m;
  ASSERT_EQ(metrics(&f, id, &m, &err), AIN_ENOTFOUND);
  fx_done(&f);
}

TEST(tiktok_video_query) {
  fx_t f;
  char id[AIN_CHANNEL_POST_ID_MAX];
  fx_init(&f, &ain_channel_tiktok, "tt stats", "PUBLIC_TO_EVERYONE");
  post(&f, id, sizeof id);
  ASSERT_EQ(strspn(id, "0123456789"), strlen(id)); /* a public post: its video id */
  expect_counts(&f, id, 200, 9, 2, 1);                 /* the server's first post */
  set_metrics(id, "\"views\":9007199254740000,\"likes\":4,\"comments\":0,\"shares\":7");
  expect_counts(&f, id, 9007199254740000LL, 4, 0, 7);
  shared_faults(&f, id, "query", "rate_limit_exceeded", "view_count", "12a",
                "not on TikTok any more");
  fx_done(&f);

  /* a private post's handle is its publish_id: nothing to ask, nothing reported */
  fx_init(&f, &ain_channel_tiktok, "tt private", "SELF_ONLY");
  post(&f, id, sizeof id);
  ASSERT_STR_CONTAINS(id, "v_pub_");
  long queries_before = fx_stat("requests", "query");
  expect_counts(&f, id, -1, -1, -1, -1);
  ASSERT_EQ(fx_stat("requests", "query"), queries_before);
  fx_done(&f);
}

int main(int argc, char **argv) {
  static const ain_test_t tests[] = {TEST_ENTRY(count_parsing), TEST_ENTRY(youtube_statistics),
                                     TEST_ENTRY(youtube_delete), TEST_ENTRY(tiktok_video_query),
                                     {NULL, NULL}};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *tmp = getenv("TMPDIR");
  char work[1100];
  snprintf(work, sizeof work, "%s/ain-metrics-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(work) == NULL || fx_make_mp4(work) != 0 ||
      fx_server_start("tests/servers/youtube.js", NULL) != 0) {
    return 1;
  }
  yt_port = fx_port;
  yt_pid = fx_pid;
  if (fx_server_start("tests/servers/tiktok.js", NULL) != 0) {
    kill(yt_pid, SIGTERM);
    return 1;
  }
  tt_port = fx_port;
  tt_pid = fx_pid;
  int rc = ain_test_run(tests, argc, argv);
  fx_server_stop(); /* tiktok's */
  fx_pid = yt_pid;
  fx_server_stop();
  unlink(fx_mp4);
  rmdir(work);
  return rc;
}
