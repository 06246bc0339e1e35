/* ain.spawn: runs a program the operator listed in the config's spawn.allow, never anything else.
 *
 * What a call goes through, in order (each refusal is nil, "ESANDBOX: ain.spawn: ...", "ESANDBOX"
 * naming the program and what failed; misuse of the table raises):
 *   1. cmd[1] must be a path listed in spawn.allow (as written or as its real path): no PATH
 *      lookup, no shells or interpreters (config/spawn.c refused those at load);
 *   2. every argument must match the entry's patterns (config/spawn.h);
 *   3. the environment is built from nothing: spawn.env, the entry's env, then the policy's env,
 *      whose names may not be AIN_* (the engine's secrets), LD_* and the like, nor override a
 *      name the operator set;
 *   4. the working directory is the data folder, or a folder below it named relative to it; its
 *      real path (symlinks resolved) must stay inside;
 *   5. the wall clock is spawn.timeout_ms, or less when the policy asks.
 * The program then runs through ain-spawn-helper (engine/spawn_helper.c), which sets the
 * entry's rlimits between fork and exec, in its own session, so the timeout, a cancel or shutdown
 * kill its whole process group (loop/proc.c).
 * Yield-on-I/O as in ain_mod.c: the op points back at the call; a cancelled op only frees itself
 * when the child's callback comes.
 * Relies on: config/spawn.h, loop/proc.h, lua/internal.h, core/log.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "loop/proc.h"
#include "lua/internal.h"

#define SPAWN_HELPER_NAME "ain-spawn-helper"

typedef struct {
  ain_proc_t *proc;
  ain_lua_call_t *call; /* NULL once cancelled */
} spawn_op_t;

static void spawn_cancel(void *p) {
  spawn_op_t *op = p;
  op->call = NULL;
  ain_proc_kill(op->proc); /* its callback still comes, and frees op */
}

static void spawn_done(ain_proc_t *p, const ain_proc_result_t *res, void *data) {
  spawn_op_t *op = data;
  ain_lua_call_t *call = op->call;
  free(op);
  if (call == NULL) {
    return;
  }
  call->pending.cancel = NULL;
  lua_State *co = call->co;
  lua_createtable(co, 0, 9);
  lua_pushnumber(co, (lua_Number)res->exit_status);
  lua_setfield(co, -2, "status");
  lua_pushinteger(co, res->term_signal);
  lua_setfield(co, -2, "signal");
  lua_pushlstring(co, res->out, res->out_len);
  lua_setfield(co, -2, "stdout");
  lua_pushlstring(co, res->err, res->err_len);
  lua_setfield(co, -2, "stderr");
  lua_pushboolean(co, res->timed_out);
  lua_setfield(co, -2, "timed_out");
  lua_pushboolean(co, res->truncated);
  lua_setfield(co, -2, "truncated");
  lua_pushnumber(co, res->elapsed_ms);
  lua_setfield(co, -2, "elapsed_ms");
  /* The kernel's way of enforcing these two limits is a signal; name it for the policy. */
  if (res->term_signal == SIGXCPU) {
    lua_pushliteral(co, "cpu");
    lua_setfield(co, -2, "limit");
  } else if (res->term_signal == SIGXFSZ) {
    lua_pushliteral(co, "file_size");
    lua_setfield(co, -2, "limit");
  }
  ain__lua_resume(call, 1);
}

/* Validates a spawn table before anything is allocated (argerror does not return). */
static void spawn_check(lua_State *L, int *argc, int *envc) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "cmd");
  if (!lua_istable(L, -1) || lua_objlen(L, -1) == 0) {
    luaL_argerror(L, 1, "cmd must be a non-empty array of strings");
  }
  *argc = (int)lua_objlen(L, -1);
  for (int i = 1; i <= *argc; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_argerror(L, 1, lua_pushfstring(L, "cmd[%d] must be a string", i));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "stdin");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) {
    luaL_argerror(L, 1, "stdin must be a string");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "timeout_ms");
  if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0))) {
    luaL_argerror(L, 1, "timeout_ms must be a number >= 0");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "cwd");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) {
    luaL_argerror(L, 1, "cwd must be a string");
  }
  lua_pop(L, 1);
  *envc = 0;
  lua_getfield(L, 1, "env");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      luaL_argerror(L, 1, "env must be a table of name = value strings");
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
        luaL_argerror(L, 1, "env must be a table of name = value strings");
      }
      (*envc)++;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* nil, "ESANDBOX: ain.spawn: <msg>", "ESANDBOX"; also a warning in the log, since a refusal is
 * either a policy bug or someone probing the sandbox. */
