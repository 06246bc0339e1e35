#!/usr/bin/env bash
# The engine-wide routes over the ops layer: GET /v1/dags/{id} (JSON and ?format=dot, as `ain
# dag`), GET /v1/audit (operator rows), GET|POST /v1/publishers (pause/resume audited as the
# caller), GET /v1/nodes, GET /v1/stats, GET /v1/scripts and POST /v1/scripts/{module}/pin|unpin;
# each with its refusals (bad query, bodies with wrong types or unknown fields, malformed JSON,
# bad UTF-8, a 2 MiB body, traversal in ids, wrong methods and roles).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" "$API_LINE" 'queue = { poll_ms = 20 }' 'shutdown = { grace_ms = 300 }'
task_msg generate_video '{"shape":"diamond"}' > "$T/t.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null 2>&1
root=$(jq -r .task_id "$T/t.jsonl")
api_start "$C"
for _ in $(seq 400); do
  [ "$(sql "select count(*) from dags where status='succeeded'")" = 1 ] && break
  sleep 0.05
done
J=(-H 'Content-Type: application/json')

# --- DAGs, audit -------------------------------------------------------------------------------
r=$(call "$V" "/v1/dags/$root"); expect "$r" 200 - "a DAG by its root task"
assert_eq "$(jq -c '[.status, ([.steps[].step] | sort)]' <<< "${r#* }")" '["succeeded",["a","b","c","d"]]' "DAG steps"
assert_eq "$(jq -c '.steps[] | select(.step=="d") | .deps | sort' <<< "${r#* }")" '["b","c"]' "DAG edges"
dot=$(curl -s -H "Authorization: Bearer $V" "$U/v1/dags/$root?format=dot")
assert_eq "$dot" "$("$AIN_BIN" dag show -c "$C" "$root" --dot)" "dot is the CLI's"
ctype=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $V" "$U/v1/dags/$root?format=dot")
assert_eq "$ctype" text/vnd.graphviz "dot content type"
r=$(call "$V" "/v1/dags/$root?format=png"); expect "$r" 400 format "format=png"
r=$(call "$V" "/v1/dags/$root?colour=1"); expect "$r" 400 colour "unknown parameter"
r=$(call "$V" /v1/dags/01a24efe-7c72-7a70-a330-62789f55bb14); expect "$r" 404 - "an unknown DAG"
r=$(call "$V" /v1/dags/abc); expect "$r" 400 id "a DAG id that is not a UUID"
common_refusals GET "/v1/dags/{id}" POST "$V"
ok "GET /v1/dags/{id}: JSON, dot (same as the CLI), 400, 404, traversal, 405, 401"

# --- publishers (writes an operator audit row) ----------------------------------------------------
r=$(call "$V" /v1/publishers); expect "$r" 200 - "publishers status"
assert_eq "$(jq .paused <<< "${r#* }")" false "not paused"
r=$(call "$V" /v1/publishers -X POST "${J[@]}" -d '{"action":"pause"}'); expect "$r" 403 role "a viewer pausing"
r=$(call "$R" /v1/publishers -X POST "${J[@]}" -d '{"action":"pause"}'); expect "$r" 403 role "a reviewer pausing"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":"stop"}'); expect "$r" 400 action "an unknown action"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":1}'); expect "$r" 400 action "a number as action"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":"pause","now":true}'); expect "$r" 400 now "an unknown field"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":'); expect "$r" 400 body "malformed JSON"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" --data-binary $'{"action":"\xc3\x28"}'); expect "$r" 400 body "bad UTF-8"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/big"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" --data-binary @"$T/big"); expect "$r" 413 - "a 2 MiB body"
assert_eq "$(jq .paused <<< "$(call "$V" /v1/publishers | cut -d' ' -f2-)")" false "refusals paused nothing"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":"pause"}'); expect "$r" 200 - "pause"
assert_eq "$(jq -c '[.paused,.changed]' <<< "${r#* }")" '[true,true]' "paused"
assert_eq "$("$AIN_BIN" publishers status -c "$C" --json | jq .paused)" true "the CLI sees it"
r=$(call "$O" /v1/publishers -X POST "${J[@]}" -d '{"action":"resume"}'); expect "$r" 200 - "resume"
assert_eq "$(jq .paused <<< "${r#* }")" false "resumed"
r=$(call "$O" /v1/publishers -X PUT); expect "$r" 405 method "PUT /v1/publishers"
ok "GET|POST /v1/publishers: status, pause, resume; roles, bad bodies, 2 MiB, 405"

r=$(call "$V" "/v1/audit?limit=10"); expect "$r" 200 - "operator audit"
assert_eq "$(jq -r '[.audit[] | select(.actor=="operator:bob")] | length >= 2' <<< "${r#* }")" true "pause and resume audited as bob"
r=$(call "$V" "/v1/audit?limit=0"); expect "$r" 400 limit "limit 0"
r=$(call "$V" "/v1/audit?limit=x"); expect "$r" 400 limit "limit x"
r=$(call "$V" "/v1/audit?task=1"); expect "$r" 400 task "an unknown parameter"
r=$(call "$V" /v1/audit -X POST); expect "$r" 405 method "POST /v1/audit"
ok "GET /v1/audit: the operator's rows, limit, 400, 405"

# --- nodes, stats -------------------------------------------------------------------------------
r=$(call "$V" /v1/nodes); expect "$r" 200 - "nodes"
assert_eq "$(jq -r '.nodes[0].state' <<< "${r#* }")" alive "this node is alive"
r=$(call "$V" "/v1/nodes?x=1"); expect "$r" 400 x "nodes with a parameter"
r=$(call "$V" /v1/stats); expect "$r" 200 - "stats"
assert_eq "$(jq .tasks.succeeded <<< "${r#* }")" "$(sql "select count(*) from tasks where status='succeeded'")" "stats count"
r=$(call "$V" /v1/stats -X POST); expect "$r" 405 method "POST /v1/stats"
r=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/nodes"); assert_eq "$r" 401 "nodes without a token"
ok "GET /v1/nodes, GET /v1/stats"

# --- scripts and pins --------------------------------------------------------------------------
r=$(call "$V" /v1/scripts); expect "$r" 200 - "scripts"
sha=$(jq -r '[.versions[] | select(.module=="personas/tester" and .valid)][0].sha' <<< "${r#* }")
[ -n "$sha" ] && [ "$sha" != null ] || fail "no version of personas/tester: $r"
r=$(call "$V" "/v1/scripts?module=personas/tester"); expect "$r" 200 - "scripts of one module"
assert_eq "$(jq -r '[.versions[].module] | unique | join(",")' <<< "${r#* }")" personas/tester "one module"
r=$(call "$V" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d "{\"sha\":\"$sha\"}"); expect "$r" 403 role "a viewer pinning"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d '{}'); expect "$r" 400 sha "pin without a sha"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d '{"sha":7}'); expect "$r" 400 sha "a number as sha"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d "{\"sha\":\"$sha\",\"force\":1}"); expect "$r" 400 force "an unknown field"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d '{"sha":"deadbeefdeadbeef"}'); expect "$r" 404 - "an unknown sha"
r=$(call "$O" /v1/scripts/personas/..%2f..%2fetc/pin -X POST "${J[@]}" -d "{\"sha\":\"$sha\"}")
case "${r%% *}" in 400|404) ;; *) fail "traversal in a module: $r";; esac
r=$(call "$O" /v1/scripts/..hidden/pin -X POST "${J[@]}" -d "{\"sha\":\"$sha\"}"); expect "$r" 400 module "a module starting with dots"
assert_eq "$(sql "select count(*) from script_pins")" 0 "refusals pinned nothing"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d "{\"sha\":\"${sha:0:12}\"}"); expect "$r" 200 - "pin by a prefix"
assert_eq "$(jq -c '[.module,.pinned,.changed]' <<< "${r#* }")" "[\"personas/tester\",\"$sha\",true]" "pinned"
assert_eq "$(sql "select sha from script_pins where module='personas/tester'")" "$sha" "the pin row"
r=$(call "$O" /v1/scripts/personas/tester/pin -X POST "${J[@]}" -d "{\"sha\":\"$sha\"}")
assert_eq "$(jq .changed <<< "${r#* }")" false "pinning again changes nothing"
r=$(call "$O" /v1/scripts/personas/tester/unpin -X POST -d '{"sha":"x"}'); expect "$r" 400 sha "unpin takes no sha"
r=$(call "$O" /v1/scripts/personas/tester/unpin -X POST); expect "$r" 200 - "unpin"
assert_eq "$(jq -c '[.pinned,.changed]' <<< "${r#* }")" '[null,true]' "unpinned"
assert_eq "$(sql "select count(*) from script_pins")" 0 "the pin row is gone"
psha=$(jq -r '[.versions[] | select(.module=="pipeline" and .valid)][0].sha' <<< "$(call "$V" /v1/scripts | cut -d' ' -f2-)")
r=$(call "$O" /v1/scripts/pipeline/pin -X POST "${J[@]}" -d "{\"sha\":\"$psha\"}"); expect "$r" 200 - "pin a top-level module"
assert_eq "$(sql "select sha from script_pins where module='pipeline'")" "$psha" "the top-level pin row"
r=$(call "$O" /v1/scripts/pipeline/unpin -X POST); expect "$r" 200 - "unpin a top-level module"
r=$(call "$O" /v1/scripts/personas/tester/pin); expect "$r" 405 method "GET on pin"
ok "GET /v1/scripts, POST /v1/scripts/{module}/pin|unpin: roles, bad bodies, traversal, prefix, no-op"
kill -TERM "$pid"; wait "$pid" || true
