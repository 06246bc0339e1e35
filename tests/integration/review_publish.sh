#!/usr/bin/env bash
# Black-box test of the review queue and publishing on SQLite, with the real review_gate and
# publish built-ins, the real publisher policy and the outbox channel (render and judge replay
# their payload: tests/fixtures/review). Covers: pass -> published once with receipt and sidecar;
# review -> parked (waiting, --until-idle exits) -> two racing reviewers: one wins, one exit 6 ->
# published; reject -> DAG ends, nothing published; a retried publish (receipt already there)
# does not duplicate; pause holds publishing, resume releases it; an unwritable outbox retries,
# then dead-letters with a clear error, no receipt, and compensation flags the video (its default,
# docs/publishing-after.md).
. "$(dirname "$0")/lib.bash"
S=$T/scripts
mkdir -p "$S/agents"
cp "$AIN_SOURCE_DIR"/tests/fixtures/review/agents/*.lua "$S/agents/"
cp "$AIN_SOURCE_DIR/scripts/agents/publisher.lua" "$AIN_SOURCE_DIR/scripts/agents/persona.lua" "$S/agents/"
cp -r "$AIN_SOURCE_DIR/scripts/personas" "$S/"
C=$T/ain.lua
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
  "channels = { outbox = { kind = \"outbox\", dir = \"$T/outbox\" } }" 'trends = { source = "" }'
"$AIN_BIN" migrate -c "$C" > /dev/null

# Two objects in the object store under content-addressed keys, as render would leave them.
put_object() { # FILE EXT -> key
  local h; h=$(sha256sum "$1" | cut -c1-64)
  local key="sha256/${h:0:2}/${h:2}.$2"
  mkdir -p "$T/var/objects/sha256/${h:0:2}"
  cp "$1" "$T/var/objects/$key"
  echo "$key"
}
head -c 200000 /dev/urandom > "$T/v.mp4"
head -c 5000 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4)
TK=$(put_object "$T/t.jpg" jpg)

enqueue_video() { # VIDEO_ID DECISION CONFIDENCE [extra payload json]
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"$2\",\"confidence\":$3,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"${4:-}}" techie_tina > "$T/msg.json"
  "$AIN_BIN" enqueue -c "$C" "$T/msg.json" > /dev/null
}
run_idle() { timeout 60 "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"; }
receipts() { sql "SELECT count(*) FROM publish_receipts WHERE video_id = '$1'"; }
vstatus() { sql "SELECT status FROM videos WHERE id = '$1'"; }

# --- pass: published once, with sidecar and receipt ----------------------------------------------
enqueue_video vid-pass pass 0.95
run_idle
assert_eq "$(vstatus vid-pass)" published "passed video status"
assert_eq "$(receipts vid-pass)" 1 "one receipt"
KEY=$(sql "SELECT idempotency_key FROM publish_receipts WHERE video_id = 'vid-pass'")
assert_eq "$KEY" "$(printf '%s' vid-passoutbox | sha256sum | cut -c1-64)" "idempotency key = sha256(video_id .. channel)"
D="$T/outbox/$KEY"
cmp -s "$D/vid-pass.mp4" "$T/v.mp4" || fail "published mp4 differs"
cmp -s "$D/vid-pass.jpg" "$T/t.jpg" || fail "published thumbnail differs"
jq -e '.video_id == "vid-pass" and .channel == "outbox" and .checks.decision == "pass"' "$D/vid-pass.json" > /dev/null || fail "sidecar: $(cat "$D/vid-pass.json")"
[ -z "$(ls -A "$T/outbox" | grep '^\.tmp' || true)" ] || fail "temporary folder left in the outbox"
assert_eq "$(sql "SELECT count(*) FROM audit_log WHERE to_status = 'video:published' AND detail LIKE '%vid-pass%'")" 1 "publish audited"
ok "pass: published once with receipt, files and sidecar"

# --- a retried publish does not duplicate: run the publish task again ---------------------------
PT=$(sql "SELECT id FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-pass')")
sql "UPDATE tasks SET status = 'ready', state_version = state_version + 1 WHERE id = '$PT'"
run_idle
assert_eq "$(receipts vid-pass)" 1 "still one receipt after a re-run"
assert_eq "$(ls "$T/outbox" | wc -l)" 1 "still one outbox folder"
jq -e '.duplicate == true' <<< "$(sql "SELECT result FROM tasks WHERE id = '$PT'")" > /dev/null || fail "re-run result not a duplicate"
ok "retried publish finds its receipt and writes nothing"

# --- review: parked, listed; two reviewers race; approval publishes ----------------------------
enqueue_video vid-rev review 0.65
run_idle # exits although the gate waits: a parked task is no work
assert_eq "$(vstatus vid-rev)" in_review "video in review"
assert_eq "$(sql "SELECT status FROM tasks WHERE step = 'review_gate' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-rev')")" waiting "gate parked"
"$AIN_BIN" review list -c "$C" | grep_all vid-rev || fail "review list"
out=$("$AIN_BIN" review show vid-rev -c "$C")
assert_contains "$out" "phone number 555-0100" "show prints the checks"
assert_contains "$out" "$T/var/objects/$VK" "show prints the file path"
"$AIN_BIN" review show vid-rev -c "$C" --json | jq -e '.checks | length == 2' > /dev/null || fail "show --json"
set +e
"$AIN_BIN" review approve vid-rev -c "$C" --reviewer alice --reason ok --version 0 > "$T/a.out" 2>&1 & pa=$!
"$AIN_BIN" review reject vid-rev -c "$C" --reviewer bob --reason no --version 0 > "$T/b.out" 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
set -e
[ $(( (ra == 0) + (rb == 0) )) -eq 1 ] || fail "racing reviewers: exits $ra and $rb (want one 0)"
[ $(( (ra == 6) + (rb == 6) )) -eq 1 ] || fail "racing reviewers: exits $ra and $rb (want one 6)"
cat "$T/a.out" "$T/b.out" | grep_all "expected version 0, found version 1" || fail "conflict message: $(cat "$T/a.out" "$T/b.out")"
winner=$([ $ra -eq 0 ] && echo approved || echo rejected)
set +e; "$AIN_BIN" review approve vid-rev -c "$C" > "$T/c.out" 2>&1; rc=$?; set -e
assert_eq "$rc" 6 "deciding a decided review"
ok "two reviewers race: one wins, one gets exit 6 naming both versions"
run_idle
if [ "$winner" = approved ]; then
  assert_eq "$(vstatus vid-rev)" published "approved video published"
  assert_eq "$(receipts vid-rev)" 1 "approved video: one receipt"
  jq -e '.reviewed_by == "alice"' "$T/outbox/$(sql "SELECT idempotency_key FROM publish_receipts WHERE video_id='vid-rev'")/vid-rev.json" > /dev/null || fail "sidecar names the reviewer"
else
  assert_eq "$(vstatus vid-rev)" rejected "rejected video stays rejected"
  assert_eq "$(receipts vid-rev)" 0 "rejected video: no receipt"
fi
assert_eq "$(sql "SELECT status FROM dags WHERE id = (SELECT dag_id FROM videos WHERE id = 'vid-rev')")" succeeded "reviewed DAG done"
ok "review decision resumes the DAG ($winner)"

# --- reject by the judge: nothing published --------------------------------------------------------
enqueue_video vid-rej reject 0.2
run_idle
assert_eq "$(vstatus vid-rej)" rejected "judge-rejected video"
assert_eq "$(receipts vid-rej)" 0 "judge-rejected: no receipt"
jq -e '.skipped == true' <<< "$(sql "SELECT result FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-rej')")" > /dev/null || fail "publish did not skip"
ok "judge reject: the gate ends it, publish skips"

# --- pause holds publishing, resume releases it ------------------------------------------------
"$AIN_BIN" publishers pause -c "$C" | grep_all "publishers paused" || fail "pause"
"$AIN_BIN" publishers status -c "$C" --json | jq -e '.paused == true' > /dev/null || fail "status paused"
enqueue_video vid-held pass 0.9
run_idle
assert_eq "$(vstatus vid-held)" passed "held video not published"
assert_eq "$(receipts vid-held)" 0 "held: no receipt"
assert_eq "$(sql "SELECT status FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-held')")" waiting "publish parked"
"$AIN_BIN" publishers resume -c "$C" | grep_all "publishers resumed" || fail "resume"
run_idle
assert_eq "$(vstatus vid-held)" published "released video published"
assert_eq "$(receipts vid-held)" 1 "released: one receipt"
ok "pause holds publishing, resume releases it"

# --- an unwritable outbox: retries, then dead with a clear error; no receipt, video intact -------
touch "$T/not-a-dir"
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
  "channels = { outbox = { kind = \"outbox\", dir = \"$T/not-a-dir/outbox\" } }" 'trends = { source = "" }'
enqueue_video vid-bad pass 0.9 ',"publish_attempts":3'
run_idle
PT=$(sql "SELECT id FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-bad')")
assert_eq "$(sql "SELECT status || ' ' || attempts FROM tasks WHERE id = '$PT'")" "dead 3" "publish dead after its attempts"
err=$(sql "SELECT last_error FROM tasks WHERE id = '$PT'")
assert_contains "$err" "EIO: outbox: creating $T/not-a-dir" "clear error"
assert_contains "$err" "Not a directory" "the OS error"
assert_eq "$(receipts vid-bad)" 0 "no receipt"
assert_eq "$(vstatus vid-bad)" flagged "compensation flags the video"
assert_eq "$(sql "SELECT count(*) FROM audit_log WHERE task_id = '$PT' AND to_status = 'ready' AND from_status = 'running'")" 2 "two retries audited"
ok "unwritable outbox: retries, then dead with a clear error; no receipt, video intact"
