#!/usr/bin/env bash
# Graceful shutdown: SIGTERM stops claiming, lets running steps finish within the grace period and
# exits 0; steps still running when the grace period ends give their task back (ready, attempt
# returned); a second signal exits at once. Nothing accepted is lost: a later run completes all.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua

# 1. Steps shorter than the grace period finish; the engine exits 0.
write_config "$C" "$FIX" 'shutdown = { grace_ms = 5000 }' 'queue = { poll_ms = 20 }'
for i in $(seq 10); do task_msg generate_video '{"shape":"slow","sleep_ms":700,"timeout_ms":5000}'; done > "$T/a.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/a.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$C" --no-progress > "$T/r1.out" 2> "$T/r1.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
for _ in $(seq 100); do
  [ "$(sql "select count(*) from tasks where status='running' and step='a'")" -ge 10 ] && break
  sleep 0.05
done
[ "$(sql "select count(*) from tasks where status='running' and step='a'")" -ge 1 ] || fail "no step started"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" 0 "graceful exit code"
grep -q "SIGTERM: stopping" "$T/r1.err" || fail "shutdown not logged"
assert_eq "$(sql "select count(*) from tasks where step='a' and status='succeeded'")" 10 "running steps finished within the grace period"
assert_eq "$(sql "select count(*) from tasks where status='running'")" 0 "no lease left behind"
ok "SIGTERM: running steps finish, exit 0"

# 2. Steps longer than the grace period are released: back to ready, attempt given back.
rm -f "$T/ain.db"*
write_config "$C" "$FIX" 'shutdown = { grace_ms = 300 }' 'queue = { poll_ms = 20 }'
for i in $(seq 5); do task_msg generate_video '{"shape":"slow","sleep_ms":4000,"timeout_ms":10000,"max_attempts":3}'; done > "$T/b.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/b.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/r2.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
for _ in $(seq 100); do
  [ "$(sql "select count(*) from tasks where status='running' and step='a'")" -ge 5 ] && break
  sleep 0.05
done
start=$(date +%s%N)
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
el=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "$rc" 0 "exit code after the grace period"
[ "$el" -lt 2500 ] || fail "shutdown took ${el} ms with a 300 ms grace period"
assert_eq "$(sql "select count(*) from tasks where step='a' and status='ready' and attempts=0")" 5 "leases released, attempts given back"
ok "grace period over: leases released in ${el} ms"

# 3. A second signal exits at once; the run after that completes everything.
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/r3.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
for _ in $(seq 100); do
  [ "$(sql "select count(*) from tasks where status='running'")" -ge 1 ] && break
  sleep 0.05
done
kill -TERM "$pid"; sleep 0.1; kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" 130 "second signal exit code"
write_config "$C" "$FIX" 'queue = { lease_ms = 500, reap_interval_ms = 100, poll_ms = 20 }'
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
assert_eq "$(sql "select count(*) from dags where status='succeeded'")" 5 "every DAG completed after the hard stop"
ok "second signal exits at once; nothing lost"
