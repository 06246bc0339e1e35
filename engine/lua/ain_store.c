/* ain.store: a key-value namespace per policy, plus read-only views of personas and trends.
 * The namespace is the calling policy's module (the call's own, never an argument), so a policy
 * cannot read or overwrite another's keys. Values are JSON (tables, strings, numbers, booleans)
 * with the row's state_version for optimistic concurrency: put(key, v, version) only replaces
 * that version, and a loser gets nil, "ECONFLICT: ...", "ECONFLICT".
 * Each get/put/delete is one store request (KV_GET/KV_PUT/KV_DELETE) on the shard's handle; the
 * call yields until its callback. A cancelled call leaves its request to finish on its own (store
 * requests cannot be withdrawn) and the callback only frees it.
 * personas(): the persona tables under scripts_dir/personas, loaded like require('personas/x')
 * (the listing is a readdir of a local folder, as module loading reads its file on the loop).
 * trends([limit]): the trends the planner has seen (TRENDS_LIST), newest first, each record decoded
 * from its JSON; one store request, yielding like get.
 * A get's answer is recorded with the call (lua/io_record.c); in replay, get answers from that
 * recording (a key not recorded: "ESTORE: this Lua host has no store", as before).
 * Relies on: store/store.h (KV ops), lua/internal.h, core/log.h, cJSON. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "lua/internal.h"
#include "store/posts.h"
#include "store/store.h"

typedef struct {
  ain_store_req_t req;
  ain_lua_call_t *call; /* NULL once cancelled */
  char *ns, *key, *value; /* owned copies: the request borrows them */
} kv_op_t;

static void kv_free(kv_op_t *op) {
  ain_store_req_cleanup(&op->req);
  free(op->ns);
  free(op->key);
  free(op->value);
  free(op);
}

static void kv_cancel(void *p) {
  ((kv_op_t *)p)->call = NULL;
}

/* nil, "ECODE: detail", "ECODE" onto L */
static int push_fail(lua_State *L, int code, const char *msg) {
  return ain__lua_push_fail(L, code, "%s", msg);
}

static int no_store(lua_State *L) {
  return push_fail(L, AIN_ESTORE, "this Lua host has no store");
}

/* The trends of a finished TRENDS_LIST as a Lua array onto the coroutine: {key, record,
 * first_seen_at, last_seen_at}; a record that is missing or not JSON is nil (the key says which
 * trend it was). */
static void push_trends(ain_lua_call_t *call, ain_store_req_t *r) {
  lua_State *co = call->co;
  ain_lua_host_t *h = call->h;
  lua_createtable(co, (int)r->u.trends_list.ntrends, 0);
  for (size_t i = 0; i < r->u.trends_list.ntrends; i++) {
    const ain_trend_t *t = &r->u.trends_list.trends[i];
    lua_createtable(co, 0, 4);
    lua_pushstring(co, t->trend_key);
    lua_setfield(co, -2, "key");
    lua_pushnumber(co, (lua_Number)t->first_seen_at);
    lua_setfield(co, -2, "first_seen_at");
    lua_pushnumber(co, (lua_Number)t->last_seen_at);
    lua_setfield(co, -2, "last_seen_at");
    if (t->record != NULL) {
      int top = lua_gettop(h->L);
      ain__lua_push_json_fn(h->L, h, "decode");
      lua_pushstring(h->L, t->record);
      if (lua_pcall(h->L, 1, 1, 0) == 0) {
        lua_xmove(h->L, co, 1);
        lua_setfield(co, -2, "record");
      }
      lua_settop(h->L, top);
    }
    lua_rawseti(co, -2, (int)i + 1);
  }
}

/* The "posts" array of a POSTS answer with its null members removed (a counter the platform does
 * not report is absent in Lua, not ain.json.null). Caller frees; NULL when it is not JSON. */
