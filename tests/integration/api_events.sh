#!/usr/bin/env bash
# GET /v1/events (Server-Sent Events) on SQLite, or on a real PostgreSQL 15 when EVENTS_PG=1
# (api_events_pg.sh): a curl -N stream sees the task and DAG events of a pipeline in order with
# ids; Last-Event-ID and ?after= resume with exactly the missed events (from the ring, and from
# the store once the ring is gone); ?types filters and a bad one is 400; roles; max streams 503;
# a client that never reads is disconnected while another keeps receiving; `ain events` prints
# the same events; SIGTERM ends the open streams cleanly and at once. On Postgres also: a lower
# audit id that commits after a higher one is still delivered, in order within the hold and late
# after it.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
API='api = { listen = "127.0.0.1:0", jwt = { alg = "HS256", secret = "api_jwt" }, events_poll_ms = 100, max_event_streams = 3 }'
write_config "$C" "$FIX" "$API" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }'
if [ "${EVENTS_PG:-0}" = 1 ]; then
  server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
  PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-ev-XXXXXX") # outside $T: postgres must reach it
  stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; }
  trap 'rc=$?; stop_pg; rm -rf "$PG"; (exit $rc); cleanup; exit $rc' EXIT
  trap 'exit 130' INT TERM
  URL=$("$server" start "$PG")
  sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$C"
  sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$URL" -c "$1"; }
fi
"$AIN_BIN" migrate -c "$C" > /dev/null
api_start "$C"

# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "waited ${secs} s for: $what"
    sleep 0.05
  done
}
has() { grep -q -- "$2" "$1" 2>/dev/null; }
# stream NAME [curl args...]: a curl -N stream into $T/NAME (pid in spid_NAME), once it is open.
# A 503 (a closed stream's slot not yet noticed free) is retried.
stream() {
  local name=$1; shift
  local end=$(( $(date +%s) + 30 )) p
  while :; do
    curl -sN -H "Authorization: Bearer $V" "$@" > "$T/$name" 2> "$T/$name.err" &
    p=$!; CLEANUP_PIDS+=("$p")
    while ! has "$T/$name" '^: events' && kill -0 "$p" 2>/dev/null; do sleep 0.05; done
    has "$T/$name" '^: events' && break
    [ "$(date +%s)" -lt "$end" ] || fail "stream $name did not open: $(cat "$T/$name")"
    sleep 0.1
  done
  eval "spid_$name=$p"
}
ids() { grep '^id: ' "$1" | cut -d' ' -f2; }
datas() { grep "^data: " "$1" | cut -c7-; }

# --- a pipeline in order ------------------------------------------------------------------------
stream s1 "$U/v1/events"
task_msg generate_video '{"shape":"diamond"}' > "$T/t.jsonl"
root=$(jq -r .task_id "$T/t.jsonl")
r=$(call "$O" /v1/tasks -X POST -H 'Content-Type: application/x-ndjson' --data-binary @"$T/t.jsonl")
expect "$r" 201 - "enqueue"
wait_for "the DAG's succeeded event" 60 has "$T/s1" '"to":"succeeded","actor":[^,]*,"ts"'
grep -q '^event: dag$' "$T/s1" || fail "no dag event: $(cat "$T/s1")"
# every event has an id, ids strictly increase, and every data line is one JSON object
assert_eq "$(grep -c '^id: ' "$T/s1")" "$(grep '^event: ' "$T/s1" | grep -vc '^event: node$')" "an id per event but node events"
ids "$T/s1" | sort -n -c -u 2>/dev/null || fail "ids not strictly increasing: $(ids "$T/s1" | tr '\n' ' ')"
datas "$T/s1" | jq -e 'type == "object"' > /dev/null || fail "a data line is not JSON"
first=$(datas "$T/s1" | jq -c "select(.task_id == \"$root\")" | head -1)
assert_eq "$(jq -c '[.from, .type, .actor]' <<< "$first")" '[null,"generate_video","operator:bob"]' "the root task's creation"
# the root task's transitions, in order, are the store's audit rows of it
want=$(call "$V" "/v1/tasks/$root/audit" | cut -d' ' -f2- | jq -c '[.audit[] | select(.task_id != "") | [.id, .to]]')
got=$(datas "$T/s1" | jq -c "select(.task_id == \"$root\") | [.audit_id, .to]" | jq -s -c .)
assert_eq "$got" "$want" "the root task's events are its audit rows"
# every step's events end in succeeded, with the state_version of its row
n_tasks=$(datas "$T/s1" | jq -r 'select(.task_id) | .task_id' | sort -u | wc -l)
n_done=$(datas "$T/s1" | jq -r 'select(.task_id and .to == "succeeded") | .task_id' | sort -u | wc -l)
assert_eq "$n_done" "$n_tasks" "every task seen succeeded"
[ "$n_tasks" -ge 5 ] || fail "expected the root and 4 steps, saw $n_tasks tasks"
dag=$(datas "$T/s1" | jq -r 'select(.dag_id and (.task_id|not)) | .dag_id' | tail -1)
assert_eq "$(grep -A2 '^event: dag$' "$T/s1" | grep '^data: ' | cut -c7- | jq -r .to | tail -1)" succeeded "the DAG ends succeeded"
ok "a stream sees the pipeline's task and DAG events in order, with ids ($(grep -c '^id: ' "$T/s1") events, DAG $dag)"

