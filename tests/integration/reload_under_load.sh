#!/usr/bin/env bash
# Reload under load: 5,000 judge steps run while judge.lua is rewritten 50 times, valid and
# invalid versions alternating (half saved by rename, as editors do, half written in place).
# Asserts: no step fails, an invalid version never runs, every audit row names a version that
# was valid and already written when its step was claimed, and the reloads happened while steps
# were running. Prints the reload latency (file written -> first step claimed on it) p50/p99.
# RELOAD_STEPS / RELOAD_WRITES override the sizes (bench/reload.sh runs a bigger one).
. "$(dirname "$0")/lib.bash"
DAGS=${RELOAD_DAGS:-100}
WIDTH=${RELOAD_WIDTH:-50}
WRITES=${RELOAD_WRITES:-50}
S=$T/scripts
mkdir -p "$S/agents" "$S/personas"
add_persona "$S"
cat > "$S/agents/pipeline.lua" <<LUA
return { build = function(payload, ctx)
  local steps = {}
  for i = 1, $WIDTH do
    steps[i] = { name = "j" .. i, handler = "lua:judge.decide", max_attempts = 1 }
  end
  return { steps = steps }
end }
LUA
judge_valid() { # VERSION: a judge that does a little work and says which version it is
  cat <<LUA
-- judge version $1
local M = {}
function M.decide(payload, ctx)
  local x = 0
  for i = 1, 20000 do x = x + i % 7 end
  ain.sleep(10)
  return { v = $1, decision = (x % 2 == 0) and "pass" or "doubt" }
end
return M
LUA
}
judge_invalid() { # VERSION KIND
  case $2 in
    0) printf -- '-- bad %s\nlocal M = {}\nfunction M.decide(p, ctx\n  return { v = %s }\nend\nreturn M\n' "$1" "$1" ;;
    1) printf -- '-- bad %s\nreturn { other = function() return { v = %s } end }\n' "$1" "$1" ;;
    2) printf -- '-- bad %s\nlocal f = io.open("/etc/passwd")\nreturn { decide = function() return { v = %s } end }\n' "$1" "$1" ;;
    3) printf -- '-- bad %s\nwhile true do end\nreturn { decide = function() return { v = %s } end }\n' "$1" "$1" ;;
    4) printf -- '-- bad %s\nerror("refused at load")\n' "$1" ;;
  esac
}
save() { # FILE CONTENT-ON-STDIN, alternating rename-save and in-place write
  if [ $(( $2 % 4 )) -lt 2 ]; then cat > "$1.tmp.$$"; mv "$1.tmp.$$" "$1"; else cat > "$1"; fi
}
judge_valid 0 > "$S/agents/judge.lua"
sha256sum "$S/agents/judge.lua" | cut -c1-64 > "$T/valid.txt"
: > "$T/invalid.txt"
: > "$T/writes.txt"
C=$T/ain.lua
write_config "$C" "$S" 'queue = { poll_ms = 20, claim_batch = 4, max_running = 4 }' 'log_level = "info"'
"$AIN_BIN" migrate -c "$C" > /dev/null
for i in $(seq 1 "$DAGS"); do task_msg generate_video '{}'; done > "$T/tasks.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/tasks.jsonl" > /dev/null
"$AIN_BIN" run -c "$C" --no-progress > "$T/run.out" 2> "$T/run.err" &
pid=$!
CLEANUP_PIDS+=("$pid")
total=$(( DAGS * WIDTH ))
done_count() { sql "select count(*) from tasks where handler = 'lua:judge.decide' and status in ('succeeded','dead')"; }
for _ in $(seq 1 200); do [ "$(done_count)" -gt 0 ] && break; sleep 0.05; done
[ "$(done_count)" -gt 0 ] || { cat "$T/run.err"; fail "no judge step ran"; }
for k in $(seq 1 "$WRITES"); do
  f=$T/next.lua
  if [ $(( k % 2 )) -eq 0 ]; then
    judge_valid "$k" > "$f"
    sha256sum "$f" | cut -c1-64 >> "$T/valid.txt"
  else
    judge_invalid "$k" $(( (k / 2) % 5 )) > "$f"
    sha256sum "$f" | cut -c1-64 >> "$T/invalid.txt"
  fi
  echo "$(sha256sum "$f" | cut -c1-64) $(date +%s%3N)" >> "$T/writes.txt"
  save "$S/agents/judge.lua" "$k" < "$f"
  sleep 0.05
