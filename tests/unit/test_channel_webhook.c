/* The "webhook" channel kind (engine/publish/webhook.c) against tests/servers/webhook_receiver.js,
 * which verifies every JWT with its own HS256 code: config errors naming the key; one post per
 * video with the metadata and a media URL the receiver fetches; retries on 5xx, dropped
 * connections and slow answers; 429 -> AIN_EBUSY with Retry-After; refused JWTs (wrong key,
 * wrong audience) -> AIN_ECREDS; forged replies; a crash between the receiver's post and the
 * save, resumed by a new channel; unpublish by DELETE, and without a delete_url.
 * Relies on: chan_fixture.h, node, ffmpeg. */
#include <curl/curl.h>

#include "chan_fixture.h"

extern const ain_channel_kind_t ain_channel_webhook;

#define KEY "webhook-test-key-0123456789-abcdefghij"

static char g_files[1024];

typedef struct {
  char root[1024], key[AIN_OBJSTORE_KEY_MAX], base[2048];
  ain_objstore_t *os;
  ain_publish_file_t file;
  ain_publish_req_t req;
  cJSON *opts;
  ain_channel_t *ch;
} fx_t;

static void fx_init(fx_t *f, const char *video_id) {
  memset(f, 0, sizeof *f);
  fx_reset();
  setenv("AIN_SECRET_HOOK_KEY", KEY, 1);
  snprintf(f->root, sizeof f->root, "%s/objects", ain_test_tmpdir());
  fx_store_mp4(f->root, &f->os, f->key, sizeof f->key);
  snprintf(f->base, sizeof f->base, "%s%s", fx_url("/__files"), f->root + strlen(g_files));
  f->file = (ain_publish_file_t){.role = "video", .key = f->key, .name = "v.mp4"};
  f->req = (ain_publish_req_t){.video_id = video_id,
                               .idempotency_key = "key-0123456789",
                               .files = &f->file,
                               .nfiles = 1,
                               .sidecar_json = "{\"title\":\"Hello\",\"hashtags\":[\"a\"]}",
                               .objects = f->os};
  f->opts = cJSON_CreateObject();
  cJSON_AddStringToObject(f->opts, "kind", "webhook");
  cJSON_AddStringToObject(f->opts, "url", fx_url("/hook"));
  cJSON_AddStringToObject(f->opts, "jwt_secret", "hook_key");
  cJSON_AddStringToObject(f->opts, "media_base_url", f->base);
  cJSON_AddNumberToObject(f->opts, "retry_base_ms", 5);
  cJSON_AddNumberToObject(f->opts, "timeout_ms", 3000);
}

static int fx_open(fx_t *f, ain_err_t *err) {
  ain_channel_open_t o = {.name = "hook", .opts = f->opts, .objects = f->os};
  return ain_channel_webhook.open(&o, &f->ch, err);
}

static void fx_close_ch(fx_t *f) {
  if (f->ch != NULL) {
    ain_channel_webhook.close(f->ch);
    f->ch = NULL;
  }
}

static void fx_done(fx_t *f) {
  fx_close_ch(f);
  cJSON_Delete(f->opts);
  ain_objstore_close(f->os);
}

static int publish(fx_t *f, fx_session_t *s, ain_channel_result_t *res, ain_err_t *err) {
  ain_channel_session_t sess = fx_session(s);
  return ain_channel_webhook.publish(f->ch, &f->req, &sess, res, err);
}

