#!/usr/bin/env bash
# The policies' busted specs (tests/lua) run by `ain test`, inside the engine's own Lua environment
# (LuaJIT as the engine embeds it, the real `ain` module). tests/lua/run.sh runs the same specs
# under plain busted.
set -euo pipefail
: "${AIN_BIN:?AIN_BIN not set}"
cd "${AIN_SOURCE_DIR:?AIN_SOURCE_DIR not set}"
exec "$AIN_BIN" test tests/lua
