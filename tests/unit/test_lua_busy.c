/* The Lua host's view for the watchdog (ain_lua_host_busy, engine/lua/busy.c), read from another
 * thread while a policy runs, as the engine's watchdog reads it: when the running resume began
 * and which call it is; nothing once the call is over.
 * Relies on: lua/host.h, libuv (threads), the C harness. */
#include <stdatomic.h>
#include <string.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "lua/host.h"

/* Pure Lua for a few hundred milliseconds (the JIT is off in the host): well inside the budgets. */
static const char spin_src[] = "local M = {}\n"
                               "function M.run(p, ctx)\n"
                               "  local x = 0\n"
                               "  for i = 1, p.n do x = (x + i) % 1000003 end\n"
                               "  return { x = x }\n"
                               "end\n"
                               "return M\n";

typedef struct {
  ain_lua_host_t *h;
  atomic_int stop;
  int samples, busy;
  uint64_t first_since, last_since;
  char task_id[64], what[260];
} sampler_t;

static void sample(void *arg) {
  sampler_t *s = arg;
  while (!atomic_load(&s->stop)) {
    ain_lua_busy_t b;
    s->samples++;
    if (ain_lua_host_busy(s->h, &b) != 0) {
      ASSERT_TRUE(b.what[0] != '\0'); /* the names come with the start, never without */
      if (s->busy++ == 0) {
        s->first_since = b.since_ns;
        snprintf(s->task_id, sizeof s->task_id, "%s", b.task_id);
        snprintf(s->what, sizeof s->what, "%s", b.what);
      }
      s->last_since = b.since_ns;
    }
    uv_sleep(1);
  }
}

static int done_status = -1;

static void on_done(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  (void)call;
  (void)result;
  (void)data;
  if (status != 0) {
    fprintf(stderr, "call failed: %s\n", error);
  }
  done_status = status;
}

TEST(busy_seen_from_another_thread) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_lua_opts_t o = {.scripts_dir = ain_test_tmpdir(),
                      .name = "busy",
                      .cpu_budget = 2000000000ull,
                      .cpu_ms = 60000,
                      .sources_only = 1};
  ain_lua_host_t *h = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_lua_host_new(&loop, &o, &h, &err));
  ASSERT_OK(ain_lua_host_set_source(h, "spin", spin_src, sizeof spin_src - 1, NULL, &err));
  ain_lua_busy_t b;
  ASSERT_EQ(ain_lua_host_busy(h, &b), 0);
  ASSERT_STR_EQ(b.what, "");

  sampler_t s = {.h = h};
  uv_thread_t th;
  ASSERT_OK(uv_thread_create(&th, sample, &s));
  uint64_t before = ain_mono_ns();
  ain_lua_call_opts_t co = {.module = "spin",
                            .function = "run",
                            .payload_json = "{\"n\":20000000}",
                            .ctx_json = "{\"task_id\":\"t-busy-1\"}"};
  /* The call never yields: it runs to the end inside ain_lua_call, on this thread. */
  ASSERT_OK(ain_lua_call(h, &co, on_done, NULL, NULL, &err));
  uint64_t after = ain_mono_ns();
  atomic_store(&s.stop, 1);
  ASSERT_OK(uv_thread_join(&th));
  ASSERT_EQ(done_status, 0);
  ASSERT_GE(s.busy, 1); /* it ran for longer than many 1 ms samples */
  ASSERT_STR_EQ(s.task_id, "t-busy-1");
  ASSERT_STR_EQ(s.what, "spin.run");
  ASSERT_TRUE(s.first_since >= before && s.first_since <= after);
  ASSERT_EQ(s.last_since, s.first_since); /* one resume: the start does not move */
  ASSERT_EQ(ain_lua_host_busy(h, &b), 0); /* over: nothing runs */
  ain_lua_host_free(h);
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(busy_seen_from_another_thread))
