# Shared by metrics_prometheus.sh (SQLite) and metrics_prometheus_pg.sh (Postgres), sourced after
# lib.bash and api_common.bash with $C a config whose store is set: a real engine runs N noop
# tasks and holds M more that are due in a year (ready, never claimed); `promtool check metrics`
# checks a live scrape; a real Prometheus (Debian's, on a free loopback port, its own storage,
# a 1 s scrape with a bearer token file) scrapes the engine, and PromQL through its HTTP API
# returns what the test caused: N succeeded, a queue depth of M, the review backlog, the node's
# heartbeat age. The scrape's metric names also check deploy/ (rules and dashboard).
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus; tools/setup.sh --test)"
command -v prometheus >/dev/null || fail "prometheus missing (Debian package prometheus)"
N=${N:-25}
M=${M:-7}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# promql QUERY: the first sample's value, "" when the result is empty.
promql() {
  curl -s --get --data-urlencode "query=$1" "$P/api/v1/query" |
    jq -r 'if .status != "success" then "error: \(.error)" else (.data.result[0].value[1] // "") end'
}

# wait_promql QUERY WANT WHAT: until the query returns WANT (120 s: scrapes every 1 s, the
# recording rules every 30 s).
wait_promql() {
  local got=""
  for _ in $(seq 480); do
    got=$(promql "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.25
  done
  fail "$3: PromQL '$1' returned '$got', expected '$2'"
}

run_metrics_test() {
  local later=$(( $(date +%s%3N) + 365 * 86400000 ))
  : > "$T/t.jsonl"
  for _ in $(seq "$N"); do task_msg noop '{}' >> "$T/t.jsonl"; done
  for _ in $(seq "$M"); do
    printf '{"task_id":"%s","type":"later","payload":{},"persona_id":"tester","state_version":0,"run_at":%s}\n' \
      "$(uuid7)" "$later" >> "$T/t.jsonl"
  done
  "$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null
  api_start "$C"

  # --- /metrics itself: auth, content type, promtool --------------------------------------------
  r=$(curl -s -o /dev/null -w '%{http_code}' "$U/metrics")
  assert_eq "$r" 401 "/metrics without a token (api.metrics_public is false)"
  r=$(call "$V" "/metrics?x=1"); expect "$r" 400 query "/metrics with a query"
  r=$(call "$V" /metrics -X POST); expect "$r" 405 method "POST /metrics"
  for _ in $(seq 400); do
    curl -s -H "Authorization: Bearer $V" "$U/metrics" > "$T/scrape.txt"
    grep -q "^ain_tasks_finished_total{type=\"noop\",status=\"succeeded\"} $N\$" "$T/scrape.txt" && break
    sleep 0.05
  done
  grep -q "^ain_tasks_finished_total{type=\"noop\",status=\"succeeded\"} $N\$" "$T/scrape.txt" ||
    fail "the scrape never counted $N succeeded noops: $(grep ain_tasks_finished "$T/scrape.txt")"
  ctype=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $V" "$U/metrics")
  assert_eq "$ctype" "text/plain; version=0.0.4; charset=utf-8" "content type"
  promtool check metrics < "$T/scrape.txt" > "$T/promtool.out" 2>&1 ||
    { cat "$T/promtool.out" >&2; fail "promtool check metrics refused the scrape"; }
  [ ! -s "$T/promtool.out" ] || { cat "$T/promtool.out" >&2; fail "promtool check metrics warned"; }
  grep -q "^ain_queue_depth{type=\"later\",status=\"ready\"} $M\$" "$T/scrape.txt" ||
    fail "queue depth of $M not in the scrape: $(grep ain_queue_depth "$T/scrape.txt")"
  grep -q '^ain_metrics_store_up 1$' "$T/scrape.txt" || fail "store gauges not read"
  grep -q '^ain_task_queue_latency_seconds_count{type="noop"} '"$N"'$' "$T/scrape.txt" ||
    fail "queue latency not observed for every noop"
  ok "/metrics: 401 without a token, 400, 405; promtool check metrics passes a live scrape"

  # --- every metric the rules and the dashboard use exists in the exposition -----------------
  grep -o '^# TYPE [a-z_]*' "$T/scrape.txt" | cut -d' ' -f3 | sort -u > "$T/names"
  # the Postgres-only gauges are listed by metrics.md; the dashboard may use them
  printf '%s\n' ain_store_dead_tuples ain_store_oldest_transaction_age_seconds >> "$T/names"
  expand_names() { # family names plus their histogram series
    while read -r n; do echo "$n"; echo "${n}_bucket"; echo "${n}_sum"; echo "${n}_count"; done
  }
  sort -u "$T/names" | expand_names > "$T/allowed"
  used=$( (jq -r '.. | .expr? // empty' "$AIN_SOURCE_DIR/deploy/grafana/ain-slo.json"
           grep -h 'expr:' "$AIN_SOURCE_DIR"/deploy/prometheus/*.rules.yml) |
         grep -o 'ain_[a-z_]*' | sort -u)
  recorded=$(grep -h 'record:' "$AIN_SOURCE_DIR"/deploy/prometheus/*.rules.yml | awk '{print $NF}' | sort -u)
  [ -n "$used" ] || fail "no metric found in deploy/"
  for n in $used; do
    grep -qx "$n" "$T/allowed" || grep -qx "$n" <<< "$recorded" ||
      fail "deploy/ uses $n, which the engine does not expose"
  done
  ok "deploy/: every metric the rules and dashboard use is exposed ($(wc -w <<< "$used") names)"

  # --- a real Prometheus scrapes it --------------------------------------------------------------
  local pport; pport=$(free_port)
  P=http://127.0.0.1:$pport
  printf '%s' "$V" > "$T/token"
  cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $AIN_SOURCE_DIR/deploy/prometheus/ain.rules.yml
scrape_configs:
  - job_name: ain
    authorization:
      credentials_file: $T/token
    static_configs:
      - targets: ['${U#http://}']
YML
  promtool check config "$T/prometheus.yml" > /dev/null || fail "promtool check config"
  prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$pport" > "$T/prom.log" 2>&1 &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 200); do curl -sf "$P/-/ready" > /dev/null && break; sleep 0.1; done
  curl -sf "$P/-/ready" > /dev/null || { tail -20 "$T/prom.log" >&2; fail "prometheus not ready"; }
  wait_promql 'up{job="ain"}' 1 "the target is up"
  wait_promql 'sum(ain_tasks_finished_total{status="succeeded",type="noop"})' "$N" "N succeeded"
  wait_promql 'sum(ain_queue_depth{type="later",status="ready"})' "$M" "queue depth M"
  wait_promql 'ain_review_backlog' 0 "review backlog"
  wait_promql 'count(ain_node_heartbeat_age_seconds{state="alive"} < 60)' 1 "one live node"
  wait_promql 'sum(ain_tasks_claimed_total{type="noop"})' "$N" "claims"
  wait_promql 'count(ain_policy_version_info) > 0' "$(promql 'count(ain_policy_version_info)')" "policy versions"
  # the recording rules evaluate against the live data
  wait_promql 'ain:queue_depth:sum{status="ready"}' "$M" "recording rule ain:queue_depth:sum"
  ok "Prometheus scraped the engine: $N succeeded, depth $M, backlog 0, one live node, rules evaluate"
}
