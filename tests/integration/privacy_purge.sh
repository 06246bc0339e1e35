#!/usr/bin/env bash
# Privacy at ingest and purge, black-box. A trend carrying an e-mail (plain and spelled out), a
# phone number and an author id goes through the whole pipeline (planner -> ... -> judge), and a
# task with PII in its payload comes in through `ain enqueue`; afterwards neither the SQLite file
# (with its WAL) nor the object store holds any of the raw values, and the tokens are there.
# Then `ain purge --older-than 0s`: --dry-run lists the DAG and changes nothing; the purge
# deletes the DAG's tasks, payloads, checkpoints and objects, keeps its audit rows and is audited
# itself. The Postgres part: `ain enqueue` + run + pg_dump grep + purge on a real server.
source "$(dirname "$0")/lib.bash"

email="coach.ava@example.com"
spelled="ava dot runs at gmail dot com"
phone="+1 415 555 0132"
author="ava_fit_1987"
cat > "$T/trends.jsonl" <<JSONL
{"id":"p-1","title":"Fitness workout trend: write to $email for the training plan","summary":"Running coach says call $phone or mail $spelled before your next gym session.","tags":["fitness","workout"],"author":"$author","score":90,"ts":"2025-06-02T08:00:00Z"}
JSONL
cfg="$T/ain.lua"
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" \
  "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"
export AIN_SECRET_PII_KEY="it-key-$(uuid7)"

task_msg noop "{\"note\":\"reach me at $email or $phone\",\"user_id\":\"$author\"}" coach_ava > "$T/task.json"
"$AIN_BIN" enqueue -c "$cfg" "$T/task.json" > /dev/null 2> "$T/enqueue.err" ||
  fail "enqueue: $(cat "$T/enqueue.err")"
assert_contains "$(cat "$T/enqueue.err")" "3 personal data value(s) replaced by hashed tokens" "enqueue"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
grep -q "personal data value(s) in $T/trends.jsonl replaced by hashed tokens" "$T/run.log" ||
  fail "the planner did not say it replaced PII: $(grep -i planner "$T/run.log" | head -3)"
ok "ingest: ain enqueue and the planner report the values they replaced"

dag=$(sql "SELECT id FROM dags")
[ -n "$dag" ] && [ "$(echo "$dag" | wc -l)" = 1 ] || fail "expected one DAG, got: $dag"
status=$(sql "SELECT status FROM dags")
[ "$status" != running ] || fail "the DAG is still running"
# the judge blocks a script that reads out a replaced e-mail or phone number
assert_eq "$(sql "SELECT decision FROM videos")" "reject" "judge decision on a script with PII tokens"
ok "the pipeline ran ($status) and the judge rejected the script carrying PII tokens"

for v in "$email" "$phone" "415 555 0132" "$author" "$spelled" "gmail dot com"; do
  hits=$(cat "$T"/ain.db* | grep -a -c -F "$v" || true)
  assert_eq "$hits" "0" "raw '$v' in the SQLite files"
  hits=$( (grep -r -a -l -F "$v" "$T/var" "$T/outbox" 2>/dev/null || true) | wc -l)
  assert_eq "$hits" "0" "raw '$v' in the object store and outbox"
done
ok "no raw e-mail, phone or author id in the database files, the objects or the outbox"
[ "$(sql "SELECT count(*) FROM trends WHERE record LIKE '%<pii:email:%' AND record LIKE '%<pii:phone:%'")" = 1 ] ||
  fail "the trend row lacks its tokens: $(sql 'SELECT record FROM trends')"
assert_contains "$(sql "SELECT payload FROM tasks WHERE type = 'noop'")" '"user_id":"<pii:uid:' "the enqueued user id"
tok=$(sql "SELECT payload FROM tasks WHERE type = 'noop'" | grep -o '<pii:email:[0-9a-f]\{8\}>')
assert_contains "$(sql 'SELECT record FROM trends')" "$tok" "the same e-mail gives the same token in the trend and the task"
ok "the trend row and the payloads hold keyed tokens; one value, one token"

