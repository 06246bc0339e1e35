#!/usr/bin/env bash
# The review-backlog guard on SQLite (metrics_guard_common.bash).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
. "$(dirname "$0")/metrics_guard_common.bash"
q() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$T/ain.db" "$1"; }
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }' \
  'metrics = { store_cache_ms = 0 }'
run_guard_test
