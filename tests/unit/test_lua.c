/* Tests for the Lua host (engine/lua/): real LuaJIT, real lua-cjson, real child processes, policy
 * fixtures in tests/fixtures/lua/scripts. */
#include <uv.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"
#include "lua/host.h"

typedef struct {
  int calls;
  int status;
  char *result;
  char *error;
  char *versions;
  double done_ms;
} outcome_t;

static uint64_t t0_ns;

static void on_done(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  outcome_t *o = data;
  o->calls++;
  o->status = status;
  o->result = result ? ain_strdup(result) : NULL;
  o->error = error ? ain_strdup(error) : NULL;
  o->versions = ain_strdup(ain_lua_call_versions(call));
  o->done_ms = (double)(ain_mono_ns() - t0_ns) / 1e6;
  if (status == 0) {
    ASSERT_NOT_NULL(result);
    ASSERT_NULL(error);
  } else {
    ASSERT_NULL(result);
    ASSERT_NOT_NULL(error);
  }
}

static void outcome_free(outcome_t *o) {
  free(o->result);
  free(o->error);
  free(o->versions);
}

typedef struct {
  uv_loop_t loop;
  ain_lua_host_t *h;
} env_t;

/* The ain.spawn allowlist the fixtures use (test_spawn.c covers the sandbox itself). Lives for
 * the whole test process, like an engine's config. */
static ain_config_t spawn_cfg;

static const ain_spawn_config_t *spawn_allowlist(void) {
  static int loaded;
  if (!loaded) {
    char path[4096];
    snprintf(path, sizeof path, "%s/spawn.lua", ain_test_tmpdir());
    FILE *f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fputs("spawn = { allow = {\n"
          "  { path = \"/usr/bin/echo\", rest = \".*\" },\n"
          "  { path = \"/usr/bin/cat\" },\n"
          "  { path = \"/usr/bin/printenv\", rest = \"[A-Z]+\" },\n"
          "  { path = \"/usr/bin/sleep\", args = { \"[0-9]+\" } },\n"
          "} }\n",
          f);
    fclose(f);
    ain_config_defaults(&spawn_cfg);
    ain_err_t err = {0};
    int rc = ain_config_load(&spawn_cfg, path, &err);
    if (rc != 0) {
      fprintf(stderr, "spawn config: %s\n", err.msg);
    }
    ASSERT_OK(rc);
    loaded = 1;
  }
  return &spawn_cfg.spawn;
}

static void env_init_ms(env_t *e, size_t mem, uint64_t cpu, uint64_t cpu_ms) {
  ASSERT_OK(uv_loop_init(&e->loop));
  ain_lua_opts_t o = {.scripts_dir = ain_test_src("tests/fixtures/lua/scripts"),
                      .name = "test",
                      .mem_limit = mem,
                      .cpu_budget = cpu,
                      .cpu_ms = cpu_ms,
                      .spawn = spawn_allowlist(),
                      .data_dir = ain_test_tmpdir()};
  ain_err_t err = {0};
  int rc = ain_lua_host_new(&e->loop, &o, &e->h, &err);
  if (rc != 0) {
    fprintf(stderr, "host: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  t0_ns = ain_mono_ns();
}

static void env_init(env_t *e, size_t mem, uint64_t cpu) { env_init_ms(e, mem, cpu, 0); }

static void env_done(env_t *e) {
  ASSERT_EQ(ain_lua_host_active(e->h), 0);
  ain_lua_host_free(e->h);
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&e->loop));
}

static ain_lua_call_t *start(env_t *e, const char *mod, const char *fn, const char *payload,
                             const char *ctx, outcome_t *o) {
  ain_lua_call_opts_t co = {
      .module = mod, .function = fn, .payload_json = payload, .ctx_json = ctx};
  ain_err_t err = {0};
  ain_lua_call_t *call = NULL;
  int rc = ain_lua_call(e->h, &co, on_done, o, &call, &err);
  if (rc != 0) {
    fprintf(stderr, "call: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  return call;
}

/* Runs one call to the end. */
static void run1(env_t *e, const char *mod, const char *fn, const char *payload, outcome_t *o) {
  start(e, mod, fn, payload, NULL, o);
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT));
  ASSERT_EQ(o->calls, 1);
}