static void expect_bad(const char *json, const char *field) {
  cJSON *o = cJSON_Parse(json);
  ASSERT_NOT_NULL(o);
  ain_err_t err = {0};
  ASSERT_EQ(ain_channel_webhook.check("hook", o, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, field);
  cJSON_Delete(o);
}

TEST(config_errors_name_the_key) {
  cJSON *o = cJSON_Parse("{\"kind\":\"webhook\",\"url\":\"https://x.example/h\","
                         "\"jwt_secret\":\"k\",\"delete_url\":\"https://x.example/p/{post_id}\"}");
  ain_err_t err = {0};
  ASSERT_OK(ain_channel_webhook.check("hook", o, &err));
  cJSON_Delete(o);
  expect_bad("{\"jwt_secret\":\"k\"}", "channels.hook.url");
  expect_bad("{\"url\":\"ftp://x\",\"jwt_secret\":\"k\"}", "channels.hook.url");
  expect_bad("{\"url\":\"https://x.example/h\"}", "channels.hook.jwt_secret");
  expect_bad("{\"url\":\"https://x.example/h\",\"jwt_secret\":\"k\",\"delete_url\":"
             "\"https://x.example/p\"}",
             "channels.hook.delete_url");
  expect_bad("{\"url\":\"https://x.example/h\",\"jwt_secret\":\"k\",\"jwt_ttl_s\":301}",
             "channels.hook.jwt_ttl_s");
  expect_bad("{\"url\":\"https://x.example/h\",\"jwt_secret\":\"k\",\"secret\":\"v\"}",
             "channels.hook.secret");
  expect_bad("{\"url\":\"https://x.example/h\",\"jwt_secret\":\"k\",\"max_retries\":-1}",
             "channels.hook.max_retries");

  fx_t f;
  fx_init(&f, "vid-config");
  setenv("AIN_SECRET_HOOK_KEY", "short", 1);
  ASSERT_EQ(fx_open(&f, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "channels.hook.jwt_secret");
  ASSERT_TRUE(strstr(err.msg, "short") == NULL); /* the name, never the value */
  setenv("AIN_SECRET_HOOK_KEY", KEY, 1);
  cJSON_DeleteItemFromObject(f.opts, "media_base_url");
  ASSERT_EQ(fx_open(&f, &err), AIN_ECONFIG); /* a dir store cannot presign */
  ASSERT_STR_CONTAINS(err.msg, "channels.hook.media_base_url");
  fx_done(&f);
}

TEST(one_post_per_video) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "vid-once");
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_STR_EQ(res.post_id, "post-1");
  ASSERT_STR_EQ(res.url, "https://team.example/posts/post-1");
  ASSERT_EQ(res.already, 0);
  ASSERT_STR_CONTAINS(s.saved, "post-1");
  ASSERT_EQ(fx_stat("by_video", "vid-once"), 1);
  ASSERT_EQ(fx_stat("rejected", NULL), 0);

  /* The saved session: nothing is sent. */
  long calls = fx_stat("requests", NULL);
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_EQ(res.already, 1);
  ASSERT_EQ(fx_stat("requests", NULL), calls);
  /* A lost save (fresh session): the receiver's idempotency answers with the same post. */
  fx_session_t lost = {0};
  ASSERT_OK(publish(&f, &lost, &res, &err));
  ASSERT_STR_EQ(res.post_id, "post-1");
  ASSERT_EQ(res.already, 1);
  ASSERT_EQ(fx_stat("posts", NULL), 1);
  ASSERT_NULL(ain_channel_webhook.metrics);
  fx_done(&f);
}

TEST(transient_faults_are_retried) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "vid-faults");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"500\"}");
  fx_control("{\"fault\":\"close\"}");
  fx_control("{\"fault\":\"503\"}");
  fx_control("{\"fault\":\"slow\",\"value\":6000}"); /* past timeout_ms */
  fx_control("{\"fault\":\"close_after\"}");         /* posted, answer lost */
  ASSERT_OK(publish(&f, &s, &res, &err));
  ASSERT_STR_EQ(res.post_id, "post-1");
  ASSERT_EQ(fx_stat("posts", NULL), 1);
  /* Six tries at least (one more if a loaded machine let a plain request time out). */
  ASSERT_GE(fx_stat("by_key", "key-0123456789"), 6);
  fx_done(&f);

  /* Past max_retries: an error that says how many tries, and still no post. */
  fx_session_t s2 = {0};
  fx_init(&f, "vid-down");
  cJSON_AddNumberToObject(f.opts, "max_retries", 2);
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"500\",\"count\":3}");
  ASSERT_EQ(publish(&f, &s2, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "HTTP 500 (3 tries)");
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_done(&f);
}

TEST(rate_limit_and_refusals) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "vid-refused");
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"429\",\"value\":3}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EBUSY);
  ASSERT_EQ(res.retry_after_ms, 3000);
  fx_control("{\"fault\":\"401\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_ECREDS);
  ASSERT_STR_CONTAINS(err.msg, "token refused");
  fx_control("{\"fault\":\"forged\"}");
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "\"post_id\"");
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_close_ch(&f);

  /* A key the receiver does not hold: its HS256 check refuses the signature. */
  setenv("AIN_SECRET_HOOK_KEY", "another-key-of-enough-length-0123456789", 1);
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_ECREDS);
  ASSERT_STR_CONTAINS(err.msg, "signature");
  ASSERT_TRUE(strstr(err.msg, "another-key") == NULL);
  fx_close_ch(&f);

  /* Another audience than the receiver's. */
  setenv("AIN_SECRET_HOOK_KEY", KEY, 1);
  cJSON_AddStringToObject(f.opts, "audience", "elsewhere");
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_ECREDS);
  ASSERT_STR_CONTAINS(err.msg, "aud");
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  /* A media URL the receiver cannot fetch: its 422 is an error naming the video. */
  cJSON_DeleteItemFromObject(f.opts, "audience");
  char base[2100];
  snprintf(base, sizeof base, "%s/missing", f.base);
  cJSON_ReplaceItemInObject(f.opts, "media_base_url", cJSON_CreateString(base));
  fx_close_ch(&f);
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_EQ(publish(&f, &s, &res, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "HTTP 422");
  ASSERT_EQ(fx_stat("posts", NULL), 0);
  fx_done(&f);
}

