#!/usr/bin/env bash
# S3 benchmark (issue 15; figures in docs/benchmarks.md): PUT and GET MB/s of a SIZE_MB object
# (default 100) through AIN's S3 object store vs `curl` alone (the same SigV4 signing, no hashing,
# no checks), against the same local s3rver (tests/servers/s3_verify.js --direct: no verifying
# proxy, which would buffer bodies), interleaved ROUNDS times (default 3); medians. Bar: AIN's
# MB/s >= 0.8 x curl's for both. AIN's put reads the file once more than curl (SHA-256 for the
# key and MD5 for the ETag check) and sends a HEAD first; its get hashes while it writes.
# Usage: bench/s3.sh [SIZE_MB=100] [ROUNDS=3] [--check] (--check: exit 1 when a bar is missed).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SIZE=${1:-100}
ROUNDS=${2:-3}
CHECK=${3:-}
BIN=${AIN_BENCH_S3:-$SRC/build/bench_s3}
B=$(mktemp -d "${TMPDIR:-/tmp}/ain-bench-s3-XXXXXX")
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$B"
}
trap cleanup EXIT
mkdir -p "$B/s3" "$B/cache"
node tests/servers/s3_verify.js --dir "$B/s3" --bucket ain-bench --direct > "$B/port" &
PID=$!
for _ in $(seq 100); do [ -s "$B/port" ] && break; sleep 0.1; done
PORT=$(sed 's/.*"proxy":\([0-9]*\).*/\1/' "$B/port")
EP=http://127.0.0.1:$PORT
head -c $((SIZE << 20)) /dev/urandom > "$B/obj"
SIG=(--aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${SIZE} MiB object, $ROUNDS rounds, $(curl --version | head -1 | cut -d' ' -f1-2)"
declare -a CP CG AP AG
for r in $(seq "$ROUNDS"); do
  sync
  t=$(curl -sS -o /dev/null -w '%{time_total}' "${SIG[@]}" -T "$B/obj" "$EP/ain-bench/curl/obj")
  CP+=("$t")
  t=$(curl -sS -o "$B/curl.out" -w '%{time_total}' "${SIG[@]}" "$EP/ain-bench/curl/obj")
  CG+=("$t")
  cmp -s "$B/obj" "$B/curl.out" || { echo "curl GET differs" >&2; exit 1; }
  rm -rf "$B/cache"
  out=$("$BIN" "$EP" "$B/obj" "$B/cache")
  AP+=("$(echo "$out" | awk '/^put_s/{print $2}')")
  AG+=("$(echo "$out" | awk '/^get_s/{print $2}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mbps() { awk -v s="$SIZE" -v t="$1" 'BEGIN {printf "%.0f", s / t}'; }
fail=0
for op in PUT GET; do
  if [ $op = PUT ]; then c=$(median "${CP[@]}"); a=$(median "${AP[@]}"); else c=$(median "${CG[@]}"); a=$(median "${AG[@]}"); fi
  ratio=$(awk -v a="$a" -v c="$c" 'BEGIN {printf "%.2f", c / a}')
  ok=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.8) ? "ok" : "MISSED"}')
  [ "$ok" = ok ] || fail=1
  echo "$op: ain $(mbps "$a") MB/s (${a} s), curl $(mbps "$c") MB/s (${c} s), ain/curl $ratio (bar >= 0.8: $ok)"
done
[ "$CHECK" = --check ] && [ $fail = 1 ] && exit 1
exit 0
