/* The outbox channel (engine/publish/): an atomic, idempotent publication per key, refusals of
 * bad requests, and an unwritable outbox reported with the path and the OS error, leaving nothing
 * behind; the outbox kind's config check. Relies on: publish/kinds.h, objstore, the C harness. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "publish/kinds.h"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (d == NULL) {
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0);
  }
  closedir(d);
  return n;
}

typedef struct {
  char root[1024], objects[1100], src[1100], key[AIN_OBJSTORE_KEY_MAX];
  ain_objstore_t *os;
  ain_publish_file_t file;
  ain_publish_req_t req;
} fx_t;

static void fx_open(fx_t *f) {
  ain_err_t err = {0};
  snprintf(f->root, sizeof f->root, "%s", ain_test_tmpdir());
  snprintf(f->objects, sizeof f->objects, "%s/objects", f->root);
  snprintf(f->src, sizeof f->src, "%s/v.mp4", f->root);
  write_file(f->src, "not really a video");
  ASSERT_OK(ain_objstore_dir_open(f->objects, &f->os, &err));
  ASSERT_OK(ain_objstore_put_file(f->os, f->src, "mp4", f->key, sizeof f->key, &err));
  f->file = (ain_publish_file_t){.role = "video", .key = f->key, .name = "vid1.mp4"};
  f->req = (ain_publish_req_t){.video_id = "vid1",
                               .idempotency_key = "0123456789abcdef",
                               .files = &f->file,
                               .nfiles = 1,
                               .sidecar_json = "{\"title\":\"t\"}",
                               .objects = f->os};
}

/* Opens the outbox kind on dir as config would ({"kind":"outbox","dir":dir}). */
static int open_outbox(const char *dir, ain_channel_t **ch, cJSON **opts, ain_err_t *err) {
  *opts = cJSON_CreateObject();
  cJSON_AddStringToObject(*opts, "kind", "outbox");
  cJSON_AddStringToObject(*opts, "dir", dir);
  ain_channel_open_t o = {.name = "outbox", .opts = *opts};
  return ain_channel_outbox.open(&o, ch, err);
}

static int publish(ain_channel_t *ch, const ain_publish_req_t *r, char *loc, size_t cap,
                   int *already, ain_err_t *err) {
  ain_channel_result_t res;
  int rc = ain_channel_publish(ch, r, NULL, &res, err);
  snprintf(loc, cap, "%s", res.url);
  *already = res.already;
  return rc;
}

TEST(outbox_publishes_once_per_key) {
  fx_t f;
  fx_open(&f);
  char dir[1200], loc[AIN_PUBLISH_LOCATION_MAX], path[1300];
  snprintf(dir, sizeof dir, "%s/out/box", f.root); /* created on first publish */
  ain_channel_t *ch = NULL;
  cJSON *opts = NULL;
  ain_err_t err = {0};
  ASSERT_OK(open_outbox(dir, &ch, &opts, &err));
  int already = -1;
  ASSERT_OK(publish(ch, &f.req, loc, sizeof loc, &already, &err));
  ASSERT_EQ(already, 0);
  snprintf(path, sizeof path, "%s/0123456789abcdef", dir);
  ASSERT_STR_EQ(loc, path);
  snprintf(path, sizeof path, "%s/0123456789abcdef/vid1.mp4", dir);
  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ((long)st.st_size, (long)strlen("not really a video"));
  snprintf(path, sizeof path, "%s/0123456789abcdef/vid1.json", dir);
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(count_entries(dir), 1); /* no temporary folder left */
  /* Again: found, nothing written. */
  ASSERT_OK(publish(ch, &f.req, loc, sizeof loc, &already, &err));
  ASSERT_EQ(already, 1);
  ASSERT_EQ(count_entries(dir), 1);
  snprintf(path, sizeof path, "%s/0123456789abcdef", dir);
  ASSERT_EQ(count_entries(path), 2);
  ain_channel_close(ch);
  cJSON_Delete(opts);
  ain_objstore_close(f.os);
}

