/* ain.llm: loads the engine-owned Lua of engine/lua/llm.lua (compiled into the binary by
 * cmake/embed_lua.cmake) into a policy state and hands it what it may use: the ain module table
 * (http, sleep, secret, store, json, sha256, now: so every exchange is recorded and replayed
 * like a policy's own) and one C function that counts requests, tokens and cost into the
 * process's metrics (engine/obs: ain_llm_requests_total, ain_llm_tokens_total, ain_llm_cost_total).
 * Why Lua and not C: retries, backoff, schema checks and the cache are orchestration that ain.http,
 * ain.sleep and ain.store already do without blocking the loop; in Lua they yield like any policy
 * and need no second HTTP or replay path.
 * The chunk is compiled while the real globals are in place (sandbox.c calls this before it
 * swaps in the policies' proxy), so it sees the full string/table/math libraries and nothing a
 * policy could replace.
 * Relies on: lua/internal.h, obs/obs.h, the generated ain__lua_llm_src. */
#include "lua/internal.h"
#include "obs/obs.h"

extern const char ain__lua_llm_src[];
extern const size_t ain__lua_llm_src_len;

/* count([result [, prompt_tokens, completion_tokens, cost]]): result is a request's outcome
 * (ain_llm_requests_total{result}) or nil; the numbers are one answer's usage. Replay asks no
 * model, so a replay host counts nothing. Upvalue: the host. */
static int llm_count(lua_State *L) {
  ain_lua_host_t *h = lua_touserdata(L, lua_upvalueindex(1));
  if (h->no_side_effects) {
    return 0;
  }
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *v[] = {lua_tostring(L, 1)};
    ain_obs_inc(AIN_M_LLM_REQUESTS, v);
  }
  lua_Number p = lua_tonumber(L, 2), c = lua_tonumber(L, 3), cost = lua_tonumber(L, 4);
  if (p > 0) {
    const char *v[] = {"prompt"};
    ain_obs_add(AIN_M_LLM_TOKENS, v, p);
  }
  if (c > 0) {
    const char *v[] = {"completion"};
    ain_obs_add(AIN_M_LLM_TOKENS, v, c);
  }
  if (cost > 0) {
    ain_obs_add(AIN_M_LLM_COST, NULL, cost);
  }
  return 0;
}

int ain__lua_add_llm(lua_State *L, ain_lua_host_t *h, ain_err_t *err) {
  int ain = lua_gettop(L); /* the ain module table being built */
  if (luaL_loadbuffer(L, ain__lua_llm_src, ain__lua_llm_src_len, "=ain.llm") != 0) {
    int rc = ain_err_set(err, AIN_ELUA, "ain.llm: %s", lua_tostring(L, -1));
    lua_settop(L, ain);
    return rc;
  }
  lua_pushvalue(L, ain);
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, llm_count, 1);
  if (lua_pcall(L, 2, 1, 0) != 0 || !lua_istable(L, -1)) {
    int rc = ain_err_set(err, AIN_ELUA, "ain.llm: %s",
                         lua_isstring(L, -1) ? lua_tostring(L, -1) : "did not return a table");
    lua_settop(L, ain);
    return rc;
  }
  ain__lua_make_readonly(L, "ain.llm");
  lua_setfield(L, ain, "llm");
  return 0;
}
