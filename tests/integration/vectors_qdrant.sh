#!/usr/bin/env bash
# The Qdrant vector backend (engine/vec/qdrant.c, docs/vectors.md) against tests/servers/qdrant.js,
# a strict server written from Qdrant's REST API: the planner's window search and the planned
# trend's upsert go to Qdrant (collection created on first upsert, api-key from the secret),
# `ain similar` searches it, a later run's rewording is found there; and faults: 500, a body that
# is not JSON, the wrong shape and a slow answer past the timeout each fail `ain similar` with a
# message naming what went wrong (never the key).
source "$(dirname "$0")/lib.bash"

node "$AIN_SOURCE_DIR/tests/servers/qdrant.js" --port 0 --key it-qdrant-key \
  --port-file "$T/qd.port" > "$T/qd.log" 2>&1 &
qd_pid=$!
trap 'kill $qd_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/qd.port" ] && break; sleep 0.1; done
[ -s "$T/qd.port" ] || fail "the Qdrant test server did not start: $(cat "$T/qd.log")"
qd="http://127.0.0.1:$(cat "$T/qd.port")"
export AIN_SECRET_QDRANT_KEY=it-qdrant-key

cat > "$T/trends.jsonl" <<'JSONL'
{"id":"v-1","title":"Apple unveils M5","tags":["chips","ai"],"score":90,"ts":"2025-06-02T08:00:00Z"}
{"id":"v-2","title":"M5 chip announced by Apple","tags":["chips","ai"],"score":80,"ts":"2025-06-02T09:00:00Z"}
JSONL
cfg="$T/ain.lua"
config() {
  write_config "$cfg" "$AIN_SOURCE_DIR/scripts" \
    "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
    "channels = { outbox = { dir = \"$T/outbox\" } }" "log_level = \"debug\"" \
    "trends = { source = \"$1\", interval_ms = 600000 }" \
    "vectors = { backend = \"qdrant\", qdrant = { url = \"$qd\", secret = \"qdrant_key\", timeout_ms = 1000 } }"
}
config "$T/trends.jsonl"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > /dev/null 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
grep -q 'near duplicate of line 1 \\"Apple unveils M5\\"' "$T/run.log" ||
  fail "the near duplicate was not skipped: $(grep -i 'not planned\|warn' "$T/run.log" | head -3)"
stats=$(curl -s "$qd/stats")
assert_contains "$stats" '"rejected":0' "every request was well-formed and had the api-key"
assert_contains "$stats" '"upserts":1' "the planned trend went to Qdrant"
out=$(curl -s -H 'api-key: it-qdrant-key' "$qd/collections/ain_trend__hashed-ngrams-1024")
assert_contains "$out" '"points_count":1' "one point in the trend collection"
assert_contains "$out" '"size":1024,"distance":"Cosine"' "the collection's vectors"
# the store keeps its rows too (the source of truth)
assert_eq "$(sql "SELECT count(*) FROM embeddings")" 1 "the store's row"
ok "planner on Qdrant: window search, in-batch skip, upsert into a created collection"

out=$("$AIN_BIN" similar -c "$cfg" --json "the Apple M5 chip") || fail "ain similar: $out"
assert_contains "$out" '"results":[{"id":"apple unveils m5","label":"Apple unveils M5","score":0.' "similar via Qdrant"

cat > "$T/trends2.jsonl" <<'JSONL'
{"id":"v-3","title":"Apple unveils the M5 chip","tags":["chips","ai"],"score":90,"ts":"2025-06-02T10:00:00Z"}
JSONL
config "$T/trends2.jsonl"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > /dev/null 2> "$T/run2.log" ||
  fail "second run exited $? (log: $(tail -5 "$T/run2.log"))"
grep -q 'near duplicate of planned trend \\"Apple unveils M5\\"' "$T/run2.log" ||
  fail "Qdrant's window search missed the rewording: $(grep -i 'not planned\|warn' "$T/run2.log" | head -3)"
ok "ain similar and a later run find the planned trend in Qdrant"

fault() {
  curl -s -X POST -H 'Content-Type: application/json' -d "{\"fault\":\"$1\",\"count\":1}" "$qd/control" > /dev/null
  set +e
  err=$("$AIN_BIN" similar -c "$cfg" "Apple M5" 2>&1); rc=$?
  set -e
  [ "$rc" != 0 ] || fail "fault $1: ain similar succeeded: $err"
  assert_contains "$err" "$2" "fault $1"
  case "$err" in *it-qdrant-key*) fail "fault $1: the key is in the error";; esac
}
fault 500 "HTTP 500"
fault malformed 'the answer is not {"status": "ok"'
fault wrongshape '"result" is not an array'
fault slow=3000 "imed out"
out=$("$AIN_BIN" similar -c "$cfg" "Apple M5") || fail "after the faults: $out"
ok "Qdrant faults (500, not JSON, wrong shape, slow) fail naming the cause; then it answers again"
