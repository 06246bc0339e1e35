#!/usr/bin/env bash
# The worker-utilisation gauges an autoscaler reads (docs/deploy.md): ain_steps_capacity is
# shards x queue.max_running from the start; ain_steps_running counts steps in flight: 3 while
# three steps sleep, 0 once they have committed.
. "$(dirname "$0")/lib.bash"
S=$T/scripts
add_persona "$S"
mkdir -p "$S/agents"
cat > "$S/agents/nap.lua" <<'LUA'
return { run = function(payload, ctx) ain.sleep(8000) return { ok = true } end }
LUA
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
C=$T/ain.lua
write_config "$C" "$S" "api = { listen = \"127.0.0.1:$port\", metrics_public = true }" \
  'queue = { max_running = 7 }'
"$AIN_BIN" migrate -c "$C" > /dev/null
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/run.err" &
CLEANUP_PIDS+=("$!")
# Empty (not a failed script: set -e, pipefail) while the server is not listening yet.
gauge() { { curl -s "http://127.0.0.1:$port/metrics" || true; } | sed -n "s/^$1 \([0-9.e+]*\)$/\1/p"; }
wait_gauge() { # NAME VALUE WHAT
  local got=""
  for _ in $(seq 300); do got=$(gauge "$1"); [ "$got" = "$2" ] && return 0; sleep 0.1; done
  fail "$3: $1 is '$got', expected $2"
}
wait_gauge ain_steps_capacity 14 "2 shards x max_running 7"
wait_gauge ain_steps_running 0 "idle"
for _ in 1 2 3; do task_msg nap '{}'; done > "$T/t.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null
wait_gauge ain_steps_running 3 "three steps sleeping"
ok "ain_steps_capacity 14, ain_steps_running 3 while three steps run"
wait_gauge ain_steps_running 0 "after the steps committed"
assert_eq "$(sql "select count(*) from tasks where status = 'succeeded'")" 3 "steps succeeded"
ok "ain_steps_running back to 0 after they committed"
kill -TERM "${CLEANUP_PIDS[0]}"
wait "${CLEANUP_PIDS[0]}" || fail "ain run exited non-zero on SIGTERM"
