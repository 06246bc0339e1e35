/* The outbox channel (engine/publish/): an atomic, idempotent publication per key, refusals of
 * bad requests, and an unwritable outbox reported with the path and the OS error, leaving nothing
 * behind. Relies on: publish/publish.h, objstore, the C harness. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "publish/publish.h"

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

TEST(outbox_publishes_once_per_key) {
  fx_t f;
  fx_open(&f);
  char dir[1200], loc[AIN_PUBLISH_LOCATION_MAX], path[1300];
  snprintf(dir, sizeof dir, "%s/out/box", f.root); /* created on first publish */
  ain_publish_channel_t *ch = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_publish_outbox_open("outbox", dir, &ch, &err));
  int already = -1;
  ASSERT_OK(ain_publish(ch, &f.req, loc, sizeof loc, &already, &err));
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
  ASSERT_OK(ain_publish(ch, &f.req, loc, sizeof loc, &already, &err));
  ASSERT_EQ(already, 1);
  ASSERT_EQ(count_entries(dir), 1);
  snprintf(path, sizeof path, "%s/0123456789abcdef", dir);
  ASSERT_EQ(count_entries(path), 2);
  ain_publish_close(ch);
  ain_objstore_close(f.os);
}

TEST(outbox_refuses_bad_requests) {
  fx_t f;
  fx_open(&f);
  char dir[1200], loc[AIN_PUBLISH_LOCATION_MAX];
  snprintf(dir, sizeof dir, "%s/out", f.root);
  ain_publish_channel_t *ch = NULL;
  ain_err_t err = {0};
  int already;
  ASSERT_OK(ain_publish_outbox_open("outbox", dir, &ch, &err));
  ain_publish_req_t r = f.req;
  r.idempotency_key = "../../etc";
  ASSERT_EQ(ain_publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "idempotency_key");
  r = f.req;
  ain_publish_file_t bad = f.file;
  bad.name = "../x.mp4";
  r.files = &bad;
  ASSERT_EQ(ain_publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  r = f.req;
  r.sidecar_json = "[1]";
  ASSERT_EQ(ain_publish(ch, &r, loc, sizeof loc, &already, &err), AIN_EINVAL);
  r = f.req;
  bad = f.file;
  bad.key = "sha256/00/0000.mp4"; /* valid key, no such object: nothing published */
  r.files = &bad;
  ASSERT_EQ(ain_publish(ch, &r, loc, sizeof loc, &already, &err), AIN_ENOTFOUND);
  ASSERT_EQ(count_entries(dir), 0);
  ain_publish_close(ch);
  ASSERT_EQ(ain_publish_outbox_open("outbox", "", &ch, &err), AIN_ECONFIG);
  ain_objstore_close(f.os);
}

TEST(unwritable_outbox_fails_clearly) {
  fx_t f;
  fx_open(&f);
  char file[1200], dir[1300], loc[AIN_PUBLISH_LOCATION_MAX];
  snprintf(file, sizeof file, "%s/plain-file", f.root);
  write_file(file, "x");
  snprintf(dir, sizeof dir, "%s/outbox", file); /* a folder under a file: ENOTDIR, even as root */
  ain_publish_channel_t *ch = NULL;
  ain_err_t err = {0};
  int already;
  ASSERT_OK(ain_publish_outbox_open("outbox", dir, &ch, &err));
  ASSERT_EQ(ain_publish(ch, &f.req, loc, sizeof loc, &already, &err), AIN_EIO);
  ASSERT_STR_CONTAINS(err.msg, "plain-file");
  ASSERT_STR_CONTAINS(err.msg, "Not a directory");
  ain_publish_close(ch);
  ain_objstore_close(f.os);
}

TEST_MAIN(TEST_ENTRY(outbox_publishes_once_per_key), TEST_ENTRY(outbox_refuses_bad_requests),
          TEST_ENTRY(unwritable_outbox_fails_clearly))
