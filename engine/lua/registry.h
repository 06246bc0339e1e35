/* The script registry (DESIGN §5): the policy sources every shard runs. It watches
 * scripts_dir/agents, scripts_dir/personas and scripts_dir/safety (uv_fs_event on the folders,
 * so editors that save by rename work; events debounced), compiles and contract-checks a changed file in a scratch
 * sandboxed state, records every version in the store (script_versions, by sha256, with the error
 * of a rejected one) and publishes only valid versions. Shards pick up a new generation when their
 * next call starts (a step boundary): a step that started on version A finishes on A.
 * A rejected or deleted file leaves the last good version serving. Operator pins (store
 * script_pins, polled) override the newest valid version of a module.
 *
 * Threads: the registry lives on one loop (the engine's main loop); shards read what it publishes
 * under a mutex through ain__lua_registry_sync (lua/internal.h). A check never runs on that loop:
 * each runs on a worker thread of its own (loop/worker.h) with a hard wall-clock limit, so a
 * version whose top level spins, or wedges inside a C call, costs the loop nothing; it is rejected
 * when its deadline passes and the version serving keeps serving. When a file changes again while
 * its check runs, the newest version wins: the older check's outcome is dropped.
 * Relies on: libuv (fs events, timers, async), loop/worker.h, lua/host.h (scratch hosts),
 * store/store.h, core/log.h. */
#ifndef AIN_LUA_REGISTRY_H
#define AIN_LUA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"
#include "store/store.h"

typedef struct ain_lua_registry ain_lua_registry_t;

/* Budgets of the scratch state a policy's top level runs in when it is checked. The registry and
 * `ain check` apply the same ones, so a file `ain check` accepts is one the registry accepts. */
typedef struct {
  const char *scripts_dir; /* modules a checked module requires come from here */
  size_t mem_limit;        /* 0 = the host default */
  uint64_t cpu_budget;     /* VM instructions; 0 or more than 10 million = 10 million */
  /* Wall-clock limit of the top level (config lua.check_timeout_ms; 0 = 2000). The check runs on
   * a thread of its own: past this the count hook stops Lua code, and a top level stuck inside
   * one C call is abandoned AIN_LUA_CHECK_GRACE_MS later; either way the version is rejected with
   * EBUDGET_CPU "... ran longer than N ms", and neither the caller nor the loop waits longer. */
  uint64_t timeout_ms;
  int allow_ffi;
} ain_lua_check_opts_t;

#define AIN_LUA_CHECK_DEFAULT_TIMEOUT_MS 2000
#define AIN_LUA_CHECK_GRACE_MS 500

typedef struct {
  ain_lua_check_opts_t check;
  ain_store_t *store; /* on the same loop; records versions, reads pins. NULL: neither */
  int debounce_ms;    /* 0 = 20 */
  int pin_poll_ms;    /* 0 = 1000, < 0 = never */
  /* Optional: runs on the registry's loop after a new generation was published. */
  void (*on_publish)(void *data, uint64_t generation);
  void *data;
} ain_lua_registry_opts_t;

/* Loads and checks every policy (start-up: reads files, waits for each check up to its deadline
 * and for the store inline), applies pins, publishes generation 1 and starts watching. A policy
 * that fails here is logged and kept out; the engine still starts. Caller closes with
 * ain_lua_registry_close(). */
int ain_lua_registry_new(uv_loop_t *loop, const ain_lua_registry_opts_t *opts,
                         ain_lua_registry_t **out, ain_err_t *err);
/* SIGHUP: re-reads and re-checks every file (on worker threads; returns at once), and re-reads
 * the pins. */
void ain_lua_registry_reload(ain_lua_registry_t *r);
/* Stops watching. The registry is freed once its handles are closed and its store requests
 * have completed (the caller keeps running the loop, and closes the store after this); cb (may
 * be NULL) runs then. No host may use it afterwards. */
void ain_lua_registry_close(ain_lua_registry_t *r, void (*cb)(void *data), void *data);

/* The sha256 hex of the version of `module` shards run now, into out. 0 or AIN_ENOTFOUND.
 * Any thread. */
int ain_lua_registry_serving(ain_lua_registry_t *r, const char *module, char out[65]);
uint64_t ain_lua_registry_generation(ain_lua_registry_t *r);

/* Compiles `source` as policy `module` ("judge", "personas/coach_ava") and runs its top level in
 * a fresh sandboxed state under the budgets, on a worker thread the caller waits for at most
 * timeout_ms + AIN_LUA_CHECK_GRACE_MS, then checks its contract: agents/pipeline needs
 * build, planner plan, scriptwriter write, judge decide, publisher publish (functions); another
 * agents module at least one function; a persona a table with a string id equal to its file name,
 * a voice table and a style table; a safety module (scripts_dir/safety, judge data) a table. Source that is not valid UTF-8 is refused before it runs
 * (AIN_EUTF8, "agents/judge.lua:3:7: invalid UTF-8 (byte 0xff)"). Returns 0, or AIN_EUTF8 /
 * AIN_ELUA / AIN_ESANDBOX / AIN_EBUDGET_CPU / AIN_EBUDGET_MEM with err->msg
 * "agents/judge.lua:12: what went wrong". */
int ain_lua_check_source(const ain_lua_check_opts_t *opts, const char *module, const char *source,
                         size_t len, ain_err_t *err);
/* The module a policy file defines: "agents/judge.lua" (or ".../scripts/agents/judge.lua")
 * -> "judge", "personas/ava.lua" -> "personas/ava", "safety/hate.lua" -> "safety/hate". 0, or AIN_EINVAL when the path is not a
 * policy file (wrong folder, not .lua, bad characters). */
int ain_lua_module_for_path(const char *path, char *out, size_t cap);

#endif
