/* The policy sandbox (DESIGN §5) and module loading.
 * The state's global table is replaced by an empty, read-only proxy over a table of allowed
 * names, so chunks, coroutines and load()ed code all see the same restricted world and no policy
 * can change what another sees. Libraries are read-only proxies too; what is refused (os.execute,
 * io.*, debug.*, loadfile, string.dump, bytecode, package.loadlib, jit) is a stub that raises
 * "<what> is refused by the sandbox", so a policy author learns why rather than "attempt to call a
 * nil value". The host keeps what it needs in the registry (its own cjson instance) and builds
 * tracebacks in C (luaL_traceback), so removing `debug` costs it nothing. pcall, xpcall,
 * coroutine.create/resume/wrap (lua/budget.c) and string.find/match/gmatch/gsub (lua/pattern.c) are
 * replaced by budgeted versions before any library is copied.
 * Relies on: LuaJIT, lua-cjson (Debian's cjson.so, loaded once through package.cpath), OpenSSL
 * (sha256 of every module source, recorded in the call's versions). */
#include <errno.h>
#include <lualib.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "lua/internal.h"

#define CJSON_CPATH "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so"

/* The body of every call's coroutine: require the module, find the entry point, run it. Loading
 * happens here, inside the coroutine, so a module's top level is under the call's budgets and its
 * errors carry the call's traceback. */
static const char TRAMPOLINE[] =
    "local require, type, error = ...\n"
    "return function(mod, fn, payload, ctx)\n"
    "  local M = require(mod)\n"
    "  local f = M[fn]\n"
    "  if type(f) ~= 'function' then\n"
    "    error(('module \\'%s\\' has no entry point \\'%s\\' (a function), found %s')\n"
    "      :format(mod, fn, type(f)), 0)\n"
    "  end\n"
    "  return f(payload, ctx)\n"
    "end\n";

void ain__lua_sha256_hex(const void *buf, size_t len, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hex[] = "0123456789abcdef";
  if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1) {
    n = 0;
  }
  for (unsigned int i = 0; i < n && i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[n ? 64 : 0] = '\0';
}

int ain__lua_refuse(lua_State *L, const char *what) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  if (h->running != NULL) {
    h->running->sandbox_hit = 1;
  }
  return luaL_error(L, "%s is refused by the sandbox", what);
}

static int refused_fn(lua_State *L) {
  return ain__lua_refuse(L, lua_tostring(L, lua_upvalueindex(1)));
}

/* __index of io/debug/jit/package: every field is refused, named "io.open". */
static int refused_lib_index(lua_State *L) {
  lua_pushfstring(L, "%s.%s", lua_tostring(L, lua_upvalueindex(1)), luaL_optstring(L, 2, "?"));
  return ain__lua_refuse(L, lua_tostring(L, -1));
}

/* __newindex of _G and of library proxies. Level 1 is the Lua code doing the assignment, so the
 * message names its file:line. */
static int refused_newindex(lua_State *L) {
  const char *lib = lua_tostring(L, lua_upvalueindex(1));
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2);
  if (lib[0] == '\0') {
    lua_pushfstring(L, "assignment to global '%s' (use local)", key);
  } else {
    lua_pushfstring(L, "assignment to %s.%s", lib, key);
  }
  return ain__lua_refuse(L, lua_tostring(L, -1));
}

static void push_refused_fn(lua_State *L, const char *what) {
  lua_pushstring(L, what);
  lua_pushcclosure(L, refused_fn, 1);
}

void ain__lua_make_readonly(lua_State *L, const char *name) {
  lua_newtable(L);                  /* proxy */
  lua_createtable(L, 0, 3);         /* its metatable */
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, refused_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable"); /* getmetatable() sees false, setmetatable() fails */
  lua_setmetatable(L, -2);
  lua_remove(L, -2);
}

