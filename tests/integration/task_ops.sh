#!/usr/bin/env bash
# Black-box tests of the operator verbs the ops layer added (ain task list, ain task retry) and of
# who the audit log says acted: every write an `ain` command causes is recorded as
# operator:$USER (the OS user), or --actor NAME, or $AIN_ACTOR; never a generic "operator:cli".
# The retry runs the real use: a DAG fails on a broken policy, the operator fixes the policy and
# retries the dead step, and the DAG then finishes.
. "$(dirname "$0")/lib.bash"
S=$T/scripts
cp -r "$AIN_SOURCE_DIR/tests/fixtures/engine" "$S"
C=$T/ain.lua
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }'
"$AIN_BIN" migrate -c "$C" > /dev/null
me=$(id -un)
run() { "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1; }

# --- task list: newest first, filters, pages that cover every task once ---------------------------
ids=()
for i in 1 2 3 4 5; do
  ids+=("$(task_msg noop "{\"i\":$i}" | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)")
  sleep 0.01
done
other=$(task_msg emitter '{"n":0}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
out=$("$AIN_BIN" task list -c "$C" --type noop)
assert_contains "$out" "${ids[4]}" "list shows the newest"
[ "$(echo "$out" | grep -c ' noop ')" = 5 ] || fail "list --type noop: $out"
case "$out" in *"$other"*) fail "list --type noop shows another type";; esac
first=$(echo "$out" | sed -n 2p | cut -d' ' -f1)
assert_eq "$first" "${ids[4]}" "newest first"
# pages of 2 with --json: 3 pages, each task once, in order
seen="" cursor="" pages=0
while :; do
  page=$("$AIN_BIN" task list -c "$C" --type noop --limit 2 --json ${cursor:+--after "$cursor"})
  seen="$seen $(echo "$page" | jq -r '.tasks[].task_id' | tr '\n' ' ')"
  cursor=$(echo "$page" | jq -r '.next // empty')
  pages=$((pages + 1))
  [ -n "$cursor" ] || break
  [ $pages -lt 5 ] || fail "pagination does not end"
done
assert_eq "$pages" 3 "5 tasks in pages of 2"
assert_eq "$(echo $seen)" "${ids[4]} ${ids[3]} ${ids[2]} ${ids[1]} ${ids[0]}" "pages cover every task once, newest first"
assert_eq "$("$AIN_BIN" task list -c "$C" --status ready --json | jq '.tasks | length')" 6 "--status ready"
assert_eq "$("$AIN_BIN" task list -c "$C" --status dead --json | jq -c '.tasks')" "[]" "--status dead: none yet"
# bad input: a clear error and the exit code of invalid input, or of usage
for bad in "--status zombie:4:unknown task status 'zombie'" "--after bogus:4:is not a page cursor" \
           "--dag ../x:4:must be a DAG id" "--limit 0:2:--limit wants a number from 1 to 1000" \
           "--limit 5000:2:--limit wants a number" "--frob x:2:unexpected argument"; do
  args=${bad%%:*}; rest=${bad#*:}; want_rc=${rest%%:*}; want=${rest#*:}
  set +e; err=$("$AIN_BIN" task list -c "$C" $args 2>&1 >/dev/null); rc=$?; set -e
  assert_eq "$rc" "$want_rc" "task list $args exit code"
  assert_contains "$err" "$want" "task list $args message"
done
set +e; js=$("$AIN_BIN" task list -c "$C" --status zombie --json 2>/dev/null); set -e
assert_eq "$(echo "$js" | jq -r '.ok, .error.code, .error.field' | tr '\n' ' ')" "false EINVAL status " "--json error names the field"
"$AIN_BIN" cancel -c "$C" "$other" > /dev/null
for id in "${ids[@]}"; do "$AIN_BIN" cancel -c "$C" "$id" > /dev/null; done
ok "task list: order, filters, pages, bad input"

# --- task retry: a DAG failed by a broken step runs to the end once the policy is fixed -----------
root=$(task_msg generate_video '{"shape":"failing"}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
run
assert_contains "$("$AIN_BIN" dag show -c "$C" --json "$root")" '"status":"failed"' "DAG failed"
bad=$(sql "select id from tasks where step='bad'")
assert_eq "$(sql "select status||' '||attempts from tasks where id='$bad'")" "dead 2" "bad step dead-lettered"
assert_eq "$("$AIN_BIN" task list -c "$C" --status dead --json | jq -r '.tasks[0].task_id')" "$bad" "list --status dead finds it"
# refused while it is not dead, and for an unknown id
a=$(sql "select id from tasks where step='a' and dag_id=(select dag_id from tasks where id='$bad')")
set +e; err=$("$AIN_BIN" task retry -c "$C" "$a" 2>&1); rc=$?; set -e
assert_eq "$rc" 6 "retry of a succeeded task: conflict"
assert_contains "$err" "is succeeded: only a dead task can be retried" "retry refusal names the status"
set +e; "$AIN_BIN" task retry -c "$C" 0190a000-0000-7000-8000-000000000000 >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "retry of an unknown task"
set +e; "$AIN_BIN" task retry -c "$C" >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 2 "retry without a TASK_ID"
assert_eq "$(sql "select status from tasks where step='after' and dag_id=(select dag_id from tasks where id='$bad')")" cancelled "the step after it was cancelled"
cancelled=$(sql "select count(*) from tasks where status='cancelled' and dag_id=(select dag_id from tasks where id='$bad')")
# the fix: steps.boom no longer throws
sed -i 's/error("boom in " .. ctx.step)/return { step = ctx.step, fixed = true }/' "$S/agents/steps.lua"
out=$("$AIN_BIN" task retry -c "$C" --actor rita "$bad")
assert_contains "$out" "is ready again" "retry says so"
assert_contains "$out" "its DAG is running again; $cancelled cancelled task(s)" "retry reopens the DAG and its steps"
assert_eq "$(sql "select status||' '||attempts from tasks where id='$bad'")" "ready 0" "a fresh set of attempts"
run
dag=$(sql "select dag_id from tasks where id='$bad'")
assert_contains "$("$AIN_BIN" dag show -c "$C" --json "$root")" '"status":"succeeded"' "the DAG finished after the retry"
assert_eq "$(sql "select group_concat(status) from tasks where step in ('after', 'side') and dag_id='$dag'")" "succeeded,succeeded" "the steps after the fixed one ran"
assert_eq "$(sql "select actor||' '||detail from audit_log where task_id='$bad' and from_status='dead' and to_status='ready'")" \
  'operator:rita {"retry":true,"attempts_before":2}' "retry audited with the actor and the attempts used"
assert_eq "$(sql "select actor from audit_log where dag_id='$dag' and task_id is null and from_status='failed'")" "operator:rita" "the DAG's reopening audited"
ok "task retry: fix the policy, re-drive the dead letter, the DAG finishes"

# --- the actor of every write: the OS user by default, --actor, $AIN_ACTOR ------------------------
t1=$(task_msg noop '{}' | "$AIN_BIN" enqueue -c "$C" - 2>/dev/null)
assert_eq "$(sql "select actor from audit_log where task_id='$t1' and from_status is null")" "operator:$me" "enqueue audited as the OS user"
AIN_ACTOR=sam "$AIN_BIN" cancel -c "$C" "$t1" > /dev/null
assert_eq "$(sql "select actor from audit_log where task_id='$t1' and to_status='cancelled'")" "operator:sam" "cancel audited as \$AIN_ACTOR"
"$AIN_BIN" publishers pause -c "$C" --actor tom > /dev/null
AIN_ACTOR=sam "$AIN_BIN" publishers resume -c "$C" --actor tom > /dev/null # --actor wins
"$AIN_BIN" purge -c "$C" --older-than 0s > /dev/null
ops=$("$AIN_BIN" audit -c "$C" --operator --json)
assert_eq "$(echo "$ops" | jq -r '[.[] | select(.actor == "operator:tom" and (.to | startswith("setting:publishers.paused=")))] | length')" 2 "publishers audited as --actor"
# the pause also marks the switch as the operator's (the review-backlog guard leaves it alone)
assert_eq "$(echo "$ops" | jq -r '[.[] | select(.actor == "operator:tom" and .to == "setting:publishers.paused_by=operator")] | length')" 1 "paused_by audited as --actor"
assert_eq "$(sql "select actor from audit_log where to_status='purged' order by id desc limit 1")" "operator:$me" "purge audited as the OS user"
assert_eq "$(sql "select count(*) from audit_log where actor='operator:cli'")" 0 "no generic operator:cli row"
set +e; err=$("$AIN_BIN" stats -c "$C" --actor 'bad name!' 2>&1); rc=$?; set -e
assert_eq "$rc" 2 "a bad --actor is a usage error"
assert_contains "$err" "--actor must be 1-64 letters" "bad --actor message"
ok "actor: OS user, --actor, \$AIN_ACTOR in the audit log"
