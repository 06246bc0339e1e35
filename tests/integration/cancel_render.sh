#!/usr/bin/env bash
# `ain cancel` stops a running render at once: the engine notices the cancel within
# queue.cancel_check_ms (not at the next lease extension, 10 s away with the default 30 s lease)
# and kills ffmpeg's whole process group (SIGTERM, SIGKILL after a grace). No ffmpeg of this test
# (found by its unique work folder in the arguments) may survive 3 s after the cancel returned.
source "$(dirname "$0")/lib.bash"

head -1 "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" > "$T/trends.jsonl"
cfg="$T/ain.lua"
# A slow preset at full size, so the render is surely still running when we cancel.
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" \
  "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "queue = { lease_ms = 30000, cancel_check_ms = 250 }" \
  "trends = { source = \"$T/trends.jsonl\" }" \
  "media = { width = 720, height = 1280, preset = \"slow\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"

ffmpegs() { pgrep -f "ffmpeg.*$T/var" || true; }

"$AIN_BIN" run -c "$cfg" --until-idle --no-progress > /dev/null 2> "$T/run.log" &
pid=$!
CLEANUP_PIDS+=("$pid")
for _ in $(seq 1 600); do
  [ "$(sql "SELECT status FROM tasks WHERE step = 'render'" 2>/dev/null)" = running ] && [ -n "$(ffmpegs)" ] && break
  sleep 0.1
done
assert_eq "$(sql "SELECT status FROM tasks WHERE step = 'render'")" "running" "render status before the cancel"
[ -n "$(ffmpegs)" ] || fail "no ffmpeg of this test is running"
sleep 1
[ -n "$(ffmpegs)" ] || fail "the render's ffmpeg ended before the cancel (too fast to test)"
dag=$(sql "SELECT dag_id FROM tasks WHERE step = 'render'")
ok "render running with ffmpeg pid(s) $(ffmpegs | tr '\n' ' ')"

c0=$(date +%s%3N)
"$AIN_BIN" cancel -c "$cfg" "$dag" --reason "test cancel" > /dev/null || fail "ain cancel exited $?"
t0=$(date +%s%3N)
ok "ain cancel took $(( t0 - c0 )) ms"
gone_ms=""
while [ $(( $(date +%s%3N) - t0 )) -lt 3000 ]; do
  if [ -z "$(ffmpegs)" ]; then gone_ms=$(( $(date +%s%3N) - t0 )); break; fi
  sleep 0.05
done
[ -n "$gone_ms" ] || fail "ffmpeg still running 3 s after the cancel: $(ffmpegs | tr '\n' ' ')"
ok "every ffmpeg of the task was gone ${gone_ms} ms after ain cancel returned"

# The engine goes idle and exits by itself; the render is cancelled, not retried or failed.
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the engine did not go idle after the cancel"
wait "$pid" || fail "ain run exited $?"
assert_eq "$(sql "SELECT status FROM tasks WHERE step = 'render'")" "cancelled" "render after the cancel"
assert_eq "$(sql "SELECT status FROM dags WHERE id = '$dag'")" "cancelled" "DAG after the cancel"
assert_eq "$(sql "SELECT count(*) FROM publish_receipts")" "0" "nothing was published"
grep -q "task cancelled or taken over; stopping the step" "$T/run.log" || fail "the engine did not log the stop"
[ -z "$(ffmpegs)" ] || fail "an ffmpeg came back after the cancel"
ok "the engine stopped the step and went idle; nothing published"
