/* The "instagram" channel kind (engine/publish/instagram.c) against tests/servers/instagram.js:
 * config errors naming the key; a Reel published by resumable upload and by a URL the platform
 * fetches; faults (5xx, dropped connections, slow answers, 429 + Retry-After, rate-limit code 4,
 * forged replies, expired and revoked tokens, a container ending ERROR, a lost media_publish
 * answer); a crash (the test process _exits inside a save) at every phase, resumed by a new
 * channel from the saved session; insights. Every case ends by counting the server's posts:
 * one per video. Relies on: chan_fixture.h, node, ffmpeg. */
#include <curl/curl.h>

#include "chan_fixture.h"

extern const ain_channel_kind_t ain_channel_instagram;

#define TOKEN "IGQVJ-secret-test-token-0001"
#define USER "17841400000000001"

static char g_files[1024]; /* the media host's root: $TMPDIR, which holds every test's store */

/* media_base_url for f's store on the test server's media host (+ suffix). */
static const char *media_base(const char *root, const char *suffix) {
  static char b[2048];
  snprintf(b, sizeof b, "%s%s%s", fx_url("/__files"), root + strlen(g_files), suffix);
  return b;
}

typedef struct {
  char root[1024], key[AIN_OBJSTORE_KEY_MAX];
  ain_objstore_t *os;
  ain_publish_file_t file;
  ain_publish_req_t req;
  char sidecar[512];
  cJSON *opts;
  ain_channel_t *ch;
} fx_t;

/* Options every test starts from: fast polls and backoff for a loaded machine's sake. */
static cJSON *base_opts(void) {
  char api[256], up[256];
  snprintf(api, sizeof api, "%s", fx_url(""));
  snprintf(up, sizeof up, "%s", fx_url("/ig-api-upload"));
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "kind", "instagram");
  cJSON_AddStringToObject(o, "ig_user_id", USER);
  cJSON_AddStringToObject(o, "access_token_secret", "ig_token");
  cJSON_AddStringToObject(o, "api_url", api);
  cJSON_AddStringToObject(o, "upload_url", up);
  cJSON_AddNumberToObject(o, "poll_interval_ms", 20);
  cJSON_AddNumberToObject(o, "retry_base_ms", 5);
  cJSON_AddNumberToObject(o, "timeout_ms", 5000);
  return o;
}

static void fx_init(fx_t *f, const char *title) {
  memset(f, 0, sizeof *f);
  fx_reset();
  setenv("AIN_SECRET_IG_TOKEN", TOKEN, 1);
  snprintf(f->root, sizeof f->root, "%s/objects", ain_test_tmpdir());
  fx_store_mp4(f->root, &f->os, f->key, sizeof f->key);
  snprintf(f->sidecar, sizeof f->sidecar,
           "{\"video_id\":\"v1\",\"title\":\"%s\",\"hashtags\":[\"ai\",\"#news\"]}", title);
  f->file = (ain_publish_file_t){.role = "video", .key = f->key, .name = "v1.mp4"};
  f->req = (ain_publish_req_t){.video_id = "v1",
                               .idempotency_key = "key-v1-instagram",
                               .files = &f->file,
                               .nfiles = 1,
                               .sidecar_json = f->sidecar,
                               .objects = f->os};
  f->opts = base_opts();
}

static int fx_open(fx_t *f, ain_err_t *err) {
  ain_channel_open_t o = {.name = "ig", .opts = f->opts, .objects = f->os};
  return ain_channel_instagram.open(&o, &f->ch, err);
}

static void fx_done(fx_t *f) {
  if (f->ch != NULL) {
    ain_channel_instagram.close(f->ch);
  }
  cJSON_Delete(f->opts);
  ain_objstore_close(f->os);
}

static int publish(fx_t *f, fx_session_t *s, ain_channel_result_t *res, ain_err_t *err) {
  ain_channel_session_t sess = fx_session(s);
  return ain_channel_instagram.publish(f->ch, &f->req, &sess, res, err);
}

