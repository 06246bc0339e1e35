#!/usr/bin/env bash
# A policy that wedges its shard inside one C call (tests/fixtures/wedge/agents/wedge.lua: a
# table.sort that makes ~n^2/4 comparisons, tens of seconds, with no bytecode in between, so no
# budget can stop it) against the real `ain run`:
#  1. SQLite: the watchdog sees the shard stuck past lua.cpu_ms + grace, logs it, records the
#     wedge (fenced) and the node exits 70 in time; the task is ready again, the node row dead.
#  2. The restarted engine wedges on it again: second wedge, the task is dead-lettered with
#     EPOISON; a third run finishes every other task and later work.
#  3. SIGTERM against a wedged engine (watchdog far away) exits 75 within shutdown.grace_ms + 1 s.
#  4. Postgres, three nodes: the wedge moves from node a to node b, which wedges too; the task is
#     a poison pill after the second wedge; node c finishes the rest.
# Timing margins are generous (a loaded 2-core machine, ASan); the measured figures are printed.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/wedge
C=$T/ain.lua
# The policy's Lua part (building the array) must fit the loop-time budget, which is wall time,
# on a machine loaded far beyond its cores; its sort then runs for tens of seconds.
CPU_MS=3000
LIMIT_MS=4500 # lua.cpu_ms + max(1000, cpu_ms / 2)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

wedge_msg() { # ID N
  printf '{"task_id":"%s","type":"wedge","payload":{"n":%d},"persona_id":"tester","state_version":0}\n' "$1" "$2"
}
quick_msgs() { # COUNT
  for i in $(seq "$1"); do task_msg quick "{\"i\":$i}"; done
}
# wait_exit PID SECONDS: waits for a background `ain run`, sets rc to its exit code; fails (and
# kills it) if it is still running after SECONDS, so a wedge that never happens cannot hang us.
wait_exit() {
  local p=$1 s=$2
  for _ in $(seq $(( s * 10 ))); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$p" 2>/dev/null; then
    kill -9 "$p" 2>/dev/null || true
    fail "ain run (pid $p) still running after ${s} s"
  fi
  set +e; wait "$p"; rc=$?; set -e
}
# wait_for QUERY_FN QUERY: until the query says 1 (at most 20 s)
wait_for() {
  for _ in $(seq 400); do
    [ "$($1 "$2")" = "1" ] && return 0
    sleep 0.05
  done
  fail "timed out waiting for: $2"
}

write_config "$C" "$FIX" "lua = { cpu_ms = $CPU_MS }" \
  'queue = { lease_ms = 10000, poll_ms = 20, reap_interval_ms = 100, retry_base_ms = 10 }'
W=$(uuid7)
wedge_msg "$W" 100000 > "$T/w.jsonl"
quick_msgs 20 >> "$T/w.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/w.jsonl" > /dev/null 2>&1

# 1. First wedge: exit 70 within the limit + margin, wedge recorded, task ready again.
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/r1.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
wait_for sql "select count(*) from tasks where id='$W' and status='running'"
t0=$(now_ms)
wait_exit "$pid" 120
el=$(( $(now_ms) - t0 ))
assert_eq "$rc" 70 "exit code of a wedged node"
[ "$el" -lt $(( LIMIT_MS + 6000 )) ] || fail "the wedged node took ${el} ms to exit (limit ${LIMIT_MS} ms)"
line=$(grep '"level":"error"' "$T/r1.err" | grep 'wedged: wedge.run has not come back' || true)
[ -n "$line" ] || { cat "$T/r1.err" >&2; fail "no error line naming the wedge"; }
assert_contains "$line" "\"task_id\":\"$W\"" "the log names the task"
assert_contains "$line" "/shard-" "the log names the shard"
assert_eq "$(sql "select count(*) from task_wedges where task_id='$W'")" 1 "one wedge recorded"
# Ready again; or, rarely, taken back by a claim the dying node had in flight on its other shard,
# which leaves it leased by that dead node (the next engine's first beat fences it).
st=$(sql "select status from tasks where id='$W'")
if [ "$st" != ready ]; then
  assert_eq "$st" running "the wedged task is ready again"
  assert_eq "$(sql "select count(*) from tasks t join nodes n on substr(t.lease_owner, 1, length(n.id) + 1) = n.id || '/' where t.id='$W' and n.state='dead'")" 1 "a re-claimed wedged task is leased by the dead node"
fi
assert_contains "$(sql "select last_error from tasks where id='$W'")" "EWEDGED: wedge.run held" "last_error"
assert_eq "$(sql "select count(*) from audit_log where task_id='$W' and from_status='running' and to_status='ready' and actor like '%/watchdog' and detail like '%\"wedges\":1%'")" 1 "the wedge is audited"
assert_eq "$(sql "select count(*) from nodes where state='alive'")" 0 "the wedged node marked itself dead"
assert_eq "$(sql "select count(*) from tasks where status='running' and lease_until > $(date +%s%3N)")" 0 "its other leases are fenced"
ok "wedged node exits 70 ${el} ms after the wedge began (limit ${LIMIT_MS} ms); wedge 1 recorded, task ready"

