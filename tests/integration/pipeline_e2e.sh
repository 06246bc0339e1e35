#!/usr/bin/env bash
# The whole pipeline on one machine with no server: trends (JSON Lines, with a broken line and
# non-ASCII text) -> planner -> script -> tts -> assets -> render -> judge -> review gate ->
# publish to the outbox, at 360x640 to stay fast. Asserts: the broken line is skipped with a
# warning naming it; a persona file that does not compile is rejected, the others work; every published video passes ffprobe (H.264 + AAC, the configured size,
# duration within 0.5 s of the speech); receipts are unique, one per published video; the audit
# is complete for every task; a second run plans nothing new. Then bad tools: a render that
# times out fails with ffmpeg's timeout, retries and is dead-lettered at max_attempts.
source "$(dirname "$0")/lib.bash"

trends="$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl"
# The shipped policies plus a persona file that does not even compile: it must be rejected while
# the other personas keep working.
cp -r "$AIN_SOURCE_DIR/scripts" "$T/scripts"
printf 'return { id = "zz_broken", voice = { name = "en-us" \n' > "$T/scripts/personas/zz_broken.lua"
cfg="$T/ain.lua"
write_config "$cfg" "$T/scripts" \
  "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$trends\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"

"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
ok "ain run --until-idle exits 0"

# The broken line (line 2) is skipped with a warning naming the file and the line.
grep -q "e2e.jsonl:2: line skipped" "$T/run.log" || fail "no warning naming line 2: $(grep -i skipped "$T/run.log" | head -3)"
ok "a malformed trend line is skipped with a warning naming its line"
grep "zz_broken" "$T/run.log" | grep_all -i "reject\|invalid\|error" || fail "the broken persona was not reported: $(grep zz_broken "$T/run.log" | head -2)"
ok "a broken persona file is rejected (the other personas keep working: see below)"

# The judge may send a video to review for what the recogniser hears (pocketsphinx hears the
# espeak voice's "ten minute HIIT" as "get it the": sentence_different), never for an OCR finding
# (asserted: the OCR checks do not flag the engine's pictures, transitions or captions, issue 12).
# A reviewer approves it and a run publishes it, so the rest of this test sees the pipeline's end.
for v in $(sqlite3 "$T/ain.db" "SELECT id || ':' || state_version FROM videos WHERE status = 'in_review'" 2>/dev/null); do
  bad=$(ocr_findings "$(judge_of_video "${v%%:*}")")
  [ -z "$bad" ] || fail "video ${v%%:*} went to review for OCR findings: $bad"
  echo "# video ${v%%:*} went to review; approving it" >&2
  "$AIN_BIN" review approve "${v%%:*}" -c "$cfg" --reviewer it --reason "e2e test" \
    --version "${v##*:}" > /dev/null 2>> "$T/run.log" || fail "approving ${v%%:*}"
  "$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2>> "$T/run.log" ||
    fail "run after the approval exited $?"
done
summary=$(cat "$T/summary.json")
dags=$(echo "$summary" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["dags"]["succeeded"], d["dags"]["failed"], d["videos"]["published"])')
assert_eq "$dags" "2 0 2" "DAGs done, failed, videos published"
assert_contains "$summary" "\"outbox\":\"$T/outbox\"" "summary names the outbox"
ok "summary: 2 DAGs done, 2 videos published, file locations"

