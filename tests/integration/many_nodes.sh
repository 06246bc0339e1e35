#!/usr/bin/env bash
# Many nodes on one PostgreSQL: three `ain run` processes share a real PostgreSQL 15 (started for
# this test, stopped on every exit path) and 3,000 steps in DAGs. One node is killed with kill -9
# mid-run and Postgres is restarted once. Checks: every DAG completes; each task has exactly one
# successful completion in the audit, with strictly increasing state_version; the killed node is
# declared dead by a live node's heartbeat (its leases fenced, its steps retried) and `ain nodes`
# says so.
. "$(dirname "$0")/lib.bash"
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-nodes-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$PG"; }
trap 'rc=$?; stop_pg; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
psqlq() { psql -X -q -t -A "$URL" -c "$1"; }
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
# The lease (20 s) outlives the node timeout (5 s, judged only by a node that has itself been
# beating for 5 s since Postgres came back), so node c's steps come back through the dead-node
# verdict, not through lease expiry; the nodes wait for them (--until-idle counts running tasks).
for n in a b c; do
  write_config "$T/$n.lua" "$FIX" "node_id = \"node-$n\"" \
    'queue = { lease_ms = 20000, reap_interval_ms = 200, poll_ms = 50, retry_base_ms = 50 }' \
    'cluster = { heartbeat_ms = 200, node_timeout_ms = 5000 }'
  sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$T/$n.lua"
done
"$AIN_BIN" migrate -c "$T/a.lua" > /dev/null

N=375 # fanout width 6: 8 steps per DAG, 3,000 steps; 300 ms each, so that a frozen node holds
       # steps it has not finished (with 30 ms steps and claim batches of 256 it was often caught
       # with all of them already committed or in flight)
for i in $(seq $N); do task_msg generate_video '{"shape":"fanout","width":6,"sleep_ms":300}'; done > "$T/tasks.jsonl"
"$AIN_BIN" enqueue -c "$T/a.lua" "$T/tasks.jsonl" > /dev/null

"$AIN_BIN" run -c "$T/c.lua" --no-progress > "$T/c.out" 2> "$T/c.err" &
pc=$!
CLEANUP_PIDS+=("$pc")
"$AIN_BIN" run -c "$T/a.lua" --until-idle --no-progress > "$T/a.out" 2> "$T/a.err" &
pa=$!
CLEANUP_PIDS+=("$pa")
"$AIN_BIN" run -c "$T/b.lua" --until-idle --no-progress > "$T/b.out" 2> "$T/b.err" &
pb=$!
CLEANUP_PIDS+=("$pb")

# Kill node c while it holds leases: freeze it first (SIGSTOP), so the leases counted are the
# ones it holds when it dies. A FINISH it had already sent still commits on the server after the
# freeze (with a claim batch of 256 that can be every step it holds), so count after the server
# has had time to run what was in flight.
crun=0
for _ in $(seq 200); do
  done_steps=$(psqlq "select count(*) from tasks where type='step' and status='succeeded'" 2>/dev/null || echo 0)
  if [ "${done_steps:-0}" -ge 300 ]; then
    kill -STOP "$pc"
    sleep 0.3
    crun=$(psqlq "select count(*) from tasks where status='running' and lease_owner like 'node-c/%'" 2>/dev/null || echo 0)
    [ "${crun:-0}" -gt 0 ] && break
    kill -CONT "$pc"
  fi
  sleep 0.05
done
kill -9 "$pc"
wait "$pc" 2>/dev/null || true
[ "${crun:-0}" -gt 0 ] || fail "node c held no lease at the kill: the test did not test a node death"
echo "# killed node c with $crun running step(s)"

