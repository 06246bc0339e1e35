#!/usr/bin/env bash
# `ain judge eval` on a fixture judge (tests/fixtures/judge_eval/judge.lua) and its labelled items:
# - a judge that gets every item right: confusion matrix on the diagonal, recall 1, bars met, exit 0;
# - --json is one object with the documented keys and numbers;
# - a weak judge (a lexicon word removed) misses the hate items: listed with what it found, the
#   hate row BELOW its bar, exit 1; the same weak version given by --policy-sha from the store
#   replaces the current file and scores the same;
# - every bad dataset line (bad JSON, no text, a bad decision, categories on a pass) exits 2 naming
#   its file, line and field, and prints no report;
# - a judge without screen() says so (exit 4); an unknown sha exits 5.
. "$(dirname "$0")/lib.bash"

FX=$AIN_SOURCE_DIR/tests/fixtures/judge_eval
S=$T/scripts
mkdir -p "$S/agents"
add_persona "$S"
cp "$FX/judge.lua" "$S/agents/judge.lua"
C=$T/ain.lua
write_config "$C" "$S"

# --- a judge that gets everything right ------------------------------------------------------
set +e; out=$("$AIN_BIN" judge eval -c "$C" "$FX/items.jsonl" 2> "$T/err"); rc=$?; set -e
assert_eq "$rc" 0 "eval of a good judge: $out $(cat "$T/err")"
assert_contains "$out" "items: 11" "items counted (the blank line is none)"
assert_contains "$out" "  pass            4        0        0" "benign row of the matrix"
assert_contains "$out" "  review          0        2        0" "review row of the matrix"
assert_contains "$out" "  reject          0        0        5" "reject row of the matrix"
assert_contains "$out" "benign wrongly stopped: 0/4 = 0.0 %" "benign rate"
assert_contains "$out" "missed items: 0" "no miss"
assert_contains "$out" "bars: met" "bars met"
printf '%s\n' "$out" | grep -Eq '^  hate +\? +3 +3 +3 +1\.000 +1\.000 +0\.95$' || fail "hate row: $out"
ok "a judge that gets every item right: diagonal matrix, recall 1, bars met, exit 0"

js=$("$AIN_BIN" judge eval -c "$C" "$FX/items.jsonl" --json)
python3 - "$js" <<'PY' || fail "eval --json shape: $js"
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True and r["items"] == 11, r
assert r["confusion"]["labels"] == ["pass", "review", "reject"], r["confusion"]
assert r["confusion"]["matrix"] == [[4, 0, 0], [0, 2, 0], [0, 0, 5]], r["confusion"]
cats = {c["id"]: c for c in r["categories"]}
assert sorted(cats) == ["hate", "tragedy", "violence"], cats
for c in cats.values():
    assert c["recall"] == 1 and c["precision"] == 1 and c["below_bar"] is False, c
    assert c["bar"] == 0.95 and c["action"] is None, c  # no safety/categories: the strict bar
assert cats["hate"]["support"] == 3 and cats["hate"]["found"] == 3 and cats["hate"]["predicted"] == 3
assert r["benign"] == {"items": 4, "stopped": 0, "rate": 0, "bar": 0.05, "above_bar": False}, r["benign"]
assert r["bars"] == {"ok": True, "failed": []}, r["bars"]
assert r["misses"] == [], r["misses"]
assert "judge" in r["judge"]["policies"] and "ain_judge_eval" not in r["judge"]["policies"], r["judge"]
assert r["judge"]["candidates"] == [] and r["judge"]["rejected_files"] == [], r["judge"]
PY
ok "--json: one object with the matrix, categories, benign, bars and misses"

# --- a weak judge: hate missed --------------------------------------------------------------
W=$T/weak
mkdir -p "$W/agents"
sed 's/words = { "vermin" }/words = { "xyzzy" }/' "$FX/judge.lua" > "$W/agents/judge.lua"
set +e; out=$("$AIN_BIN" judge eval -c "$C" --scripts "$W" "$FX/items.jsonl"); rc=$?; set -e
assert_eq "$rc" 1 "eval of a weak judge exits 1: $out"
printf '%s\n' "$out" | grep -Eq '^  hate +\? +3 +0 +0 +0\.000 +- +0\.95  BELOW$' || fail "hate row BELOW: $out"
assert_contains "$out" "missed items: 3" "three misses"
assert_contains "$out" "  hate-2 (" "a missed item named"
assert_contains "$out" "expected reject [hate], got pass []" "what was expected and got"
assert_contains "$out" "bars: NOT met" "bars not met"
assert_contains "$out" "hate: recall 0/3 = 0.000 < 0.95" "the failed bar named"
assert_contains "$out" "  pass            4        0        0" "benign row unchanged"
assert_contains "$out" "  reject          3        0        2" "hate items passed"
ok "a weak judge: the misses listed, hate BELOW its bar, exit 1"

