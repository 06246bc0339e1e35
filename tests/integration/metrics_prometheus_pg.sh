#!/usr/bin/env bash
# /metrics on a real PostgreSQL (started for this test): promtool and a real Prometheus as on
# SQLite (metrics_common.bash), plus the Postgres-only gauges (dead tuples of the queue tables,
# the oldest open transaction, which a session held open by this test makes visible).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
. "$(dirname "$0")/metrics_common.bash"
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-metrics-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_pg; rm -rf "$PG"; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }' \
  'metrics = { store_cache_ms = 0 }'
sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$C"
run_metrics_test
grep -q '^ain_store_dead_tuples{table="tasks"} [0-9]*$' "$T/scrape.txt" || fail "dead tuples of tasks"
grep -q '^ain_store_dead_tuples{table="task_deps"} [0-9]*$' "$T/scrape.txt" || fail "dead tuples of task_deps"
# an open transaction in another session: its age shows
psql "$URL" -q -c 'BEGIN; SELECT txid_current(); SELECT pg_sleep(4); COMMIT;' > /dev/null &
hold=$!
sleep 2.5
age=$(curl -s -H "Authorization: Bearer $V" "$U/metrics" | awk '/^ain_store_oldest_transaction_age_seconds /{print $2}')
wait "$hold"
awk -v a="$age" 'BEGIN { exit !(a >= 1.5 && a < 60) }' || fail "oldest transaction age $age (expected about 2.5 s)"
wait_promql 'count(ain_store_dead_tuples)' 2 "dead tuples in Prometheus"
ok "Postgres: dead tuples of tasks and task_deps, the oldest transaction's age ($age s)"
kill -TERM "$pid"; set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" 0 "ain run exit"
