/* Locating invalid UTF-8 (core/utf8.h) and the Lua host refusing a result that is not UTF-8,
 * naming the field (lua/host.h): real LuaJIT and lua-cjson, the policy set as a source. */
#include <string.h>
#include <uv.h>

#include "core/utf8.h"
#include "core/util.h"
#include "harness.h"
#include "lua/host.h"

TEST(locate_bad_bytes) {
  static const struct {
    const char *text;
    size_t offset, line, column;
    unsigned char byte;
  } bad[] = {
      {"\xff", 0, 1, 1, 0xff},
      {"ab\ncd\n\xc3(", 6, 3, 1, 0xc3},          /* a lead byte without its continuation */
      {"\xc3\xa9t\xc3\xa9 \x80", 6, 1, 5, 0x80}, /* a stray continuation after "été " */
      {"x\xc0\x80", 1, 1, 2, 0xc0},              /* overlong */
      {"x\xed\xa0\x80", 1, 1, 2, 0xed},          /* a surrogate */
      {"x\xf4\x90\x80\x80", 1, 1, 2, 0xf4},      /* past U+10FFFF */
      {"\xe2\x82", 0, 1, 1, 0xe2},               /* truncated at the end */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_utf8_pos_t pos;
    ASSERT_EQ(ain_utf8_locate(bad[i].text, strlen(bad[i].text), &pos), 0);
    ASSERT_EQ(pos.offset, bad[i].offset);
    ASSERT_EQ(pos.line, bad[i].line);
    ASSERT_EQ(pos.column, bad[i].column);
    ASSERT_EQ(pos.byte, bad[i].byte);
  }
  const char *good = "caf\xc3\xa9\n\xe2\x9c\x93 \xf0\x9f\x8e\xac";
  ASSERT_EQ(ain_utf8_locate(good, strlen(good), NULL), 1);
  ASSERT_EQ(ain_utf8_locate("", 0, NULL), 1);
}

/* A rejected policy source is kept on record; Postgres refuses invalid bytes and NUL in text. */
TEST(escape_invalid_keeps_text_a_column_takes) {
  static const struct {
    const char *in;
    size_t len;
    const char *want;
  } cases[] = {
      {"plain", 5, "plain"},
      {"caf\xc3\xa9", 5, "caf\xc3\xa9"}, /* valid: unchanged */
      {"a\xff"
       "b",
       3, "a\\xffb"},                           /* one stray byte */
      {"x\xc3(", 3, "x\\xc3("},                 /* a lead byte without its continuation */
      {"\xe2\x9c", 2, "\\xe2\\x9c"},            /* truncated at the end */
      {"n\0ul", 4, "n\\x00ul"},                 /* NUL */
      {"\xed\xa0\x80!", 4, "\\xed\\xa0\\x80!"}, /* a surrogate */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = 0;
    char *out = ain_utf8_escape_invalid(cases[i].in, cases[i].len, &n);
    ASSERT_STR_EQ(out, cases[i].want);
    ASSERT_EQ(n, strlen(cases[i].want));
    ASSERT_EQ(ain_utf8_locate(out, n, NULL), 1);
    free(out);
  }
}

TEST(json_check_names_the_field) {
  static const struct {
    const char *json, *field;
  } bad[] = {
      {"{\"title\":\"a\xff\"}", "result.title"},
      {"{\"ok\":\"\xc3\xa9\",\"items\":[\"x\",{\"name\":\"\xc0\xaf\"}]}", "result.items[2].name"},
      {"{\"a b\":{\"c\":[1,2,\"\xed\xa0\x80\"]}}", "result[\"a b\"].c[3]"},
      {"{\"k\xff\":1}", "result[\"k\\xff\"]"}, /* the key itself */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_err_t err;
    ain_err_clear(&err);
    ASSERT_EQ(ain_utf8_json_check(bad[i].json, strlen(bad[i].json), "result", &err), AIN_EUTF8);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ASSERT_STR_CONTAINS(err.msg, bad[i].field);
    ASSERT_STR_CONTAINS(err.msg, "invalid UTF-8 at byte");
  }
  ain_err_t err;
  const char *good = "{\"title\":\"caf\xc3\xa9\",\"n\":[1,\"\xf0\x9f\x8e\xac\"]}";
  ASSERT_OK(ain_utf8_json_check(good, strlen(good), "result", &err));
}

typedef struct {
  int done, status;
  char result[256], error[2048];
} out_t;

static void on_call(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  out_t *o = data;
  o->done = 1;
  o->status = status;
  snprintf(o->result, sizeof o->result, "%s", result ? result : "");
  snprintf(o->error, sizeof o->error, "%s", error ? error : "");
}

/* A policy's string can hold any bytes (string.char, a payload cut in the middle of a
 * character): the host refuses the result before anyone stores it. */
TEST(host_refuses_a_result_that_is_not_utf8) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_lua_opts_t lo = {.scripts_dir = "/nonexistent", .name = "t", .sources_only = 1};
  ain_lua_host_t *h;
  ain_err_t err;
  ASSERT_OK(ain_lua_host_new(&loop, &lo, &h, &err));
  const char *src = "local M = {}\n"
                    "function M.title() return { title = 'caf' .. string.char(0xc3) } end\n"
                    "function M.deep() return { items = { 'ok', { name = "
                    "('\\xe2\\x9c\\x93'):sub(1, 2) } } } end\n"
                    "function M.key() return { [string.char(0xff)] = 1 } end\n"
                    "function M.good() return { title = 'caf\\xc3\\xa9' } end\n"
                    "return M\n";
  ASSERT_OK(ain_lua_host_set_source(h, "writer", src, strlen(src), NULL, &err));
  static const struct {
    const char *fn, *want;
  } bad[] = {
      {"title", "EUTF8: writer.title: result.title: invalid UTF-8 at byte 3 of the string"},
      {"deep", "EUTF8: writer.deep: result.items[2].name: invalid UTF-8 at byte 0"},
      {"key", "EUTF8: writer.key: result[\"\\xff\"]: invalid UTF-8 at byte 0 of the key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    out_t o = {0};
    ain_lua_call_opts_t co = {.module = "writer", .function = bad[i].fn};
    ASSERT_OK(ain_lua_call(h, &co, on_call, &o, NULL, &err));
    ASSERT_EQ(o.done, 1); /* no yield: finished at once */
    ASSERT_EQ(o.status, AIN_EUTF8);
    ASSERT_STR_CONTAINS(o.error, bad[i].want);
  }
  out_t o = {0};
  ain_lua_call_opts_t co = {.module = "writer", .function = "good"};
  ASSERT_OK(ain_lua_call(h, &co, on_call, &o, NULL, &err));
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(o.result, "{\"title\":\"caf\xc3\xa9\"}");
  ain_lua_host_free(h);
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST_MAIN(TEST_ENTRY(locate_bad_bytes), TEST_ENTRY(escape_invalid_keeps_text_a_column_takes),
          TEST_ENTRY(json_check_names_the_field),
          TEST_ENTRY(host_refuses_a_result_that_is_not_utf8))
