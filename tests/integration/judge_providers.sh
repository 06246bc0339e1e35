#!/usr/bin/env bash
# The judge's model providers end to end: the engine's judge step asks the strict OpenAI-compatible
# test server (tests/servers/openai_compat.js) through judge.providers, and
# - a flagged text: findings and the providers' verdicts and scores recorded with the decision;
#   the API key (an ain.secret) appears nowhere in the store;
# - the same text again: answered from the cache (status "cached"), the server not asked again;
# - the server stopped: review (provider_unavailable), never pass;
# - the server slow (delay past timeout_ms), 500 or malformed: review, within the timeout;
# - a clean text with healthy providers passes;
# - `ain replay` of each judge step, with the server stopped, reproduces the decision from the
#   exchanges recorded in the step's audit row ("io"); a changed request is refused (EREPLAY).
. "$(dirname "$0")/lib.bash"

. "$(dirname "$0")/openai_compat_common.bash"
export AIN_SECRET_PROVIDER_KEY="$KEY"

start_server

S=$T/scripts
mkdir -p "$S/agents"
for f in judge persona moderation; do cp "$AIN_SOURCE_DIR/scripts/agents/$f.lua" "$S/agents/"; done
if [ -d "$AIN_SOURCE_DIR/scripts/safety" ]; then cp -r "$AIN_SOURCE_DIR/scripts/safety" "$S/"; fi
for f in safety_match output_checks; do
  if [ -f "$AIN_SOURCE_DIR/scripts/agents/$f.lua" ]; then cp "$AIN_SOURCE_DIR/scripts/agents/$f.lua" "$S/agents/"; fi
done
add_persona "$S"
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
-- A script that passes every other check of the judge, saying payload.text.
return {
  script = function(payload, ctx)
    local lines = { payload.text, "Here is what we know so far about it.",
      "Follow for more updates like this one every day." }
    local text = table.concat(lines, " ")
    local words = select(2, text:gsub("%S+", ""))
    return { title = "Daily update", text = text, hashtags = { "#update" }, lines = lines,
      words = words, est_seconds = 12 }
  end,
  render = function(payload, ctx)
    return { gate_ok = true, video_id = "v-" .. ctx.task_id, probe = { duration = 15,
      width = ctx.config.width, height = ctx.config.height, video_codec = "h264",
      audio_codec = "aac" } }
  end,
}
LUA

C=$T/ain.lua
provider() { # name path-less url
  echo "{ url = \"http://127.0.0.1:$PORT\", model = \"$1\", secret = \"provider_key\", timeout_ms = 1500 }"
}
write_config "$C" "$S" 'queue = { poll_ms = 20, default_timeout_ms = 60000 }' \
  "judge = { providers = { moderation = $(provider omni-moderation-latest), llm = $(provider guard-test) } }"
"$AIN_BIN" migrate -c "$C" > /dev/null

# judge TEXT -> runs one video to its judge step; prints the judge task's id
judge() {
  local payload
  payload=$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$1")
  task_msg generate_video "$payload" | "$AIN_BIN" enqueue -c "$C" - > /dev/null
  "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || { cat "$T/run.err" >&2; fail "run"; }
  sql "select id from tasks where step = 'judge' order by created_at desc limit 1"
}
result() { sql "select result from tasks where id = '$1'"; }
decision() { result "$1" | json_get 'd["decision"]'; }
status_of() { result "$1" | json_get "d['providers']['$2']['status']"; }

# --- a flagged text ---------------------------------------------------------------------------
flagged=$(judge "Kill them all tonight.")
assert_eq "$(sql "select status from tasks where id = '$flagged'")" succeeded "flagged judge step"
r=$(result "$flagged")
assert_eq "$(decision "$flagged")" reject "a flagged text is rejected"
assert_eq "$(status_of "$flagged" moderation)" ok "moderation asked"
assert_eq "$(status_of "$flagged" llm)" ok "classifier asked"
assert_eq "$(printf '%s' "$r" | json_get 'd["providers"]["moderation"]["verdict"]')" flagged "moderation verdict"
assert_eq "$(printf '%s' "$r" | json_get 'd["providers"]["moderation"]["scores"]["violence"]')" 0.93 "moderation score recorded"
assert_eq "$(printf '%s' "$r" | json_get 'd["providers"]["llm"]["verdict"]')" unsafe "classifier verdict"
assert_contains "$r" '"rule":"moderation.violence"' "moderation finding"
assert_contains "$r" '"rule":"llm.violence"' "classifier finding"
detail=$(sql "select detail from audit_log where task_id = '$flagged' and to_status = 'succeeded'")
assert_contains "$detail" '"io":[' "the audit row records the exchanges"
assert_contains "$detail" "\"url\":\"http://127.0.0.1:$PORT/v1/moderations\"" "the moderation exchange recorded"
assert_contains "$detail" '"kind":"store.get"' "the cache lookups recorded"
assert_contains "$detail" '"kind":"secret","name":"provider_key","found":true' "the key lookup recorded, not its value"
leaks=$(sql "select count(*) from audit_log where detail like '%$KEY%'")$(sql "select count(*) from tasks where result like '%$KEY%' or payload like '%$KEY%'")$(sql "select count(*) from kv where value like '%$KEY%'")
assert_eq "$leaks" 000 "the API key is stored nowhere"
assert_eq "$(stats | json_get 'd["moderations"]')" 1 "one moderation request"
assert_eq "$(stats | json_get 'd["chat"]')" 1 "one classifier request"
ok "a flagged text is rejected with both providers' findings, verdicts and scores recorded; the key is never stored"

