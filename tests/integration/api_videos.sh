#!/usr/bin/env bash
# Videos over HTTP (engine/api/videos.c, media.c; ops/video.h, the function of `ain video show`):
# a short real pipeline (one trend, 360x640, ultrafast) renders and publishes a video, then
# GET /v1/videos/{id} has the contract's shape (receipt, sizes, ticketed URLs); the media route
# serves byte ranges (206 + Content-Range, exactly the file's bytes), open-ended and suffix
# ranges, 416 with "bytes */size", several ranges as 200, HEAD, If-Range; tickets work without a
# token and are refused (401) expired, forged, for another video or kind; ffprobe reads the media
# URL over HTTP (it seeks with Range, as a player does); a client that disconnects mid-stream
# leaves the server serving and exiting cleanly (no sanitizer report under the ASan build).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
export AIN_SECRET_API_MEDIA_KEY=media-key-for-the-test-0123456789abcdef
head -1 "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" > "$T/trends.jsonl"
cp -r "$AIN_SOURCE_DIR/scripts" "$T/scripts"
C=$T/ain.lua
write_config "$C" "$T/scripts" "$API_LINE" \
  "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }" 'shutdown = { grace_ms = 300 }' \
  'log_level = "debug"'
timeout 300 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" ||
  fail "pipeline: $(tail -5 "$T/run.err")"
VID=$(sql "select id from videos where status = 'published'")
[ -n "$VID" ] || fail "no published video: $(sql 'select id, status from videos')"
KEY=$(sql "select video_key from videos where id = '$VID'")
FILE=$T/var/objects/$KEY
SIZE=$(stat -c %s "$FILE")
ok "a real pipeline published video $VID ($SIZE bytes)"

