/* The Lua host of one shard: a LuaJIT state on the shard's loop that runs policy functions as
 * coroutines. Every ain.* function that does I/O starts it on the loop and yields; the libuv
 * callback resumes the coroutine. Inputs and outputs cross the C boundary as JSON text so the
 * scheduler never sees a lua_State.
 * Relies on: LuaJIT, libuv, lua-cjson (ain.json), loop/proc.h (ain.spawn). */
#ifndef AIN_LUA_HOST_H
#define AIN_LUA_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/spawn.h"
#include "core/err.h"
#include "store/store.h"

typedef struct ain_lua_host ain_lua_host_t;
typedef struct ain_lua_call ain_lua_call_t;

typedef struct {
  const char *scripts_dir; /* holds agents/, personas/ and safety/ */
  const char *name;        /* "shard-0": used in logs */
  size_t mem_limit;        /* bytes for the whole state; 0 = 256 MiB */
  uint64_t cpu_budget;     /* VM instructions per call; 0 = 100 million */
  int allow_ffi;           /* expose ffi to policies (off by default) */
  /* Loop time one call may use, summed over its resumes (ms; 0 = 10000). The instruction budget
   * does not see time spent inside C functions (string.rep of 1 MB is one instruction); this
   * does, checked on the same hook. Over it, the call fails with EBUDGET_CPU. */
  uint64_t cpu_ms;
  /* The script registry (lua/registry.h) this host takes policy sources from, or NULL to read
   * scripts_dir directly. With a registry, a module loads only from a version the registry
   * validated, and a new version is picked up when the next call starts (a step boundary). */
  struct ain_lua_registry *registry;
  /* Replay: ain.spawn (and every other function with effects outside the call) returns
   * nil, "EREPLAY: side effects are disabled during replay", "EREPLAY". */
  int no_side_effects;
  /* ain.store and ain.emit run their requests on this handle (bound to the same loop); NULL:
   * they return nil, "ESTORE: ...". Borrowed: must outlive the host. */
  struct ain_store *store;
  const char *secrets_dir;  /* ain.secret's file provider (files of mode 0600); NULL = env only */
  int default_max_attempts; /* tasks ain.emit enqueues without max_attempts; 0 = 3 */
  /* ain.emit scrubs payloads with it (privacy/privacy.h); NULL redacts without a hash.
   * Borrowed: must outlive the host. */
  const struct ain_privacy *privacy;
  /* Load policy modules only from sources set with ain_lua_host_set_source, never from
   * scripts_dir (replay runs exactly the recorded versions). Implied by a registry. */
  int sources_only;
  /* ain.spawn's allowlist, environment and limits (config/spawn.h). Borrowed: must outlive the
   * host. NULL: every ain.spawn is refused with ESANDBOX. */
  const ain_spawn_config_t *spawn;
  /* ain.spawn children run in this folder or below it (the config's data_dir); NULL = "var". */
  const char *data_dir;
} ain_lua_opts_t;

/* Creates the state, loads the sandbox and the ain module. Caller frees with ain_lua_host_free()
 * once no call is in flight. */
int ain_lua_host_new(uv_loop_t *loop, const ain_lua_opts_t *opts, ain_lua_host_t **out,
                     ain_err_t *err);
void ain_lua_host_free(ain_lua_host_t *h);

/* status 0: result_json is the JSON object the function returned (a nil return is "{}").
 * Otherwise status is an AIN_E* code and error is "ECODE: message" followed by a traceback for
 * Lua errors. Both strings are valid only during the callback. */
typedef void (*ain_lua_call_cb)(ain_lua_call_t *call, int status, const char *result_json,
                                const char *error, void *data);

