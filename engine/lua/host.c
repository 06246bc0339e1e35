/* The Lua host of one shard (lua/host.h): the LuaJIT state with its budgets, and the life of a
 * call: a coroutine per call, resumed by libuv callbacks, finished exactly once.
 * Budgets: the JIT engine is off (count hooks do not fire in compiled traces), a VM-global count
 * hook charges the call whose coroutine is running, and the allocator fails the allocation that
 * would pass mem_limit while a policy runs. A call over its CPU budget is stopped by yielding from
 * the hook, which policy code cannot catch with pcall; it is then never resumed again. Where the
 * hook cannot yield it raises, and lua/budget.c's pcall/resume wrappers keep that error from being
 * swallowed; lua/pattern.c charges pattern matching to the same budget.
 * Relies on: LuaJIT, libuv, lua/sandbox.c, lua/budget.c, lua/ain_mod.c, core/log.h, core/utf8.h
 * (results), cJSON. */
#include <cjson/cJSON.h>
#include <luajit.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "core/util.h"
#include "lua/internal.h"
#include "obs/obs.h"

#define HOST_DEFAULT_MEM ((size_t)256 << 20)
#define HOST_DEFAULT_CPU 100000000ull
#define HOST_DEFAULT_CPU_MS 10000ull
#define HOST_HOOK_EVERY 1000

/* The allocator's ud is the host, which is also how C functions find it. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  ain_lua_host_t *h = ud;
  if (nsize == 0) {
    free(ptr);
    h->mem_used -= ptr ? osize : 0;
    return NULL;
  }
  size_t old = ptr ? osize : 0;
  /* Only policy code is capped: the host's own work (decoding a payload, pushing a child's
   * output, building a traceback after a memory error) must not fail half-way outside a pcall. */
  if (nsize > old && h->running != NULL && h->mem_used + (nsize - old) > h->mem_limit) {
    h->running->mem_exceeded = 1;
    return NULL;
  }
  void *np = realloc(ptr, nsize);
  if (np != NULL) {
    h->mem_used = h->mem_used - old + nsize;
  }
  return np;
}

ain_lua_host_t *ain__lua_host_of(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return ud;
}

static int host_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  ain_log_error("lua panic (unprotected error): %s", msg ? msg : "?");
  abort();
}

static void call_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  ain_lua_host_t *h = ain__lua_host_of(L);
  ain_lua_call_t *c = h->running;
  if (c == NULL) {
    return; /* host-side Lua (json) is not charged to anyone */
  }
  c->instructions += HOST_HOOK_EVERY;
  ain__lua_budget_exceeded(c);
  if (!c->cpu_exceeded) {
    return; /* memory is enforced by the allocator and by lua/budget.c's wrappers */
  }
  if (L == c->co && lua_isyieldable(L)) {
    lua_yield(L, 0); /* ain__lua_resume sees cpu_exceeded and ends the call */
    return;
  }
  /* A coroutine the policy made, or inside a C call: raise, and raise again on every hook; the
   * pcall/resume wrappers (lua/budget.c) make sure nothing swallows it. */
  char msg[400];
  ain__lua_budget_message(c, msg, sizeof msg);
  luaL_error(L, "%s", msg);
}