static long posts_of(const char *title) {
  char cap[256];
  snprintf(cap, sizeof cap, "%s\n\n#ai #news", title);
  return fx_stat("posts_by_caption", cap);
}

/* check: every bad key is named. */
static void expect_bad(const char *json, const char *field) {
  cJSON *o = cJSON_Parse(json);
  ASSERT_NOT_NULL(o);
  ain_err_t err = {0};
  ASSERT_EQ(ain_channel_instagram.check("ig", o, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, field);
  cJSON_Delete(o);
}

TEST(config_errors_name_the_key) {
  const char *ok = "{\"kind\":\"instagram\",\"ig_user_id\":\"1784\",\"access_token_secret\":\"t\"}";
  cJSON *o = cJSON_Parse(ok);
  ain_err_t err = {0};
  ASSERT_OK(ain_channel_instagram.check("ig", o, &err));
  cJSON_Delete(o);
  expect_bad("{\"kind\":\"instagram\",\"access_token_secret\":\"t\"}", "channels.ig.ig_user_id");
  expect_bad("{\"ig_user_id\":\"12ab\",\"access_token_secret\":\"t\"}", "channels.ig.ig_user_id");
  expect_bad("{\"ig_user_id\":\"1\"}", "channels.ig.access_token_secret");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"a b\"}",
             "channels.ig.access_token_secret");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"frobnicate\":1}",
             "channels.ig.frobnicate");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"upload\":\"ftp\"}",
             "channels.ig.upload");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"api_url\":\"graph\"}",
             "channels.ig.api_url");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"api_version\":\"21\"}",
             "channels.ig.api_version");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"poll_interval_ms\":\"5\"}",
             "channels.ig.poll_interval_ms");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"share_to_feed\":1}",
             "channels.ig.share_to_feed");
  expect_bad("{\"ig_user_id\":\"1\",\"access_token_secret\":\"t\",\"media_url_ttl_s\":5}",
             "channels.ig.media_url_ttl_s");

  /* open: a URL upload from a store that cannot presign needs media_base_url; a missing secret
   * is named, its value never. */
  fx_t f;
  fx_init(&f, "config");
  cJSON_AddStringToObject(f.opts, "upload", "url");
  ASSERT_EQ(fx_open(&f, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "channels.ig.media_base_url");
  cJSON_ReplaceItemInObject(f.opts, "upload", cJSON_CreateString("resumable"));
  unsetenv("AIN_SECRET_IG_TOKEN");
  ASSERT_EQ(fx_open(&f, &err), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, "channels.ig.access_token_secret");
  fx_done(&f);
}

TEST(resumable_reel_is_posted_once) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Resumable one");
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(res.already, 0);
  ASSERT_TRUE(strlen(res.post_id) > 0);
  ASSERT_STR_CONTAINS(res.url, "https://www.instagram.com/reel/");
  ASSERT_EQ(fx_stat("uploads", NULL), 1);
  ASSERT_EQ(fx_stat("containers", NULL), 1);
  ASSERT_EQ(posts_of("Resumable one"), 1);
  ASSERT_STR_CONTAINS(s.saved, res.post_id);
  ASSERT_TRUE(strstr(s.saved, TOKEN) == NULL);

  /* Again with the saved session: done, without a single call. */
  long calls = fx_stat("requests", NULL);
  ain_channel_result_t again;
  ASSERT_OK(publish(&f, &s, &again, &err));
  ASSERT_EQ(again.already, 1);
  ASSERT_STR_EQ(again.post_id, res.post_id);
  ASSERT_STR_EQ(again.url, res.url);
  ASSERT_EQ(fx_stat("requests", NULL), calls);
  ASSERT_EQ(posts_of("Resumable one"), 1);

  /* Insights of the post; a forged insights reply is an error, not zeros. */
  ain_channel_post_metrics_t m;
  ASSERT_OK(ain_channel_instagram.metrics(f.ch, res.post_id, &m, &err));
  ASSERT_EQ(m.views, 120);
  ASSERT_EQ(m.likes, 3);
  ASSERT_EQ(m.comments, 1);
  ASSERT_EQ(m.shares, 2);
  fx_control("{\"fault\":\"forged\",\"route\":\"insights\"}");
  ASSERT_EQ(ain_channel_instagram.metrics(f.ch, res.post_id, &m, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "\"data\"");
  ASSERT_EQ(ain_channel_instagram.metrics(f.ch, "../x", &m, &err), AIN_EINVAL);
  ASSERT_NULL(ain_channel_instagram.unpublish); /* Reels: a manual takedown */
  fx_done(&f);
}

