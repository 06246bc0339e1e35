#!/usr/bin/env bash
# Black-box tests of the script registry's operator surface on SQLite: `ain check` on every kind
# of bad policy (syntax, runtime error, missing entry point, wrong return type, infinite loop,
# memory bomb, os/io/debug/package.loadlib, string.dump, bytecode, setmetatable(_G), a safety
# data module that is not a table); versions
# recorded in script_versions and named in audit rows; `ain scripts list/show/pin/unpin`;
# `ain replay` (unchanged, changed with --policy-sha, side effects refused); `ain test`.
. "$(dirname "$0")/lib.bash"

# --- ain check -------------------------------------------------------------------------------
"$AIN_BIN" check "$AIN_SOURCE_DIR/scripts" > "$T/check.out" || fail "shipped policies fail ain check"
ok "shipped policies pass ain check"
B=$T/bad
mkdir -p "$B/agents" "$B/personas" "$B/safety"
printf 'local M = {}\nfunction M.decide( return M\n' > "$B/agents/judge.lua"
printf 'local M = {}\nerror("boom at load")\nreturn M\n' > "$B/agents/planner.lua"
printf 'return { write = 42 }\n' > "$B/agents/scriptwriter.lua"
printf 'return "not a table"\n' > "$B/agents/publisher.lua"
printf 'local n = 0\nwhile true do n = n + 1 end\nreturn {build = function() end}\n' > "$B/agents/pipeline.lua"
# 1 MiB a step: the cap (256 MiB) is reached in a few hundred steps, long before the 2 s check
# deadline even on a loaded machine (4 KiB steps needed 64 Ki of them and lost that race under load).
printf 'local t = {}\nfor i = 1, 1e9 do t[i] = string.rep("x", 1048576) .. i end\nreturn {f = function() end}\n' > "$B/agents/membomb.lua"
printf 'local x = os.execute("true")\nreturn {f = function() end}\n' > "$B/agents/os_exec.lua"
printf 'local f = io.open("/etc/passwd")\nreturn {f = function() end}\n' > "$B/agents/io_open.lua"
printf 'local d = debug.getinfo(1)\nreturn {f = function() end}\n' > "$B/agents/debug_use.lua"
printf 'local l = package.loadlib("libc.so.6", "puts")\nreturn {f = function() end}\n' > "$B/agents/loadlib.lua"
printf 'local s = string.dump(function() end)\nreturn {f = function() end}\n' > "$B/agents/dump.lua"
printf 'local f = load("\\027LJ\\002")\nreturn {f = function() end}\n' > "$B/agents/bytecode.lua"
printf 'setmetatable(_G, {__index = function() return 1 end})\nreturn {f = function() end}\n' > "$B/agents/meta_g.lua"
printf 'return {}\n' > "$B/agents/nofunc.lua"
printf 'return { id = "someone_else", voice = {}, style = {} }\n' > "$B/personas/ann.lua"
printf 'return { id = "bo", style = {} }\n' > "$B/personas/bo.lua"
printf 'return "words"\n' > "$B/safety/words.lua"
printf 'return { category = "hate", rules = {} }\n' > "$B/safety/fine.lua"
set +e; out=$("$AIN_BIN" check "$B" 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "ain check exit code on bad policies"
expect() { assert_contains "$out" "$1" "ain check: $2"; }
expect "agents/judge.lua:2:" "syntax error names file:line"
expect "ELUA: agents/planner.lua:2: boom at load" "runtime error at load"
expect "scriptwriter.lua: missing entry point 'write' (a function), found number" "missing entry point"
expect "publisher.lua must return a table of entry points, got string" "wrong return type"
expect "EBUDGET_CPU: agents/pipeline.lua" "infinite loop"
expect "EBUDGET_MEM: agents/membomb.lua" "memory bomb"
expect "agents/os_exec.lua:1: os.execute is refused by the sandbox" "os.execute"
expect "agents/io_open.lua:1: io.open is refused by the sandbox" "io.open"
expect "agents/debug_use.lua:1: debug.getinfo is refused by the sandbox" "debug"
expect "agents/loadlib.lua:1: package.loadlib is refused by the sandbox" "package.loadlib"
expect "agents/dump.lua:1: string.dump is refused by the sandbox" "string.dump"
expect "agents/bytecode.lua:1: load of bytecode is refused by the sandbox" "bytecode"
expect "agents/meta_g.lua:1: setmetatable(_G, ...) is refused by the sandbox" "setmetatable(_G)"
expect "agents/nofunc.lua: the table it returns has no function" "no entry point"
expect "personas/ann.lua: a persona needs id = \"ann\"" "persona id"
expect "personas/bo.lua: a persona needs a 'voice' table" "persona voice"
expect "ELUA: safety/words.lua must return a table, got string" "safety data not a table"
case "$out" in *safety/fine.lua*) fail "a safety data table needs no entry point: $out";; esac
assert_contains "$out" "18 policy file(s) checked, 17 failed" "ain check counts"
set +e; "$AIN_BIN" check "$B/agents/nofunc.lua" > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 4 "ain check of one bad file"
set +e; "$AIN_BIN" check "$T/nope" > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "ain check of a missing path"
ok "ain check refuses every kind of bad policy with file and reason"