/* One call expected to fail with `status` and an error containing each needle. */
static void expect_error(env_t *e, const char *mod, const char *fn, int status,
                         const char *needle1, const char *needle2) {
  outcome_t o = {0};
  run1(e, mod, fn, NULL, &o);
  if (o.status != status) {
    fprintf(stderr, "%s.%s: %s\n", mod, fn, o.error ? o.error : o.result);
  }
  ASSERT_EQ(o.status, status);
  ASSERT_STR_CONTAINS(o.error, needle1);
  if (needle2 != NULL) {
    ASSERT_STR_CONTAINS(o.error, needle2);
  }
  outcome_free(&o);
}

TEST(returns_table) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  ain_lua_call_t *c = start(&e, "basic", "echo", "{\"x\":[1,\"two\"]}",
                            "{\"task_id\":\"t-1\",\"dag_id\":\"d-1\"}", &o);
  ASSERT_NULL(c); /* finished without yielding: the callback already ran */
  ASSERT_EQ(o.calls, 1);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"got\":[1,\"two\"]");
  ASSERT_STR_CONTAINS(o.result, "\"task\":\"t-1\"");
  ASSERT_STR_CONTAINS(o.result, "\"dag\":\"d-1\"");
  /* versions: the module's sha256 */
  ASSERT_STR_CONTAINS(o.versions, "{\"basic\":\"");
  ASSERT_EQ(strlen(o.versions), strlen("{\"basic\":\"\"}") + 64);
  outcome_free(&o);
  env_done(&e);
}

TEST(return_conventions) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run1(&e, "basic", "nothing", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_EQ(o.result, "{}");
  outcome_free(&o);
  expect_error(&e, "basic", "number", AIN_ELUA, "ELUA: basic.number returned a number", NULL);
  expect_error(&e, "basic", "fail_nil", AIN_ELUA, "ELUA: basic.fail_nil returned an error: "
               "upstream said no", NULL);
  expect_error(&e, "basic", "fail_code", AIN_ETIMEOUT, "ETIMEOUT: upstream slow", NULL);
  expect_error(&e, "basic", "array", AIN_ELUA, "returned an array", NULL);
  expect_error(&e, "basic", "with_fn", AIN_ELUA, "basic.with_fn returned a table that is not JSON",
               NULL);
  env_done(&e);
}

