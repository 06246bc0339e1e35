/* The script registry (lua/registry.h) in one process: a registry, a store and a Lua host that
 * takes its sources from the registry, all on one loop, with real files and real fs events.
 * Covers: start-up check, hot reload by rename-save, a rejected version never serving (and being
 * recorded with file:line), a call in flight finishing on the version it started with, a deleted
 * file keeping its last good version, SIGHUP's forced reload, pins, and the check of each kind of
 * bad policy at load time. Store URL from AIN_TEST_STORE_URL (SQLite file by default).
 * Relies on: lua/registry.h, lua/host.h, store/store.h, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "lua/host.h"
#include "lua/registry.h"
#include "store/store.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/* The harness ends each test with _exit(), which skips LeakSanitizer: check at every close. */
#define CHECK_LEAKS() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define CHECK_LEAKS() ((void)0)
#endif

typedef struct {
  uv_loop_t loop;
  ain_store_t *s;
  ain_lua_registry_t *r;
  ain_lua_host_t *h;
  char dir[512];
  uv_timer_t tick;
  uint64_t published;
} fx_t;

static int is_sqlite(const char *url) {
  return strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0;
}

static void write_file(fx_t *f, const char *rel, const char *text) {
  char path[1024], tmp[1100];
  snprintf(path, sizeof path, "%s/%s", f->dir, rel);
  snprintf(tmp, sizeof tmp, "%s/.%d.tmp", f->dir, (int)getpid());
  /* as editors do: write a temp file, rename it over the policy */
  FILE *fp = fopen(tmp, "w");
  ASSERT_NOT_NULL(fp);
  fputs(text, fp);
  fclose(fp);
  ASSERT_OK(rename(tmp, path));
}

static void sha_of(const char *text, char out[65]) {
  /* via a throwaway host: the same sha256 the engine records */
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_lua_opts_t lo = {.scripts_dir = "/nonexistent"};
  ain_lua_host_t *h;
  ain_err_t err;
  ASSERT_OK(ain_lua_host_new(&loop, &lo, &h, &err));
  ASSERT_OK(ain_lua_host_set_source(h, "x", text, strlen(text), out, &err));
  ain_lua_host_free(h);
  uv_loop_close(&loop);
}

static void on_publish(void *data, uint64_t gen) {
  ((fx_t *)data)->published = gen;
}

static void on_tick(uv_timer_t *t) {}

/* timeout_ms: the check's wall-clock limit (0 = the default). */
static void fx_open_ms(fx_t *f, const char *judge_src, uint64_t timeout_ms) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "%s/scripts", ain_test_tmpdir());
  char p[700];
  snprintf(p, sizeof p, "mkdir -p %s/agents %s/personas %s/safety", f->dir, f->dir, f->dir);
  ASSERT_EQ(system(p), 0);
  if (judge_src != NULL) {
    write_file(f, "agents/judge.lua", judge_src);
  }
  write_file(f, "personas/ann.lua",
             "return { id = 'ann', voice = { name = 'en-us' }, style = {} }\n");
  ASSERT_OK(uv_loop_init(&f->loop));
  const char *env = getenv("AIN_TEST_STORE_URL");
  char url[1024];
  if (env != NULL && *env && !is_sqlite(env)) {
    const char *reset = getenv("AIN_TEST_STORE_RESET");
    if (reset != NULL && *reset) {
      ASSERT_EQ(system(reset), 0);
    }
    snprintf(url, sizeof url, "%s", env);
  } else {
    snprintf(url, sizeof url, "sqlite:%s/r.db", ain_test_tmpdir());
  }
  ain_store_config_t cfg = {.url = url, .busy_timeout_ms = 5000};
  ain_err_t err;
  ASSERT_OK(ain_store_open(&cfg, &f->loop, &f->s, &err));
  ain_store_req_t m;
  ain_store_req_migrate(&m);
  ASSERT_OK(ain_store_wait(f->s, &m));
  ain_store_req_cleanup(&m);
  ain_lua_registry_opts_t ro = {.check = {.scripts_dir = f->dir,
                                          .cpu_budget = 5000000,
                                          .mem_limit = 64 << 20,
                                          .timeout_ms = timeout_ms},
                                .store = f->s,
                                .pin_poll_ms = 30,
                                .on_publish = on_publish,
                                .data = f};
  ASSERT_OK(ain_lua_registry_new(&f->loop, &ro, &f->r, &err));
  ain_lua_opts_t lo = {.scripts_dir = f->dir, .name = "t", .registry = f->r};
  ASSERT_OK(ain_lua_host_new(&f->loop, &lo, &f->h, &err));
  uv_timer_init(&f->loop, &f->tick);
  uv_timer_start(&f->tick, on_tick, 5, 5); /* keeps uv_run(ONCE) from blocking for long */
}

