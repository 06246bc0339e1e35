#!/usr/bin/env bash
# A slow collector, then a dead one (docs/tracing.md): steps never wait for the span exporter.
#   1. The receiver answers every export after 20 s (the exporter's request timeout is 3 s, its
#      queue holds 50 spans): 600 noop tasks drain as fast as without tracing (their claims and
#      finishes span well under 10 s in the store), the spans that do not fit are dropped and
#      counted in /metrics (ain_trace_spans_dropped_total{reason="queue_full"}), and SIGTERM
#      stops the engine within tracing.shutdown_timeout_ms (+ ~1 s) of the shards.
#   2. Nothing listens on the endpoint: every batch fails at once, dropped as export_failed,
#      ain_trace_export_failures_total counts the requests, and all tasks still succeed.
source "$(dirname "$0")/lib.bash"
command -v node > /dev/null || fail "node is required"
N=600

# noop_msgs N FILE: N noop task messages (UUIDv7 ids), made in one process (lib.bash's task_msg
# forks five tools per message: minutes for hundreds on a loaded box)
noop_msgs() {
  python3 - "$1" > "$2" <<'PY'
import json, os, sys, time
for i in range(int(sys.argv[1])):
    ms = int(time.time() * 1000)
    r = os.urandom(10).hex()
    u = "%08x-%s-7%s-%x%s-%s" % (ms >> 16, "%04x" % (ms & 0xffff), r[:3], (int(r[3], 16) & 3) | 8, r[4:7], r[7:19])
    print(json.dumps({"task_id": u, "type": "noop", "payload": {}, "persona_id": "tester", "state_version": 0}))
PY
}

node "$AIN_SOURCE_DIR/tests/servers/otlp_receiver.js" --port-file "$T/otlp.port" > "$T/otlp.log" 2>&1 &
rpid=$!
CLEANUP_PIDS+=("$rpid")
for _ in $(seq 200); do [ -s "$T/otlp.port" ] && break; sleep 0.05; done
[ -s "$T/otlp.port" ] || fail "the OTLP receiver did not start: $(cat "$T/otlp.log")"
OTLP=http://127.0.0.1:$(cat "$T/otlp.port")
curl -sf -X POST -d '{"delay_ms":20000}' "$OTLP/control" > /dev/null || fail "receiver control"

add_persona "$T/scripts"
cfg="$T/ain.lua"
write_config "$cfg" "$T/scripts" \
  "api = { listen = \"127.0.0.1:0\", metrics_public = true }" \
  "tracing = { enabled = true, endpoint = \"$OTLP\", batch_size = 10, queue_size = 50, flush_interval_ms = 20, timeout_ms = 3000, shutdown_timeout_ms = 500 }"
noop_msgs "$N" "$T/t.jsonl"
"$AIN_BIN" enqueue -c "$cfg" "$T/t.jsonl" > /dev/null

"$AIN_BIN" run -c "$cfg" --no-progress > /dev/null 2> "$T/e.err" &
pid=$!
CLEANUP_PIDS+=("$pid")
port=""
for _ in $(seq 300); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$T/e.err" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$T/e.err" >&2; fail "no api port"; }
U=http://127.0.0.1:$port
for _ in $(seq 600); do
  curl -s "$U/metrics" > "$T/scrape.txt" || true
  grep -q "^ain_tasks_finished_total{type=\"noop\",status=\"succeeded\"} $N\$" "$T/scrape.txt" && break
  sleep 0.1
done
grep -q "^ain_tasks_finished_total{type=\"noop\",status=\"succeeded\"} $N\$" "$T/scrape.txt" ||
  fail "the $N noops did not all succeed: $(grep ain_tasks_finished "$T/scrape.txt")"
