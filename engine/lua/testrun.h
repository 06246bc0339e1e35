/* `ain test`: runs a Lua script (busted) inside the engine's Lua environment: a shard-like host
 * whose real `ain` module is a global, but with the full standard library (specs read fixtures
 * with io) and the default package paths (busted loads its own modules and C libraries).
 * Relies on: lua/host.h. */
#ifndef AIN_LUA_TESTRUN_H
#define AIN_LUA_TESTRUN_H

#include "core/err.h"
#include "lua/host.h"

/* Runs `script` with the global arg = {[0] = script, argv...}. Returns the script's exit status:
 * 0 when it returned normally, 1 after an uncaught error (printed with its traceback to stderr);
 * a script that calls os.exit ends the process there. Negative AIN_E* when the host cannot start
 * or the script does not load. */
int ain_lua_run_script(const ain_lua_opts_t *opts, const char *script, int argc, char **argv,
                       ain_err_t *err);

#endif
