#!/usr/bin/env bash
# Embeddings and vector search, black-box (docs/vectors.md), on SQLite and (vectors_pg) Postgres.
#  1. The embedded hashed-ngrams default: a feed holding "Apple unveils M5" and "M5 chip announced
#     by Apple" plans one video; the second is skipped naming the first (debug log). The planned
#     trend's vector is in the store (table embeddings) and `ain similar` finds it; a later run
#     with a rewording skips it as a near duplicate of the planned trend (across processes: the
#     index is rebuilt from the store).
#  2. An OpenAI-compatible provider (tests/servers/openai_compat.js, /v1/embeddings, a toy
#     semantic model): a synonym rewording that the lexical default misses is caught; the key
#     comes from the secret; a provider answering 500 makes the planner warn and plan by key.
source "$(dirname "$0")/lib.bash"

cat > "$T/trends.jsonl" <<'JSONL'
{"id":"v-1","title":"Apple unveils M5","tags":["chips","ai"],"score":90,"ts":"2025-06-02T08:00:00Z"}
{"id":"v-2","title":"M5 chip announced by Apple","tags":["chips","ai"],"score":80,"ts":"2025-06-02T09:00:00Z"}
JSONL
cfg="$T/ain.lua"
common=("media = { width = 360, height = 640, preset = \"ultrafast\" }"
        "channels = { outbox = { dir = \"$T/outbox\" } }" "log_level = \"debug\"")
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" "${common[@]}" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
grep -q 'near duplicate of line 1 \\"Apple unveils M5\\" (cosine 0\.[0-9][0-9])' "$T/run.log" ||
  fail "the near duplicate was not skipped naming line 1: $(grep -i 'not planned' "$T/run.log" | head -3)"
assert_eq "$(sql "SELECT count(*) FROM dags")" 1 "one video for the two reports"
assert_eq "$(sql "SELECT item_id, model, dims, label FROM embeddings WHERE kind = 'trend'")" \
  "apple unveils m5|hashed-ngrams-1024|1024|Apple unveils M5" "the planned trend's vector"
ok "hashed-ngrams: the near duplicate in one feed is skipped naming the earlier trend"

out=$("$AIN_BIN" similar -c "$cfg" --json --k 3 "the Apple M5 chip") || fail "ain similar: $out"
assert_contains "$out" '"results":[{"id":"apple unveils m5","label":"Apple unveils M5","score":0.' "similar"
out=$("$AIN_BIN" similar -c "$cfg" "Tokyo ramen") || fail "ain similar (text): $out"
assert_contains "$out" "apple unveils m5" "similar lists the one trend there is"
set +e
err=$("$AIN_BIN" similar -c "$cfg" --kind "Bad Kind" x 2>&1); rc=$?
set -e
assert_eq "$rc" 4 "a bad kind is invalid input"
assert_contains "$err" "kind" "the error names kind"
set +e
"$AIN_BIN" similar -c "$cfg" --k 0 x > /dev/null 2>&1; rc=$?
set -e
assert_eq "$rc" 2 "--k 0 is a usage error"
ok "ain similar: nearest stored trend first; bad kind and k refused"

# a new process (its index rebuilt from the store) sees the planned trend within the window
cat > "$T/trends2.jsonl" <<'JSONL'
{"id":"v-3","title":"Apple unveils the M5 chip","tags":["chips","ai"],"score":90,"ts":"2025-06-02T10:00:00Z"}
JSONL
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" "${common[@]}" \
  "trends = { source = \"$T/trends2.jsonl\", interval_ms = 600000 }"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > /dev/null 2> "$T/run2.log" ||
  fail "second run exited $? (log: $(tail -5 "$T/run2.log"))"
grep -q 'near duplicate of planned trend \\"Apple unveils M5\\" (apple unveils m5, cosine' "$T/run2.log" ||
  fail "the rewording was not skipped as planned: $(grep -i 'not planned' "$T/run2.log" | head -3)"
assert_eq "$(sql "SELECT count(*) FROM dags")" 1 "no second video"
ok "a later run skips a near duplicate of a trend planned earlier, naming it"

# 2. an OpenAI-compatible provider
node "$AIN_SOURCE_DIR/tests/servers/openai_compat.js" --port 0 --key it-embed-key \
  --port-file "$T/oc.port" > "$T/oc.log" 2>&1 &
oc_pid=$!
trap 'kill $oc_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/oc.port" ] && break; sleep 0.1; done
[ -s "$T/oc.port" ] || fail "the OpenAI-compatible server did not start: $(cat "$T/oc.log")"
oc="http://127.0.0.1:$(cat "$T/oc.port")"
export AIN_SECRET_EMBED_KEY=it-embed-key
# tags that match no persona: nothing is rendered, the skips are what is checked
cat > "$T/trends3.jsonl" <<'JSONL'
{"id":"o-1","title":"Zork unveils Q9","tags":["misc"],"score":90,"ts":"2025-06-02T08:00:00Z"}
{"id":"o-2","title":"Q9 processor revealed by Zork","tags":["misc"],"score":80,"ts":"2025-06-02T09:00:00Z"}
JSONL
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" "${common[@]}" \
  "trends = { source = \"$T/trends3.jsonl\", interval_ms = 600000 }" \
  "embed = { provider = \"openai\", url = \"$oc\", model = \"toy-embed\", secret = \"embed_key\", timeout_ms = 5000 }"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > /dev/null 2> "$T/run3.log" ||
  fail "openai run exited $? (log: $(tail -5 "$T/run3.log"))"
grep -q 'near duplicate of line 1 \\"Zork unveils Q9\\"' "$T/run3.log" ||
  fail "the synonym rewording was not caught: $(grep -i 'not planned\|embed' "$T/run3.log" | head -5)"
stats=$(curl -s "$oc/stats")
assert_contains "$stats" '"rejected":0' "every embeddings request was well-formed and authorised"
case "$stats" in *'"embeddings":0'*) fail "no embeddings request reached the server: $stats";; esac
ok "openai provider: requests from the thread pool, key from the secret, synonyms caught"

curl -s -X POST -H 'Content-Type: application/json' -d '{"fault":"500","count":100}' "$oc/control" > /dev/null
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > /dev/null 2> "$T/run4.log" ||
  fail "a failing provider stopped the run: $(tail -5 "$T/run4.log")"
grep -q 'embedding failed, de-duplicating by key only' "$T/run4.log" ||
  fail "no warning about the failing provider: $(grep -i embed "$T/run4.log" | head -3)"
grep -q 'HTTP 500' "$T/run4.log" || fail "the warning does not say what failed"
if grep -q 'it-embed-key' "$T/run3.log" "$T/run4.log"; then fail "the API key is in the log"; fi
ok "a provider answering 500: the planner warns (naming the status, not the key) and plans by key"