TEST(bad_call_arguments) {
  env_t e;
  env_init(&e, 0, 0);
  ain_err_t err = {0};
  ain_lua_call_opts_t co = {.module = "../etc/passwd", .function = "f"};
  ASSERT_EQ(ain_lua_call(e.h, &co, on_done, NULL, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "module");
  co.module = "basic";
  co.function = NULL;
  ASSERT_EQ(ain_lua_call(e.h, &co, on_done, NULL, NULL, &err), AIN_EINVAL);
  co.function = "echo";
  co.payload_json = "{not json";
  ASSERT_EQ(ain_lua_call(e.h, &co, on_done, NULL, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "payload");
  co.payload_json = "[1]";
  co.ctx_json = "\"str\"";
  ASSERT_EQ(ain_lua_call(e.h, &co, on_done, NULL, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "ctx");
  env_done(&e);
}

/* t0 is taken after the host is created, and libuv's cached loop time is older than that: this
 * held only once ain.sleep updated the loop time before arming its timer (issue 9, item 8). */
TEST(concurrent_sleeps_interleave) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t a = {0}, b = {0};
  ASSERT_NOT_NULL(start(&e, "basic", "sleepy", "{\"ms\":300}", NULL, &a));
  ASSERT_NOT_NULL(start(&e, "basic", "sleepy", "{\"ms\":200}", NULL, &b));
  ASSERT_EQ(ain_lua_host_active(e.h), 2);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(a.status, 0);
  ASSERT_EQ(b.status, 0);
  ASSERT_GE(a.done_ms, 295);
  /* interleaved: the 200 ms sleeper, started second, ends first (run one after the other, it
   * would end at 500 ms, after the 300 ms one); the upper bound only guards against a hang and
   * leaves room for a loaded 2-core machine */
  ASSERT_TRUE(b.done_ms < a.done_ms);
  ASSERT_LE(a.done_ms, 1500);
  ASSERT_STR_CONTAINS(a.result, "\"ms\":300");
  outcome_free(&a);
  outcome_free(&b);
  env_done(&e);
}

TEST(spawn) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run1(&e, "basic", "spawn_echo", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"stdout\":\"hello\\n\"");
  ASSERT_STR_CONTAINS(o.result, "\"status\":0");
  ASSERT_STR_CONTAINS(o.result, "\"timed_out\":false");
  outcome_free(&o);
  outcome_t s = {0};
  run1(&e, "basic", "spawn_stdin", NULL, &s);
  ASSERT_EQ(s.status, 0);
  ASSERT_STR_CONTAINS(s.result, "\"stdout\":\"piped\"");
  ASSERT_STR_CONTAINS(s.result, "\"env_stdout\":\"hi\\n\"");
  outcome_free(&s);
  outcome_t m = {0};
  run1(&e, "basic", "spawn_missing", NULL, &m);
  ASSERT_EQ(m.status, 0);
  ASSERT_STR_CONTAINS(m.result, "\"is_nil\":true");
  ASSERT_STR_CONTAINS(m.result, "\"code\":\"ESANDBOX\"");
  ASSERT_STR_CONTAINS(m.result, "ESANDBOX: ain.spawn: 'no-such-prog-ain' is not on the allowlist");
  outcome_free(&m);
  expect_error(&e, "basic", "spawn_misuse", AIN_ELUA, "bad argument #1 to 'spawn'",
               "cmd must be a non-empty array");
  expect_error(&e, "basic", "spawn_misuse_type", AIN_ELUA, "timeout_ms must be a number", NULL);
  env_done(&e);
}

TEST(spawn_timeout_kills) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run1(&e, "basic", "spawn_slow", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"timed_out\":true");
  ASSERT_STR_CONTAINS(o.result, "\"signal\":15");
  ASSERT_LE(o.done_ms, 2000);
  outcome_free(&o);
  env_done(&e);
}

TEST(runtime_error_has_traceback) {
  env_t e;
  env_init(&e, 0, 0);
  expect_error(&e, "basic", "boom", AIN_ELUA, "ELUA: agents/basic.lua:18: attempt to index",
               "stack traceback:");
  outcome_t o = {0};
  run1(&e, "basic", "boom", NULL, &o);
  ASSERT_STR_CONTAINS(o.error, "in function <agents/basic.lua:16>");
  outcome_free(&o);
  env_done(&e);
}

TEST(load_errors) {
  env_t e;
  env_init(&e, 0, 0);
  expect_error(&e, "syntax", "f", AIN_ELUA, "ELUA: agents/syntax.lua:3:", NULL);
  expect_error(&e, "notable", "f", AIN_ELUA, "agents/notable.lua must return a table", NULL);
  expect_error(&e, "nosuchmodule", "f", AIN_ELUA,
               "module 'nosuchmodule' not found: agents/nosuchmodule.lua", NULL);
  expect_error(&e, "basic", "nosuchfn", AIN_ELUA,
               "module 'basic' has no entry point 'nosuchfn' (a function), found nil", NULL);
  expect_error(&e, "toplevel_global", "f", AIN_ESANDBOX,
               "agents/toplevel_global.lua:2: assignment to global 'counter'", NULL);
  /* a load failure is not cached as a success: the same error again */
  expect_error(&e, "syntax", "f", AIN_ELUA, "agents/syntax.lua:3:", NULL);
  env_done(&e);
}

