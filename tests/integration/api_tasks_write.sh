#!/usr/bin/env bash
# POST /v1/tasks (one message, an array, JSON Lines by Content-Type; the validation of `ain
# enqueue`, 400 naming the index and field; idempotent by task_id: 200 for the same content,
# 409 for other content, the CLI alike), GET /v1/tasks/{id}/audit, POST /v1/tasks/{id}/retry
# (a dead step re-driven, audited as the caller), and the refusals: malformed JSON, wrong types,
# unknown fields, a 2 MiB body, bad UTF-8, traversal in ids, wrong methods and roles.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20, retry_base_ms = 20, retry_max_ms = 50 }' \
  'shutdown = { grace_ms = 300 }'
"$AIN_BIN" migrate -c "$C" > /dev/null 2>&1 || true
api_start "$C"
J=(-H 'Content-Type: application/json')
L=(-H 'Content-Type: application/x-ndjson')

# --- POST /v1/tasks -------------------------------------------------------------------------------
m1=$(task_msg generate_video '{"shape":"diamond"}')
id1=$(jq -r .task_id <<< "$m1")
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "$m1"); expect "$r" 201 - "one message"
assert_eq "$(jq -c '[.enqueued[0],.created,.existing]' <<< "${r#* }")" "[\"$id1\",1,0]" "one message body"
assert_eq "$(sql "select actor from audit_log where task_id='$id1' and from_status is null")" operator:bob "enqueue actor"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "$m1"); expect "$r" 200 - "the same message again"
assert_eq "$(jq -c '[.created,.existing]' <<< "${r#* }")" "[0,1]" "a no-op"
changed=$(jq -c '.payload.shape="fanout"' <<< "$m1")
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "$changed"); expect "$r" 409 '[0].task_id' "same id, other content"
printf '%s\n' "$changed" > "$T/c.jsonl"
set +e; "$AIN_BIN" enqueue -c "$C" "$T/c.jsonl" > /dev/null 2> "$T/cli.err"; rc=$?; set -e
assert_eq "$rc" 6 "the CLI refuses other content with a conflict"
printf '%s\n' "$m1" > "$T/s.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/s.jsonl" > /dev/null 2> "$T/cli.err" || fail "CLI re-enqueue: $(cat "$T/cli.err")"
assert_contains "$(cat "$T/cli.err")" "1 already stored with the same content" "the CLI's no-op"
assert_eq "$(sql "select count(*) from tasks where id='$id1'")" 1 "one row"
ok "POST /v1/tasks: 201, the same again 200 (no-op), other content 409 [0].task_id; the CLI alike"