static char *posts_without_nulls(const char *answer) {
  cJSON *o = cJSON_Parse(answer != NULL ? answer : "");
  cJSON *posts = cJSON_DetachItemFromObjectCaseSensitive(o, "posts");
  cJSON_Delete(o);
  if (!cJSON_IsArray(posts)) {
    cJSON_Delete(posts);
    return NULL;
  }
  cJSON *p;
  cJSON_ArrayForEach(p, posts) {
    cJSON *m = p->child;
    while (m != NULL) {
      cJSON *next = m->next;
      if (cJSON_IsNull(m)) {
        cJSON_Delete(cJSON_DetachItemViaPointer(p, m));
      }
      m = next;
    }
  }
  char *s = cJSON_PrintUnformatted(posts);
  cJSON_Delete(posts);
  return s;
}

/* Pushes the results of a finished KV request onto the coroutine; returns their count. */
static int kv_results(ain_lua_call_t *call, ain_store_req_t *r) {
  lua_State *co = call->co;
  if (r->op == AIN_STORE_KV_GET && r->status == AIN_ENOTFOUND) {
    lua_pushnil(co); /* absent is an answer, not a failure */
    return 1;
  }
  if (r->op == AIN_STORE_KV_DELETE && r->status == AIN_ENOTFOUND) {
    lua_pushboolean(co, 0);
    return 1;
  }
  if (r->status != 0) {
    return push_fail(co, r->status, r->err.msg);
  }
  switch (r->op) {
  case AIN_STORE_KV_GET: {
    ain_lua_host_t *h = call->h;
    int top = lua_gettop(h->L);
    ain__lua_push_json_fn(h->L, h, "decode");
    lua_pushstring(h->L, r->u.kv.out_value);
    if (lua_pcall(h->L, 1, 1, 0) != 0) {
      lua_settop(h->L, top);
      return push_fail(co, AIN_ESTORE, "the stored value is not JSON");
    }
    lua_xmove(h->L, co, 1);
    lua_settop(h->L, top);
    lua_pushnumber(co, (lua_Number)r->u.kv.version);
    return 2;
  }
  case AIN_STORE_KV_PUT:
    lua_pushnumber(co, (lua_Number)r->u.kv.version);
    return 1;
  case AIN_STORE_TRENDS_LIST:
    push_trends(call, r);
    return 1;
  case AIN_STORE_POSTS: { /* post_metrics: the answer's "posts" array, nulls left out */
    ain_lua_host_t *h = call->h;
    char *posts = posts_without_nulls(r->u.posts.out);
    int top = lua_gettop(h->L);
    ain__lua_push_json_fn(h->L, h, "decode");
    lua_pushstring(h->L, posts != NULL ? posts : "");
    free(posts);
    if (lua_pcall(h->L, 1, 1, 0) != 0 || !lua_istable(h->L, -1)) {
      lua_settop(h->L, top);
      return push_fail(co, AIN_ESTORE, "the store's post metrics are not JSON");
    }
    lua_xmove(h->L, co, 1);
    lua_settop(h->L, top);
    return 1;
  }
  default:
    lua_pushboolean(co, 1);
    return 1;
  }
}

/* A get's answer, recorded with the call (lua/io_record.c) so a replay reads what it read. */
static void record_get(ain_lua_call_t *call, const kv_op_t *op, const ain_store_req_t *r) {
  if (r->status != 0 && r->status != AIN_ENOTFOUND) {
    return; /* a store failure: replay has no store and fails alike */
  }
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "kind", "store.get");
  cJSON_AddStringToObject(e, "key", op->key);
  cJSON_AddBoolToObject(e, "found", r->status == 0);
  if (r->status == 0) {
    const char *v = r->u.kv.out_value ? r->u.kv.out_value : "null";
    ain__lua_io_add_body(call, e, "value", v, strlen(v));
    cJSON_AddNumberToObject(e, "version", (double)r->u.kv.version);
  }
  ain__lua_io_add(call, e);
}