# --- the cache ----------------------------------------------------------------------------------
again=$(judge "Kill them all tonight.")
assert_eq "$(decision "$again")" reject "the cached verdict still rejects"
assert_eq "$(status_of "$again" moderation)" cached "moderation answered from the cache"
assert_eq "$(status_of "$again" llm)" cached "classifier answered from the cache"
assert_eq "$(result "$again" | json_get 'd["providers"]["moderation"]["scores"]["violence"]')" 0.93 "cached scores"
assert_eq "$(stats | json_get 'd["total"]')" 2 "no new request for a cached input"
ok "the same input again is answered from the cache (the server counts no new request)"

# --- a clean text passes ------------------------------------------------------------------------
clean=$(judge "A new bakery opens downtown with fresh bread.")
assert_eq "$(decision "$clean")" pass "a clean text passes"
assert_eq "$(result "$clean" | json_get 'd["providers"]["llm"]["verdict"]')" safe "classifier says safe"
ok "a clean text with healthy providers passes"

# --- faults: 500 (control endpoint), malformed (marker) ----------------------------------------
curl -sf -XPOST "http://127.0.0.1:$PORT/control" -d '{"fault":"500","count":2}' > /dev/null
e500=$(judge "A new library opens downtown with free books.")
assert_eq "$(decision "$e500")" review "a 500 sends to review"
assert_eq "$(status_of "$e500" moderation)" error "500 recorded as an error"
assert_contains "$(result "$e500")" '"rule":"provider_unavailable"' "provider_unavailable finding"
assert_contains "$(result "$e500")" 'HTTP 500' "the status named"
bad=$(judge "A calm walk in the park [[fault:malformed]]")
assert_eq "$(decision "$bad")" review "a malformed answer sends to review"
assert_contains "$(result "$bad")" 'not JSON' "malformed named"
ok "a 500 and a malformed answer send the video to review"

# --- slow ---------------------------------------------------------------------------------------
slow=$(judge "A quiet morning by the lake [[fault:delay=6000]]")
assert_eq "$(decision "$slow")" review "a slow provider sends to review"
assert_eq "$(status_of "$slow" moderation)" timeout "moderation timed out"
assert_eq "$(status_of "$slow" llm)" timeout "classifier timed out"
# each exchange's own time, as recorded: the timeout (1.5 s), not the server's 6 s
ms=$(sql "select detail from audit_log where task_id = '$slow' and to_status = 'succeeded'" |
  json_get 'max(e["ms"] for e in d["io"] if e["kind"] == "http")')
python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 1000 <= v < 5000 else 1)" "$ms" ||
  fail "a 1.5 s timeout took $ms ms (the server waits 6 s)"
ok "a slow provider (6 s against timeout_ms 1500) sends to review; the longest exchange took $ms ms"

# --- down ---------------------------------------------------------------------------------------
stop_server
down=$(judge "A sunny day at the beach with friends.")
assert_eq "$(decision "$down")" review "a down provider sends to review"
assert_eq "$(status_of "$down" moderation)" error "down recorded as an error"
assert_contains "$(result "$down")" 'EHTTP' "the transport error named"
ok "providers down: review, never pass"

# --- replay with the server stopped -------------------------------------------------------------
for id in "$flagged" "$again" "$clean" "$e500" "$bad" "$slow" "$down"; do
  set +e; out=$("$AIN_BIN" replay -c "$C" "$id"); rc=$?; set -e
  assert_eq "$rc" 0 "replay of $id: $out"
  assert_contains "$out" "decision unchanged" "replay of $id"
done
js=$("$AIN_BIN" replay -c "$C" "$flagged" --json)
assert_eq "$(printf '%s' "$js" | json_get 'd["replayed"]["result"]["providers"]["moderation"]["scores"]["violence"]')" 0.93 "replayed scores"
ok "ain replay of every judge step reproduces its decision with the server stopped"

# a recorded exchange is served only to the same request: another model is another request body
sed -i 's/model = "guard-test"/model = "guard-other"/' "$C"
set +e; out=$("$AIN_BIN" replay -c "$C" "$flagged" --json); set -e
assert_contains "$out" '"changed":false' "the recorded ctx keeps the recorded providers"
# replaying with another judge version that asks something else is refused, not served
sha=$(sql "select sha from script_versions where module = 'judge' order by created_at desc limit 1")
sed -i 's|local r = require("moderation").assess(|local r = require("moderation").assess("changed " .. |' "$S/agents/judge.lua"
if grep -q '"changed " .. ' "$S/agents/judge.lua"; then
  "$AIN_BIN" check "$S" > /dev/null
  start_server "$PORT" # only to let `run` record the new version; replay never calls it
  "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1
  stop_server
  sha2=$(sql "select sha from script_versions where module = 'judge' order by created_at desc limit 1")
  [ "$sha2" != "$sha" ] || fail "the changed judge was recorded"
  set +e; out=$("$AIN_BIN" replay -c "$C" "$flagged" --policy-sha "$sha2" --json); set -e
  assert_contains "$out" '"changed":true' "a judge asking another text changes"
  assert_contains "$out" 'no recorded exchange matches this request' "the new request refused with EREPLAY"
  ok "a request that was not recorded is refused (EREPLAY), never sent"
fi