int ain_lua_host_new(uv_loop_t *loop, const ain_lua_opts_t *opts, ain_lua_host_t **out,
                     ain_err_t *err) {
  *out = NULL;
  if (loop == NULL || opts == NULL || opts->scripts_dir == NULL) {
    return ain_err_set(err, AIN_EINVAL, "ain_lua_host_new: loop and scripts_dir are required");
  }
  int rc = 0;
  ain_lua_host_t *h = calloc(1, sizeof *h);
  if (h == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "ain_lua_host_new: out of memory");
  }
  h->loop = loop;
  h->scripts_dir = ain_strdup(opts->scripts_dir);
  snprintf(h->name, sizeof h->name, "%s", opts->name ? opts->name : "lua");
  h->mem_limit = opts->mem_limit ? opts->mem_limit : HOST_DEFAULT_MEM;
  h->cpu_budget = opts->cpu_budget ? opts->cpu_budget : HOST_DEFAULT_CPU;
  h->cpu_ns = (opts->cpu_ms ? opts->cpu_ms : HOST_DEFAULT_CPU_MS) * 1000000ull;
  h->allow_ffi = opts->allow_ffi;
  h->store = opts->store;
  h->secrets_dir = opts->secrets_dir ? ain_strdup(opts->secrets_dir) : NULL;
  h->default_max_attempts = opts->default_max_attempts > 0 ? opts->default_max_attempts : 3;
  h->privacy = opts->privacy;
  h->registry = opts->registry;
  h->sources_only = opts->registry != NULL || opts->sources_only;
  h->no_side_effects = opts->no_side_effects;
  uv_mutex_init(&h->busy_mu);
  h->spawn = opts->spawn;
  h->data_dir = ain_strdup(opts->data_dir ? opts->data_dir : "var");
  h->L = lua_newstate(host_alloc, h);
  if (h->L == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "ain_lua_host_new: lua_newstate failed");
    goto fail;
  }
  lua_atpanic(h->L, host_panic);
  rc = ain__lua_sandbox_init(h, err);
  if (rc != 0) {
    goto fail;
  }
  /* After luaL_openlibs: opening the jit library switches the engine back on. */
  luaJIT_setmode(h->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  lua_sethook(h->L, call_hook, LUA_MASKCOUNT, HOST_HOOK_EVERY);
  *out = h;
  return 0;
fail:
  if (h->L != NULL) {
    lua_close(h->L);
  }
  uv_mutex_destroy(&h->busy_mu);
  free(h->secrets_dir);
  free(h->scripts_dir);
  free(h->data_dir);
  free(h);
  return rc;
}

int ain_lua_host_active(const ain_lua_host_t *h) { return h ? h->active : 0; }

void ain__lua_push_json_fn(lua_State *L, ain_lua_host_t *h, const char *fname) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->json_ref);
  lua_getfield(L, -1, fname);
  lua_remove(L, -2);
}

void ain__lua_call_add_version(ain_lua_call_t *c, const char *name, const char *sha) {
  char key[200];
  snprintf(key, sizeof key, "\"%s\":", name);
  if (c->versions != NULL && strstr(c->versions, key) != NULL) {
    return;
  }
  size_t need = c->versions_len + strlen(key) + strlen(sha) + 8;
  if (need > c->versions_cap) {
    size_t cap = need * 2;
    char *nv = realloc(c->versions, cap);
    if (nv == NULL) {
      return;
    }
    c->versions = nv;
    c->versions_cap = cap;
  }
  /* versions always holds "{...}"; drop the closing brace, append, close again */
  size_t at = c->versions_len - 1;
  int n = snprintf(c->versions + at, c->versions_cap - at, "%s%s\"%s\"}", at > 1 ? "," : "", key,
                   sha);
  c->versions_len = at + (size_t)n;
}

const char *ain_lua_call_versions(const ain_lua_call_t *call) {
  return call && call->versions ? call->versions : "{}";
}

ain_lua_call_t *ain__lua_call_for_yield(lua_State *L, const char *fname) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  ain_lua_call_t *c = h->running;
  if (c == NULL || c->co != L) {
    luaL_error(L, "%s: must be called from the policy's own call, not from a coroutine it made",
               fname);
  }
  if (!lua_isyieldable(L)) {
    luaL_error(L, "%s: cannot wait here (while a module loads, or inside a C function such as "
                  "table.sort)", fname);
  }
  if (c->pending.cancel != NULL) {
    luaL_error(L, "%s: the call is already waiting", fname);
  }
  return c;
}

void ain__lua_set_pending(ain_lua_call_t *call, void (*cancel)(void *), void *op) {
  call->pending.cancel = cancel;
  call->pending.op = op;
}

/* Runs the callback once and frees the call. The coroutine is dropped, never resumed again. */
static void call_finish(ain_lua_call_t *c, int status, const char *result, const char *error) {
  if (c->finished) {
    return;
  }
  c->finished = 1;
  ain_lua_host_t *h = c->h;
  if (c->pending.cancel != NULL) {
    void (*cancel)(void *) = c->pending.cancel;
    c->pending.cancel = NULL;
    cancel(c->pending.op);
  }
  if (c->prev) {
    c->prev->next = c->next;
  } else {
    h->calls = c->next;
  }
  if (c->next) {
    c->next->prev = c->prev;
  }
  h->active--;
  if (status != 0) {
    ain_log_ctx_t lc = {.task_id = c->task_id[0] ? c->task_id : NULL,
                        .dag_id = c->dag_id[0] ? c->dag_id : NULL,
                        .actor = c->actor,
                        .state_version = -1,
                        .trace_id = c->trace_id[0] ? c->trace_id : NULL,
                        .span_id = c->span_id[0] ? c->span_id : NULL};
    ain_log(AIN_LOG_DEBUG, &lc, "lua call %s.%s failed: %s", c->module, c->function, error);
  }
  c->cb(c, status, result, error, c->data);
  luaL_unref(h->L, LUA_REGISTRYINDEX, c->co_ref);
  int was_mem = c->mem_exceeded;
  free(c->versions);
  ain__lua_io_free(c);
  free(c);
  if (was_mem) {
    lua_gc(h->L, LUA_GCCOLLECT, 0); /* give the memory back to the calls still running */
  }
}

