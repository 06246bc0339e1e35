#!/usr/bin/env bash
# The pipeline with its artifacts in S3 (objstore.kind = "s3", issue 15): a real S3-protocol
# server (s3rver) on loopback behind tests/servers/s3_verify.js, which re-checks every request's
# SigV4 signature and payload hash with the AWS SDK's signer and refuses mismatches. A trend ->
# planner -> ... -> render -> judge -> publish to the outbox, at 360x640. Asserts: both videos
# is published; every artifact key the steps recorded is an object in the bucket (and none in
# data_dir/objects: no shared folder is used); the published file is byte-identical to its
# object; every request reached the server signed correctly (none refused); the credentials came
# from the secrets provider and appear in no log. Tiering (objstore.s3.tier): nothing moves while
# the artifacts are young; once their checkpoints are 40 days old, a running engine's sweep copies
# every checkpointed object but the published render and its thumbnail to STANDARD_IA (the class
# s3rver recorded for the object), logs it, and a later sweep sends nothing again; an unknown
# class is refused at config load naming the key.
source "$(dirname "$0")/lib.bash"

mkdir -p "$T/s3"
node "$AIN_SOURCE_DIR/tests/servers/s3_verify.js" --dir "$T/s3" --bucket ain-media \
  --access AKIDAINTEST --secret 'sEcReT/key+42' > "$T/s3.port" 2> "$T/s3.log" &
CLEANUP_PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/s3.port" ] && break; sleep 0.1; done
port=$(sed 's/.*"proxy":\([0-9]*\).*/\1/' "$T/s3.port")
[ -n "$port" ] || fail "the S3 server did not start: $(cat "$T/s3.log")"
export AIN_SECRET_S3_AK=AKIDAINTEST AIN_SECRET_S3_SK='sEcReT/key+42'

# One trend (the first of the e2e fixture): one video end to end keeps the test well under a
# minute on a loaded machine; pipeline_e2e.sh covers the rest of the pipeline's behaviour.
trends="$T/trends.jsonl"
head -1 "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" > "$trends"
cfg="$T/ain.lua"
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$trends\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\", inspect = { enabled = false } }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }" \
  "objstore = { kind = \"s3\", s3 = { endpoint = \"http://127.0.0.1:$port\", bucket = \"ain-media\", path_style = true, access_key_secret = \"s3_ak\", secret_key_secret = \"s3_sk\", tier = { after_days = 30, storage_class = \"STANDARD_IA\", interval_ms = 1000 } } }"

"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
published=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["dags"]["succeeded"], d["dags"]["failed"], d["videos"]["published"])' "$T/summary.json")
assert_eq "$published" "1 0 1" "DAGs done, failed, videos published"
ok "the pipeline runs with objstore.kind = s3: the video is published"

# Every recorded artifact key is an object in the bucket; data_dir/objects holds none.
keys=$(sql "SELECT video_key FROM videos UNION SELECT thumbnail_key FROM videos" | sort -u)
[ "$(echo "$keys" | grep -c sha256/)" -eq 2 ] || fail "no artifact keys recorded: $keys"
for k in $keys; do
  [ -f "$T/s3/ain-media/$k._S3rver_object" ] || fail "$k is not in the bucket"
done
n=0
if [ -d "$T/var/objects" ]; then n=$(find "$T/var/objects" -type f | wc -l); fi
assert_eq "$n" "0" "files under data_dir/objects"
ok "every video and thumbnail key is an object in the bucket, none in data_dir/objects"

