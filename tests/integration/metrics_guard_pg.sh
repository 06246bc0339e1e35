#!/usr/bin/env bash
# The review-backlog guard on a real PostgreSQL: ain_publish_guard() of migration 017
# (metrics_guard_common.bash).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
. "$(dirname "$0")/metrics_guard_common.bash"
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-guard-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_pg; rm -rf "$PG"; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
q() { psql "$URL" -qAt -v ON_ERROR_STOP=1 -c "$1"; }
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }' \
  'metrics = { store_cache_ms = 0 }'
sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$C"
run_guard_test