static void fx_open(fx_t *f, const char *judge_src) {
  fx_open_ms(f, judge_src, 0);
}

static void registry_closed(void *data) {
  *(int *)data = 1;
}

static void store_closed(void *data) {
  *(int *)data = 1;
}

static void fx_close(fx_t *f) {
  ain_lua_host_free(f->h);
  int rclosed = 0, sclosed = 0;
  ain_lua_registry_close(f->r, registry_closed, &rclosed);
  uv_close((uv_handle_t *)&f->tick, NULL);
  while (!rclosed) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  ain_store_close(f->s, store_closed, &sclosed);
  while (!sclosed) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  uv_run(&f->loop, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&f->loop), 0);
  CHECK_LEAKS();
}

/* Runs the loop until the registry serves `sha` for module (or ms pass). */
static int wait_serving(fx_t *f, const char *module, const char *sha, int ms) {
  uint64_t end = ain_mono_ns() + (uint64_t)ms * 1000000;
  char cur[65];
  while (ain_mono_ns() < end) {
    if (ain_lua_registry_serving(f->r, module, cur) == 0 && strcmp(cur, sha) == 0) {
      return 1;
    }
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  return 0;
}

static void spin(fx_t *f, int ms) {
  uint64_t end = ain_mono_ns() + (uint64_t)ms * 1000000;
  while (ain_mono_ns() < end) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
}

typedef struct {
  int done, status;
  char result[512];
  char versions[512];
  char error[2048];
} out_t;

static void on_call(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  out_t *o = data;
  o->done = 1;
  o->status = status;
  snprintf(o->result, sizeof o->result, "%s", result ? result : "");
  snprintf(o->error, sizeof o->error, "%s", error ? error : "");
  snprintf(o->versions, sizeof o->versions, "%s", ain_lua_call_versions(call));
}

static void start_call(fx_t *f, const char *fn, out_t *o) {
  memset(o, 0, sizeof *o);
  ain_lua_call_opts_t co = {.module = "judge", .function = fn};
  ain_err_t err;
  ASSERT_OK(ain_lua_call(f->h, &co, on_call, o, NULL, &err));
}

static void finish_call(fx_t *f, out_t *o) {
  uint64_t end = ain_mono_ns() + 3000000000ull;
  while (!o->done && ain_mono_ns() < end) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  ASSERT_TRUE(o->done);
}

#define JUDGE(V)                                                                                   \
  "local M = {}\n"                                                                                 \
  "function M.decide(p, ctx) return { v = " #V " } end\n"                                          \
  "function M.slow(p, ctx) ain.sleep(1500) return { v = " #V " } end\n"                            \
  "return M\n"

static int version_count(fx_t *f, const char *module, int rejected) {
  ain_store_req_t r;
  ain_store_req_script_list(&r, module);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int n = 0;
  for (size_t i = 0; i < r.u.script_list.nversions; i++) {
    n += (r.u.script_list.versions[i].error != NULL) == rejected;
  }
  ain_store_req_cleanup(&r);
  return n;
}

TEST(hot_reload_by_rename) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v1[65], v2[65];
  sha_of(JUDGE(1), v1);
  sha_of(JUDGE(2), v2);
  ASSERT_TRUE(wait_serving(&f, "judge", v1, 10));
  out_t o;
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"v\":1}");
  ASSERT_STR_CONTAINS(o.versions, v1);
  uint64_t t0 = ain_mono_ns();
  write_file(&f, "agents/judge.lua", JUDGE(2));
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 2000));
  uint64_t ms = (ain_mono_ns() - t0) / 1000000;
  ASSERT_LE(ms, 1500); /* debounce 20 ms + a check on its thread, on a loaded machine */
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"v\":2}");
  ASSERT_STR_CONTAINS(o.versions, v2);
  ASSERT_EQ(version_count(&f, "judge", 0), 2);
  fx_close(&f);
}