# The drain's own time, from the store: first claim to last finish.
drain_ms=$(sql "SELECT max(updated_at) - min(created_at) FROM tasks")
[ "$drain_ms" -lt 10000 ] || fail "the drain took $drain_ms ms with a slow collector (steps waited?)"
dropped=$(sed -n 's/^ain_trace_spans_dropped_total{reason="queue_full"} \([0-9]*\)$/\1/p' "$T/scrape.txt")
[ -n "$dropped" ] && [ "$dropped" -ge $((N - 50 - 10 - 10)) ] ||
  fail "queue_full drops: '$dropped' (want at least $N minus a queue and two batches): $(grep ain_trace "$T/scrape.txt")"
grep -q '^ain_trace_spans_exported_total 0$' "$T/scrape.txt" || fail "spans exported to a collector that never answered"
grep -q '^ain_trace_queue_spans [0-9]' "$T/scrape.txt" || fail "no ain_trace_queue_spans gauge"
ok "a collector that answers after 20 s: $N steps drained in $drain_ms ms, $dropped spans dropped and counted"

t0=$(date +%s%3N)
kill -TERM "$pid"
wait "$pid" || fail "the engine exited $? on SIGTERM: $(tail -3 "$T/e.err")"
stop_ms=$(( $(date +%s%3N) - t0 ))
# at most: the shutdown flush (0.5 s, the request in flight aborted within ~1 s), plus a loaded box
[ "$stop_ms" -lt 9000 ] || fail "stopping took $stop_ms ms with a slow collector"
grep -q 'tracing: exporting .* failed: ' "$T/e.err" || fail "no log line about the slow collector"
ok "SIGTERM with a slow collector: stopped in $stop_ms ms (the shutdown flush is bounded by shutdown_timeout_ms)"

# --- 2. the collector is gone -------------------------------------------------------------------
kill -9 "$rpid"
wait "$rpid" 2> /dev/null || true
noop_msgs 100 "$T/t2.jsonl"
"$AIN_BIN" enqueue -c "$cfg" "$T/t2.jsonl" > /dev/null
"$AIN_BIN" run -c "$cfg" --no-progress > /dev/null 2> "$T/e2.err" &
pid=$!
CLEANUP_PIDS+=("$pid")
port=""
for _ in $(seq 300); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$T/e2.err" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$T/e2.err" >&2; fail "no api port"; }
U=http://127.0.0.1:$port
for _ in $(seq 600); do
  curl -s "$U/metrics" > "$T/scrape2.txt" || true
  failed=$(sed -n 's/^ain_trace_spans_dropped_total{reason="export_failed"} \([0-9]*\)$/\1/p' "$T/scrape2.txt")
  full=$(sed -n 's/^ain_trace_spans_dropped_total{reason="queue_full"} \([0-9]*\)$/\1/p' "$T/scrape2.txt")
  grep -q '^ain_tasks_finished_total{type="noop",status="succeeded"} 100$' "$T/scrape2.txt" &&
    [ $(( ${failed:-0} + ${full:-0} )) -eq 100 ] && break
  sleep 0.1
done
grep -q '^ain_tasks_finished_total{type="noop",status="succeeded"} 100$' "$T/scrape2.txt" ||
  fail "the 100 noops did not all succeed with the collector down"
# a burst of 100 spans into a queue of 50: some are dropped at the queue, the rest by the failures
assert_eq "$(( ${failed:-0} + ${full:-0} ))" 100 "spans dropped (export_failed + queue_full) with the collector down"
[ "${failed:-0}" -ge 10 ] || fail "only '${failed:-0}' spans dropped as export_failed"
grep -q '^ain_trace_export_failures_total [1-9]' "$T/scrape2.txt" || fail "no failed export requests counted"
grep -q "tracing: exporting .* failed: Couldn't connect" "$T/e2.err" || fail "no log line about the dead collector"
[ "$(grep -c 'tracing: exporting' "$T/e2.err")" -eq 1 ] || fail "the outage was logged more than once"
kill -TERM "$pid"
wait "$pid" || fail "the engine exited $? on SIGTERM"
ok "a dead collector: every step succeeds, all 100 spans dropped and counted ($failed export_failed), one log line"
