/* The `ain` module policies see: log, now, sleep, json, sha256 (spawn: ain_spawn.c; llm:
 * ain_llm.c).
 * Yield-on-I/O (STYLE.md): a binding validates its arguments (misuse raises), starts the I/O with
 * a heap "op" that points back at the call, registers the op's cancel as the call's pending
 * cleanup and yields. The libuv callback clears the pending cleanup, pushes the results onto the
 * coroutine and resumes it through ain__lua_resume, which refuses to run a finished call. A
 * cancelled op has its call pointer cleared and only frees itself when its I/O ends.
 * Relies on: LuaJIT, libuv (uv_timer), core/log.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "message/message.h"
#include "core/util.h"
#include "lua/internal.h"

static ain_log_ctx_t log_ctx(ain_lua_host_t *h) {
  ain_log_ctx_t lc = {.actor = h->name, .state_version = -1};
  ain_lua_call_t *c = h->running;
  if (c != NULL) {
    lc.task_id = c->task_id[0] ? c->task_id : NULL;
    lc.dag_id = c->dag_id[0] ? c->dag_id : NULL;
    lc.trace_id = c->trace_id[0] ? c->trace_id : NULL;
    lc.span_id = c->span_id[0] ? c->span_id : NULL;
    lc.actor = c->actor;
  }
  return lc;
}

/* ain.log(level, msg [, fields]) */
static int l_log(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *lvl = luaL_checkstring(L, 1);
  int level = ain_log_level_parse(lvl);
  if (level < 0) {
    return luaL_argerror(L, 1, "level must be one of debug, info, warn, error");
  }
  const char *msg = luaL_checkstring(L, 2);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
  }
  if (!ain_log_enabled((ain_log_level_t)level)) {
    return 0;
  }
  const char *fields = "";
  if (lua_istable(L, 3)) {
    ain__lua_push_json_fn(L, h, "encode");
    lua_pushvalue(L, 3);
    if (lua_pcall(L, 1, 1, 0) != 0) {
      return luaL_argerror(L, 3, lua_tostring(L, -1));
    }
    fields = lua_tostring(L, -1);
  }
  ain_log_ctx_t lc = log_ctx(h);
  ain_log((ain_log_level_t)level, &lc, "%s%s%s", msg, *fields ? " " : "", fields);
  return 0;
}

int ain__lua_print(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) {
      luaL_addchar(&b, '\t');
    }
    if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) {
      lua_pushvalue(L, i);
      luaL_addvalue(&b);
    } else if (lua_type(L, i) == LUA_TBOOLEAN) {
      luaL_addstring(&b, lua_toboolean(L, i) ? "true" : "false");
    } else if (lua_isnil(L, i)) {
      luaL_addstring(&b, "nil");
    } else {
      lua_pushfstring(L, "%s: %p", luaL_typename(L, i), lua_topointer(L, i));
      luaL_addvalue(&b);
    }
  }
  luaL_pushresult(&b);
  ain_log_ctx_t lc = log_ctx(h);
  ain_log(AIN_LOG_INFO, &lc, "%s", lua_tostring(L, -1));
  return 0;
}

/* ain.now() -> milliseconds since the epoch */
static int l_now(lua_State *L) {
  /* Fractional: microsecond resolution, for latency measurements in policies and benchmarks. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1e3 + (lua_Number)ts.tv_nsec / 1e6);
  return 1;
}

/* ain.sha256(s) -> hex */
static int l_sha256(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char hex[65];
  ain__lua_sha256_hex(s, len, hex);
  lua_pushstring(L, hex);
  return 1;
}

/* ain.json.encode(v): a value that cannot be encoded is misuse and raises. */
static int l_json_encode(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  ain__lua_push_json_fn(L, h, "encode");
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* ain.json.decode(s): bad text is an expected failure -> nil, "EINVAL: ...", "EINVAL". The text
 * first passes the message layer's checks (message/message.h: UTF-8, no U+0000, nesting, no repeated
 * key, finite numbers), which lua-cjson does not make: it copies invalid UTF-8 and NULs into
 * strings, keeps the last of two keys and reads 1e999 as inf, which it then cannot encode. */
static int l_json_decode(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_message_check_json(text, len, "JSON text", &err) != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "EINVAL: %s", err.msg);
    lua_pushliteral(L, "EINVAL");
    return 3;
  }
  ain__lua_push_json_fn(L, h, "decode");
  lua_insert(L, 1);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    const char *m = lua_tostring(L, -1);
    return ain__lua_push_fail(L, AIN_EINVAL, "%s", m ? m : "invalid JSON");
  }
  return 1;
}

/* ---- ain.sleep ---- */

typedef struct {
  uv_timer_t timer;
  ain_lua_call_t *call; /* NULL once cancelled */
} sleep_op_t;

static void sleep_free(uv_handle_t *t) { free(t->data); }

static void sleep_done(uv_timer_t *t) {
  sleep_op_t *op = t->data;
  ain_lua_call_t *call = op->call;
  uv_close((uv_handle_t *)t, sleep_free);
  if (call != NULL) {
    call->pending.cancel = NULL;
    ain__lua_resume(call, 0);
  }
}

static void sleep_cancel(void *p) {
  sleep_op_t *op = p;
  op->call = NULL;
  uv_timer_stop(&op->timer);
  uv_close((uv_handle_t *)&op->timer, sleep_free);
}

/* ain.sleep(ms) */
static int l_sleep(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  lua_Number ms = luaL_checknumber(L, 1);
  if (!(ms >= 0) || ms > 1e12) {
    return luaL_argerror(L, 1, "milliseconds must be a number >= 0");
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.sleep");
  sleep_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    return luaL_error(L, "ain.sleep: out of memory");
  }
  op->call = call;
  uv_timer_init(h->loop, &op->timer);
  op->timer.data = op;
  /* The loop's cached time is from before this resume: after X ms of computation a timer armed
   * from it would fire X ms early. */
  uv_update_time(h->loop);
  uv_timer_start(&op->timer, sleep_done, (uint64_t)ms, 0);
  ain__lua_set_pending(call, sleep_cancel, op);
  return lua_yield(L, 0);
}

int ain__lua_push_ain_module(lua_State *L, ain_lua_host_t *h, ain_err_t *err) {
  static const luaL_Reg fns[] = {{"log", l_log},
                                 {"now", l_now},
                                 {"sleep", l_sleep},
                                 {"sha256", l_sha256},
                                 {NULL, NULL}};
  lua_newtable(L);
  for (const luaL_Reg *f = fns; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, l_json_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, l_json_decode);
  lua_setfield(L, -2, "decode");
  ain__lua_make_readonly(L, "ain.json");
  lua_setfield(L, -2, "json");
  ain__lua_add_spawn(L);
  ain__lua_add_http(L);
  ain__lua_add_store(L);
  ain__lua_add_emit(L);
  ain__lua_add_secret(L);
  ain__lua_add_vectors(L);
  ain__lua_add_text(L, h);
  return ain__lua_add_llm(L, h, err); /* last: it is handed the table with everything above */
}
