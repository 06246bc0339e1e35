/* Private to engine/lua/: the host and call structs shared by host.c (state, budgets, call
 * lifecycle), sandbox.c (restricted globals, require, module loading) and ain_mod.c (the ain.*
 * functions). Nothing outside engine/lua/ includes this.
 * Relies on: LuaJIT, libuv. */
#ifndef AIN_LUA_INTERNAL_H
#define AIN_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>

#include "lua/host.h"
#include "lua/registry.h"

/* One pending yield of a call: what ain_lua_call_cancel() runs to stop the I/O (stop a timer,
 * kill a child). The op then completes later without touching the call. */
typedef struct {
  void (*cancel)(void *op);
  void *op;
} ain__lua_pending_t;

struct ain_lua_call {
  ain_lua_host_t *h;
  lua_State *co; /* the coroutine, anchored in the registry by co_ref */
  int co_ref;
  char module[128];
  char function[128];
  char task_id[64];
  char dag_id[64];
  char trace_id[33], span_id[17]; /* ctx's, for log lines ("" without) */
  char traceparent[56];           /* ctx's: what ain.emit gives the tasks it makes ("" without) */
  char actor[160];
  ain_lua_call_cb cb;
  void *data;
  uint64_t instructions; /* VM instructions counted by the hook */
  uint64_t run_ns;       /* loop time of the finished resumes */
  int cpu_exceeded; /* 1: instructions, 2: loop time */
  int mem_exceeded, sandbox_hit;
  int finished; /* the callback has run (or is running) */
  uint64_t serial; /* unique per host: owns the coroutines the call creates (lua/budget.c) */
  ain__lua_pending_t pending; /* cancel == NULL when nothing is pending */
  ain_store_batch_t *outbox; /* ain.emit's tasks go here when set (ain_lua_call_opts_t) */
  char *versions; /* JSON object {"module": "sha256hex"} */
  struct cJSON *io;        /* recorded exchanges (lua/io_record.c), NULL until the first */
  struct cJSON *replay_io; /* replay: the recorded exchanges not served yet, or NULL */
  size_t io_bytes;         /* bodies and values recorded so far */
  size_t versions_len, versions_cap;
  ain_lua_call_t *prev, *next; /* the host's list of calls in flight */
};

struct ain_lua_host {
  uv_loop_t *loop;
  lua_State *L;
  char *scripts_dir;
  char name[64];
  size_t mem_limit, mem_used;
  uint64_t cpu_budget;
  uint64_t cpu_ns;
  uint64_t slice_start_ns; /* when the running call's current resume began */
  int allow_ffi;
  ain_lua_call_t *running; /* the call whose coroutine is inside lua_resume, or NULL */
  ain_lua_call_t *calls;   /* in flight */
  int active;
  int trampoline_ref; /* function(mod, fn, payload, ctx) run as each call's coroutine body */
  int json_ref;       /* the host's private cjson instance */
  int modules_ref;    /* name -> module table (loaded once) */
  int shas_ref;       /* name -> sha256 hex of the source that was loaded */
  struct ain_store *store;    /* ain.store / ain.emit (borrowed, may be NULL) */
  char *secrets_dir;          /* ain.secret (owned, may be NULL) */
  int default_max_attempts;   /* ain.emit */
  const struct ain_privacy *privacy; /* ain.emit's PII scrub (borrowed, may be NULL) */
  struct ain__lua_http *http; /* ain.http's curl multi, created on first use */
  int sources_ref;    /* name -> {src = text, sha = hex} set by ain_lua_host_set_source */
  int sources_only;   /* a module without a set source does not load (registry mode) */
  struct ain_lua_registry *registry;
  uint64_t registry_gen; /* the registry generation last synced */
  int no_side_effects;   /* replay */
  /* What the state runs now, read by the engine's watchdog thread (lua/busy.c). since is set
   * under busy_mu together with the names, and cleared without it. */
  _Atomic uint64_t busy_since_ns; /* start of the outermost lua_resume; 0 = not in Lua */
  uv_mutex_t busy_mu;
  char busy_task[64];
  char busy_what[260];
  uint64_t call_serial;  /* the last serial given to a call */
  int co_owner_ref;      /* weak-keyed: coroutine -> serial of the call that created it */
  const ain_spawn_config_t *spawn; /* ain.spawn allowlist (borrowed, may be NULL) */
  char *data_dir;                  /* ain.spawn's working directories live below it (owned) */
  char *spawn_helper;              /* resolved ain-spawn-helper path, on first use (owned) */
};

/* sandbox.c */
/* Loads cjson, builds the restricted global table and the require() policies see. Runs once on
 * a fresh state, before any policy code. */
int ain__lua_sandbox_init(ain_lua_host_t *h, ain_err_t *err);
/* Data folders next to agents/: a module "personas/ava" or "safety/hate" is the file
 * personas/ava.lua or safety/hate.lua (a table, no entry points); any other name is
 * agents/<name>.lua. The prefix of `name` when it names a data module, else NULL. */