# The published file is the object, byte for byte.
for mp4 in "$T"/outbox/*/*.mp4; do
  sum=$(sha256sum "$mp4" | cut -d' ' -f1)
  [ -f "$T/s3/ain-media/sha256/${sum:0:2}/${sum:2}.mp4._S3rver_object" ] ||
    fail "$mp4 (sha256 $sum) is not an object in the bucket"
  cmp -s "$mp4" "$T/s3/ain-media/sha256/${sum:0:2}/${sum:2}.mp4._S3rver_object" || fail "$mp4 differs from its object"
done
ok "published files are byte-identical to their objects"

log=$(curl -sS "http://127.0.0.1:$port/__log")
counts=$(echo "$log" | python3 -c '
import json, sys
l = json.load(sys.stdin)
print(len(l), sum(1 for e in l if e["verified"]), sum(1 for e in l if e["method"] == "PUT"))')
read -r total verified puts <<< "$counts"
[ "$total" -gt 10 ] && [ "$puts" -ge 4 ] || fail "too few S3 requests: $counts"
assert_eq "$verified" "$total" "requests whose SigV4 signature the independent signer confirmed"
ok "$total S3 requests ($puts PUTs), every signature confirmed by @smithy/signature-v4"

if grep -q 'sEcReT/key+42' "$T/run.log" "$T/summary.json"; then fail "the secret key is in a log"; fi
ok "the secret key appears in no log"

# ---- tiering -------------------------------------------------------------------------------
class_of() { # the storage class s3rver recorded for key $1 (STANDARD when none was given)
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("x-amz-storage-class", "STANDARD"))' \
    "$T/s3/ain-media/$1._S3rver_metadata.json"
}
hot=$(sql "SELECT video_key FROM videos WHERE status = 'published' UNION SELECT thumbnail_key FROM videos WHERE status = 'published'" | sort -u)
all=$(sql "SELECT keys FROM artifacts" | python3 -c 'import json,sys; print("\n".join(sorted({k for l in sys.stdin for k in json.loads(l)})))')
cold=$(comm -23 <(echo "$all") <(echo "$hot"))
[ "$(echo "$hot" | grep -c sha256/)" -eq 2 ] || fail "the published video and thumbnail: $hot"
[ "$(echo "$cold" | grep -c sha256/)" -ge 2 ] || fail "too few unpublished artifacts to tier: $cold"
for k in $all; do assert_eq "$(class_of "$k")" "STANDARD" "class of $k while young"; done
ok "young artifacts stay STANDARD (the pipeline's engine swept every second)"

cfg_bad="$T/bad_class.lua"
sed 's/storage_class = "STANDARD_IA"/storage_class = "COLD"/' "$cfg" > "$cfg_bad"
if "$AIN_BIN" check -c "$cfg_bad" > "$T/bad_class.out" 2>&1; then fail "a config with storage class COLD loaded"; fi
assert_contains "$(cat "$T/bad_class.out")" "objstore.s3.tier.storage_class" "the config error names the key"
ok "an unknown storage class is refused at config load, naming objstore.s3.tier.storage_class"

# The checkpoints are now 40 days old; a running engine (nothing else to do) sweeps within ~1 s.
sql "UPDATE artifacts SET created_at = created_at - 40 * 86400000" > /dev/null
curl -sS -X POST "http://127.0.0.1:$port/__reset" > /dev/null
"$AIN_BIN" run -c "$cfg" --no-progress > "$T/tier.out" 2> "$T/tier.log" &
tier_pid=$!
CLEANUP_PIDS+=("$tier_pid")
moved=0
for _ in $(seq 300); do
  grep -q '"tiering: ' "$T/tier.log" && moved=1 && break
  sleep 0.1
done
[ "$moved" = 1 ] || fail "no tiering sweep logged in 30 s: $(tail -5 "$T/tier.log")"
for k in $cold; do assert_eq "$(class_of "$k")" "STANDARD_IA" "class of old unpublished $k"; done
for k in $hot; do assert_eq "$(class_of "$k")" "STANDARD" "class of published $k"; done
assert_contains "$(grep '"tiering: ' "$T/tier.log")" "$(echo "$cold" | grep -c sha256/) object(s) older than 30 day(s) now in STANDARD_IA, 0 failed" "the sweep's log line"
n_marked=$(sql "SELECT count(*) FROM object_classes WHERE storage_class = 'STANDARD_IA'")
assert_eq "$n_marked" "$(echo "$cold" | grep -c sha256/)" "objects recorded in object_classes"
copies=$(curl -sS "http://127.0.0.1:$port/__log" | python3 -c '
import json, sys
l = json.load(sys.stdin)
print(sum(1 for e in l if e["method"] == "PUT"), sum(1 for e in l if not e["verified"]))')
assert_eq "$copies" "$(echo "$cold" | grep -c sha256/) 0" "copies in place sent, and refused signatures"
ok "old unpublished artifacts moved to STANDARD_IA (${copies% *} copies in place), the published render and thumbnail stayed STANDARD"

# Later sweeps (one a second) find nothing to do: no request reaches S3.
curl -sS -X POST "http://127.0.0.1:$port/__reset" > /dev/null
sleep 3
assert_eq "$(curl -sS "http://127.0.0.1:$port/__log")" "[]" "S3 requests of the sweeps after the first"
kill -TERM "$tier_pid"
wait "$tier_pid" || fail "the engine did not stop cleanly: $(tail -5 "$T/tier.log")"
ok "later sweeps send nothing (object_classes remembers what moved)"

# Purging the finished DAG deletes its objects from the bucket, not from a local folder.
"$AIN_BIN" purge -c "$cfg" --older-than 0s --actor it > "$T/purge.out" 2>&1 || fail "purge: $(cat "$T/purge.out")"
for k in $keys; do
  [ ! -f "$T/s3/ain-media/$k._S3rver_object" ] || fail "$k is still in the bucket after the purge"
done
ok "ain purge deleted the purged DAG's objects from the bucket"
