/* Tests for the bounded pattern matcher (engine/lua/pattern.c): the same results and errors as
 * LuaJIT's own string.find/match/gmatch/gsub on a table of cases and on random patterns
 * (tests/fixtures/lua/pattern_cases.lua, run in an unrestricted state where the originals are
 * still there), and the same functions reachable from a policy through the string table and the
 * string metatable. The budget side is in test_lua_budget.c. */
#include <lauxlib.h>
#include <lualib.h>

#include "harness.h"
#include "lua/internal.h"

/* A plain LuaJIT state with `mine` = our four functions, unbudgeted (no host). */
static lua_State *reference_state(void) {
  lua_State *L = luaL_newstate();
  ASSERT_NOT_NULL(L);
  luaL_openlibs(L);
  lua_newtable(L);
  ain__lua_pattern_register(L, NULL);
  lua_setglobal(L, "mine");
  return L;
}

TEST(same_as_luajit) {
  lua_State *L = reference_state();
  int rc = luaL_dofile(L, ain_test_src("tests/fixtures/lua/pattern_cases.lua"));
  if (rc != 0) {
    fprintf(stderr, "pattern_cases.lua: %s\n", lua_tostring(L, -1));
  }
  ASSERT_OK(rc);
  int compared = (int)lua_tointeger(L, -2);
  int mismatches = (int)lua_objlen(L, -1);
  for (int i = 1; i <= mismatches && i <= 40; i++) {
    lua_rawgeti(L, -1, i);
    fprintf(stderr, "mismatch: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  fprintf(stderr, "%d cases compared\n", compared);
  ASSERT_GE(compared, 20000);
  ASSERT_EQ(mismatches, 0);
  lua_close(L);
}

/* Without a host nothing is charged, but the recursion limit still holds: a deep pattern fails
 * with LuaJIT's message instead of overflowing the C stack. */
TEST(depth_limit_without_host) {
  lua_State *L = reference_state();
  ASSERT_OK(luaL_dostring(L, "local ok, e = pcall(mine.match, ('a'):rep(5000), ('a?'):rep(2000))\n"
                             "return e"));
  ASSERT_STR_CONTAINS(lua_tostring(L, -1), "pattern too complex");
  lua_close(L);
}

TEST_MAIN(TEST_ENTRY(same_as_luajit), TEST_ENTRY(depth_limit_without_host))