TEST(require_and_versions) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run1(&e, "basic", "uses_helper", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"v\":7");
  ASSERT_STR_CONTAINS(o.result, "\"persona\":\"ava\"");
  ASSERT_STR_CONTAINS(o.versions, "\"basic\":\"");
  ASSERT_STR_CONTAINS(o.versions, "\"helper\":\"");
  ASSERT_STR_CONTAINS(o.versions, "\"personas/ava\":\"");
  outcome_free(&o);
  /* a persona called directly */
  outcome_t p = {0};
  run1(&e, "personas/ava", "greet", NULL, &p);
  ASSERT_EQ(p.status, 0);
  ASSERT_STR_EQ(p.result, "{\"hi\":\"ava\"}");
  outcome_free(&p);
  env_done(&e);
}

TEST(ain_module) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0};
  run1(&e, "basic", "json", NULL, &o);
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"a\":2");
  ASSERT_STR_CONTAINS(o.result, "\"enc\":\"{\\\"k\\\":1}\"");
  ASSERT_STR_CONTAINS(o.result, "\"bad_is_nil\":true");
  ASSERT_STR_CONTAINS(o.result, "\"code\":\"EINVAL\"");
  outcome_free(&o);
  outcome_t s = {0};
  run1(&e, "basic", "sha", NULL, &s);
  ASSERT_STR_EQ(s.result,
                "{\"h\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}");
  outcome_free(&s);
  outcome_t l = {0};
  run1(&e, "basic", "log", NULL, &l);
  ASSERT_EQ(l.status, 0);
  outcome_free(&l);
  expect_error(&e, "basic", "log_bad", AIN_ELUA, "level must be one of", NULL);
  expect_error(&e, "basic", "sleep_bad", AIN_ELUA, "milliseconds must be a number >= 0", NULL);
  expect_error(&e, "basic", "yield_bare", AIN_ELUA, "coroutine.yield() outside", NULL);
  expect_error(&e, "basic", "nested_sleep", AIN_ELUA, "ain.sleep: must be called from the "
               "policy's own call", NULL);
  env_done(&e);
}

TEST(cpu_budget) {
  env_t e;
  env_init(&e, 0, 1000000);
  outcome_t spin = {0}, sleeper = {0};
  ASSERT_NOT_NULL(start(&e, "basic", "sleepy", "{\"ms\":100}", NULL, &sleeper));
  ASSERT_NULL(start(&e, "basic", "spin", NULL, NULL, &spin)); /* stopped before returning */
  ASSERT_EQ(spin.status, AIN_EBUDGET_CPU);
  ASSERT_STR_CONTAINS(spin.error,
                      "EBUDGET_CPU: basic.spin used more than 1000000 instructions");
  ASSERT_STR_CONTAINS(spin.error, "agents/basic.lua:");
  ASSERT_LE(spin.done_ms, 1000);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(sleeper.calls, 1);
  ASSERT_EQ(sleeper.status, 0);
  outcome_free(&spin);
  outcome_free(&sleeper);
  /* pcall cannot swallow it, module top levels are budgeted too, and the budget is per call:
   * two 700k-instruction halves around a sleep pass, only the total counts */
  expect_error(&e, "basic", "pcall_spin", AIN_EBUDGET_CPU, "basic.pcall_spin used more", NULL);
  expect_error(&e, "toplevel_spin", "f", AIN_EBUDGET_CPU, "toplevel_spin.f used more", NULL);
  outcome_t ok = {0};
  run1(&e, "basic", "loops_then_sleeps", "{\"n\":100000}", &ok);
  ASSERT_EQ(ok.status, 0);
  outcome_free(&ok);
  outcome_t over = {0};
  run1(&e, "basic", "loops_then_sleeps", "{\"n\":600000}", &over);
  ASSERT_EQ(over.status, AIN_EBUDGET_CPU);
  outcome_free(&over);
  env_done(&e);
}