TEST(url_upload_is_fetched_by_the_platform) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "By URL");
  cJSON_AddStringToObject(f.opts, "upload", "url");
  cJSON_AddStringToObject(f.opts, "media_base_url", media_base(f.root, ""));
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("uploads", NULL), 0);
  ASSERT_EQ(posts_of("By URL"), 1);
  fx_done(&f);

  /* A URL that is not the video: the container ends ERROR, nothing is posted. */
  fx_session_t s2 = {0};
  fx_init(&f, "Bad URL");
  cJSON_AddStringToObject(f.opts, "upload", "url");
  cJSON_AddStringToObject(f.opts, "media_base_url", media_base(f.root, "/nothing-here"));
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_EQ(publish(&f, &s2, &res, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "ERROR");
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_done(&f);
}

TEST(transient_faults_are_retried) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Faults");
  cJSON_ReplaceItemInObject(f.opts, "timeout_ms", cJSON_CreateNumber(3000));
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"500\",\"route\":\"media\",\"count\":2}");
  fx_control("{\"fault\":\"close\",\"route\":\"rupload\"}");
  fx_control("{\"fault\":\"slow\",\"route\":\"status\",\"value\":6000}"); /* past timeout_ms */
  fx_control("{\"fault\":\"close\",\"route\":\"status\"}");
  fx_control("{\"fault\":\"500\",\"route\":\"permalink\"}");
  fx_control("{\"fault\":\"polls\",\"value\":3}");
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_STR_CONTAINS(res.url, "https://www.instagram.com/reel/");
  ASSERT_EQ(posts_of("Faults"), 1);
  /* Two failed container creations were not answered: at most 3 containers, one post. */
  ASSERT_LE(fx_stat("containers", NULL), 3);
  fx_done(&f);
}

TEST(retries_run_out_with_a_clear_error) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Down");
  cJSON_AddNumberToObject(f.opts, "max_retries", 1);
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"500\",\"route\":\"media\",\"count\":2}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "instagram POST /{ig-user-id}/media: HTTP 500 (2 tries)");
  fx_control("{\"fault\":\"close\",\"route\":\"rupload\",\"count\":2}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "no answer");
  ASSERT_STR_CONTAINS(s.saved, "\"uploaded\":false");
  ASSERT_TRUE(strstr(err.msg, TOKEN) == NULL);
  ASSERT_OK(publish(&f, &s, &res, &err)); /* the same container, uploaded this time */
  ASSERT_EQ(fx_stat("containers", NULL), 1);
  ASSERT_EQ(posts_of("Down"), 1);
  fx_done(&f);
}

TEST(lost_publish_answer_is_settled_by_the_container) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Lost answer");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"close_after\",\"route\":\"publish\"}");
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_TRUE(strlen(res.post_id) > 0);
  ASSERT_EQ(fx_stat("publish_calls", NULL), 1); /* never repeated blindly */
  ASSERT_EQ(posts_of("Lost answer"), 1);
  fx_done(&f);
}

