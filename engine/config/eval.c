/* A config file's chunk run under a budget (config/internal.h). Every command loads the config
 * first, so a file that spins (`while true do end`), allocates without end or wedges inside one C
 * call (a pathological string.find) must fail the command, not hang it:
 *  - the JIT is off, so a count hook sees every VM instruction; past the instruction budget or the
 *    wall-clock limit it raises, and then raises on every instruction (pcall cannot swallow it:
 *    the first instruction outside the pcall raises again);
 *  - an allocator fails what would pass the memory cap while the chunk runs;
 *  - the chunk runs on a worker thread (loop/worker.h) the loader waits for at most the wall limit
 *    plus a grace period; a chunk stuck inside C is abandoned with its state.
 * Relies on: LuaJIT, loop/worker.h, core/util.h. */
#include <lauxlib.h>
#include <luajit.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
#include "core/util.h"
#include "loop/worker.h"

#define HOOK_EVERY 1000

struct ain__config_eval {
  lua_State *L;
  char *src;
  size_t len;
  char chunkname[1100];
  size_t mem_used;
  int capped;       /* the chunk is running: allocations count against the cap */
  int mem_exceeded; /* an allocation was refused */
  int exceeded;     /* 1: instructions, 2: wall clock */
  uint64_t instructions, start_ns;
  int status; /* of the chunk's lua_pcall (or its load) */
};

static void *eval_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  ain__config_eval_t *ev = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    ev->mem_used -= old;
    return NULL;
  }
  if (ev->capped && nsize > old && ev->mem_used + (nsize - old) > AIN__CONFIG_MAX_MEM) {
    ev->mem_exceeded = 1;
    return NULL;
  }
  void *np = realloc(ptr, nsize);
  if (np != NULL) {
    ev->mem_used = ev->mem_used - old + nsize;
  }
  return np;
}

static void eval_hook(lua_State *L, lua_Debug *ar) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  ain__config_eval_t *ev = ud;
  if (!ev->capped) {
    return;
  }
  if (!ev->exceeded) {
    ev->instructions += HOOK_EVERY;
    if (ev->instructions > AIN__CONFIG_MAX_INSTRUCTIONS) {
      ev->exceeded = 1;
    } else if (ain_mono_ns() - ev->start_ns > AIN__CONFIG_MAX_MS * 1000000ull) {
      ev->exceeded = 2;
    } else {
      return;
    }
    /* From now on every instruction raises, so a pcall in the chunk cannot keep it going. */
    lua_sethook(L, eval_hook, LUA_MASKCOUNT, 1);
  }
  luaL_error(L, "the config exceeded its budget");
}

/* __newindex of the config's environment: store the value and remember the assignment's line. */
static int record_assignment(lua_State *L) {
  lua_Debug ar;
  int line = 0;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar)) {
    line = ar.currentline;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "ain.config.lines");
  lua_pushvalue(L, 2);
  lua_pushinteger(L, line);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawset(L, 1);
  return 0;
}

/* The worker body: libraries, the chunk, its environment, the protected run. */
static void eval_run(void *arg) {
  ain__config_eval_t *ev = arg;
  lua_State *L = ev->L;
  /* Only what a config file needs: no io/os/debug/jit. */
  static const lua_CFunction libs[] = {luaopen_base, luaopen_string, luaopen_table, luaopen_math};
  for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
    lua_pushcfunction(L, libs[i]);
    lua_call(L, 0, 0);
  }
  static const char *unsafe[] = {"dofile", "loadfile", "load", "loadstring", "require", "module"};
  for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
    lua_pushnil(L);
    lua_setglobal(L, unsafe[i]);
  }
  /* Count hooks do not fire in compiled traces. */
  luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  lua_sethook(L, eval_hook, LUA_MASKCOUNT, HOOK_EVERY);
  ev->status = luaL_loadbuffer(L, ev->src, ev->len, ev->chunkname);
  if (ev->status != 0) {
    return;
  }
  /* The chunk's environment: an empty table whose assignments are recorded with their line;
   * reads fall back to the real globals (string, math...). */
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "ain.config.lines");
  lua_newtable(L); /* env */
  lua_newtable(L); /* its metatable */
  lua_pushcfunction(L, record_assignment);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "ain.config.env");
  lua_setfenv(L, -2);
  ev->start_ns = ain_mono_ns();
  ev->capped = 1;
  ev->status = lua_pcall(L, 0, 1, 0);
  ev->capped = 0;
  lua_sethook(L, NULL, 0, 0); /* the loader's own walk is not charged */
  if (ev->status == 0 && lua_type(L, -1) != LUA_TTABLE) {
    /* `return { ... }` is accepted too; otherwise the assignments are the values */
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "ain.config.env");
  }
}