# --- versions, audit, replay ------------------------------------------------------------------
S=$T/scripts
mkdir -p "$S/agents" "$S/personas"
add_persona "$S"
cat > "$S/agents/pipeline.lua" <<'LUA'
return { build = function(payload, ctx)
  return { steps = {
    { name = "draft", handler = "lua:steps.draft" },
    { name = "judge", handler = "lua:judge.decide", deps = { "draft" } },
    { name = "spawny", handler = "lua:steps.spawny" },
  } }
end }
LUA
cat > "$S/agents/steps.lua" <<'LUA'
return {
  draft = function(payload, ctx) return { words = 120, text = "a calm video about tea" } end,
  spawny = function(payload, ctx)
    local r, err = ain.spawn({ cmd = { "true" } })
    return { spawned = r ~= nil, err = err }
  end,
}
LUA
judge() { # judge LIMIT: blocks drafts longer than LIMIT words
  cat > "$S/agents/judge.lua" <<LUA
local M = {}
function M.decide(payload, ctx)
  local words = ctx.deps.draft.words
  return { decision = words <= $1 and "pass" or "block", limit = $1 }
end
return M
LUA
}
judge 200
sha_v1=$(sha256sum "$S/agents/judge.lua" | cut -c1-64)
C=$T/ain.lua
write_config "$C" "$S" 'queue = { poll_ms = 20 }'
"$AIN_BIN" migrate -c "$C" > /dev/null
run() { "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || { cat "$T/run.err"; fail "run"; }; }
task_msg generate_video '{}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
run
judge_id=$(sql "select id from tasks where step = 'judge' order by created_at desc limit 1")
spawny_id=$(sql "select id from tasks where step = 'spawny' order by created_at desc limit 1")
assert_eq "$(sql "select status from tasks where id = '$judge_id'")" succeeded "judge step"
detail=$(sql "select detail from audit_log where task_id = '$judge_id' and to_status = 'succeeded'")
assert_contains "$detail" "\"judge\":\"$sha_v1\"" "audit row names the judge version"
assert_contains "$("$AIN_BIN" scripts list -c "$C")" "valid, newest" "scripts list"
"$AIN_BIN" scripts list -c "$C" --json | grep_all "\"sha\":\"$sha_v1\"" || fail "scripts list --json has v1"
"$AIN_BIN" scripts show -c "$C" "${sha_v1:0:12}" | grep_all 'words <= 200' || fail "scripts show by prefix"
ok "versions recorded; audit names them"

set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id"); rc=$?; set -e
assert_eq "$rc" 0 "replay of an unchanged policy"
assert_contains "$out" "decision unchanged" "replay unchanged"
judge 100 # the team tightens the judge
sha_v2=$(sha256sum "$S/agents/judge.lua" | cut -c1-64)
run # records v2 (nothing to run)
set +e; out=$("$AIN_BIN" replay -c "$C" "$judge_id" --policy-sha "${sha_v2:0:16}"); rc=$?; set -e
assert_eq "$rc" 1 "replay with a changed decision exits 1"
assert_contains "$out" "decision CHANGED" "replay shows the change"
assert_contains "$out" '"pass"' "old decision shown"
assert_contains "$out" '"block"' "new decision shown"
js=$("$AIN_BIN" replay -c "$C" "$judge_id" --policy-sha "$sha_v2" --json || true)
assert_contains "$js" '"changed":true' "replay --json"
assert_contains "$js" "\"judge\":\"$sha_v2\"" "replay --json names the replayed version"
set +e; out=$("$AIN_BIN" replay -c "$C" "$spawny_id"); rc=$?; set -e
assert_eq "$rc" 1 "replay of a step with side effects differs"
assert_contains "$out" "EREPLAY: side effects are disabled during replay (ain.spawn)" "replay refuses spawn"
set +e; "$AIN_BIN" replay -c "$C" "$(uuid7)" > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "replay of an unknown task"
set +e; "$AIN_BIN" replay -c "$C" "$judge_id" --policy-sha deadbeefdeadbeef > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "replay with an unknown sha"
ok "replay: unchanged, changed, side effects refused, bad input"

# --- pin / unpin -------------------------------------------------------------------------------
out=$("$AIN_BIN" scripts pin -c "$C" judge "${sha_v1:0:10}")
assert_contains "$out" "judge pinned to ${sha_v1:0:12}" "pin"
task_msg generate_video '{}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
run
j2=$(sql "select id from tasks where step = 'judge' order by created_at desc limit 1")
assert_contains "$(sql "select result from tasks where id = '$j2'")" '"pass"' "pinned v1 decides"
assert_contains "$(sql "select detail from audit_log where task_id = '$j2' and to_status = 'succeeded'")" "$sha_v1" "pinned version in audit"
"$AIN_BIN" scripts unpin -c "$C" judge | grep_all unpinned || fail "unpin"
task_msg generate_video '{}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
run
j3=$(sql "select id from tasks where step = 'judge' order by created_at desc limit 1")
assert_contains "$(sql "select result from tasks where id = '$j3'")" '"block"' "unpinned: newest (v2) decides"
printf 'local M = {}\nfunction M.decide(payload, ctx)\n  return {decision = "pass"\nend\nreturn M\n' > "$S/agents/judge.lua"
sha_bad=$(sha256sum "$S/agents/judge.lua" | cut -c1-64)
task_msg generate_video '{}' | "$AIN_BIN" enqueue -c "$C" - > /dev/null
run
assert_contains "$(cat "$T/run.err")" "rejected" "invalid version logged"
j4=$(sql "select id from tasks where step = 'judge' order by created_at desc limit 1")
assert_contains "$(sql "select detail from audit_log where task_id = '$j4' and to_status = 'succeeded'")" "$sha_v2" "invalid version never runs; v2 keeps serving"
list=$("$AIN_BIN" scripts list -c "$C" judge)
assert_contains "$list" "rejected: ELUA: agents/judge.lua:4:" "scripts list shows the rejected version with file:line"
set +e; out=$("$AIN_BIN" scripts pin -c "$C" judge "$sha_bad" 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "pinning a rejected version"
assert_contains "$out" "cannot be pinned" "pin of rejected version explains"
set +e; "$AIN_BIN" scripts pin -c "$C" judge 0123456789abcdef > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "pinning an unknown version"
set +e; "$AIN_BIN" scripts pin -c "$C" judge xyz > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 4 "pinning a malformed sha"
set +e; "$AIN_BIN" scripts frob -c "$C" > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 2 "unknown scripts subcommand"
ok "pin / unpin; rejected version listed with its error and never runs"

# --- ain test: specs run with the engine's real ain module -----------------------------------
mkdir -p "$T/spec"
cat > "$T/spec/engine_spec.lua" <<'LUA'
describe("ain test", function()
  it("gives specs the engine's own ain module", function()
    assert.equals("C", debug.getinfo(ain.sha256, "S").what)
    assert.equals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ain.sha256("abc"))
    local v, err = ain.json.decode("{")
    assert.is_nil(v)
    assert.truthy(err:match("^EINVAL"))
  end)
end)
LUA
(cd "$T" && "$AIN_BIN" test spec > "$T/test.out" 2>&1) || { cat "$T/test.out"; fail "ain test of a passing spec"; }
assert_contains "$(cat "$T/test.out")" "1 success / 0 failures" "ain test summary"
printf 'describe("x", function() it("fails", function() assert.equals(1, 2) end) end)\n' > "$T/spec/fail_spec.lua"
set +e; (cd "$T" && "$AIN_BIN" test spec > "$T/test2.out" 2>&1); rc=$?; set -e
assert_eq "$rc" 1 "ain test exit code on a failing spec"
ok "ain test runs busted with the real ain module"