/* Replay: ain.store.get answered from the recorded get of this key, or "no store". */
static int get_replay(lua_State *L, ain_lua_call_t *call, const char *key) {
  ain_lua_host_t *h = call->h;
  cJSON *e = ain__lua_io_take(call, "store.get", "key", key, NULL, NULL, NULL, NULL);
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(e, "version");
  int n;
  if (e == NULL || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "truncated"))) {
    n = no_store(L);
  } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "found"))) {
    lua_pushnil(L);
    n = 1;
  } else {
    ain__lua_push_json_fn(L, h, "decode");
    lua_pushstring(L, cJSON_IsString(value) ? value->valuestring : "");
    if (lua_pcall(L, 1, 1, 0) != 0) {
      lua_pop(L, 1);
      n = push_fail(L, AIN_ESTORE, "the recorded value is not JSON");
    } else {
      lua_pushnumber(L, cJSON_IsNumber(version) ? version->valuedouble : 1);
      n = 2;
    }
  }
  cJSON_Delete(e);
  return n;
}

static void kv_done(ain_store_req_t *r) {
  kv_op_t *op = r->data;
  ain_lua_call_t *call = op->call;
  if (call != NULL) {
    call->pending.cancel = NULL;
    if (r->op == AIN_STORE_KV_GET) {
      record_get(call, op, r);
    }
    int n = kv_results(call, r);
    kv_free(op);
    ain__lua_resume(call, n);
    return;
  }
  kv_free(op);
}

static const char *check_key(lua_State *L, int arg) {
  size_t len;
  const char *key = luaL_checklstring(L, arg, &len);
  if (len == 0 || len > AIN_STORE_KV_KEY_MAX || strlen(key) != len) {
    luaL_argerror(L, arg, "key must be a string of 1 to 256 bytes without NUL");
  }
  return key;
}

static int64_t check_version(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) {
    return -1;
  }
  lua_Number v = luaL_checknumber(L, arg);
  if (!(v >= 0) || v > 9007199254740991.0 || v != (lua_Number)(int64_t)v) {
    luaL_argerror(L, arg, "expect_version must be an integer >= 0 (0 = the key must not exist)");
  }
  return (int64_t)v;
}

/* Submits the op's request and yields; or returns nil, err when it could not be queued. */
static int kv_start(lua_State *L, ain_lua_call_t *call, kv_op_t *op) {
  ain_lua_host_t *h = call->h;
  op->call = call;
  op->req.data = op;
  op->req.cb = kv_done;
  op->req.actor = call->actor;
  int rc = ain_store_submit(h->store, &op->req);
  if (rc != 0) {
    char msg[sizeof op->req.err.msg];
    snprintf(msg, sizeof msg, "%s", op->req.err.msg);
    kv_free(op);
    return push_fail(L, rc, msg);
  }
  ain__lua_set_pending(call, kv_cancel, op);
  return lua_yield(L, 0);
}

static kv_op_t *kv_new(lua_State *L, ain_lua_call_t *call, const char *key, const char *value) {
  kv_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    luaL_error(L, "ain.store: out of memory");
    return NULL;
  }
  op->ns = ain_strdup(call->module);
  op->key = ain_strdup(key);
  op->value = value ? ain_strdup(value) : NULL;
  return op;
}

/* ain.store.get(key) -> value, version | nil */
static int l_get(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *key = check_key(L, 1);
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.store.get");
  if (h->no_side_effects) {
    return get_replay(L, call, key);
  }
  if (h->store == NULL) {
    return no_store(L);
  }
  kv_op_t *op = kv_new(L, call, key, NULL);
  ain_store_req_kv_get(&op->req, op->ns, op->key);
  return kv_start(L, call, op);
}