TEST(call_in_flight_keeps_its_version) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v2[65];
  sha_of(JUDGE(2), v2);
  out_t a, b;
  start_call(&f, "slow", &a); /* sleeps 1.5 s on v1: longer than a reload on a loaded machine */
  write_file(&f, "agents/judge.lua", JUDGE(2));
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 2000));
  ASSERT_EQ(a.done, 0);
  start_call(&f, "decide", &b);
  finish_call(&f, &b);
  ASSERT_STR_EQ(b.result, "{\"v\":2}");
  finish_call(&f, &a);
  ASSERT_EQ(a.status, 0);
  ASSERT_STR_EQ(a.result, "{\"v\":1}"); /* started on v1, finished on v1 */
  ASSERT_TRUE(strstr(a.versions, v2) == NULL);
  fx_close(&f);
}

TEST(rejected_version_never_serves) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v1[65], v3[65];
  sha_of(JUDGE(1), v1);
  sha_of(JUDGE(3), v3);
  static const char *const bad[] = {
      "local M = {}\nfunction M.decide( return M\n",                      /* syntax */
      "local M = {}\nerror('boom')\nreturn M\n",                          /* runtime error */
      "return { other = function() end }\n",                              /* missing entry point */
      "return 42\n",                                                      /* wrong type */
      "while true do end\n",                                              /* infinite loop */
      "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end\n", /* memory bomb */
      "os.execute('true')\nreturn { decide = function() end }\n",
      "io.open('/etc/passwd')\nreturn { decide = function() end }\n",
      "debug.traceback()\nreturn { decide = function() end }\n",
      "package.loadlib('x', 'y')\nreturn { decide = function() end }\n",
      "string.dump(print)\nreturn { decide = function() end }\n",
      "load('\\27LJ')\nreturn { decide = function() end }\n",
      "setmetatable(_G, {})\nreturn { decide = function() end }\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(&f, "agents/judge.lua", bad[i]);
    /* wait until the store has recorded the rejection */
    uint64_t end = ain_mono_ns() + 5000000000ull;
    while (version_count(&f, "judge", 1) < (int)i + 1 && ain_mono_ns() < end) {
      spin(&f, 10);
    }
    ASSERT_EQ(version_count(&f, "judge", 1), (int)i + 1);
    char cur[65];
    ASSERT_OK(ain_lua_registry_serving(f.r, "judge", cur));
    ASSERT_STR_EQ(cur, v1);
    out_t o;
    start_call(&f, "decide", &o);
    finish_call(&f, &o);
    ASSERT_EQ(o.status, 0);
    ASSERT_STR_EQ(o.result, "{\"v\":1}");
  }
  ain_store_req_t r;
  ain_store_req_script_list(&r, "judge");
  ASSERT_OK(ain_store_wait(f.s, &r));
  int with_line = 0;
  for (size_t i = 0; i < r.u.script_list.nversions; i++) {
    const char *e = r.u.script_list.versions[i].error;
    if (e != NULL) {
      ASSERT_STR_CONTAINS(e, "agents/judge.lua");
      with_line += strstr(e, "agents/judge.lua:") != NULL;
    }
  }
  ASSERT_GE(with_line, 8);
  ain_store_req_cleanup(&r);
  write_file(&f, "agents/judge.lua", JUDGE(3)); /* a good one again is taken */
  ASSERT_TRUE(wait_serving(&f, "judge", v3, 2000));
  fx_close(&f);
}

