/* `ain check`'s static scan for ain.spawn: finds calls written with a literal command
 * (`ain.spawn{cmd={"sh", "-c", ...}}`, `ain.spawn({ cmd = { "/usr/bin/x", ... } })`) and reports
 * each whose program is not on the config's spawn.allow, or whose arguments (when every one is a
 * literal) do not match the entry's patterns: the call would fail with ESANDBOX at run time.
 * A command built at run time cannot be judged here; ain.spawn still refuses it then.
 * Relies on: config/spawn.h (the allowlist and its matcher); a small Lua lexer of its own
 * (comments, short and long strings), no Lua state. */
#ifndef AIN_LUA_SPAWN_LINT_H
#define AIN_LUA_SPAWN_LINT_H

#include <stddef.h>
#include <stdio.h>

#include "config/spawn.h"

/* Scans src (the text of policy file `path`) and prints one line per finding to out:
 * "<path>: ESANDBOX: <path>:<line>: ain.spawn ...". Returns the number of findings. */
int ain_lua_spawn_lint(const char *path, const char *src, size_t len, const ain_spawn_config_t *sc,
                       FILE *out);

#endif