const char *ain__lua_data_prefix(const char *name);
/* The file of module `name` relative to scripts_dir ("agents/judge.lua", "safety/hate.lua"). */
void ain__lua_module_rel(const char *name, char *out, size_t cap);
/* Pushes the table of policy module `name` ("judge", "personas/ava"), loading and running the
 * file the first time (the only place a module is loaded, so hot reload can replace it), and
 * records its sha256 in the running call's versions. Raises a Lua error on failure. */
int ain__lua_load_module(lua_State *L, ain_lua_host_t *h, const char *name);
/* Hex sha256 of buf into out[65]. */
void ain__lua_sha256_hex(const void *buf, size_t len, char out[65]);
/* Raises "ESANDBOX: <what> is refused by the sandbox" and marks the running call. */
int ain__lua_refuse(lua_State *L, const char *what);

/* fail.c: pushes nil, "ECODE: <printf fmt>", "ECODE" and returns 3, the expected-failure triple
 * every binding returns (a message that already starts with "ECODE:" is not prefixed twice). */
int ain__lua_push_fail(lua_State *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces the table at the top of the stack with a read-only proxy over it; name ("string",
 * "" for the global table) appears in the error an assignment raises. */
void ain__lua_make_readonly(lua_State *L, const char *name);

/* In replay (no_side_effects), pushes nil, "EREPLAY: side effects are disabled during replay
 * (<what>)", "EREPLAY" and returns 3: a binding with effects returns that at its top. Returns 0
 * otherwise. */
int ain__lua_no_side_effects(lua_State *L, const char *what);

/* registry.c: brings the host's sources up to the registry's current generation. Called when a
 * call starts, so a step never changes version half-way. */
void ain__lua_registry_sync(ain_lua_host_t *h);
/* registry_check.c: one check of one version, run on a worker thread (loop/worker.h). It holds
 * copies of everything it reads, so a check its owner abandoned touches nothing of the owner's. */
typedef struct {
  char module[128];
  char *src;
  size_t len;
  ain_lua_check_opts_t o; /* o.scripts_dir is the job's own copy */
  int sources_only;       /* modules it requires come only from deps (registry mode) */
  struct ain__lua_check_dep {
    char module[128];
    char *src;
    size_t len;
  } *deps;
  size_t ndeps, deps_cap;
  int rc; /* the outcome: 0 or AIN_E* with err */
  ain_err_t err;
  size_t idx; /* the registry's: which entry, which of its checks, which version */
  uint64_t seq;
  char sha[65];
} ain__lua_check_job_t;

/* A job checking src as `module` under opts (budgets clamped as ain_lua_check_opts_t says).
 * Copies everything. Never NULL (aborts on OOM). */
ain__lua_check_job_t *ain__lua_check_job_new(const ain_lua_check_opts_t *opts, const char *module,
                                             const char *src, size_t len);
/* Gives the job's scratch host `module`'s source too (what the checked module may require). */
void ain__lua_check_job_add_dep(ain__lua_check_job_t *job, const char *module, const char *src,
                                size_t len);
/* The worker body: UTF-8, compile, top level, contract; sets job->rc and job->err. */
void ain__lua_check_job_run(void *job);
void ain__lua_check_job_free(void *job);
/* How long an owner waits for a job: its timeout plus AIN_LUA_CHECK_GRACE_MS. */
uint64_t ain__lua_check_job_deadline_ms(const ain__lua_check_job_t *job);
/* The rejection of a job whose deadline passed: AIN_EBUDGET_CPU, "agents/x.lua: its top level ran
 * longer than N ms ...". Returns the code. */
int ain__lua_check_timed_out(const char *module, uint64_t ms, ain_err_t *err);
/* Runs the job on a worker thread and waits up to its deadline. Takes ownership of the job (freed
 * here, or by its thread when abandoned). 0 or AIN_E* with err set. */
int ain__lua_check_job_wait(ain__lua_check_job_t *job, ain_err_t *err);

/* budget.c */
/* Replaces pcall, xpcall and coroutine.create/resume/wrap of the unrestricted state (before the
 * sandbox copies them) with versions a call over budget cannot survive, and sets up coroutine
 * ownership. */
int ain__lua_budget_open(lua_State *L, ain_lua_host_t *h, ain_err_t *err);
/* Marks c over its CPU budget when it is (instructions, or loop time of this resume plus the
 * earlier ones); returns nonzero when c is over its CPU or memory budget. */
int ain__lua_budget_exceeded(ain_lua_call_t *c);
/* "EBUDGET_CPU: m.f used more than N instructions" (or the loop-time or memory message). */
void ain__lua_budget_message(const ain_lua_call_t *c, char *buf, size_t cap);
/* Charges n units of work a C function did to the running call of h, as instructions; raises
 * the budget error on L when the call is over budget. No-op when no call runs. */
void ain__lua_charge(lua_State *L, ain_lua_host_t *h, uint64_t n);

/* pattern.c */
/* Sets find, match, gmatch and gsub in the table on top of the stack: the bounded matcher, each
 * step charged to h's running call (h may be NULL: nothing is charged). */
void ain__lua_pattern_register(lua_State *L, ain_lua_host_t *h);

/* ain_mod.c */
/* print(...) for policies: one info log line with the call's context. */
int ain__lua_print(lua_State *L);
/* Pushes the `ain` module table. */
int ain__lua_push_ain_module(lua_State *L, ain_lua_host_t *h, ain_err_t *err);

/* ain_spawn.c: adds ain.spawn to the ain table on top of the stack. */
void ain__lua_add_spawn(lua_State *L);

/* ain_http.c, ain_store.c, ain_emit.c, ain_secret.c: each adds its functions to the ain table
 * on top of the stack. */
void ain__lua_add_http(lua_State *L);
void ain__lua_add_store(lua_State *L);
void ain__lua_add_emit(lua_State *L);
void ain__lua_add_secret(lua_State *L);
/* ain.llm (lua/ain_llm.c, engine/lua/llm.lua) onto the ain table at the top of L; AIN_ELUA if
 * the embedded chunk does not load (a build defect). */
int ain__lua_add_llm(lua_State *L, ain_lua_host_t *h, ain_err_t *err);
/* ain_vectors.c: ain.embed and ain.vectors (search, add) and the vecs userdata. */
void ain__lua_add_vectors(lua_State *L);
/* text.c: adds ain.text (fold, tokens, stem, numbers) to the ain table on top of the stack; its
 * work is charged to h's running call (h may be NULL: a plain state, nothing charged). */
void ain__lua_add_text(lua_State *L, ain_lua_host_t *h);
/* Stops ain.http: closes its uv handles (freed in their close callbacks: run the loop after) and
 * the curl multi. Called by ain_lua_host_free once every call is cancelled. */
void ain__lua_http_free(ain_lua_host_t *h);

/* io_record.c: the exchanges a call records and, in replay, is served back. */
#define AIN_LUA_IO_BODY_MAX (64u << 10) /* bytes of a response body or stored value recorded */
#define AIN_LUA_IO_MAX_ENTRIES 256      /* exchanges recorded per call; later ones are not */
#define AIN_LUA_IO_TOTAL_MAX (1u << 20) /* bytes of bodies and values recorded per call */
struct cJSON;
/* Appends entry (owned from here) to the call's record. */
void ain__lua_io_add(ain_lua_call_t *call, struct cJSON *entry);
/* Adds string field `name` = the first AIN_LUA_IO_BODY_MAX bytes of p (cut on a UTF-8 boundary;
 * a body that is not UTF-8 is recorded empty) and "truncated": true when anything was cut. */
void ain__lua_io_add_body(ain_lua_call_t *call, struct cJSON *entry, const char *name,
                          const char *p, size_t len);
/* Parses the recorded exchanges of a replayed call (JSON array text; NULL = none). */
int ain__lua_io_set_replay(ain_lua_call_t *call, const char *json, ain_err_t *err);
/* Replay: detaches and returns (caller deletes) the first unserved recorded exchange of `kind`
 * whose string fields k1 (and k2, k3 when not NULL) equal v1 (v2, v3); NULL when none. */
struct cJSON *ain__lua_io_take(ain_lua_call_t *call, const char *kind, const char *k1,
                               const char *v1, const char *k2, const char *v2, const char *k3,
                               const char *v3);
void ain__lua_io_free(ain_lua_call_t *call);

/* busy.c: called by host.c around the outermost lua_resume of a call. */
void ain__lua_busy_begin(ain_lua_host_t *h, const ain_lua_call_t *c);
void ain__lua_busy_end(ain_lua_host_t *h);

/* host.c */
ain_lua_host_t *ain__lua_host_of(lua_State *L);
/* The call a binding runs for; raises unless L is that call's own coroutine and may yield. */
ain_lua_call_t *ain__lua_call_for_yield(lua_State *L, const char *fname);
/* Registers what cancel must undo while the call waits. */
void ain__lua_set_pending(ain_lua_call_t *call, void (*cancel)(void *), void *op);
/* Resumes a waiting call with the nres values on top of its coroutine. Never resumes a finished
 * call. May finish and free the call. */
void ain__lua_resume(ain_lua_call_t *call, int nres);
/* Appends "name":"sha" to the call's versions (once per name). */
void ain__lua_call_add_version(ain_lua_call_t *call, const char *name, const char *sha);
/* Pushes the host cjson function `fname` ("encode"/"decode"). */
void ain__lua_push_json_fn(lua_State *L, ain_lua_host_t *h, const char *fname);

#endif
