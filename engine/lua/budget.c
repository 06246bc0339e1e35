/* Budgets a policy cannot dodge (DESIGN §5, issue 9): what makes a call that went over its CPU
 * or memory budget stop for good, wherever the over-budget moment finds it.
 * The count hook (host.c) stops a call by yielding its own coroutine; where it cannot (a coroutine
 * the policy made, inside table.sort or a gsub callback) it raises, and policy code could catch
 * that error with pcall, xpcall or coroutine.resume and loop on. So those three (and
 * coroutine.wrap) are replaced by wrappers that, when the protected call returns, look at the
 * running call: over budget, they yield its coroutine (ending it; after_resume reports the budget)
 * or raise again. The wrappers are Lua functions that only call C at their ends, so they stay
 * yieldable: ain.sleep inside pcall still works.
 * Coroutines belong to the call that created them: coroutine.create records the call's serial in
 * a weak-keyed table, and resuming a coroutine of another call (kept in a module table by an
 * earlier step) is refused, so no coroutine of a finished or over-budget call runs Lua again.
 * ain__lua_charge lets C code that works in one long call (the pattern matcher) spend the same
 * budget the hook counts.
 * Relies on: LuaJIT's C API (lua_isyieldable), lua/host.c (h->running). */
#include <stdio.h>

#include "core/util.h"
#include "lua/internal.h"

/* Wrappers, compiled in the unrestricted state. `owned` raises for a coroutine of another call;
 * `check` passes its arguments through unless the running call is over budget. */
static const char WRAPPERS[] =
    "local pcall, xpcall, resume, create, check, owned, error, type = ...\n"
    "local function rethrow(ok, ...)\n"
    "  if ok then return ... end\n"
    "  local e = ...\n"
    "  if type(e) == 'string' then error(e, 2) end\n" /* as coroutine.wrap: the caller's line */
    "  error(e, 0)\n"
    "end\n"
    "local function resume_checked(co, ...)\n"
    "  owned(co)\n"
    "  return check(resume(co, ...))\n"
    "end\n"
    "local function wrap(f)\n"
    "  local co = create(f)\n"
    "  return function(...) owned(co) return rethrow(check(resume(co, ...))) end\n"
    "end\n"
    "return function(...) return check(pcall(...)) end,\n"
    "  function(...) return check(xpcall(...)) end,\n"
    "  resume_checked, wrap\n";

int ain__lua_budget_exceeded(ain_lua_call_t *c) {
  if (!c->cpu_exceeded) {
    ain_lua_host_t *h = c->h;
    if (c->instructions > h->cpu_budget) {
      c->cpu_exceeded = 1;
    } else if (c->run_ns + (ain_mono_ns() - h->slice_start_ns) > h->cpu_ns) {
      c->cpu_exceeded = 2;
    }
  }
  return c->cpu_exceeded || c->mem_exceeded;
}

void ain__lua_budget_message(const ain_lua_call_t *c, char *buf, size_t cap) {
  if (c->cpu_exceeded == 2) {
    snprintf(buf, cap, "EBUDGET_CPU: %s.%s ran on the loop for more than %llu ms", c->module,
             c->function, (unsigned long long)(c->h->cpu_ns / 1000000));
  } else if (c->cpu_exceeded) {
    snprintf(buf, cap, "EBUDGET_CPU: %s.%s used more than %llu instructions", c->module,
             c->function, (unsigned long long)c->h->cpu_budget);
  } else {
    snprintf(buf, cap, "EBUDGET_MEM: %s.%s needed more than the %zu bytes of its state", c->module,
             c->function, c->h->mem_limit);
  }
}

/* Raises the running call's budget error on L. */
static int raise_budget(lua_State *L, const ain_lua_call_t *c) {
  char msg[400];
  ain__lua_budget_message(c, msg, sizeof msg);
  return luaL_error(L, "%s", msg);
}

void ain__lua_charge(lua_State *L, ain_lua_host_t *h, uint64_t n) {
  ain_lua_call_t *c = h->running;
  if (c == NULL) {
    return; /* host-side work is not charged to anyone */
  }
  c->instructions += n;
  if (ain__lua_budget_exceeded(c)) {
    raise_budget(L, c); /* from inside a C function: yielding is not possible here */
  }
}

/* check(...): the tail of every protected call. Upvalue: the host. */
static int budget_check(lua_State *L) {
  ain_lua_host_t *h = lua_touserdata(L, lua_upvalueindex(1));
  ain_lua_call_t *c = h->running;
  if (c == NULL || !ain__lua_budget_exceeded(c)) {
    return lua_gettop(L);
  }
  if (L == c->co && lua_isyieldable(L)) {
    return lua_yield(L, 0); /* after_resume sees the budget and ends the call */
  }
  return raise_budget(L, c);
}

/* coroutine.create(f), recording the creating call. Upvalues: host, the real create. */
static int co_create(lua_State *L) {
  ain_lua_host_t *h = lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->co_owner_ref);
  lua_pushvalue(L, -2);
  lua_pushnumber(L, (lua_Number)(h->running ? h->running->serial : 0));
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

/* owned(co): raises unless co was created by the running call. Not a coroutine: left to the
 * real resume, whose error names the argument. Upvalue: host. */
static int co_owned(lua_State *L) {
  ain_lua_host_t *h = lua_touserdata(L, lua_upvalueindex(1));
  if (lua_type(L, 1) != LUA_TTHREAD) {
    return 0;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->co_owner_ref);
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  lua_Number mine = (lua_Number)(h->running ? h->running->serial : 0);
  if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) != mine) {
    return ain__lua_refuse(L, "resuming a coroutine that another call created (a coroutine "
                              "lives only as long as the call that creates it)");
  }
  return 0;
}

int ain__lua_budget_open(lua_State *L, ain_lua_host_t *h, ain_err_t *err) {
  int top = lua_gettop(L);
  lua_newtable(L); /* coroutine -> serial of the call that created it, weak keys */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  h->co_owner_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  if (luaL_loadbuffer(L, WRAPPERS, sizeof WRAPPERS - 1, "=ain.budget") != 0) {
    int rc = ain_err_set(err, AIN_ELUA, "budget wrappers: %s", lua_tostring(L, -1));
    lua_settop(L, top);
    return rc;
  }
  lua_getglobal(L, "pcall");
  lua_getglobal(L, "xpcall");
  lua_getglobal(L, "coroutine");
  int co = lua_gettop(L);
  lua_getfield(L, co, "resume");
  lua_pushlightuserdata(L, h);
  lua_getfield(L, co, "create");
  lua_pushcclosure(L, co_create, 2);
  lua_pushvalue(L, -1);
  lua_setfield(L, co, "create");
  lua_remove(L, co); /* the arguments stay in order: pcall, xpcall, resume, create */
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, budget_check, 1);
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, co_owned, 1);
  lua_getglobal(L, "error");
  lua_getglobal(L, "type");
  if (lua_pcall(L, 8, 4, 0) != 0) {
    int rc = ain_err_set(err, AIN_ELUA, "budget wrappers: %s", lua_tostring(L, -1));
    lua_settop(L, top);
    return rc;
  }
  lua_getglobal(L, "coroutine");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "wrap");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "resume");
  lua_pop(L, 3);
  lua_setglobal(L, "xpcall");
  lua_setglobal(L, "pcall");
  lua_settop(L, top);
  return 0;
}
