#!/usr/bin/env bash
# `ain judge shadow` on SQLite and on Postgres (a throwaway server): a pipeline (script -> judge)
# runs a weak fixture judge (tests/fixtures/judge_eval/judge.lua without "vermin") on six videos;
# then, on the recorded decisions:
# - the good judge as candidate changes exactly the two "vermin" decisions (pass -> reject), listed
#   with their task, DAG and the candidate's findings; the other four are counted unchanged;
# - the recorded version as candidate changes nothing, and says so;
# - --limit and --since choose the decisions re-run; --json has the documented shape;
# - a candidate that requires a module the recorded call never loaded gets it from the current
#   files; the re-run has no side effects (an ain.emit in the candidate is refused, nothing stored);
# - bad arguments exit 2, an unknown sha 5, two candidates for one module 4.
. "$(dirname "$0")/lib.bash"

server="$AIN_SOURCE_DIR/tools/pg-test-server.sh"
PG=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-shadow-XXXXXX") # outside $T: postgres must reach it
pg_cleanup() { "$server" stop "$PG" > /dev/null 2>&1 || true; rm -rf "$PG"; cleanup; }
trap pg_cleanup EXIT
PGURL=$("$server" start "$PG")

FX=$AIN_SOURCE_DIR/tests/fixtures/judge_eval
S=$T/scripts
mkdir -p "$S/agents"
add_persona "$S"
cat > "$S/agents/pipeline.lua" <<'LUA'
return { build = function(payload, ctx)
  return { steps = {
    { name = "script", handler = "lua:steps.script" },
    { name = "judge", handler = "lua:judge.decide", deps = { "script" } },
  } }
end }
LUA
cat > "$S/agents/steps.lua" <<'LUA'
return { script = function(payload, ctx)
  return { title = "Today", text = payload.text, lines = { payload.text } }
end }
LUA
sed 's/words = { "vermin" }/words = { "xyzzy" }/' "$FX/judge.lua" > "$T/judge_weak.lua"
weak=$(sha256sum "$T/judge_weak.lua" | cut -c1-64)
good=$(sha256sum "$FX/judge.lua" | cut -c1-64)
# a candidate that needs a module the recorded calls never loaded (lexicon.lua, current files
# only), and tries a side effect: ain.emit must be refused, never enqueue
cat > "$T/judge_lex.lua" <<'LUA'
return {
  decide = function(payload, ctx)
    local task, err = ain.emit({ type = "noop", persona_id = "tester", payload = {} })
    if task ~= nil or not tostring(err):find("^EREPLAY") then -- the side effect got through
      return { decision = "reject", categories = { "side_effect" }, findings = {}, confidence = 0 }
    end
    if ctx.deps.script.text:lower():find(require("lexicon").word) then
      return { decision = "review", categories = { "hate" }, confidence = 0.6,
        findings = { { category = "hate", rule = "lexicon", action = "review", match = "vermin" } } }
    end
    return { decision = "pass", categories = {}, findings = {}, confidence = 1 }
  end,
}
LUA
lex=$(sha256sum "$T/judge_lex.lua" | cut -c1-64)
texts=("They are vermin" "a killer workout" "those VERMIN again" "Kill them all" "tea at dawn" "Gym shooting today")

for store in sqlite postgres; do
  echo "# store: $store"
  C=$T/$store.lua
  if [ "$store" = sqlite ]; then
    rm -f "$T/ain.db"
    write_config "$C" "$S" 'queue = { poll_ms = 20 }'
    q() { sql "$1"; }
  else
    "$server" reset "$PG" > /dev/null
    write_config "$C" "$S" 'queue = { poll_ms = 20 }' "store = { url = \"$PGURL\" }"
    q() { psql "$PGURL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
  fi
  rm -f "$S/agents/lexicon.lua"
  "$AIN_BIN" migrate -c "$C" > /dev/null
  run() { "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || { cat "$T/run.err"; fail "run ($store)"; }; }
  # the candidates are recorded versions: each served once by the registry
  for v in "$FX/judge.lua" "$T/judge_lex.lua"; do cp "$v" "$S/agents/judge.lua"; run; done
  cp "$T/judge_weak.lua" "$S/agents/judge.lua"
  for t in "${texts[@]}"; do task_msg generate_video "{\"text\":\"$t\"}"; done | "$AIN_BIN" enqueue -c "$C" - > /dev/null
  run
  assert_eq "$(q "select count(*) from tasks where step = 'judge' and status = 'succeeded'")" 6 "judges ran ($store)"
  ntasks=$(q "select count(*) from tasks")
  vermin=$(q "select t.id from tasks t join tasks s on s.dag_id = t.dag_id and s.step = 'script' where t.step = 'judge' and s.result like '%vermin%' order by t.id" | sort)
  vermin_upper=$(q "select t.id from tasks t join tasks s on s.dag_id = t.dag_id and s.step = 'script' where t.step = 'judge' and s.result like '%VERMIN%'")
  vermin=$(printf '%s\n%s\n' "$vermin" "$vermin_upper" | sort -u | grep .)
  assert_eq "$(printf '%s\n' "$vermin" | wc -l)" 2 "two vermin decisions ($store)"

  # --- the good judge: the two vermin decisions change -------------------------------------
  set +e; out=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "${good:0:16}"); rc=$?; set -e
  assert_eq "$rc" 0 "shadow of the good judge ($store): $out"
  assert_contains "$out" "re-ran 6 judge decision(s)" "six decisions ($store)"
  assert_contains "$out" "pass    -> reject       2" "pass -> reject counted ($store)"
  assert_contains "$out" "pass    -> pass         2  (unchanged)" "unchanged counted ($store)"
  assert_contains "$out" "changed: 2, could not re-run: 0" "two changed ($store)"
  assert_contains "$out" "hate/hate/vermin \"vermin\" reject" "the candidate's finding ($store)"
  for id in $vermin; do assert_contains "$out" "task $id" "changed task listed ($store)"; done
  js=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --json)
  python3 - "$js" "$good" "$vermin" <<'PY' || fail "shadow --json ($store): $js"