# Every published video: H.264 + AAC, 360x640, duration within 0.5 s of its speech.
n=0
for dir in "$T"/outbox/*/; do
  mp4=$(ls "$dir"*.mp4)
  vid=$(basename "$mp4" .mp4)
  probe=$(ffprobe -v error -show_entries stream=codec_type,codec_name,width,height:format=duration \
    -of json "$mp4")
  facts=$(echo "$probe" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = [s for s in d["streams"] if s["codec_type"] == "video"][0]
a = [s for s in d["streams"] if s["codec_type"] == "audio"][0]
print(v["codec_name"], a["codec_name"], "%dx%d" % (v["width"], v["height"]), d["format"]["duration"])')
  read -r vcodec acodec size dur <<< "$facts"
  assert_eq "$vcodec $acodec $size" "h264 aac 360x640" "$mp4 streams"
  speech=$(sql "SELECT json_extract(result, '$.speech_ms') FROM tasks WHERE step = 'render' AND dag_id = '$vid'")
  [ -n "$speech" ] || fail "no render result for video $vid"
  python3 -c "import sys; d=abs($dur*1000-$speech); sys.exit(0 if d <= 500 else 1)" ||
    fail "$mp4: duration $dur s vs speech $speech ms"
  [ -s "$dir$vid.jpg" ] || fail "no thumbnail in $dir"
  n=$((n + 1))
done
assert_eq "$n" "2" "published videos in the outbox"
ok "every published video passes ffprobe (h264+aac, 360x640, duration within 0.5 s of the speech)"

# Receipts: one per published video, unique keys, each naming its outbox folder.
assert_eq "$(sql 'SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT video_id) FROM publish_receipts')" \
  "2|2|2" "receipts, distinct keys, distinct videos"
ok "receipts are unique"

# Audit: every task's history starts at its creation and ends in its current status, with
# strictly increasing state versions.
bad=$(sql "SELECT t.id || ' ' || coalesce(t.step, t.type) FROM tasks t WHERE
  (SELECT from_status FROM audit_log a WHERE a.task_id = t.id ORDER BY id LIMIT 1) IS NOT NULL
  OR (SELECT to_status FROM audit_log a WHERE a.task_id = t.id ORDER BY id DESC LIMIT 1) <> t.status
  OR (SELECT count(*) FROM audit_log a WHERE a.task_id = t.id) < 3
  OR EXISTS (SELECT 1 FROM audit_log a JOIN audit_log b ON b.task_id = a.task_id AND b.id > a.id
             WHERE a.task_id = t.id AND b.state_version <= a.state_version)")
assert_eq "$bad" "" "tasks with an incomplete audit"
assert_eq "$(sql "SELECT count(*) FROM tasks WHERE status <> 'succeeded'")" "0" "tasks not succeeded"
ok "the audit is complete for all $(sql 'SELECT count(*) FROM tasks') tasks"

# Checkpoints: every media step recorded its artifacts, and every recorded object verifies.
assert_eq "$(sql "SELECT count(*) FROM artifacts")" "6" "checkpoints (tts, assets, render x 2)"
for key in $(sql "SELECT value FROM artifacts, json_each(artifacts.keys)"); do
  f="$T/var/objects/$key"
  [ -f "$f" ] || fail "checkpointed object $key missing"
  h=$(sha256sum "$f" | cut -c1-64)
  case "$key" in sha256/${h:0:2}/${h:2}*) ;; *) fail "object $key hashes to $h";; esac
done
ok "checkpoints name objects that exist and verify"

# A second run plans nothing new: a trend is never planned twice for a persona.
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress > /dev/null 2> "$T/run2.log" || fail "second run"
assert_eq "$(sql "SELECT count(*) FROM tasks WHERE type = 'generate_video'")" "2" "generate_video tasks after a re-run"
assert_eq "$(sql "SELECT count(*) FROM planned")" "2" "planned pairs"
ok "a re-run plans nothing new"

# ffmpeg hanging: the render is killed at media.render_timeout_ms, fails with the tool's
# message, retries and is dead-lettered past max_attempts; the DAG fails; nothing is published.
T2="$T/hang"
mkdir -p "$T2"
head -1 "$trends" > "$T2/trends.jsonl"
write_config "$T2/ain.lua" "$AIN_SOURCE_DIR/scripts" \
  "store = { url = \"sqlite:$T2/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "data_dir = \"$T2/var\"" \
  "queue = { retry_base_ms = 100, retry_max_ms = 200 }" \
  "trends = { source = \"$T2/trends.jsonl\" }" \
  "media = { width = 360, height = 640, preset = \"veryslow\", render_timeout_ms = 100 }" \
  "channels = { outbox = { dir = \"$T2/outbox\" } }"
"$AIN_BIN" run -c "$T2/ain.lua" --until-idle --no-progress > /dev/null 2> "$T2/run.log" || fail "run with a hanging render"
row=$(sqlite3 -batch -noheader "$T2/ain.db" "SELECT status, attempts, max_attempts, last_error FROM tasks WHERE step = 'render'")
case "$row" in dead\|2\|2\|ETIMEOUT:*) ;; *) fail "render after timeouts: $row";; esac
assert_contains "$row" "render: timed out" "the error says the render timed out"
assert_eq "$(sqlite3 -batch -noheader "$T2/ain.db" "SELECT status FROM dags")" "failed" "DAG status"
[ -z "$(ls -A "$T2/outbox" 2>/dev/null)" ] || fail "something was published after a failed render"
ok "a hanging ffmpeg: the step fails with the tool's message, retries, is dead-lettered"

# The planner re-plans when the source file changes (the interval here is 10 minutes, so only
# the file watch can explain a second run), and a line appended later is planned once.
T3="$T/watch"
mkdir -p "$T3"
sed -n 1p "$trends" > "$T3/trends.jsonl"
write_config "$T3/ain.lua" "$AIN_SOURCE_DIR/scripts" \
  "store = { url = \"sqlite:$T3/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "data_dir = \"$T3/var\"" \
  "shutdown = { grace_ms = 200 }" \
  "trends = { source = \"$T3/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T3/outbox\" } }"
"$AIN_BIN" run -c "$T3/ain.lua" --no-progress > /dev/null 2> "$T3/run.log" &
pid=$!
CLEANUP_PIDS+=("$pid")
q3() { sqlite3 -batch -noheader "$T3/ain.db" "$1" 2>/dev/null || echo 0; }
for _ in $(seq 1 100); do [ "$(q3 "SELECT count(*) FROM planned")" = 1 ] && break; sleep 0.1; done
assert_eq "$(q3 "SELECT count(*) FROM planned")" "1" "planned after the first run"
sed -n 3p "$trends" >> "$T3/trends.jsonl"
for _ in $(seq 1 100); do [ "$(q3 "SELECT count(*) FROM planned")" = 2 ] && break; sleep 0.1; done
assert_eq "$(q3 "SELECT count(*) FROM planned")" "2" "planned after the file changed"
touch "$T3/trends.jsonl"
sleep 1
kill -TERM "$pid"
# 0: stopped within the grace period; 75: a step was still draining (a speech synthesis on the
# thread pool cannot be interrupted) at grace_ms + 0.9 s, so the engine exited anyway
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 0 ] || [ "$rc" = 75 ] || fail "engine exit after SIGTERM: $rc"
assert_eq "$(q3 "SELECT count(*) FROM tasks WHERE type = 'generate_video'")" "2" "generate_video tasks"
grep -q "planner: planning from" "$T3/run.log" || fail "planner start not logged"
ok "the planner re-plans when the source file changes; nothing is planned twice"