TEST(crash_before_the_save_posts_once) {
  for (int after_write = 0; after_write <= 1; after_write++) {
    fx_t f;
    fx_session_t s = {0};
    ain_channel_result_t res;
    ain_err_t err = {0};
    fx_init(&f, "vid-crash");
    snprintf(s.file, sizeof s.file, "%s/session-%d.json", ain_test_tmpdir(), after_write);
    pid_t pid = fork();
    if (pid == 0) {
      s.crash_at = 1;
      s.crash_after_write = after_write;
      ASSERT_OK(fx_open(&f, &err));
      publish(&f, &s, &res, &err);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 9);
    fx_session_reload(&s);
    ASSERT_EQ(s.saved[0] != '\0', after_write);
    long calls = fx_stat("requests", NULL);
    ASSERT_OK(fx_open(&f, &err));
    ASSERT_OK(publish(&f, &s, &res, &err));
    ASSERT_STR_EQ(res.post_id, "post-1");
    ASSERT_EQ(res.already, 1);
    ASSERT_EQ(fx_stat("requests", NULL), calls + (after_write ? 0 : 1));
    ASSERT_EQ(fx_stat("by_video", "vid-crash"), 1);
    fx_done(&f);
  }
}

TEST(unpublish_by_delete) {
  fx_t f;
  fx_session_t s = {0};
  ain_channel_result_t res;
  ain_err_t err = {0};
  fx_init(&f, "vid-delete");
  ASSERT_OK(fx_open(&f, &err));
  ASSERT_OK(publish(&f, &s, &res, &err));
  /* No delete_url: the documented "manual takedown" answer. */
  ASSERT_EQ(ain_channel_webhook.unpublish(f.ch, res.post_id, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "channels.hook.delete_url");
  ASSERT_STR_CONTAINS(err.msg, "manual takedown");
  fx_close_ch(&f);
  char del[600];
  snprintf(del, sizeof del, "%s/{post_id}", fx_url("/posts"));
  cJSON_AddStringToObject(f.opts, "delete_url", del);
  ASSERT_OK(fx_open(&f, &err));
  fx_control("{\"fault\":\"503\",\"route\":\"delete\"}");
  ASSERT_OK(ain_channel_webhook.unpublish(f.ch, res.post_id, &err));
  ASSERT_EQ(fx_stat("deletes", NULL), 1);
  ASSERT_OK(ain_channel_webhook.unpublish(f.ch, res.post_id, &err)); /* 404: already gone */
  ASSERT_EQ(fx_stat("deletes", NULL), 1);
  fx_control("{\"fault\":\"429\",\"route\":\"delete\"}");
  ASSERT_EQ(ain_channel_webhook.unpublish(f.ch, res.post_id, &err), AIN_EBUSY);
  ASSERT_EQ(ain_channel_webhook.unpublish(f.ch, "", &err), AIN_EINVAL);
  fx_done(&f);
}

int main(int argc, char **argv) {
  static const ain_test_t tests[] = {TEST_ENTRY(config_errors_name_the_key),
                                     TEST_ENTRY(one_post_per_video),
                                     TEST_ENTRY(transient_faults_are_retried),
                                     TEST_ENTRY(rate_limit_and_refusals),
                                     TEST_ENTRY(crash_before_the_save_posts_once),
                                     TEST_ENTRY(unpublish_by_delete),
                                     {NULL, NULL}};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *tmp = getenv("TMPDIR");
  snprintf(g_files, sizeof g_files, "%s", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  const char *args[] = {"--secret", KEY, "--audience", "hook", "--files", g_files, NULL};
  char work[1100];
  snprintf(work, sizeof work, "%s/ain-hook-XXXXXX", g_files);
  if (mkdtemp(work) == NULL || fx_make_mp4(work) != 0 ||
      fx_server_start("tests/servers/webhook_receiver.js", args) != 0) {
    return 1;
  }
  int rc = ain_test_run(tests, argc, argv);
  fx_server_stop();
  unlink(fx_mp4);
  rmdir(work);
  return rc;
}
