#!/usr/bin/env bash
# Hot reload of policies mounted from a Kubernetes ConfigMap (deploy/k8s). The kubelet's atomic
# writer lays a ConfigMap volume out as
#   ..2026_12_07_10_00_00.1/agents/judge.lua   the files, in a timestamped folder
#   ..data -> ..2026_12_07_10_00_00.1          the current version
#   agents -> ..data/agents                    what the engine reads
# and updates it by writing a new timestamped folder, pointing a new `..data_tmp` link at it,
# renaming that over `..data` (atomic) and deleting the old folder. This test does exactly that
# (real symlinks, real renames) with a running `ain run`, three times in a row, and checks each
# time that the engine serves the new version (ain_policy_version_info on /metrics): an inotify
# watch on the old folder goes silent after the first swap, so the registry must follow the link.
# The third swap keeps the old folder (no deletion event at all): only the `..data` rename is seen.
. "$(dirname "$0")/lib.bash"
S=$T/scripts
mkdir -p "$S"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

judge() { # VERSION -> a valid judge policy that names its version
  printf -- '-- judge version %s\nreturn { decide = function(p, ctx) return { v = %s } end }\n' "$1" "$1"
}
# version N: write ..vN/{agents,personas}, swap ..data to it; KEEP=1 leaves the old folder
swap_to() {
  local v=$1 old
  old=$(readlink "$S/..data" 2>/dev/null || true)
  mkdir -p "$S/..v$v/agents" "$S/..v$v/personas"
  judge "$v" > "$S/..v$v/agents/judge.lua"
  add_persona "$S/..v$v"
  ln -s "..v$v" "$S/..data_tmp"
  mv -T "$S/..data_tmp" "$S/..data"
  if [ -n "$old" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "${S:?}/$old"; fi
}
sha_of() { judge "$1" | sha256sum | cut -c1-64; }
serving() { # the judge sha /metrics reports as served; empty while the server is not listening
  { curl -s "http://127.0.0.1:$port/metrics" || true; } |
    sed -n 's/^ain_policy_version_info{module="judge",sha="\([0-9a-f]*\)"} 1$/\1/p'
}
wait_serving() { # SHA WHAT
  local got=""
  for _ in $(seq 300); do # 30 s: a check runs on a worker thread; the box may be loaded
    got=$(serving)
    [ "$got" = "$1" ] && return 0
    sleep 0.1
  done
  grep 'script registry\|policy judge' "$T/run.err" | tail -5 >&2 || true
  fail "$2: serving '${got:-nothing}', expected $1"
}

swap_to 1
ln -s ..data/agents "$S/agents"
ln -s ..data/personas "$S/personas"
C=$T/ain.lua
write_config "$C" "$S" "api = { listen = \"127.0.0.1:$port\", metrics_public = true }"
"$AIN_BIN" migrate -c "$C" > /dev/null
"$AIN_BIN" run -c "$C" --no-progress > "$T/run.out" 2> "$T/run.err" &
CLEANUP_PIDS+=("$!")
wait_serving "$(sha_of 1)" "first version at start"
ok "version 1 served from ..data -> ..v1"

swap_to 2
wait_serving "$(sha_of 2)" "after the first ..data swap"
ok "version 2 served after the first swap (old folder deleted)"

swap_to 3
wait_serving "$(sha_of 3)" "after the second ..data swap (the old folder's watch is gone)"
ok "version 3 served after the second swap"

KEEP=1 swap_to 4
wait_serving "$(sha_of 4)" "after a swap that deletes nothing (only the ..data rename)"
ok "version 4 served after a swap that left the old folder in place"

# An edit of the served file in place (a plain folder, not a ConfigMap) still works after swaps.
judge 5 > "$S/..v4/agents/judge.lua"
wait_serving "$(sha_of 5)" "after an in-place write into the current folder"
ok "version 5 served after an in-place write"
[ "$(sql "select count(*) from script_versions where module = 'judge' and first_error is null")" -ge 5 ] ||
  fail "the store did not record the five versions"
kill -TERM "${CLEANUP_PIDS[0]}"
wait "${CLEANUP_PIDS[0]}" || fail "ain run exited non-zero after the swaps"
ok "clean shutdown"