/* "ECODE: message" + traceback of the coroutine, built on the main state (uncapped). */
static void finish_with_trace(ain_lua_call_t *c, int status, const char *msg) {
  lua_State *L = c->h->L;
  int top = lua_gettop(L);
  const char *code = ain_err_name(status);
  if (strncmp(msg, code, strlen(code)) == 0 && msg[strlen(code)] == ':') {
    lua_pushstring(L, msg);
  } else {
    lua_pushfstring(L, "%s: %s", code, msg);
  }
  luaL_traceback(L, c->co, lua_tostring(L, -1), 0);
  /* copy: the callback may start calls that use the main stack */
  char *text = ain_strdup(lua_tostring(L, -1));
  lua_settop(L, top);
  call_finish(c, status, NULL, text);
  free(text);
}

/* Maps a policy's `return nil, "ETIMEOUT: upstream slow"` to its code; ELUA otherwise. */
static int code_of_message(const char *msg) {
  for (int code = -1; code >= -64; code--) {
    const char *name = ain_err_name(code);
    size_t n = strlen(name);
    if (strcmp(name, "EUNKNOWN") != 0 && strncmp(msg, name, n) == 0 && msg[n] == ':') {
      return code;
    }
  }
  return AIN_ELUA;
}

static void finish_returned(ain_lua_call_t *c) {
  lua_State *co = c->co, *L = c->h->L;
  int n = lua_gettop(co);
  char what[300];
  snprintf(what, sizeof what, "%s.%s", c->module, c->function);
  if (n == 0 || lua_isnil(co, 1)) {
    if (n >= 2 && lua_type(co, 2) == LUA_TSTRING) {
      const char *msg = lua_tostring(co, 2);
      int code = code_of_message(msg);
      char *text = NULL;
      lua_pushfstring(L, code == AIN_ELUA ? "ELUA: %s returned an error: %s" : "%s%s",
                      code == AIN_ELUA ? what : "", msg);
      text = ain_strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
      call_finish(c, code, NULL, text);
      free(text);
      return;
    }
    call_finish(c, 0, "{}", NULL);
    return;
  }
  if (lua_type(co, 1) != LUA_TTABLE) {
    char msg[400];
    snprintf(msg, sizeof msg, "ELUA: %s returned a %s, expected a table or nil", what,
             luaL_typename(co, 1));
    call_finish(c, AIN_ELUA, NULL, msg);
    return;
  }
  int top = lua_gettop(L);
  ain__lua_push_json_fn(L, c->h, "encode");
  lua_pushvalue(co, 1);
  lua_xmove(co, L, 1);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    char *msg = ain_strdup(lua_tostring(L, -1));
    lua_settop(L, top);
    char text[1400];
    snprintf(text, sizeof text, "ELUA: %s returned a table that is not JSON: %s", what,
             msg ? msg : "?");
    free(msg);
    call_finish(c, AIN_ELUA, NULL, text);
    return;
  }
  char *json = ain_strdup(lua_tostring(L, -1));
  lua_settop(L, top);
  ain_err_t uerr;
  if (json[0] == '[') {
    char msg[400];
    snprintf(msg, sizeof msg, "ELUA: %s returned an array, expected a table with named fields",
             what);
    call_finish(c, AIN_ELUA, NULL, msg);
  } else if (ain_utf8_json_check(json, strlen(json), "result", &uerr) != 0) {
    char msg[1400]; /* cjson passes any bytes through: name the field before it is stored */
    snprintf(msg, sizeof msg, "EUTF8: %s: %s (a result must be valid UTF-8)", what, uerr.msg);
    call_finish(c, AIN_EUTF8, NULL, msg);
  } else {
    call_finish(c, 0, json, NULL);
  }
  free(json);
}

