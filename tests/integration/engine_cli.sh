#!/usr/bin/env bash
# Black-box tests of the CLI and the engine on SQLite: help and exit codes, config errors with
# file:line, message validation, a diamond DAG, fan-out/fan-in, failure past retries failing the DAG
# and cancelling the rest, retries with backoff, a bad pipeline, a step timeout, cancel, audit.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
write_config "$C" "$FIX" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }'

# --- help and usage -------------------------------------------------------------------------
"$AIN_BIN" --help | grep_all "usage: ain VERB" || fail "--help"
"$AIN_BIN" enqueue --help | grep_all "ain enqueue" || fail "enqueue --help"
set +e
"$AIN_BIN" frobnicate >/dev/null 2>&1; rc=$?
set -e
assert_eq "$rc" 2 "unknown verb exit code"
ok "help and usage"

# --- config errors name the key and file:line -------------------------------------------------
printf 'shards = 2\nqueue = { claim_batch = "many" }\n' > "$T/bad.lua"
set +e
out=$("$AIN_BIN" stats -c "$T/bad.lua" 2>&1); rc=$?
set -e
assert_eq "$rc" 3 "bad config exit code"
assert_contains "$out" "bad.lua:2" "bad config names file:line"
assert_contains "$out" "queue.claim_batch" "bad config names the key"
printf 'shardz = 2\n' > "$T/bad2.lua"
set +e; out=$("$AIN_BIN" stats -c "$T/bad2.lua" 2>&1); rc=$?; set -e
assert_eq "$rc" 3 "unknown key exit code"
assert_contains "$out" "bad2.lua:1: unknown key 'shardz'" "unknown key message"
printf 'shards = \n' > "$T/bad3.lua"
set +e; out=$("$AIN_BIN" stats -c "$T/bad3.lua" 2>&1); rc=$?; set -e
assert_eq "$rc" 3 "syntax error exit code"
assert_contains "$out" "bad3.lua:" "syntax error names the file"
ok "config errors"