static int refuse(lua_State *L, const char *msg) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  ain_log_ctx_t lc = {.actor = h->name, .state_version = -1};
  if (h->running != NULL) {
    lc.task_id = h->running->task_id[0] ? h->running->task_id : NULL;
    lc.dag_id = h->running->dag_id[0] ? h->running->dag_id : NULL;
    lc.actor = h->running->actor;
  }
  ain_log(AIN_LOG_WARN, &lc, "ain.spawn refused: %s", msg);
  return ain__lua_push_fail(L, AIN_ESANDBOX, "ain.spawn: %s", msg);
}

/* The helper beside the running binary (build/ain and build/test_x alike), unless the config
 * names one. Resolved once per host. */
static const char *helper_path(ain_lua_host_t *h, char *why, size_t why_len) {
  if (h->spawn_helper != NULL) {
    return h->spawn_helper;
  }
  char path[PATH_MAX];
  if (h->spawn->helper != NULL) {
    snprintf(path, sizeof path, "%s", h->spawn->helper);
  } else {
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) {
      snprintf(why, why_len, "cannot read /proc/self/exe to find %s: %s", SPAWN_HELPER_NAME,
               strerror(errno));
      return NULL;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) + sizeof SPAWN_HELPER_NAME + 1 > sizeof path) {
      snprintf(why, why_len, "cannot place %s beside %s", SPAWN_HELPER_NAME, path);
      return NULL;
    }
    memcpy(slash + 1, SPAWN_HELPER_NAME, sizeof SPAWN_HELPER_NAME);
  }
  if (access(path, X_OK) != 0) {
    snprintf(why, why_len,
             "%s is missing (%s); install it beside ain or set spawn.helper in the config", path,
             strerror(errno));
    return NULL;
  }
  h->spawn_helper = ain_strdup(path);
  return h->spawn_helper;
}

/* Resolves the policy's cwd (NULL = the data folder) to a real path inside the data folder. */
static int resolve_cwd(ain_lua_host_t *h, const char *cwd, char out[PATH_MAX], char *why,
                       size_t why_len) {
  char root[PATH_MAX];
  if (realpath(h->data_dir, root) == NULL) {
    /* A fresh install may not have its data folder yet; the children's home is created here. */
    if (errno != ENOENT || ain_mkdir_p(h->data_dir) != 0 || realpath(h->data_dir, root) == NULL) {
      snprintf(why, why_len, "the data folder %s is not usable: %s", h->data_dir, strerror(errno));
      return -1;
    }
  }
  if (cwd == NULL || cwd[0] == '\0' || strcmp(cwd, ".") == 0) {
    memcpy(out, root, strlen(root) + 1);
    return 0;
  }
  if (cwd[0] == '/') {
    snprintf(why, why_len, "cwd '%.200s' must be relative to the data folder", cwd);
    return -1;
  }
  for (const char *p = cwd; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p)) {
    if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
      snprintf(why, why_len, "cwd '%.200s' may not contain '..' (it must stay in the data folder)",
               cwd);
      return -1;
    }
  }
  char joined[PATH_MAX * 2];
  snprintf(joined, sizeof joined, "%s/%s", root, cwd);
  if (realpath(joined, out) == NULL) {
    snprintf(why, why_len, "cwd '%.200s': %s", cwd, strerror(errno));
    return -1;
  }
  size_t rl = strlen(root);
  /* A symlink inside the data folder may point anywhere: judge the real path. */
  if (strncmp(out, root, rl) != 0 || (out[rl] != '/' && out[rl] != '\0')) {
    snprintf(why, why_len, "cwd '%.200s' resolves to %.200s, outside the data folder %.200s", cwd,
             out, root);
    return -1;
  }
  struct stat st;
  if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(why, why_len, "cwd '%.200s' is not a folder", cwd);
    return -1;
  }
  return 0;
}

