/* Checking one policy version (lua/registry.h): refuse source that is not UTF-8, compile it, run
 * its top level in a scratch sandboxed host under the call budgets, and check the contract of its
 * kind. Used by the registry before it publishes a version, and by `ain check`.
 * Every check is a job (lua/internal.h) run on a worker thread of its own (loop/worker.h), with
 * its own loop and host and copies of every source it reads: a top level that spins is stopped by
 * the count hook at its wall-clock limit, one wedged inside a single C call (a pathological
 * pattern) is abandoned by its owner at the deadline, and neither holds the caller.
 * The top level runs as a pseudo-call (h->running points at a stack call with no coroutine): the
 * count hook and the allocator then charge it like a step, and since it cannot yield, a budget
 * overrun raises an error instead, which the protected call catches.
 * Relies on: lua/internal.h (host internals), loop/worker.h, core/utf8.h, LuaJIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/util.h"
#include "loop/worker.h"
#include "lua/internal.h"
#include "lua/registry.h"

/* A top level only builds a table: a tight instruction budget, whatever a step may use. */
#define CHECK_MAX_CPU 10000000ull

/* Entry points each agents module must export (DESIGN §5, docs/lua-api.md). */
static const struct {
  const char *module;
  const char *entry;
} required[] = {{"pipeline", "build"},
                {"planner", "plan"},
                {"scriptwriter", "write"},
                {"judge", "decide"},
                {"publisher", "publish"}};

int ain_lua_module_for_path(const char *path, char *out, size_t cap) {
  size_t n = path ? strlen(path) : 0;
  if (n < 5 || strcmp(path + n - 4, ".lua") != 0) {
    return AIN_EINVAL;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t blen = strlen(base) - 4;
  if (blen == 0 || blen >= 100 || base[0] == '.') {
    return AIN_EINVAL;
  }
  for (size_t i = 0; i < blen; i++) {
    char ch = base[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-')) {
      return AIN_EINVAL;
    }
  }
  /* the folder right above the file decides the kind */
  static const char *const folders[] = {"agents/", "personas/", "safety/"};
  const char *prefix = NULL;
  for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
    size_t fl = strlen(folders[i]);
    if ((size_t)(base - path) >= fl && strncmp(base - fl, folders[i], fl) == 0) {
      prefix = i == 0 ? "" : folders[i];
    }
  }
  if (prefix == NULL) {
    return AIN_EINVAL;
  }
  int w = snprintf(out, cap, "%s%.*s", prefix, (int)blen, base);
  return w > 0 && (size_t)w < cap ? 0 : AIN_EINVAL;
}

/* The file a module is loaded from, relative to scripts_dir (chunk names use it). */
static void rel_path(const char *module, char *out, size_t cap) {
  ain__lua_module_rel(module, out, cap);
}

/* Message handler: give a message without a position the position of the innermost policy
 * line, so a refusal raised by a C function still reads "agents/x.lua:3: ...". */
static int msgh(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  h->running = NULL; /* the handler itself is not charged (it runs after a budget overrun) */
  const char *m = lua_tostring(L, 1);
  if (m == NULL) {
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    return 1;
  }
  lua_Debug ar;
  for (int level = 0; lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "Sl", &ar) && ar.source[0] == '@' && ar.currentline > 0) {
      char pos[300];
      snprintf(pos, sizeof pos, "%s:%d:", ar.source + 1, ar.currentline);
      if (strncmp(m, ar.source + 1, strlen(ar.source + 1)) != 0) {
        lua_pushfstring(L, "%s %s", pos, m);
        return 1;
      }
      break;
    }
  }
  lua_pushvalue(L, 1);
  return 1;
}

static int is_fn(lua_State *L, int t, const char *k) {
  lua_getfield(L, t, k);
  int ok = lua_isfunction(L, -1);
  lua_pop(L, 1);
  return ok;
}

/* A persona's voice = {provider, name, rate, pitch} (engine/media/tts*.c reads them): the fields a
 * synthesis would refuse are refused here, at load, naming the field. */
static int check_voice(lua_State *L, int v, const char *rel) {
  lua_getfield(L, v, "provider");
  if (!lua_isnil(L, -1)) {
    const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(p, "espeak") != 0 && strcmp(p, "festival") != 0 && strcmp(p, "openai") != 0) {
      return luaL_error(L, "%s: voice.provider must be \"espeak\", \"festival\" or \"openai\"",
                        rel);
    }
  }
  lua_getfield(L, v, "name");
  if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TSTRING || lua_objlen(L, -1) == 0 ||
                            lua_objlen(L, -1) > 64)) {
    return luaL_error(L, "%s: voice.name must be a voice name (1 to 64 bytes)", rel);
  }
  static const struct {
    const char *k;
    double lo, hi;
  } nums[] = {{"rate", 80, 450}, {"pitch", 0, 100}};
  for (size_t i = 0; i < 2; i++) {
    lua_getfield(L, v, nums[i].k);
    if (lua_isnil(L, -1)) {
      continue;
    }
    double x = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || x < nums[i].lo || x > nums[i].hi || x != (int)x) {
      return luaL_error(L, "%s: voice.%s must be a whole number from %d to %d", rel, nums[i].k,
                        (int)nums[i].lo, (int)nums[i].hi);
    }
  }
  lua_settop(L, v);
  return 0;
}