# Restart Postgres once, mid-run, down for longer than the node timeout: every node is silent
# for 6 s, which must not count as a death; the engines reconnect with backoff.
sleep 0.5
runas() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN=$(ls -d /usr/lib/postgresql/15/bin)
runas "$PGBIN/pg_ctl" -D "$PG/data" -w -t 30 -m fast stop > /dev/null
sleep 6
runas "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/server.log" -w -t 30 \
  -o "-p $(cat "$PG/port") -k $PG -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c max_connections=200" \
  start > /dev/null
echo "# postgres restarted after 6 s down"

wait "$pa" || { tail -20 "$T/a.err"; fail "node a"; }
wait "$pb" || { tail -20 "$T/b.err"; fail "node b"; }

assert_eq "$(psqlq "select count(*) from dags where status='succeeded'")" "$N" "every DAG completed"
steps=$(psqlq "select count(*) from (select id, type from tasks union all select id, type from tasks_archive) t where type='step'")
assert_eq "$steps" 3000 "3,000 steps"
assert_eq "$(psqlq "select count(*) from tasks where status<>'succeeded'")" 0 "every task succeeded"
dups=$(psqlq "select count(*) from (select task_id from audit_log where to_status='succeeded' and task_id is not null group by task_id having count(*) <> 1) x")
assert_eq "$dups" 0 "exactly one success per task in the audit"
total=$(psqlq "select count(*) from tasks")
succ=$(psqlq "select count(distinct task_id) from audit_log where to_status='succeeded'")
assert_eq "$succ" "$total" "a success audit row for every task"
nonmono=$(psqlq "select count(*) from (select task_id, state_version, lag(state_version) over (partition by task_id order by id) p from audit_log where task_id is not null) x where p is not null and state_version <= p")
assert_eq "$nonmono" 0 "audit state_version strictly increases per task"
assert_eq "$(psqlq "select count(*) from nodes where node='node-c' and state='dead'")" 1 "node c declared dead"
# ... and only node c: the Postgres restart silenced every node for a moment, which must not
# count as a death (a node judges only after beating for a full timeout itself).
verdicts=$(cat "$T/a.err" "$T/b.err" | grep -o '[0-9]* node(s) silent' | awk '{n += $1} END {print n + 0}')
assert_eq "$verdicts" 1 "nodes declared dead in the logs of a and b"
assert_eq "$(psqlq "select count(*) from nodes where state='dead'")" 1 "dead nodes"
# c's leases went back to the queue through the reaper (owner named in the audit detail), and
# those steps then succeeded on another node.
reclaimed=$(psqlq "select count(distinct task_id) from audit_log where from_status='running' and to_status='ready' and detail like '%\"owner\":\"node-c/%'")
[ "$reclaimed" -gt 0 ] || fail "no lease of node c was reclaimed"
retried=$(psqlq "select count(distinct a.task_id) from audit_log a join audit_log s on s.task_id=a.task_id and s.to_status='succeeded' where a.to_status='running' and a.actor like 'node-c/%' and s.actor not like 'node-c/%' and s.id > a.id")
[ "$retried" -ge "$reclaimed" ] || fail "reclaimed steps of node c did not all succeed elsewhere ($retried of $reclaimed)"
if psqlq "select 1 from information_schema.tables where table_name='publish_receipts'" | grep_all 1; then
  assert_eq "$(psqlq "select count(*) - count(distinct idempotency_key) from publish_receipts")" 0 "no duplicate publish receipt"
fi
grep -q "LISTEN/NOTIFY self-test passed" "$T/a.err" || fail "node a did not report the LISTEN/NOTIFY self-test"
"$AIN_BIN" nodes -c "$T/a.lua" > "$T/nodes.out"
assert_contains "$(cat "$T/nodes.out")" "dead" "ain nodes shows the dead node"
assert_contains "$(cat "$T/nodes.out")" "stopped" "ain nodes shows the nodes that stopped"
ok "many nodes: $N DAGs, $steps steps on 3 nodes; node c killed with ~$crun running, $reclaimed lease(s) reclaimed and run elsewhere; postgres restarted"
