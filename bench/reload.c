/* Script registry benchmarks (figures in docs/benchmarks.md):
 *  1. reload latency: a policy file is rewritten (rename-save) while calls run back to back on a
 *     host fed by the registry; latency = file renamed -> first call that ran the new version.
 *     The registry records each version in a SQLite store before it publishes, as in the engine.
 *  2. Lua step overhead with the JIT off (how policies run: count hooks need the interpreter)
 *     and on, for an empty policy call and for a 200-word text scan.
 * Usage: bench_reload [REWRITES] [CALLS]   (defaults 200, 50000)
 * Relies on: lua/registry.h, lua/host.h (and lua/internal.h to switch the JIT on), store/. */
#include <luajit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/log.h"
#include "core/util.h"
#include "lua/host.h"
#include "lua/internal.h"
#include "lua/registry.h"
#include "store/store.h"

typedef struct {
  uv_loop_t loop;
  ain_lua_host_t *h;
  uv_idle_t idle;
  char want[65]; /* the sha whose first call we wait for */
  uint64_t seen_ns;
  uint64_t calls;
} bench_t;

static void write_policy(const char *dir, int version) {
  char tmp[600], path[600];
  snprintf(tmp, sizeof tmp, "%s/agents/.judge.tmp", dir);
  snprintf(path, sizeof path, "%s/agents/judge.lua", dir);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    abort();
  }
  fprintf(f,
          "-- version %d\nlocal M = {}\nfunction M.decide(p, ctx) return { v = %d } end\n"
          "return M\n",
          version, version);
  fclose(f);
  if (rename(tmp, path) != 0) {
    abort();
  }
}

static void on_call(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  bench_t *b = data;
  b->calls++;
  if (b->want[0] && b->seen_ns == 0 && strstr(ain_lua_call_versions(call), b->want) != NULL) {
    b->seen_ns = ain_mono_ns();
  }
}