/* ain.store.put(key, value [, expect_version]) -> new_version | nil, "ECONFLICT: ...", ... */
static int l_put(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *key = check_key(L, 1);
  int t = lua_type(L, 2);
  if (t != LUA_TTABLE && t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN) {
    return luaL_argerror(L, 2, "value must be a table, string, number or boolean "
                               "(use ain.store.delete to remove a key)");
  }
  int64_t expect = check_version(L, 3);
  lua_settop(L, 3);
  ain__lua_push_json_fn(L, h, "encode");
  lua_pushvalue(L, 2);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    return luaL_argerror(L, 2, lua_pushfstring(L, "value is not JSON: %s", lua_tostring(L, -1)));
  }
  size_t vlen;
  const char *json = lua_tolstring(L, -1, &vlen);
  if (vlen > AIN_STORE_KV_VALUE_MAX) {
    return luaL_argerror(L, 2, "value is larger than 1 MiB as JSON");
  }
  int refused = ain__lua_no_side_effects(L, "ain.store.put");
  if (refused) {
    return refused;
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.store.put");
  if (h->store == NULL) {
    return no_store(L);
  }
  kv_op_t *op = kv_new(L, call, key, json);
  ain_store_req_kv_put(&op->req, op->ns, op->key, op->value, expect);
  return kv_start(L, call, op);
}