/* Runs inside the protected call: load the module, then check its contract. */
static int check_cf(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *module = lua_tostring(L, 1);
  char rel[200];
  rel_path(module, rel, sizeof rel);
  ain__lua_load_module(L, h, module);
  int t = lua_gettop(L);
  if (strncmp(module, "personas/", 9) == 0) {
    lua_getfield(L, t, "id");
    if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), module + 9) != 0) {
      return luaL_error(
          L, "%s: a persona needs id = \"%s\" (its file name), found %s", rel, module + 9,
          lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
    }
    static const char *const tables[] = {"voice", "style"};
    for (size_t i = 0; i < 2; i++) {
      lua_getfield(L, t, tables[i]);
      if (!lua_istable(L, -1)) {
        return luaL_error(L, "%s: a persona needs a '%s' table, found %s", rel, tables[i],
                          luaL_typename(L, -1));
      }
    }
    return check_voice(L, t + 2, rel);
  }
  if (strncmp(module, "safety/", 7) == 0) {
    return 0; /* safety data: the table the loader insists on is the whole contract */
  }
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (strcmp(module, required[i].module) == 0 && !is_fn(L, t, required[i].entry)) {
      lua_getfield(L, t, required[i].entry);
      return luaL_error(L, "%s: missing entry point '%s' (a function), found %s", rel,
                        required[i].entry, luaL_typename(L, -1));
    }
  }
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_isfunction(L, -1)) {
      return 0;
    }
    lua_pop(L, 1);
  }
  return luaL_error(L, "%s: the table it returns has no function (no entry point)", rel);
}

/* "agents/judge.lua:12" when msg starts with rel:LINE:, else rel. */
static void position_of(const char *rel, const char *msg, char *out, size_t cap) {
  size_t n = strlen(rel);
  snprintf(out, cap, "%s", rel);
  if (msg == NULL || strncmp(msg, rel, n) != 0 || msg[n] != ':') {
    return;
  }
  const char *p = msg + n + 1;
  const char *d = p;
  while (*d >= '0' && *d <= '9') {
    d++;
  }
  if (d > p && *d == ':') {
    snprintf(out, cap, "%s:%.*s", rel, (int)(d - p), p);
  }
}

int ain__lua_check_timed_out(const char *module, uint64_t ms, ain_err_t *err) {
  char rel[200];
  rel_path(module, rel, sizeof rel);
  return ain_err_set(err, AIN_EBUDGET_CPU,
                     "%s: its top level ran longer than %llu ms (the check stopped waiting for "
                     "it: it is stuck, likely inside one C call such as a pattern match)",
                     rel, (unsigned long long)ms);
}

/* Checks module (whose source the host already has) in the scratch host h. */
static int check_in(ain_lua_host_t *h, const char *module, ain_err_t *err) {
  lua_State *L = h->L;
  ain_lua_call_t c;
  memset(&c, 0, sizeof c);
  c.h = h;
  c.co_ref = LUA_NOREF;
  snprintf(c.module, sizeof c.module, "%s", module);
  snprintf(c.function, sizeof c.function, "(load)");
  snprintf(c.actor, sizeof c.actor, "registry:%s", module);
  c.versions = ain_strdup("{}");
  c.versions_len = c.versions_cap = 2;
  int top = lua_gettop(L);
  lua_pushcfunction(L, msgh);
  lua_pushcfunction(L, check_cf);
  lua_pushstring(L, module);
  h->running = &c;
  h->slice_start_ns = ain_mono_ns();
  int st = lua_pcall(L, 1, 0, top + 1);
  h->running = NULL;
  const char *m = st != 0 ? lua_tostring(L, -1) : NULL;
  char rel[200], pos[260];
  rel_path(module, rel, sizeof rel);
  position_of(rel, m, pos, sizeof pos);
  int rc = 0;
  if (c.cpu_exceeded == 2) {
    rc = ain_err_set(err, AIN_EBUDGET_CPU, "%s: its top level ran longer than %llu ms", pos,
                     (unsigned long long)(h->cpu_ns / 1000000));
  } else if (c.cpu_exceeded) {
    rc = ain_err_set(err, AIN_EBUDGET_CPU, "%s: its top level used more than %llu instructions",
                     pos, (unsigned long long)h->cpu_budget);
  } else if (c.mem_exceeded) {
    rc = ain_err_set(err, AIN_EBUDGET_MEM, "%s: its top level needed more than %zu bytes", pos,
                     h->mem_limit);
  } else if (st != 0) {
    int sandbox = c.sandbox_hit && m && strstr(m, "refused by the sandbox");
    rc = ain_err_set(err, sandbox ? AIN_ESANDBOX : AIN_ELUA, "%s", m ? m : "unknown error");
  }
  free(c.versions);
  lua_settop(L, top);
  lua_gc(L, LUA_GCCOLLECT, 0);
  return rc;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

ain__lua_check_job_t *ain__lua_check_job_new(const ain_lua_check_opts_t *opts, const char *module,
                                             const char *src, size_t len) {
  ain__lua_check_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    abort();
  }
  snprintf(j->module, sizeof j->module, "%s", module);
  j->src = malloc(len + 1);
  if (j->src == NULL) {
    abort();
  }
  memcpy(j->src, src, len);
  j->src[len] = '\0';
  j->len = len;
  j->o = *opts;
  j->o.scripts_dir = ain_strdup(opts->scripts_dir ? opts->scripts_dir : ".");
  if (j->o.cpu_budget == 0 || j->o.cpu_budget > CHECK_MAX_CPU) {
    j->o.cpu_budget = CHECK_MAX_CPU;
  }
  if (j->o.timeout_ms == 0) {
    j->o.timeout_ms = AIN_LUA_CHECK_DEFAULT_TIMEOUT_MS;
  }
  return j;
}

