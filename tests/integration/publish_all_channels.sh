#!/usr/bin/env bash
# The end-to-end publish of issue 14 §7: one engine run publishes two real MP4s to four channels
# (youtube, tiktok, instagram, webhook), each against its test server (tests/servers/) injecting
# faults meanwhile: YouTube a 308 that kept half a chunk, a 500 and a connection dropped
# mid-chunk; TikTok a 500 on a chunk and an expired token (401 -> one refresh); Instagram a 500
# on the container's creation and a container IN_PROGRESS for several polls; the webhook a 500
# and then success. Then: every server counts exactly one post per video, and the store holds
# one receipt per (video, channel) naming the platform's post id and URL. Then the scheduled
# analytics pull (analytics.interval_s = 1) fills post_metrics with the numbers the servers
# report (YouTube: no shares; a 503 on the statistics read is retried), the webhook counted as
# unsupported, and `ain stats --posts --json` shows them.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/publish_common.bash"
command -v ffmpeg > /dev/null || fail "ffmpeg is required"

# --- four servers, four channels ---------------------------------------------------------------
IG_TOKEN="IGQVJ-it-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
HOOK_KEY="hook-key-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$IG_TOKEN" > "$T/secrets/ig_token"
printf '%s' "$HOOK_KEY" > "$T/secrets/hook_key"
chmod 600 "$T/secrets/ig_token" "$T/secrets/hook_key"
mkdir -p "$T/var/objects"
spawn_platform youtube
spawn_platform tiktok
spawn_server instagram instagram.js --token "$IG_TOKEN"
spawn_server hook webhook_receiver.js --secret "$HOOK_KEY" --audience hook --files "$T/var/objects"
for s in youtube tiktok instagram hook; do await_server $s; done
YB="http://127.0.0.1:$YOUTUBE_PORT" TB="http://127.0.0.1:$TIKTOK_PORT"
IB="http://127.0.0.1:$INSTAGRAM_PORT" HB="http://127.0.0.1:$HOOK_PORT"
AUTH='client_id_secret = "client_id", client_secret_secret = "client_secret", refresh_token_secret = "refresh", retry_base_ms = 20'
C=$T/ain.lua
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
  "secrets_dir = \"$T/secrets\"" 'trends = { source = "" }' \
  "channels = {
    yt = { kind = \"youtube\", api_url = \"$YB\", token_url = \"$YB/token\", $AUTH, chunk_kb = 512, quota_retry_ms = 1000 },
    tt = { kind = \"tiktok\", api_url = \"$TB\", token_url = \"$TB/v2/oauth/token/\", $AUTH, poll_ms = 50, privacy_level = \"PUBLIC_TO_EVERYONE\", account = \"pubber\" },
    ig = { kind = \"instagram\", ig_user_id = \"17841400000000001\", access_token_secret = \"ig_token\", api_url = \"$IB\", upload_url = \"$IB/ig-api-upload\", poll_interval_ms = 50, retry_base_ms = 20 },
    hook = { kind = \"webhook\", url = \"$HB/hook\", jwt_secret = \"hook_key\", audience = \"hook\", media_base_url = \"$HB/__files\", retry_base_ms = 20 },
  }"
"$AIN_BIN" migrate -c "$C" > /dev/null

printf 'return { id = "pubber", voice = {}, style = {}, channels = { "yt", "tt", "ig", "hook" } }\n' > "$S/personas/pubber.lua"
# The pipeline of tests/fixtures/publish plus a script step, so that each video has its own
# title (YouTube's and TikTok's post title, Instagram's caption) as the real pipeline gives it.
cat > "$S/agents/allch.lua" << 'EOF'
return {
  script = function(p, ctx)
    return { title = p.title, text = "Demo video " .. p.title, hashtags = { "ain", "demo" } }
  end,
}
EOF
cat > "$S/agents/pipeline.lua" << 'EOF'
return {
  build = function(payload, ctx)
    local deps = { "review_gate", "judge", "render", "script" }
    local steps = {
      { name = "render", handler = "lua:fixture.render", payload = payload },
      { name = "script", handler = "lua:allch.script", payload = payload },
      { name = "judge", handler = "lua:fixture.judge", deps = { "render" }, payload = payload },
      { name = "review_gate", handler = "review_gate", deps = { "judge", "render" } },
    }
    for i, ch in ipairs(payload.channels) do
      steps[#steps + 1] = { name = i == 1 and "publish" or ("publish_" .. ch), handler = "publish",
        deps = deps, max_attempts = 5, payload = { channel = ch } }
    end
    return { steps = steps }
  end,
}
EOF

# Two short real MP4s (Instagram and the webhook receiver check the "ftyp" box): ~1 MB each, so
# YouTube takes them in 512 KiB chunks.
ffmpeg -v error -y -f lavfi -i "testsrc2=size=160x120:rate=25" -vf noise=alls=60:allf=t -t 1.2 \
  -pix_fmt yuv420p -c:v libx264 -preset ultrafast -qp 0 "$T/a.mp4"
ffmpeg -v error -y -f lavfi -i "testsrc=size=160x120:rate=25" -vf noise=alls=60:allf=t -t 1.0 \
  -pix_fmt yuv420p -c:v libx264 -preset ultrafast -qp 0 "$T/b.mp4"
[ "$(stat -c %s "$T/b.mp4")" -gt 600000 ] || fail "the test video is too small to take several chunks"
KA=$(put_video "$T/a.mp4")
KB=$(put_video "$T/b.mp4")

# --- the faults, armed before the run --------------------------------------------------------------
control youtube '{"fault":"short"}'
control youtube '{"fault":"500"}'
control youtube '{"fault":"drop"}'
control tiktok '{"fault":"500"}'
control tiktok '{"fault":"401","kind":"init"}'
control instagram '{"fault":"500","route":"media"}'
control instagram '{"fault":"polls","value":3}'
control hook '{"fault":"500","route":"hook"}'

CH='["yt","tt","ig","hook"]'
for v in a b; do
  task_msg generate_video "{\"video_id\":\"vid-$v\",\"title\":\"Demo $v\",\"decision\":\"pass\",\"confidence\":0.95,\"video_key\":\"$(eval echo \$K${v^^})\",\"channels\":$CH}" pubber > "$T/msg-$v.json"
  "$AIN_BIN" enqueue -c "$C" "$T/msg-$v.json" > /dev/null
done
t0=$(date +%s)
run_idle
echo "# publish run: $(( $(date +%s) - t0 )) s" >&2

# --- one post per video per channel, after the faults ---------------------------------------------
yt=$(pstats youtube) tt=$(pstats tiktok) ig=$(pstats instagram) hk=$(pstats hook)
jq -c '.log[]' <<< "$yt" > "$T/youtube-log.jsonl"
jq -c '.log[]' <<< "$tt" > "$T/tiktok-log.jsonl"
for v in a b; do
  assert_eq "$(jq -r ".by_title[\"Demo $v\"]" <<< "$yt")" 1 "YouTube: vid-$v posted once"
  assert_eq "$(jq -r ".by_title[\"Demo $v\"]" <<< "$tt")" 1 "TikTok: vid-$v posted once"
  assert_eq "$(jq -r ".posts_by_caption[\"Demo $v\n\n#ain #demo\"]" <<< "$ig")" 1 "Instagram: vid-$v posted once"
  assert_eq "$(jq -r ".by_video[\"vid-$v\"]" <<< "$hk")" 1 "webhook: vid-$v posted once"
  sha=$(sha256sum "$T/$v.mp4" | cut -c1-64)
  assert_eq "$(jq -r ".posts[] | select(.title == \"Demo $v\") | .sha256" <<< "$yt")" "$sha" "YouTube: vid-$v bytes intact"
  assert_eq "$(jq -r ".posts[] | select(.title == \"Demo $v\") | .sha256" <<< "$tt")" "$sha" "TikTok: vid-$v bytes intact"
done
assert_eq "$(jq '.posts | length' <<< "$yt") $(jq '.posts | length' <<< "$tt") $(jq .posts <<< "$ig") $(jq .posts <<< "$hk")" "2 2 2 2" "two posts on each platform in all"
# the faults did happen
jq -e '[.log[] | select(.kind == "held" and .phase == "mid-chunk")] | length == 1' <<< "$yt" > /dev/null || fail "YouTube: no connection dropped mid-chunk"
jq -e '[.log[] | select(.kind == "refused" and .code == 500)] | length >= 1' <<< "$yt" > /dev/null || fail "YouTube: no 500"
jq -e '[.log[] | select(.kind == "chunk" and .len == 262144 and .held < .total)] | length >= 1' <<< "$yt" > /dev/null || fail "YouTube: no chunk kept short (308 resume)"
jq -e '.requests.query >= 1' <<< "$yt" > /dev/null || fail "YouTube: no offset query after the 500 or the drop"
jq -e '[.log[] | select(.kind == "refused" and .code == 500)] | length >= 1' <<< "$tt" > /dev/null || fail "TikTok: no 500 on a chunk"
jq -e '.refreshes >= 2' <<< "$tt" > /dev/null || fail "TikTok: no refresh after the expired token"
jq -e '.rejected >= 1 and .containers == 2' <<< "$ig" > /dev/null || fail "Instagram: the 500 or the containers: $(jq -c . <<< "$ig")"
jq -e '.rejected >= 1' <<< "$hk" > /dev/null || fail "webhook: no 500"
ok "2 videos x 4 channels through 308/500/drop, 500/401, 500/IN_PROGRESS, 500: one post per video per channel"

# --- receipts: one per (video, channel), naming the platform's post ----------------------------------
assert_eq "$(sql "SELECT count(*) || ' ' || count(DISTINCT video_id || '/' || channel) FROM publish_receipts")" "8 8" "eight receipts, one per pair"
for v in a b; do
  id=$(jq -r ".posts[] | select(.title == \"Demo $v\") | .id" <<< "$yt")
  assert_eq "$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v' AND channel = 'yt'")" "$id https://youtu.be/$id" "vid-$v: the YouTube receipt"
  id=$(jq -r ".posts[] | select(.title == \"Demo $v\") | .id" <<< "$tt")
  assert_eq "$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v' AND channel = 'tt'")" "$id https://www.tiktok.com/@pubber/video/$id" "vid-$v: the TikTok receipt"
  r=$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v' AND channel = 'ig'")
  [[ "$r" =~ ^[0-9]+\ https://www\.instagram\.com/reel/ ]] || fail "vid-$v: the Instagram receipt: '$r'"
  r=$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v' AND channel = 'hook'")
  [[ "$r" =~ ^[^\ ]+\ http ]] || fail "vid-$v: the webhook receipt: '$r'"
done
assert_eq "$(sql "SELECT count(*) FROM videos WHERE status = 'published'")" 2 "both videos published"
ok "eight receipts name the platforms' post ids and URLs"

# --- the analytics pull ------------------------------------------------------------------------
for v in a b; do # counts of our own, so the rows can only come from the servers
  n=$([ $v = a ] && echo 1 || echo 2)
  curl -sf -X POST -d "{\"title\":\"Demo $v\",\"views\":${n}001,\"likes\":${n}2,\"comments\":${n}3}" "$YB/__metrics" > /dev/null
  curl -sf -X POST -d "{\"title\":\"Demo $v\",\"views\":${n}101,\"likes\":${n}4,\"comments\":${n}5,\"shares\":${n}6}" "$TB/__metrics" > /dev/null
done
control youtube '{"fault":"503","kind":"stats"}'
echo 'analytics = { interval_s = 1, max_age_days = 1 }' >> "$C"
# a node that keeps running (no --until-idle): its analytics thread pulls every second
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$T/e.err" &
pid=$!; CLEANUP_PIDS+=("$pid")
for _ in $(seq 300); do
  [ "$(sql "SELECT count(DISTINCT receipt_id) FROM post_metrics")" -ge 6 ] && break
  sleep 0.1
done
kill "$pid"; wait "$pid" 2> /dev/null || true
metric() { # VIDEO CHANNEL -> "views likes comments shares" of its latest row (NULL as -)
  sql "SELECT coalesce(m.views, '-') || ' ' || coalesce(m.likes, '-') || ' ' || coalesce(m.comments, '-') || ' ' || coalesce(m.shares, '-')
       FROM post_metrics m JOIN publish_receipts r ON r.id = m.receipt_id
       WHERE r.video_id = '$1' AND r.channel = '$2' ORDER BY m.id DESC LIMIT 1"
}
assert_eq "$(metric vid-a yt)" "1001 12 13 -" "vid-a on YouTube (no shares reported)"
assert_eq "$(metric vid-b yt)" "2001 22 23 -" "vid-b on YouTube"
assert_eq "$(metric vid-a tt)" "1101 14 15 16" "vid-a on TikTok"
assert_eq "$(metric vid-b tt)" "2101 24 25 26" "vid-b on TikTok"
assert_eq "$(metric vid-a ig)" "120 3 1 2" "vid-a on Instagram (the server's insights)"
assert_eq "$(metric vid-b ig)" "120 3 1 2" "vid-b on Instagram"
assert_eq "$(sql "SELECT count(*) FROM post_metrics m JOIN publish_receipts r ON r.id = m.receipt_id WHERE r.channel = 'hook'")" 0 "the webhook reports no metrics"
jq -e '[.log[] | select(.kind == "refused" and .code == 503)] | length >= 1' <<< "$(pstats youtube)" > /dev/null || fail "YouTube: the 503 on statistics did not happen"
grep -q 'analytics: 8 post(s): 6 pulled, 2 without metrics, 0 failed' "$T/e.err" ||
  fail "no clean pull in the log: $(grep 'analytics:' "$T/e.err" | head -3)"
ok "the scheduled pull fills post_metrics from YouTube, TikTok and Instagram; the webhook is unsupported"

js=$("$AIN_BIN" stats --posts -c "$C" --json)
assert_eq "$(jq -c '[.posts[] | select(.video_id == "vid-a" and .channel == "tt") | [.views, .likes, .comments, .shares]][0]' <<< "$js")" "[1101,14,15,16]" "ain stats --posts --json: vid-a on TikTok"
assert_eq "$(jq -c '[.posts[] | select(.video_id == "vid-b" and .channel == "yt") | [.views, .shares]][0]' <<< "$js")" "[2001,null]" "ain stats --posts --json: vid-b on YouTube"
assert_eq "$(jq -c '[.posts[] | .channel] | sort | unique' <<< "$js")" '["ig","tt","yt"]' "stats list the channels with metrics"
assert_eq "$(jq -c '.totals | [.posts, .views]' <<< "$js")" "[6,$((1001 + 2001 + 1101 + 2101 + 240))]" "stats totals"
ok "ain stats --posts --json shows the pulled metrics"

# --- a takedown on every channel: YouTube through videos.delete (a 500 first, retried); TikTok
# and Instagram have no delete call and the webhook no delete_url: manual takedowns, raised.
control youtube '{"fault":"500","kind":"delete"}'
js=$("$AIN_BIN" unpublish vid-a --reason "takedown test" -c "$C" --json 2> "$T/unpub.err") ||
  fail "ain unpublish vid-a: $(cat "$T/unpub.err")"
outcome() { jq -r --arg c "$2" '.posts[] | select(.channel == $c) | .outcome' <<< "$1"; }
assert_eq "$(outcome "$js" yt)" unpublished "vid-a on YouTube: deleted through the API"
for c in tt ig hook; do assert_eq "$(outcome "$js" $c)" takedown_required "vid-a on $c: a manual takedown"; done
ytid=$(sql "SELECT post_id FROM publish_receipts WHERE video_id = 'vid-a' AND channel = 'yt'")
assert_eq "$(jq -c --arg id "$ytid" '[.posts[] | select(.id == $id) | .deleted]' <<< "$(pstats youtube)")" "[true]" "the YouTube server deleted vid-a"
assert_eq "$(jq '[.log[] | select(.kind == "refused" and .code == 500)] | length >= 1' <<< "$(pstats youtube)")" true "the 500 on videos.delete happened"
assert_eq "$("$AIN_BIN" takedowns -c "$C" | grep -c vid-a)" 3 "ain takedowns lists vid-a's three manual takedowns"
# A video removed in YouTube Studio meanwhile: videos.delete says 404, which is "already gone".
ytb=$(sql "SELECT post_id FROM publish_receipts WHERE video_id = 'vid-b' AND channel = 'yt'")
curl -sf -X POST -d "{\"id\":\"$ytb\",\"deleted\":true}" "http://127.0.0.1:$(cat "$T/youtube.port")/__metrics" > /dev/null
js=$("$AIN_BIN" unpublish vid-b --channel yt --reason "gone already" -c "$C" --json 2> "$T/unpub.err") ||
  fail "ain unpublish vid-b --channel yt: $(cat "$T/unpub.err")"
assert_eq "$(outcome "$js" yt)" unpublished "vid-b on YouTube: a 404 from videos.delete is already gone"
assert_eq "$(jq '.requests.delete' <<< "$(pstats youtube)")" 3 "videos.delete calls (a 500, vid-a, vid-b)"
ok "takedowns: YouTube through videos.delete (retried past a 500; a 404 is already gone), manual for the others"

# --- no secret in any log or row ------------------------------------------------------------------
sqlite3 "$T/ain.db" .dump > "$T/dump.sql"
for secret in "$REFRESH" "$CLIENT_SECRET" "$IG_TOKEN" "$HOOK_KEY" "ya29."; do
  for f in "$T/run.err" "$T/e.err" "$T/dump.sql"; do
    ! grep -qF -- "$secret" "$f" || fail "a secret or token appears in $(basename "$f")"
  done
done
ok "no secret or access token in logs or the store"
