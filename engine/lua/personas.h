/* Which persona a task may name. A task's persona_id must be a persona the engine can load: a
 * scripts_dir/personas/<id>.lua whose version passes the registry's persona contract (a table
 * with id = "<id>", voice and style; ain_lua_check_source). `ain enqueue` and ain.emit both ask
 * this one function, so the rule and its error text cannot drift apart. The schema cannot hold
 * the rule (the persona set is deployment data), so the message parser does not apply it.
 * Relies on: lua/registry.h (the contract check), lua/host.h. */
#ifndef AIN_LUA_PERSONAS_H
#define AIN_LUA_PERSONAS_H

#include "core/err.h"
#include "lua/host.h"
#include "lua/registry.h"

/* At most this many ids are listed after "known:" in an error. */
#define AIN_LUA_PERSONAS_LISTED 20

/* 0 if `id` names a persona with a valid version, else AIN_ESCHEMA with err->field "persona_id"
 * and err->msg "persona_id: unknown persona 'x' (known: a, b, c)" or "persona_id: persona 'x'
 * has no valid version: personas/x.lua:3: ..." (AIN_EIO when the file cannot be read).
 *
 * L is the thread running on h (the caller of ain.emit) when h is given, else NULL.
 * Where the versions come from:
 *   - opts only (h NULL: the CLI): the files under opts->scripts_dir, each checked with
 *     ain_lua_check_source under opts' budgets, as the registry checks it before publishing;
 *   - h in registry mode (the engine's shards): the versions the registry published to h (a
 *     persona file that was later broken still serves its last good version, so it counts);
 *   - h reading files (ain test, tests): as for the CLI, with h's scripts_dir and budgets.
 * Costs a check of one file per call in file mode: callers checking many tasks keep their own
 * verdict per distinct id (cli_store.c). */
struct lua_State;
int ain_lua_persona_check(struct lua_State *L, ain_lua_host_t *h, const ain_lua_check_opts_t *opts,
                          const char *id, ain_err_t *err);

#endif