"$AIN_BIN" migrate -c "$C" > /dev/null
# --- message validation: a bad message rejects the input and stores nothing -------------------
{ task_msg generate_video '{"shape":"diamond"}'; echo '{"task_id":"x","type":"generate_video","payload":{},"persona_id":"p","state_version":0}'; } > "$T/mixed.jsonl"
set +e; out=$("$AIN_BIN" enqueue -c "$C" "$T/mixed.jsonl" 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "invalid message exit code"
assert_contains "$out" "task_id" "invalid message names the field"
assert_eq "$(sql 'select count(*) from tasks')" 0 "nothing stored after a rejected input"
set +e; out=$(echo '{"task_id":' | "$AIN_BIN" enqueue -c "$C" - 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "malformed JSON exit code"
# A persona the scripts folder does not have is refused, naming the field and the known ones.
set +e; out=$(task_msg noop '{}' ghost | "$AIN_BIN" enqueue -c "$C" - 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "unknown persona exit code"
assert_contains "$out" "message 0 (line 1): persona_id: unknown persona 'ghost' (known: tester)" "unknown persona named"
# A nesting bomb says how deep is too deep, not "invalid JSON".
set +e; out=$(head -c 100000 /dev/zero | tr '\0' '[' | "$AIN_BIN" enqueue -c "$C" - 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "nesting bomb exit code"
assert_contains "$out" "nested deeper than 128 levels" "nesting bomb named"
# A payload too big is named as the payload, with the limit and its size.
{ printf '{"task_id":"%s","type":"noop","persona_id":"tester","state_version":0,"payload":{"s":"' "$(uuid7)"
  head -c 1200000 /dev/zero | tr '\0' 'x'; printf '"}}\n'; } > "$T/big.json"
set +e; out=$("$AIN_BIN" enqueue -c "$C" "$T/big.json" 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "too-big payload exit code"
assert_contains "$out" "payload: too big: 1200008 of the message's" "too-big payload named"
assert_contains "$out" "1114112" "too-big payload gives the limit"
# Batches are all or nothing: a bad third line stores none of the input, and what the store
# already held stays.
task_msg noop '{"before":1}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null 2>&1
{ task_msg noop '{}'; task_msg noop '{}'; task_msg noop '{}' ghost; task_msg noop '{}'; } > "$T/batch.jsonl"
set +e; out=$("$AIN_BIN" enqueue -c "$C" "$T/batch.jsonl" 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "batch with a bad line exit code"
assert_contains "$out" "message 2 (line 3): persona_id: unknown persona 'ghost'" "bad line named by index and line"
assert_eq "$(sql 'select count(*) from tasks')" 1 "a rejected batch stores nothing and loses nothing"
sql "delete from tasks"
ok "message validation"

# --- a diamond DAG -----------------------------------------------------------------------------
id=$(task_msg generate_video '{"shape":"diamond","sleep_ms":20}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run1.out" 2> "$T/run1.err" || { cat "$T/run1.err"; fail "run"; }
grep -q "1 done, 0 failed" "$T/run1.out" || { cat "$T/run1.out"; fail "diamond summary"; }
dag=$("$AIN_BIN" dag show -c "$C" --json "$id")
assert_contains "$dag" '"status":"succeeded"' "diamond DAG succeeded"
dot=$("$AIN_BIN" dag show -c "$C" --dot "$id")
assert_contains "$dot" '"b" -> "d"' "dot has edge b -> d"
assert_contains "$dot" '"c" -> "d"' "dot has edge c -> d"
# d ran after both b and c: its start (ready->running) follows both successes.
dag_id=$(echo "$dag" | sed 's/.*"dag_id":"\([^"]*\)".*/\1/')
order=$(sql "select t.step from audit_log a join tasks t on t.id=a.task_id where a.dag_id='$dag_id' and a.to_status='succeeded' order by a.id")
case "$(echo $order)" in "a b c d"|"a c b d") ;; *) fail "diamond order: $order";; esac
joined=$(sql "select result from tasks where dag_id='$dag_id' and step='d'")
assert_contains "$joined" '"joined":2' "d saw both dependency results"
audit=$("$AIN_BIN" audit -c "$C" "$id")
assert_contains "$audit" "ready" "audit of root task"
assert_contains "$audit" "succeeded" "audit of root task"
ok "diamond DAG"

# --- fan-out 20 / fan-in --------------------------------------------------------------------------
id=$(task_msg generate_video '{"shape":"fanout","width":20}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
out=$("$AIN_BIN" dag show -c "$C" --json "$id")
assert_contains "$out" '"steps_done":22' "fan-out steps done"
assert_contains "$(sql "select result from tasks where step='end'")" '"joined":20' "fan-in saw 20 results"
ok "fan-out / fan-in"

# --- a step failing past its retries fails the DAG and cancels the rest -------------------------
id=$(task_msg generate_video '{"shape":"failing"}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run3.out" 2>/dev/null
out=$("$AIN_BIN" dag show -c "$C" --json "$id")
assert_contains "$out" '"status":"failed"' "failing DAG failed"
bad=$(sql "select status||'|'||attempts||'|'||last_error from tasks where step='bad'")
assert_contains "$bad" "dead|2|ELUA" "bad step dead-lettered after 2 attempts with a Lua error"
assert_contains "$bad" "boom in bad" "the error message is kept"
assert_contains "$bad" "stack traceback" "the traceback is kept"
assert_eq "$(sql "select status from tasks where step='after' and dag_id=(select dag_id from tasks where step='bad')")" cancelled "dependent cancelled"
ok "failure past retries"

# --- retry with backoff then success ------------------------------------------------------------
id=$(task_msg generate_video '{"shape":"flaky"}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
out=$("$AIN_BIN" dag show -c "$C" --json "$id")
assert_contains "$out" '"status":"succeeded"' "flaky DAG succeeded"
assert_eq "$(sql "select attempts from tasks where step='a' and handler='lua:steps.flaky'")" 2 "flaky step took 2 attempts"
ok "retry with backoff"

# --- ain.emit commits with the step's success: a failed attempt emits nothing ----------------------
e1=$(task_msg emitter '{"n":2,"fail_first":true}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
e2=$(printf '{"task_id":"%s","type":"emitter","payload":{"n":3,"always_fail":true},"persona_id":"tester","max_attempts":2,"state_version":0}\n' "$(uuid7)" | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
e3=$(printf '{"task_id":"%s","type":"emitter","payload":{"n":1001},"persona_id":"tester","max_attempts":1,"state_version":0}\n' "$(uuid7)" | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
e4=$(printf '{"task_id":"%s","type":"emitter","payload":{"n":1,"persona":"ghost"},"persona_id":"tester","max_attempts":1,"state_version":0}\n' "$(uuid7)" | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
assert_contains "$(sql "select status||' '||last_error from tasks where id='$e4'")" "ain.emit: persona_id: unknown persona 'ghost' (known: tester)" "emit of an unknown persona refused, naming the call and the field"
assert_eq "$(sql "select count(*) from tasks where json_extract(payload,'$.parent')='$e4'")" 0 "the refused emit stored nothing"
assert_eq "$(sql "select status||' '||attempts from tasks where id='$e1'")" "succeeded 2" "emitter succeeded on its second attempt"
assert_eq "$(sql "select count(*)||' '||min(json_extract(payload,'$.attempt'))||' '||sum(status='succeeded') from tasks where json_extract(payload,'$.parent')='$e1'")" "2 2 2" "exactly the second attempt's 2 tasks, run"
assert_eq "$(sql "select status from tasks where id='$e2'")" dead "always-failing emitter dead"
assert_eq "$(sql "select count(*) from tasks where json_extract(payload,'$.parent')='$e2'")" 0 "a failed attempt emits nothing"
assert_contains "$(sql "select status||' '||last_error from tasks where id='$e3'")" "ain.emit: one call may emit at most 1000 tasks" "emit flood refused"
assert_eq "$(sql "select count(*) from tasks where json_extract(payload,'$.parent')='$e3'")" 0 "the flood emitted nothing"
ok "ain.emit commits with the step's success"

# --- config judge = {pass, reject} reaches steps in ctx.config -------------------------------------
C2=$T/judge.lua
write_config "$C2" "$FIX" 'queue = { poll_ms = 50 }' 'judge = { pass = 0.9, reject = 0.25 }'
j=$(task_msg ctxecho '{}' | "$AIN_BIN" enqueue -c "$C2" - 2>/dev/null)
"$AIN_BIN" run -c "$C2" --until-idle --no-progress > /dev/null 2>&1
assert_eq "$(sql "select json_extract(result,'$.config.pass')||' '||json_extract(result,'$.config.reject')||' '||json_extract(result,'$.config.width') from tasks where id='$j'")" "0.9 0.25 1080" "thresholds in ctx.config"
j=$(task_msg ctxecho '{}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
assert_eq "$(sql "select coalesce(json_extract(result,'$.config.pass'),'unset') from tasks where id='$j'")" "unset" "no thresholds configured: the judge's defaults"
ok "judge thresholds from the config"

# --- a pipeline with a cycle is refused with a clear error ---------------------------------------
id=$(task_msg generate_video '{"shape":"cycle"}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
assert_contains "$(sql "select status||' '||last_error from tasks where id='$id'")" "dead EINVAL: pipeline.build: the steps' dependencies form a cycle" "cycle refused"
ok "bad pipeline"

# --- a step over its timeout fails with ETIMEOUT ---------------------------------------------------
id=$(task_msg generate_video '{"shape":"slow","sleep_ms":5000,"timeout_ms":200}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
start=$(date +%s%N)
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$el" -lt 4000 ] || fail "timeout took ${el} ms"
assert_contains "$(sql "select last_error from tasks where handler='lua:steps.work' and status='dead'")" "ETIMEOUT" "timeout error"
ok "step timeout (${el} ms)"

# --- cancel a DAG before it runs --------------------------------------------------------------------
id=$(task_msg generate_video '{"shape":"diamond"}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
"$AIN_BIN" cancel -c "$C" "$id" | grep_all "cancelled 1 task" || fail "cancel"
assert_eq "$(sql "select status from tasks where id='$id'")" cancelled "cancelled root"
set +e; "$AIN_BIN" cancel -c "$C" 0190a000-0000-7000-8000-000000000000 >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "cancel of an unknown id"
ok "cancel"

# --- task show: human, message and response forms ----------------------------------------------------
"$AIN_BIN" task show -c "$C" "$id" | grep_all "status        cancelled" || fail "task show"
set +e; "$AIN_BIN" task show -c "$C" 0190a000-0000-7000-8000-000000000000 >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "task show unknown id"
ok "task show"
