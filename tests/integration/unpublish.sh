#!/usr/bin/env bash
# Unpublish and takedowns through the real binary (ops/unpublish.h, the functions of `ain
# unpublish`, `ain takedowns` and POST /v1/videos/{id}/unpublish): three videos published to the
# outbox by the review pipeline (fixture judge), then
#   CLI: usage errors (no reason: exit 2), an unknown video (5), a channel the video was not
#        published on (5); a takedown removes the outbox folder, audits post:live ->
#        post:unpublished with the reason and the operator, the video becomes unpublished; a second
#        takedown is not an error ("already") and writes no new audit row;
#   API: no token 401, a viewer 403, a missing reason / a bad body / an unknown field 400 naming
#        the field, an unknown video 404, an unknown channel 404 (field channel); the takedown
#        (200, folder gone, actor operator:bob), twice (already); GET /v1/takedowns; the
#        events stream carries the post's takedown;
#   a compensation by the policy is not exercised here (tests/unit/test_store_posts.c and
#   tests/lua/publisher_spec.lua); the manual path needs a kind without a delete call
#   (test_store_posts.c).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
review_engine_config # S, C: the fixture judge, the outbox channel, the API (api_common.bash)
head -c 20000 /dev/urandom > "$T/v.mp4"; head -c 500 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4); TK=$(put_object "$T/t.jpg" jpg)
for v in vid-a vid-b vid-c; do
  task_msg generate_video "{\"video_id\":\"$v\",\"decision\":\"pass\",\"confidence\":0.95,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"}" techie_tina >> "$T/msg.jsonl"
done
"$AIN_BIN" enqueue -c "$C" "$T/msg.jsonl" > /dev/null
timeout 60 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"
assert_eq "$(sql "select count(*) from videos where status='published'")" 3 "three videos published"
folder() { sql "select location from publish_receipts where video_id='$1'"; }
FA=$(folder vid-a); FB=$(folder vid-b)
[ -d "$FA" ] && [ -d "$FB" ] || fail "outbox folders missing: $FA $FB"
ok "three videos published to the outbox"

# --- CLI ---------------------------------------------------------------------------------------
set +e
"$AIN_BIN" unpublish -c "$C" vid-a > /dev/null 2> "$T/err"; rc=$?
set -e
assert_eq "$rc" 2 "no --reason: usage"
assert_contains "$(cat "$T/err")" "--reason" "the usage error names --reason"
set +e
"$AIN_BIN" unpublish -c "$C" no-such-video --reason x --json > "$T/out" 2> /dev/null; rc=$?
set -e
assert_eq "$rc" 5 "an unknown video: not found"
assert_eq "$(jq -r .error.field "$T/out")" video_id "the error names video_id"
set +e
"$AIN_BIN" unpublish -c "$C" vid-a --channel tiktok --reason x --json > "$T/out" 2> /dev/null; rc=$?
set -e
assert_eq "$rc" 5 "a channel the video is not on: not found"
assert_eq "$(jq -r .error.field "$T/out")" channel "the error names channel"
[ -d "$FA" ] || fail "refusals took the post down"
ok "ain unpublish refuses a missing reason (2), an unknown video (5), a channel it is not on (5)"

out=$(AIN_ACTOR=alice "$AIN_BIN" unpublish -c "$C" vid-a --reason "rights claim #42")
assert_contains "$out" "outbox       unpublished" "the outcome"
assert_contains "$out" "video vid-a: unpublished" "the video's status"
[ ! -e "$FA" ] || fail "the outbox folder is still there: $FA"
[ -z "$(ls -A "$(dirname "$FA")" | grep '^\.unpublished-' || true)" ] || fail "a takedown leftover remains"
assert_eq "$(sql "select status from videos where id='vid-a'")" unpublished "video status"
assert_eq "$(sql "select count(*) from audit_log where from_status='post:live' and to_status='post:unpublished' and actor='operator:alice' and detail like '%rights claim #42%' and detail like '%vid-a%'")" 1 "the post's audit row"
assert_eq "$(sql "select count(*) from audit_log where to_status='video:unpublished' and detail like '%vid-a%'")" 1 "the video's audit row"
rows=$(sql "select count(*) from audit_log")
again=$("$AIN_BIN" unpublish -c "$C" vid-a --reason "again" --json)
assert_eq "$(jq -c '[.posts[0].outcome, .video_status]' <<< "$again")" '["already","unpublished"]' "twice: already"
assert_eq "$(sql "select count(*) from audit_log")" "$rows" "twice writes no audit row"
assert_eq "$("$AIN_BIN" takedowns -c "$C" --all --json | jq -c '[.posts[] | [.video_id, .state, .method, .actor]]')" '[["vid-a","unpublished","api","operator:alice"]]' "ain takedowns --all"
assert_eq "$("$AIN_BIN" unpublish --pending -c "$C")" "no manual takedown pending" "nothing pending"
ok "ain unpublish: folder gone, audited with reason and actor, video unpublished, idempotent"

