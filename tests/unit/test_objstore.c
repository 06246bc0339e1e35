/* Tests for engine/objstore: key validation (traversal, absolute paths, charset, NUL, length) and
 * the local-directory backend (put/get/exists/verify/delete, dedupe, corruption detected, stat and
 * ranged reads). */
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "harness.h"
#include "objstore/objstore.h"

static const char *tmp_path(const char *name) {
  static char buf[4][1024];
  static int slot;
  char *out = buf[slot++ % 4];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

TEST(key_validation) {
  ain_err_t err = {0};
  const char *good[] = {"sha256/ab/cd.mp4", "a", "renders/2024-01-01/video_1.mp4", "A-Z.09_x"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ASSERT_OK(ain_objstore_key_valid(good[i], strlen(good[i]), &err));
  }
  struct {
    const char *key, *why;
  } bad[] = {
      {"../etc/passwd", "\"..\""},  {"a/../../b", "\"..\""},    {"a/..", "\"..\""},
      {"/etc/passwd", "absolute"},  {"a\\b", "backslash"},      {"a//b", "empty"},
      {"a/", "empty"},              {"./a", "\".\""},           {"a b", "0x20"},
      {"caf\xc3\xa9", "0xc3"},      {"a%2e%2e", "0x25"},        {"", "empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(ain_objstore_key_valid(bad[i].key, strlen(bad[i].key), &err), AIN_EINVAL);
    ASSERT_STR_CONTAINS(err.msg, bad[i].why);
    ASSERT_STR_EQ(err.field, "key");
  }
  ASSERT_EQ(ain_objstore_key_valid("a\0b", 3, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "NUL");
  char long_key[600];
  memset(long_key, 'a', sizeof long_key);
  ASSERT_OK(ain_objstore_key_valid(long_key, 512, &err));
  ASSERT_EQ(ain_objstore_key_valid(long_key, 513, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "513 bytes");
}

TEST(dir_put_get_verify_delete) {
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_objstore_dir_open(tmp_path("store"), &s, &err));
  const char *src = tmp_path("src.bin");
  ASSERT_OK(ain_write_file_atomic(src, "hello world\n", 12));
  char key[128];
  ASSERT_OK(ain_objstore_put_file(s, src, "txt", key, sizeof key, &err));
  /* sha256("hello world\n") */
  ASSERT_STR_EQ(key, "sha256/a9/"
                     "48904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447.txt");
  ASSERT_EQ(ain_objstore_exists(s, key, &err), 1);
  char path[4096];
  ASSERT_OK(ain_objstore_get_path(s, key, path, sizeof path, &err));
  char *data = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(path, &data, &len));
  ASSERT_EQ(len, 12);
  ASSERT_TRUE(memcmp(data, "hello world\n", 12) == 0);
  free(data);
  ASSERT_OK(ain_objstore_verify(s, key, &err));
  /* same bytes, same key: a second put is a no-op and leaves no temp file */
  char key2[128];
  ASSERT_OK(ain_objstore_put_file(s, src, "txt", key2, sizeof key2, &err));
  ASSERT_STR_EQ(key2, key);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s/tmp')\"", tmp_path("store"));
  ASSERT_OK(system(cmd));
  /* corruption is detected and names the key */
  ASSERT_OK(ain_write_file_atomic(path, "hello w0rld\n", 12));
  ASSERT_EQ(ain_objstore_verify(s, key, &err), AIN_EIO);
  ASSERT_STR_CONTAINS(err.msg, "corrupt");
  ASSERT_STR_CONTAINS(err.msg, key);
  /* delete, then everything says not found */
  ASSERT_OK(ain_objstore_delete(s, key, &err));
  ASSERT_EQ(ain_objstore_exists(s, key, &err), 0);
  ASSERT_EQ(ain_objstore_get_path(s, key, path, sizeof path, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_verify(s, key, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_delete(s, key, &err), AIN_ENOTFOUND);
  ain_objstore_close(s);
}

TEST(dir_bad_inputs) {
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_objstore_dir_open(tmp_path("store"), &s, &err));
  char key[128], path[4096];
  /* traversal and absolute keys never reach the file system */
  ASSERT_OK(ain_write_file_atomic(tmp_path("secret"), "s", 1));
  ASSERT_EQ(ain_objstore_get_path(s, "../secret", path, sizeof path, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "../secret");
  ASSERT_EQ(ain_objstore_exists(s, "/etc/passwd", &err), AIN_EINVAL);
  ASSERT_EQ(ain_objstore_delete(s, "a/../../secret", &err), AIN_EINVAL);
  struct stat st;
  ASSERT_OK(stat(tmp_path("secret"), &st));
  /* verify refuses keys that are not content addresses */
  ASSERT_EQ(ain_objstore_verify(s, "renders/x.mp4", &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "not content-addressed");
  /* missing source, bad extension */
  ASSERT_EQ(ain_objstore_put_file(s, tmp_path("nope"), NULL, key, sizeof key, &err),
            AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, "nope");
  ASSERT_OK(ain_write_file_atomic(tmp_path("f"), "x", 1));
  ASSERT_EQ(ain_objstore_put_file(s, tmp_path("f"), "../mp4", key, sizeof key, &err), AIN_EINVAL);
  ASSERT_EQ(ain_objstore_put_file(s, tmp_path("f"), NULL, key, 10, &err), AIN_ETOOBIG);
  ASSERT_OK(ain_objstore_put_file(s, tmp_path("f"), NULL, key, sizeof key, &err));
  ASSERT_EQ(strlen(key), 72);
  ASSERT_OK(ain_objstore_verify(s, key, &err));
  ain_objstore_close(s);
  ASSERT_EQ(ain_objstore_dir_open("", &s, &err), AIN_EINVAL);
  ASSERT_EQ(ain_objstore_dir_open("/proc/no/such/dir", &s, &err), AIN_EIO);
}

/* stat and read_range: the size, chunks that fit together, a read past the end, a missing object,
 * a directory named like a key, and a key that tries to leave the store. */
TEST(dir_stat_read_range) {
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_objstore_dir_open(tmp_path("rstore"), &s, &err));
  char src_bytes[3000];
  for (size_t i = 0; i < sizeof src_bytes; i++) {
    src_bytes[i] = (char)(i * 7 + 3);
  }
  const char *src = tmp_path("r.bin");
  ASSERT_OK(ain_write_file_atomic(src, src_bytes, sizeof src_bytes));
  char key[128];
  ASSERT_OK(ain_objstore_put_file(s, src, "mp4", key, sizeof key, &err));
  ain_objstore_stat_t st;
  ASSERT_OK(ain_objstore_stat(s, key, &st, &err));
  ASSERT_EQ(st.size, 3000);
  ASSERT_TRUE(st.mtime_s > 0);
  char buf[1024], back[3000];
  size_t got = 0, off = 0;
  while (off < sizeof back) { /* 1024-byte chunks reassemble the object */
    ASSERT_OK(ain_objstore_read_range(s, key, off, buf, sizeof buf, &got, &err));
    ASSERT_TRUE(got > 0);
    memcpy(back + off, buf, got);
    off += got;
  }
  ASSERT_EQ(off, 3000);
  ASSERT_EQ(memcmp(back, src_bytes, sizeof back), 0);
  ASSERT_OK(ain_objstore_read_range(s, key, 2990, buf, sizeof buf, &got, &err));
  ASSERT_EQ(got, 10);
  ASSERT_OK(ain_objstore_read_range(s, key, 3000, buf, sizeof buf, &got, &err));
  ASSERT_EQ(got, 0);
  ASSERT_OK(ain_objstore_read_range(s, key, UINT64_MAX - 5, buf, sizeof buf, &got, &err));
  ASSERT_EQ(got, 0);
  ASSERT_EQ(ain_objstore_stat(s, "sha256/00/none.mp4", &st, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_read_range(s, "sha256/00/none.mp4", 0, buf, 10, &got, &err),
            AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_stat(s, "sha256", &st, &err), AIN_ENOTFOUND); /* a directory */
  ASSERT_EQ(ain_objstore_stat(s, "../r.bin", &st, &err), AIN_EINVAL);
  ASSERT_EQ(ain_objstore_read_range(s, "sha256/../../r.bin", 0, buf, 10, &got, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "key");
  ain_objstore_close(s);
}

TEST_MAIN(TEST_ENTRY(key_validation), TEST_ENTRY(dir_put_get_verify_delete),
          TEST_ENTRY(dir_bad_inputs), TEST_ENTRY(dir_stat_read_range))
