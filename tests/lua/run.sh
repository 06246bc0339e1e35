#!/bin/sh
# Runs the Lua policy specs; the exit code is busted's (0 = all passed, 1 = any failure or error).
# Extra arguments go to busted (e.g. -o TAP, --filter=judge).
# With an `ain` binary ($AIN_BIN, else build/ain) the specs run under `ain test`: the engine's own
# Lua environment with the real `ain` module, which the judge's specs need (ain.text is C and has
# no stand-in). Without one they run under plain busted with tests/lua/helper.lua's stand-in `ain`,
# and specs that need ain.text are reported as pending. AIN_PLAIN_BUSTED=1 forces plain busted.
# AIN_SOURCE_DIR (set by ctest) or this script's location finds the repository root.
set -eu
root=${AIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
bin=${AIN_BIN:-$root/build/ain}
if [ "${AIN_PLAIN_BUSTED:-0}" != 1 ] && [ -x "$bin" ]; then
  if [ $# -gt 0 ]; then exec "$bin" test tests/lua -- "$@"; fi
  exec "$bin" test tests/lua
fi
exec busted --lua=luajit "$@" tests/lua
