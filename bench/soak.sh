#!/usr/bin/env bash
# The soak benchmark on both stores (docs/benchmarks.md, "bench/soak"): N tasks (1,000,000) through
# the real engine on SQLite (a file in a temporary folder) and then on a throwaway PostgreSQL 15
# (tools/pg-test-server.sh), each printing a sample every AIN_SOAK_SAMPLE_MS (10 s) and a verdict
# on RSS growth; exits non-zero if either run fails.
# Usage: bench/soak.sh [N] [sqlite|postgres|both]      env: AIN_SOAK_* (bench/soak.c), AIN_BUILD_DIR
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${AIN_BUILD_DIR:-$SRC/build}"
N="${1:-1000000}"; STORES="${2:-both}"
[ -x "$BUILD/bench_soak" ] || { echo "build first: tools/build.sh (needs $BUILD/bench_soak)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ain-soak-XXXXXX")
PG=""
cleanup() {
  if [ -n "$PG" ]; then "$SRC/tools/pg-test-server.sh" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$PG"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rc=0
if [ "$STORES" = sqlite ] || [ "$STORES" = both ]; then
  echo "## SQLite"
  AIN_SOAK_URL="sqlite:$WORK/soak.db" "$BUILD/bench_soak" "$N" 2>"$WORK/sqlite.err" || { rc=1; cat "$WORK/sqlite.err" >&2; }
fi
if [ "$STORES" = postgres ] || [ "$STORES" = both ]; then
  PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-soak-pg-XXXXXX") # its own folder: the server's user must reach it
  URL=$("$SRC/tools/pg-test-server.sh" start "$PG")
  echo; echo "## PostgreSQL ($(psql -X -t -A "$URL" -c 'show server_version'), synchronous_commit=$(psql -X -t -A "$URL" -c 'show synchronous_commit'))"
  AIN_SOAK_URL="$URL" "$BUILD/bench_soak" "$N" 2>"$WORK/pg.err" || { rc=1; cat "$WORK/pg.err" >&2; }
fi
exit $rc
