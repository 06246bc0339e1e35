#!/usr/bin/env bash
# GET /v1/videos/{id} and its media on a real PostgreSQL 15 (started for this test, stopped on
# every exit path): a short real pipeline publishes a video; the video's receipts come from the
# Postgres statement beside ain_review_op (store/postgres/review.c), `ain video show` agrees,
# and a ticketed byte range matches the file. (The full contract: api_videos.sh on SQLite.)
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-videos-XXXXXX") # outside $T: postgres must reach it
stop_pg() { "$server" stop "$PG" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_pg; rm -rf "$PG"; (exit $rc); cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM
URL=$("$server" start "$PG")
head -1 "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" > "$T/trends.jsonl"
cp -r "$AIN_SOURCE_DIR/scripts" "$T/scripts"
C=$T/ain.lua
write_config "$C" "$T/scripts" "$API_LINE" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }" 'shutdown = { grace_ms = 300 }'
sed -i "s#^store = .*#store = { url = \"$URL\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }#" "$C"
timeout 300 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" ||
  fail "pipeline: $(tail -5 "$T/run.err")"
api_start "$C"
MP4=$(ls "$T"/outbox/*/*.mp4 | head -1) # the published copy of the video's object
[ -n "$MP4" ] || fail "nothing published: $(tail -5 "$T/run.err")"
VID=$(basename "$MP4" .mp4)
r=$(call "$V" "/v1/videos/$VID"); expect "$r" 200 - "show on Postgres"
body=${r#* }
assert_eq "$(jq -c '[.id, .status, (.receipts | length), .receipts[0].channel]' <<< "$body")" "[\"$VID\",\"published\",1,\"outbox\"]" "video and receipt on Postgres"
assert_eq "$("$AIN_BIN" video show -c "$C" "$VID" --json | jq -c '[.receipts[0].idempotency_key, .media_bytes]')" \
  "$(jq -c '[.receipts[0].idempotency_key, .media_bytes]' <<< "$body")" "ain video show on Postgres"
MURL=$(jq -r .media_url <<< "$body")
assert_eq "$(curl -s -o "$T/got" -w '%{http_code} %{size_download}' -r 0-99 "$U$MURL")" "206 100" "a ticketed range"
cmp "$T/got" <(head -c 100 "$MP4") || fail "bytes 0-99 differ from the video's"
r=$(call "$V" /v1/videos/nope); expect "$r" 404 - "an unknown video on Postgres"
ok "GET /v1/videos/{id} on Postgres: receipt, ain video show, a ticketed range"
kill -TERM "$pid"; wait "$pid" || true
