#!/usr/bin/env bash
# Replay and audit that are exact, on SQLite and on Postgres (a throwaway server):
# - the shipped judge, run at non-default media sizes (720x1280), replays UNCHANGED: the ctx a
#   decision ran on is recorded in its audit row and replay uses it, whatever the config says now;
#   a stored result with its keys in another order is unchanged, with no line marked as differing;
#   a really changed policy is CHANGED;
# - `ain audit DAG_ID` lists the DAG's rows; an id that is neither exits 5;
# - `ain dag show --dot` colours a waiting task; the run summary names parked tasks "waiting";
# - pins, unpins and publisher pauses are audited naming the operator (--actor, $AIN_ACTOR, the
#   OS user); a bad --actor is a usage error;
# - after a run of many DAGs on 4 shards, no task's audit rows go back in time.
. "$(dirname "$0")/lib.bash"

server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-replay-XXXXXX") # outside $T: postgres must reach it
pg_cleanup() { "$server" stop "$PG" > /dev/null 2>&1 || true; rm -rf "$PG"; cleanup; }
trap pg_cleanup EXIT
PGURL=$("$server" start "$PG")

S=$T/scripts
mkdir -p "$S/agents" "$S/personas"
cp "$AIN_SOURCE_DIR/scripts/agents/judge.lua" "$S/agents/judge.lua"
cp "$AIN_SOURCE_DIR/scripts/agents/persona.lua" "$S/agents/persona.lua" # judge requires it
# and its safety screen: the matcher and the data modules (recorded in the call's versions too)
cp "$AIN_SOURCE_DIR/scripts/agents/safety_match.lua" "$S/agents/safety_match.lua"
cp -r "$AIN_SOURCE_DIR/scripts/safety" "$S/safety"
add_persona "$S" # ain enqueue refuses a persona the scripts folder does not have
cat > "$S/agents/pipeline.lua" <<'LUA'
return { build = function(payload, ctx)
  return { steps = {
    { name = "script", handler = "lua:steps.script" },
    { name = "render", handler = "lua:steps.render", deps = { "script" } },
    { name = "judge", handler = "lua:judge.decide", deps = { "script", "render" } },
  } }
end }
LUA
cat > "$S/agents/steps.lua" <<'LUA'
return {
  script = function(payload, ctx)
    return { title = "Tea at dawn", text = "a calm video about tea", hashtags = { "#tea" },
      lines = { "one", "two", "three" }, words = 40, est_seconds = 12 }
  end,
  -- what the render built-in reports, at the size this config renders (ctx.config)
  render = function(payload, ctx)
    return { gate_ok = true, video_id = "v-" .. ctx.task_id, probe = { duration = 15,
      width = ctx.config.width, height = ctx.config.height, video_codec = "h264",
      audio_codec = "aac" } }
  end,
}
LUA
sha_v1=$(sha256sum "$S/agents/judge.lua" | cut -c1-64)

