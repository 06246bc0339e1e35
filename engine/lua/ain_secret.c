/* ain.secret(name) and ain.hmac_sha256(key, msg).
 * secret: the provider chain of core/secret.h. The environment first (AIN_SECRET_<NAME>), answered
 * at once; then the file <secrets_dir>/<name>, read on the libuv thread pool (never on the loop)
 * while the call yields. The value is never logged by the engine; the error messages name the
 * secret, never its value.
 * Whether a lookup found its secret (never the value) is recorded with the call (lua/io_record.c):
 * a replay host reads no secret, and answers a lookup the call recorded as found with the stand-in
 * "replay:<name>" (the recorded ain.http answers it would authorise are served without their
 * headers), one recorded as failed with its recorded error, and any other with EREPLAY.
 * hmac_sha256: OpenSSL's one-shot HMAC, hex out.
 * Relies on: core/secret.h, OpenSSL (HMAC, EVP_sha256), libuv (uv_queue_work), lua/internal.h,
 * cJSON. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "lua/internal.h"


/* ain.hmac_sha256(key, msg) -> lowercase hex */
static int l_hmac_sha256(lua_State *L) {
  size_t klen, mlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL) {
    return luaL_error(L, "ain.hmac_sha256: OpenSSL HMAC failed");
  }
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < n; i++) {
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  }
  lua_pushlstring(L, hex, 2 * (size_t)n);
  return 1;
}

/* ---- ain.secret ---- */

/* {kind = "secret", name, found [, error, code]}: never the value. */
static void record_lookup(ain_lua_call_t *call, const char *name, const char *error,
                          const char *code) {
  if (call == NULL) {
    return;
  }
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "kind", "secret");
  cJSON_AddStringToObject(e, "name", name);
  cJSON_AddBoolToObject(e, "found", error == NULL);
  if (error != NULL) {
    cJSON_AddStringToObject(e, "error", error);
    cJSON_AddStringToObject(e, "code", code);
  }
  ain__lua_io_add(call, e);
}

/* Replay: the recorded outcome of this lookup, with a stand-in for a found value. */
static int secret_replay(lua_State *L, ain_lua_call_t *call, const char *name) {
  cJSON *e = ain__lua_io_take(call, "secret", "name", name, NULL, NULL, NULL, NULL);
  const cJSON *error = cJSON_GetObjectItemCaseSensitive(e, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  int n;
  if (e == NULL) {
    n = ain__lua_no_side_effects(L, "ain.secret: this lookup was not recorded");
  } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "found"))) {
    lua_pushfstring(L, "replay:%s", name);
    n = 1;
  } else {
    lua_pushnil(L);
    lua_pushstring(L, cJSON_IsString(error) ? error->valuestring : "ENOTFOUND: secret");
    lua_pushstring(L, cJSON_IsString(code) ? code->valuestring : "ENOTFOUND");
    n = 3;
  }
  cJSON_Delete(e);
  return n;
}

typedef struct {
  uv_work_t work;
  ain_lua_call_t *call; /* NULL once cancelled */
  char dir[4096];
  char name[AIN_SECRET_NAME_MAX + 1];
  /* results, written by the pool thread */
  int code; /* 0 or AIN_E* */
  char msg[4400];
  char *value;
  size_t len;
} secret_op_t;

/* Pool thread: the file provider of core/secret.c (mode and type checked on the open descriptor). */
static void secret_read(uv_work_t *w) {
  secret_op_t *op = w->data;
  ain_err_t err;
  ain_err_clear(&err);
  op->code = ain_secret_read_file(op->dir, op->name, &op->value, &op->len, &err);
  if (op->code != 0) {
    snprintf(op->msg, sizeof op->msg, "%s: %s", ain_err_name(op->code), err.msg);
  }
}

static void secret_wipe_free(secret_op_t *op) {
  ain_secret_free(op->value, op->len);
  free(op);
}

static void secret_done(uv_work_t *w, int status) {
  secret_op_t *op = w->data;
  ain_lua_call_t *call = op->call;
  if (call == NULL) {
    secret_wipe_free(op);
    return;
  }
  call->pending.cancel = NULL;
  lua_State *co = call->co;
  int nres;
  if (status != 0) {
    nres = ain__lua_push_fail(co, AIN_EIO, "secret '%s': %s", op->name, uv_strerror(status));
  } else if (op->code != 0) {
    nres = ain__lua_push_fail(co, op->code, "%s", op->msg);
  } else {
    lua_pushlstring(co, op->value, op->len);
    nres = 1;
  }
  record_lookup(call, op->name, nres == 3 ? lua_tostring(co, -2) : NULL,
                nres == 3 ? lua_tostring(co, -1) : NULL);
  secret_wipe_free(op);
  ain__lua_resume(call, nres);
}

static void secret_cancel(void *p) {
  secret_op_t *op = p;
  op->call = NULL; /* the pool job still ends in secret_done, which frees op */
  uv_cancel((uv_req_t *)&op->work);
}

/* ain.secret(name) -> value | nil, "ENOTFOUND: ...", "ENOTFOUND" */
static int l_secret(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  if (!ain_secret_name_ok(name, len)) {
    return luaL_argerror(L, 1, "secret name must be 1 to 64 of A-Z a-z 0-9 _ (and - . after "
                               "the first)");
  }
  if (h->no_side_effects) {
    return secret_replay(L, h->running, name); /* no call (a check's top level): EREPLAY */
  }
  char env[AIN_SECRET_NAME_MAX + 12];
  ain_secret_env_name(name, len, env, sizeof env);
  const char *v = getenv(env);
  if (v != NULL) {
    record_lookup(h->running, name, NULL, NULL);
    lua_pushstring(L, v);
    return 1;
  }
  if (h->secrets_dir == NULL || h->secrets_dir[0] == '\0') {
    int n = ain__lua_push_fail(L, AIN_ENOTFOUND,
                               "secret '%s': %s is not set and no secrets_dir is configured", name,
                               env);
    record_lookup(h->running, name, lua_tostring(L, -2), lua_tostring(L, -1));
    return n;
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.secret");
  secret_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    return luaL_error(L, "ain.secret: out of memory");
  }
  op->call = call;
  op->work.data = op;
  snprintf(op->name, sizeof op->name, "%s", name);
  snprintf(op->dir, sizeof op->dir, "%s", h->secrets_dir);
  int rc = uv_queue_work(h->loop, &op->work, secret_read, secret_done);
  if (rc != 0) {
    free(op);
    return luaL_error(L, "ain.secret: uv_queue_work: %s", uv_strerror(rc));
  }
  ain__lua_set_pending(call, secret_cancel, op);
  return lua_yield(L, 0);
}

void ain__lua_add_secret(lua_State *L) {
  lua_pushcfunction(L, l_secret);
  lua_setfield(L, -2, "secret");
  lua_pushcfunction(L, l_hmac_sha256);
  lua_setfield(L, -2, "hmac_sha256");
}