import json, sys
r, sha, ids = json.loads(sys.argv[1]), sys.argv[2], sorted(sys.argv[3].split())
assert r["ok"] is True and r["decisions"] == 6 and r["changed"] == 2 and r["errors"] == 0, r
assert r["details_changed"] == 0, r
assert r["candidates"] == [{"module": "judge", "sha": sha}], r["candidates"]
tr = {(t["from"], t["to"]): t["count"] for t in r["transitions"]}
assert tr == {("pass", "reject"): 2, ("pass", "pass"): 2, ("reject", "reject"): 1,
              ("review", "review"): 1}, tr
assert sorted(i["task_id"] for i in r["items"]) == ids, r["items"]
for i in r["items"]:
    assert i["old"] == "pass" and i["new"] == "reject" and i["categories"] == ["hate"], i
    assert i["dag_id"] and i["persona_id"] == "tester" and i["recorded_at"] > 0, i
    assert i["findings"][0]["rule"] == "hate/vermin" and i["findings"][0]["match"].lower() == "vermin", i
PY
  ok "$store: the good judge as candidate: pass -> reject on the two vermin decisions, the rest unchanged"

  # --- the recorded version: nothing changes ---------------------------------------------
  set +e; out=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "$weak"); rc=$?; set -e
  assert_eq "$rc" 0 "shadow of the recorded version ($store): $out"
  assert_contains "$out" "no decision would change" "says so ($store)"
  assert_contains "$(cat <<<"$out")" "re-ran 6" "all six re-run ($store)"
  ok "$store: the recorded version as candidate changes nothing, and says so"

  # --- window and limit ------------------------------------------------------------------
  js=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --limit 3 --json)
  assert_contains "$js" '"decisions":3' "--limit 3 ($store)"
  sleep 2.2
  js=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --since 1s --json)
  assert_contains "$js" '"decisions":0' "--since 1s after the run ($store)"
  assert_contains "$js" '"transitions":[]' "no transitions ($store)"
  ok "$store: --limit and --since choose the decisions"

  # --- a module only the current files have, and side effects refused ----------------------
  echo 'return { word = "vermin", describe = function() return "the word" end }' > "$S/agents/lexicon.lua"
  js=$("$AIN_BIN" judge shadow -c "$C" --policy-sha "$lex" --json)
  python3 - "$js" <<'PY' || fail "shadow with a module of the current files ($store): $js"
import json, sys
r = json.loads(sys.argv[1])
assert r["decisions"] == 6 and r["errors"] == 0, r
tr = {(t["from"], t["to"]): t["count"] for t in r["transitions"]}
# ain.emit refused (EREPLAY): no "side_effect" reject; lexicon.lua came from the current files
assert tr == {("pass", "review"): 2, ("pass", "pass"): 2, ("reject", "pass"): 1,
              ("review", "pass"): 1}, tr
PY
  assert_eq "$(q "select count(*) from tasks")" "$ntasks" "shadow enqueued nothing ($store)"
  ok "$store: a module only the current files have is loaded from them; side effects refused"

  # --- bad input ---------------------------------------------------------------------------
  set +e
  "$AIN_BIN" judge shadow -c "$C" > /dev/null 2>&1; rc1=$?
  "$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --since soon > /dev/null 2>&1; rc2=$?
  "$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --limit 0 > /dev/null 2>&1; rc3=$?
  "$AIN_BIN" judge shadow -c "$C" --policy-sha 0123456789abcdef > /dev/null 2> "$T/err"; rc4=$?
  "$AIN_BIN" judge shadow -c "$C" --policy-sha "$good" --policy-sha "$weak" > /dev/null 2> "$T/err2"; rc5=$?
  set -e
  assert_eq "$rc1 $rc2 $rc3" "2 2 2" "usage errors ($store)"
  assert_eq "$rc4" 5 "unknown sha ($store): $(cat "$T/err")"
  assert_eq "$rc5" 4 "two candidates of one module ($store): $(cat "$T/err2")"
  assert_contains "$(cat "$T/err2")" "two --policy-sha name one module" "named ($store)"
  ok "$store: bad arguments exit 2, an unknown sha 5, two candidates of one module 4"
done