# --- resume --------------------------------------------------------------------------------------
all=$(ids "$T/s1" | tr '\n' ' ')
last=$(ids "$T/s1" | tail -1)
mid=$(ids "$T/s1" | sed -n 3p)
want=$(ids "$T/s1" | awk -v m="$mid" '$1 > m' | tr '\n' ' ')
stream s2 "$U/v1/events" -H "Last-Event-ID: $mid"
wait_for "the resumed stream reaches $last" 30 has "$T/s2" "^id: $last\$"
assert_eq "$(ids "$T/s2" | tr '\n' ' ')" "$want" "Last-Event-ID $mid: exactly the missed ones"
stream s3 "$U/v1/events?after=$mid"
wait_for "?after stream reaches $last" 30 has "$T/s3" "^id: $last\$"
assert_eq "$(ids "$T/s3" | tr '\n' ' ')" "$want" "?after=$mid: exactly the missed ones"
ok "resume from the ring (Last-Event-ID and ?after): no duplicate, no gap"

# --- max streams (3 open) -------------------------------------------------------------------------
r=$(call "$V" /v1/events --max-time 5); expect "$r" 503 - "a fourth stream"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EBUSY "503 code"
ok "past api.max_event_streams: 503 EBUSY"

# --- shutdown with streams open: they end cleanly, the drain does not wait ------------------------
start=$(date +%s%N)
kill -TERM "$pid"
set +e; wait "$pid"; erc=$?; wait "$spid_s1"; c1=$?; wait "$spid_s2"; c2=$?; wait "$spid_s3"; c3=$?; set -e
el=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "$erc" 0 "ain run exit code"
assert_eq "$c1 $c2 $c3" "0 0 0" "the streams ended cleanly (curl exit codes)"
[ "$el" -lt 8000 ] || fail "shutdown took ${el} ms with 3 streams open"
ok "SIGTERM with 3 streams open: they end cleanly, the engine exits in ${el} ms"

# --- resume from the store: a new process has no ring --------------------------------------------
api_start "$C"
stream s4 "$U/v1/events" -H "Last-Event-ID: $mid"
wait_for "the store catch-up reaches $last" 30 has "$T/s4" "^id: $last\$"
assert_eq "$(ids "$T/s4" | tr '\n' ' ')" "$want" "resume from the store: exactly the missed ones"
stream s5 "$U/v1/events?after=0&types=dag"
wait_for "a catch-up from 0 reaches the DAG" 30 has "$T/s5" '^event: dag$'
assert_eq "$(grep '^event: ' "$T/s5" | sort -u)" "event: dag" "only dag events"
ok "resume older than the ring (a restarted server): read from the store, then live; types filters it"
kill "$spid_s4" "$spid_s5"