TEST(memory_budget) {
  env_t e;
  env_init(&e, 64u << 20, 1000000000ull);
  outcome_t sleeper = {0};
  ASSERT_NOT_NULL(start(&e, "basic", "sleepy", "{\"ms\":50}", NULL, &sleeper));
  expect_error(&e, "basic", "bomb_distinct", AIN_EBUDGET_MEM,
               "EBUDGET_MEM: basic.bomb_distinct needed more than", NULL);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(sleeper.status, 0); /* the other call on the state kept running */
  outcome_free(&sleeper);
  /* the memory came back: a normal call still works */
  outcome_t o = {0};
  run1(&e, "basic", "echo", "{\"x\":1}", &o);
  ASSERT_EQ(o.status, 0);
  outcome_free(&o);
  env_done(&e);
}

/* The brief's bomb repeats one 1 MB string, which LuaJIT interns: only the table grows (8 bytes a
 * slot), so it takes a small cap to reach the limit in test time. */
TEST(memory_budget_interned_bomb) {
  env_t e;
  env_init_ms(&e, 4u << 20, 1000000000ull, 600000);
  expect_error(&e, "basic", "bomb", AIN_EBUDGET_MEM, "EBUDGET_MEM: basic.bomb", NULL);
  outcome_t o = {0};
  run1(&e, "basic", "echo", "{\"x\":1}", &o);
  ASSERT_EQ(o.status, 0);
  outcome_free(&o);
  env_done(&e);
}

/* The same bomb under the default cap: it is a CPU bomb inside C (1 MB memset + hash per
 * instruction); the loop-time budget stops it. */
TEST(cpu_time_budget) {
  env_t e;
  env_init_ms(&e, 0, 0, 300);
  outcome_t sleeper = {0};
  ASSERT_NOT_NULL(start(&e, "basic", "sleepy", "{\"ms\":50}", NULL, &sleeper));
  outcome_t o = {0};
  run1(&e, "basic", "bomb", NULL, &o);
  ASSERT_EQ(o.status, AIN_EBUDGET_CPU);
  ASSERT_STR_CONTAINS(o.error, "EBUDGET_CPU: basic.bomb ran on the loop for more than 300 ms");
  ASSERT_LE(o.done_ms, 1500);
  ASSERT_EQ(sleeper.status, 0);
  outcome_free(&o);
  outcome_free(&sleeper);
  /* time spent waiting does not count: a 400 ms sleep in a 300 ms budget */
  outcome_t s = {0};
  run1(&e, "basic", "sleepy", "{\"ms\":400}", &s);
  ASSERT_EQ(s.status, 0);
  outcome_free(&s);
  env_done(&e);
}

TEST(sandbox_refusals) {
  env_t e;
  env_init(&e, 0, 0);
  static const struct {
    const char *fn, *needle;
  } cases[] = {
      {"os_execute", "os.execute is refused by the sandbox"},
      {"io_open", "io.open is refused by the sandbox"},
      {"debug_getinfo", "debug.getinfo is refused by the sandbox"},
      {"loadlib", "package.loadlib is refused by the sandbox"},
      {"dump", "string.dump is refused by the sandbox"},
      {"dump_meta", "string.dump is refused by the sandbox"},
      {"bytecode", "load of bytecode is refused by the sandbox"},
      {"setmt", "setmetatable(_G, ...) is refused by the sandbox"},
      {"global", "agents/sandbox.lua:11: assignment to global 'x' (use local) is refused"},
      {"rawset_g", "rawset(_G, ...) is refused"},
      {"rawset_lib", "rawset on a read-only library table is refused"},
      {"require_os", "require 'os' is refused"},
      {"require_path", "require '../../etc/passwd' is refused"},
      {"ffi", "require 'ffi' (ffi is off unless the host allows it) is refused"},
      {"jit_on", "jit.on is refused"},
      {"lib_assign", "assignment to string.upper is refused"},
      {"ain_assign", "assignment to ain.sleep is refused"},
      {"gc_stop", "collectgarbage('stop') is refused"},
      {"loadfile", "loadfile is refused"},
      {"getenv", "os.getenv is refused"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expect_error(&e, "sandbox", cases[i].fn, AIN_ESANDBOX, "ESANDBOX: agents/sandbox.lua:",
                 cases[i].needle);
  }
  outcome_t o = {0};
  run1(&e, "sandbox", "allowed", NULL, &o);
  if (o.status != 0) {
    fprintf(stderr, "%s\n", o.error);
  }
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"v\":2");
  ASSERT_STR_CONTAINS(o.result, "\"w\":5");
  ASSERT_STR_CONTAINS(o.result, "\"s\":\"[1]\"");
  ASSERT_STR_CONTAINS(o.result, "\"mt\":false");
  ASSERT_STR_CONTAINS(o.result, "\"up\":\"ABC\"");
  outcome_free(&o);
  env_done(&e);
}

