/* ain.emit{type=, payload=, persona_id=, priority=, run_at=, max_attempts=} -> task_id: a policy
 * enqueues a new task. The arguments become a task message checked by the same validator as
 * `ain enqueue` (message/message.h), and its persona by the same check (lua/personas.h), so a
 * policy cannot store a task the CLI would refuse; a bad argument is misuse and raises
 * "ain.emit: <field>: ...", naming the call and the field. The handler comes from the type as for
 * the CLI (sched/handlers.c).
 * Inside a step (the call has an outbox, host.h) the task is not enqueued here: it joins the
 * step's outbox and is committed in the same transaction as the step's success (FINISH with
 * spawned work), so a failed attempt has emitted nothing and a retried one emits once. The id
 * is returned at once, without yielding. Elsewhere (`ain test` specs, a host without steps) the
 * enqueue is its own store request and the call yields until it commits.
 * PII in the payload is replaced by tokens before the task exists (privacy/privacy.h).
 * Relies on: message/message.h, lua/personas.h, privacy/privacy.h, store/store.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "message/message.h"
#include "lua/internal.h"
#include "lua/personas.h"
#include "privacy/privacy.h"
#include "store/store.h"

#define EMIT_MAX 1000 /* tasks one call may emit: the outbox is C memory, outside Lua's budget */

typedef struct {
  ain_store_req_t req;
  ain_store_batch_t batch;
  ain_task_t task;
  ain_lua_call_t *call; /* NULL once cancelled */
} emit_op_t;

static void emit_free(emit_op_t *op) {
  ain_store_req_cleanup(&op->req);
  ain_task_free(&op->task);
  free(op);
}

static void emit_cancel(void *p) {
  ((emit_op_t *)p)->call = NULL; /* the enqueue still completes; emit_done frees */
}

static void emit_done(ain_store_req_t *r) {
  emit_op_t *op = r->data;
  ain_lua_call_t *call = op->call;
  if (call == NULL) {
    emit_free(op);
    return;
  }
  call->pending.cancel = NULL;
  lua_State *co = call->co;
  int n = 1;
  if (r->status == 0) {
    lua_pushstring(co, op->task.id);
  } else {
    n = ain__lua_push_fail(co, r->status, "ain.emit: %s", r->err.msg);
  }
  emit_free(op);
  ain__lua_resume(call, n);
}

/* Raises "<where>ain.emit: <message>": every misuse error names the call, so a policy author
 * sees which of its calls failed. Formats as lua_pushfstring. */
static int emit_raise(lua_State *L, const char *fmt, ...) {
  va_list ap;
  luaL_where(L, 1);
  lua_pushliteral(L, "ain.emit: ");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return lua_error(L);
}

/* Copies field `name` (type already checked: string or number, or absent) into the message. */
static void copy_field(lua_State *L, cJSON *msg, const char *name) {
  lua_getfield(L, 1, name);
  if (lua_type(L, -1) == LUA_TSTRING) {
    cJSON_AddStringToObject(msg, name, lua_tostring(L, -1));
  } else if (lua_type(L, -1) == LUA_TNUMBER) {
    cJSON_AddNumberToObject(msg, name, lua_tonumber(L, -1));
  }
  lua_pop(L, 1);
}

/* Builds and validates the task message; raises on misuse. Fills *task (caller frees). The cJSON
 * tree is freed before any raise so nothing leaks past a longjmp. */
static void build_task(lua_State *L, ain_lua_host_t *h, ain_task_t *task) {
  static const char *const allowed[] = {"type",   "payload",      "persona_id", "priority",
                                        "run_at", "max_attempts", NULL};
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    int ok = 0;
    for (int i = 0; allowed[i] != NULL && lua_type(L, -2) == LUA_TSTRING; i++) {
      ok |= strcmp(lua_tostring(L, -2), allowed[i]) == 0;
    }
    if (!ok) {
      emit_raise(L, "%s: unknown field (want type, payload, persona_id, priority, run_at, "
                    "max_attempts)",
                 lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
    }
    lua_pop(L, 1);
  }
  /* payload -> JSON text first (it may raise), before anything is allocated */
  lua_getfield(L, 1, "payload");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "{}");
  } else {
    if (!lua_istable(L, -1)) {
      emit_raise(L, "payload: must be a table, got %s", luaL_typename(L, -1));
    }
    ain__lua_push_json_fn(L, h, "encode");
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != 0) {
      emit_raise(L, "payload: not JSON: %s", lua_tostring(L, -1));
    }
    if (lua_tostring(L, -1)[0] == '[') {
      /* cjson encodes an empty table as {} but a list as [...]: a payload is an object */
      emit_raise(L, "payload: must be a table with named fields, not a list");
    }
  }
  int payload_idx = lua_gettop(L);
  /* Lua types first, so every raise happens before the cJSON tree exists */
  static const char *const scalars[] = {"type", "persona_id", "priority", "run_at",
                                        "max_attempts", NULL};
  for (int i = 0; scalars[i] != NULL; i++) {
    lua_getfield(L, 1, scalars[i]);
    int t = lua_type(L, -1);
    int want_string = i < 2;
    if (t == LUA_TNIL) {
      if (want_string) {
        emit_raise(L, "%s: required field is missing", scalars[i]);
      }
    } else if (want_string ? t != LUA_TSTRING : t != LUA_TNUMBER) {
      emit_raise(L, "%s: must be a %s, got %s", scalars[i], want_string ? "string" : "number",
                 luaL_typename(L, -1));
    }
    lua_pop(L, 1);
  }
  char id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "task_id", id);
  for (int i = 0; scalars[i] != NULL; i++) {
    copy_field(L, msg, scalars[i]);
  }
  cJSON_AddRawToObject(msg, "payload", lua_tostring(L, payload_idx));
  cJSON_AddNumberToObject(msg, "state_version", 0);
  char *text = cJSON_PrintUnformatted(msg);
  cJSON_Delete(msg);
  if (text == NULL) {
    emit_raise(L, "out of memory");
  }
  ain_err_t err = {0};
  int rc = ain_message_parse_task(text, strlen(text), task, &err);
  free(text);
  if (rc == 0) {
    rc = ain_privacy_scrub_json(h->privacy, &task->payload, NULL, &err); /* before it is stored */
    if (rc != 0) {
      ain_task_free(task);
    }
  }
  if (rc != 0) {
    emit_raise(L, "%s", err.msg);
  }
  lua_settop(L, 1);
}

