#!/usr/bin/env bash
# The Redis Streams trend source (docs/sources.md) against a real redis-server on a free loopback
# port: XREADGROUP delivers, XACK only after the planner's commit (while the planner cannot
# commit, the entries stay pending), a kill -9 between read and ack leaves them pending and a
# restarted engine re-reads its own pending entries and plans each exactly once; entries of a
# consumer that died are claimed by another (XAUTOCLAIM); a bad entry is refused and acked.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/sources_common.bash"
command -v redis-server > /dev/null || { echo "skip: redis-server not installed"; exit 77; }

RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  > "$T/redis.log" 2>&1 &
CLEANUP_PIDS+=($!)
disown $!
rcli() { redis-cli -p "$RPORT" "$@"; }
for _ in $(seq 1 100); do [ "$(rcli ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(rcli ping)" = PONG ] || fail "redis-server did not start: $(cat "$T/redis.log")"
pending() { rcli XPENDING trends ain | head -1; }

test_scripts "$T/scripts"
mv "$T/scripts/personas" "$T/personas.off" # the planner cannot plan: nothing may be acked
config() { # CONSUMER CLAIM_IDLE_MS
  write_config "$T/ain-$1.lua" "$T/scripts" 'trends = { source = "", interval_ms = 600000 }' \
    "sources = { { name = \"push\", kind = \"redis\", url = \"redis://127.0.0.1:$RPORT\",
      stream = \"trends\", group = \"ain\", consumer = \"$1\", claim_idle_ms = $2, batch = 2,
      timeout_ms = 2000, backoff_base_ms = 200, backoff_max_ms = 1000 } }"
}
config a 600000
config b 300
"$AIN_BIN" migrate -c "$T/ain-a.lua" > /dev/null || fail "migrate"

rcli XADD trends '*' title "New AI chip doubles laptop speed" tags "ai,chips" > /dev/null
rcli XADD trends '*' json '{"title":"Pasta recipe with five ingredients","tags":["food","recipe"],"score":70}' > /dev/null
rcli XADD trends '*' title "Marathon training plan for beginners" tags "fitness,workout" > /dev/null
rcli XADD trends '*' title "no score" score high > /dev/null # refused: score is not a number

# --- read, not committed: pending, never acked; then kill -9
start_engine "$T/ain-a.lua"
wait_for 20 "three entries delivered and pending" '[ "$(pending)" = 3 ]'
grep -q 'entry .* refused: score: expected a number (acknowledged, not planned)' "$T/run.err" || fail "the bad entry is refused and acked"
sleep 1
assert_eq "$(pending)" 3 "pending entries while the planner cannot commit"
assert_eq "$(videos)" 0 "videos before the crash"
kill -9 "$ENGINE_PID"; wait "$ENGINE_PID" 2>/dev/null || true
ok "XACK waits for the planner's commit: 3 entries pending at the kill -9"

# --- restart (same consumer): its own pending entries are read again and planned once
mv "$T/personas.off" "$T/scripts/personas"
start_engine "$T/ain-a.lua"
wait_for 30 "three videos planned after the restart" '[ "$(videos)" -ge 3 ]'
wait_for 10 "every entry acked" '[ "$(pending)" = 0 ]'
sleep 1
assert_eq "$(videos)" 3 "videos after the restart (each entry once)"
stop_engine
ok "a restarted consumer re-reads its pending entries: planned exactly once, then acked"

# --- a consumer that died: another claims its entries (XAUTOCLAIM)
mv "$T/scripts/personas" "$T/personas.off"
start_engine "$T/ain-a.lua"
sleep 1
rcli XADD trends '*' title "Kyoto travel guide for the festival" tags "travel,japan" > /dev/null
rcli XADD trends '*' title "Café bread baking for beginners" tags "food,baking" > /dev/null
wait_for 20 "two new entries pending at consumer a" '[ "$(pending)" = 2 ]'
kill -9 "$ENGINE_PID"; wait "$ENGINE_PID" 2>/dev/null || true
mv "$T/personas.off" "$T/scripts/personas"
start_engine "$T/ain-b.lua"
wait_for 30 "consumer b claimed and planned them" '[ "$(videos)" -ge 5 ]'
wait_for 10 "every entry acked" '[ "$(pending)" = 0 ]'
grep -q 'source push: claimed 2 pending entries idle over 300 ms' "$T/run.err" || fail "the claim is logged"
sleep 1
assert_eq "$(videos)" 5 "videos after the claim"
assert_eq "$(sql "SELECT count(DISTINCT json_extract(payload, '\$.trend_key')) FROM tasks WHERE type = 'generate_video'")" 5 "distinct trends"
out=$("$AIN_BIN" sources -c "$T/ain-b.lua" --json)
assert_eq "$(echo "$out" | jq -r '.[0].health')" ok "health"
test "$(echo "$out" | jq -r '.[0].items')" -ge 2 || fail "items counted: $out"
assert_eq "$(echo "$out" | jq -r '.[0].cursor | test("^[0-9]+-[0-9]+$")')" true "cursor is an entry id"
stop_engine
ok "entries of a dead consumer are claimed by another and planned once"

# --- redis gone: the source fails with the reason and the engine keeps running
joined() { grep -c 'consumer b of group ain' "$T/run.err" || true; }
before_join=$(joined)
start_engine "$T/ain-b.lua"
wait_for 20 "consumer b connected again" '[ "$(joined)" -gt "$before_join" ]'
rcli shutdown nosave > /dev/null 2>&1 || true
wait_for 20 "the source reports the lost connection" '[ "$(source_field "$T/ain-b.lua" push failures)" -ge 1 ]'
kill -0 "$ENGINE_PID" || fail "the engine died with redis"
stop_engine
assert_contains "$(source_field "$T/ain-b.lua" push last_error)" "redis" "the error names redis"
# and an engine that starts while redis is down: refused (or unanswered) connects back off
errs=$(source_field "$T/ain-b.lua" push errors)
start_engine "$T/ain-b.lua"
wait_for 30 "connects to a stopped redis fail" '[ "$(source_field "$T/ain-b.lua" push errors)" -ge $((errs + 2)) ]'
kill -0 "$ENGINE_PID" || fail "the engine died without redis"
stop_engine
assert_contains "$(source_field "$T/ain-b.lua" push last_error)" "cannot connect to redis://127.0.0.1:$RPORT" "the error names the server"
ok "a lost redis is a failing source, not a failing engine"
