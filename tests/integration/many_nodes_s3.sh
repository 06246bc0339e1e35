#!/usr/bin/env bash
# Many nodes with no shared folder (issue 15): three `ain run` processes on one PostgreSQL, the
# artifacts in S3 (s3rver behind tests/servers/s3_verify.js, which re-checks every request's
# SigV4 signature), each node with its own data_dir, S3 read cache, outbox and copy of the trends
# file. Each node runs in a mount namespace of its own (unshare -m) where the other nodes'
# folders and the bucket's folder are hidden under an empty tmpfs: a node that read another's
# folder (or the bucket's files) instead of S3 would find nothing there. Checks: every trend
# (the fixture's two valid lines) becomes a video that renders, is judged and published (one receipt each); steps of one video
# ran on several nodes, so a node read through S3 objects another node wrote (found in its own
# read cache); no node has a data_dir/objects; every video's objects can be stat'ed by every node
# (`ain video show` through its own store); every S3 request's signature checked out.
. "$(dirname "$0")/lib.bash"
command -v unshare > /dev/null || fail "unshare (util-linux) is needed"
unshare -m true 2> /dev/null || { echo "ok - skipped: no mount namespaces here (unshare -m refused)"; exit 0; }
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-s3nodes-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" > /dev/null 2>&1 || true; rm -rf "$PG"; }
trap 'rc=$?; stop_pg; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
psqlq() { psql -X -q -t -A "$URL" -c "$1"; }

mkdir -p "$T/s3"
node "$AIN_SOURCE_DIR/tests/servers/s3_verify.js" --dir "$T/s3" --bucket ain-media \
  --access AKIDAINTEST --secret 'sEcReT/key+42' > "$T/s3.port" 2> "$T/s3.log" &
CLEANUP_PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/s3.port" ] && break; sleep 0.1; done
port=$(sed 's/.*"proxy":\([0-9]*\).*/\1/' "$T/s3.port")
[ -n "$port" ] || fail "the S3 server did not start: $(cat "$T/s3.log")"
export AIN_SECRET_S3_AK=AKIDAINTEST AIN_SECRET_S3_SK='sEcReT/key+42'

NODES="a b c"
for n in $NODES; do
  d="$T/node-$n"
  mkdir -p "$d"
  cp "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" "$d/trends.jsonl" # 2 trends and a bad line
  write_config "$d/ain.lua" "$AIN_SOURCE_DIR/scripts" \
    "node_id = \"node-$n\"" \
    "data_dir = \"$d/var\"" \
    'queue = { retry_base_ms = 100, retry_max_ms = 500, poll_ms = 50, claim_batch = 1 }' \
    'cluster = { heartbeat_ms = 500, node_timeout_ms = 20000 }' \
    "trends = { source = \"$d/trends.jsonl\", interval_ms = 600000 }" \
    'media = { width = 360, height = 640, preset = "ultrafast", inspect = { enabled = false } }' \
    "channels = { outbox = { dir = \"$d/outbox\" } }" \
    "objstore = { kind = \"s3\", s3 = { endpoint = \"http://127.0.0.1:$port\", bucket = \"ain-media\", path_style = true, access_key_secret = \"s3_ak\", secret_key_secret = \"s3_sk\", cache_dir = \"$d/s3cache\" } }"
  sed -i "s#^store = .*#store = { url = \"$URL\" }#" "$d/ain.lua"
  grep -q "^data_dir = \"$d/var\"" "$d/ain.lua" || fail "node $n's data_dir is not its own"
done
"$AIN_BIN" migrate -c "$T/node-a/ain.lua" > /dev/null

# Each node in its own mount namespace: the other nodes' folders and the bucket's are empty there.
pids=()
for n in $NODES; do
  hide=""
  for o in $NODES; do [ "$o" = "$n" ] || hide="$hide $T/node-$o"; done
  hide="$hide $T/s3"
  unshare -m sh -c 'for d in $1; do mount -t tmpfs -o size=1m,mode=0755 none "$d" || exit 99; done
    shift; exec "$@"' sh "$hide" \
    "$AIN_BIN" run -c "$T/node-$n/ain.lua" --until-idle --no-progress --json \
    > "$T/node-$n/summary.json" 2> "$T/node-$n/run.log" &
  pids+=($!)
  CLEANUP_PIDS+=($!)
