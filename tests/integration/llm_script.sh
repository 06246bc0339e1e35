#!/usr/bin/env bash
# The scriptwriter with a model end to end: the real pipeline's script step (scriptwriter.lua on
# ain.llm, engine/lua/llm.lua) against the strict OpenAI-compatible test server
# (tests/servers/openai_compat.js), with `llm = {...}` in the engine config:
# - a healthy server: the script is the model's (writer "llm"), in the result's usual shape, with
#   usage, cost (llm.prices) and the exchange recorded in the audit row; the API key is stored
#   nowhere;
# - the same trend again: answered from the cache by request hash (the server asked no more);
# - faults that a retry fixes: 429 (Retry-After in seconds and as an HTTP date: waited for), 500,
#   a timeout, malformed JSON, a schema-violating answer (the error fed back once): still "llm";
# - faults that cannot be fixed: an invented number twice, a refusal, 500 on every attempt:
#   the template writes the script and the result says why;
# - `ain replay` of every script step, with the server stopped, reproduces the script from the
#   recorded exchanges; a changed request is refused (EREPLAY), never sent.
. "$(dirname "$0")/lib.bash"

. "$(dirname "$0")/openai_compat_common.bash"
export AIN_SECRET_LLM_KEY="$KEY"

start_server

# The real scriptwriter, persona module and personas; the real pipeline, cut to its script step
# (tts, render and the judge have tests of their own).
S=$T/scripts
mkdir -p "$S/agents"
cp "$AIN_SOURCE_DIR/scripts/agents/scriptwriter.lua" "$AIN_SOURCE_DIR/scripts/agents/persona.lua" \
  "$AIN_SOURCE_DIR/scripts/agents/writing.lua" "$S/agents/"
cp "$AIN_SOURCE_DIR/scripts/agents/pipeline.lua" "$S/agents/pipeline_full.lua"
cp -r "$AIN_SOURCE_DIR/scripts/personas" "$S/"
cat > "$S/agents/pipeline.lua" <<'LUA'
return { build = function(payload, ctx)
  local dag, err = require("pipeline_full").build(payload, ctx)
  if not dag then return nil, err end
  for _, s in ipairs(dag.steps) do
    if s.name == "script" then return { steps = { s } } end
  end
  return nil, "EINVAL: the pipeline has no script step"
end }
LUA

C=$T/ain.lua
write_config "$C" "$S" 'queue = { poll_ms = 20, default_timeout_ms = 60000 }' 'trends = { source = "" }' \
  "llm = { url = \"http://127.0.0.1:$PORT\", model = \"script-test\", secret = \"llm_key\", timeout_ms = 1500, max_attempts = 3, prices = { prompt = 0.5, completion = 1.5 } }"
"$AIN_BIN" migrate -c "$C" > /dev/null