/* A task emitted by a traced call continues its trace (a child of the calling step's span),
 * unless the policy gave it a traceparent of its own. */
static void inherit_trace(ain_lua_host_t *h, ain_task_t *t) {
  ain_lua_call_t *call = h->running;
  if (t->traceparent == NULL && call != NULL && call->traceparent[0] != '\0') {
    t->traceparent = ain_strdup(call->traceparent);
  }
}

/* The step's outbox takes the task (moved: *task is left empty); pushes its id. */
static int emit_to_outbox(lua_State *L, ain_lua_host_t *h, ain_store_batch_t *box,
                          ain_task_t *task) {
  if (box->ntasks >= EMIT_MAX) {
    ain_task_free(task);
    return emit_raise(L, "one call may emit at most %d tasks", EMIT_MAX);
  }
  size_t n = box->ntasks;
  if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* capacity 4, 8, 16...: full at a power of 2 */
    ain_task_t *grown = realloc(box->tasks, (n == 0 ? 4 : 2 * n) * sizeof *grown);
    if (grown == NULL) {
      ain_task_free(task);
      return emit_raise(L, "out of memory");
    }
    box->tasks = grown;
  }
  ain_task_t *t = &box->tasks[box->ntasks++];
  *t = *task;
  memset(task, 0, sizeof *task);
  ain_task_defaults(t, h->default_max_attempts);
  inherit_trace(h, t);
  lua_pushstring(L, t->id);
  return 1;
}

/* ain.emit{...} -> task_id | nil, "ESTORE: ain.emit: ...", "ESTORE" */
static int l_emit(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  if (!lua_istable(L, 1)) {
    return emit_raise(L, "bad argument #1 (table expected, got %s)", luaL_typename(L, 1));
  }
  lua_settop(L, 1);
  ain_task_t task;
  memset(&task, 0, sizeof task);
  build_task(L, h, &task);
  /* from here on nothing raises before the task is owned by op or freed */
  int refused = ain__lua_no_side_effects(L, "ain.emit");
  if (refused) {
    ain_task_free(&task);
    return refused;
  }
  /* After the replay refusal: a replay has only the versions its call recorded, so the persona
   * set it sees is not the engine's, and the emit would be refused anyway. */
  ain_err_t err = {0};
  if (ain_lua_persona_check(L, h, NULL, task.persona_id, &err) != 0) {
    ain_task_free(&task);
    return emit_raise(L, "%s", err.msg);
  }
  ain_lua_call_t *call = h->running;
  if (call != NULL && call->co == L && call->outbox != NULL) {
    return emit_to_outbox(L, h, call->outbox, &task);
  }
  if (call == NULL || call->co != L || !lua_isyieldable(L) || call->pending.cancel != NULL) {
    ain_task_free(&task);
    ain__lua_call_for_yield(L, "ain.emit"); /* raises with the reason */
    return 0;
  }
  if (h->store == NULL) {
    ain_task_free(&task);
    return ain__lua_push_fail(L, AIN_ESTORE, "ain.emit: this Lua host has no store");
  }
  emit_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    ain_task_free(&task);
    return emit_raise(L, "out of memory");
  }
  op->task = task;
  ain_task_defaults(&op->task, h->default_max_attempts);
  inherit_trace(h, &op->task);
  op->batch.tasks = &op->task;
  op->batch.ntasks = 1;
  op->call = call;
  ain_store_req_enqueue(&op->req, &op->batch);
  op->req.data = op;
  op->req.cb = emit_done;
  op->req.actor = call->actor;
  int rc = ain_store_submit(h->store, &op->req);
  if (rc != 0) {
    ain__lua_push_fail(L, rc, "ain.emit: %s", op->req.err.msg);
    emit_free(op);
    return 3;
  }
  ain__lua_set_pending(call, emit_cancel, op);
  return lua_yield(L, 0);
}

void ain__lua_add_emit(lua_State *L) {
  lua_pushcfunction(L, l_emit);
  lua_setfield(L, -2, "emit");
}