TEST(deleted_file_keeps_last_good_and_sighup) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v1[65];
  sha_of(JUDGE(1), v1);
  uint64_t gen = ain_lua_registry_generation(f.r);
  char path[1024];
  snprintf(path, sizeof path, "%s/agents/judge.lua", f.dir);
  ASSERT_OK(unlink(path));
  spin(&f, 150);
  char cur[65];
  ASSERT_OK(ain_lua_registry_serving(f.r, "judge", cur));
  ASSERT_STR_EQ(cur, v1);
  ASSERT_EQ(ain_lua_registry_generation(f.r), gen);
  out_t o;
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"v\":1}");
  /* SIGHUP re-reads everything: the file is back with new content */
  FILE *fp = fopen(path, "w");
  fputs(JUDGE(4), fp);
  fclose(fp);
  ain_lua_registry_reload(f.r);
  char v4[65];
  sha_of(JUDGE(4), v4);
  ASSERT_TRUE(wait_serving(&f, "judge", v4, 1000));
  fx_close(&f);
}

TEST(pin_and_unpin) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v1[65], v2[65];
  sha_of(JUDGE(1), v1);
  sha_of(JUDGE(2), v2);
  write_file(&f, "agents/judge.lua", JUDGE(2));
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 2000));
  ain_store_req_t r;
  ain_store_req_script_pin(&r, "judge", v1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_TRUE(wait_serving(&f, "judge", v1, 1000)); /* within a pin poll (30 ms here) */
  out_t o;
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"v\":1}");
  ain_store_req_script_pin(&r, "judge", NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 1000));
  fx_close(&f);
}

TEST(check_source_contracts) {
  ain_lua_check_opts_t o = {
      .scripts_dir = "/nonexistent", .cpu_budget = 5000000, .mem_limit = 64 << 20};
  ain_err_t err;
  const char *good = "return { decide = function() end }";
  ASSERT_OK(ain_lua_check_source(&o, "judge", good, strlen(good), &err));
  ASSERT_EQ(ain_lua_check_source(&o, "planner", good, strlen(good), &err), AIN_ELUA);
  ASSERT_STR_CONTAINS(err.msg, "agents/planner.lua: missing entry point 'plan'");
  const char *persona = "return { id = 'zed', voice = {}, style = {} }";
  ASSERT_OK(ain_lua_check_source(&o, "personas/zed", persona, strlen(persona), &err));
  ASSERT_EQ(ain_lua_check_source(&o, "personas/zoe", persona, strlen(persona), &err), AIN_ELUA);
  const char *loop = "local x = 0\nwhile true do x = x + 1 end";
  ASSERT_EQ(ain_lua_check_source(&o, "judge", loop, strlen(loop), &err), AIN_EBUDGET_CPU);
  const char *bomb = "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end";
  o.timeout_ms = 20000; /* the memory cap, not the clock of a loaded machine, must stop it */
  ASSERT_EQ(ain_lua_check_source(&o, "judge", bomb, strlen(bomb), &err), AIN_EBUDGET_MEM);
  o.timeout_ms = 0;
  const char *io = "\nlocal f = io.open('/etc/passwd')\nreturn {decide = function() end}";
  ASSERT_EQ(ain_lua_check_source(&o, "judge", io, strlen(io), &err), AIN_ESANDBOX);
  ASSERT_STR_CONTAINS(err.msg, "agents/judge.lua:2: io.open is refused by the sandbox");
  char m[64];
  ASSERT_OK(ain_lua_module_for_path("x/scripts/agents/judge.lua", m, sizeof m));
  ASSERT_STR_EQ(m, "judge");
  ASSERT_OK(ain_lua_module_for_path("personas/ann.lua", m, sizeof m));
  ASSERT_STR_EQ(m, "personas/ann");
  ASSERT_OK(ain_lua_module_for_path("scripts/safety/hate.lua", m, sizeof m));
  ASSERT_STR_EQ(m, "safety/hate");
  const char *data = "return { words = { 'x' } }";
  ASSERT_OK(ain_lua_check_source(&o, "safety/hate", data, strlen(data), &err));
  const char *num = "return 42";
  ASSERT_EQ(ain_lua_check_source(&o, "safety/hate", num, strlen(num), &err), AIN_ELUA);
  ASSERT_STR_CONTAINS(err.msg, "safety/hate.lua must return a table");
  ASSERT_EQ(ain_lua_module_for_path("agents/.judge.lua.swp", m, sizeof m), AIN_EINVAL);
  ASSERT_EQ(ain_lua_module_for_path("other/judge.lua", m, sizeof m), AIN_EINVAL);
  ASSERT_EQ(ain_lua_module_for_path("agents/bad name.lua", m, sizeof m), AIN_EINVAL);
}