# --- bad requests and roles ------------------------------------------------------------------------
r=$(call "$V" "/v1/events?types=task,bogus"); expect "$r" 400 types "an unknown type"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "bogus" "the message names the type"
r=$(call "$V" "/v1/events?types="); expect "$r" 400 types "empty types"
r=$(call "$V" "/v1/events?after=-1"); expect "$r" 400 after "a negative after"
r=$(call "$V" "/v1/events?after=x"); expect "$r" 400 after "after=x"
r=$(call "$V" "/v1/events" -H 'Last-Event-ID: 12abc'); expect "$r" 400 Last-Event-ID "a bad Last-Event-ID"
r=$(call "$V" "/v1/events?since=1"); expect "$r" 400 since "an unknown parameter"
r=$(call "$O" /v1/events -X POST); expect "$r" 405 method "POST /v1/events"
r=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/events"); assert_eq "$r" 401 "no token"
r=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x.y.z' "$U/v1/events"); assert_eq "$r" 401 "a forged token"
ctype=$(curl -s -o /dev/null -w '%{content_type}' --max-time 1 -H "Authorization: Bearer $V" "$U/v1/events" || true)
assert_eq "$ctype" text/event-stream "content type"
ok "bad types/after/Last-Event-ID 400 naming the field, 405, 401; text/event-stream"

# --- types filter live, publisher events, and the CLI ----------------------------------------------
stream f1 "$U/v1/events?types=publisher,dag"
stream f2 "$U/v1/events?types=task"
r=$(call "$O" /v1/publishers -X POST -H 'Content-Type: application/json' -d '{"action":"pause"}'); expect "$r" 200 - "pause"
r=$(call "$O" /v1/publishers -X POST -H 'Content-Type: application/json' -d '{"action":"resume"}'); expect "$r" 200 - "resume"
task_msg generate_video '{"shape":"diamond"}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
wait_for "the second DAG's end" 60 bash -c "grep -A2 '^event: dag' '$T/f1' | grep -q '\"to\":\"succeeded\"'"
wait_for "publisher events" 30 has "$T/f1" '"to":"running"'
assert_eq "$(grep '^event: ' "$T/f1" | sort -u | tr '\n' ' ')" "event: dag event: publisher " "f1 sees dags and publishers only"
assert_eq "$(datas "$T/f1" | jq -c 'select(has("channel")) | [.from, .to, .actor]' | tr '\n' ' ')" \
  '["running","paused","operator:bob"] ["paused","running","operator:bob"] ' "pause then resume"
wait_for "task events on f2" 30 has "$T/f2" '"to":"succeeded"'
assert_eq "$(grep '^event: ' "$T/f2" | sort -u)" "event: task" "f2 sees tasks only"
ok "types filters a live stream; publisher pause/resume events"
# the CLI's tail is the same function: the events after $mid are the stream's
cli=$("$AIN_BIN" events -c "$C" --after "$mid" | jq -r 'select(.id <= '"$last"') | .id' | tr '\n' ' ')
assert_eq "$cli" "$want" "ain events --after $mid"
cli=$("$AIN_BIN" events -c "$C" --after 0 --types publisher | jq -c '[.event, .data.to]' | tr '\n' ' ')
assert_eq "$cli" '["publisher","paused"] ["publisher","running"] ' "ain events --types publisher"
set +e; out=$("$AIN_BIN" events -c "$C" --types nope 2>&1); rc=$?; set -e
assert_eq "$rc" 2 "ain events --types nope exits 2 ($out)"
assert_contains "$out" "nope" "the CLI names the bad type"
ok "ain events --after/--types prints the same events as JSON lines"
kill "$spid_f1" "$spid_f2"