TEST(cancel_sleeping_call) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0}, s = {0};
  ain_lua_call_t *c = start(&e, "basic", "long", NULL, NULL, &o);
  ain_lua_call_t *sp = start(&e, "basic", "spawn_long", NULL, NULL, &s);
  ASSERT_NOT_NULL(c);
  ASSERT_NOT_NULL(sp);
  ASSERT_EQ(ain_lua_host_active(e.h), 2);
  ain_lua_call_cancel(c, AIN_ETIMEOUT, "step timeout");
  ain_lua_call_cancel(sp, AIN_ESHUTDOWN, "node stopping");
  ASSERT_EQ(o.calls, 1);
  ASSERT_EQ(o.status, AIN_ETIMEOUT);
  ASSERT_STR_EQ(o.error, "ETIMEOUT: basic.long cancelled: step timeout");
  ASSERT_EQ(s.status, AIN_ESHUTDOWN);
  ASSERT_EQ(ain_lua_host_active(e.h), 0);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT)); /* the killed child is reaped, nothing resumes */
  ASSERT_LE((double)(ain_mono_ns() - t0_ns) / 1e6, 3000);
  ASSERT_EQ(o.calls, 1);
  ASSERT_EQ(s.calls, 1);
  outcome_free(&o);
  outcome_free(&s);
  env_done(&e);
}

TEST(free_with_calls_in_flight) {
  env_t e;
  env_init(&e, 0, 0);
  outcome_t o = {0}, s = {0};
  start(&e, "basic", "long", NULL, NULL, &o);
  start(&e, "basic", "spawn_long", NULL, NULL, &s);
  ain_lua_host_free(e.h); /* shutdown: every call ends with ESHUTDOWN */
  ASSERT_EQ(o.status, AIN_ESHUTDOWN);
  ASSERT_EQ(s.status, AIN_ESHUTDOWN);
  ASSERT_OK(uv_run(&e.loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&e.loop));
  outcome_free(&o);
  outcome_free(&s);
}

TEST(bad_host_options) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_lua_host_t *h = NULL;
  ain_err_t err = {0};
  ain_lua_opts_t o = {0};
  ASSERT_EQ(ain_lua_host_new(&loop, &o, &h, &err), AIN_EINVAL);
  ASSERT_NULL(h);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(returns_table), TEST_ENTRY(return_conventions), TEST_ENTRY(bad_call_arguments),
          TEST_ENTRY(concurrent_sleeps_interleave), TEST_ENTRY(spawn),
          TEST_ENTRY(spawn_timeout_kills), TEST_ENTRY(runtime_error_has_traceback),
          TEST_ENTRY(load_errors), TEST_ENTRY(require_and_versions), TEST_ENTRY(ain_module),
          TEST_ENTRY(cpu_budget), TEST_ENTRY(memory_budget),
          TEST_ENTRY(memory_budget_interned_bomb), TEST_ENTRY(cpu_time_budget), TEST_ENTRY(sandbox_refusals),
          TEST_ENTRY(cancel_sleeping_call), TEST_ENTRY(free_with_calls_in_flight),
          TEST_ENTRY(bad_host_options))