api_start "$C"
r=$(call "$V" "/v1/videos/$VID"); expect "$r" 200 - "show"
body=${r#* }
assert_eq "$(jq -c 'keys' <<< "$body")" '["confidence","created_at","dag_id","decision","id","media_bytes","media_url","persona_id","receipts","review","state_version","status","task_id","thumbnail_bytes","thumbnail_url","updated_at"]' "the contract's fields"
assert_eq "$(jq -c '[.id, .status, .media_bytes, (.receipts | length), .receipts[0].channel, .review]' <<< "$body")" "[\"$VID\",\"published\",$SIZE,1,\"outbox\",null]" "show values"
assert_eq "$(jq '.thumbnail_bytes > 0' <<< "$body")" true "thumbnail size"
MURL=$(jq -r .media_url <<< "$body"); TURL=$(jq -r .thumbnail_url <<< "$body")
assert_contains "$MURL" "/v1/videos/$VID/media?ticket=" "media_url"
assert_eq "$("$AIN_BIN" video show -c "$C" "$VID" --json | jq -c '[.id, .media_bytes, .receipts[0].location]')" \
  "$(jq -c '[.id, .media_bytes, .receipts[0].location]' <<< "$body")" "ain video show prints the same view"
r=$(call "$V" /v1/videos/no-such-video); expect "$r" 404 - "an unknown video"
r=$(call "$V" /v1/videos/no-such-video/media); expect "$r" 404 - "media of an unknown video"
ok "GET /v1/videos/{id}: fields, receipt, sizes, ticketed URLs; 404s; ain video show agrees"

# get URL [curl args...] -> "STATUS BYTES" with the body in $T/got and headers in $T/hdr
get() {
  local url=$1; shift
  curl -s -D "$T/hdr" -o "$T/got" -w '%{http_code} %{size_download}' "$@" "$U$url"
}
hdr() { grep -i "^$1:" "$T/hdr" | cut -d' ' -f2- | tr -d '\r'; }
assert_eq "$(get "$MURL" -r 0-99)" "206 100" "bytes=0-99"
cmp "$T/got" <(head -c 100 "$FILE") || fail "bytes 0-99 differ from the file's"
assert_eq "$(hdr content-range)" "bytes 0-99/$SIZE" "Content-Range of 0-99"
assert_eq "$(hdr content-type)" "video/mp4" "Content-Type"
assert_eq "$(hdr accept-ranges)" "bytes" "Accept-Ranges"
ETAG=$(hdr etag)
assert_eq "$ETAG" "\"$(sha256sum "$FILE" | cut -c1-64)\"" "ETag is the sha256"
[ -n "$(hdr last-modified)" ] || fail "no Last-Modified"
assert_eq "$(get "$MURL" -r -500)" "206 500" "suffix bytes=-500"
cmp "$T/got" <(tail -c 500 "$FILE") || fail "the last 500 bytes differ"
assert_eq "$(hdr content-range)" "bytes $((SIZE - 500))-$((SIZE - 1))/$SIZE" "Content-Range of -500"
assert_eq "$(get "$MURL" -r 1000-)" "206 $((SIZE - 1000))" "open-ended bytes=1000-"
cmp "$T/got" <(tail -c +1001 "$FILE") || fail "bytes 1000- differ"
assert_eq "$(get "$MURL" -r "$SIZE-")" "416 $(stat -c %s "$T/got")" "a range past the end"
assert_eq "$(hdr content-range)" "bytes */$SIZE" "416 Content-Range"
assert_eq "$(jq -r .error.code "$T/got")" ERANGE "416 body"
assert_eq "$(get "$MURL" -H 'Range: bytes=5-2' | cut -d' ' -f1)" 416 "bytes=5-2"
assert_eq "$(get "$MURL" -H 'Range: bytes=-0' | cut -d' ' -f1)" 416 "bytes=-0"
assert_eq "$(get "$MURL" -r 0-1,5-6)" "200 $SIZE" "several ranges: the whole body"
cmp "$T/got" "$FILE" || fail "the whole body differs from the file"
assert_eq "$(get "$MURL" -H 'Range: pages=1-2')" "200 $SIZE" "another unit is ignored"
assert_eq "$(get "$MURL" -H 'Range: bytes=0-9' -H "If-Range: $ETAG")" "206 10" "If-Range matching"
assert_eq "$(get "$MURL" -H 'Range: bytes=0-9' -H 'If-Range: "other"')" "200 $SIZE" "If-Range stale"
assert_eq "$(get "$MURL" -I)" "200 0" "HEAD: no body"
assert_eq "$(hdr content-length)" "$SIZE" "HEAD Content-Length"
# On a kept-alive connection the next response must not be preceded by stray body bytes.
assert_eq "$(curl -s -o /dev/null -w '%{http_code} ' -I "$U$MURL" --next -s -o "$T/got" -w '%{http_code} %{size_download}' -r 0-9 "$U$MURL")" "200 206 10" "HEAD then GET on one connection"
cmp "$T/got" <(head -c 10 "$FILE") || fail "GET after HEAD on one connection"
assert_eq "$(get "$MURL" -I -r 10-19 | cut -d' ' -f1) $(hdr content-range)" "206 bytes 10-19/$SIZE" "HEAD with a range"
assert_eq "$(get "$TURL" | cut -d' ' -f1) $(hdr content-type)" "200 image/jpeg" "thumbnail"
cmp "$T/got" "$T/var/objects/$(sql "select thumbnail_key from videos where id = '$VID'")" || fail "thumbnail bytes"
assert_eq "$(get "$MURL" --http2-prior-knowledge -r 100-199)" "206 100" "a range over HTTP/2"
ok "Range: 0-99 (cmp), suffix, open-ended, 416 bytes */size, 5-2, -0, several -> 200, If-Range, HEAD, HTTP/2"

DURATION=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$U$MURL") || fail "ffprobe over HTTP"
LOCAL=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$FILE")
assert_eq "$DURATION" "$LOCAL" "ffprobe's duration over HTTP"
# ffprobe seeking to 10 s decodes the key frame before it (not frame 0): it read the middle of the
# file through Range requests, as a player seeking does.
seek=$(ffprobe -v error -read_intervals 10%+#1 -select_streams v -show_entries frame=pts_time -of csv=p=0 "$U$MURL" | tr -d ',\n') || fail "ffprobe could not seek over HTTP"
local_seek=$(ffprobe -v error -read_intervals 10%+#1 -select_streams v -show_entries frame=pts_time -of csv=p=0 "$FILE" | tr -d ',\n')
assert_eq "$seek" "$local_seek" "the frame ffprobe seeks to over HTTP"
python3 -c "import sys; sys.exit(0 if float('$seek') > 1 else 1)" || fail "ffprobe's seek landed at $seek s"
ok "ffprobe reads the media URL over HTTP ($DURATION s) and seeks to $seek s"

# Tickets: without a token; refused expired, forged, for another video or kind, under another key.
t=${MURL#*ticket=}
exp=${t%%.*}; rest=${t#*.}; sub=${rest%%.*}
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
mint() { # VIDEO KIND EXP SUBJECT_B64 KEY -> ticket
  local s; s=$(printf '%s' "$4" | tr -- '-_' '+/' | base64 -d 2>/dev/null || true)
  printf '%s.%s.%s' "$3" "$4" "$(printf 'ain-media-v1|%s|%s|%s|%s' "$1" "$2" "$3" "$s" |
    openssl dgst -sha256 -hmac "$5" -binary | b64url)"
}
assert_eq "$(mint "$VID" media "$exp" "$sub" "$AIN_SECRET_API_MEDIA_KEY")" "$t" "the ticket is HMAC-SHA256 with api_media_key"
now=$(date +%s)
tk() { curl -s -o "$T/got" -w '%{http_code}' "$U/v1/videos/$1/$2?ticket=$3"; }
assert_eq "$(tk "$VID" media "$(mint "$VID" media $((now + 60)) "$sub" "$AIN_SECRET_API_MEDIA_KEY")")" 200 "a ticket minted with the shared secret (another node)"
assert_eq "$(tk "$VID" media "$(mint "$VID" media $((now - 5)) "$sub" "$AIN_SECRET_API_MEDIA_KEY")")" 401 "an expired ticket"
assert_eq "$(jq -r .error.message "$T/got")" "the ticket is not valid for this URL" "the reason stays in the log"
grep -q "ticket expired" "$T/e.err" || fail "no reason logged for the expired ticket"
assert_eq "$(tk "$VID" media "$(mint "$VID" media $((now + 60)) "$sub" wrong-key-wrong-key-wrong-key-xx)")" 401 "a ticket under another key"
assert_eq "$(tk "$VID" media "$((exp + 1000)).$sub.${t##*.}")" 401 "a forged expiry"
assert_eq "$(tk "$VID" media "$exp.$(printf admin | b64url).${t##*.}")" 401 "a forged subject"
assert_eq "$(tk "$VID" thumbnail "$t")" 401 "the media ticket on the thumbnail"
assert_eq "$(tk other-video media "$t")" 401 "the ticket on another video"
assert_eq "$(tk "$VID" media garbage)" 401 "a garbage ticket"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/videos/$VID/media")" 401 "neither ticket nor token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/videos/$VID/media?ticket=$t&x=1")" 400 "an unknown query parameter"
ok "tickets: good without a token; expired, other key, forged exp/subject, other kind/video, garbage -> 401"

common_refusals GET "/v1/videos/{id}" POST "$V"
common_refusals GET "/v1/videos/{id}/media" POST "$V"
common_refusals GET "/v1/videos/{id}/thumbnail" DELETE "$V"
r=$(call "$V" "/v1/videos/a..b/media"); expect "$r" 400 id "dots in an id"
ok "traversal in ids, wrong methods, no token"

# A 24 MiB object (a video row pointing at it, as the review gate would record it): the whole body
# crosses 96 chunks and comes back equal; a range across a chunk boundary too.
head -c $((24 << 20)) /dev/urandom > "$T/big.mp4"
h=$(sha256sum "$T/big.mp4" | cut -c1-64); BIGKEY="sha256/${h:0:2}/${h:2}.mp4"
mkdir -p "$T/var/objects/sha256/${h:0:2}"; cp "$T/big.mp4" "$T/var/objects/$BIGKEY"
sql "insert into videos (id, status, decision, confidence, video_key, state_version, created_at, updated_at) values ('big', 'passed', 'pass', 1, '$BIGKEY', 0, 1, 1)"
r=$(call "$V" /v1/videos/big); expect "$r" 200 - "the big video"
BURL=$(jq -r .media_url <<< "${r#* }")
assert_eq "$(jq -c '[.thumbnail_url, .thumbnail_bytes, .receipts]' <<< "${r#* }")" '[null,null,[]]' "no thumbnail, no receipt"
assert_eq "$(get "$BURL")" "200 $((24 << 20))" "the whole 24 MiB"
cmp "$T/got" "$T/big.mp4" || fail "the 24 MiB body differs from the file"
assert_eq "$(get "$BURL" -r 262100-262200)" "206 101" "a range across a chunk boundary"
cmp "$T/got" <(tail -c +262101 "$T/big.mp4" | head -c 101) || fail "bytes 262100-262200"
r=$(call "$V" /v1/videos/big/thumbnail); expect "$r" 404 thumbnail "a video without a thumbnail"
ok "24 MiB streamed in chunks equals the file; a range across chunks; no thumbnail -> 404"

# Clients that leave mid-stream: with a 4 KiB receive buffer most of the 24 MiB stays on the
# server's side, so the client reads a little, closes, and the server sees it leave mid-body
# (logged at debug); the server frees the stream and keeps serving.
for n in 1 2 3; do
  python3 - "${U##*:}" "$BURL" <<'PY' || fail "the slow client"
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2]).encode())
got = s.recv(1000)
assert got.startswith(b"HTTP/1.1 200"), got[:40]
time.sleep(0.3)
s.close()
PY
done
for _ in $(seq 100); do
  [ "$(grep -c 'left at byte' "$T/e.err")" -ge 3 ] && break
  sleep 0.1
done
assert_eq "$(grep -c 'left at byte' "$T/e.err")" 3 "clients seen leaving mid-body"
assert_eq "$(get "$MURL" -r 0-99)" "206 100" "served after clients left"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
assert_eq "$rc" 0 "ain run's exit after SIGTERM"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T/e.err"; then fail "sanitizer report"; fi
ok "clients that disconnect mid-stream: served after, clean exit"
