# The OpenAI-compatible test server (tests/servers/openai_compat.js) for the tests that talk to
# one (judge_providers.sh, llm_script.sh). Source after lib.bash; sets SERVER and KEY (a fresh
# API key per run) and provides start_server [PORT], stop_server, stats and json_get EXPR.
command -v node > /dev/null || fail "node is required"
SERVER="$AIN_SOURCE_DIR/tests/servers/openai_compat.js"
KEY="sk-test-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

start_server() {
  rm -f "$T/port"
  node "$SERVER" --port "${1:-0}" --key "$KEY" --port-file "$T/port" > "$T/server.log" 2>&1 &
  SERVER_PID=$!
  CLEANUP_PIDS+=("$SERVER_PID")
  for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  [ -s "$T/port" ] || fail "the test server did not start: $(cat "$T/server.log")"
  PORT=$(cat "$T/port")
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null || true; }
stats() { curl -sf "http://127.0.0.1:$PORT/stats"; }
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
