#!/usr/bin/env bash
# bench/pgfinish: server time per task of FINISH for batches of plain successes, three ways, on
# one throwaway PostgreSQL 15 (tools/pg-test-server.sh):
#   json+lock    ain_finish_batch (006): JSON items, rows locked in id order, then UPDATE
#   json         the same without the locking pass (json_nolock.sql, a bench-only function)
#   arrays       ain_finish_ok (009): parallel arrays, no locking pass (what the engine sends)
# Each variant finishes 300 batches of B tasks (default 64) of 40,000 running tasks inside one
# DO block (clock_timestamp around the loop; building the batch parameters is included, ~0.4 µs
# per task). Variants are interleaved ROUNDS times (default 3). Prints µs per task for every run
# and each variant's median as a ratio to arrays.
# Usage: bench/pgfinish/run.sh [ROUNDS] [B]      (needs build/ain: tools/build.sh)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
BUILD="${AIN_BUILD_DIR:-$SRC/build}"
ROUNDS="${1:-3}"; B="${2:-64}"
[ -x "$BUILD/ain" ] || { echo "build first: tools/build.sh" >&2; exit 1; }
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pgfinish-XXXXXX")
trap '"$SRC/tools/pg-test-server.sh" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$PG"' EXIT
URL=$("$SRC/tools/pg-test-server.sh" start "$PG")
AIN_DATABASE_URL="$URL" "$BUILD/ain" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$URL" -f "$HERE/json_nolock.sql"

# The loop: $1 builds the batch's parameters from ids (SQL expression list), $2 finishes it.
variant() {
  local name=$1 build=$2 call=$3
  psql -X -q -v ON_ERROR_STOP=1 "$URL" -f "$HERE/setup.sql" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 "$URL" 2>&1 <<SQL | sed -n 's/.*NOTICE:  //p'
DO \$\$
DECLARE t0 timestamptz; b int; n int; items json; ids text[]; vers bigint[]; res text[];
        det text[];
BEGIN
  t0 := clock_timestamp();
  FOR b IN 0..299 LOOP
    SELECT $build FROM (SELECT '0193' || lpad(g::text, 8, '0') || '-aaaa-7bbb-8ccc-dddddddddddd'
                                 AS id FROM generate_series(b * $B + 1, b * $B + $B) g) x;
    $call
  END LOOP;
  RAISE NOTICE '$name %', round((extract(epoch FROM clock_timestamp() - t0) * 1e6
                                 / (300 * $B))::numeric, 2);
END \$\$;
SQL
}
JSON_BUILD="json_agg(json_build_object('id', id, 'ver', 1, 'kind', 0, 'result', '{\"ok\":true}')) INTO items"
ARR_BUILD="array_agg(id), array_agg(1::bigint), array_agg('{\"ok\":true}'::text), array_agg(NULL::text) INTO ids, vers, res, det"
OUT=$(mktemp)
echo "# bench/pgfinish: $ROUNDS rounds, batches of $B, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  variant json+lock "$JSON_BUILD" "SELECT count(*) INTO n FROM ain_finish_batch('bench', 5, items);" | tee -a "$OUT"
  variant json "$JSON_BUILD" "SELECT bench_finish_json_nolock('bench', 5, items) INTO n;" | tee -a "$OUT"
  variant arrays "$ARR_BUILD" "SELECT count(*) INTO n FROM ain_finish_ok('bench', 5, ids, vers, res, det);" | tee -a "$OUT"
done
med() { grep "^$1 " "$OUT" | awk '{print $2}' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
base=$(med arrays)
for v in json+lock json arrays; do
  m=$(med "$v")
  awk -v v="$v" -v m="$m" -v b="$base" 'BEGIN {printf "median %-10s %6.2f us/task  ratio to arrays %.2f\n", v, m, m / b}'
done
rm -f "$OUT"
