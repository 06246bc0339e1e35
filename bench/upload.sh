#!/usr/bin/env bash
# Upload benchmark (issue 14 "Performance"; figures in docs/benchmarks.md "Uploads"): N concurrent
# YouTube resumable uploads (default 20) of distinct SIZE_MB files (default 50 MiB) from the local
# object store to the local YouTube test server (tests/servers/youtube.js), through the engine's
# youtube channel kind (bench/upload.c: config, object store, resumable init, CHUNK_KB chunks with
# Content-Range) and through `curl` alone doing the same protocol (one init POST, then one curl
# per upload PUTting the same chunks over one kept-alive connection, all N at once), interleaved
# ROUNDS times (default 3; the order alternates), medians. Every post's bytes are checked
# (the server's SHA-256 against the content-addressed key). Bars: the engine's MB/s >= 0.8 x
# curl's, and the engine process's peak RSS (VmHWM, the whole process) < 100 MB.
# Usage: bench/upload.sh [N=20] [SIZE_MB=50] [ROUNDS=3] [--check]
#        bench/upload.sh --short   (6 uploads of 6 MiB, 512 KiB chunks, 1 round: the suite's
#        bench.upload_short; it fails when a post is wrong or an upload's share of the memory
#        growth reaches its chunk + 1 MiB; the bars are reported but not enforced)
# AIN_BENCH_UPLOAD_CHUNK_KB sets the chunk (default 8192, the channel's default).
# AIN_BENCH_UPLOAD_STORE=s3: the object store is S3 (a local s3rver, tests/servers/s3_verify.js
# --direct) and its read cache is emptied before every engine round, so each upload first copies
# its object from S3 into the cache (as a publish on a fresh node does); curl still sends local
# chunk files: that run reports the engine's memory, its ratio is not like for like.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SHORT=0
if [ "${1:-}" = --short ]; then
  SHORT=1
  set -- 6 6 1
fi
N=${1:-20}
SIZE=${2:-50}
ROUNDS=${3:-3}
CHECK=${4:-}
CHUNK_KB=${AIN_BENCH_UPLOAD_CHUNK_KB:-$([ $SHORT = 1 ] && echo 512 || echo 8192)}
BIN=${AIN_BENCH_UPLOAD:-$SRC/build/bench_upload}
for tool in node curl jq split; do
  command -v $tool > /dev/null || { echo "bench/upload.sh: $tool is required" >&2; exit 2; }
done
B=$(mktemp -d "${TMPDIR:-/tmp}/ain-bench-upload-XXXXXX")
STORE=${AIN_BENCH_UPLOAD_STORE:-dir}
PID= S3PID=
cleanup() {
  local p
  for p in $PID $S3PID; do # a server's exit status (143: our TERM) is not the bench's
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
  rm -rf "$B"
}
trap cleanup EXIT
mkdir -p "$B/secrets" "$B/var" "$B/chunks"
printf bench-client > "$B/secrets/client_id"
printf bench-secret > "$B/secrets/client_secret"
printf bench-refresh > "$B/secrets/refresh"
chmod 600 "$B/secrets"/*
node tests/servers/youtube.js --port-file "$B/port" --client-id bench-client \
  --client-secret bench-secret --refresh-token bench-refresh > "$B/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -s "$B/port" ] && break; sleep 0.1; done
[ -s "$B/port" ] || { echo "the test server did not start: $(cat "$B/server.log")" >&2; exit 1; }
EP=http://127.0.0.1:$(cat "$B/port")
OBJSTORE='objstore = { kind = "dir" }'
if [ "$STORE" = s3 ]; then
  mkdir -p "$B/s3"
  printf S3RVER > "$B/secrets/s3_access"
  printf S3RVER > "$B/secrets/s3_secret"
  chmod 600 "$B/secrets"/s3_*
  node tests/servers/s3_verify.js --dir "$B/s3" --bucket ain-bench --direct > "$B/s3port" 2> "$B/s3.log" &
  S3PID=$!
  for _ in $(seq 100); do [ -s "$B/s3port" ] && break; sleep 0.1; done
  [ -s "$B/s3port" ] || { echo "s3rver did not start: $(cat "$B/s3.log")" >&2; exit 1; }
  OBJSTORE="objstore = { kind = \"s3\", s3 = { endpoint = \"http://127.0.0.1:$(sed 's/.*"proxy":\([0-9]*\).*/\1/' "$B/s3port")\",
  bucket = \"ain-bench\", region = \"us-east-1\", path_style = true, access_key_secret = \"s3_access\",
  secret_key_secret = \"s3_secret\", cache_dir = \"$B/s3cache\", timeout_ms = 600000 } }"
