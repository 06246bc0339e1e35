#!/usr/bin/env bash
# The review queue over HTTP (engine/ops/review.h, the functions of `ain review`): GET
# /v1/reviews (status, limit), GET /v1/reviews/{id} (the safety report), POST
# /v1/reviews/{id}/approve|reject with If-Match: two reviewers racing on one version get one 200
# and one 409 naming both versions; a decision without If-Match is 428; a viewer is 403; bad
# bodies, ids, methods are refused. The video reaches review through the real review_gate.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
review_engine_config # S, C: the fixture judge, the outbox channel, the API (api_common.bash)
head -c 20000 /dev/urandom > "$T/v.mp4"; head -c 500 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4); TK=$(put_object "$T/t.jpg" jpg)
for v in vid-a vid-b; do
  task_msg generate_video "{\"video_id\":\"$v\",\"decision\":\"review\",\"confidence\":0.6,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"}" techie_tina >> "$T/msg.jsonl"
done
"$AIN_BIN" enqueue -c "$C" "$T/msg.jsonl" > /dev/null
timeout 60 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"
assert_eq "$(sql "select count(*) from videos where status='in_review'")" 2 "two videos in review"
api_start "$C"
R2=$("$AIN_BIN" token issue -c "$C" --sub rob --role reviewer)

r=$(call "$V" /v1/reviews); expect "$r" 200 - "list"
assert_eq "$(jq -c '[.reviews[].video_id] | sort' <<< "${r#* }")" '["vid-a","vid-b"]' "pending reviews"
r=$(call "$V" "/v1/reviews?status=approved"); assert_eq "$(jq '.reviews | length' <<< "${r#* }")" 0 "none approved"
r=$(call "$V" "/v1/reviews?limit=1&status=all"); assert_eq "$(jq '.reviews | length' <<< "${r#* }")" 1 "limit"
r=$(call "$V" "/v1/reviews?status=maybe"); expect "$r" 400 status "a bad status"
r=$(call "$V" "/v1/reviews?limit=0"); expect "$r" 400 limit "limit 0"
r=$(call "$V" "/v1/reviews?sort=x"); expect "$r" 400 sort "an unknown parameter"
r=$(call "$V" /v1/reviews/vid-a); expect "$r" 200 - "show"
assert_eq "$(jq -c '[.video_id, .review.status, (.checks | length > 0)]' <<< "${r#* }")" '["vid-a","pending",true]' "show fields"
ver=$(jq -r .review.state_version <<< "${r#* }")
r=$(call "$V" /v1/reviews/vid-zzz); expect "$r" 404 - "an unknown video"
r=$(call "$V" /v1/reviews/a..b); expect "$r" 400 id "dots in an id"
ok "GET /v1/reviews (status, limit, 400s) and GET /v1/reviews/{id} (report, 404, 400)"

r=$(call "$V" /v1/reviews/vid-a/approve -X POST -H "If-Match: $ver"); expect "$r" 403 role "a viewer approving"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST); expect "$r" 428 If-Match "no If-Match"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H 'If-Match: soon'); expect "$r" 400 If-Match "a bad If-Match"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: $ver" -d '{"reason":1}'); expect "$r" 400 reason "a number as reason"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: $ver" -d '{"by":"x"}'); expect "$r" 400 by "an unknown field"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: $ver" -d '{"reason":'); expect "$r" 400 body "malformed JSON"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: $ver" --data-binary $'{"reason":"\xff"}'); expect "$r" 400 body "bad UTF-8"
r=$(call "$R" /v1/reviews/vid-a/reject -X POST -H "If-Match: $ver"); expect "$r" 400 - "reject without a reason"
assert_eq "$(sql "select status from reviews where video_id='vid-a'")" pending "refusals changed nothing"
ok "decisions refuse viewers, a missing or bad If-Match, bad bodies, a reject without reason"

call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: \"$ver\"" -d '{"reason":"fine"}' > "$T/ra" &
p1=$!
call "$R2" /v1/reviews/vid-a/reject -X POST -H "If-Match: $ver" -d '{"reason":"not fine"}' > "$T/rb" &
p2=$!
wait "$p1" "$p2"
codes=$(cat "$T/ra" "$T/rb" | cut -d' ' -f1 | sort | tr '\n' ' ')
assert_eq "$codes" "200 409 " "racing reviewers"
lost=$(grep -h '^409' "$T/ra" "$T/rb" | cut -d' ' -f2-)
assert_contains "$(jq -r .error.message <<< "$lost")" "expected version $ver, found version $((ver + 1))" "the 409 names both versions"
winner=$(sql "select reviewer from reviews where video_id='vid-a'")
case "$winner" in rita|rob) ;; *) fail "reviewer recorded: '$winner'";; esac
[ "$(sql "select count(*) from audit_log where actor='operator:$winner'")" -ge 1 ] || fail "no audit row by operator:$winner"
r=$(call "$R" /v1/reviews/vid-a/approve -X POST -H "If-Match: $((ver + 1))"); expect "$r" 409 - "deciding a decided review"
ok "two reviewers race on If-Match $ver: one 200, one 409 naming both versions ($winner won)"

common_refusals POST "/v1/reviews/{id}/approve" GET "$R"
common_refusals POST "/v1/reviews/{id}/reject" PUT "$R"
common_refusals GET "/v1/reviews/{id}" DELETE "$V"
r=$(call "$V" /v1/reviews -X POST); expect "$r" 405 method "POST /v1/reviews"
ok "traversal in ids, wrong methods, no token"
kill -TERM "$pid"; wait "$pid" || true
