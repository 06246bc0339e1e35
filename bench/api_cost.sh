#!/usr/bin/env bash
# bench/api_cost.sh: what one request costs the API server process, for GET /healthz (the
# ceiling) and GET /v1/tasks/{id}, as counts a loaded machine changes little: CPU time (task-clock),
# context switches and syscalls per request, each syscall that matters on its own. bench/api gives
# throughput ratios; on a shared box those swing with the load, these do not (much).
#   bench/api_cost.sh [SECS]        (default 5 s per run; needs perf, wrk, curl)
#   AIN_COST_RECORD=DIR bench/api_cost.sh   also `perf record -g` each run into DIR/<route>-<conns>.data
# Runs `ain run` (SQLite, the API with 2 workers, an idle engine), seeds 1,000 tasks through
# POST /v1/tasks and lets the engine run them, then for each route runs wrk (bench/api.lua) twice
# under `perf stat -p <ain>`: 32 connections (throughput: requests arrive while others are in
# flight) and 1 connection (each request alone: the cost a fixed low rate pays). Prints one table.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIN_BIN:-$src/build/ain}
secs=${1:-5}
command -v perf >/dev/null && command -v wrk >/dev/null || { echo "needs perf and wrk" >&2; exit 1; }
T=$(mktemp -d /tmp/ain-api-cost-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export AIN_SECRET_API_JWT=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$T/ain.lua" <<EOF
store = { url = "sqlite:$T/engine.db" }
scripts_dir = "$src/bench/scripts"
data_dir = "$T/var"
log_level = "info" -- the port is in an info line
trends = { source = "" }
queue = { poll_ms = 20 }
api = { listen = "127.0.0.1:0", jwt = { alg = "HS256", secret = "api_jwt" } }
EOF
"$bin" migrate -c "$T/ain.lua" >/dev/null
"$bin" run -c "$T/ain.lua" --no-progress >/dev/null 2>"$T/err" &
pid=$!
port=
for _ in $(seq 200); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$T/err" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$T/err" >&2; exit 1; }
tok=$("$bin" token issue -c "$T/ain.lua" --sub bench --role operator)
ms=$(date +%s%3N)
r=$((RANDOM % 16384))
for b in $(seq 10); do
  body="["
  for i in $(seq 100); do
    id=$(printf '%08x-%04x-7%03x-%04x-%012x' $((ms / 65536 % 4294967296)) $((ms % 65536)) "$b" \
      $((32768 + r)) "$i") # a UUIDv7, as POST /v1/tasks wants
    echo "$id" >>"$T/ids"
    body+="{\"task_id\":\"$id\",\"type\":\"bench_noop\",\"payload\":{\"n\":$i},\"persona_id\":\"bench\",\"state_version\":0}"
    [ "$i" -lt 100 ] && body+=","
  done
  curl -sS --fail-with-body -o "$T/post" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    --data-binary "$body]" "http://127.0.0.1:$port/v1/tasks" || { cat "$T/post" >&2; exit 1; }
done
sleep 3 # the engine runs them; then it is idle
export AIN_WRK_TOKEN=$tok AIN_WRK_IDS=$T/ids
ev=task-clock,context-switches,raw_syscalls:sys_enter
for s in epoll_ctl epoll_wait futex read write writev fcntl pread64; do ev+=",syscalls:sys_enter_$s"; done
printf '%-8s %5s %9s %8s %7s %7s' route conns req/s cpu_us ctxsw sysc
printf ' %6s' epctl epwait futex read write writev fcntl pread
echo
for mode in healthz get; do
  for c in 32 1; do
    export AIN_WRK_MODE=$mode
    rec=()
    if [ -n "${AIN_COST_RECORD:-}" ]; then
      rec=(perf record -q -g -o "$AIN_COST_RECORD/$mode-$c.data" -p "$pid" --)
    fi
    perf stat -x, -o "$T/perf" -e "$ev" -p "$pid" -- "${rec[@]}" \
      wrk -t1 -c$c -d${secs}s -s "$src/bench/api.lua" "http://127.0.0.1:$port" >"$T/wrk" 2>&1
    n=$(sed -nE 's/^AIN_WRK requests=([0-9]+) secs=([0-9.]+).*/\1/p' "$T/wrk")
    dur=$(sed -nE 's/^AIN_WRK requests=([0-9]+) secs=([0-9.]+).*/\2/p' "$T/wrk")
    grep -q 'non2xx=0 errors=0' "$T/wrk" || { cat "$T/wrk" >&2; exit 1; }
    awk -F, -v n="$n" -v dur="$dur" -v mode="$mode" -v c="$c" '
      $3 == "task-clock" { v["cpu"] = $1 * 1000 }            # msec -> us
      $3 != "task-clock" && NF > 2 { sub(/^syscalls:sys_enter_/, "", $3); v[$3] = $1 }
      END {
        printf "%-8s %5d %9.0f %8.1f %7.2f %7.2f", mode, c, n / dur, v["cpu"] / n,
          v["context-switches"] / n, v["raw_syscalls:sys_enter"] / n
        split("epoll_ctl epoll_wait futex read write writev fcntl pread64", k, " ")
        for (i = 1; i <= 8; i++) printf " %6.2f", v[k[i]] / n
        printf "\n"
      }' "$T/perf"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