# --- a client that never reads is disconnected; the others keep receiving -------------------------
stream live "$U/v1/events?types=task"
python3 - "$U" "$V" > "$T/slow.out" 2>&1 <<'EOF' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a tiny window: nothing piles up here
s.connect((u.hostname, u.port))
s.sendall(("GET /v1/events?types=task HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
# read up to the stream's first bytes (": events"): from then on it is live and misses nothing,
# so the bulk below is all queued for it (a stream that joined after part of the bulk was
# released would get too little to pass the backlog on a loaded machine)
got = b""
while b": events" not in got:
    chunk = s.recv(256)
    if not chunk:
        sys.exit("closed before the stream started: %r" % got)
    got += chunk
print("connected", flush=True)
time.sleep(120)  # never reads; killed by the test
EOF
slow=$!; CLEANUP_PIDS+=("$slow")
wait_for "the slow client connected" 30 has "$T/slow.out" connected
base=$(sql "select coalesce(max(id),0) from audit_log")
actor=$(printf 'operator:%0200d' 0)
# 20000 rows of ~450 bytes (9 MB) in one transaction: past what the kernel buffers (a few MB)
# and the 1 MiB backlog
sql "insert into audit_log (task_id, dag_id, actor, from_status, to_status, state_version, ts)
     select 'bulk-' || n, null, '$actor', 'ready', 'running', n, 0 from (
       with recursive c(n) as (select 1 union all select n + 1 from c where n < 20000) select n from c) x"
top=$(sql "select max(id) from audit_log")
wait_for "the reading stream gets the last bulk row" 60 has "$T/live" "^id: $top\$"
assert_eq "$(ids "$T/live" | awk -v b="$base" '$1 > b' | wc -l)" 20000 "the reader got every bulk row"
wait_for "the slow client's disconnection in the log" 30 has "$T/e.err" 'event stream to 127.0.0.1 closed: .* the client does not read'
# a stream slot is free again once it is gone
stream again "$U/v1/events"
ok "a client that never reads is disconnected (logged) while another received all 20000 events"
kill "$slow" 2>/dev/null || true

if [ "${EVENTS_PG:-0}" = 1 ]; then
  # --- Postgres: a lower id committing after a higher one ----------------------------------------
  stream ooo "$U/v1/events?types=task"
  fifo=$T/psql.in; mkfifo "$fifo"
  psql -X -q -At -v ON_ERROR_STOP=1 "$URL" < "$fifo" > "$T/psql.out" 2>&1 &
  ppid_=$!; CLEANUP_PIDS+=("$ppid_")
  exec 7> "$fifo"
  echo "begin; insert into audit_log (task_id, actor, from_status, to_status, state_version, ts) values ('ooo-low', 'test', 'ready', 'running', 1, 0) returning id;" >&7
  wait_for "the open transaction's id" 30 grep -q '^[0-9]' "$T/psql.out"
  low=$(grep -m1 '^[0-9]' "$T/psql.out")
  t0=$(date +%s%N)
  high=$(sql "insert into audit_log (task_id, actor, from_status, to_status, state_version, ts) values ('ooo-high', 'test', 'ready', 'running', 1, 0) returning id")
  [ "$high" -gt "$low" ] || fail "ids: low $low, high $high"
  echo "commit;" >&7
  held=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait_for "both rows on the stream" 30 has "$T/ooo" "^id: $high\$"
  wait_for "the lower id $low, committed after $high" 30 has "$T/ooo" "^id: $low\$"
  # committed within the 3 s hold (counted from before the higher insert): in id order
  if [ "$held" -lt 2500 ]; then
    assert_eq "$(ids "$T/ooo" | tr '\n' ' ')" "$low $high " "released in id order"
  fi
  ok "Postgres: id $low committed after id $high is delivered (in order: held ${held} ms)"
  # held past the hold (3 s): the higher row goes first, the lower one still comes (late)
  echo "begin; insert into audit_log (task_id, actor, from_status, to_status, state_version, ts) values ('late-low', 'test', 'ready', 'running', 1, 0) returning id;" >&7
  wait_for "the second open transaction's id" 30 bash -c "[ \$(grep -c '^[0-9]' '$T/psql.out') -ge 2 ]"
  low2=$(grep '^[0-9]' "$T/psql.out" | sed -n 2p)
  high2=$(sql "insert into audit_log (task_id, actor, from_status, to_status, state_version, ts) values ('late-high', 'test', 'ready', 'running', 1, 0) returning id")
  wait_for "the higher row after the hold" 30 has "$T/ooo" "^id: $high2\$"
  echo "commit;" >&7
  exec 7>&-
  wait_for "the late lower row" 30 has "$T/ooo" "^id: $low2\$"
  assert_eq "$(ids "$T/ooo" | tail -2 | tr '\n' ' ')" "$high2 $low2 " "late: after the higher one"
  ok "Postgres: id $low2 committed after the hold is still delivered (late)"
  kill "$spid_ooo"
fi


# --- the second engine (catch-ups, a disconnected reader) stops cleanly too -------------------------
kill -TERM "$pid"
set +e; wait "$pid"; erc=$?; set -e
assert_eq "$erc" 0 "the second ain run's exit code (a sanitizer report would fail it)"
ok "the restarted engine exits 0 with streams open"