/* Top levels no count hook stops in time: one C call that backtracks for ever, and a loop whose
 * budget error a coroutine swallows. A check must give up on them at its deadline. */
#define WEDGE_FIND                                                                                 \
  "local x = string.find(('a'):rep(60), ('a*'):rep(30) .. 'b')\n"                                  \
  "return { decide = function() return { v = 0 } end }\n"
#define WEDGE_CO                                                                                   \
  "while true do coroutine.resume(coroutine.create(function() while true do end end)) end\n"

/* Runs the loop until `n` rejected versions of judge are recorded (or ms pass); *max_iter_ms
 * gets the longest single loop iteration, which is what a check run on the loop would show. */
static int wait_rejected(fx_t *f, int n, int ms, uint64_t *max_iter_ms) {
  uint64_t end = ain_mono_ns() + (uint64_t)ms * 1000000;
  while (ain_mono_ns() < end) {
    if (version_count(f, "judge", 1) >= n) {
      return 1;
    }
    uint64_t t = ain_mono_ns();
    uv_run(&f->loop, UV_RUN_ONCE);
    uint64_t it = (ain_mono_ns() - t) / 1000000;
    if (it > *max_iter_ms) {
      *max_iter_ms = it;
    }
  }
  return 0;
}

static void latest_error(fx_t *f, char *out, size_t cap) {
  ain_store_req_t r;
  ain_store_req_script_list(&r, "judge");
  ASSERT_OK(ain_store_wait(f->s, &r));
  out[0] = '\0';
  for (size_t i = 0; i < r.u.script_list.nversions; i++) {
    if (r.u.script_list.versions[i].error != NULL) {
      snprintf(out, cap, "%s", r.u.script_list.versions[i].error); /* newest first */
      break;
    }
  }
  ain_store_req_cleanup(&r);
}

TEST(check_source_gives_up_on_a_wedged_top_level) {
  ain_lua_check_opts_t o = {.scripts_dir = "/nonexistent",
                            .cpu_budget = 5000000,
                            .mem_limit = 64 << 20,
                            .timeout_ms = 200};
  static const char *const wedges[] = {WEDGE_FIND, WEDGE_CO};
  for (size_t i = 0; i < 2; i++) {
    ain_err_t err;
    uint64_t t0 = ain_mono_ns();
    ASSERT_EQ(ain_lua_check_source(&o, "judge", wedges[i], strlen(wedges[i]), &err),
              AIN_EBUDGET_CPU);
    uint64_t ms = (ain_mono_ns() - t0) / 1000000;
    ASSERT_LE(ms, 200 + AIN_LUA_CHECK_GRACE_MS +
                      2000); /* the deadline, with a loaded machine's margin */
    ASSERT_STR_CONTAINS(err.msg, "agents/judge.lua");
  }
}

