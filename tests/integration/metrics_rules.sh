#!/usr/bin/env bash
# deploy/prometheus: `promtool check rules` and `promtool test rules` (each alert fires on the
# series that should fire it and not on its neighbours); a broken copy of the rules must fail the
# unit tests (so they test something). deploy/grafana/ain-slo.json: valid JSON, every panel has a
# PromQL query on the Prometheus datasource, unique panel ids. That every metric the rules and the
# dashboard name is exposed by the engine is checked on a live scrape (metrics_common.bash).
. "$(dirname "$0")/lib.bash"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus)"
D=$AIN_SOURCE_DIR/deploy
promtool check rules "$D/prometheus/ain.rules.yml" > "$T/check.out" 2>&1 ||
  { cat "$T/check.out" >&2; fail "promtool check rules"; }
( cd "$D/prometheus" && promtool test rules ain.rules.test.yml ) > "$T/test.out" 2>&1 ||
  { cat "$T/test.out" >&2; fail "promtool test rules"; }
ok "promtool check rules, promtool test rules: $(grep -o '[0-9]* rules found' "$T/check.out")"

# A rules file whose backlog threshold moved must fail its tests.
mkdir -p "$T/broken"
sed 's/max(ain_review_backlog) > 100/max(ain_review_backlog) > 1000/' "$D/prometheus/ain.rules.yml" \
  > "$T/broken/ain.rules.yml"
cp "$D/prometheus/ain.rules.test.yml" "$T/broken/"
if ( cd "$T/broken" && promtool test rules ain.rules.test.yml ) > "$T/broken.out" 2>&1; then
  fail "the rule tests pass on a broken rule"
fi
grep -q AinReviewBacklogHigh "$T/broken.out" || fail "the failure does not name the alert"
ok "a broken threshold fails promtool test rules"

J=$D/grafana/ain-slo.json
jq -e . "$J" > /dev/null || fail "ain-slo.json is not JSON"
assert_eq "$(jq -r .uid "$J")" ain-slo "dashboard uid"
n=$(jq '.panels | length' "$J")
[ "$n" -ge 10 ] || fail "only $n panels"
assert_eq "$(jq '[.panels[].id] | unique | length' "$J")" "$n" "unique panel ids"
assert_eq "$(jq '[.panels[] | select((.targets | length) == 0 or any(.targets[]; (.expr // "") == ""))] | length' "$J")" 0 "every panel has queries"
assert_eq "$(jq '[.panels[].datasource.type] | unique' -c "$J")" '["prometheus"]' "datasource"
for title in "Queue latency SLO" "Publish success rate" "Review backlog" "Node heartbeat age" "Dead letters"; do
  jq -e --arg t "$title" 'any(.panels[]; .title | startswith($t))' "$J" > /dev/null || fail "no panel '$title'"
done
# every expression parses as PromQL (promtool evaluates it against an empty rule test)
{
  echo "rule_files: []"
  echo "evaluation_interval: 1m"
  echo "tests:"
  echo "  - interval: 1m"
  echo "    input_series: []"
  echo "    promql_expr_test:"
  jq -r '.panels[].targets[].expr' "$J" | while read -r e; do
    printf '      - expr: %s\n        eval_time: 1m\n        exp_samples: []\n' "$(jq -Rn --arg e "$e" '$e')"
  done
} > "$T/dash.test.yml"
promtool test rules "$T/dash.test.yml" > "$T/dash.out" 2>&1 || { cat "$T/dash.out" >&2; fail "a dashboard query does not parse"; }
ok "ain-slo.json: $n panels, each query parses as PromQL"
