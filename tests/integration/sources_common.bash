# Shared by the trend-source tests (sources.sh, sources_redis.sh): a copy of the policies whose
# pipeline is one built-in noop step (these tests plan; they do not render), the feeds test
# server, an engine in the background, and waits. Source it after lib.bash.

# test_scripts DIR: scripts/ with a one-step pipeline.
test_scripts() {
  cp -r "$AIN_SOURCE_DIR/scripts" "$1"
  cat > "$1/agents/pipeline.lua" <<'LUA'
-- Test pipeline (tests/integration/sources_common.bash): one built-in noop step per video.
local M = {}
function M.validate(spec) return true end
function M.build(payload, ctx) return { steps = { { name = "noop", handler = "noop" } } } end
return M
LUA
}

# start_feeds: the feeds server (tests/servers/feeds.js) on a free port -> $FEEDS (base URL).
start_feeds() {
  node "$AIN_SOURCE_DIR/tests/servers/feeds.js" --port-file "$T/feeds.port" > "$T/feeds.log" 2>&1 &
  CLEANUP_PIDS+=($!)
  disown $! # killed by lib.bash's cleanup, without bash reporting it
  for _ in $(seq 1 100); do [ -s "$T/feeds.port" ] && break; sleep 0.1; done
  [ -s "$T/feeds.port" ] || fail "feeds server did not start: $(cat "$T/feeds.log")"
  FEEDS="http://127.0.0.1:$(cat "$T/feeds.port")"
}

# feeds_post PATH JSON
feeds_post() { curl -sf -X POST "$FEEDS$1" -d "$2" > /dev/null || fail "feeds server refused $1 $2"; }
# feeds_stat FEED FIELD -> a counter of the server's /stats
feeds_stat() { curl -sf "$FEEDS/stats" | jq -r --arg p "$1" --arg f "$2" '.[$p][$f] // 0'; }

# start_engine CONFIG: `ain run` in the background -> $ENGINE_PID
start_engine() {
  "$AIN_BIN" run -c "$1" --no-progress >> "$T/run.out" 2>> "$T/run.err" &
  ENGINE_PID=$!
  CLEANUP_PIDS+=($ENGINE_PID)
}
# stop_engine: SIGTERM, and the engine must exit 0 (sources, timers and connections all closed).
stop_engine() {
  local rc=0
  kill -TERM "$ENGINE_PID" 2>/dev/null || true
  wait "$ENGINE_PID" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$T/run.err" >&2; fail "the engine exited $rc after SIGTERM"; }
}

# wait_for SECONDS WHAT 'CONDITION': until the shell condition holds (evaluated anew every 0.2 s,
# so $(...) in single quotes runs each time) or fail naming WHAT.
wait_for() {
  local secs=$1 what=$2 cond=$3
  local end=$(( $(date +%s) + secs ))
  while ! eval "$cond" > /dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "--- engine log (last 30 lines)" >&2; tail -30 "$T/run.err" >&2 || true
      fail "timed out after ${secs}s waiting for: $what"
    fi
    sleep 0.2
  done
}

videos() { sql "SELECT count(*) FROM tasks WHERE type = 'generate_video'"; }
# source_field CONFIG NAME FIELD -> the field of `ain sources --json`
source_field() { "$AIN_BIN" sources -c "$1" --json | jq -r --arg n "$2" --arg f "$3" '.[] | select(.name == $n) | .[$f]'; }