TEST(check_source_refuses_invalid_utf8) {
  ain_lua_check_opts_t o = {.scripts_dir = "/nonexistent"};
  ain_err_t err;
  static const struct {
    const char *src, *want;
  } bad[] = {
      {"-- ok\nlocal s = 'caf\xc3'\nreturn { decide = function() return { s = s } end }\n",
       "agents/judge.lua:2:15: invalid UTF-8 (byte 0xc3)"},
      {"-- \xc3\xa9t\xc3\xa9 \xff\nreturn { decide = function() end }\n", /* after "été " */
       "agents/judge.lua:1:8: invalid UTF-8 (byte 0xff)"},
      {"return { decide = function() end } -- \xc0\x80\n", /* overlong NUL */
       "agents/judge.lua:1:39: invalid UTF-8 (byte 0xc0)"},
      {"local s = '\xed\xa0\x80'\nreturn { decide = function() end }\n", /* a surrogate */
       "agents/judge.lua:1:12: invalid UTF-8 (byte 0xed)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(ain_lua_check_source(&o, "judge", bad[i].src, strlen(bad[i].src), &err), AIN_EUTF8);
    ASSERT_STR_EQ(err.msg, bad[i].want);
  }
  const char *good = "-- caf\xc3\xa9 \xe2\x9c\x93\nreturn { decide = function() return { s = "
                     "'\xf0\x9f\x8e\xac' } end }\n";
  ASSERT_OK(ain_lua_check_source(&o, "judge", good, strlen(good), &err));
}

TEST(hot_reload_of_a_wedged_version_leaves_the_loop_alone) {
  fx_t f;
  /* a 1 s limit: a check run on the loop would hold it at least that long (a wedged one: for
   * ever); the bounds below are half of it, wide for a loaded machine */
  fx_open_ms(&f, JUDGE(1), 1000);
  char v1[65], v2[65];
  sha_of(JUDGE(1), v1);
  sha_of(JUDGE(2), v2);
  ASSERT_TRUE(wait_serving(&f, "judge", v1, 10));
  static const char *const wedges[] = {WEDGE_FIND, WEDGE_CO};
  for (int i = 0; i < 2; i++) {
    uint64_t t0 = ain_mono_ns(), max_iter = 0;
    write_file(&f, "agents/judge.lua", wedges[i]);
    ASSERT_TRUE(wait_rejected(&f, i + 1, 1000 + AIN_LUA_CHECK_GRACE_MS + 4000, &max_iter));
    uint64_t ms = (ain_mono_ns() - t0) / 1000000;
    ASSERT_LE(ms, 1000 + AIN_LUA_CHECK_GRACE_MS + 3000);
    /* the loop kept turning (its tick is 5 ms): the check never ran on it */
    ASSERT_LE(max_iter, 500);
    char e[1024];
    latest_error(&f, e, sizeof e);
    ASSERT_STR_CONTAINS(e, "EBUDGET_CPU: agents/judge.lua");
    char cur[65];
    ASSERT_OK(ain_lua_registry_serving(f.r, "judge", cur));
    ASSERT_STR_EQ(cur, v1);
    out_t o;
    start_call(&f, "decide", &o);
    finish_call(&f, &o);
    ASSERT_STR_EQ(o.result, "{\"v\":1}");
  }
  /* SIGHUP re-checks the wedged file on a thread too: the call returns at once */
  uint64_t t0 = ain_mono_ns();
  ain_lua_registry_reload(f.r);
  ASSERT_LE((ain_mono_ns() - t0) / 1000000, 500);
  /* a good version is taken while checks of the wedged one may still hold their threads */
  write_file(&f, "agents/judge.lua", JUDGE(2));
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 3000));
  fx_close(&f);
}