/* Decides what a return from lua_resume means. Returns 1 if the call waits for I/O, 0 if it has
 * finished (and is freed). */
static int after_resume(ain_lua_call_t *c, int rc) {
  char msg[600];
  if (c->cpu_exceeded || c->mem_exceeded) {
    const char *kind[1] = {c->mem_exceeded ? "memory" : c->cpu_exceeded == 2 ? "wall" : "cpu"};
    ain_obs_inc(AIN_M_LUA_BUDGET_STOPS, kind);
    ain__lua_budget_message(c, msg, sizeof msg);
    finish_with_trace(c, c->cpu_exceeded ? AIN_EBUDGET_CPU : AIN_EBUDGET_MEM, msg);
    return 0;
  }
  if (rc == LUA_YIELD) {
    if (c->pending.cancel != NULL) {
      return 1;
    }
    finish_with_trace(c, AIN_ELUA,
                      "coroutine.yield() outside a coroutine the policy made (use ain.sleep)");
    return 0;
  }
  if (rc == 0) {
    finish_returned(c);
    return 0;
  }
  const char *m = lua_tostring(c->co, -1);
  if (m == NULL) {
    snprintf(msg, sizeof msg, "error object is a %s value", luaL_typename(c->co, -1));
    m = msg;
  }
  /* a refusal may have been caught by pcall and another error raised: only call it ESANDBOX
   * when the message that ended the call is the refusal */
  int status = c->sandbox_hit && strstr(m, "refused by the sandbox") ? AIN_ESANDBOX : AIN_ELUA;
  char *copy = ain_strdup(m);
  finish_with_trace(c, status, copy);
  free(copy);
  return 0;
}

static int resume_running(ain_lua_call_t *c, int nargs) {
  ain_lua_host_t *h = c->h;
  ain_lua_call_t *prev = h->running;
  uint64_t prev_start = h->slice_start_ns;
  h->running = c;
  h->slice_start_ns = ain_mono_ns();
  if (prev == NULL) {
    ain__lua_busy_begin(h, c); /* the watchdog's view (busy.c) */
  }
  int rc = lua_resume(c->co, nargs);
  if (prev == NULL) {
    ain__lua_busy_end(h);
  }
  c->run_ns += ain_mono_ns() - h->slice_start_ns;
  h->running = prev;
  h->slice_start_ns = prev_start;
  return after_resume(c, rc);
}

void ain__lua_resume(ain_lua_call_t *c, int nres) {
  if (c->finished || lua_status(c->co) != LUA_YIELD) {
    return; /* a call that finished or died must never run again */
  }
  resume_running(c, nres);
}

static void copy_ctx_ids(ain_lua_call_t *c, const char *ctx_json) {
  cJSON *j = ctx_json ? cJSON_Parse(ctx_json) : NULL;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "task_id");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dag_id");
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "trace_id");
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(j, "span_id");
  const cJSON *tp = cJSON_GetObjectItemCaseSensitive(j, "traceparent");
  if (cJSON_IsString(tr) && cJSON_IsString(sp) && cJSON_IsString(tp)) {
    snprintf(c->trace_id, sizeof c->trace_id, "%s", tr->valuestring);
    snprintf(c->span_id, sizeof c->span_id, "%s", sp->valuestring);
    snprintf(c->traceparent, sizeof c->traceparent, "%s", tp->valuestring);
  }
  if (cJSON_IsString(t)) {
    snprintf(c->task_id, sizeof c->task_id, "%s", t->valuestring);
  }
  if (cJSON_IsString(d)) {
    snprintf(c->dag_id, sizeof c->dag_id, "%s", d->valuestring);
  }
  cJSON_Delete(j);
}

/* Decodes a JSON object argument onto co. */
static int push_json_arg(ain_lua_host_t *h, lua_State *co, const char *json, const char *what,
                         ain_err_t *err) {
  lua_State *L = h->L;
  int top = lua_gettop(L);
  ain__lua_push_json_fn(L, h, "decode");
  lua_pushstring(L, json ? json : "{}");
  if (lua_pcall(L, 1, 1, 0) != 0) {
    ain_err_field(err, AIN_EINVAL, what, "%s is not valid JSON: %s", what, lua_tostring(L, -1));
    lua_settop(L, top);
    return AIN_EINVAL;
  }
  if (!lua_istable(L, -1)) {
    lua_settop(L, top);
    return ain_err_field(err, AIN_EINVAL, what, "%s must be a JSON object", what);
  }
  lua_xmove(L, co, 1);
  lua_settop(L, top);
  return 0;
}