# ---- purge ----
keys=$(sql "SELECT j.value FROM artifacts a, json_each(a.keys) j WHERE a.dag_id = '$dag'")
[ -n "$keys" ] || fail "the DAG recorded no artifacts"
for k in $keys; do [ -f "$T/var/objects/$k" ] || fail "object $k missing before the purge"; done
audit_before=$(sql "SELECT count(*) FROM audit_log WHERE dag_id = '$dag'")
step_task=$(sql "SELECT id FROM tasks WHERE dag_id = '$dag' AND step = 'judge'")
set +e
"$AIN_BIN" purge -c "$cfg" --older-than 3x > /dev/null 2> "$T/bad.err"; rc=$?
set -e
assert_eq "$rc" "2" "purge --older-than 3x exit code"
assert_contains "$(cat "$T/bad.err")" "'3x' is not a duration" "purge with a bad duration"
set +e
"$AIN_BIN" purge -c "$cfg" > /dev/null 2> "$T/bad.err"; rc=$?
set -e
assert_eq "$rc" "2" "purge without --older-than exit code"
assert_contains "$(cat "$T/bad.err")" "--older-than DURATION is required" "purge without a duration"
dry=$("$AIN_BIN" purge -c "$cfg" --older-than 0s --dry-run --json)
assert_contains "$dry" "\"dry_run\":true" "dry run"
assert_contains "$dry" "$dag" "dry run lists the DAG"
[ "$(sql "SELECT count(*) FROM tasks WHERE dag_id = '$dag'")" -gt 0 ] || fail "the dry run deleted tasks"
ok "purge --dry-run lists the DAG and deletes nothing"

out=$("$AIN_BIN" purge -c "$cfg" --older-than 0s --json)
assert_contains "$out" "\"dags\":1" "purge summary"
assert_eq "$(sql "SELECT count(*) FROM tasks WHERE dag_id = '$dag' OR type = 'noop'")" "0" "tasks left"
assert_eq "$(sql "SELECT count(*) FROM tasks_archive WHERE dag_id = '$dag'")" "0" "archived tasks left"
assert_eq "$(sql "SELECT count(*) FROM tasks")" "0" "tasks left (the root generate_video task too)"
assert_eq "$(sql "SELECT count(*) FROM artifacts WHERE dag_id = '$dag'")" "0" "checkpoints left"
assert_eq "$(sql "SELECT count(*) FROM videos WHERE dag_id = '$dag'")" "0" "videos left"
assert_eq "$(sql "SELECT count(*) FROM dags")" "0" "DAGs left"
for k in $keys; do [ ! -e "$T/var/objects/$k" ] || fail "object $k still there after the purge"; done
assert_eq "$(sql "SELECT count(*) FROM audit_log WHERE dag_id = '$dag'")" "$audit_before" "audit rows of the DAG"
# (`ain audit DAG_ID` itself is issue 9 item 3, another change: look up a task of the DAG)
history=$("$AIN_BIN" audit "$step_task" -c "$cfg" --json) || fail "ain audit of a purged task exited $?"
assert_contains "$history" "succeeded" "the purged judge step's history"
row=$(sql "SELECT actor || ' ' || to_status || ' ' || detail FROM audit_log WHERE to_status = 'purged'")
assert_contains "$row" "operator:" "purge audit actor"
assert_contains "$row" "\"dags\":1" "purge audit counts"
ok "purge deletes the DAG's tasks, checkpoints, videos and objects; the audit stays and names the purge"

# ---- Postgres: enqueue + run + pg_dump, then purge ----
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-priv-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$PG"; }
trap 'rc=$?; stop_pg; (exit $rc); cleanup; exit $rc' EXIT
URL=$("$server" start "$PG")
pcfg="$T/pg.lua"
: > "$T/none.jsonl"
write_config "$pcfg" "$AIN_SOURCE_DIR/scripts" "store = { url = \"$URL\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "trends = { source = \"$T/none.jsonl\" }"
task_msg noop "{\"note\":\"reach me at $email or $phone\",\"author\":\"$author\"}" coach_ava > "$T/pg-task.json"
"$AIN_BIN" enqueue -c "$pcfg" "$T/pg-task.json" > /dev/null 2>&1 || fail "enqueue on Postgres"
"$AIN_BIN" run -c "$pcfg" --until-idle --no-progress > /dev/null 2> "$T/pg-run.log" ||
  fail "ain run on Postgres: $(tail -3 "$T/pg-run.log")"
pg_dump "$URL" > "$T/pg.sql"
pgtok=$(psql -X -q -t -A "$URL" -c "SELECT payload FROM tasks" | grep -o '<pii:email:[0-9a-f]\{8\}>') ||
  fail "no token in the Postgres payload"
grep -q -F "$pgtok" "$T/pg.sql" || fail "no token in the Postgres dump"
for v in "$email" "415 555 0132" "$author"; do
  assert_eq "$(grep -c -F "$v" "$T/pg.sql" || true)" "0" "raw '$v' in the Postgres dump"
done
"$AIN_BIN" purge -c "$pcfg" --older-than 0s > /dev/null || fail "purge on Postgres"
pg_dump "$URL" > "$T/pg2.sql"
assert_eq "$(grep -c -F "$pgtok" "$T/pg2.sql" || true)" "0" "payloads left in Postgres after the purge"
grep -q "purged" "$T/pg2.sql" || fail "no purge audit row in Postgres"
ok "Postgres: no raw value in pg_dump; the purge removes the payload and is audited"