TEST(newest_version_wins) {
  fx_t f;
  fx_open_ms(&f, JUDGE(1), 300);
  char v1[65], v2[65];
  sha_of(JUDGE(1), v1);
  sha_of(JUDGE(2), v2);
  /* a bad version, then a good one, the bad one possibly still being checked (once the bounded
   * matcher charges pattern work to the budget, it may also be rejected first): either way the
   * newest is what serves, and a late outcome of the older check never displaces it */
  write_file(&f, "agents/judge.lua", WEDGE_FIND);
  spin(&f, 30);
  write_file(&f, "agents/judge.lua", JUDGE(2));
  ASSERT_TRUE(wait_serving(&f, "judge", v2, 3000));
  uint64_t gen = ain_lua_registry_generation(f.r);
  /* past the wedged check's deadline: its outcome no longer counts */
  spin(&f, 300 + AIN_LUA_CHECK_GRACE_MS + 300);
  char cur[65];
  ASSERT_OK(ain_lua_registry_serving(f.r, "judge", cur));
  ASSERT_STR_EQ(cur, v2);
  ASSERT_EQ(ain_lua_registry_generation(f.r), gen);
  /* the same with the file going back to the version that serves */
  write_file(&f, "agents/judge.lua", WEDGE_CO);
  spin(&f, 30);
  write_file(&f, "agents/judge.lua", JUDGE(2));
  spin(&f, 300 + AIN_LUA_CHECK_GRACE_MS + 300);
  ASSERT_OK(ain_lua_registry_serving(f.r, "judge", cur));
  ASSERT_STR_EQ(cur, v2);
  ASSERT_EQ(ain_lua_registry_generation(f.r), gen);
  out_t o;
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"v\":2}");
  fx_close(&f);
}

TEST(startup_with_a_wedged_policy) {
  char dir[600], p[1300];
  snprintf(dir, sizeof dir, "%s/scripts", ain_test_tmpdir());
  snprintf(p, sizeof p,
           "mkdir -p %s/agents %s/personas && printf \"%%s\" \"%s\" > %s/agents/judge.lua", dir,
           dir, "local x = string.find(('a'):rep(60), ('a*'):rep(30) .. 'b')", dir);
  ASSERT_EQ(system(p), 0);
  uint64_t t0 = ain_mono_ns();
  fx_t f;
  fx_open_ms(&f, NULL, 200); /* NULL: keep the file written above */
  ASSERT_LE((ain_mono_ns() - t0) / 1000000, 200 + AIN_LUA_CHECK_GRACE_MS + 3000);
  char cur[65];
  ASSERT_EQ(ain_lua_registry_serving(f.r, "judge", cur), AIN_ENOTFOUND);
  ASSERT_OK(ain_lua_registry_serving(f.r, "personas/ann", cur)); /* the others start */
  char e[1024];
  latest_error(&f, e, sizeof e);
  ASSERT_STR_CONTAINS(e, "EBUDGET_CPU: agents/judge.lua");
  ASSERT_STR_CONTAINS(e,
                      ": its top level "); /* ran longer than N ms, or its budget said so first */
  fx_close(&f);
}

TEST(hot_reload_refuses_invalid_utf8) {
  fx_t f;
  fx_open(&f, JUDGE(1));
  char v1[65];
  sha_of(JUDGE(1), v1);
  uint64_t max_iter = 0;
  write_file(&f, "agents/judge.lua",
             "local M = {}\nfunction M.decide() return { t = 'a\xff' } end\n"
             "return M\n");
  ASSERT_TRUE(wait_rejected(&f, 1, 5000, &max_iter));
  char e[1024];
  latest_error(&f, e, sizeof e);
  ASSERT_STR_EQ(e, "EUTF8: agents/judge.lua:2:36: invalid UTF-8 (byte 0xff)");
  ASSERT_TRUE(wait_serving(&f, "judge", v1, 10));
  fx_close(&f);
}

/* A safety data module (scripts/safety/) is watched, checked and versioned like a persona: a bad
 * version is recorded as rejected while the previous one keeps serving, a good edit is picked up,
 * and a call that requires it records its version. */
