#!/usr/bin/env bash
# Publishing to TikTok through the tiktok channel kind against tests/servers/tiktok.js (strict
# about the Content Posting API's chunk rules): an 11.5 MB video in two chunks (5 MB, then the
# 6.5 MB rest) through an expired token on init (401 -> refresh), a 500 and a dropped connection
# on chunks, a 429 with Retry-After and a 500 on the status poll; a 1 MB video as one chunk; and a
# video to both YouTube and TikTok (one post on each, receipts per channel). Then a post TikTok
# fails (FAILED): that publish is dropped and the retry posts once.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/publish_common.bash"
start_platform tiktok
start_platform youtube
TB="http://127.0.0.1:$TIKTOK_PORT"
YB="http://127.0.0.1:$YOUTUBE_PORT"
C=$T/ain.lua
AUTH='client_id_secret = "client_id", client_secret_secret = "client_secret", refresh_token_secret = "refresh", retry_base_ms = 20'
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
  "secrets_dir = \"$T/secrets\"" 'trends = { source = "" }' \
  "channels = { tt = { kind = \"tiktok\", api_url = \"$TB\", token_url = \"$TB/v2/oauth/token/\", $AUTH, chunk_mb = 5, poll_ms = 50, privacy_level = \"PUBLIC_TO_EVERYONE\", account = \"pubber\" }, yt = { kind = \"youtube\", api_url = \"$YB\", token_url = \"$YB/token\", $AUTH, chunk_kb = 1024 } }"
"$AIN_BIN" migrate -c "$C" > /dev/null

head -c 12058624 /dev/urandom > "$T/a.mp4" # 11.5 MiB: chunks of 5 MiB and 6.5 MiB
head -c 1000000 /dev/urandom > "$T/b.mp4"
KA=$(put_video "$T/a.mp4")
KB=$(put_video "$T/b.mp4")
control tiktok '{"fault":"401","kind":"init"}'
control tiktok '{"fault":"500"}'
control tiktok '{"fault":"drop"}'
control tiktok '{"fault":"429","kind":"status"}'
control tiktok '{"fault":"500","kind":"status"}'
control tiktok '{"fault":"slow=300","kind":"status"}'
enqueue_video vid-a "$KA" '["tt"]'
enqueue_video vid-b "$KB" '["tt"]'
run_idle
st=$(pstats tiktok)
jq -c '.log[]' <<< "$st" > "$T/tiktok-log.jsonl"
for v in a b; do
  assert_eq "$(jq -r ".by_title[\"vid-$v\"]" <<< "$st")" 1 "vid-$v posted once"
  sha=$(sha256sum "$T/$v.mp4" | cut -c1-64)
  assert_eq "$(jq -r ".posts[] | select(.title == \"vid-$v\") | .sha256" <<< "$st")" "$sha" "vid-$v bytes intact"
  id=$(jq -r ".posts[] | select(.title == \"vid-$v\") | .id" <<< "$st")
  assert_eq "$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v'")" "$id https://www.tiktok.com/@pubber/video/$id" "vid-$v receipt"
done
assert_eq "$(jq -c '[.log[] | select(.kind == "init")] | map(.count) | sort' <<< "$st")" "[1,2]" "one chunk for 1 MB, two for 11.5 MiB"
jq -e '[.log[] | select(.kind == "held" and .phase == "mid-chunk")] | length == 1' <<< "$st" > /dev/null || fail "no connection dropped mid-chunk"
jq -e '.refreshes >= 3 and .inits == 2' <<< "$st" > /dev/null || fail "refresh after the 401 or inits: $(jq -c '{refreshes, inits}' <<< "$st")"
ok "two TikTok posts through 401, 500, a mid-chunk drop, 429 and 500 on status: once each, bytes and receipts right"

# --- one video to both platforms -------------------------------------------------------------------
head -c 600000 /dev/urandom > "$T/c.mp4"
KC=$(put_video "$T/c.mp4")
enqueue_video vid-c "$KC" '["yt","tt"]'
run_idle
assert_eq "$(pstats tiktok | jq -r '.by_title["vid-c"]')" 1 "vid-c on TikTok once"
assert_eq "$(pstats youtube | jq -r '.by_title["vid-c"]')" 1 "vid-c on YouTube once"
assert_eq "$(sql "SELECT group_concat(channel, ',') FROM (SELECT channel FROM publish_receipts WHERE video_id = 'vid-c' ORDER BY channel)")" "tt,yt" "a receipt per channel"
ok "one video to YouTube and TikTok: one post on each"

# --- TikTok fails the post: that publish is dropped, the retry posts once --------------------------
head -c 500000 /dev/urandom > "$T/d.mp4"
KD=$(put_video "$T/d.mp4")
control tiktok '{"fault":"fail","kind":"status"}'
enqueue_video vid-d "$KD" '["tt"]'
run_idle
st=$(pstats tiktok)
assert_eq "$(jq -r '.by_title["vid-d"]' <<< "$st")" 1 "vid-d posted once after a FAILED publish"
assert_eq "$(jq '[.log[] | select(.kind == "init" and .title == "vid-d")] | length' <<< "$st")" 2 "a new publish after FAILED"
[ "$(sql "SELECT count(*) FROM audit_log WHERE detail LIKE '%file_format_check_failed%'")" -ge 1 ] || fail "the failure reason is not in the audit"
ok "a FAILED TikTok publish is replaced by a new one: one post"
