#!/usr/bin/env bash
# Crash safety of uploads: kill -9 the engine at every phase of a YouTube resumable upload
# against tests/servers/youtube.js, restart it, and prove exactly one post per video:
#   after-init  the session exists (saved), the first chunk is held by the server unanswered;
#   mid-chunk   the first chunk acknowledged and saved, the second half-received and held;
#   after-last  the last chunk taken and the post made, its answer held (no receipt yet).
# Each kill is proven to land mid-work: the server logged the held request and the store holds
# the session at the saved offset, with no receipt. The restarted engine reclaims the dead lease,
# asks the session where it stands and continues, or finds the finished post.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/publish_common.bash"
start_platform youtube
B="http://127.0.0.1:$YOUTUBE_PORT"
C=$T/ain.lua
write_config "$C" "$S" 'queue = { lease_ms = 1000, reap_interval_ms = 200, poll_ms = 50, retry_base_ms = 50, retry_max_ms = 200 }' \
  "secrets_dir = \"$T/secrets\"" 'trends = { source = "" }' \
  "channels = { yt = { kind = \"youtube\", api_url = \"$B\", token_url = \"$B/token\", client_id_secret = \"client_id\", client_secret_secret = \"client_secret\", refresh_token_secret = \"refresh\", chunk_kb = 256, retry_base_ms = 20 } }"
"$AIN_BIN" migrate -c "$C" > /dev/null

# phase name, server fault, matching chunks to let through first (3 chunks of 256 KiB per video)
held_seen=()
PHASES=("after-init hold 0" "mid-chunk hold_mid 1" "after-last hold_done 2")
for p in "${PHASES[@]}"; do
  read -r phase fault skip <<< "$p"
  v="vid-$phase"
  head -c 700000 /dev/urandom > "$T/$v.mp4"
  key=$(put_video "$T/$v.mp4")
  control youtube "{\"fault\":\"$fault\",\"skip\":$skip}"
  enqueue_video "$v" "$key" '["yt"]'
  "$AIN_BIN" run -c "$C" --no-progress > "$T/run-$phase.out" 2> "$T/run-$phase.err" &
  pid=$!
  CLEANUP_PIDS+=("$pid")
  held=0
  for _ in $(seq 600); do # up to 30 s on a loaded machine
    if pstats youtube | jq -e '[.log[] | select(.kind == "held")] | length == '"$(( ${#held_seen[@]} + 1 ))" > /dev/null 2>&1; then held=1; break; fi
    sleep 0.05
  done
  kill -9 "$pid"; wait "$pid" 2> /dev/null || true
  [ "$held" = 1 ] || fail "$phase: the server never held a request (no crash mid-upload)"
  held_seen+=("$phase")
  KEY=$(printf '%s' "${v}yt" | sha256sum | cut -c1-64)
  assert_eq "$(sql "SELECT count(*) FROM publish_receipts WHERE video_id = '$v'")" 0 "$phase: no receipt at the kill"
  state=$(sql "SELECT state FROM publish_sessions WHERE idempotency_key = '$KEY'")
  posts=$(pstats youtube | jq -r ".by_title[\"$v\"] // 0")
  case $phase in
    after-init) jq -e '.offset == 0 and (.upload_url | test("upload_id="))' <<< "$state" > /dev/null || fail "$phase: session $state"
                assert_eq "$posts" 0 "$phase: no post yet" ;;
    mid-chunk)  jq -e '.offset == 262144' <<< "$state" > /dev/null || fail "$phase: session $state"
                assert_eq "$posts" 0 "$phase: no post yet" ;;
    after-last) jq -e '.offset == 524288' <<< "$state" > /dev/null || fail "$phase: session $state"
                assert_eq "$posts" 1 "$phase: the platform made the post before the kill" ;;
  esac
  echo "# $phase: killed with session $state, $posts post(s)"
  timeout 120 "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/rerun-$phase.out" 2> "$T/rerun-$phase.err" || fail "$phase: restart: $(tail -5 "$T/rerun-$phase.err")"
  st=$(pstats youtube)
  assert_eq "$(jq -r ".by_title[\"$v\"]" <<< "$st")" 1 "$phase: exactly one post after the restart"
  sha=$(sha256sum "$T/$v.mp4" | cut -c1-64)
  assert_eq "$(jq -r ".posts[] | select(.title == \"$v\") | .sha256" <<< "$st")" "$sha" "$phase: bytes intact"
  id=$(jq -r ".posts[] | select(.title == \"$v\") | .id" <<< "$st")
  assert_eq "$(sql "SELECT post_id FROM publish_receipts WHERE video_id = '$v'")" "$id" "$phase: the receipt names the post"
  assert_eq "$(sql "SELECT status FROM videos WHERE id = '$v'")" published "$phase: video published"
  ok "kill -9 $phase: resumed, one post, receipt with its id"
done
assert_eq "$(pstats youtube | jq -r '.posts | length')" 3 "three posts for three videos"
