/* Checking one policy version (lua/registry.h): compile it, run its top level in a scratch
 * sandboxed host under the call budgets, and check the contract of its kind. Used by the registry
 * before it publishes a version, and by `ain check`.
 * The top level runs as a pseudo-call (h->running points at a stack call with no coroutine): the
 * count hook and the allocator then charge it like a step, and since it cannot yield, a budget
 * overrun raises an error instead, which the protected call catches.
 * Relies on: lua/internal.h (host internals), LuaJIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "lua/internal.h"
#include "lua/registry.h"

#define CHECK_DEFAULT_CPU_MS 2000

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
  int persona;
  if (base - path >= 9 && strncmp(base - 9, "personas/", 9) == 0) {
    persona = 1;
  } else if (base - path >= 7 && strncmp(base - 7, "agents/", 7) == 0) {
    persona = 0;
  } else {
    return AIN_EINVAL;
  }
  int w = snprintf(out, cap, "%s%.*s", persona ? "personas/" : "", (int)blen, base);
  return w > 0 && (size_t)w < cap ? 0 : AIN_EINVAL;
}

/* The file a module is loaded from, relative to scripts_dir (chunk names use it). */
static void rel_path(const char *module, char *out, size_t cap) {
  int persona = strncmp(module, "personas/", 9) == 0;
  snprintf(out, cap, "%s%s.lua", persona ? "" : "agents/", module);
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
    return 0;
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

/* Checks module (whose source the host already has) in the scratch host h. */
int ain__lua_check_in(ain_lua_host_t *h, const char *module, ain_err_t *err) {
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
  char rel[200];
  rel_path(module, rel, sizeof rel);
  int rc = 0;
  if (c.cpu_exceeded) {
    rc = ain_err_set(err, AIN_EBUDGET_CPU,
                     "%s: its top level ran past the CPU budget "
                     "(%s)",
                     rel, c.cpu_exceeded == 2 ? "loop time" : "instructions");
  } else if (c.mem_exceeded) {
    rc = ain_err_set(err, AIN_EBUDGET_MEM,
                     "%s: its top level needed more than %zu "
                     "bytes",
                     rel, h->mem_limit);
  } else if (st != 0) {
    int sandbox = c.sandbox_hit && m && strstr(m, "refused by the sandbox");
    rc = ain_err_set(err, sandbox ? AIN_ESANDBOX : AIN_ELUA, "%s", m ? m : "unknown error");
  }
  free(c.versions);
  lua_settop(L, top);
  lua_gc(L, LUA_GCCOLLECT, 0);
  return rc;
}

int ain_lua_check_source(const ain_lua_check_opts_t *opts, const char *module, const char *source,
                         size_t len, ain_err_t *err) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    return ain_err_set(err, AIN_EIO, "cannot create a loop");
  }
  ain_lua_opts_t lo = {.scripts_dir = opts->scripts_dir ? opts->scripts_dir : ".",
                       .name = "check",
                       .mem_limit = opts->mem_limit,
                       .cpu_budget = opts->cpu_budget,
                       .cpu_ms = opts->cpu_ms ? opts->cpu_ms : CHECK_DEFAULT_CPU_MS,
                       .allow_ffi = opts->allow_ffi,
                       .no_side_effects = 1};
  ain_lua_host_t *h = NULL;
  int rc = ain_lua_host_new(&loop, &lo, &h, err);
  if (rc != 0) {
    goto done;
  }
  rc = ain_lua_host_set_source(h, module, source, len, NULL, err);
  if (rc == 0) {
    rc = ain__lua_check_in(h, module, err);
  }
  ain_lua_host_free(h);
done:
  uv_loop_close(&loop);
  return rc;
}
