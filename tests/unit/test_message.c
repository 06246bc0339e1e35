/* Contract tests for message/: every fixture under tests/fixtures/messages/ (good ones parse,
 * bad ones are rejected naming the field encoded in their file name "<field>--<fault>.json", "_"
 * for the message as a whole), size limits generated here, nesting, batches, the persona check
 * the CLI and ain.emit share (lua/personas.h, against tests/fixtures/messages/scripts), and the
 * emitters (what they print must parse back to the same row). */
#include <dirent.h>
#include <stdint.h>

#include <sys/stat.h>
#include <unistd.h>

#include "message/message.h"
#include "core/util.h"
#include "harness.h"
#include "lua/personas.h"

#define U7 "01920f3e-7b5a-7c3d-9e4f-0a1b2c3d4e5f"
#define MIN_TASK                                                                                   \
  "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{},\"persona_id\":\"p\","                 \
  "\"state_version\":0}"

/* What ain_task_free (store.c) does for the fields the parser fills; kept local so this test does
 * not depend on the store library. */
static void task_release(ain_task_t *t) {
  free(t->type);
  free(t->persona_id);
  free(t->payload);
  free(t->traceparent);
  free(t->result);
  free(t->last_error);
  memset(t, 0, sizeof *t);
}

typedef void (*fixture_fn)(const char *path, const char *name, const char *json, size_t len);

/* Runs fn on every *.json in dir (relative to the source tree); returns how many. */
static int each_fixture(const char *dir, fixture_fn fn) {
  char path[1024];
  const char *abs = ain_test_src(dir);
  char absdir[1024];
  snprintf(absdir, sizeof absdir, "%s", abs);
  DIR *d = opendir(absdir);
  ASSERT_NOT_NULL(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) {
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", absdir, e->d_name);
    char *json = NULL;
    size_t len = 0;
    ASSERT_OK(ain_read_file(path, &json, &len));
    fn(path, e->d_name, json, len);
    free(json);
    n++;
  }
  closedir(d);
  return n;
}

/* "<field>--<fault>.json" -> field ("" for "_"). File names spell an array index ".1" because
 * brackets are glob characters; errors name it "errors[1]". */
static void expected_field(const char *name, char *out, size_t cap) {
  const char *sep = strstr(name, "--");
  size_t o = 0;
  ASSERT_NOT_NULL(sep);
  for (const char *p = name; p < sep && o + 3 < cap; p++) {
    if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
      out[o++] = '[';
      for (p++; p < sep && *p >= '0' && *p <= '9' && o + 2 < cap; p++) {
        out[o++] = *p;
      }
      out[o++] = ']';
      p--;
    } else {
      out[o++] = *p;
    }
  }
  out[o] = '\0';
  if (strcmp(out, "_") == 0) {
    out[0] = '\0';
  }
}

static void check_rejection(const char *path, const char *name, int rc, const ain_err_t *err) {
  char field[128];
  expected_field(name, field, sizeof field);
  if (rc == 0) {
    AIN__FAIL("%s: accepted, expected a rejection naming \"%s\"", path, field);
  }
  if (strcmp(err->field, field) != 0) {
    AIN__FAIL("%s: error names field \"%s\", expected \"%s\" (%s)", path, err->field, field,
              err->msg);
  }
  ASSERT_EQ(rc, err->code);
  if (field[0] != '\0') {
    /* The message starts with the field so that a human reading only the message sees it. */
    ASSERT_TRUE(strncmp(err->msg, field, strlen(field)) == 0 && err->msg[strlen(field)] == ':');
  }
  if (strstr(name, "utf8") != NULL) {
    ASSERT_EQ(rc, AIN_EUTF8);
  } else {
    ASSERT_EQ(rc, AIN_ESCHEMA);
  }
}

/* The personas the fixtures may name: tests/fixtures/messages/scripts/personas. */
static ain_lua_check_opts_t fixture_personas(void) {
  static char dir[1024];
  snprintf(dir, sizeof dir, "%s", ain_test_src("tests/fixtures/messages/scripts"));
  return (ain_lua_check_opts_t){.scripts_dir = dir};
}

static void task_good(const char *path, const char *name, const char *json, size_t len) {
  ain_task_t t, back;
  ain_err_t err = {0};
  ain_lua_check_opts_t po = fixture_personas();
  int rc = ain_message_parse_task(json, len, &t, &err);
  if (rc == 0 && (rc = ain_lua_persona_check(NULL, NULL, &po, t.persona_id, &err)) != 0) {
    task_release(&t);
  }
  if (rc != 0) {
    AIN__FAIL("%s: rejected: %s", path, err.msg);
  }
  /* Round trip: row -> message -> row -> message gives the same row and the same text. */
  char *text = ain_message_task_to_json(&t);
  ASSERT_NOT_NULL(text);
  ASSERT_OK(ain_message_parse_task(text, strlen(text), &back, &err));
  ASSERT_STR_EQ(back.id, t.id);
  ASSERT_STR_EQ(back.type, t.type);
  ASSERT_STR_EQ(back.persona_id, t.persona_id);
  ASSERT_STR_EQ(back.payload, t.payload);
  ASSERT_STR_EQ(back.dag_id, t.dag_id);
  ASSERT_TRUE((back.traceparent == NULL) == (t.traceparent == NULL));
  if (t.traceparent != NULL) {
    ASSERT_STR_EQ(back.traceparent, t.traceparent);
  }
  ASSERT_EQ(back.run_at, t.run_at);
  ASSERT_EQ(back.priority, t.priority);
  ASSERT_EQ(back.max_attempts, t.max_attempts);
  ASSERT_EQ(back.state_version, t.state_version);
  char *again = ain_message_task_to_json(&back);
  ASSERT_STR_EQ(again, text);
  free(again);
  free(text);
  task_release(&back);
  task_release(&t);
}