#define SAFETY_JUDGE                                                                               \
  "return { decide = function() return { w = require('safety/words').words[1] } end }\n"

TEST(safety_module_hot_reload) {
  fx_t f;
  memset(&f, 0, sizeof f);
  snprintf(f.dir, sizeof f.dir, "%s/scripts", ain_test_tmpdir());
  char p[700];
  snprintf(p, sizeof p, "mkdir -p %s/safety", f.dir);
  ASSERT_EQ(system(p), 0);
  write_file(&f, "safety/words.lua", "return { words = { 'one' } }\n");
  fx_open(&f, SAFETY_JUDGE);
  char v1[65], v2[65];
  sha_of("return { words = { 'one' } }\n", v1);
  sha_of("return { words = { 'two' } }\n", v2);
  ASSERT_TRUE(wait_serving(&f, "safety/words", v1, 2000));
  out_t o;
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"w\":\"one\"}");
  ASSERT_STR_CONTAINS(o.versions, "\"safety/words\":\"");
  ASSERT_STR_CONTAINS(o.versions, v1);
  static const char *const bad[] = {
      "return { words = { 'x' }\n",                      /* syntax */
      "return 'words'\n",                                /* not a table */
      "error('no lexicon')\n",                           /* runtime error */
      "return { words = { io.open('/etc/passwd') } }\n", /* sandbox */
      "return { words = { 'caf\xe9' } }\n",              /* invalid UTF-8 */
      "local t = {} while true do t[#t + 1] = 1 end\n",  /* budget */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(&f, "safety/words.lua", bad[i]);
    uint64_t end = ain_mono_ns() + 5000000000ull;
    while (version_count(&f, "safety/words", 1) < (int)i + 1 && ain_mono_ns() < end) {
      spin(&f, 10);
    }
    ASSERT_EQ(version_count(&f, "safety/words", 1), (int)i + 1);
    char cur[65];
    ASSERT_OK(ain_lua_registry_serving(f.r, "safety/words", cur));
    ASSERT_STR_EQ(cur, v1);
    start_call(&f, "decide", &o);
    finish_call(&f, &o);
    ASSERT_EQ(o.status, 0);
    ASSERT_STR_EQ(o.result, "{\"w\":\"one\"}");
  }
  ain_store_req_t r;
  ain_store_req_script_list(&r, "safety/words");
  ASSERT_OK(ain_store_wait(f.s, &r));
  for (size_t i = 0; i < r.u.script_list.nversions; i++) {
    const char *e = r.u.script_list.versions[i].error;
    if (e != NULL) {
      ASSERT_STR_CONTAINS(e, "safety/words.lua");
    }
  }
  ain_store_req_cleanup(&r);
  write_file(&f, "safety/words.lua", "return { words = { 'two' } }\n");
  ASSERT_TRUE(wait_serving(&f, "safety/words", v2, 3000));
  start_call(&f, "decide", &o);
  finish_call(&f, &o);
  ASSERT_STR_EQ(o.result, "{\"w\":\"two\"}");
  ASSERT_STR_CONTAINS(o.versions, v2);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(safety_module_hot_reload),
          TEST_ENTRY(check_source_gives_up_on_a_wedged_top_level),
          TEST_ENTRY(check_source_refuses_invalid_utf8),
          TEST_ENTRY(hot_reload_of_a_wedged_version_leaves_the_loop_alone),
          TEST_ENTRY(newest_version_wins), TEST_ENTRY(startup_with_a_wedged_policy),
          TEST_ENTRY(hot_reload_refuses_invalid_utf8), TEST_ENTRY(hot_reload_by_rename),
          TEST_ENTRY(call_in_flight_keeps_its_version), TEST_ENTRY(rejected_version_never_serves),
          TEST_ENTRY(deleted_file_keeps_last_good_and_sighup), TEST_ENTRY(pin_and_unpin),
          TEST_ENTRY(check_source_contracts))
