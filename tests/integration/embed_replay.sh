#!/usr/bin/env bash
# ain.embed through an OpenAI-compatible provider is recorded for replay (issue 15): a policy step
# embeds three titles with tests/servers/openai_compat.js (/v1/embeddings) and decides which is a
# near duplicate; its audit row records the provider's answer ("io", kind "embed": the model, the
# sha256 of the texts, the float32 vectors); `ain replay` of that step with the server stopped
# serves the recorded vectors and reproduces the decision exactly (texts that match no recording
# are refused with EREPLAY, never sent: engine/lua/ain_vectors.c replay_embed).
. "$(dirname "$0")/lib.bash"

node "$AIN_SOURCE_DIR/tests/servers/openai_compat.js" --port 0 --key it-embed-key \
  --port-file "$T/oc.port" > "$T/oc.log" 2>&1 &
oc_pid=$!
CLEANUP_PIDS+=("$oc_pid")
for _ in $(seq 100); do [ -s "$T/oc.port" ] && break; sleep 0.1; done
[ -s "$T/oc.port" ] || fail "the OpenAI-compatible server did not start: $(cat "$T/oc.log")"
oc="http://127.0.0.1:$(cat "$T/oc.port")"
export AIN_SECRET_EMBED_KEY=it-embed-key

S=$T/scripts
mkdir -p "$S/agents" "$S/personas"
add_persona "$S"
cat > "$S/agents/pipeline.lua" <<'LUA'
return { build = function(payload, ctx)
  return { steps = { { name = "near", handler = "lua:steps.near" } } }
end }
LUA
cat > "$S/agents/steps.lua" <<'LUA'
return {
  near = function(payload, ctx)
    local titles = { "Zork unveils Q9", "Q9 processor revealed by Zork", "Rain expected in Lyon" }
    local vecs, err = ain.embed(titles)
    if not vecs then return nil, err end
    local dups = vecs:dedup(0.5)
    local out = {}
    for i, d in ipairs(dups) do
      out[i] = d and { row = d.row, score = math.floor(d.score * 1e6 + 0.5) / 1e6 } or false
    end
    return { dups = out }
  end,
}
LUA
C=$T/ain.lua
write_config "$C" "$S" 'queue = { poll_ms = 20 }' \
  "embed = { provider = \"openai\", url = \"$oc\", model = \"toy-embed\", secret = \"embed_key\", timeout_ms = 5000 }"
"$AIN_BIN" migrate -c "$C" > /dev/null
task_msg generate_video '{}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.log" ||
  fail "run: $(tail -5 "$T/run.log")"
id=$(sql "SELECT id FROM tasks WHERE step = 'near'")
[ -n "$id" ] || fail "no near step"
assert_eq "$(sql "SELECT status FROM tasks WHERE id = '$id'")" "succeeded" "the near step"
result=$(sql "SELECT result FROM tasks WHERE id = '$id'")
assert_contains "$result" '"row":1' "the second title is a near duplicate of the first"
calls=$(curl -sf "$oc/stats" | jq .embeddings)
[ "$calls" -ge 1 ] || fail "no embeddings request reached the server"
io=$(sql "SELECT detail FROM audit_log WHERE task_id = '$id' AND to_status = 'succeeded'" | jq -c '.io')
assert_eq "$(jq -r '.[0].kind, .[0].model, .[0].n, (.[0].vectors | length > 0)' <<< "$io" | tr '\n' ' ')" \
  "embed toy-embed 3 true " "the recorded exchange"
if grep -q 'it-embed-key' <<< "$io"; then fail "the API key is in the recording"; fi
ok "the provider's answer is recorded in the step's audit row (kind embed, model, 3 vectors)"

kill "$oc_pid"
wait "$oc_pid" 2> /dev/null || true
set +e; out=$("$AIN_BIN" replay -c "$C" "$id" --json); rc=$?; set -e
assert_eq "$rc" 0 "replay with the server stopped: $out"
assert_eq "$(jq -r .changed <<< "$out")" "false" "the replayed decision changed"
# key order is Lua's table order, which differs between processes: compare sorted
assert_eq "$(jq -cS .replayed.result <<< "$out")" "$(jq -cS . <<< "$result")" "the replayed result"
ok "ain replay reproduces the decision from the recorded vectors, with the server stopped"