done
i=0
for n in $NODES; do
  wait "${pids[$i]}" || fail "node $n exited $? (log: $(tail -5 "$T/node-$n/run.log"))"
  i=$((i + 1))
done

assert_eq "$(psqlq "select count(*) from dags where status = 'succeeded'")" 2 "DAGs succeeded"
assert_eq "$(psqlq "select count(*) from dags where status <> 'succeeded'")" 0 "DAGs not succeeded"
assert_eq "$(psqlq "select count(*) from videos where status = 'published'")" 2 "videos published"
assert_eq "$(psqlq "select count(*) from publish_receipts")" 2 "publish receipts (one per video)"
ok "2 trends -> 2 videos rendered, judged and published by 3 nodes sharing only Postgres and S3"

# Which node ran each step: the actor of its success ("node-x/pid/shard-N").
by_node=$(psqlq "select split_part(actor, '/', 1), count(*) from audit_log where to_status = 'succeeded' and task_id in (select id from tasks where type = 'step') group by 1 order by 1")
[ "$(echo "$by_node" | grep -c '^node-')" -ge 2 ] || fail "steps ran on fewer than two nodes: $by_node"
# A node's read cache holds an object another node wrote: it came through S3, since that node's
# folder was an empty tmpfs in the reader's namespace.
cross=0
while IFS='|' read -r key writer; do
  for n in $NODES; do
    [ "node-$n" = "$writer" ] && continue
    [ -f "$T/node-$n/s3cache/objects/$key" ] && cross=$((cross + 1))
  done
done < <(psqlq "select k, split_part(l.actor, '/', 1) from artifacts a cross join lateral jsonb_array_elements_text(a.keys::jsonb) k join audit_log l on l.task_id = a.task_id and l.to_status = 'succeeded'")
[ "$cross" -gt 0 ] || fail "no node read an object another node wrote (steps by node: $by_node)"
ok "steps ran on several nodes ($(echo $by_node | tr '\n' ' ')); $cross object(s) written by one node were read by another through S3"

for n in $NODES; do
  [ ! -d "$T/node-$n/var/objects" ] || [ -z "$(find "$T/node-$n/var/objects" -type f)" ] ||
    fail "node $n wrote objects to its data_dir/objects"
done
# Every artifact key is an object in the bucket, and every node can stat each video's objects.
for k in $(psqlq "select distinct k from artifacts cross join lateral jsonb_array_elements_text(keys::jsonb) k"); do
  [ -f "$T/s3/ain-media/$k._S3rver_object" ] || fail "$k is not in the bucket"
done
for vid in $(psqlq "select id from videos"); do
  want=$(psqlq "select video_key from videos where id = '$vid'")
  size=$(stat -c %s "$T/s3/ain-media/$want._S3rver_object")
  for n in $NODES; do
    got=$("$AIN_BIN" video show -c "$T/node-$n/ain.lua" "$vid" --json | jq -r .media_bytes)
    assert_eq "$got" "$size" "video $vid's media bytes seen by node $n"
  done
done
ok "no node used a local object folder; every node reads every video's objects through S3"

published=$(find "$T"/node-*/outbox -name '*.mp4' | wc -l)
assert_eq "$published" 2 "published files across the nodes' outboxes"
log=$(curl -sS "http://127.0.0.1:$port/__log")
counts=$(echo "$log" | jq -r '[length, (map(select(.verified)) | length)] | @tsv')
read -r total verified <<< "$counts"
assert_eq "$verified" "$total" "S3 requests whose SigV4 signature the independent signer confirmed"
ok "$total S3 requests from 3 nodes, every signature confirmed"