a=$(task_msg generate_video '{"shape":"diamond"}'); b=$(task_msg generate_video '{"shape":"diamond"}')
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "[$a,$b]"); expect "$r" 201 - "an array"
assert_eq "$(jq .created <<< "${r#* }")" 2 "array created"
c=$(task_msg generate_video '{"shape":"diamond"}'); d=$(task_msg generate_video '{"shape":"diamond"}')
r=$(call "$O" /v1/tasks -X POST "${L[@]}" --data-binary "$c"$'\n'"$d"$'\n'); expect "$r" 201 - "JSON Lines"
assert_eq "$(jq .created <<< "${r#* }")" 2 "lines created"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "[$a,$(task_msg generate_video '{"shape":"diamond"}')]")
assert_eq "$(jq -c '[.created,.existing]' <<< "${r#* }")" "[1,1]" "a batch with one known message"
ok "POST /v1/tasks: an array, JSON Lines, a batch mixing new and known messages"

n0=$(sql "select count(*) from tasks")
bad_type=$(jq -c '.priority="high"' <<< "$(task_msg generate_video '{}')")
unknown=$(jq -c '.colour="red"' <<< "$(task_msg generate_video '{}')")
no_persona=$(task_msg generate_video '{}' nobody)
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "[$a,$bad_type]"); expect "$r" 400 - "a wrong type"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "message 1" "names the index"
assert_contains "$(jq -r .error.field <<< "${r#* }")" priority "names the field"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "$unknown"); expect "$r" 400 - "an unknown field"
assert_contains "$(jq -r .error.field,.error.message <<< "${r#* }")" colour "names the unknown field"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "$no_persona"); expect "$r" 400 - "an unknown persona"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d '{"task_id": '); expect "$r" 400 - "malformed JSON"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d '"a string"'); expect "$r" 400 body "not an object"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d ''); expect "$r" 400 body "empty"
r=$(call "$O" /v1/tasks -X POST -H 'Content-Type: text/plain' -d "$a"); expect "$r" 415 content-type "text/plain"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EMEDIATYPE "415's code"
r=$(call "$O" /v1/tasks -X POST -d "$a"); expect "$r" 415 content-type "a form (curl's default type)"
r=$(call "$O" /v1/tasks -X POST -H 'Content-Type: application/jsonx' -d "$a"); expect "$r" 415 content-type "application/jsonx"
r=$(call "$O" /v1/tasks -X POST -H 'Content-Type: application/json; charset=utf-8' -d '[]'); expect "$r" 400 - "a charset parameter is fine (then an empty array)"
assert_eq "$(jq -r .error.code <<< "${r#* }")" ESCHEMA "an empty array: no task message"
# one task_id twice: 400 naming both indexes, before anything is written (array, JSON Lines, CLI)
dup1=$(task_msg generate_video '{"shape":"diamond"}'); dup2=$(task_msg generate_video '{"shape":"diamond"}')
again=$(jq -c '.payload.shape="fanout"' <<< "$dup1")
r=$(call "$O" /v1/tasks -X POST "${J[@]}" -d "[$dup1,$dup2,$a,$again]"); expect "$r" 400 '[3].task_id' "one task_id twice in an array"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "tasks[3].task_id duplicates tasks[0]" "names both indexes"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EINVAL "a duplicate's code"
r=$(call "$O" /v1/tasks -X POST "${L[@]}" --data-binary "$(printf '%s\n%s\n%s\n' "$dup2" "$dup1" "$dup1")"); expect "$r" 400 '[2].task_id' "the same message twice as JSON Lines"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "tasks[2].task_id duplicates tasks[1]" "names both lines' indexes"
printf '%s\n%s\n%s\n' "$dup1" "$dup2" "$dup2" > "$T/dup.jsonl"
set +e; "$AIN_BIN" enqueue -c "$C" "$T/dup.jsonl" > /dev/null 2> "$T/cli.err"; rc=$?; set -e
assert_eq "$rc" 4 "ain enqueue of a file naming one task_id twice (exit 4)"
assert_contains "$(cat "$T/cli.err")" "tasks[2].task_id duplicates tasks[1]" "the CLI names both indexes"
for m in "$dup1" "$dup2"; do
  assert_eq "$(sql "select count(*) from tasks where id='$(jq -r .task_id <<< "$m")'")" 0 "nothing of a batch with a repeated id stored"
done
r=$(call "$O" /v1/tasks -X POST "${L[@]}" -d "[$a]"); expect "$r" 400 body "an array as JSON Lines"
printf '{"task_id":"%s","type":"generate_video","payload":{"t":"\xff\xfe"},"persona_id":"tester","state_version":0}' "$(uuid7)" > "$T/u.json"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" --data-binary @"$T/u.json"); expect "$r" 400 - "bad UTF-8"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EUTF8 "bad UTF-8 code"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/big"
r=$(call "$O" /v1/tasks -X POST "${J[@]}" --data-binary @"$T/big"); expect "$r" 413 - "a 2 MiB body"
r=$(call "$V" /v1/tasks -X POST "${J[@]}" -d "$(task_msg generate_video '{}')"); expect "$r" 403 role "a viewer enqueueing"
r=$(call "$R" /v1/tasks -X POST "${J[@]}" -d "$(task_msg generate_video '{}')"); expect "$r" 403 role "a reviewer enqueueing"
r=$(call "$O" /v1/tasks -X DELETE); expect "$r" 405 method "DELETE /v1/tasks"
assert_eq "$(sql "select count(*) from tasks")" "$n0" "no refused input was stored"
ok "POST /v1/tasks refuses wrong types, unknown fields and personas, malformed JSON, other media types (415), a task_id twice, bad UTF-8, 2 MiB, viewers"

# --- audit and retry -------------------------------------------------------------------------------
f=$(task_msg generate_video '{"shape":"failing"}'); fid=$(jq -r .task_id <<< "$f")
call "$O" /v1/tasks -X POST "${J[@]}" -d "$f" > /dev/null
for _ in $(seq 400); do
  [ "$(sql "select count(*) from tasks where step='bad' and status='dead'")" = 1 ] && break
  sleep 0.05
done
bad=$(sql "select id from tasks where step='bad' and status='dead'")
[ -n "$bad" ] || fail "the failing step never died: $(sql 'select step,status from tasks')"
r=$(call "$V" "/v1/tasks/$fid/audit"); expect "$r" 200 - "audit of a task"
assert_eq "$(jq -r '.audit[0].actor' <<< "${r#* }")" operator:bob "the first audit row's actor"
r=$(call "$V" "/v1/tasks/01a24efe-7c72-7a70-a330-62789f55bb14/audit"); expect "$r" 404 - "audit of an unknown task"
r=$(call "$V" "/v1/tasks/nope/audit"); expect "$r" 400 id "audit of a non-UUID"
r=$(call "$V" "/v1/tasks/$bad/retry" -X POST); expect "$r" 403 role "a viewer retrying"
r=$(call "$O" "/v1/tasks/$bad/retry" -X POST -d '{"x":1}'); expect "$r" 400 x "retry with an unknown field"
r=$(call "$O" "/v1/tasks/$fid/retry" -X POST); expect "$r" 409 status "retry of a task that is not dead"
r=$(call "$O" "/v1/tasks/$bad/retry" -X POST); expect "$r" 200 - "retry of a dead step"
assert_eq "$(sql "select count(*) from audit_log where task_id='$bad' and actor='operator:bob' and from_status='dead'")" 1 "the retry is audited as the caller"
r=$(call "$O" "/v1/tasks/01a24efe-7c72-7a70-a330-62789f55bb14/retry" -X POST); expect "$r" 404 - "retry of an unknown task"
common_refusals POST "/v1/tasks/{id}/retry" GET "$O"
common_refusals GET "/v1/tasks/{id}/audit" POST "$V"
ok "GET /v1/tasks/{id}/audit, POST /v1/tasks/{id}/retry: 200, 404, 409, 400, 403, traversal, 405, 401"
kill -TERM "$pid"; wait "$pid" || true