/* ain.store.delete(key [, expect_version]) -> true | false (absent) | nil, "ECONFLICT: ..." */
static int l_delete(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  const char *key = check_key(L, 1);
  int64_t expect = check_version(L, 2);
  if (expect == 0) {
    return luaL_argerror(L, 2, "expect_version must be >= 1 (the version to delete)");
  }
  int refused = ain__lua_no_side_effects(L, "ain.store.delete");
  if (refused) {
    return refused;
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.store.delete");
  if (h->store == NULL) {
    return no_store(L);
  }
  kv_op_t *op = kv_new(L, call, key, NULL);
  ain_store_req_kv_delete(&op->req, op->ns, op->key, expect);
  return kv_start(L, call, op);
}

/* ---- personas and trends ---- */

static int persona_id_ok(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 100) {
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

static int load_persona_protected(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  return ain__lua_load_module(L, h, lua_tostring(L, 1));
}

/* Pushes the persona table, or returns nonzero with the error message on the stack. */
static int push_persona(lua_State *L, const char *id) {
  lua_pushcfunction(L, load_persona_protected);
  lua_pushfstring(L, "personas/%s", id);
  return lua_pcall(L, 1, 1, 0);
}

/* ain.store.persona(id) -> table | nil, "ENOTFOUND: ...", "ENOTFOUND" */
static int l_persona(lua_State *L) {
  const char *id = luaL_checkstring(L, 1);
  if (!persona_id_ok(id)) {
    return luaL_argerror(L, 1, "persona id must be 1 to 100 of A-Z a-z 0-9 _ -");
  }
  if (push_persona(L, id) != 0) {
    const char *m = lua_tostring(L, -1);
    int missing = m != NULL && strstr(m, "not found") != NULL;
    return push_fail(L, missing ? AIN_ENOTFOUND : AIN_ELUA,
                     lua_pushfstring(L, "persona '%s': %s", id, m ? m : "?"));
  }
  return 1;
}

/* ain.store.personas() -> {id = table, ...}; a persona file that does not load is skipped with a
 * warning, so one bad edit does not hide the others. */
static int l_personas(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/personas", h->scripts_dir);
  lua_newtable(L);
  int out = lua_gettop(L);
  DIR *d = opendir(dir);
  if (d == NULL) {
    return 1; /* no personas folder: no personas */
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n <= 4 || strcmp(e->d_name + n - 4, ".lua") != 0) {
      continue;
    }
    char id[128];
    snprintf(id, sizeof id, "%.*s", (int)(n - 4), e->d_name);
    if (!persona_id_ok(id)) {
      continue;
    }
    if (push_persona(L, id) != 0) {
      ain_log_ctx_t lc = {.actor = h->name, .state_version = -1};
      ain_log(AIN_LOG_WARN, &lc, "ain.store.personas: skipping persona '%s': %s", id,
              lua_tostring(L, -1));
      lua_settop(L, out);
      continue;
    }
    lua_setfield(L, out, id);
  }
  closedir(d);
  return 1;
}

/* ain.store.trends([limit]) -> {{key =, record =, first_seen_at =, last_seen_at =}, ...} | nil, err
 * limit: 1 .. 1000, default 100. */
static int l_trends(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  lua_Number lim = luaL_optnumber(L, 1, 100);
  if (!(lim >= 1 && lim <= AIN_STORE_TRENDS_MAX) || lim != (lua_Number)(int)lim) {
    return luaL_argerror(L, 1, "limit must be an integer from 1 to 1000");
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.store.trends");
  if (h->store == NULL) {
    return no_store(L);
  }
  kv_op_t *op = kv_new(L, call, NULL, NULL);
  ain_store_req_trends_list(&op->req, (int)lim);
  return kv_start(L, call, op);
}

/* An optional string field of the filter table at index 1 into a (1..256 bytes). */
static void filter_str(lua_State *L, cJSON *a, const char *k) {
  lua_getfield(L, 1, k);
  if (!lua_isnil(L, -1)) {
    size_t n = 0;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (v == NULL || n == 0 || n > 256) {
      cJSON_Delete(a);
      lua_pushfstring(L, "%s must be a string of 1 to 256 bytes", k);
      luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    cJSON_AddStringToObject(a, k, v);
  }
  lua_pop(L, 1);
}

/* An optional integer field of the filter table in [min, max]. */
static void filter_int(lua_State *L, cJSON *a, const char *k, double min, double max) {
  lua_getfield(L, 1, k);
  if (!lua_isnil(L, -1)) {
    lua_Number v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
    if (!(v >= min && v <= max) || v != (lua_Number)(int64_t)v) {
      cJSON_Delete(a);
      lua_pushfstring(L, "%s must be an integer from %d to %.0f", k, (int)min, max);
      luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    cJSON_AddNumberToObject(a, k, v);
  }
  lua_pop(L, 1);
}

/* ain.store.post_metrics([{persona =, topic =, channel =, since = ms, limit = 1..1000}])
 * -> {{receipt_id, video_id, channel, post_id, persona_id, topic, published_at, fetched_at,
 *      views, likes, comments, shares}, ...} | nil, err
 * The latest pulled metrics of each post published since `since` (ms), newest first; a counter
 * the platform does not report is absent. One store request (POSTS "metrics"), yielding. */
static int l_post_metrics(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.store.post_metrics"); /* may raise */
  cJSON *a = cJSON_CreateObject();
  filter_str(L, a, "persona");
  filter_str(L, a, "topic");
  filter_str(L, a, "channel");
  filter_int(L, a, "since", 0, 9007199254740991.0);
  filter_int(L, a, "limit", 1, 1000);
  char *args = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  if (args == NULL) {
    return luaL_error(L, "ain.store: out of memory");
  }
  if (h->store == NULL) {
    free(args);
    return no_store(L);
  }
  kv_op_t *op = kv_new(L, call, NULL, args);
  free(args);
  ain_store_req_posts(&op->req, "metrics", op->value);
  return kv_start(L, call, op);
}

void ain__lua_add_store(lua_State *L) {
  static const luaL_Reg fns[] = {{"get", l_get},           {"put", l_put},
                                 {"delete", l_delete},     {"persona", l_persona},
                                 {"personas", l_personas}, {"trends", l_trends},
                                 {"post_metrics", l_post_metrics},
                                 {NULL, NULL}};
  lua_newtable(L);
  for (const luaL_Reg *f = fns; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  ain__lua_make_readonly(L, "ain.store");
  lua_setfield(L, -2, "store");
}