/* Pushes a proxy whose every field is refused. */
static void push_refused_lib(lua_State *L, const char *name) {
  lua_newtable(L);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, name);
  lua_pushcclosure(L, refused_lib_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, refused_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* Copies the named fields of library `lib` (a global of the unrestricted state) into a new table
 * on the stack; names in `refuse` become refusal stubs. */
static void push_lib_copy(lua_State *L, const char *lib, const char *const *keep,
                          const char *const *refuse) {
  lua_getglobal(L, lib);
  lua_newtable(L);
  if (keep == NULL) { /* everything */
    lua_pushnil(L);
    while (lua_next(L, -3) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
  } else {
    for (; *keep; keep++) {
      lua_getfield(L, -2, *keep);
      lua_setfield(L, -2, *keep);
    }
  }
  for (; refuse && *refuse; refuse++) {
    char what[64];
    snprintf(what, sizeof what, "%s.%s", lib, *refuse);
    push_refused_fn(L, what);
    lua_setfield(L, -2, *refuse);
  }
  lua_remove(L, -2);
}

static int is_global_table(lua_State *L, int idx) {
  return lua_rawequal(L, idx, LUA_GLOBALSINDEX);
}

static int sb_setmetatable(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (is_global_table(L, 1)) {
    return ain__lua_refuse(L, "setmetatable(_G, ...)");
  }
  lua_pushvalue(L, lua_upvalueindex(1)); /* the real setmetatable */
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int sb_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (is_global_table(L, 1)) {
    return ain__lua_refuse(L, "rawset(_G, ...)");
  }
  if (lua_getmetatable(L, 1)) { /* our read-only proxies carry __metatable = false */
    lua_getfield(L, -1, "__metatable");
    int ro = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (ro) {
      return ain__lua_refuse(L, "rawset on a read-only library table");
    }
  }
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  lua_settop(L, 1);
  return 1;
}

static int sb_collectgarbage(lua_State *L) {
  const char *opt = luaL_optstring(L, 1, "collect");
  if (strcmp(opt, "count") == 0) {
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
                          (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
  }
  /* the state is shared by every call on the shard: one policy must not stop its GC */
  lua_pushfstring(L, "collectgarbage('%s')", opt);
  return ain__lua_refuse(L, lua_tostring(L, -1));
}

/* load/loadstring of text only: bytecode would bypass the compiler's checks. */
static int load_text(lua_State *L, const char *s, size_t len, const char *chunkname) {
  if (len > 0 && s[0] == '\033') {
    return ain__lua_refuse(L, "load of bytecode");
  }
  if (luaL_loadbufferx(L, s, len, chunkname, "t") != 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

static int sb_loadstring(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  return load_text(L, s, len, luaL_optstring(L, 2, s));
}

static int sb_load(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    return sb_loadstring(L);
  }
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const char *name = luaL_optstring(L, 2, "=(load)");
  luaL_Buffer b;
  lua_settop(L, 2);
  luaL_buffinit(L, &b);
  for (;;) { /* collect the pieces first, so the first byte can be checked */
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1) || (lua_isstring(L, -1) && lua_objlen(L, -1) == 0)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) {
      return luaL_error(L, "load: reader function must return a string");
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  return load_text(L, s, len, name);
}

/* require: policy modules, plus an allow-list. */
static int sb_require(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *name = luaL_checkstring(L, 1);
  if (strcmp(name, "cjson") == 0 || strcmp(name, "ain") == 0) {
    lua_getfield(L, lua_upvalueindex(1), name);
    return 1;
  }
  if (strcmp(name, "ffi") == 0) {
    if (!h->allow_ffi) {
      return ain__lua_refuse(L, "require 'ffi' (ffi is off unless the host allows it)");
    }
    lua_getfield(L, lua_upvalueindex(1), name);
    return 1;
  }
  static const char *const stdlibs[] = {"string", "table", "math", "coroutine", "bit", NULL};
  for (const char *const *k = stdlibs; *k; k++) {
    if (strcmp(name, *k) == 0) { /* the same read-only proxy as the global */
      lua_getglobal(L, name);
      return 1;
    }
  }
  static const char *const refused[] = {"os", "io", "debug", "package", "jit", NULL};
  int ok = *name != '\0' && strlen(name) < 120;
  for (const char *const *k = refused; ok && *k; k++) {
    ok = strcmp(name, *k) != 0;
  }
  const char *pre = ain__lua_data_prefix(name);
  const char *id = pre ? name + strlen(pre) : name;
  for (const char *p = id; ok && *p; p++) {
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '_' || *p == '-';
  }
  if (!ok || *id == '\0') {
    lua_pushfstring(L, "require '%s'", name);
    return ain__lua_refuse(L, lua_tostring(L, -1));
  }
  return ain__lua_load_module(L, h, name);
}

const char *ain__lua_data_prefix(const char *name) {
  static const char *const prefixes[] = {"personas/", "safety/"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
      return prefixes[i];
    }
  }
  return NULL;
}

void ain__lua_module_rel(const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s%s.lua", ain__lua_data_prefix(name) ? "" : "agents/", name);
}

int ain__lua_load_module(lua_State *L, ain_lua_host_t *h, const char *name) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->modules_ref);
  lua_getfield(L, -1, name);
  if (lua_istable(L, -1)) {
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->shas_ref);
    lua_getfield(L, -1, name);
    if (h->running != NULL) {
      ain__lua_call_add_version(h->running, name, lua_tostring(L, -1));
    }
    lua_pop(L, 2);
    return 1;
  }
  if (lua_toboolean(L, -1) == 0 && !lua_isnil(L, -1)) {
    return luaL_error(L, "circular require of module '%s'", name);
  }
  lua_pop(L, 1);
  int modules = lua_gettop(L);
  char rel[200], path[4300];
  ain__lua_module_rel(name, rel, sizeof rel);
  snprintf(path, sizeof path, "%s/%s", h->scripts_dir, rel);
  char *src = NULL;
  size_t len = 0;
  char sha[65];
  char chunk[210];
  snprintf(chunk, sizeof chunk, "@%s", rel);
  int rc;
  /* A source set by ain_lua_host_set_source (the registry's validated version) wins over the
   * file; in registry mode the file is never read, so an unvalidated edit cannot run. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->sources_ref);
  lua_getfield(L, -1, name);
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "sha");
    snprintf(sha, sizeof sha, "%s", lua_tostring(L, -1));
    lua_getfield(L, -2, "src");
    const char *s = lua_tolstring(L, -1, &len);
    rc = luaL_loadbufferx(L, s, len, chunk, "t");
    lua_replace(L, modules + 1); /* chunk (or error) where the sources table was */
    lua_settop(L, modules + 1);
    if (rc != 0) {
      return lua_error(L);
    }
  } else if (h->sources_only) {
    return luaL_error(L, "module '%s' has no valid version (%s is missing or was rejected; see "
                      "`ain scripts list`)", name, rel);
  } else {
    lua_pop(L, 2);
    rc = ain_read_file(path, &src, &len);
    if (rc != 0) {
      return luaL_error(L, "module '%s' not found: %s: %s", name, rel, strerror(-rc));
    }
    ain__lua_sha256_hex(src, len, sha);
    rc = luaL_loadbufferx(L, src, len, chunk, "t");
    free(src); /* before any error: lua_error does not return */
  }
  if (rc != 0) {
    return lua_error(L); /* the message already reads "agents/x.lua:3: ..." */
  }
  lua_pushboolean(L, 0); /* loading: a require cycle finds false */
  lua_setfield(L, modules, name);
  int st = lua_pcall(L, 0, 1, 0);
  if (st != 0 || !lua_istable(L, -1)) {
    lua_pushnil(L);
    lua_setfield(L, modules, name); /* not cached: the next call tries again */
    if (st != 0) {
      return lua_error(L);
    }
    return luaL_error(L, "%s must return a table%s, got %s", rel,
                      ain__lua_data_prefix(name) ? "" : " of entry points", luaL_typename(L, -1));
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, modules, name);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->shas_ref);
  lua_pushstring(L, sha);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
  if (h->running != NULL) {
    ain__lua_call_add_version(h->running, name, sha);
  }
  lua_remove(L, modules);
  return 1;
}

