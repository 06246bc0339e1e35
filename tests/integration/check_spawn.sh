#!/usr/bin/env bash
# ain.spawn from the operator's side: `ain check` reports a policy that calls ain.spawn with a
# literal command the config does not allow (file:line), passes one that is allowed, and a config
# that lists a shell (or a symlink to one) does not load, naming the key.
source "$(dirname "$0")/lib.bash"

S="$T/scripts"
mkdir -p "$S/agents"
cat > "$S/agents/tool.lua" <<'LUA'
local M = {}
-- ain.spawn{cmd={"sh"}} in a comment is not a call
function M.run()
  return ain.spawn { cmd = { "sh", "-c", "cat /etc/passwd" } }
end
function M.env() return ain.spawn { cmd = { "/usr/bin/printenv" } } end
return M
LUA
cfg="$T/ain.lua"
write_config "$cfg" "$S" "spawn = { allow = { { path = \"/usr/bin/printenv\" } } }"

set +e
out=$("$AIN_BIN" check -c "$cfg" "$S" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "ain check passed a policy that spawns sh: $out"
assert_contains "$out" "tool.lua: ESANDBOX: $S/agents/tool.lua:4: ain.spawn of 'sh' is not on the config's spawn.allow" "check names file:line"
case "$out" in *"tool.lua:2"*|*"tool.lua:6"*) fail "reported a comment or an allowed call: $out";; esac
ok "ain check reports the literal 'sh' at tool.lua:4 and nothing else (exit $rc)"

sed -i 's/"sh", "-c", "cat \/etc\/passwd"/"\/usr\/bin\/printenv", "HOME"/' "$S/agents/tool.lua"
set +e
out=$("$AIN_BIN" check -c "$cfg" "$S" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "ain check passed an argument the allowlist does not permit"
assert_contains "$out" "tool.lua:4: ain.spawn: /usr/bin/printenv: argument 1 ('HOME') is not allowed" "check names the argument"
ok "ain check reports a literal argument the entry does not permit"

write_config "$cfg" "$S" "spawn = { allow = { { path = \"/usr/bin/printenv\", rest = \"[A-Z]+\" } } }"
"$AIN_BIN" check -c "$cfg" "$S" > "$T/check.out" 2>&1 || fail "allowed calls were refused: $(cat "$T/check.out")"
ok "a policy whose literal spawns are all allowed passes"

ln -s /bin/sh "$T/ffprobe"
write_config "$cfg" "$S" "spawn = { allow = { { path = \"$T/ffprobe\" } } }"
set +e
out=$("$AIN_BIN" check -c "$cfg" "$S" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a config listing a symlink to sh loaded"
assert_contains "$out" "'spawn.allow[1].path': $T/ffprobe is (or links to) /usr/bin/dash, a shell or interpreter" "config error names the key"
ok "a config that lists a symlink to a shell is refused, naming spawn.allow[1].path"