done
during=$(done_count)
echo "# $during of $total judge steps had finished when the last rewrite was saved"
[ "$during" -lt "$total" ] || fail "the load ended before the rewrites did (make the run longer)"
for _ in $(seq 1 1200); do [ "$(done_count)" -ge "$total" ] && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid" || true
assert_eq "$(done_count)" "$total" "every judge step finished"
assert_eq "$(sql "select count(*) from tasks where status <> 'succeeded'")" 0 "no step failed"
# every succeeded judge step: the version its audit row names, its claim time
sql "select r.task_id, json_extract(r.detail, '\$.policies.judge'), c.ts, json_extract(t.result, '\$.v')
     from audit_log r join audit_log c on c.task_id = r.task_id and c.to_status = 'running'
     join tasks t on t.id = r.task_id
     where r.to_status = 'succeeded' and t.handler = 'lua:judge.decide'" > "$T/ran.txt"
assert_eq "$(wc -l < "$T/ran.txt")" "$total" "one audit row per judge step"
awk -F'|' -v valid="$T/valid.txt" -v invalid="$T/invalid.txt" -v writes="$T/writes.txt" '
  BEGIN { while ((getline l < valid) > 0) ok[l] = 1; while ((getline l < invalid) > 0) bad[l] = 1
          n = 0; while ((getline l < writes) > 0) { split(l, a, " "); wt[a[1]] = a[2] } }
  { if ($2 in bad) { print "FAIL: step " $1 " ran invalid version " $2; exit 1 }
    if (!($2 in ok)) { print "FAIL: step " $1 " ran unknown version " $2; exit 1 }
    if (($2 in wt) && $3 + 0 < wt[$2] - 5) { print "FAIL: step " $1 " claimed at " $3 " ran version written at " wt[$2]; exit 1 }
    seen[$2] = 1 }
  END { c = 0; for (s in seen) c++; print "# versions seen in audit rows: " c }' "$T/ran.txt" | tee "$T/check.txt"
grep -q FAIL "$T/check.txt" && fail "$(grep FAIL "$T/check.txt")"
seen=$(sed -n 's/# versions seen in audit rows: //p' "$T/check.txt")
[ "$seen" -ge 5 ] || fail "only $seen versions ran: reloads did not reach the steps"
# results agree with the version the audit names (v is written into each version's source)
bad_v=$(awk -F'|' '{ print $2, $4 }' "$T/ran.txt" | sort -u | awk '{ c[$1]++ } END { for (s in c) if (c[s] > 1) print s }')
[ -z "$bad_v" ] || fail "one version gave two different v: $bad_v"
# what the registry saw (a write that another replaced within the debounce is never seen):
# every invalid version it saw is recorded with its error, every valid one without
sql "select sha, first_error is null from script_versions where module = 'judge'" > "$T/recorded.txt"
awk -F'|' -v valid="$T/valid.txt" -v invalid="$T/invalid.txt" '
  BEGIN { while ((getline l < valid) > 0) ok[l] = 1; while ((getline l < invalid) > 0) bad[l] = 1 }
  ($1 in bad) && $2 == 1 { print "FAIL: invalid version " $1 " recorded as valid" }
  ($1 in ok) && $2 == 0 { print "FAIL: valid version " $1 " recorded as rejected" }
  ($1 in bad) { nb++ } END { print "# rejected versions recorded: " nb + 0 }' "$T/recorded.txt" | tee "$T/rec.txt"
grep -q FAIL "$T/rec.txt" && fail "$(grep FAIL "$T/rec.txt")"
rej=$(sed -n 's/# rejected versions recorded: //p' "$T/rec.txt")
[ "$rej" -ge $(( WRITES / 4 )) ] || fail "only $rej rejected versions recorded"
[ "$(grep -c 'rejected' "$T/run.err" || true)" -ge "$rej" ] || fail "rejections are not all logged"
# reload latency: write -> first step claimed on that version
awk -F'|' -v writes="$T/writes.txt" '
  BEGIN { while ((getline l < writes) > 0) { split(l, a, " "); wt[a[1]] = a[2] } }
  ($2 in wt) { if (!($2 in first) || $3 < first[$2]) first[$2] = $3 }
  END { for (s in first) { d = first[s] - wt[s]; if (d < 0) d = 0; print d } }' "$T/ran.txt" | sort -n > "$T/lat.txt"
n=$(wc -l < "$T/lat.txt")
p50=$(awk -v n="$n" 'NR == int((n + 1) * 0.5) { print }' "$T/lat.txt")
p99=$(awk -v n="$n" 'NR == (int(n * 0.99) < 1 ? 1 : int(n * 0.99)) { print }' "$T/lat.txt")
max=$(tail -1 "$T/lat.txt")
echo "# reload latency (write -> first step claimed on it), $n valid versions: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms"
ok "reload under load: $total steps, $WRITES rewrites, no failure, no invalid version ran"