for store in sqlite postgres; do
  echo "# store: $store"
  C=$T/$store.lua
  if [ "$store" = sqlite ]; then
    rm -f "$T/ain.db"
    write_config "$C" "$S" 'queue = { poll_ms = 20 }' 'media = { width = 720, height = 1280 }' 'shards = 4'
    q() { sql "$1"; }
  else
    "$server" reset "$PG" > /dev/null
    write_config "$C" "$S" 'queue = { poll_ms = 20 }' 'media = { width = 720, height = 1280 }' \
      'shards = 4' "store = { url = \"$PGURL\" }"
    q() { psql "$PGURL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
  fi
  cp "$AIN_SOURCE_DIR/scripts/agents/judge.lua" "$S/agents/judge.lua"
  "$AIN_BIN" migrate -c "$C" > /dev/null
  run() { "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || { cat "$T/run.err"; fail "run ($store)"; }; }
  for i in $(seq 1 30); do task_msg generate_video '{}'; done | "$AIN_BIN" enqueue -c "$C" - > /dev/null
  run
  assert_eq "$(q "select count(*) from tasks where step = 'judge' and status = 'succeeded'")" 30 "judges ran ($store)"
  judge_id=$(q "select id from tasks where step = 'judge' order by created_at desc limit 1")
  dag_id=$(q "select dag_id from tasks where id = '$judge_id'")
  assert_contains "$(q "select result from tasks where id = '$judge_id'")" '"decision":"pass"' "judge passes 720x1280 ($store)"
  assert_contains "$(q "select detail from audit_log where task_id = '$judge_id' and to_status = 'succeeded'")" '"ctx":{' "the audit row records the ctx ($store)"

  # one clock: within each task, audit rows (in insert order) never go back in time
  back=$(q "select count(*) from (select ts, lag(ts) over (partition by task_id order by id) as p from audit_log where task_id is not null) x where ts < p")
  assert_eq "$back" 0 "audit rows going back in time ($store)"
  ok "$store: 30 DAGs on 4 shards; every task's audit rows in time order"

  # --- replay --------------------------------------------------------------------------------
  set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id"); rc=$?; set -e
  assert_eq "$rc" 0 "replay of a judge at 720x1280 ($store): $out"
  assert_contains "$out" "decision unchanged" "replay unchanged ($store)"
  assert_contains "$out" "ctx:      as recorded" "replay says the ctx is the recorded one ($store)"
  detail=$(q "select detail from audit_log where task_id = '$judge_id' and to_status = 'succeeded'")
  assert_contains "$detail" '"safety/hate":"' "the audit row records the safety modules' versions ($store)"
  # a later edit of a safety module does not change what the replay runs: the recorded versions
  cp "$S/safety/hate.lua" "$T/hate.keep"
  printf 'return { category = "hate", rules = { { id = "x", terms = { "tea" } } } }\n' > "$S/safety/hate.lua"
  set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id"); rc=$?; set -e
  cp "$T/hate.keep" "$S/safety/hate.lua"
  assert_eq "$rc" 0 "replay after a safety edit ($store): $out"
  assert_contains "$out" "decision unchanged" "replay runs the recorded safety version ($store)"
  # the config changes later (default sizes): the decision was made on what was recorded
  C2=$T/$store-default.lua
  grep -v '^media' "$C" > "$C2"
  set +e; out=$("$AIN_BIN" replay -c "$C2" "$judge_id"); rc=$?; set -e
  assert_eq "$rc" 0 "replay under a changed config ($store): $out"
  # a result stored with its keys in another order is the same decision, line for line
  reordered=$(q "select result from tasks where id = '$judge_id'" |
    python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(json.dumps(dict(reversed(list(d.items()))), separators=(",",":")))')
  q "update tasks set result = '${reordered//\'/\'\'}' where id = '$judge_id'" > /dev/null
  assert_eq "$(q "select substr(result, 1, 12) from tasks where id = '$judge_id'")" "$(printf '%s' "$reordered" | cut -c1-12)" "result rewritten ($store)"
  set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id"); rc=$?; set -e
  assert_eq "$rc" 0 "replay of a reordered result ($store): $out"
  assert_contains "$out" "decision unchanged" "reordered keys unchanged ($store)"
  if printf '%s\n' "$out" | grep_all '^.\{48\} \* '; then fail "reordered keys shown as a change ($store): $out"; fi
  # a really changed policy: nothing passes any more
  sed -i 's/local decision = confidence >= s.pass and "pass"/local decision = confidence > 2 and "pass"/' "$S/agents/judge.lua"
  sha_v2=$(sha256sum "$S/agents/judge.lua" | cut -c1-64)
  [ "$sha_v2" != "$sha_v1" ] || fail "judge v2 differs"
  run # records v2 (nothing to run)
  set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id" --policy-sha "$sha_v2"); rc=$?; set -e
  assert_eq "$rc" 1 "replay of a changed policy ($store)"
  assert_contains "$out" "decision CHANGED" "changed policy ($store)"
  js=$("$AIN_BIN" replay -c "$C" "$judge_id" --json || true)
  assert_contains "$js" '"ctx":"recorded"' "replay --json names the ctx source ($store)"
  assert_contains "$js" '"changed":false' "replay --json unchanged ($store)"
  ok "$store: replay at 720x1280 unchanged (also under another config and with reordered keys); a changed policy CHANGED"

  # --- audit DAG_ID ---------------------------------------------------------------------------
  set +e; out=$("$AIN_BIN" audit -c "$C" "$dag_id"); rc=$?; set -e
  assert_eq "$rc" 0 "ain audit DAG_ID ($store)"
  assert_contains "$out" "$judge_id" "DAG audit lists its judge ($store)"
  set +e; "$AIN_BIN" audit -c "$C" "$(uuid7)" > /dev/null 2> "$T/err"; rc=$?; set -e
  assert_eq "$rc" 5 "ain audit of an unknown id ($store)"
  assert_contains "$(cat "$T/err")" "no task or DAG" "unknown id named ($store)"
  ok "$store: ain audit DAG_ID lists the DAG; an unknown id exits 5"

  # --- dot colour and the run summary for a waiting (parked) task ------------------------------
  q "update tasks set status = 'waiting' where id = '$judge_id'" > /dev/null
  dot=$("$AIN_BIN" dag show -c "$C" "$dag_id" --dot)
  assert_contains "$dot" '"judge" [label="judge\nwaiting", fillcolor=plum]' "dot colours waiting ($store)"
  run
  assert_contains "$(cat "$T/run.out")" "still open: 1 waiting (parked)" "summary names the parked task ($store)"
  assert_contains "$("$AIN_BIN" run -c "$C" --until-idle --no-progress --json 2> /dev/null)" '"waiting":1' "summary --json ($store)"
  ok "$store: a waiting task has a colour; the summary counts it as waiting"

  # --- operator actions are audited with the operator ---------------------------------------
  "$AIN_BIN" scripts pin -c "$C" --actor alice judge "${sha_v1:0:12}" > /dev/null
  AIN_ACTOR=bob "$AIN_BIN" scripts unpin -c "$C" judge > /dev/null
  "$AIN_BIN" publishers pause -c "$C" > /dev/null
  "$AIN_BIN" publishers resume -c "$C" --actor=operator:carol > /dev/null
  ops=$("$AIN_BIN" audit -c "$C" --operator)
  me=$(id -un)
  assert_contains "$ops" "pin:judge=${sha_v1}" "pin row ($store)"
  assert_contains "$ops" "operator:alice" "pin names --actor ($store)"
  assert_contains "$ops" "operator:bob" "unpin names \$AIN_ACTOR ($store)"
  printf '%s\n' "$ops" | grep_all "setting:publishers.paused=true v[0-9]* *operator:$me " ||
    fail "pause names the OS user ($store): $ops"
  assert_contains "$ops" "operator:carol" "resume names --actor= ($store)"
  n=$("$AIN_BIN" audit -c "$C" --operator --json --limit 2 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  assert_eq "$n" 2 "--limit ($store)"
  set +e; "$AIN_BIN" scripts unpin -c "$C" judge --actor 'a b' > /dev/null 2>&1; rc=$?; set -e
  assert_eq "$rc" 2 "a bad --actor ($store)"
  set +e; AIN_ACTOR='x;y' "$AIN_BIN" publishers pause -c "$C" > /dev/null 2>&1; rc=$?; set -e
  assert_eq "$rc" 2 "a bad \$AIN_ACTOR ($store)"
  set +e; "$AIN_BIN" audit -c "$C" --operator --limit 0 > /dev/null 2>&1; rc=$?; set -e
  assert_eq "$rc" 2 "--limit 0 ($store)"
  ok "$store: pins, unpins, pauses and resumes audited naming the operator"
done
