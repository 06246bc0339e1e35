/* `ain test` (lua/testrun.h). The sandbox replaces the globals of the host's main thread with a
 * read-only proxy; the original global table is still package.loaded._G, with every library
 * luaL_openlibs opened. The script runs in a thread of the same state whose globals are that
 * original table, plus the host's real `ain` module, so policies required by a spec call the
 * same C functions a step does. Calls that must yield (ain.sleep, ain.spawn) need a policy call
 * and raise here.
 * Relies on: lua/internal.h, LuaJIT. */
#include "lua/testrun.h"

#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "lua/internal.h"

static int traceback(lua_State *L) {
  const char *m = lua_tostring(L, 1);
  luaL_traceback(L, L, m ? m : "(error object is not a string)", 1);
  return 1;
}

int ain_lua_run_script(const ain_lua_opts_t *opts, const char *script, int argc, char **argv,
                       ain_err_t *err) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    return ain_err_set(err, AIN_EIO, "cannot create a loop");
  }
  ain_lua_host_t *h = NULL;
  int rc = ain_lua_host_new(&loop, opts, &h, err);
  if (rc != 0) {
    uv_loop_close(&loop);
    return rc;
  }
  lua_State *L = h->L;
  lua_State *T = lua_newthread(L);
  int tref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(T, LUA_REGISTRYINDEX, "_LOADED");
  lua_getfield(T, -1, "_G");
  int g = lua_gettop(T);
  lua_getfield(L, LUA_GLOBALSINDEX, "ain"); /* the host's real module (read-only proxy) */
  lua_xmove(L, T, 1);
  lua_pushvalue(T, -1);
  lua_setfield(T, g, "ain");
  lua_setfield(T, g - 1, "ain"); /* require("ain") */
  /* The sandbox emptied the search paths; busted needs the library's defaults (Debian's
   * LuaJIT adds /usr/share/lua/5.1 and the multiarch C path), read from a plain state. */
  lua_State *plain = luaL_newstate();
  if (plain == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "cannot create a Lua state");
    goto done;
  }
  luaL_openlibs(plain);
  lua_getglobal(plain, "package");
  lua_getfield(T, g, "package");
  static const char *const paths[] = {"path", "cpath"};
  for (int i = 0; i < 2; i++) {
    lua_getfield(plain, -1, paths[i]);
    lua_pushstring(T, lua_tostring(plain, -1));
    lua_setfield(T, -2, paths[i]);
    lua_pop(plain, 1);
  }
  lua_close(plain);
  lua_pop(T, 1);
  lua_createtable(T, argc, 1);
  lua_pushstring(T, script);
  lua_rawseti(T, -2, 0);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(T, argv[i]);
    lua_rawseti(T, -2, i + 1);
  }
  lua_setfield(T, g, "arg");
  lua_pushvalue(T, g);
  lua_replace(T, LUA_GLOBALSINDEX); /* functions loaded on T get the full globals */
  lua_settop(T, 0);
  lua_pushcfunction(T, traceback);
  if (luaL_loadfile(T, script) != 0) {
    rc = ain_err_set(err, AIN_ELUA, "%s", lua_tostring(T, -1));
  } else {
    for (int i = 0; i < argc; i++) {
      lua_pushstring(T, argv[i]);
    }
    if (lua_pcall(T, argc, 0, 1) != 0) {
      const char *m = lua_tostring(T, -1);
      /* busted ends a failed run with error(nil): only print real messages */
      if (m != NULL && strstr(m, "(error object is not a string)") != m) {
        fprintf(stderr, "%s\n", m);
      }
      rc = 1;
    }
  }
done:
  luaL_unref(L, LUA_REGISTRYINDEX, tref);
  ain_lua_host_free(h);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}
