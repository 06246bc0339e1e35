/* core/util: UUIDv7 shape and ordering, UTF-8 validation, mkdir -p, atomic writes. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "harness.h"

TEST(uuid7_shape_and_order) {
  char prev[AIN_UUID_LEN + 1] = "", id[AIN_UUID_LEN + 1];
  for (int i = 0; i < 20000; i++) { /* many per millisecond: the counter keeps them ordered */
    ain_uuid7(id);
    ASSERT_TRUE(ain_uuid_valid(id));
    ASSERT_EQ(id[14], '7');
    ASSERT_TRUE(strchr("89ab", id[19]) != NULL);
    ASSERT_TRUE(strcmp(prev, id) < 0);
    memcpy(prev, id, sizeof id);
  }
}

TEST(uuid_valid_rejects) {
  ASSERT_TRUE(!ain_uuid_valid(NULL));
  ASSERT_TRUE(!ain_uuid_valid(""));
  ASSERT_TRUE(!ain_uuid_valid("01a22b19-a7b2-704e-9d57-b54f7ce0393"));
  ASSERT_TRUE(!ain_uuid_valid("01a22b19xa7b2-704e-9d57-b54f7ce03939"));
  ASSERT_TRUE(!ain_uuid_valid("01a22b19-a7b2-704e-9d57-b54f7ce0393g"));
}

TEST(utf8) {
  size_t at = 0;
  ASSERT_TRUE(ain_utf8_valid("h\xc3\xa9llo \xe6\x97\xa5\xf0\x9f\x8e\xa5", 14, NULL));
  ASSERT_TRUE(!ain_utf8_valid("ab\xc3", 3, &at)); /* truncated */
  ASSERT_EQ(at, 2);
  ASSERT_TRUE(!ain_utf8_valid("\xc0\xaf", 2, &at)); /* overlong '/' */
  ASSERT_EQ(at, 0);
  ASSERT_TRUE(!ain_utf8_valid("x\xed\xa0\x80", 4, &at)); /* surrogate */
  ASSERT_EQ(at, 1);
  ASSERT_TRUE(!ain_utf8_valid("\xf4\x90\x80\x80", 4, NULL)); /* > U+10FFFF */
  ASSERT_TRUE(!ain_utf8_valid("\xff", 1, NULL));
}

TEST(mkdir_p_and_atomic_write) {
  char dir[1024], file[1100];
  snprintf(dir, sizeof dir, "%s/a/b/c", ain_test_tmpdir());
  ASSERT_OK(ain_mkdir_p(dir));
  ASSERT_OK(ain_mkdir_p(dir)); /* idempotent */
  snprintf(file, sizeof file, "%s/x/y/z.txt", ain_test_tmpdir());
  ASSERT_OK(ain_mkdir_parent(file));
  ASSERT_OK(ain_write_file_atomic(file, "hello", 5));
  char *buf = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(file, &buf, &len));
  ASSERT_EQ(len, 5);
  ASSERT_STR_EQ(buf, "hello");
  free(buf);
  ASSERT_TRUE(ain_mkdir_p("/dev/null/sub") < 0); /* a file in the way is an error */
  ASSERT_TRUE(ain_read_file("/nonexistent/file", &buf, &len) < 0);
}

TEST(fmt_int64_matches_printf) {
  static const long long vals[] = {0, 1, -1, 9, 10, -10, 9007199254740991LL, -9007199254740993LL,
                                   INT64_MAX, INT64_MIN, 1733580000000LL};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    char a[24], b[24];
    int n = ain_fmt_int64(a, vals[i]);
    snprintf(b, sizeof b, "%lld", vals[i]);
    ASSERT_STR_EQ(a, b);
    ASSERT_EQ(n, (int)strlen(b));
  }
  cJSON *o = cJSON_CreateObject();
  ain_json_add_int(o, "v", 9007199254740993LL); /* beyond a double's exact integers */
  char *text = cJSON_PrintUnformatted(o);
  ASSERT_STR_EQ(text, "{\"v\":9007199254740993}");
  free(text);
  cJSON_Delete(o);
}

TEST(strbuf_grows_and_terminates) {
  ain_strbuf_t b = {0};
  ASSERT_EQ(ain_strbuf_put(&b, "", 0), 0);
  ASSERT_STR_EQ(b.s, "");
  for (int i = 0; i < 1000; i++) {
    ASSERT_EQ(ain_strbuf_put(&b, "abcdef", 3), 0); /* only n bytes, not up to the NUL */
  }
  ASSERT_EQ(b.n, 3000);
  ASSERT_EQ(strlen(b.s), 3000);
  ASSERT_EQ(memcmp(b.s + 2997, "abc", 4), 0);
  free(b.s);
}

TEST_MAIN(TEST_ENTRY(strbuf_grows_and_terminates), TEST_ENTRY(fmt_int64_matches_printf), TEST_ENTRY(uuid7_shape_and_order), TEST_ENTRY(uuid_valid_rejects), TEST_ENTRY(utf8),
          TEST_ENTRY(mkdir_p_and_atomic_write))