fi
cat > "$B/ain.lua" << EOF
$OBJSTORE
data_dir = "$B/var"
secrets_dir = "$B/secrets"
store = { url = "sqlite:$B/ain.db" }
channels = {
  yt = { kind = "youtube", api_url = "$EP", token_url = "$EP/token",
         client_id_secret = "client_id", client_secret_secret = "client_secret",
         refresh_token_secret = "refresh", chunk_kb = $CHUNK_KB },
}
EOF
"$BIN" prepare "$B/ain.lua" "$N" "$SIZE" > "$B/keys"
# curl uploads each chunk from a file of its own (curl cannot send a byte range of a file): the
# same bytes, split once before the clock runs.
i=0
while read -r key path; do
  mkdir -p "$B/chunks/$i"
  split -b "${CHUNK_KB}K" -d -a 4 "$path" "$B/chunks/$i/part."
  i=$((i + 1))
done < "$B/keys"
sync
TOK=$(curl -sS -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'grant_type=refresh_token&refresh_token=bench-refresh&client_id=bench-client&client_secret=bench-secret' \
  "$EP/token" | jq -r .access_token)

# Before the clock: each upload's chunks as "Content-Range file" lines, so that the timed part
# runs no process but curl (this box's process start-up costs tens of ms under load).
i=0
while read -r key path; do
  total=$(stat -c %s "$path")
  off=0
  for part in "$B/chunks/$i"/part.*; do
    len=$(stat -c %s "$part")
    echo "$off-$((off + len - 1))/$total $part"
    off=$((off + len))
  done > "$B/ranges.$i"
  TOTAL[$i]=$total
  i=$((i + 1))
done < "$B/keys"

