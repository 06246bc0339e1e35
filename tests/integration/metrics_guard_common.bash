# The review-backlog guard (DESIGN §10, store/metrics.h), shared by metrics_guard.sh (SQLite) and
# metrics_guard_pg.sh (Postgres); sourced after lib.bash and api_common.bash with $C written and
# q SQL running one statement on the test's store. The backlog is made by inserting pending
# reviews (and their videos) directly: the guard reads the store, whatever wrote it.
# review = { backlog_pause_at = 3, backlog_resume_at = 1 }, a 150 ms heartbeat.
now_ms() { date +%s%3N; }
add_reviews() { # add_reviews N: N more pending reviews
  local i id t; t=$(now_ms)
  for i in $(seq "$1"); do
    id=v$RANDOM$RANDOM$i
    q "INSERT INTO videos (id, status, decision, confidence, state_version, created_at, updated_at) VALUES ('$id', 'in_review', 'review', 0.5, 1, $t, $t)"
    q "INSERT INTO reviews (video_id, status, state_version, created_at, updated_at) VALUES ('$id', 'pending', 1, $t, $t)"
  done
}
decide_all() { q "UPDATE reviews SET status = 'approved' WHERE status = 'pending'"; }
paused() { "$AIN_BIN" publishers status -c "$C" --json | jq -r .paused; }
wait_paused() { # wait_paused true|false WHAT
  for _ in $(seq 200); do [ "$(paused)" = "$1" ] && return 0; sleep 0.05; done
  fail "$2: publishers.paused never became $1"
}
stays_paused() { # stays_paused true|false WHAT: for 10 heartbeats
  for _ in $(seq 15); do [ "$(paused)" = "$1" ] || fail "$2: publishers.paused became $(paused)"; sleep 0.1; done
}
metric() { curl -s -H "Authorization: Bearer $V" "$U/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

run_guard_test() {
  # --- config refusals ---------------------------------------------------------------------------
  cp "$C" "$T/bad.lua"; echo 'review = { backlog_pause_at = 5 }' >> "$T/bad.lua"
  out=$("$AIN_BIN" stats -c "$T/bad.lua" 2>&1) && fail "pause_at alone accepted"
  assert_contains "$out" "review.backlog_resume_at" "pause_at alone"
  cp "$C" "$T/bad.lua"; echo 'review = { backlog_pause_at = 5, backlog_resume_at = 5 }' >> "$T/bad.lua"
  out=$("$AIN_BIN" stats -c "$T/bad.lua" 2>&1) && fail "resume_at = pause_at accepted"
  assert_contains "$out" "'review.backlog_resume_at' (5) must be below 'review.backlog_pause_at' (5)" "resume_at = pause_at"
  cp "$C" "$T/bad.lua"; echo 'review = { backlog_pause_at = "x", backlog_resume_at = 1 }' >> "$T/bad.lua"
  out=$("$AIN_BIN" stats -c "$T/bad.lua" 2>&1) && fail "a string pause_at accepted"
  assert_contains "$out" "review.backlog_pause_at" "a string pause_at"
  ok "config: review.backlog_* refused alone, out of order and mistyped, naming the key"

  echo 'review = { backlog_pause_at = 3, backlog_resume_at = 1 }' >> "$C"
  echo 'cluster = { heartbeat_ms = 150 }' >> "$C"
  api_start "$C"
  for _ in $(seq 200); do grep -q 'engine started' "$T/e.err" && break; sleep 0.05; done
  t=$(now_ms)
  q "INSERT INTO tasks (id, type, handler, payload, status, max_attempts, run_at, state_version, created_at, updated_at) VALUES ('parked-publish', 'publish', 'publish', '{}', 'waiting', 1, $t, 1, $t, $t)"

  # --- below the threshold nothing happens; at it, publishing pauses ------------------------------
  add_reviews 2
  stays_paused false "2 pending reviews (pause_at 3)"
  add_reviews 1
  wait_paused true "3 pending reviews"
  grep -q 'review backlog is 3 (review.backlog_pause_at 3): publishers paused on every node' "$T/e.err" ||
    fail "no log line naming the backlog: $(grep -i backlog "$T/e.err" | tail -3)"
  r=$(call "$V" "/v1/audit?limit=20")
  assert_eq "$(jq -r '[.audit[] | select(.actor == "system:review-backlog" and .to == "setting:publishers.paused=true")] | length' <<< "${r#* }")" 1 "the pause is audited"
  assert_eq "$(jq -r '[.audit[] | select(.to == "setting:publishers.paused=true")][0].detail' <<< "${r#* }" | jq -c '[.review_backlog, .pause_at]')" '[3,3]' "the audit names the backlog"
  assert_eq "$(metric 'ain_publishers_backlog_actions_total{action="pause"}')" 1 "pause metric"
  for _ in $(seq 40); do [ "$(metric ain_publishers_paused_by_backlog)" = 1 ] && break; sleep 0.05; done
  assert_eq "$(metric ain_publishers_paused_by_backlog)" 1 "paused-by-backlog gauge"
  assert_eq "$(metric ain_review_backlog)" 3 "backlog gauge"
  r=$(call "$V" /v1/publishers); expect "$r" 200 - "publishers status"
  assert_eq "$(jq -c '[.paused, .paused_by]' <<< "${r#* }")" '[true,"backlog"]' "GET /v1/publishers names the guard"
  ok "3 pending reviews: publishers paused by the guard (audited with the backlog, logged, counted)"

  # --- below resume_at: resumed, and the parked publish step woken -------------------------------
  decide_all
  wait_paused false "no pending review"
  assert_eq "$(metric 'ain_publishers_backlog_actions_total{action="resume"}')" 1 "resume metric"
  assert_eq "$(q "SELECT count(*) FROM audit_log WHERE task_id = 'parked-publish' AND from_status = 'waiting' AND to_status = 'ready' AND actor = 'system:review-backlog'")" 1 "the parked publish step was woken"
  ok "backlog 0: publishers resumed by the guard, parked publish steps woken"

  # --- an operator's pause is never lifted by the guard ------------------------------------------
  r=$(call "$O" /v1/publishers -X POST -H 'Content-Type: application/json' -d '{"action":"pause"}')
  expect "$r" 200 - "operator pause"
  assert_eq "$(jq -r .paused_by <<< "${r#* }")" operator "the operator holds the switch"
  add_reviews 4
  stays_paused true "operator's pause, backlog 4"
  decide_all
  stays_paused true "operator's pause, backlog 0"
  assert_eq "$(metric 'ain_publishers_backlog_actions_total{action="resume"}')" 1 "no second resume"
  ok "an operator's pause stays through a backlog rise and fall"

  # --- an operator's resume during a high backlog holds until the backlog was low -----------------
  add_reviews 4
  r=$(call "$O" /v1/publishers -X POST -H 'Content-Type: application/json' -d '{"action":"resume"}')
  expect "$r" 200 - "operator resume"
  stays_paused false "operator's resume, backlog 4"
  decide_all
  for _ in $(seq 100); do
    [ "$(q "SELECT coalesce((SELECT value FROM settings WHERE key = 'publishers.paused_by'), 'none')")" = "" ] && break
    sleep 0.05
  done
  assert_eq "$(q "SELECT value FROM settings WHERE key = 'publishers.paused_by'")" "" "re-armed below resume_at"
  add_reviews 3
  wait_paused true "re-armed guard, backlog 3"
  assert_eq "$(metric 'ain_publishers_backlog_actions_total{action="pause"}')" 2 "second automatic pause"
  ok "an operator's resume holds while the backlog is high; once it was low the guard pauses again"
  kill -TERM "$pid"; set +e; wait "$pid"; rc=$?; set -e
  assert_eq "$rc" 0 "ain run exit"
}