typedef struct {
  char **v; /* "NAME=value", owned */
  size_t n, cap;
} envv_t;

static void envv_free(envv_t *e) {
  for (size_t i = 0; i < e->n; i++) {
    free(e->v[i]);
  }
  free(e->v);
}

/* Index of NAME in e, or -1. */
static long envv_find(const envv_t *e, const char *name, size_t name_len) {
  for (size_t i = 0; i < e->n; i++) {
    if (strncmp(e->v[i], name, name_len) == 0 && e->v[i][name_len] == '=') {
      return (long)i;
    }
  }
  return -1;
}

/* Sets "NAME=value" (kv, copied), replacing an earlier value of NAME. -1 on OOM. */
static int envv_put(envv_t *e, const char *kv) {
  const char *eq = strchr(kv, '=');
  long at = envv_find(e, kv, eq ? (size_t)(eq - kv) : strlen(kv));
  char *copy = ain_strdup(kv);
  if (at >= 0) {
    free(e->v[at]);
    e->v[at] = copy;
    return 0;
  }
  if (e->n + 2 > e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 16;
    char **nv = realloc(e->v, cap * sizeof *nv);
    if (nv == NULL) {
      free(copy);
      return -1;
    }
    e->v = nv;
    e->cap = cap;
  }
  e->v[e->n++] = copy;
  e->v[e->n] = NULL;
  return 0;
}

