/* The recorded exchanges of a policy call, and serving them back in replay.
 * A call records every answer the outside world gave it that could change its decision: each
 * ain.http exchange ({kind = "http", method, url (query string dropped: it may carry tokens),
 * url_sha256 (of the full URL), body_sha256 (of the request body), status, headers, body or
 * error + code, ms}) and each ain.store.get ({kind = "store.get", key, found, value (JSON text),
 * version}). Request headers are never recorded (they carry the API keys). A response body or a
 * stored value over AIN_LUA_IO_BODY_MAX (or past AIN_LUA_IO_TOTAL_MAX for the whole call, at most
 * AIN_LUA_IO_MAX_ENTRIES exchanges) is recorded cut, with "truncated": true; replay does not serve
 * such an exchange.
 * The engine writes the list into the step's audit row as "io" (sched/ctx.h); `ain replay` (and
 * anything that replays through ain_lua_call_opts_t.replay_io) hands it back, and the replay host
 * answers a request that matches a recorded one from the recording, each recorded exchange once,
 * in order. Anything else is refused with EREPLAY as before.
 * Relies on: lua/internal.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "lua/internal.h"

static cJSON *entries(cJSON **slot) {
  if (*slot == NULL) {
    *slot = cJSON_CreateArray();
    if (*slot == NULL) {
      abort(); /* OOM is fatal, as in ain_strdup */
    }
  }
  return *slot;
}

void ain__lua_io_add(ain_lua_call_t *call, cJSON *entry) {
  if (call == NULL || entry == NULL) {
    cJSON_Delete(entry);
    return;
  }
  if (cJSON_GetArraySize(entries(&call->io)) >= AIN_LUA_IO_MAX_ENTRIES) {
    cJSON_Delete(entry); /* a runaway loop of requests does not grow the audit row without end */
    return;
  }
  cJSON_AddItemToArray(call->io, entry);
}

void ain__lua_io_add_body(ain_lua_call_t *call, cJSON *entry, const char *name, const char *p,
                          size_t len) {
  size_t n = len > AIN_LUA_IO_BODY_MAX ? AIN_LUA_IO_BODY_MAX : len;
  /* the audit row holds all of them: past the call's total, bodies are recorded cut to nothing */
  size_t room = call->io_bytes < AIN_LUA_IO_TOTAL_MAX ? AIN_LUA_IO_TOTAL_MAX - call->io_bytes : 0;
  n = n > room ? room : n;
  /* a body is text as far as JSON goes: cut on a UTF-8 boundary, and a body that is not UTF-8
   * is recorded as truncated (replay will not serve it) rather than as invalid JSON */
  size_t bad = 0;
  while (n > 0 && n < len && ((unsigned char)p[n] & 0xC0) == 0x80) {
    n--;
  }
  int valid = p == NULL || ain_utf8_valid(p, n, &bad);
  char *copy = malloc(n + 1);
  if (copy == NULL) {
    abort();
  }
  if (p != NULL && valid) {
    memcpy(copy, p, n);
  } else {
    n = 0;
  }
  copy[n] = '\0';
  call->io_bytes += n;
  cJSON_AddStringToObject(entry, name, copy);
  free(copy);
  if (n < len) {
    cJSON_AddTrueToObject(entry, "truncated");
  }
}

char *ain_lua_call_io(const ain_lua_call_t *call) {
  if (call == NULL || call->io == NULL || cJSON_GetArraySize(call->io) == 0) {
    return NULL;
  }
  char *s = cJSON_PrintUnformatted(call->io);
  if (s == NULL) {
    abort();
  }
  return s;
}

int ain__lua_io_set_replay(ain_lua_call_t *call, const char *json, ain_err_t *err) {
  if (json == NULL) {
    return 0;
  }
  cJSON *a = cJSON_Parse(json);
  if (!cJSON_IsArray(a)) {
    cJSON_Delete(a);
    return ain_err_field(err, AIN_EINVAL, "replay_io",
                         "the recorded exchanges are not a JSON array");
  }
  call->replay_io = a;
  return 0;
}

static int str_is(const cJSON *o, const char *name, const char *want) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) && want != NULL && strcmp(v->valuestring, want) == 0;
}

cJSON *ain__lua_io_take(ain_lua_call_t *call, const char *kind, const char *k1, const char *v1,
                        const char *k2, const char *v2, const char *k3, const char *v3) {
  if (call == NULL || call->replay_io == NULL) {
    return NULL;
  }
  for (cJSON *e = call->replay_io->child; e != NULL; e = e->next) {
    if (str_is(e, "kind", kind) && str_is(e, k1, v1) && (k2 == NULL || str_is(e, k2, v2)) &&
        (k3 == NULL || str_is(e, k3, v3))) {
      return cJSON_DetachItemViaPointer(call->replay_io, e); /* served once */
    }
  }
  return NULL;
}

void ain__lua_io_free(ain_lua_call_t *call) {
  cJSON_Delete(call->io);
  cJSON_Delete(call->replay_io);
  call->io = call->replay_io = NULL;
}