/* Calls back to back: one per loop iteration (the function does not yield). */
static void on_idle(uv_idle_t *i) {
  bench_t *b = i->data;
  ain_lua_call_opts_t o = {.module = "judge", .function = "decide"};
  ain_err_t err;
  if (ain_lua_call(b->h, &o, on_call, b, NULL, &err) != 0) {
    fprintf(stderr, "call: %s\n", err.msg);
    abort();
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void sha_hex(const char *s, char out[65]) {
  ain__lua_sha256_hex(s, strlen(s), out);
}

static void closed(void *d) {
  *(int *)d = 1;
}

static void bench_reload(int rewrites) {
  char dir[] = "/tmp/ain-bench-reload-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    abort();
  }
  char cmd[700];
  snprintf(cmd, sizeof cmd, "mkdir -p %s/agents %s/personas", dir, dir);
  if (system(cmd) != 0) {
    abort();
  }
  write_policy(dir, 0);
  bench_t b;
  memset(&b, 0, sizeof b);
  uv_loop_init(&b.loop);
  char url[700];
  snprintf(url, sizeof url, "sqlite:%s/b.db", dir);
  ain_store_config_t sc = {.url = url, .busy_timeout_ms = 5000, .synchronous_full = 1};
  ain_store_t *s = NULL;
  ain_err_t err;
  if (ain_store_open(&sc, &b.loop, &s, &err) != 0) {
    fprintf(stderr, "store: %s\n", err.msg);
    exit(1);
  }
  ain_store_req_t m;
  ain_store_req_migrate(&m);
  ain_store_wait(s, &m);
  ain_store_req_cleanup(&m);
  ain_lua_registry_opts_t ro = {.check = {.scripts_dir = dir}, .store = s, .pin_poll_ms = -1};
  ain_lua_registry_t *r = NULL;
  if (ain_lua_registry_new(&b.loop, &ro, &r, &err) != 0) {
    fprintf(stderr, "registry: %s\n", err.msg);
    exit(1);
  }
  ain_lua_opts_t lo = {.scripts_dir = dir, .name = "bench", .registry = r};
  ain_lua_host_new(&b.loop, &lo, &b.h, &err);
  uv_idle_init(&b.loop, &b.idle);
  b.idle.data = &b;
  uv_idle_start(&b.idle, on_idle);
  uint64_t *lat = calloc((size_t)rewrites, sizeof *lat);
  for (int k = 1; k <= rewrites; k++) {
    char src[300];
    snprintf(src, sizeof src,
             "-- version %d\nlocal M = {}\nfunction M.decide(p, ctx) return { v = %d } end\n"
             "return M\n",
             k, k);
    sha_hex(src, b.want);
    b.seen_ns = 0;
    uint64_t t0 = ain_mono_ns();
    write_policy(dir, k);
    while (b.seen_ns == 0 && ain_mono_ns() - t0 < 5000000000ull) {
      uv_run(&b.loop, UV_RUN_ONCE);
    }
    lat[k - 1] = b.seen_ns ? b.seen_ns - t0 : UINT64_MAX;
    uint64_t settle = ain_mono_ns();
    while (ain_mono_ns() - settle < 30000000ull) { /* calls keep running between rewrites */
      uv_run(&b.loop, UV_RUN_ONCE);
    }
  }
  uv_idle_stop(&b.idle);
  qsort(lat, (size_t)rewrites, sizeof *lat, cmp_u64);
  printf("reload latency (file renamed -> first call on the new version), %d rewrites, %llu calls "
         "ran meanwhile:\n  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
         rewrites, (unsigned long long)b.calls, lat[rewrites / 2] / 1e6,
         lat[(rewrites * 99) / 100 >= rewrites ? rewrites - 1 : (rewrites * 99) / 100] / 1e6,
         lat[rewrites - 1] / 1e6);
  free(lat);
  uv_close((uv_handle_t *)&b.idle, NULL);
  ain_lua_host_free(b.h);
  int rc = 0, sc2 = 0;
  ain_lua_registry_close(r, closed, &rc);
  while (!rc) {
    uv_run(&b.loop, UV_RUN_ONCE);
  }
  ain_store_close(s, closed, &sc2);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  uv_loop_close(&b.loop);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
}

static const char POLICY[] = "local M = {}\n"
                             "function M.empty(p, ctx) return nil end\n"
                             "function M.scan(p, ctx)\n"
                             "  local words, long, caps = 0, 0, 0\n"
                             "  for w in p.text:gmatch('%a+') do\n"
                             "    words = words + 1\n"
                             "    if #w > 6 then long = long + 1 end\n"
                             "    if w:match('^%u') then caps = caps + 1 end\n"
                             "  end\n"
                             "  return { words = words, long = long, caps = caps }\n"
                             "end\n"
                             "return M\n";

static void on_done(ain_lua_call_t *c, int status, const char *r, const char *e, void *d) {
  if (status != 0) {
    fprintf(stderr, "call failed: %s\n", e);
    abort();
  }
  (*(int *)d)++;
}

static double per_call_us(ain_lua_host_t *h, const char *fn, const char *payload, int n) {
  int done = 0;
  ain_err_t err;
  ain_lua_call_opts_t o = {.module = "judge", .function = fn, .payload_json = payload};
  for (int i = 0; i < n / 10; i++) { /* warm up (and let the JIT record traces) */
    ain_lua_call(h, &o, on_done, &done, NULL, &err);
  }
  uint64_t t0 = ain_mono_ns();
  for (int i = 0; i < n; i++) {
    ain_lua_call(h, &o, on_done, &done, NULL, &err);
  }
  return (double)(ain_mono_ns() - t0) / 1e3 / n;
}

static void bench_jit(int calls) {
  char payload[4096];
  int off = snprintf(payload, sizeof payload, "{\"text\":\"");
  static const char *const words[] = {"Morning", "routines", "matter", "because",    "tiny",
                                      "habits",  "compound", "into",   "remarkable", "Results"};
  for (int i = 0; i < 200; i++) {
    off += snprintf(payload + off, sizeof payload - (size_t)off, "%s ", words[i % 10]);
  }
  snprintf(payload + off, sizeof payload - (size_t)off, "\"}");
  printf("Lua step overhead, %d calls each (mean per call):\n", calls);
  for (int jit = 0; jit < 2; jit++) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    ain_lua_opts_t lo = {.scripts_dir = "/nonexistent", .name = "bench"};
    ain_lua_host_t *h;
    ain_err_t err;
    ain_lua_host_new(&loop, &lo, &h, &err);
    ain_lua_host_set_source(h, "judge", POLICY, sizeof POLICY - 1, NULL, &err);
    if (jit) {
      luaJIT_setmode(h->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
    }
    double e = per_call_us(h, "empty", NULL, calls);
    double s = per_call_us(h, "scan", payload, calls / 5);
    printf("  JIT %-3s  empty call %6.2f us   200-word scan %7.2f us\n", jit ? "on" : "off", e, s);
    ain_lua_host_free(h);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
}

int main(int argc, char **argv) {
  int rewrites = argc > 1 ? atoi(argv[1]) : 200;
  int calls = argc > 2 ? atoi(argv[2]) : 50000;
  ain_log_set_level(AIN_LOG_ERROR);
  bench_reload(rewrites > 0 ? rewrites : 200);
  bench_jit(calls > 0 ? calls : 50000);
  return 0;
}