/* The child's whole environment; the engine's own is never passed on. Returns 0, or fills why. */
static int build_env(lua_State *L, const ain_spawn_config_t *sc, const ain_spawn_entry_t *e,
                     envv_t *out, char *why, size_t why_len) {
  for (size_t i = 0; i < sc->nenv; i++) {
    if (envv_put(out, sc->env[i]) != 0) {
      return luaL_error(L, "ain.spawn: out of memory");
    }
  }
  for (size_t i = 0; i < e->nenv; i++) {
    if (envv_put(out, e->env[i]) != 0) {
      return luaL_error(L, "ain.spawn: out of memory");
    }
  }
  size_t operator_set = out->n;
  lua_getfield(L, 1, "env");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  int rc = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *name = lua_tostring(L, -2);
    ain_err_t err = {0};
    if (rc == 0 && ain_spawn_env_name_check(name, &err) != 0) {
      snprintf(why, why_len, "%s: %s", e->path, err.msg);
      rc = -1;
    }
    long at = rc == 0 ? envv_find(out, name, strlen(name)) : -1;
    if (rc == 0 && at >= 0 && (size_t)at < operator_set) {
      snprintf(why, why_len, "%s: env name '%s' is set by the operator (spawn.env or the allow "
               "entry) and may not be changed by a policy", e->path, name);
      rc = -1;
    }
    if (rc == 0) {
      lua_pushfstring(L, "%s=%s", name, lua_tostring(L, -1));
      int bad = envv_put(out, lua_tostring(L, -1));
      lua_pop(L, 1);
      if (bad) {
        return luaL_error(L, "ain.spawn: out of memory");
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

/* ain.spawn{cmd = {"/abs/program", args...}, stdin = s, timeout_ms = n, env = {K = V},
 * cwd = "relative/to/data_dir"} */
static int l_spawn(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  int argc = 0, envc = 0;
  spawn_check(L, &argc, &envc);
  (void)envc;
  int refused = ain__lua_no_side_effects(L, "ain.spawn");
  if (refused) {
    return refused;
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.spawn");
  char why[1200];
  lua_getfield(L, 1, "cmd");
  int cmd_idx = lua_gettop(L);
  lua_rawgeti(L, cmd_idx, 1);
  const char *prog = lua_tostring(L, -1);
  lua_pop(L, 1); /* still anchored by cmd */
  const ain_spawn_entry_t *e = ain_spawn_config_find(h->spawn, prog);
  if (e == NULL) {
    snprintf(why, sizeof why,
             "'%.300s' is not on the allowlist (the config's spawn.allow lists absolute paths; "
             "shells and interpreters are never allowed)",
             prog);
    return refuse(L, why);
  }
  /* Lua owns the strings; they stay alive on this stack until uv_spawn has exec'd the child. */
  const char *helper = helper_path(h, why, sizeof why);
  if (helper == NULL) {
    return refuse(L, why);
  }
  char **argv = calloc((size_t)argc + 8, sizeof *argv);
  if (argv == NULL) {
    return luaL_error(L, "ain.spawn: out of memory");
  }
  for (int i = 1; i <= argc; i++) {
    lua_rawgeti(L, cmd_idx, i);
    argv[6 + i] = (char *)lua_tostring(L, -1); /* anchored by cmd, which stays on the stack */
    lua_pop(L, 1);
  }
  argv[7] = e->real; /* what was checked at load, not what the policy spelled */
  ain_err_t err = {0};
  if (ain_spawn_entry_check_args(e, argv + 7, (size_t)argc, &err) != 0) {
    free(argv);
    return refuse(L, err.msg);
  }
  /* Never NULL, even when empty: a NULL environment would make libuv pass on the engine's. */
  envv_t env = {.v = calloc(16, sizeof(char *)), .cap = 16};
  if (env.v == NULL) {
    free(argv);
    return luaL_error(L, "ain.spawn: out of memory");
  }
  if (build_env(L, h->spawn, e, &env, why, sizeof why) != 0) {
    envv_free(&env);
    free(argv);
    return refuse(L, why);
  }
  lua_getfield(L, 1, "cwd");
  char cwd[PATH_MAX];
  if (resolve_cwd(h, lua_tostring(L, -1), cwd, why, sizeof why) != 0) {
    envv_free(&env);
    free(argv);
    char msg[1400];
    snprintf(msg, sizeof msg, "%s: %s", e->path, why);
    return refuse(L, msg);
  }
  char lim[5][24];
  const int64_t *lv = &e->limits.cpu_s;
  for (int i = 0; i < 5; i++) {
    snprintf(lim[i], sizeof lim[i], "%lld", (long long)lv[i]);
    argv[1 + i] = lim[i];
  }
  argv[0] = (char *)helper;
  argv[6] = "--";
  lua_getfield(L, 1, "stdin");
  size_t in_len = 0;
  const char *in = lua_tolstring(L, -1, &in_len);
  lua_getfield(L, 1, "timeout_ms");
  double asked = lua_tonumber(L, -1); /* compared as a double: math.huge must not be cast */
  int64_t timeout = h->spawn->timeout_ms; /* the operator's wall clock is a cap, not a suggestion */
  if (asked >= 1 && asked <= (double)h->spawn->timeout_ms) {
    timeout = (int64_t)asked;
  }
  spawn_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    envv_free(&env);
    free(argv);
    return luaL_error(L, "ain.spawn: out of memory");
  }
  ain_proc_opts_t po = {.file = helper,
                        .args = argv,
                        .env = env.v,
                        .cwd = cwd,
                        .stdin_data = in,
                        .stdin_len = in_len,
                        .timeout_ms = timeout};
  op->call = call;
  int rc = ain_proc_spawn(h->loop, &po, spawn_done, op, &op->proc, &err);
  envv_free(&env);
  free(argv);
  if (rc != 0) {
    free(op);
    return ain__lua_push_fail(L, rc, "%s", err.msg);
  }
  ain__lua_set_pending(call, spawn_cancel, op);
  return lua_yield(L, 0);
}

void ain__lua_add_spawn(lua_State *L) {
  lua_pushcfunction(L, l_spawn);
  lua_setfield(L, -2, "spawn");
}