static void task_bad(const char *path, const char *name, const char *json, size_t len) {
  ain_task_t t;
  ain_err_t err = {0};
  ain_lua_check_opts_t po = fixture_personas();
  int rc = ain_message_parse_task(json, len, &t, &err);
  if (rc == 0) {
    /* Well-formed: the persona check (deployment data, c-only.txt) must be what refuses it. */
    rc = ain_lua_persona_check(NULL, NULL, &po, t.persona_id, &err);
    task_release(&t);
  }
  check_rejection(path, name, rc, &err);
  /* Nothing allocated on failure: the row is zeroed. */
  ASSERT_NULL(t.type);
  ASSERT_NULL(t.payload);
}

static void response_good(const char *path, const char *name, const char *json, size_t len) {
  ain_err_t err = {0};
  if (ain_message_validate_response(json, len, &err) != 0) {
    AIN__FAIL("%s: rejected: %s", path, err.msg);
  }
}

static void response_bad(const char *path, const char *name, const char *json, size_t len) {
  ain_err_t err = {0};
  check_rejection(path, name, ain_message_validate_response(json, len, &err), &err);
}

TEST(task_fixtures_good) {
  ASSERT_GE(each_fixture("tests/fixtures/messages/task/good", task_good), 5);
}

TEST(task_fixtures_bad) {
  ASSERT_GE(each_fixture("tests/fixtures/messages/task/bad", task_bad), 15);
}

TEST(response_fixtures_good) {
  ASSERT_GE(each_fixture("tests/fixtures/messages/response/good", response_good), 4);
}

TEST(response_fixtures_bad) {
  ASSERT_GE(each_fixture("tests/fixtures/messages/response/bad", response_bad), 15);
}