# the weak version recorded in the store, named by --policy-sha over the good current file
cp "$W/agents/judge.lua" "$S/agents/judge.lua"
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1 # records the version
weak_sha=$(sha256sum "$W/agents/judge.lua" | cut -c1-64)
cp "$FX/judge.lua" "$S/agents/judge.lua"
set +e; js=$("$AIN_BIN" judge eval -c "$C" "$FX/items.jsonl" --policy-sha "${weak_sha:0:12}" --json); rc=$?; set -e
assert_eq "$rc" 1 "eval --policy-sha of the weak version: $js"
python3 - "$js" "$weak_sha" <<'PY' || fail "eval --policy-sha: $js"
import json, sys
r, sha = json.loads(sys.argv[1]), sys.argv[2]
assert r["judge"]["candidates"] == [{"module": "judge", "sha": sha}], r["judge"]
assert r["judge"]["policies"]["judge"] == sha, r["judge"]
assert r["bars"]["ok"] is False and len(r["misses"]) == 3, r["bars"]
m = r["misses"][0]
assert m["expected"] == {"decision": "reject", "categories": ["hate"]} and m["got"]["decision"] == "pass", m
PY
set +e; "$AIN_BIN" judge eval -c "$C" "$FX/items.jsonl" --policy-sha 0123456789abcdef > /dev/null 2> "$T/err"; rc=$?; set -e
assert_eq "$rc" 5 "an unknown sha: $(cat "$T/err")"
ok "--policy-sha: a recorded version replaces the current file; an unknown sha exits 5"

# --- bad lines ----------------------------------------------------------------------------
bad() { # bad NAME LINE_TEXT EXPECTED_MESSAGE
  local f=$T/$1.jsonl
  { head -2 "$FX/items.jsonl"; printf '%s\n' "$2"; tail -1 "$FX/items.jsonl"; } > "$f"
  set +e; out=$("$AIN_BIN" judge eval -c "$C" "$FX/items.jsonl" "$f" 2> "$T/err"); rc=$?; set -e
  assert_eq "$rc" 2 "$1 exits 2: $(cat "$T/err")"
  assert_eq "$out" "" "$1 prints no report"
  assert_contains "$(cat "$T/err")" "$f:3: $3" "$1 names the line and field"
}
bad badjson '{"id":"x","text":"oops"' "line: not a JSON object"
bad notext '{"id":"x","decision":"pass","categories":[]}' "text: missing"
bad emptytext '{"id":"x","text":"","decision":"pass","categories":[]}' "text: must be a non-empty string"
bad baddecision '{"id":"x","text":"hi","decision":"maybe","categories":[]}' 'decision: must be "pass", "review" or "reject"'
bad nodecision '{"id":"x","text":"hi","categories":[]}' "decision: missing"
bad badcats '{"id":"x","text":"hi","decision":"reject","categories":"hate"}' "categories: must be an array"
bad catnum '{"id":"x","text":"hi","decision":"reject","categories":[3]}' "categories: must be an array of category ids (strings)"
bad passcats '{"id":"x","text":"hi","decision":"pass","categories":["hate"]}' "categories: an item expected to pass has no category"
bad badid '{"id":7,"text":"hi","decision":"pass","categories":[]}' "id: must be a non-empty string"
js=$("$AIN_BIN" judge eval -c "$C" "$T/notext.jsonl" --json 2> /dev/null || true)
assert_contains "$js" '"ok":false,"error":{"code":"ESCHEMA","field":"line 3: text"' "--json error names the line and field"
set +e; "$AIN_BIN" judge eval -c "$C" "$T/nope.jsonl" > /dev/null 2> "$T/err"; rc=$?; set -e
assert_eq "$rc" 5 "a missing file: $(cat "$T/err")"
set +e; "$AIN_BIN" judge eval -c "$C" > /dev/null 2> "$T/err"; rc=$?; set -e
assert_eq "$rc" 2 "no file is a usage error"
set +e; "$AIN_BIN" judge frobnicate -c "$C" > /dev/null 2> "$T/err"; rc=$?; set -e
assert_eq "$rc" 2 "an unknown judge verb"
ok "bad lines exit 2 naming file:line: field, and print no report"

# --- a judge without screen() ---------------------------------------------------------------
N=$T/noscreen
mkdir -p "$N/agents"
printf 'return { decide = function(payload, ctx) return { decision = "pass" } end }\n' > "$N/agents/judge.lua"
set +e; out=$("$AIN_BIN" judge eval -c "$C" --scripts "$N" "$FX/items.jsonl" 2> "$T/err"); rc=$?; set -e
assert_eq "$rc" 4 "a judge without screen: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "the judge has no screen(text, ctx) entry point" "the error says so"
assert_eq "$out" "" "no report"
# a judge whose screen raises names the item
R=$T/raising
mkdir -p "$R/agents"
printf 'return { decide = function() return {} end, screen = function(t) if t:find("bomb") then error("boom") end return { decision = "pass", categories = {}, findings = {} } end }\n' > "$R/agents/judge.lua"
set +e; "$AIN_BIN" judge eval -c "$C" --scripts "$R" "$FX/items.jsonl" > /dev/null 2> "$T/err"; rc=$?; set -e
assert_eq "$rc" 4 "a raising screen: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "item benign-2 (" "the raising item named"
assert_contains "$(cat "$T/err")" "boom" "with its error"
ok "a judge without screen() and a raising screen() are clear errors (exit 4)"
