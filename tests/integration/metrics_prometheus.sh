#!/usr/bin/env bash
# /metrics on SQLite, checked by promtool and scraped by a real Prometheus (metrics_common.bash).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
. "$(dirname "$0")/metrics_common.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }'
run_metrics_test
if grep -q '^ain_store_dead_tuples' "$T/scrape.txt"; then fail "Postgres gauges on SQLite"; fi
kill -TERM "$pid"; set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" 0 "ain run exit"
ok "SQLite: no Postgres-only gauges; clean exit"