TEST(task_fields_parsed) {
  ain_task_t t;
  ain_err_t err = {0};
  char *json = NULL;
  size_t len;
  ASSERT_OK(
      ain_read_file(ain_test_src("tests/fixtures/messages/task/good/full.json"), &json, &len));
  ASSERT_OK(ain_message_parse_task(json, len, &t, &err));
  ASSERT_STR_EQ(t.id, U7);
  ASSERT_STR_EQ(t.type, "generate_video");
  ASSERT_STR_EQ(t.persona_id, "tech-tina");
  ASSERT_STR_EQ(t.dag_id, "01920f3e-7b5a-7c3d-af00-112233445566");
  ASSERT_STR_EQ(t.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_EQ(t.run_at, 1735689600000LL);
  ASSERT_EQ(t.priority, 10);
  ASSERT_EQ(t.max_attempts, 3);
  ASSERT_EQ(t.state_version, 0);
  /* Payload is compact JSON text, UTF-8 kept as is. */
  ASSERT_STR_CONTAINS(t.payload, "{\"trend\":{\"title\":\"Café déjà vu — 東京 🎉\"");
  task_release(&t);
  free(json);

  const char *min = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{},"
                    "\"persona_id\":\"p\",\"state_version\":3}";
  ASSERT_OK(ain_message_parse_task(min, strlen(min), &t, &err));
  ASSERT_STR_EQ(t.dag_id, "");
  ASSERT_NULL(t.traceparent);
  ASSERT_EQ(t.run_at, 0);
  ASSERT_EQ(t.priority, 0);
  ASSERT_EQ(t.max_attempts, 0); /* the engine's configured default applies */
  ASSERT_EQ(t.state_version, 3);
  ASSERT_STR_EQ(t.payload, "{}");
  task_release(&t);

  /* Payload numbers and escapes pass through as written; only whitespace goes. */
  const char *nums =
      "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\": { \"n\" : "
      "9007199254740991, \"f\": 0.30000000000000004,\n \"big\": 12345678901234567890,"
      " \"s\": \"a b\\u00e9\\\"\", \"pay\\\"load\": [ 1 , {} ] },"
      "\"persona_id\":\"p\",\"state_version\":0}";
  const char *want = "{\"n\":9007199254740991,\"f\":0.30000000000000004,\"big\":"
                     "12345678901234567890,\"s\":\"a b\\u00e9\\\"\",\"pay\\\"load\":[1,{}]}";
  ASSERT_OK(ain_message_parse_task(nums, strlen(nums), &t, &err));
  ASSERT_STR_EQ(t.payload, want);
  char *text = ain_message_task_to_json(&t);
  ASSERT_STR_CONTAINS(text, want);
  free(text);
  task_release(&t);
}

TEST(error_messages) {
  ain_task_t t;
  ain_err_t err = {0};
  const char *num = "{\"task_id\":42,\"type\":\"noop\",\"payload\":{},\"persona_id\":\"p\","
                    "\"state_version\":0}";
  ASSERT_EQ(ain_message_parse_task(num, strlen(num), &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.msg, "task_id: must be a UUIDv7 string, got number");
  const char *v4 = "{\"task_id\":\"550e8400-e29b-41d4-a716-446655440000\",\"type\":\"noop\","
                   "\"payload\":{},\"persona_id\":\"p\",\"state_version\":0}";
  ASSERT_EQ(ain_message_parse_task(v4, strlen(v4), &t, &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "version 7");
  ASSERT_STR_CONTAINS(err.msg, "550e8400-e29b-41d4-a716-446655440000");
  const char *unk = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{},"
                    "\"persona_id\":\"p\",\"state_version\":0,\"colour\":1}";
  ASSERT_EQ(ain_message_parse_task(unk, strlen(unk), &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "colour");
  ASSERT_STR_CONTAINS(err.msg, "colour: unknown field (allowed: task_id, type, payload");
  const char *pri = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{},"
                    "\"persona_id\":\"p\",\"state_version\":0,\"priority\":5000}";
  ASSERT_EQ(ain_message_parse_task(pri, strlen(pri), &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.msg, "priority: must be an integer in -1000..1000, got 5000");
  /* Invalid JSON reports where. */
  const char *broken = "{\"task_id\":\n  \"" U7 "\" \"type\"}";
  ASSERT_EQ(ain_message_parse_task(broken, strlen(broken), &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "");
  ASSERT_STR_CONTAINS(err.msg, "invalid JSON at byte");
  ASSERT_STR_CONTAINS(err.msg, "line 2");
  /* NULL input and a non-NUL-terminated buffer (only len bytes are read). */
  ASSERT_EQ(ain_message_parse_task(NULL, 0, &t, &err), AIN_EINVAL);
  char exact[sizeof MIN_TASK - 1];
  memcpy(exact, MIN_TASK, sizeof exact);
  ASSERT_OK(ain_message_parse_task(exact, sizeof exact, &t, &err));
  task_release(&t);
}

/* A task message whose payload is {"s":"xxx..."} serializing to exactly payload_len bytes, with
 * pad spaces before the closing brace. Caller frees. */
static char *sized_task(size_t payload_len, size_t pad, size_t *len) {
  const char *head = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
                     "\"state_version\":0,\"payload\":{\"s\":\"";
  size_t nx = payload_len - 8; /* {"s":""} */
  size_t hl = strlen(head);
  char *m = malloc(hl + nx + 3 + pad + 1);
  ASSERT_NOT_NULL(m);
  memcpy(m, head, hl);
  memset(m + hl, 'x', nx);
  memcpy(m + hl + nx, "\"}", 2);
  memset(m + hl + nx + 2, ' ', pad);
  m[hl + nx + 2 + pad] = '}';
  *len = hl + nx + 3 + pad;
  m[*len] = '\0';
  return m;
}

TEST(size_limits) {
  ain_task_t t;
  ain_err_t err = {0};
  size_t len;
  char *m = sized_task(AIN_MESSAGE_PAYLOAD_MAX, 0, &len);
  ASSERT_OK(ain_message_parse_task(m, len, &t, &err));
  ASSERT_EQ(strlen(t.payload), AIN_MESSAGE_PAYLOAD_MAX);
  task_release(&t);
  free(m);

  m = sized_task(AIN_MESSAGE_PAYLOAD_MAX + 1, 0, &len);
  ASSERT_EQ(ain_message_parse_task(m, len, &t, &err), AIN_ETOOBIG);
  ASSERT_STR_EQ(err.field, "payload");
  ASSERT_STR_CONTAINS(err.msg, "payload: 1048577 bytes serialized, the limit is 1048576");
  free(m);

  /* Whitespace does not count against the payload but does against the whole message. */
  m = sized_task(1000, AIN_MESSAGE_MAX, &len);
  ASSERT_EQ(ain_message_parse_task(m, len, &t, &err), AIN_ETOOBIG);
  ASSERT_STR_EQ(err.field, "");
  free(m);
  m = sized_task(AIN_MESSAGE_PAYLOAD_MAX, 60 * 1024, &len);
  ASSERT_LE(len, AIN_MESSAGE_MAX);
  ASSERT_OK(ain_message_parse_task(m, len, &t, &err));
  task_release(&t);
  free(m);

  /* A response's result has the same limit. */
  const char *head = "{\"task_id\":\"" U7 "\",\"state_version\":1,\"status\":\"succeeded\","
                     "\"errors\":[],\"result\":{\"s\":\"";
  size_t hl = strlen(head), nx = AIN_MESSAGE_PAYLOAD_MAX - 7;
  char *r = malloc(hl + nx + 4);
  memcpy(r, head, hl);
  memset(r + hl, 'y', nx);
  memcpy(r + hl + nx, "\"}}", 3);
  ASSERT_EQ(ain_message_validate_response(r, hl + nx + 3, &err), AIN_ETOOBIG);
  ASSERT_STR_EQ(err.field, "result");
  memcpy(r + hl + nx - 1, "\"}}", 3); /* one byte less: exactly the limit */
  ASSERT_OK(ain_message_validate_response(r, hl + nx + 2, &err));
  free(r);
}

/* A whole message of at least `len` bytes whose payload (or result) is almost all of it. */
static char *big_message(int response, size_t len, size_t *out_len) {
  const char *head = response ? "{\"task_id\":\"" U7 "\",\"state_version\":1,\"status\":"
                                "\"succeeded\",\"errors\":[],\"result\":{\"s\":\""
                              : "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
                                "\"state_version\":0,\"payload\":{\"s\":\"";
  size_t hl = strlen(head);
  char *m = malloc(len + hl + 4);
  ASSERT_NOT_NULL(m);
  memcpy(m, head, hl);
  memset(m + hl, 'z', len);
  memcpy(m + hl + len, "\"}}", 4);
  *out_len = hl + len + 3;
  return m;
}

/* A message too big because of one member names that member, with both limits and its size. */
TEST(too_big_names_the_member) {
  ain_task_t t;
  ain_err_t err = {0};
  size_t len;
  char *m = big_message(0, 2u << 20, &len);
  ASSERT_EQ(ain_message_parse_task(m, len, &t, &err), AIN_ETOOBIG);
  ASSERT_STR_EQ(err.field, "payload");
  char want[200];
  snprintf(want, sizeof want, "payload: too big: %zu of the message's %zu bytes", (size_t)(2u << 20) + 8,
           len);
  ASSERT_STR_CONTAINS(err.msg, want);
  ASSERT_STR_CONTAINS(err.msg, "a message may have 1114112 bytes");
  ASSERT_STR_CONTAINS(err.msg, "at most 1048576");
  free(m);
  m = big_message(1, 2u << 20, &len);
  ASSERT_EQ(ain_message_validate_response(m, len, &err), AIN_ETOOBIG);
  ASSERT_STR_EQ(err.field, "result");
  ASSERT_STR_CONTAINS(err.msg, "result: too big: ");
  free(m);
}

/* Nesting: the limit counts the message's own braces; one level more is refused naming the
 * member it is in (or the message), before cJSON, whose own failure says only "invalid JSON". */
static char *nested(const char *pre, int levels, const char *post, size_t *len) {
  size_t pl = strlen(pre), ql = strlen(post);
  char *m = malloc(pl + 2 * (size_t)levels + ql + 1);
  ASSERT_NOT_NULL(m);
  memcpy(m, pre, pl);
  memset(m + pl, '[', (size_t)levels);
  memset(m + pl + levels, ']', (size_t)levels);
  memcpy(m + pl + 2 * (size_t)levels, post, ql + 1);
  *len = pl + 2 * (size_t)levels + ql;
  return m;
}

TEST(nesting_limit) {
  ain_task_t t;
  ain_err_t err = {0};
  size_t len;
  const char *pre = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
                    "\"state_version\":0,\"payload\":{\"x\":";
  /* message 1 + payload 1 + arrays = the depth */
  char *m = nested(pre, AIN_MESSAGE_DEPTH_MAX - 2, "}}", &len);
  ASSERT_OK(ain_message_parse_task(m, len, &t, &err));
  task_release(&t);
  free(m);
  m = nested(pre, AIN_MESSAGE_DEPTH_MAX - 1, "}}", &len);
  ASSERT_EQ(ain_message_parse_task(m, len, &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "payload");
  ASSERT_STR_CONTAINS(err.msg, "payload: nested deeper than 128 levels (byte ");
  free(m);
  /* A bomb: 100,000 brackets, closed or not. */
  m = nested("", 100000, "", &len);
  ASSERT_EQ(ain_message_parse_task(m, len, &t, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "");
  ASSERT_STR_CONTAINS(err.msg, "task message: nested deeper than 128 levels (byte 128, line 1");
  ASSERT_EQ(ain_message_validate_response(m, 100000, &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "response: nested deeper than 128 levels");
  free(m);
  const char *rpre = "{\"task_id\":\"" U7 "\",\"state_version\":1,\"status\":\"succeeded\","
                     "\"errors\":[],\"result\":{\"x\":";
  m = nested(rpre, 1000, "}}", &len);
  ASSERT_EQ(ain_message_validate_response(m, len, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "result");
  ASSERT_STR_CONTAINS(err.msg, "result: nested deeper than 128 levels");
  free(m);
  /* Brackets inside strings are text, not nesting. */
  char *s = malloc(5000);
  memset(s, '[', 4000);
  s[4000] = '\0';
  char *msg = malloc(6000);
  snprintf(msg, 6000,
           "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
           "\"state_version\":0,\"payload\":{\"s\":\"%s\"}}",
           s);
  ASSERT_OK(ain_message_parse_task(msg, strlen(msg), &t, &err));
  task_release(&t);
  free(msg);
  free(s);
}

/* Inside a payload or result: no repeated key, no number beyond a double, at any depth. */
TEST(payload_tree_rules) {
  static const struct {
    const char *payload, *field, *msg;
  } cases[] = {
      {"{\"trend\":\"a\",\"trend\":\"b\"}", "payload.trend", "payload.trend: duplicate key"},
      {"{\"a\":[1,{\"b\":{\"c\":1,\"c\":2}}]}", "payload.a[1].b.c", "duplicate key"},
      {"{\"views\":1e999}", "payload.views", "payload.views: number out of range"},
      {"{\"n\":[0,-1e400]}", "payload.n[1]", "number out of range"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
             "\"state_version\":0,\"payload\":%s}",
             cases[i].payload);
    ain_task_t t;
    ain_err_t err = {0};
    ASSERT_EQ(ain_message_parse_task(msg, strlen(msg), &t, &err), AIN_ESCHEMA);
    ASSERT_STR_EQ(err.field, cases[i].field);
    ASSERT_STR_CONTAINS(err.msg, cases[i].msg);
  }
  /* The largest finite double and keys equal but for case are fine. */
  const char *ok = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"persona_id\":\"p\","
                   "\"state_version\":0,\"payload\":{\"a\":1.7976931348623157e308,\"A\":1}}";
  ain_task_t t;
  ain_err_t err = {0};
  ASSERT_OK(ain_message_parse_task(ok, strlen(ok), &t, &err));
  task_release(&t);
  const char *r = "{\"task_id\":\"" U7 "\",\"state_version\":1,\"status\":\"succeeded\","
                  "\"errors\":[],\"result\":{\"v\":{\"k\":1,\"k\":1}}}";
  ASSERT_EQ(ain_message_validate_response(r, strlen(r), &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "result.v.k");
}

/* The one persona check `ain enqueue` and ain.emit share, in file mode (lua/personas.h). */
TEST(persona_check) {
  ain_lua_check_opts_t po = fixture_personas();
  ain_err_t err = {0};
  ASSERT_OK(ain_lua_persona_check(NULL, NULL, &po, "tech-tina", &err));
  ASSERT_EQ(ain_lua_persona_check(NULL, NULL, &po, "nobody", &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "persona_id");
  ASSERT_STR_CONTAINS(err.msg, "persona_id: unknown persona 'nobody' (known: emile, ppp");
  ASSERT_STR_CONTAINS(err.msg, ", tech-tina, tina)");
  /* Ill-formed ids never reach the file system. */
  ASSERT_EQ(ain_lua_persona_check(NULL, NULL, &po, "../scripts/personas/tina", &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "unknown persona '../scripts/personas/tina'");

  /* A persona file that breaks the contract has no valid version; an empty folder lists none. */
  char dir[] = "/tmp/ain-personas-XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char p[256];
  snprintf(p, sizeof p, "%s/personas", dir);
  ASSERT_OK(mkdir(p, 0700));
  po.scripts_dir = dir;
  ASSERT_EQ(ain_lua_persona_check(NULL, NULL, &po, "ann", &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.msg, "persona_id: unknown persona 'ann' (no persona in personas/)");
  snprintf(p, sizeof p, "%s/personas/ann.lua", dir);
  FILE *f = fopen(p, "w");
  ASSERT_NOT_NULL(f);
  fputs("return { id = \"someone_else\", voice = {}, style = {} }\n", f);
  fclose(f);
  ASSERT_EQ(ain_lua_persona_check(NULL, NULL, &po, "ann", &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "persona_id: persona 'ann' has no valid version: "
                               "personas/ann.lua: a persona needs id = \"ann\"");
  unlink(p);
  snprintf(p, sizeof p, "%s/personas", dir);
  rmdir(p);
  rmdir(dir);
}

/* Any JSON text (ain.json.decode, the trend reader): the rules that need no schema. */
TEST(check_json) {
  static const struct {
    const char *text, *field, *msg;
    int code;
  } cases[] = {
      {"{\"title\":\"a\xffz\"}", "title", "title: invalid UTF-8 at byte offset 11", AIN_EUTF8},
      {"{\"t\":\"\\u0000\"}", "t", "t: strings must not contain U+0000", AIN_ESCHEMA},
      {"{\"a\":1,\"a\":2}", "a", "a: duplicate key", AIN_ESCHEMA},
      {"[{\"k\":[1,{\"x\":0,\"x\":0}]}]", "[0].k[1].x", "[0].k[1].x: duplicate key", AIN_ESCHEMA},
      {"{\"n\":-1e400}", "n", "n: number out of range", AIN_ESCHEMA},
      {"1e999", "", "value: number out of range", AIN_ESCHEMA},
      {"{\"a\":1} {\"b\":2}", "", "line: unexpected data after the JSON value", AIN_ESCHEMA},
      {"{\"a\":", "", "line: invalid JSON at byte 4 (line 1", AIN_ESCHEMA},
  };
  ain_err_t err = {0};
  /* A raw NUL byte outside any string is named as such, with its offset. */
  ASSERT_EQ(ain_message_check_json("{\"a\":1}\0", 8, "line", &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "line: NUL byte (JSON text may not contain U+0000) (byte 7");
  ASSERT_EQ(ain_message_check_json("{\"a\":\0 1}", 8, "line", &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "a");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = ain_message_check_json(cases[i].text, strlen(cases[i].text), "line", &err);
    if (rc != cases[i].code || strcmp(err.field, cases[i].field) != 0 ||
        strstr(err.msg, cases[i].msg) == NULL) {
      AIN__FAIL("case %zu: rc %d field \"%s\" msg \"%s\"", i, rc, err.field, err.msg);
    }
  }
  size_t len;
  char *m = nested("{\"a\":", 200, "}", &len);
  ASSERT_EQ(ain_message_check_json(m, len, "line", &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "a: nested deeper than 128 levels");
  free(m);
  /* Scalars, arrays and big texts are fine: there is no size limit here. */
  ASSERT_OK(ain_message_check_json("\"x\"", 3, "line", &err));
  {
    const char *arr = "[1,2,{\"a\":null}]";
    ASSERT_OK(ain_message_check_json(arr, strlen(arr), "line", &err));
  }
  char *big = big_message(0, 3u << 20, &len);
  ASSERT_OK(ain_message_check_json(big, len, "line", &err));
  free(big);
}

static int check_fixture_persona(void *data, const ain_task_t *t, ain_err_t *err) {
  (void)data;
  ain_lua_check_opts_t po = fixture_personas();
  return ain_lua_persona_check(NULL, NULL, &po, t->persona_id, err);
}

/* The batch hook: a check failing on one message fails the batch at its index and line. */
TEST(batch_check_hook) {
  char buf[2048];
  const char *line = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{},"
                     "\"persona_id\":\"%s\",\"state_version\":0}\n";
  size_t used = 0;
  const char *ids[] = {"tina", "tech-tina", "ghost", "tina"};
  for (size_t i = 0; i < 4; i++) {
    used += (size_t)snprintf(buf + used, sizeof buf - used, line, ids[i]);
  }
  ain_task_t *ts = NULL;
  size_t n = 99;
  ain_message_pos_t where = {0, 0};
  ain_err_t err = {0};
  ASSERT_EQ(ain_message_parse_tasks(buf, used, check_fixture_persona, NULL, &ts, &n, &where, &err),
            AIN_ESCHEMA);
  ASSERT_EQ(where.index, 2);
  ASSERT_EQ(where.line, 3);
  ASSERT_STR_EQ(err.field, "persona_id");
  ASSERT_STR_CONTAINS(err.msg, "message 2 (line 3): persona_id: unknown persona 'ghost'");
  ASSERT_NULL(ts);
  ASSERT_EQ(n, 0);
}

TEST(utf8_offsets) {
  ain_task_t t;
  ain_err_t err = {0};
  char *json = NULL;
  size_t len;
  ASSERT_OK(ain_read_file(
      ain_test_src("tests/fixtures/messages/task/bad/payload--invalid-utf8.json"), &json, &len));
  size_t at = (size_t)(strstr(json, "\xff") - json);
  char want[64];
  snprintf(want, sizeof want, "payload: invalid UTF-8 at byte offset %zu", at);
  ASSERT_EQ(ain_message_parse_task(json, len, &t, &err), AIN_EUTF8);
  ASSERT_STR_EQ(err.msg, want);
  free(json);
  /* Bad bytes inside a key: no field to name, the offset still says where. */
  const char *k = "{\"task\xff_id\":1}";
  ASSERT_EQ(ain_message_parse_task(k, strlen(k), &t, &err), AIN_EUTF8);
  ASSERT_STR_EQ(err.field, "");
  ASSERT_STR_CONTAINS(err.msg, "at byte offset 6");
  /* Escaped non-BMP characters are fine; a lone escaped surrogate is not JSON text. */
  const char *lone = "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{\"s\":\"\\ud800\"},"
                     "\"persona_id\":\"p\",\"state_version\":0}";
  ASSERT_EQ(ain_message_parse_task(lone, strlen(lone), &t, &err), AIN_ESCHEMA);
}

static const char *const GOOD_LINE =
    "{\"task_id\":\"" U7 "\",\"type\":\"noop\",\"payload\":{\"i\":1},\"persona_id\":\"p\","
    "\"state_version\":0}";

TEST(batches) {
  ain_task_t *ts = NULL;
  size_t n = 99;
  ain_message_pos_t where = {0, 0};
  ain_err_t err = {0};
  char buf[4096];

  /* JSON Lines */
  snprintf(buf, sizeof buf, "%s\n%s\n\n%s\n", GOOD_LINE, GOOD_LINE, GOOD_LINE);
  ASSERT_OK(ain_message_parse_tasks(buf, strlen(buf), NULL, NULL, &ts, &n, &where, &err));
  ASSERT_EQ(n, 3);
  ASSERT_STR_EQ(ts[2].payload, "{\"i\":1}");
  for (size_t i = 0; i < n; i++) {
    task_release(&ts[i]);
  }
  free(ts);

  /* The third line is bad: index 2, line 4 (a blank line precedes it). */
  snprintf(buf, sizeof buf, "%s\n%s\n\n{\"task_id\":\"nope\"}\n%s\n", GOOD_LINE, GOOD_LINE,
           GOOD_LINE);
  ASSERT_EQ(ain_message_parse_tasks(buf, strlen(buf), NULL, NULL, &ts, &n, &where, &err), AIN_ESCHEMA);
  ASSERT_EQ(where.index, 2);
  ASSERT_EQ(where.line, 4);
  ASSERT_STR_EQ(err.field, "task_id");
  ASSERT_STR_CONTAINS(err.msg, "message 2 (line 4): task_id: must be a UUIDv7");
  ASSERT_NULL(ts);
  ASSERT_EQ(n, 0);

  /* A JSON array, pretty-printed, second element bad. */
  snprintf(buf, sizeof buf, "[\n  %s,\n  {\n    \"priority\": 1\n  }\n]\n", GOOD_LINE);
  ASSERT_EQ(ain_message_parse_tasks(buf, strlen(buf), NULL, NULL, &ts, &n, &where, &err), AIN_ESCHEMA);
  ASSERT_EQ(where.index, 1);
  ASSERT_EQ(where.line, 3);
  ASSERT_STR_EQ(err.field, "task_id");

  /* A good array; pretty objects one after another; the empty array. */
  snprintf(buf, sizeof buf, " [ %s , %s ] \n", GOOD_LINE, GOOD_LINE);
  ASSERT_OK(ain_message_parse_tasks(buf, strlen(buf), NULL, NULL, &ts, &n, NULL, &err));
  ASSERT_EQ(n, 2);
  for (size_t i = 0; i < n; i++) {
    task_release(&ts[i]);
  }
  free(ts);
  char *pretty = NULL;
  size_t plen;
  ASSERT_OK(
      ain_read_file(ain_test_src("tests/fixtures/messages/task/good/full.json"), &pretty, &plen));
  snprintf(buf, sizeof buf, "%s%s", pretty, pretty);
  free(pretty);
  ASSERT_OK(ain_message_parse_tasks(buf, strlen(buf), NULL, NULL, &ts, &n, NULL, &err));
  ASSERT_EQ(n, 2);
  ASSERT_STR_EQ(ts[1].traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  for (size_t i = 0; i < n; i++) {
    task_release(&ts[i]);
  }
  free(ts);
  ASSERT_OK(ain_message_parse_tasks("[ ]", 3, NULL, NULL, &ts, &n, NULL, &err));
  ASSERT_EQ(n, 0);
  free(ts);

  /* Malformed batches. */
  const char *bad[] = {"[",
                       "[" MIN_TASK,
                       "[" MIN_TASK " " MIN_TASK "]",
                       "[" MIN_TASK "] x",
                       MIN_TASK ",",
                       "[" MIN_TASK ",]",
                       MIN_TASK " 42",
                       "{\"task_id\":"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = ain_message_parse_tasks(bad[i], strlen(bad[i]), NULL, NULL, &ts, &n, &where, &err);
    if (rc != AIN_ESCHEMA) {
      AIN__FAIL("batch %zu (%s): rc %d, expected ESCHEMA", i, bad[i], rc);
    }
    ASSERT_NULL(ts);
  }
}

TEST(uuid7) {
  char id[AIN_UUID_LEN + 1];
  for (int i = 0; i < 100; i++) {
    ain_uuid7(id); /* the engine's own ids must meet the contract */
    ASSERT_TRUE(ain_message_uuid7_valid(id));
  }
  ASSERT_TRUE(ain_message_uuid7_valid(U7));
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3e-7b5a-6c3d-9e4f-0a1b2c3d4e5f"));  /* v6 */
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3e-7b5a-7c3d-7e4f-0a1b2c3d4e5f"));  /* variant 0 */
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3e-7b5a-7c3d-9e4f-0a1b2c3d4e5"));   /* short */
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3e-7b5a-7c3d-9e4f-0a1b2c3d4e5fa")); /* long */
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3e_7b5a-7c3d-9e4f-0a1b2c3d4e5f"));
  ASSERT_TRUE(!ain_message_uuid7_valid("01920f3g-7b5a-7c3d-9e4f-0a1b2c3d4e5f"));
  ASSERT_TRUE(!ain_message_uuid7_valid(""));
}

static ain_task_t row(ain_task_status_t st, int attempts, const char *last_error,
                      const char *result) {
  ain_task_t t;
  memset(&t, 0, sizeof t);
  memcpy(t.id, U7, sizeof t.id);
  t.type = ain_strdup("judge");
  t.persona_id = ain_strdup("tech-tina");
  t.payload = ain_strdup("{\"video\":\"v.mp4\"}");
  t.status = st;
  t.attempts = attempts;
  t.last_error = ain_strdup(last_error);
  t.result = ain_strdup(result);
  t.state_version = 12;
  t.max_attempts = 3;
  return t;
}

static void expect_response(ain_task_t *t, const char *want) {
  ain_err_t err = {0};
  char *out = NULL;
  int rc = ain_message_response_to_json_ex(t, &out, &err);
  if (rc != 0) {
    AIN__FAIL("response_to_json: %s", err.msg);
  }
  ASSERT_STR_EQ(out, want);
  ASSERT_OK(ain_message_validate_response(out, strlen(out), &err));
  free(out);
  task_release(t);
}

TEST(response_emitter) {
  ain_task_t t = row(AIN_TASK_SUCCEEDED, 1, NULL, "{\"verdict\":\"pass\",\"confidence\":0.75}");
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"succeeded\","
                      "\"errors\":[],\"confidence\":0.75,\"result\":{\"verdict\":\"pass\","
                      "\"confidence\":0.75}}");
  /* Succeeded without a result: an empty one. A nonsense confidence is left out. */
  t = row(AIN_TASK_SUCCEEDED, 1, "EIO: an earlier attempt", NULL);
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"succeeded\","
                      "\"errors\":[],\"result\":{}}");
  t = row(AIN_TASK_SUCCEEDED, 1, NULL, "{\"confidence\":1.5}");
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"succeeded\","
                      "\"errors\":[],\"result\":{\"confidence\":1.5}}");
  t = row(AIN_TASK_DEAD, 3, "ETIMEOUT: render ran past 90000 ms", NULL);
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"failed\","
                      "\"errors\":[{\"code\":\"ETIMEOUT\",\"message\":\"render ran past 90000 "
                      "ms\"}]}");
  t = row(AIN_TASK_READY, 1, "ELUA: scriptwriter.lua:12: boom", NULL);
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"retry\","
                      "\"errors\":[{\"code\":\"ELUA\",\"message\":\"scriptwriter.lua:12: "
                      "boom\"}]}");
  t = row(AIN_TASK_CANCELLED, 0, NULL, NULL);
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"failed\","
                      "\"errors\":[{\"code\":\"ECANCELLED\",\"message\":\"\"}]}");
  t = row(AIN_TASK_DEAD, 1, "segfault in the policy: oops", NULL);
  expect_response(&t, "{\"task_id\":\"" U7 "\",\"state_version\":12,\"status\":\"failed\","
                      "\"errors\":[{\"code\":\"EUNKNOWN\",\"message\":\"segfault in the "
                      "policy: oops\"}]}");

  /* No ended attempt, or a row that cannot be a valid response. */
  ain_err_t err = {0};
  char *out = NULL;
  ain_task_status_t none[] = {AIN_TASK_PENDING, AIN_TASK_RUNNING, AIN_TASK_READY};
  for (size_t i = 0; i < 3; i++) {
    t = row(none[i], 0, NULL, NULL);
    ASSERT_EQ(ain_message_response_to_json_ex(&t, &out, &err), AIN_EINVAL);
    ASSERT_NULL(out);
    ASSERT_NULL(ain_message_response_to_json(&t));
    task_release(&t);
  }
  t = row(AIN_TASK_READY, 0, "EIO: never claimed", NULL); /* attempts == 0 */
  ASSERT_NULL(ain_message_response_to_json(&t));
  task_release(&t);
  t = row(AIN_TASK_SUCCEEDED, 1, NULL, "[1,2]");
  ASSERT_EQ(ain_message_response_to_json_ex(&t, &out, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "result");
  task_release(&t);
  t = row(AIN_TASK_SUCCEEDED, 1, NULL, NULL);
  memcpy(t.id, "550e8400-e29b-41d4-a716-446655440000", sizeof t.id);
  ASSERT_EQ(ain_message_response_to_json_ex(&t, &out, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "task_id");
  task_release(&t);
}

TEST(task_emitter) {
  ain_err_t err = {0};
  char *out = NULL;
  ain_task_t t = row(AIN_TASK_READY, 0, NULL, NULL);
  t.priority = -3;
  t.run_at = 1735689600123LL;
  memcpy(t.dag_id, U7, sizeof t.dag_id);
  ASSERT_OK(ain_message_task_to_json_ex(&t, &out, &err));
  ASSERT_STR_EQ(out, "{\"task_id\":\"" U7 "\",\"type\":\"judge\",\"payload\":{\"video\":\"v.mp4\"},"
                     "\"persona_id\":\"tech-tina\",\"state_version\":12,\"dag_id\":\"" U7 "\","
                     "\"run_at\":1735689600123,\"priority\":-3,\"max_attempts\":3}");
  free(out);

  /* Rows the contract cannot carry are refused, naming the field. */
  t.priority = 5000;
  ASSERT_EQ(ain_message_task_to_json_ex(&t, &out, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "priority");
  ASSERT_NULL(out);
  t.priority = 0;
  free(t.persona_id);
  t.persona_id = NULL;
  ASSERT_NULL(ain_message_task_to_json(&t));
  ASSERT_EQ(ain_message_task_to_json_ex(&t, &out, &err), AIN_ESCHEMA);
  ASSERT_STR_EQ(err.field, "persona_id");
  t.persona_id = ain_strdup("p");
  free(t.payload);
  t.payload = ain_strdup("[1]");
  ASSERT_EQ(ain_message_task_to_json_ex(&t, &out, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "payload");
  free(t.payload);
  t.payload = ain_strdup("{\"unterminated\":");
  ASSERT_NULL(ain_message_task_to_json(&t));
  task_release(&t);
}

TEST_MAIN(TEST_ENTRY(task_fixtures_good), TEST_ENTRY(task_fixtures_bad),
          TEST_ENTRY(response_fixtures_good), TEST_ENTRY(response_fixtures_bad),
          TEST_ENTRY(task_fields_parsed), TEST_ENTRY(error_messages), TEST_ENTRY(size_limits),
          TEST_ENTRY(utf8_offsets), TEST_ENTRY(batches), TEST_ENTRY(too_big_names_the_member),
          TEST_ENTRY(nesting_limit), TEST_ENTRY(payload_tree_rules), TEST_ENTRY(persona_check),
          TEST_ENTRY(batch_check_hook), TEST_ENTRY(check_json), TEST_ENTRY(uuid7),
          TEST_ENTRY(response_emitter), TEST_ENTRY(task_emitter))