static int module_name_ok(const char *name) {
  const char *pre = ain__lua_data_prefix(name);
  const char *id = pre ? name + strlen(pre) : name;
  if (*id == '\0' || strlen(name) >= 120) {
    return 0;
  }
  for (const char *p = id; *p; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '-')) {
      return 0;
    }
  }
  return 1;
}

int ain_lua_host_set_source(ain_lua_host_t *h, const char *module, const char *source, size_t len,
                            char sha_out[65], ain_err_t *err) {
  if (h == NULL || module == NULL || source == NULL || !module_name_ok(module)) {
    return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                         module ? module : "(null)");
  }
  char sha[65];
  ain__lua_sha256_hex(source, len, sha);
  lua_State *L = h->L;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->sources_ref);
  lua_createtable(L, 0, 2);
  lua_pushlstring(L, source, len);
  lua_setfield(L, -2, "src");
  lua_pushstring(L, sha);
  lua_setfield(L, -2, "sha");
  lua_setfield(L, -2, module);
  /* Drop every cached module: calls in flight keep the tables they hold; the next require of
   * any module runs the current sources. */
  lua_newtable(L);
  lua_rawseti(L, LUA_REGISTRYINDEX, h->modules_ref);
  lua_settop(L, top);
  if (sha_out != NULL) {
    memcpy(sha_out, sha, 65);
  }
  return 0;
}

