#!/usr/bin/env bash
# Compensation and the scheduled analytics pull through the real engine (engine/sched/
# compensate.c, publish/analytics.c): the outbox path is a file, so every publish fails; past its
# retries (2 attempts) the task is dead-lettered and the policy publisher.compensate runs: with
# publish.compensation "flag" the video is flagged (status flagged, an audit row naming the
# failed channel and the error, ain_publish_compensations_total{action="flag"}). A video that
# did publish is left alone. Then a node with analytics.interval_s = 1 pulls the live posts:
# the outbox kind reports no metrics (ain_post_metrics_pulls_total{result="unsupported"}), and
# `ain stats --posts` says nothing was pulled.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
review_engine_config # S, C: the fixture judge, the outbox channel, the API (api_common.bash)
head -c 20000 /dev/urandom > "$T/v.mp4"; head -c 500 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4); TK=$(put_object "$T/t.jpg" jpg)
msg() { # VIDEO_ID
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"pass\",\"confidence\":0.95,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\",\"publish_attempts\":2}" techie_tina
}
# a video that publishes first, while the outbox is a folder
msg vid-ok > "$T/ok.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/ok.jsonl" > /dev/null
timeout 60 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run1.err" || fail "run: $(tail -5 "$T/run1.err")"
assert_eq "$(sql "select status from videos where id='vid-ok'")" published "the first video published"
# now the outbox cannot be written: a file where its folder should be
mv "$T/outbox" "$T/outbox.real"; echo "not a folder" > "$T/outbox"
msg vid-bad > "$T/bad.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/bad.jsonl" > /dev/null
api_start "$C"
for _ in $(seq 200); do
  [ "$(sql "select status from videos where id='vid-bad'")" = flagged ] && break
  sleep 0.1
done
assert_eq "$(sql "select status from videos where id='vid-bad'")" flagged "the failed video is flagged"
assert_eq "$(sql "select count(*) from tasks where handler='publish' and status='dead'")" 1 "its publish is dead-lettered"
row=$(sql "select actor || ' ' || detail from audit_log where to_status='video:flagged'")
assert_contains "$row" "/compensation " "the compensation's actor"
assert_contains "$row" "publish to outbox failed" "the audit names the channel"
assert_contains "$row" "EIO" "and the error"
assert_eq "$(sql "select status from videos where id='vid-ok'")" published "the other video is left alone"
m=$(call "$V" /metrics); expect "$m" 200 - "metrics"
assert_contains "$m" 'ain_publish_compensations_total{action="flag"} 1' "the compensation counted"
ok "a publish dead-lettered past its retries flags its video through publisher.compensate"
kill "$pid"; wait "$pid" 2> /dev/null || true

# --- the scheduled analytics pull ---------------------------------------------------------------
rm "$T/outbox"; mv "$T/outbox.real" "$T/outbox"
echo 'analytics = { interval_s = 1, max_age_days = 1 }' >> "$C"
api_start "$C"
for _ in $(seq 100); do
  m=$(call "$V" /metrics)
  case "$m" in *'ain_post_metrics_pulls_total{channel="outbox",result="unsupported"}'*) break;; esac
  sleep 0.1
done
assert_contains "$m" 'ain_post_metrics_pulls_total{channel="outbox",result="unsupported"} ' "the pull ran on its thread"
grep -q '"analytics: 1 post(s): 0 pulled, 1 without metrics, 0 failed"' "$T/e.err" ||
  grep -q 'analytics: 1 post(s): 0 pulled, 1 without metrics, 0 failed' "$T/e.err" || fail "no pull in the log: $(grep analytics "$T/e.err" | head -3)"
assert_contains "$("$AIN_BIN" stats --posts -c "$C")" "no post metrics pulled yet" "ain stats --posts"
assert_eq "$("$AIN_BIN" stats --posts -c "$C" --json | jq -c '.totals')" '{"posts":0,"views":0,"likes":0,"comments":0,"shares":0}' "ain stats --posts --json"
set +e
"$AIN_BIN" stats --posts -c "$C" --since soon > /dev/null 2>&1; rc=$?
set -e
assert_eq "$rc" 2 "a bad --since"
kill "$pid"; wait "$pid" 2> /dev/null || true
ok "the analytics thread pulls live posts every interval_s (the outbox reports none); ain stats --posts"