typedef struct {
  const char *module;       /* "pipeline", "judge": scripts/agents/<module>.lua */
  const char *function;     /* entry point in the table the module returns */
  const char *payload_json; /* first argument, decoded to a table ("{}" if NULL) */
  const char *ctx_json;     /* second argument, decoded to a table ("{}" if NULL) */
  /* When set, ain.emit does not enqueue: it appends the task it built here (an empty batch to
   * start with; tasks grow by doubling) and the caller commits them with the call's outcome. A
   * step passes its own, so emitted work is committed with the step's success and never by a
   * failed attempt. The batch and its tasks belong to the caller and must outlive the call. */
  ain_store_batch_t *outbox;
  /* Replay (a host with no_side_effects): the exchanges the recorded call made, as
   * ain_lua_call_io() gave them (JSON array text). ain.http and ain.store.get answer a request
   * that matches a recorded one (http: method, full URL and request body, by sha256; store.get:
   * the key) from it, each recorded exchange once; anything else is refused with EREPLAY as
   * without it. NULL: nothing recorded. A value that is not a JSON array is EINVAL. */
  const char *replay_io;
} ain_lua_call_opts_t;

/* Starts module.function(payload, ctx) in a new coroutine. The callback runs exactly once, possibly
 * before this returns if the function finishes without yielding; then *out is NULL. out may be
 * NULL. A nonzero return (EINVAL: bad names, payload/ctx not a JSON object; ENOMEM) means no call
 * was started and the callback never runs; every failure of the Lua side (missing module, syntax
 * error, missing entry point, runtime error, budgets, sandbox) arrives through the callback.
 * The call pointer is invalid once its callback has returned. */
int ain_lua_call(ain_lua_host_t *h, const ain_lua_call_opts_t *opts, ain_lua_call_cb cb,
                 void *data, ain_lua_call_t **out, ain_err_t *err);
/* Aborts a call (timeout, shutdown): cancels its pending I/O, kills its children, and runs the
 * callback with `code` (AIN_ETIMEOUT, AIN_ESHUTDOWN) and `why`. No-op if already finished. */
void ain_lua_call_cancel(ain_lua_call_t *call, int code, const char *why);
/* The policy versions the call used so far, as a JSON object {"module": "sha256hex"} (every
 * module it required, itself included). Valid during the callback (and while the call is in
 * flight). */
const char *ain_lua_call_versions(const ain_lua_call_t *call);
/* What the outside world answered the call so far, as a JSON array (lua/io_record.c): each
 * ain.http exchange {kind = "http", method, url (no query string), url_sha256, body_sha256,
 * status, headers, body, ms | error, code} and each ain.store.get {kind = "store.get", key, found,
 * value, version}; bodies and values past 64 KiB are cut ("truncated": true). Request headers
 * are never recorded. NULL when there was none. Caller frees. The engine stores it in the step's
 * audit row as "io", and replay passes it back as ain_lua_call_opts_t.replay_io. */
char *ain_lua_call_io(const ain_lua_call_t *call);
/* Makes `source` the text of policy module `module` ("judge", "personas/coach_ava") for the next
 * call that requires it; calls in flight keep the functions they already hold. Every cached
 * module is dropped, since a module may hold another's table. Copies the source. sha_out (may be
 * NULL) receives its sha256 hex. Returns 0, or AIN_EINVAL for a bad module name. */
int ain_lua_host_set_source(ain_lua_host_t *h, const char *module, const char *source, size_t len,
                            char sha_out[65], ain_err_t *err);
/* Number of calls in flight. */
int ain_lua_host_active(const ain_lua_host_t *h);

/* What a host's state is running, as a watchdog on another thread sees it (lua/busy.c). */
typedef struct {
  uint64_t since_ns; /* ain_mono_ns() when the running resume began; 0 = no policy code runs */
  char task_id[64];  /* the call's ctx.task_id, "" without one */
  char what[260];    /* "module.function" */
} ain_lua_busy_t;
/* Thread-safe: a consistent snapshot of what the host runs; returns out->since_ns. Only the
 * outermost resume counts, and a resume that ends clears it: a since_ns far in the past means
 * the state is inside one call that has not come back (a C function the count hook never sees).
 * The host must not be freed meanwhile (the caller synchronises with its owner). */
uint64_t ain_lua_host_busy(ain_lua_host_t *h, ain_lua_busy_t *out);

#endif