TEST(expired_token_is_refreshed_once) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Refresh");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"expire\"}");
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("refreshes", NULL), 1);
  ASSERT_EQ(posts_of("Refresh"), 1);
  /* Expired again (the refreshed token): refreshed again, still one refresh per expiry. */
  fx_control("{\"fault\":\"expire\"}");
  ain_channel_post_metrics_t m;
  ASSERT_OK(ain_channel_instagram.metrics(f.ch, res.post_id, &m, &err));
  ASSERT_EQ(fx_stat("refreshes", NULL), 2);
  fx_done(&f);

  /* Revoked: the refresh fails, AIN_ECREDS, and no token in the message. */
  fx_session_t s2 = {0};
  fx_init(&f, "Revoked");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"revoke\"}");
  ASSERT_EQ(publish(&f, &s2, &res, &err), AIN_ECREDS);
  ASSERT_STR_CONTAINS(err.msg, "refresh");
  ASSERT_TRUE(strstr(err.msg, "IGQVJ") == NULL);
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_done(&f);

  /* A wrong token: the refresh is refused too. */
  fx_init(&f, "Wrong");
  setenv("AIN_SECRET_IG_TOKEN", "not-the-token", 1);
  ASSERT_OK(fx_open(&f, &err));
  fx_session_t s3 = {0};
  ASSERT_EQ(publish(&f, &s3, &res, &err), AIN_ECREDS);
  ASSERT_TRUE(strstr(err.msg, "not-the-token") == NULL);
  fx_done(&f);
}

TEST(rate_limits_park_with_retry_after) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Limited");
  cJSON_AddNumberToObject(f.opts, "rate_limit_ms", 45000);
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"429\",\"route\":\"media\",\"value\":7}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EBUSY);
  ASSERT_EQ(res.retry_after_ms, 7000);
  /* Code 4 without Retry-After (Meta's usual answer): the configured wait. After the container
   * was made, so the next attempt resumes it. */
  fx_control("{\"fault\":\"code4\",\"route\":\"rupload\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EBUSY);
  ASSERT_EQ(res.retry_after_ms, 45000);
  ASSERT_STR_CONTAINS(s.saved, "container_id");
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("containers", NULL), 1);
  ASSERT_EQ(posts_of("Limited"), 1);
  fx_done(&f);
}

TEST(forged_replies_are_errors) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Forged");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"forged\",\"route\":\"media\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "container \"id\"");
  fx_control("{\"fault\":\"forged\",\"route\":\"status\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "status_code");
  /* A forged media_publish answer may hide a real post: the container says it landed. */
  fx_control("{\"fault\":\"forged\",\"route\":\"publish\"}");
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("publish_calls", NULL), 1);
  ASSERT_EQ(posts_of("Forged"), 1);
  /* A saved session that is not ours. */
  fx_session_t bad = {0};
  snprintf(bad.saved, sizeof bad.saved, "{\"container_id\":\"../../x\"}");
  ASSERT_EQ(publish(&f, &bad, &res, &err), AIN_EINVAL);
  fx_done(&f);
}

TEST(container_error_starts_over_without_a_second_post) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Status error");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"status_error\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "ERROR");
  ASSERT_TRUE(strstr(s.saved, "container_id") == NULL); /* forgotten */
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("containers", NULL), 2);
  ASSERT_EQ(posts_of("Status error"), 1);
  fx_done(&f);
}

TEST(poll_timeout_resumes_the_same_container) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Slow processing");
  cJSON_AddNumberToObject(f.opts, "poll_timeout_ms", 300);
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"polls\",\"value\":1000000}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_ETIMEOUT);
  ASSERT_STR_CONTAINS(err.msg, "channels.ig.poll_timeout_ms");
  fx_control("{\"fault\":\"polls\",\"value\":0}");
  fx_control("{\"fault\":\"status_error\"}"); /* affects only new containers */
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(fx_stat("containers", NULL), 1);
  ASSERT_EQ(fx_stat("uploads", NULL), 1);
  ASSERT_EQ(posts_of("Slow processing"), 1);
  fx_done(&f);
}