int ain__lua_no_side_effects(lua_State *L, const char *what) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  if (!h->no_side_effects) {
    return 0;
  }
  lua_pushnil(L);
  lua_pushfstring(L, "EREPLAY: side effects are disabled during replay (%s)", what);
  lua_pushliteral(L, "EREPLAY"); /* not an AIN_E* code: replay is not a failure of the step */
  return 3;
}

/* Runs `require(name)` of the unrestricted state; leaves the module on the stack. */
static int host_require(lua_State *L, const char *name, ain_err_t *err) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    int rc = ain_err_set(err, AIN_ELUA, "loading %s: %s", name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return rc;
  }
  return 0;
}

/* cjson.new() of the module at the top, pushed above it. */
static int new_cjson(lua_State *L, ain_err_t *err) {
  lua_getfield(L, -1, "new");
  if (lua_pcall(L, 0, 1, 0) != 0 || !lua_istable(L, -1)) {
    lua_pop(L, 1);
    return ain_err_set(err, AIN_ELUA, "cjson.new() failed");
  }
  return 0;
}

int ain__lua_sandbox_init(ain_lua_host_t *h, ain_err_t *err) {
  lua_State *L = h->L;
  luaL_openlibs(L);
  int rc = 0;
  /* cjson from the Debian package only: nothing else on the search path */
  lua_getglobal(L, "package");
  lua_pushstring(L, CJSON_CPATH);
  lua_setfield(L, -2, "cpath");
  lua_pushstring(L, "");
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if ((rc = host_require(L, "cjson", err)) != 0) {
    return rc;
  }
  int cjson = lua_gettop(L);
  if ((rc = new_cjson(L, err)) != 0) {
    return rc;
  }
  h->json_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* the host's instance; policies get another */

  /* Budgeted pcall/xpcall/coroutine and pattern functions replace the real ones before anything
   * below copies a library: the string metatable's __index is the real string table. */
  if ((rc = ain__lua_budget_open(L, h, err)) != 0) {
    return rc;
  }
  lua_getglobal(L, "string");
  ain__lua_pattern_register(L, h);
  lua_pop(L, 1);

  lua_newtable(L);
  h->modules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_newtable(L);
  h->shas_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_newtable(L);
  h->sources_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  /* what require() hands out besides policy modules */
  lua_newtable(L);
  int allowed = lua_gettop(L);
  lua_pushvalue(L, cjson);
  if ((rc = new_cjson(L, err)) != 0) {
    return rc;
  }
  lua_setfield(L, allowed, "cjson");
  lua_pop(L, 1);
  if (h->allow_ffi) {
    if ((rc = host_require(L, "ffi", err)) != 0) {
      return rc;
    }
    lua_setfield(L, allowed, "ffi");
  }
  if ((rc = ain__lua_push_ain_module(L, h, err)) != 0) {
    return rc;
  }
  ain__lua_make_readonly(L, "ain");
  lua_setfield(L, allowed, "ain");

  /* the table behind the global proxy */
  lua_newtable(L);
  int g = lua_gettop(L);
  static const char *const base[] = {"assert", "error",  "ipairs",   "next",    "pairs",
                                     "pcall",  "select", "tonumber", "tostring", "type",
                                     "unpack", "xpcall", "rawequal", "rawget",  "getmetatable",
                                     "_VERSION", NULL};
  for (const char *const *k = base; *k; k++) {
    lua_getglobal(L, *k);
    lua_setfield(L, g, *k);
  }
  static const char *const refused[] = {"loadfile", "dofile", "setfenv", "getfenv", "module",
                                        "newproxy", NULL};
  for (const char *const *k = refused; *k; k++) {
    push_refused_fn(L, *k);
    lua_setfield(L, g, *k);
  }
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, sb_setmetatable, 1);
  lua_setfield(L, g, "setmetatable");
  lua_pushcfunction(L, sb_rawset);
  lua_setfield(L, g, "rawset");
  lua_pushcfunction(L, sb_collectgarbage);
  lua_setfield(L, g, "collectgarbage");
  lua_pushcfunction(L, sb_loadstring);
  lua_setfield(L, g, "loadstring");
  lua_pushcfunction(L, sb_load);
  lua_setfield(L, g, "load");
  lua_pushvalue(L, allowed);
  lua_pushcclosure(L, sb_require, 1);
  lua_setfield(L, g, "require");
  lua_getfield(L, allowed, "ain");
  lua_setfield(L, g, "ain");
  lua_pushcfunction(L, ain__lua_print);
  lua_setfield(L, g, "print");

  static const char *const string_refused[] = {"dump", NULL};
  push_lib_copy(L, "string", NULL, string_refused);
  ain__lua_make_readonly(L, "string");
  lua_setfield(L, g, "string");
  static const char *const os_keep[] = {"time", "clock", "date", "difftime", NULL};
  static const char *const os_refused[] = {"execute", "exit",    "getenv",   "remove",
                                           "rename",  "tmpname", "setlocale", NULL};
  push_lib_copy(L, "os", os_keep, os_refused);
  ain__lua_make_readonly(L, "os");
  lua_setfield(L, g, "os");
  static const char *const whole[] = {"table", "math", "bit", "coroutine", NULL};
  for (const char *const *k = whole; *k; k++) {
    push_lib_copy(L, *k, NULL, NULL);
    ain__lua_make_readonly(L, *k);
    lua_setfield(L, g, *k);
  }
  static const char *const package_refused[] = {"loadlib", NULL};
  static const char *const none[] = {NULL};
  push_lib_copy(L, "package", none, package_refused);
  ain__lua_make_readonly(L, "package");
  lua_setfield(L, g, "package");
  static const char *const libs_refused[] = {"io", "debug", "jit", NULL};
  for (const char *const *k = libs_refused; *k; k++) {
    push_refused_lib(L, *k);
    lua_setfield(L, g, *k);
  }
  if (!h->allow_ffi) {
    push_refused_lib(L, "ffi");
    lua_setfield(L, g, "ffi");
  }
  /* string methods reach the real string table through the string metatable: refuse dump there
   * too and hide the metatable itself */
  lua_getglobal(L, "string");
  push_refused_fn(L, "string.dump");
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  /* the trampoline, compiled while the real globals are still in place */
  if (luaL_loadbuffer(L, TRAMPOLINE, sizeof TRAMPOLINE - 1, "=ain.call") != 0) {
    return ain_err_set(err, AIN_ELUA, "trampoline: %s", lua_tostring(L, -1));
  }
  lua_getfield(L, g, "require");
  lua_getglobal(L, "type");
  lua_getglobal(L, "error");
  if (lua_pcall(L, 3, 1, 0) != 0) {
    return ain_err_set(err, AIN_ELUA, "trampoline: %s", lua_tostring(L, -1));
  }
  h->trampoline_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_pushvalue(L, g);
  ain__lua_make_readonly(L, "");
  lua_pushvalue(L, -1);
  lua_setfield(L, g, "_G");
  /* From here on every chunk and new coroutine sees only the proxy. */
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_settop(L, 0);
  return 0;
}