# enqueue TITLE SUMMARY TAG: one generate_video task for calm_kenji; prints its task id
enqueue() {
  local payload id
  payload=$(python3 -c 'import json,sys; print(json.dumps({"trend_key": sys.argv[1], "title": sys.argv[1], "summary": sys.argv[2], "tags": ["travel", sys.argv[3]]}))' "$1" "$2" "$3")
  id=$(uuid7)
  printf '{"task_id":"%s","type":"generate_video","payload":%s,"persona_id":"calm_kenji","state_version":0}\n' "$id" "$payload" |
    "$AIN_BIN" enqueue -c "$C" - > /dev/null
  echo "$id"
}
run() { "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || { cat "$T/run.err" >&2; fail "run"; }; }
# dump: every script step as JSON lines {gen (its generate_video task), id, status, result, io}
# in $T/steps.json, read by one python3 per phase (process starts are slow on a loaded box)
dump() {
  sql "select t.id || '|' || g.id || '|' || t.status || '|' || t.result from tasks t, tasks g where t.step = 'script' and g.type = 'generate_video' and g.result like '%' || t.dag_id || '%'" > "$T/steps.txt"
  sql "select task_id || '|' || detail from audit_log where to_status = 'succeeded' and detail like '%\"io\":%'" > "$T/audit.txt"
}
# check PYTHON: runs assertions with s[gen_id] = {id, status, r (result), io}, stats (the server's)
check() {
  local st='{}'
  if [ -n "${SERVER_UP:-}" ]; then st=$(stats); fi
  python3 - "$T" "$st" "$1" <<'PY' || fail "checks failed"
import json, sys
T, stats, code = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
io = {}
for line in open(T + "/audit.txt"):
    if "|" in line:
        tid, d = line.rstrip("\n").split("|", 1)
        io[tid] = json.loads(d).get("io", [])
s = {}
for line in open(T + "/steps.txt"):
    if line.count("|") >= 3:
        tid, gen, status, r = line.rstrip("\n").split("|", 3)
        s[gen] = {"id": tid, "status": status, "r": json.loads(r) if r else {}, "io": io.get(tid, [])}
G = dict(l.split("=", 1) for l in open(T + "/gens.txt").read().split())
def eq(a, b, what):
    if a != b:
        sys.exit("FAIL: %s: expected %r, got %r" % (what, b, a))
def has(a, b, what):
    if b not in str(a):
        sys.exit("FAIL: %s: %r not found in %r" % (what, b, a))
with open(T + "/ids.txt", "w") as f:  # name=script step id, for the replay loop
    for name, gen in G.items():
        if gen in s:
            f.write("%s=%s\n" % (name, s[gen]["id"]))
exec(code)
PY
}
: > "$T/gens.txt"
# enqueue NAME TITLE SUMMARY TAG: one generate_video task for calm_kenji, remembered as NAME
enqueue() {
  local payload id
  payload=$(python3 -c 'import json,sys; print(json.dumps({"trend_key": sys.argv[1], "title": sys.argv[1], "summary": sys.argv[2], "tags": ["travel", sys.argv[3]]}))' "$2" "$3" "$4")
  id=$(uuid7)
  printf '{"task_id":"%s","type":"generate_video","payload":%s,"persona_id":"calm_kenji","state_version":0}\n' "$id" "$payload" >> "$T/enqueue.jsonl"
  echo "$1=$id" >> "$T/gens.txt"
}
flush() { "$AIN_BIN" enqueue -c "$C" - < "$T/enqueue.jsonl" > /dev/null; : > "$T/enqueue.jsonl"; }
SUM="A new sleeper train links Zurich and Amsterdam, a calm alternative to short flights."
SERVER_UP=1

# --- a healthy server -------------------------------------------------------------------------
enqueue ok "Night trains return to Europe" "$SUM" "trains"
flush; run; dump
check '
x = s[G["ok"]]; r = x["r"]
eq(x["status"], "succeeded", "script step")
eq(r["writer"], "llm", "the model wrote the script")
eq(r["lines"][0], "Night trains return to Europe!", "the model hook")
has(r["text"], "A new sleeper train links Zurich and Amsterdam", "the trend facts")
eq(r["text"], " ".join(r["lines"]), "text is the lines")
eq(r["words"], len(r["text"].split()), "words")
eq(r["min_words"] <= r["words"] <= r["max_words"], True, "within the word window")
eq(r["hashtags"], ["#travel", "#slowliving", "#trains"], "the persona hashtags, then the model")
u = r["llm"]["usage"]
eq(u["prompt_tokens"] > 50 and u["completion_tokens"] > 20, True, "usage recorded")
eq(abs(r["llm"]["cost"] - (u["prompt_tokens"] * 0.5 + u["completion_tokens"] * 1.5) / 1000) < 1e-9, True, "cost from llm.prices")
eq(r["llm"]["attempts"], 1, "one request")
eq(r["llm"]["cached"], False, "not cached")
http = [e for e in x["io"] if e["kind"] == "http"]
eq(len(http), 1, "one exchange recorded with the step")
has(http[0]["url"], "/v1/chat/completions", "the exchange url")
eq([e for e in x["io"] if e["kind"] == "secret"], [{"kind": "secret", "name": "llm_key", "found": True}], "the key lookup recorded, not its value")
eq(stats["scripts"], 1, "one script request")
print("ok - a healthy model writes the script: %d words, %d+%d tokens, cost %.6f" % (r["words"], u["prompt_tokens"], u["completion_tokens"], r["llm"]["cost"]))
'

# --- the same trend again: the cache ----------------------------------------------------------
enqueue again "Night trains return to Europe" "$SUM" "trains"
flush; run; dump
check '
r = s[G["again"]]["r"]
eq(r["writer"], "llm", "cached script")
eq(r["llm"]["cached"], True, "answered from the cache")
eq(r["llm"]["usage"]["total_tokens"], 0, "a cached answer costs no tokens")
eq(r["text"], s[G["ok"]]["r"]["text"], "the same script")
eq(stats["scripts"], 1, "the server was not asked again")
print("ok - the same request again is answered from the cache by its hash (no new request)")
'

# --- faults: all at once (markers count per input, so the order of the steps does not matter) --
enqueue e429 "Ferry routes expand in the north" "$SUM" "[[fault:429x1]]"
enqueue e429d "Mountain railways add winter trips" "$SUM" "[[fault:429datex1]]"
enqueue e500 "Harbour towns welcome slow travel" "$SUM" "[[fault:500x1]]"
enqueue slow "Canal boats become quiet hotels" "$SUM" "[[fault:delay=4000x1]]"
enqueue mal "Old stations turn into markets" "$SUM" "[[fault:malformedx1]]"
enqueue sch "River cruises slow down" "$SUM" "[[fault:schemax1]]"
enqueue inv "Island hopping by bicycle" "$SUM" "[[fault:inventedx2]]"
enqueue ref "Lighthouse stays open to guests" "$SUM" "[[fault:refusal]]"
enqueue down "Desert trains at night" "$SUM" "[[fault:500]]"
flush
t0=$(date +%s%N)
run
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
dump
check '
for g in ["e429", "e429d", "e500", "slow", "mal", "sch"]:
    eq(s[G[g]]["status"], "succeeded", g + " step")
    eq(s[G[g]]["r"]["writer"], "llm", g + ": a retry fixed it")
L = lambda g: s[G[g]]["r"]["llm"]
eq(L("e429")["attempts"], 2, "429: two requests")
has(L("e429")["retries"], "HTTP 429: Rate limit reached.", "429 recorded")
has(L("e429d")["retries"], "HTTP 429", "429 (date) recorded")
has(L("e500")["retries"], "HTTP 500", "500 recorded")
has(L("slow")["retries"], "ETIMEOUT", "timeout recorded")
has(L("mal")["retries"], "not JSON", "malformed recorded")
has(L("sch")["retries"], "missing required property", "the schema error named")
for g in ["e429", "e429d"]:
    eq(len([e for e in s[G[g]]["io"] if e["kind"] == "http"]), 2, g + ": two exchanges recorded")
r = s[G["inv"]]["r"]
eq(r["writer"], "template", "an invented fact falls back to the template")
has(r["llm"]["error"], "the number 42 is not in the trend text".replace("42", "\x2742\x27"), "why recorded")
eq(r["llm"]["code"], "ELLM_SCHEMA", "code recorded")
r = s[G["ref"]]["r"]
eq(r["writer"], "template", "a refusal falls back to the template")
has(r["llm"]["error"], "ELLM_REFUSED: the model refused: I cannot help with that.", "refusal recorded")
r = s[G["down"]]["r"]
eq(r["writer"], "template", "500 on every attempt falls back")
has(r["llm"]["error"], "HTTP 500", "the status named")
has(r["llm"]["error"], "after 3 attempts", "max_attempts honoured")
'
# Retry-After (1 s) was waited for: the run cannot have been faster than that
[ "$elapsed" -ge 1000 ] || fail "the 429s' Retry-After (1 s) was not waited for: all done in $elapsed ms"
leaks=$(sql "select count(*) from audit_log where detail like '%$KEY%'")$(sql "select count(*) from tasks where result like '%$KEY%' or payload like '%$KEY%'")$(sql "select count(*) from kv where value like '%$KEY%'")
assert_eq "$leaks" 000 "the API key is stored nowhere"
if grep -q "$KEY" "$T/run.err" "$T/run.out"; then fail "the API key is in the engine's log"; fi
ok "429 (seconds and date), 500, timeout, malformed and schema faults are retried; invented facts, a refusal and a dead server fall back to the template with the reason ($elapsed ms)"

# --- replay with the server stopped -----------------------------------------------------------
stop_server
SERVER_UP=
: > "$T/replays.txt"
while IFS== read -r name id; do
  set +e; out=$("$AIN_BIN" replay -c "$C" "$id" --json); rc=$?; set -e
  assert_eq "$rc" 0 "replay of $name: $out"
  printf '%s=%s\n' "$name" "$out" >> "$T/replays.txt"
done < "$T/ids.txt"
check '
n = 0
for line in open(T + "/replays.txt"):
    name, out = line.rstrip("\n").split("=", 1)
    d = json.loads(out)
    eq(d["changed"], False, "replay of " + name)
    eq(d["replayed"]["result"]["text"], s[G[name]]["r"]["text"], "replayed script of " + name)
    n += 1
eq(n, 11, "replays")
print("ok - ain replay of all %d script steps reproduces each script with the server stopped" % n)
'

# a request that was not recorded is refused, never sent: a scriptwriter whose prompt changed
sw=$(sql "select sha from script_versions where module = 'scriptwriter' order by created_at desc limit 1")
sed -i 's/You write the spoken script of one short vertical video/You write the spoken script of one vertical video/' "$S/agents/scriptwriter.lua"
grep -q 'script of one vertical video' "$S/agents/scriptwriter.lua" || fail "scriptwriter edit"
"$AIN_BIN" check "$S" > /dev/null
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2>&1  # records the new version
sw2=$(sql "select sha from script_versions where module = 'scriptwriter' order by created_at desc limit 1")
[ "$sw2" != "$sw" ] || fail "the changed scriptwriter was recorded"
ok_id=$(grep '^ok=' "$T/ids.txt" | cut -d= -f2)
set +e; out=$("$AIN_BIN" replay -c "$C" "$ok_id" --policy-sha "$sw2" --json 2>&1); set -e
assert_contains "$out" 'no recorded exchange matches this request' "the new request refused with EREPLAY"
ok "a changed request is refused in replay (EREPLAY), never sent"