# 2. The restarted engine wedges on it again: poison pill. A third run finishes everything else.
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/r2.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
wait_exit "$pid" 120
assert_eq "$rc" 70 "exit code of the second wedge"
assert_eq "$(sql "select count(*) from task_wedges where task_id='$W'")" 2 "two wedges recorded"
assert_eq "$(sql "select status from tasks where id='$W'")" dead "dead-lettered after two wedges"
assert_contains "$(sql "select last_error from tasks where id='$W'")" "EPOISON: wedged a shard 2 times" "poison pill error"
assert_eq "$(sql "select count(distinct owner) from task_wedges where task_id='$W'")" 2 "wedged two engines"
quick_msgs 5 > "$T/later.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/later.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/r3.err" || { tail -5 "$T/r3.err"; fail "third run"; }
assert_eq "$(sql "select count(*) from tasks where type='quick' and status='succeeded'")" 25 "every other task finished"
assert_eq "$(sql "select count(*) from task_wedges where task_id='$W'")" 2 "the poison pill ran no more"
ok "second wedge: dead-lettered as a poison pill (EPOISON); the next run finishes the other 25 tasks"

# 3. SIGTERM against a wedged engine: the watchdog is far away; the stop deadline is not.
rm -f "$T/ain.db"*
GRACE=1000
write_config "$C" "$FIX" "lua = { cpu_ms = $CPU_MS }" "shutdown = { grace_ms = $GRACE }" \
  'watchdog = { grace_ms = 300000 }' \
  'queue = { lease_ms = 900000, poll_ms = 20, reap_interval_ms = 100 }'
W2=$(uuid7)
wedge_msg "$W2" 100000 > "$T/w2.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/w2.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/r4.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
for _ in $(seq 400); do grep -q 'wedge: sorting' "$T/r4.err" && break; sleep 0.05; done
grep -q 'wedge: sorting' "$T/r4.err" || fail "the wedge policy never reached its sort"
sleep 0.2
t0=$(now_ms)
kill -TERM "$pid"
wait_exit "$pid" 60
el=$(( $(now_ms) - t0 ))
assert_eq "$rc" 75 "exit code when the shards did not stop"
[ "$el" -lt $(( GRACE + 3000 )) ] || fail "SIGTERM took ${el} ms with grace_ms ${GRACE}"
grep -q "shard-[01] is still inside wedge.run" "$T/r4.err" || fail "the stop deadline does not name the wedged shard"
ok "SIGTERM with a wedged shard exits 75 in ${el} ms (grace_ms ${GRACE}; bar ${GRACE} + 1000)"

# 4. Postgres: the wedge moves from node a to node b, then it is a poison pill; node c finishes.
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-wedge-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$PG"; }
trap 'rc=$?; stop_pg; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
psqlq() { psql -X -q -t -A "$URL" -c "$1"; }
for n in a b c; do
  write_config "$T/$n.lua" "$FIX" "node_id = \"node-$n\"" "lua = { cpu_ms = $CPU_MS }" \
    'queue = { lease_ms = 10000, poll_ms = 20, reap_interval_ms = 100, retry_base_ms = 10 }' \
    'cluster = { heartbeat_ms = 200, node_timeout_ms = 5000 }'
  sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$T/$n.lua"
done
"$AIN_BIN" migrate -c "$T/a.lua" > /dev/null
W3=$(uuid7)
wedge_msg "$W3" 100000 > "$T/w3.jsonl"
quick_msgs 30 > "$T/q.jsonl"
"$AIN_BIN" enqueue -c "$T/a.lua" "$T/w3.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$T/a.lua" --no-progress > /dev/null 2> "$T/a.err" &
pa=$!; CLEANUP_PIDS+=("$pa")
wait_for psqlq "select count(*) from tasks where id='$W3' and status='running' and lease_owner like 'node-a/%'"
"$AIN_BIN" enqueue -c "$T/a.lua" "$T/q.jsonl" > /dev/null 2>&1
"$AIN_BIN" run -c "$T/b.lua" --no-progress > /dev/null 2> "$T/b.err" &
pb=$!; CLEANUP_PIDS+=("$pb")
wait_exit "$pa" 120; ra=$rc
wait_exit "$pb" 120; rb=$rc
assert_eq "$ra" 70 "node a exits wedged"
assert_eq "$rb" 70 "node b, which took the task over, exits wedged"
assert_eq "$(psqlq "select string_agg(split_part(owner, '/', 1), ',' order by id) from task_wedges where task_id='$W3'")" "node-a,node-b" "one wedge on each node, a then b"
assert_eq "$(psqlq "select status from tasks where id='$W3'")" dead "poison pill on Postgres"
assert_contains "$(psqlq "select last_error from tasks where id='$W3'")" "EPOISON" "poison error"
"$AIN_BIN" nodes -c "$T/c.lua" > "$T/nodes.out"
[ "$(grep -c dead "$T/nodes.out")" -ge 2 ] || { cat "$T/nodes.out"; fail "ain nodes does not show both wedged nodes dead"; }
"$AIN_BIN" run -c "$T/c.lua" --until-idle --no-progress > /dev/null 2> "$T/c.err" || { tail -5 "$T/c.err"; fail "node c"; }
assert_eq "$(psqlq "select count(*) from tasks where type='quick' and status='succeeded'")" 30 "node c finished the other work"
ok "postgres: wedged node a, then node b; poison pill after two wedges; node c finished 30 tasks"