void ain__lua_check_job_add_dep(ain__lua_check_job_t *j, const char *module, const char *src,
                                size_t len) {
  if (j->ndeps == j->deps_cap) {
    size_t cap = j->deps_cap ? j->deps_cap * 2 : 16;
    struct ain__lua_check_dep *g = realloc(j->deps, cap * sizeof *g);
    if (g == NULL) {
      abort();
    }
    j->deps = g;
    j->deps_cap = cap;
  }
  struct ain__lua_check_dep *d = &j->deps[j->ndeps++];
  snprintf(d->module, sizeof d->module, "%s", module);
  d->src = malloc(len + 1);
  if (d->src == NULL) {
    abort();
  }
  memcpy(d->src, src, len);
  d->src[len] = '\0';
  d->len = len;
}

void ain__lua_check_job_free(void *p) {
  ain__lua_check_job_t *j = p;
  if (j == NULL) {
    return;
  }
  for (size_t i = 0; i < j->ndeps; i++) {
    free(j->deps[i].src);
  }
  free(j->deps);
  free((char *)j->o.scripts_dir);
  free(j->src);
  free(j);
}

uint64_t ain__lua_check_job_deadline_ms(const ain__lua_check_job_t *j) {
  return j->o.timeout_ms + AIN_LUA_CHECK_GRACE_MS;
}

void ain__lua_check_job_run(void *p) {
  ain__lua_check_job_t *j = p;
  ain_err_clear(&j->err);
  char rel[200];
  rel_path(j->module, rel, sizeof rel);
  /* Before Lua sees it: the compiler takes any bytes, and every string literal of a policy can
   * end up in a stored result. */
  ain_utf8_pos_t at;
  if (!ain_utf8_locate(j->src, j->len, &at)) {
    j->rc = ain_err_set(&j->err, AIN_EUTF8, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x)", rel, at.line,
                        at.column, at.byte);
    return;
  }
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    j->rc = ain_err_set(&j->err, AIN_EIO, "%s: cannot create a loop to check it in", rel);
    return;
  }
  ain_lua_opts_t lo = {.scripts_dir = j->o.scripts_dir,
                       .name = "check",
                       .mem_limit = j->o.mem_limit,
                       .cpu_budget = j->o.cpu_budget,
                       .cpu_ms = j->o.timeout_ms,
                       .allow_ffi = j->o.allow_ffi,
                       .no_side_effects = 1,
                       .sources_only = j->sources_only};
  ain_lua_host_t *h = NULL;
  j->rc = ain_lua_host_new(&loop, &lo, &h, &j->err);
  if (j->rc == 0) {
    for (size_t i = 0; i < j->ndeps; i++) {
      ain_lua_host_set_source(h, j->deps[i].module, j->deps[i].src, j->deps[i].len, NULL, NULL);
    }
    j->rc = ain_lua_host_set_source(h, j->module, j->src, j->len, NULL, &j->err);
    if (j->rc == 0) {
      j->rc = check_in(h, j->module, &j->err);
    }
    ain_lua_host_free(h);
  }
  uv_run(&loop, UV_RUN_NOWAIT); /* close callbacks of anything the host opened */
  uv_loop_close(&loop);
}

int ain__lua_check_job_wait(ain__lua_check_job_t *j, ain_err_t *err) {
  uint64_t ms = ain__lua_check_job_deadline_ms(j);
  char module[128];
  snprintf(module, sizeof module, "%s", j->module);
  int rc = ain_worker_run_for(ain__lua_check_job_run, j, ain__lua_check_job_free, ms);
  if (rc == AIN_ETIMEOUT) { /* the job is its thread's now */
    return ain__lua_check_timed_out(module, ms, err);
  }
  if (rc != 0) {
    ain__lua_check_job_free(j);
    return ain_err_set(err, AIN_EIO, "cannot start a thread to check %s", module);
  }
  rc = j->rc;
  if (rc != 0 && err != NULL) {
    *err = j->err;
  }
  ain__lua_check_job_free(j);
  return rc;
}

int ain_lua_check_source(const ain_lua_check_opts_t *opts, const char *module, const char *source,
                         size_t len, ain_err_t *err) {
  return ain__lua_check_job_wait(ain__lua_check_job_new(opts, module, source, len), err);
}