# --- API ---------------------------------------------------------------------------------------
api_start "$C"
P=/v1/videos/vid-b/unpublish
r=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"x"}' "$U$P"); assert_eq "$r" 401 "no token"
r=$(call "$V" "$P" -X POST -d '{"reason":"x"}'); expect "$r" 403 role "a viewer"
r=$(call "$O" "$P" -X POST -d '{}'); expect "$r" 400 reason "no reason"
r=$(call "$O" "$P" -X POST -d '{"reason":""}'); expect "$r" 400 reason "an empty reason"
r=$(call "$O" "$P" -X POST -d '{"reason":7}'); expect "$r" 400 reason "a number as reason"
r=$(call "$O" "$P" -X POST -d '{"reason":"x","why":1}'); expect "$r" 400 why "an unknown field"
r=$(call "$O" "$P" -X POST -d '{"reason":'); expect "$r" 400 body "malformed JSON"
r=$(call "$O" /v1/videos/no-such/unpublish -X POST -d '{"reason":"x"}'); expect "$r" 404 video_id "an unknown video"
r=$(call "$O" "$P" -X POST -d '{"reason":"x","channel":"tiktok"}'); expect "$r" 404 channel "an unknown channel"
r=$(call "$O" /v1/videos/a..b/unpublish -X POST -d '{"reason":"x"}'); expect "$r" 400 id "dots in an id"
[ -d "$FB" ] || fail "refusals took the post down"
r=$(call "$O" "$P" -X POST -d '{"reason":"policy","channel":"outbox"}'); expect "$r" 200 - "unpublish"
assert_eq "$(jq -c '[.video_id, .video_status, .posts[0].channel, .posts[0].outcome]' <<< "${r#* }")" '["vid-b","unpublished","outbox","unpublished"]' "the answer"
[ ! -e "$FB" ] || fail "the outbox folder is still there: $FB"
assert_eq "$(sql "select count(*) from audit_log where to_status='post:unpublished' and actor='operator:bob' and detail like '%vid-b%'")" 1 "audited with the caller"
r=$(call "$O" "$P" -X POST -d '{"reason":"policy"}'); expect "$r" 200 - "twice"
assert_eq "$(jq -r '.posts[0].outcome' <<< "${r#* }")" already "twice: already"
r=$(call "$V" /v1/takedowns); expect "$r" 200 - "takedowns"
assert_eq "$(jq '.posts | length' <<< "${r#* }")" 0 "none pending"
r=$(call "$V" "/v1/takedowns?all=true&limit=10"); expect "$r" 200 - "all takedowns"
assert_eq "$(jq -c '[.posts[].video_id]' <<< "${r#* }")" '["vid-a","vid-b"]' "both takedowns"
r=$(call "$V" "/v1/takedowns?all=maybe"); expect "$r" 400 all "a bad all"
r=$(call "$V" "/v1/takedowns?limit=0"); expect "$r" 400 limit "limit 0"
curl -s -N --max-time 3 -H "Authorization: Bearer $V" "$U/v1/events?after=0&types=review" > "$T/events" || true
grep -q '"to":"unpublished"' "$T/events" || fail "no takedown event: $(head -c 600 "$T/events")"
grep -q '"video_id":"vid-b"' "$T/events" || fail "no vid-b event"
[ -d "$(folder vid-c)" ] || fail "vid-c was taken down too"
ok "POST /v1/videos/{id}/unpublish: 401/403/400s/404s, the takedown (folder gone, audited), twice; GET /v1/takedowns; events"
