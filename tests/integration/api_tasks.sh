#!/usr/bin/env bash
# The first endpoints on the ops layer (engine/ops/tasks.h, the functions `ain task show|list` and
# `ain cancel` call): GET /v1/tasks/{id}, GET /v1/tasks (filters, limit, cursor; bad ones 400
# naming the parameter), POST /v1/tasks/{id}/cancel (operator; a viewer gets 403; the caller is
# the actor of the audit row; a bad body is 400 naming the field); ids that are not UUIDs 400,
# unknown ones 404.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua; LOG=$T/e.err
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key
write_config "$C" "$FIX" 'api = { listen = "127.0.0.1:0", jwt = { alg = "HS256", secret = "api_jwt" } }' \
  'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }'
task_msg generate_video '{"shape":"slow","sleep_ms":20000,"timeout_ms":60000}' > "$T/t.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null 2>&1
root=$(jq -r .task_id "$T/t.jsonl")
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$LOG" &
pid=$!; CLEANUP_PIDS+=("$pid")
port=""
for _ in $(seq 200); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$LOG" >&2; fail "no api port"; }
U=http://127.0.0.1:$port
for _ in $(seq 200); do
  [ "$(sql "select count(*) from tasks where status='running' and step='a'")" -ge 1 ] && break
  sleep 0.05
done
step=$(sql "select id from tasks where step='a'")
[ -n "$step" ] || fail "no step"
V=$("$AIN_BIN" token issue -c "$C" --sub val --role viewer)
O=$("$AIN_BIN" token issue -c "$C" --sub bob --role operator)
get() { curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $1" "${@:3}" "$U$2"; echo " $(cat "$T/b")"; }

r=$(get "$V" "/v1/tasks/$root")
assert_eq "${r%% *}" 200 "GET a task"
assert_eq "$(jq -c '[.task_id,.status,.handler,.message.payload.shape]' <<< "${r#* }")" "[\"$root\",\"succeeded\",\"expand\",\"slow\"]" "task fields"
r=$(get "$V" "/v1/tasks?status=running&limit=5")
assert_eq "$(jq -c '[.tasks[].task_id]' <<< "${r#* }")" "[\"$step\"]" "list by status"
r=$(get "$V" "/v1/tasks?limit=1")
assert_eq "$(jq '.tasks | length' <<< "${r#* }")" 1 "limit"
next=$(jq -r .next <<< "${r#* }")
[ "$next" != null ] || fail "no cursor: $r"
r=$(get "$V" "/v1/tasks?limit=1&after=$next")
[ "$(jq -r '.tasks[0].task_id' <<< "${r#* }")" != "$(get "$V" "/v1/tasks?limit=1" | cut -d' ' -f2- | jq -r '.tasks[0].task_id')" ] || fail "the next page repeats the first"
for q in 'status=bogus:status' 'limit=0:limit' 'limit=x:limit' 'after=zz:after' 'colour=red:colour' 'dag_id=1:dag_id'; do
  r=$(get "$V" "/v1/tasks?${q%%:*}")
  assert_eq "${r%% *}" 400 "?${q%%:*}"
  assert_eq "$(jq -r .error.field <<< "${r#* }")" "${q##*:}" "?${q%%:*} field"
done
r=$(get "$V" "/v1/tasks/not-a-uuid"); assert_eq "${r%% *}" 400 "a bad id"
assert_eq "$(jq -r .error.field <<< "${r#* }")" id "bad id field"
r=$(get "$V" "/v1/tasks/01a24efe-7c72-7a70-a330-62789f55bb14"); assert_eq "${r%% *}" 404 "an unknown id"
r=$(get "$V" "/v1/tasks/%2e%2e%2f%2e%2e%2fetc"); assert_eq "${r%% *}" 404 "an encoded traversal never reaches a handler"
ok "GET /v1/tasks/{id} and /v1/tasks (filters, cursor, 400 naming the parameter, 404)"

r=$(get "$V" "/v1/tasks/$step/cancel" -X POST)
assert_eq "${r%% *}" 403 "a viewer cancelling"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EFORBIDDEN "403 code"
r=$(get "$O" "/v1/tasks/$step/cancel" -X POST -d '{"reason":5}')
assert_eq "$(jq -r '.error.field' <<< "${r#* }")" reason "a bad reason"
r=$(get "$O" "/v1/tasks/$step/cancel" -X POST -d '{"why":"x"}')
assert_eq "$(jq -r '.error.field' <<< "${r#* }")" body "an unknown member"
[ "$(sql "select status from tasks where id='$step'")" = running ] || fail "a refused cancel changed the task"
r=$(get "$O" "/v1/tasks/$step/cancel" -X POST -d '{"reason":"api test"}')
assert_eq "${r%% *}" 200 "an operator cancelling"
assert_eq "$(jq .cancelled <<< "${r#* }")" 1 "cancelled count"
assert_eq "$(sql "select status from tasks where id='$step'")" cancelled "the task"
assert_eq "$(sql "select actor from audit_log where task_id='$step' and to_status='cancelled'")" operator:bob "the audit actor"
ok "POST /v1/tasks/{id}/cancel: viewer 403, bad bodies 400, operator 200 audited as operator:bob"
kill -TERM "$pid"; wait "$pid" || true
