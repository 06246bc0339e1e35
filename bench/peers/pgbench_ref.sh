#!/usr/bin/env bash
# "Postgres alone": the raw-database ceiling for the queue work AIN does, measured with pgbench on
# the same server as the side-by-side run (bench/peers/run.sh), so that AIN's drain rate can be
# read as a fraction of it.
#
# In its own schema pgbench_ref (never touches AIN's public schema): a minimal jobs table shaped
# like AIN's tasks (text id, status, payload, lease_owner, lease_until, attempts, run_at, priority,
# result, updated_at) with the same partial index for claim order, an index for completion by
# owner, and an audit table (bigserial pkey, index on job_id). N ready jobs are bulk-loaded and
# VACUUM ANALYZEd; then pgbench, 2 connections (-c 2 -j 2 -n -M prepared), runs a script of two
# transactions, each one statement committed on its own (synchronous_commit as the server has it):
#   claim:    UPDATE ... WHERE id IN (SELECT id ... WHERE status='ready'
#             ORDER BY priority DESC, run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED)
#             -> running, lease_owner = 'c<client>-<counter>', one audit row per job
#   complete: UPDATE ... SET status='succeeded' WHERE lease_owner = <that owner> AND
#             status='running', one audit row per job
# Each client runs the script ceil(N / 200) times, which drains N jobs. The rate is the number of
# jobs that reached 'succeeded' divided by the wall time of the pgbench run.
#
# Usage: bench/peers/pgbench_ref.sh URL [N]      (N defaults to 100000)
# Prints one line of JSON: {"peer":"pgbench_ref","kind":"drain","rate":...,"conns":2,"batch":100,...}
set -euo pipefail

URL=${1:?usage: $0 POSTGRES_URL [N]}
N=${2:-100000}
CONNS=2
BATCH=100
SCHEMA=pgbench_ref

PGBENCH=/usr/lib/postgresql/15/bin/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench || true)
if [ -z "$PGBENCH" ]; then
  echo "pgbench_ref: pgbench not found (neither /usr/lib/postgresql/15/bin/pgbench nor on PATH);" \
    "on Debian it comes with the package postgresql-15" >&2
  exit 1
fi

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgbench-ref-XXXXXX")
cleanup() {
  psql_q -c 'SET client_min_messages = warning' -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" \
    >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_q >/dev/null <<SQL
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS $SCHEMA CASCADE;
CREATE SCHEMA $SCHEMA;
CREATE TABLE $SCHEMA.jobs (
  id          text PRIMARY KEY,
  status      text NOT NULL,
  payload     text NOT NULL,
  lease_owner text,
  lease_until bigint,
  attempts    integer NOT NULL DEFAULT 0,
  run_at      bigint NOT NULL,
  priority    integer NOT NULL DEFAULT 0,
  result      text,
  updated_at  bigint NOT NULL
);
CREATE INDEX jobs_ready_idx ON $SCHEMA.jobs (priority DESC, run_at, id) WHERE status = 'ready';
CREATE INDEX jobs_owner_idx ON $SCHEMA.jobs (lease_owner) WHERE status = 'running';
CREATE TABLE $SCHEMA.audit (
  id          bigserial PRIMARY KEY,
  job_id      text,
  from_status text,
  to_status   text NOT NULL,
  ts          bigint NOT NULL
);
CREATE INDEX audit_job_idx ON $SCHEMA.audit (job_id);
INSERT INTO $SCHEMA.jobs (id, status, payload, run_at, updated_at)
  SELECT 'j' || lpad(g::text, 10, '0'), 'ready', '{}', 1700000000000 + g, 1700000000000
  FROM generate_series(1, $N) g;
VACUUM ANALYZE $SCHEMA.jobs;
VACUUM ANALYZE $SCHEMA.audit;
SQL

# :n counts this client's batches (starts at 0 via -D, kept per client across script runs).
cat >"$TMP/claim_complete.sql" <<SQL
\set n :n + 1
WITH c AS (
  UPDATE $SCHEMA.jobs SET status = 'running',
         lease_owner = 'c' || (:client_id)::text || '-' || (:n)::text,
         lease_until = (extract(epoch FROM clock_timestamp()) * 1000)::bigint + 60000,
         attempts = attempts + 1,
         updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
   WHERE id IN (SELECT id FROM $SCHEMA.jobs WHERE status = 'ready'
                 ORDER BY priority DESC, run_at, id LIMIT $BATCH FOR UPDATE SKIP LOCKED)
  RETURNING id, updated_at)
INSERT INTO $SCHEMA.audit (job_id, from_status, to_status, ts)
  SELECT id, 'ready', 'running', updated_at FROM c;
WITH d AS (
  UPDATE $SCHEMA.jobs SET status = 'succeeded', result = '{}', lease_owner = NULL,
         lease_until = NULL,
         updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
   WHERE lease_owner = 'c' || (:client_id)::text || '-' || (:n)::text AND status = 'running'
  RETURNING id, updated_at)
INSERT INTO $SCHEMA.audit (job_id, from_status, to_status, ts)
  SELECT id, 'running', 'succeeded', updated_at FROM d;
SQL

PER_CLIENT=$(( (N + CONNS * BATCH - 1) / (CONNS * BATCH) ))
t0=$(date +%s.%N)
if ! "$PGBENCH" -c "$CONNS" -j "$CONNS" -n -M prepared -t "$PER_CLIENT" -D n=0 \
     -f "$TMP/claim_complete.sql" "$URL" >"$TMP/pgbench.log" 2>&1; then
  echo "pgbench_ref: pgbench failed:" >&2
  cat "$TMP/pgbench.log" >&2
  exit 1
fi
t1=$(date +%s.%N)

read -r done_jobs audit_rows < <(psql_q -t -A -F ' ' -c \
  "SELECT (SELECT count(*) FROM $SCHEMA.jobs WHERE status = 'succeeded'), (SELECT count(*) FROM $SCHEMA.audit)")
if [ "$done_jobs" -ne "$N" ]; then
  echo "pgbench_ref: warning: $done_jobs of $N jobs succeeded (rate counts only those)" >&2
fi
awk -v j="$done_jobs" -v a="$audit_rows" -v t0="$t0" -v t1="$t1" -v c="$CONNS" -v b="$BATCH" 'BEGIN {
  w = t1 - t0
  printf "{\"peer\":\"pgbench_ref\",\"kind\":\"drain\",\"rate\":%d,\"conns\":%d,\"batch\":%d,\"jobs\":%d,\"audit_rows\":%d,\"wall_s\":%.3f}\n",
    j / w + 0.5, c, b, j, a, w
}'
