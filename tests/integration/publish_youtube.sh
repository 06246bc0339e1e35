#!/usr/bin/env bash
# Publishing to YouTube through the youtube channel kind against tests/servers/youtube.js (strict
# about the resumable-upload protocol): two videos uploaded in 512 KiB chunks through a 500, a
# connection dropped mid-chunk, a chunk the server kept only half of (308), an expired access
# token (401 -> one refresh), a failed status query (503) and a slow answer; each posted exactly
# once, bytes intact, receipts holding the platform's video id and URL. Then quotaExceeded on the
# upload's start (the attempt fails busy and the retry posts once), and a refused refresh token
# (the step dead-letters with invalid_grant, no retry storm). No secret or token in any log, error
# or row.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/publish_common.bash"
start_platform youtube
B="http://127.0.0.1:$YOUTUBE_PORT"
C=$T/ain.lua
YT="api_url = \"$B\", token_url = \"$B/token\", client_id_secret = \"client_id\", client_secret_secret = \"client_secret\", chunk_kb = 512, retry_base_ms = 20, quota_retry_ms = 1000, privacy_status = \"unlisted\", category_id = \"28\", watch_url = \"https://youtu.be\""
write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
  "secrets_dir = \"$T/secrets\"" 'trends = { source = "" }' \
  "channels = { yt = { kind = \"youtube\", $YT, refresh_token_secret = \"refresh\" }, yt_bad = { kind = \"youtube\", $YT, refresh_token_secret = \"bad_refresh\" } }"
"$AIN_BIN" migrate -c "$C" > /dev/null

head -c 1500000 /dev/urandom > "$T/a.mp4"
head -c 1300000 /dev/urandom > "$T/b.mp4"
KA=$(put_video "$T/a.mp4")
KB=$(put_video "$T/b.mp4")

# --- faults during the uploads ---------------------------------------------------------------------
for f in 500 drop short 401 slow=300; do control youtube "{\"fault\":\"$f\"}"; done
control youtube '{"fault":"503","kind":"query"}'
enqueue_video vid-a "$KA" '["yt"]'
enqueue_video vid-b "$KB" '["yt"]'
run_idle
st=$(pstats youtube)
jq -c '.log[]' <<< "$st" > "$T/youtube-log.jsonl" # kept with the temp dir when a check fails
for v in vid-a vid-b; do
  assert_eq "$(jq -r ".by_title[\"$v\"]" <<< "$st")" 1 "$v posted once"
done
assert_eq "$(jq -r '.posts | length' <<< "$st")" 2 "two posts in all"
for v in a b; do
  sha=$(sha256sum "$T/$v.mp4" | cut -c1-64)
  assert_eq "$(jq -r ".posts[] | select(.title == \"vid-$v\") | .sha256" <<< "$st")" "$sha" "vid-$v bytes intact"
  id=$(jq -r ".posts[] | select(.title == \"vid-$v\") | .id" <<< "$st")
  assert_eq "$(sql "SELECT post_id || ' ' || url FROM publish_receipts WHERE video_id = 'vid-$v'")" "$id https://youtu.be/$id" "vid-$v receipt holds the post id and url"
done
assert_eq "$(jq -r '[.posts[] | .privacy + "/" + .category] | unique | join(",")' <<< "$st")" "unlisted/28" "privacy and category from the config"
jq -e '[.log[] | select(.kind == "held" and .phase == "mid-chunk")] | length == 1' <<< "$st" > /dev/null || fail "no connection was dropped mid-chunk"
jq -e '.refreshes >= 2 and .requests.query >= 2' <<< "$st" > /dev/null || fail "no refresh after the 401 or no status query: $(jq -c '{refreshes, requests}' <<< "$st")"
assert_eq "$(sql "SELECT count(*) FROM videos WHERE status = 'published'")" 2 "both videos published"
ok "two uploads through 500, drop, 308-short, 401, 503 and slow: one post each, bytes and receipts right"

# --- quotaExceeded on the start: busy, then the retry posts once ----------------------------------
head -c 400000 /dev/urandom > "$T/c.mp4"
KC=$(put_video "$T/c.mp4")
control youtube '{"fault":"quota","kind":"init"}'
enqueue_video vid-c "$KC" '["yt"]'
run_idle
st=$(pstats youtube)
assert_eq "$(jq -r '.by_title["vid-c"]' <<< "$st")" 1 "vid-c posted once after the quota refusal"
[ "$(sql "SELECT count(*) FROM audit_log WHERE detail LIKE '%EBUSY%quotaExceeded%' OR detail LIKE '%quotaExceeded%'")" -ge 1 ] || fail "the quota refusal is not in the audit"
ok "quotaExceeded: the attempt fails busy, the retry posts once"

# --- a refused refresh token: dead-lettered at once, clearly, without the secret ------------------
head -c 300000 /dev/urandom > "$T/d.mp4"
KD=$(put_video "$T/d.mp4")
enqueue_video vid-d "$KD" '["yt_bad"]'
run_idle
PT=$(sql "SELECT id FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = 'vid-d')")
assert_eq "$(sql "SELECT status || ' ' || attempts FROM tasks WHERE id = '$PT'")" "dead 1" "a refused refresh is not retried"
assert_contains "$(sql "SELECT last_error FROM tasks WHERE id = '$PT'")" "invalid_grant" "the error says why"
assert_eq "$(jq -r '.by_title["vid-d"] // 0' <<< "$(pstats youtube)")" 0 "nothing posted for vid-d"
ok "a refused refresh token dead-letters the step with invalid_grant"

# --- no secret and no access token anywhere ---------------------------------------------------
sqlite3 "$T/ain.db" .dump > "$T/dump.sql"
for secret in "$REFRESH" "$CLIENT_SECRET" "ya29."; do
  for f in "$T/run.err" "$T/run.out" "$T/dump.sql"; do
    ! grep -q -- "$secret" "$f" || fail "a secret or token appears in $(basename "$f")"
  done
done
ok "no secret or access token in logs, errors or the store"
