#!/usr/bin/env bash
# Side-by-side queue benchmark on one local PostgreSQL 15 (synchronous_commit=on, fsync=on):
# AIN draining N no-op Lua steps through the real engine (build/bench_pgqueue), and the same job
# done by graphile-worker 0.17.3 and pg-boss 10.4.2 (with pg 8.23.1), installed from npm into a
# temporary folder by this script (never committed), plus "Postgres alone": the same claim-100 /
# complete-100 transactions with audit rows through pgbench (pgbench_ref.sh, its own schema, not a
# peer). Prints jobs/s for each, AIN's ratio to the best peer and to Postgres alone, and
# enqueue->start latency p50/p99. Peer drivers (gw.js, pgboss.js, common.js) are
# adapted from the project's research harness (/work/shared/research/peer-bench); method and
# anchor figures: docs/benchmarks.md.
# Usage: bench/peers/run.sh            env: N (20000), REPS (1), AIN_SHARDS (cores),
#        AIN_CLAIM_BATCHES ("64 256"), PEERS_NODE_DIR (reuse an npm folder instead of a new one)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
BUILD="${AIN_BUILD_DIR:-$SRC/build}"
N="${N:-20000}"; REPS="${REPS:-1}"
[ -x "$BUILD/bench_pgqueue" ] || { echo "build first: tools/build.sh (needs $BUILD/bench_pgqueue)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ain-peers-XXXXXX")
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-peers-pg-XXXXXX") # its own folder: the server's user must reach it
cleanup() { "$SRC/tools/pg-test-server.sh" stop "$PG" >/dev/null 2>&1 || true; rm -rf "$WORK" "$PG"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

NODE_DIR="${PEERS_NODE_DIR:-$WORK/node}"
if [ ! -d "$NODE_DIR/node_modules/graphile-worker" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y >/dev/null &&
   npm install --no-audit --no-fund --loglevel=error graphile-worker@0.17.3 pg-boss@10.4.2 pg@8.23.1 >/dev/null)
fi
export NODE_PATH="$NODE_DIR/node_modules"

URL=$("$SRC/tools/pg-test-server.sh" start "$PG")
export PEER_PG_URL="$URL" PGDATA_BENCH="$PG/data"
echo "# postgres $URL synchronous_commit=$(psql -X -t -A "$URL" -c 'show synchronous_commit') fsync=$(psql -X -t -A "$URL" -c 'show fsync'); N=$N reps=$REPS; $(nproc) cores"
OUT="$WORK/results.jsonl"; : > "$OUT"

peer() { (cd "$HERE" && timeout 600 node "$@") >> "$OUT" || echo "FAILED: node $*" >&2; }
for rep in $(seq "$REPS"); do
  for cb in ${AIN_CLAIM_BATCHES:-64 256}; do
    line=$(AIN_BENCH_CLAIM_BATCH=$cb AIN_BENCH_PG_URL="$URL" AIN_BENCH_PG_RESET="'$SRC/tools/pg-test-server.sh' reset '$PG'" \
           AIN_BENCH_HISTORY=1000 "$BUILD/bench_pgqueue" "$N" ${AIN_SHARDS:-} 2>/dev/null | tail -1)
    echo "{\"peer\":\"ain\",\"claim_batch\":$cb,${line#\{}" >> "$OUT"
  done
  bash "$HERE/pgbench_ref.sh" "$URL" "$N" >> "$OUT" || echo "FAILED: pgbench_ref.sh" >&2
  peer gw.js throughput --n "$N" --conc 32
  peer gw.js throughput --n "$N" --conc 32 --tuned
  peer pgboss.js throughput --n "$N" --workers 10 --batch 100
done
peer gw.js latency --conc 10 --count 500 --gap 5
peer pgboss.js latency --workers 10 --batch 100 --count 500 --gap 5

node - "$OUT" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const groups = new Map();
const REF = 'Postgres alone (pgbench reference, 2 conns x batch 100)';
const add = (k, v) => { if (!groups.has(k)) groups.set(k, []); groups.get(k).push(v); };
for (const r of rows) {
  if (r.peer === 'ain') add(`AIN (claim batch ${r.claim_batch})`, r.drain);
  else if (r.peer === 'pgbench_ref') add(REF, r.rate);
  else if (r.kind === 'drain') add(`${r.peer} (${r.conc ? 'conc ' + r.conc : r.workers + ' work() x batch ' + r.batch}, ${r.variant || 'defaults'})`, r.rate);
}
let bestPeer = 0, bestName = '', bestAin = 0, bestAinName = '', ref = 0;
console.log('drain (jobs/s, median of reps):');
for (const [k, v] of groups) {
  const m = med(v);
  console.log(`  ${k.padEnd(66)} ${String(m).padStart(7)}   [${v.join(', ')}]`);
  if (k === REF) ref = m; // the database's ceiling, not a peer
  else if (k.startsWith('AIN')) { if (m > bestAin) { bestAin = m; bestAinName = k; } }
  else if (m > bestPeer) { bestPeer = m; bestName = k; }
}
console.log(`ratio: best AIN (${bestAinName}) / best peer (${bestName}) = ${(bestAin / bestPeer).toFixed(2)}  (bar: >= 3)`);
if (ref) console.log(`AIN / Postgres alone (pgbench reference) = ${(bestAin / ref).toFixed(2)}  (best AIN ${bestAin} / ${ref} jobs/s)`);
console.log('enqueue->start latency (idle worker, 500 jobs 5 ms apart):');
for (const r of rows) {
  if (r.peer === 'ain') console.log(`  AIN (claim batch ${r.claim_batch}): p50 ${r.lat_p50.toFixed(2)} ms, p99 ${r.lat_p99.toFixed(2)} ms`);
  else if (r.kind === 'latency') {
    const l = r.latency;
    console.log(`  ${r.peer} (${r.variant || ''}): p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms`);
  }
}
JS
