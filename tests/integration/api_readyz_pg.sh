#!/usr/bin/env bash
# /readyz against a real PostgreSQL 15 (started for this test, stopped on every exit path): 200
# while the store answers; once Postgres is stopped, 503 naming the store (an error, or no answer
# within 2 s) while /healthz still answers at once; the API's probe never blocks the server.
. "$(dirname "$0")/lib.bash"
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-api-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_pg; rm -rf "$PG"; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua; LOG=$T/e.err
write_config "$C" "$FIX" 'queue = { poll_ms = 50 }' 'shutdown = { grace_ms = 500 }'
sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$C"
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$LOG" &
pid=$!; CLEANUP_PIDS+=("$pid")
port=""
for _ in $(seq 300); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && grep -q 'engine started' "$LOG" && break
  kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; fail "ain run exited early"; }
  sleep 0.05
done
U=http://127.0.0.1:$port
r=$(curl -s -w ' %{http_code}' "$U/readyz")
assert_eq "${r##* }" 200 "/readyz with Postgres up: $r"
assert_eq "$(jq -r .checks.store <<< "${r% *}")" ok "store check"
ok "/readyz 200 on Postgres"

stop_pg
for i in 1 2 3; do
  start=$(date +%s%N)
  r=$(curl -s --max-time 10 -w ' %{http_code}' "$U/readyz")
  el=$(( ($(date +%s%N) - start) / 1000000 ))
  assert_eq "${r##* }" 503 "/readyz with Postgres stopped (try $i): $r"
  [ "$(jq -r .checks.store <<< "${r% *}")" != ok ] || fail "store ok while Postgres is down"
  [ "$el" -lt 5000 ] || fail "/readyz took ${el} ms"
  h=$(curl -s --max-time 2 -o /dev/null -w '%{http_code} %{time_total}' "$U/healthz")
  assert_eq "${h%% *}" 200 "/healthz with Postgres down"
  awk -v t="${h#* }" 'BEGIN { exit !(t < 0.5) }' || fail "/healthz waited ${h#* } s behind the store"
done
ok "Postgres stopped: /readyz 503 naming the store ($(jq -r .checks.store <<< "${r% *}")) in ${el} ms; /healthz at once"
kill -TERM "$pid" 2>/dev/null || true
set +e; wait "$pid"; set -e