void ain__config_eval_free(ain__config_eval_t *ev) {
  if (ev == NULL) {
    return;
  }
  if (ev->L != NULL) {
    lua_close(ev->L);
  }
  free(ev->src);
  free(ev);
}

static void eval_release(void *arg) {
  ain__config_eval_free(arg);
}

lua_State *ain__config_eval_state(ain__config_eval_t *ev) {
  return ev->L;
}

int ain__config_eval(const char *path, const char *src, size_t len, ain__config_eval_t **out,
                     ain_err_t *err) {
  *out = NULL;
  ain__config_eval_t *ev = calloc(1, sizeof *ev);
  if (ev == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "%s: out of memory", path);
  }
  ev->src = malloc(len + 1);
  if (ev->src == NULL) {
    free(ev);
    return ain_err_set(err, AIN_ENOMEM, "%s: out of memory", path);
  }
  memcpy(ev->src, src, len);
  ev->src[len] = '\0';
  ev->len = len;
  snprintf(ev->chunkname, sizeof ev->chunkname, "@%s", path);
  int rc = 0;
  ev->L = lua_newstate(eval_alloc, ev);
  if (ev->L == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "cannot create a Lua state for the config");
    goto fail;
  }
  uint64_t wait_ms = AIN__CONFIG_MAX_MS + AIN__CONFIG_GRACE_MS;
  rc = ain_worker_run_for(eval_run, ev, eval_release, wait_ms);
  if (rc == AIN_ETIMEOUT) {
    /* the thread owns ev now and frees it if the chunk ever returns */
    return ain_err_field(err, AIN_ECONFIG, "",
                         "%s: the config exceeded its budget (it did not finish within %llu ms; "
                         "stuck inside a C call such as a pattern match?)",
                         path, (unsigned long long)wait_ms);
  }
  if (rc != 0) {
    rc = ain_err_set(err, AIN_EIO, "%s: cannot start a thread to evaluate the config", path);
    goto fail;
  }
  if (ev->exceeded || ev->mem_exceeded) {
    char what[100];
    if (ev->exceeded == 1) {
      snprintf(what, sizeof what, "more than %llu VM instructions",
               (unsigned long long)AIN__CONFIG_MAX_INSTRUCTIONS);
    } else if (ev->exceeded == 2) {
      snprintf(what, sizeof what, "ran longer than %llu ms",
               (unsigned long long)AIN__CONFIG_MAX_MS);
    } else {
      snprintf(what, sizeof what, "more than %zu MiB of memory", AIN__CONFIG_MAX_MEM >> 20);
    }
    rc = ain_err_field(err, AIN_ECONFIG, "", "%s: the config exceeded its budget (%s)", path, what);
    goto fail;
  }
  if (ev->status != 0) {
    const char *m = lua_tostring(ev->L, -1);
    rc = ain_err_field(err, AIN_ECONFIG, "", "%s", m ? m : "the config failed to run");
    goto fail;
  }
  *out = ev;
  return 0;
fail:
  ain__config_eval_free(ev);
  return rc;
}