TEST(outbox_refuses_bad_requests) {
  fx_t f;
  fx_open(&f);
  char dir[1200], loc[AIN_PUBLISH_LOCATION_MAX];
  snprintf(dir, sizeof dir, "%s/out", f.root);
  ain_channel_t *ch = NULL;
  cJSON *opts = NULL;
  ain_err_t err = {0};
  int already;
  ASSERT_OK(open_outbox(dir, &ch, &opts, &err));
  ain_publish_req_t r = f.req;
  r.idempotency_key = "../../etc";
  ASSERT_EQ(publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "idempotency_key");
  r = f.req;
  ain_publish_file_t bad = f.file;
  bad.name = "../x.mp4";
  r.files = &bad;
  ASSERT_EQ(publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  r = f.req;
  r.sidecar_json = "[1]";
  ASSERT_EQ(publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  r = f.req;
  bad = f.file;
  bad.key = "sha256/00/0000.mp4"; /* valid key, no such object: nothing published */
  r.files = &bad;
  ASSERT_EQ(publish(ch, &r, loc, sizeof loc, &already, &err), AIN_ENOTFOUND);
  ASSERT_EQ(count_entries(dir), 0);
  ain_channel_close(ch);
  cJSON_Delete(opts);
  ASSERT_EQ(open_outbox("", &ch, &opts, &err), AIN_ECONFIG);
  cJSON_Delete(opts);
  ain_objstore_close(f.os);
}

TEST(unwritable_outbox_fails_clearly) {
  fx_t f;
  fx_open(&f);
  char file[1200], dir[1300], loc[AIN_PUBLISH_LOCATION_MAX];
  snprintf(file, sizeof file, "%s/plain-file", f.root);
  write_file(file, "x");
  snprintf(dir, sizeof dir, "%s/outbox", file); /* a folder under a file: ENOTDIR, even as root */
  ain_channel_t *ch = NULL;
  cJSON *opts = NULL;
  ain_err_t err = {0};
  int already;
  ASSERT_OK(open_outbox(dir, &ch, &opts, &err));
  ASSERT_EQ(publish(ch, &f.req, loc, sizeof loc, &already, &err), AIN_EIO);
  ASSERT_STR_CONTAINS(err.msg, "plain-file");
  ASSERT_STR_CONTAINS(err.msg, "Not a directory");
  ain_channel_close(ch);
  cJSON_Delete(opts);
  ain_objstore_close(f.os);
}

/* The kind's check names channels.<name>.<key>; the shared keys pass through. */
TEST(outbox_check_names_the_key) {
  ain_err_t err = {0};
  cJSON *o = cJSON_Parse("{\"kind\":\"outbox\",\"dir\":\"x\",\"max_duration_ms\":1000,"
                         "\"safe_area\":{\"top\":1}}");
  ASSERT_OK(ain_channel_outbox.check("box", o, &err));
  cJSON_AddNumberToObject(o, "speed", 3);
  ASSERT_EQ(ain_channel_outbox.check("box", o, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "channels.box.speed");
  cJSON_DeleteItemFromObject(o, "speed");
  cJSON_ReplaceItemInObject(o, "dir", cJSON_CreateNumber(1));
  ASSERT_EQ(ain_channel_outbox.check("box", o, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "channels.box.dir");
  cJSON_DeleteItemFromObject(o, "dir");
  ASSERT_EQ(ain_channel_outbox.check("box", o, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "required");
  cJSON_Delete(o);
  ASSERT_NOT_NULL(ain_channel_kind("outbox"));
  ASSERT_NULL(ain_channel_kind("myspace"));
}

TEST_MAIN(TEST_ENTRY(outbox_check_names_the_key), TEST_ENTRY(outbox_publishes_once_per_key), TEST_ENTRY(outbox_refuses_bad_requests),
          TEST_ENTRY(unwritable_outbox_fails_clearly))