static int valid_name(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) >= 120) {
    return 0;
  }
  for (const char *p = s; *p; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '-' || *p == '/')) {
      return 0;
    }
  }
  return 1;
}

int ain_lua_call(ain_lua_host_t *h, const ain_lua_call_opts_t *opts, ain_lua_call_cb cb,
                 void *data, ain_lua_call_t **out, ain_err_t *err) {
  if (out != NULL) {
    *out = NULL;
  }
  if (h == NULL || opts == NULL || cb == NULL) {
    return ain_err_set(err, AIN_EINVAL, "ain_lua_call: host, opts and cb are required");
  }
  if (!valid_name(opts->module)) {
    return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                         opts->module ? opts->module : "(null)");
  }
  if (!valid_name(opts->function) || strchr(opts->function, '/') != NULL) {
    return ain_err_field(err, AIN_EINVAL, "function", "bad function name '%s'",
                         opts->function ? opts->function : "(null)");
  }
  int rc = 0;
  lua_State *L = h->L;
  if (h->registry != NULL) {
    ain__lua_registry_sync(h); /* a step boundary: new versions apply from this call on */
  }
  int top = lua_gettop(L);
  ain_lua_call_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "ain_lua_call: out of memory");
  }
  c->h = h;
  c->cb = cb;
  c->data = data;
  c->co_ref = LUA_NOREF;
  c->serial = ++h->call_serial;
  snprintf(c->module, sizeof c->module, "%s", opts->module);
  snprintf(c->function, sizeof c->function, "%s", opts->function);
  snprintf(c->actor, sizeof c->actor, "policy:%s.%s", opts->module, opts->function);
  c->outbox = opts->outbox;
  c->versions = ain_strdup("{}");
  c->versions_len = c->versions_cap = 2;
  copy_ctx_ids(c, opts->ctx_json);
  if (opts->replay_io != NULL && !h->no_side_effects) {
    rc = ain_err_field(err, AIN_EINVAL, "replay_io",
                       "recorded exchanges are served only by a replay host (no_side_effects)");
    free(c->versions);
    free(c);
    return rc;
  }
  if ((rc = ain__lua_io_set_replay(c, opts->replay_io, err)) != 0) {
    free(c->versions);
    free(c);
    return rc;
  }

  c->co = lua_newthread(L);
  c->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->trampoline_ref);
  lua_xmove(L, c->co, 1);
  lua_pushstring(c->co, c->module);
  lua_pushstring(c->co, c->function);
  rc = push_json_arg(h, c->co, opts->payload_json, "payload", err);
  if (rc != 0) {
    goto fail;
  }
  rc = push_json_arg(h, c->co, opts->ctx_json, "ctx", err);
  if (rc != 0) {
    goto fail;
  }
  c->next = h->calls;
  if (h->calls) {
    h->calls->prev = c;
  }
  h->calls = c;
  h->active++;
  if (resume_running(c, 4) && out != NULL) {
    *out = c; /* still waiting; when it finished at once the callback has already run */
  }
  return 0;
fail:
  luaL_unref(L, LUA_REGISTRYINDEX, c->co_ref);
  lua_settop(L, top);
  free(c->versions);
  ain__lua_io_free(c);
  free(c);
  return rc;
}

void ain_lua_call_cancel(ain_lua_call_t *call, int code, const char *why) {
  if (call == NULL || call->finished || call->h->running == call) {
    return;
  }
  char msg[1200];
  snprintf(msg, sizeof msg, "%s: %s.%s cancelled: %s", ain_err_name(code), call->module,
           call->function, why ? why : "no reason given");
  call_finish(call, code, NULL, msg);
}

void ain_lua_host_free(ain_lua_host_t *h) {
  if (h == NULL) {
    return;
  }
  while (h->calls != NULL) {
    ain_lua_call_cancel(h->calls, AIN_ESHUTDOWN, "the Lua host is shutting down");
  }
  ain__lua_http_free(h);
  lua_close(h->L);
  uv_mutex_destroy(&h->busy_mu);
  free(h->secrets_dir);
  free(h->scripts_dir);
  free(h->data_dir);
  free(h->spawn_helper);
  free(h);
}
