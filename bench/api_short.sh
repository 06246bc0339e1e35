#!/usr/bin/env bash
# The test suite's run of bench/api (ctest bench.api_short): `bench_api --short` must run, every
# request must succeed, and every figure must be a sane positive number. It checks NOT the bars
# (timing bars never go in the test suite: a loaded machine would make them flake); those are
# judged by hand from a full run (docs/benchmarks.md).
set -euo pipefail
bin="${AIN_BUILD_DIR:?AIN_BUILD_DIR is the build directory}/bench_api"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$bin" --short >"$out" 2>&1; then
  cat "$out"
  echo "bench_api --short failed" >&2
  exit 1
fi
cat "$out"
fail() { echo "api_short: $*" >&2; exit 1; }
# "<what>: N requests/s, p50 X ms, p99 Y ms ... (R requests, 0 non-2xx, 0 socket errors)"
for what in 'ceiling GET /healthz' 'GET /v1/tasks/{id} (token' 'POST /v1/tasks, 100'; do
  line=$(grep -F "$what" "$out" | head -1) || fail "no line for $what"
  rps=$(sed -E 's/.*: ([0-9]+) requests\/s.*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' <<<"$line")
  [[ "$rps" =~ ^[0-9]+$ && "$rps" -gt 0 ]] || fail "$what: requests/s '$rps' is not positive"
  awk -v p="$p99" 'BEGIN { exit !(p > 0 && p < 10000) }' || fail "$what: p99 '$p99' ms is not sane"
  grep -qF ' 0 non-2xx, 0 socket errors' <<<"$line" || fail "$what: some requests failed: $line"
done
# the constant-rate runs: answered at roughly the rate asked (a loaded box may lag; not a bar)
grep -E 'at 1,000/s' "$out" | while read -r line; do
  rate=$(sed -E 's/.*: ([0-9]+) requests\/s answered.*/\1/' <<<"$line")
  [[ "$rate" =~ ^[0-9]+$ && "$rate" -ge 100 && "$rate" -le 1100 ]] || fail "rate '$rate' in: $line"
  grep -qF ' 0 not 200, 0 socket errors' <<<"$line" || fail "failed requests: $line"
done
drain=$(grep -E '^drain 1: ' "$out") || fail "no drain line"
[[ "$drain" =~ API\ idle\ ([0-9]+)\ tasks/s.*1,000\ GETs/s\ ([0-9]+)\ tasks/s ]] || fail "$drain"
[[ ${BASH_REMATCH[1]} -gt 0 && ${BASH_REMATCH[2]} -gt 0 ]] || fail "drain rates: $drain"
# the four bars are printed, met or not
[[ $(grep -cE ' -> (met|NOT met)$' "$out") -eq 4 ]] || fail "the bars are not all printed"
echo "api_short: ok"