curl_one() { # I TAG: the init POST, then one curl PUTting every chunk over one connection
  local i=$1 loc range part first=1
  loc=$(curl -sS -o /dev/null -w '%header{location}' -X POST -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/json; charset=UTF-8' -H "X-Upload-Content-Length: ${TOTAL[$i]}" \
    -H 'X-Upload-Content-Type: video/mp4' \
    --data-binary "{\"snippet\":{\"title\":\"$2-c$i\",\"categoryId\":\"22\"},\"status\":{\"privacyStatus\":\"private\"}}" \
    "$EP/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status")
  while read -r range part; do
    [ $first = 1 ] || echo next
    first=0
    printf 'silent\nshow-error\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
    printf 'header = "Authorization: Bearer %s"\nheader = "Expect:"\n' "$TOK"
    printf 'header = "Content-Type: video/mp4"\nheader = "Content-Range: bytes %s"\n' "$range"
    printf 'upload-file = "%s"\nurl = "%s"\n' "$part" "$loc"
  done < "$B/ranges.$i" > "$B/curl.cfg.$i"
  curl --config "$B/curl.cfg.$i" > "$B/curl.codes.$i"
}

now() { date +%s.%N; }
declare -a CW EW EPK EDL
BYTES=
check_posts() { # TAG SUFFIX(c|u): every post of the round landed once, bytes = its key's SHA-256
  curl -sf "$EP/__stats" > "$B/stats"
  local i=0 key path sha got
  while read -r key path; do
    sha=${key#sha256/}
    sha=${sha/\//}
    sha=${sha%.mp4}
    got=$(jq -r --arg t "$(printf '%s-%s%s' "$1" "$2" "$([ "$2" = u ] && printf %02d $i || echo $i)")" \
      '[.posts[] | select(.title == $t) | .sha256] | join(",")' "$B/stats")
    [ "$got" = "$sha" ] || { echo "post $1-$2$i: server holds '$got', expected $sha" >&2; exit 1; }
    i=$((i + 1))
  done < "$B/keys"
}
run_curl() {
  local t0 t1 i
  local -a pids=()
  t0=$(now)
  for i in $(seq 0 $((N - 1))); do
    curl_one "$i" "r$1" &
    pids+=($!)
  done
  wait "${pids[@]}"
  t1=$(now)
  for i in $(seq 0 $((N - 1))); do
    grep -qx 201 "$B/curl.codes.$i" || { echo "curl upload $i: $(tr '\n' ' ' < "$B/curl.codes.$i")" >&2; exit 1; }
  done
  check_posts "r$1" c
  CW+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
}
run_engine() {
  [ "$STORE" = s3 ] && rm -rf "$B/s3cache/objects"
  "$BIN" run "$B/ain.lua" yt "$B/keys" "r$1" > "$B/engine.out"
  check_posts "r$1" u
  EW+=("$(awk '/^wall_s/{print $2}' "$B/engine.out")")
  EPK+=("$(awk '/^rss_peak_kb/{print $2}' "$B/engine.out")")
  EDL+=("$(awk '/^rss_delta_kb/{print $2}' "$B/engine.out")")
  BYTES=$(awk '/^bytes/{print $2}' "$B/engine.out")
}
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $N uploads of $SIZE MiB from the $STORE object store, chunks of $CHUNK_KB KiB, $ROUNDS rounds, $(curl --version | head -1 | cut -d' ' -f1-2), node $(node --version)"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run_curl "$r"; run_engine "$r"; else run_engine "$r"; run_curl "$r"; fi
  echo "round $r: engine ${EW[-1]} s (peak RSS ${EPK[-1]} kB, +${EDL[-1]} kB over the baseline), curl ${CW[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ew=$(median "${EW[@]}")
cw=$(median "${CW[@]}")
peak=$(printf '%s\n' "${EPK[@]}" | sort -g | tail -1)
delta=$(printf '%s\n' "${EDL[@]}" | sort -g | tail -1)
mbs() { awk -v b="$BYTES" -v t="$1" 'BEGIN {printf "%.0f", b / 1e6 / t}'; }
ratio=$(awk -v e="$ew" -v c="$cw" 'BEGIN {printf "%.2f", c / e}')
ok_rate=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.8) ? "ok" : "MISSED"}')
ok_rss=$(awk -v k="$peak" 'BEGIN {print (k * 1024 < 100e6) ? "ok" : "MISSED"}')
echo "engine $(mbs "$ew") MB/s (${ew} s), curl $(mbs "$cw") MB/s (${cw} s), engine/curl $ratio (bar >= 0.8: $ok_rate)"
echo "engine peak RSS $((peak / 1024)) MiB for the whole process (bar < 100 MB: $ok_rss), +$((delta / 1024)) MiB over its baseline: $((delta / N)) kB per upload, chunk $CHUNK_KB KiB"
# An upload may hold a chunk in memory, never the file: each one's share of the growth must stay
# under its chunk plus 1 MiB (libcurl's buffers, a thread's stack and malloc arena). Not under
# AddressSanitizer, whose quarantine and shadow memory are not the engine's.
if [ $SHORT = 1 ] && ! grep -q '^asan 1' "$B/engine.out" && [ $((delta / N)) -ge $((CHUNK_KB + 1024)) ]; then
  echo "FAIL: each upload grew the process by $((delta / N)) kB: not under its chunk ($CHUNK_KB KiB) + 1 MiB" >&2
  exit 1
fi
[ "$CHECK" = --check ] && { [ $ok_rate = ok ] && [ $ok_rss = ok ] || exit 1; }
exit 0