/* The child publishes with a session that _exits at save number `at`; the parent resumes with a
 * new channel from the file the child's saves left. */
static void crash_then_resume(const char *title, int at, int after_write, long uploads_expected) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, title);
  snprintf(s.file, sizeof s.file, "%s/session.json", ain_test_tmpdir());
  pid_t pid = fork();
  if (pid == 0) {
    s.crash_at = at;
    s.crash_after_write = after_write;
    ASSERT_OK(fx_open(&f, &err));
    publish(&f, &s, &res, &err);
    _exit(0); /* not reached when the crash happened */
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 9);
  fx_session_reload(&s);
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_TRUE(strlen(res.post_id) > 0);
  ASSERT_STR_CONTAINS(res.url, "https://www.instagram.com/reel/");
  ASSERT_EQ(posts_of(title), 1);
  ASSERT_EQ(fx_stat("uploads", NULL), uploads_expected);
  fx_done(&f);
}

TEST(crash_after_container_saved) {
  crash_then_resume("Crash container", 1, 1, 1);
}

TEST(crash_after_upload_saved) {
  crash_then_resume("Crash upload", 2, 1, 1);
}

TEST(crash_after_publish_before_its_save) {
  /* The post exists, its id was never recorded: found by caption, not posted again. */
  crash_then_resume("Crash publish", 3, 0, 1);
}

TEST(crash_after_publish_saved) {
  crash_then_resume("Crash saved", 3, 1, 1);
}

TEST(fenced_save_stops_at_once) {
  fx_t f;
  fx_session_t s = {.fail_code = AIN_ELEASE};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "Fenced");
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_ELEASE);
  ASSERT_EQ(fx_stat("containers", NULL), 1);
  ASSERT_EQ(fx_stat("uploads", NULL), 0);
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_done(&f);
}

int main(int argc, char **argv) {
  static const ain_test_t tests[] = {TEST_ENTRY(config_errors_name_the_key),
                                     TEST_ENTRY(resumable_reel_is_posted_once),
                                     TEST_ENTRY(url_upload_is_fetched_by_the_platform),
                                     TEST_ENTRY(transient_faults_are_retried),
                                     TEST_ENTRY(retries_run_out_with_a_clear_error),
                                     TEST_ENTRY(lost_publish_answer_is_settled_by_the_container),
                                     TEST_ENTRY(expired_token_is_refreshed_once),
                                     TEST_ENTRY(rate_limits_park_with_retry_after),
                                     TEST_ENTRY(forged_replies_are_errors),
                                     TEST_ENTRY(container_error_starts_over_without_a_second_post),
                                     TEST_ENTRY(poll_timeout_resumes_the_same_container),
                                     TEST_ENTRY(crash_after_container_saved),
                                     TEST_ENTRY(crash_after_upload_saved),
                                     TEST_ENTRY(crash_after_publish_before_its_save),
                                     TEST_ENTRY(crash_after_publish_saved),
                                     TEST_ENTRY(fenced_save_stops_at_once),
                                     {NULL, NULL}};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *args[] = {"--token", TOKEN, "--user-id", USER, "--files", NULL, NULL};
  /* The media host serves the tests' object stores: each test's store is under its tmpdir,
   * which lives under $TMPDIR (or /tmp). */
  const char *tmp = getenv("TMPDIR");
  snprintf(g_files, sizeof g_files, "%s", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  args[5] = g_files;
  char work[1100];
  snprintf(work, sizeof work, "%s/ain-ig-XXXXXX", g_files);
  if (mkdtemp(work) == NULL || fx_make_mp4(work) != 0 ||
      fx_server_start("tests/servers/instagram.js", args) != 0) {
    return 1;
  }
  int rc = ain_test_run(tests, argc, argv);
  fx_server_stop();
  unlink(fx_mp4);
  rmdir(work);
  return rc;
}
