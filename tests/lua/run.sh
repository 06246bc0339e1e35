#!/bin/sh
# Runs the Lua policy specs under LuaJIT with plain busted; the exit code is busted's (0 = all
# passed, 1 = any failure or error). Extra arguments go to busted (e.g. -o TAP, --filter=judge).
# AIN_SOURCE_DIR (set by ctest) or this script's location finds the repository root.
set -eu
root=${AIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
exec busted --lua=luajit "$@" tests/lua
