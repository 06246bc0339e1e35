#!/usr/bin/env bash
# Render benchmark (issue 12 "Performance"; not a test; figures in docs/benchmarks.md). One run:
#  1. The engine's real render against the very same ffmpeg command run directly, interleaved:
#     a 30 s 1080x1920 video with ~6 scenes (generated motion + emoji, xfade transitions), word
#     captions and the music bed goes through the real pipeline one step at a time (1 shard, 1
#     step in flight, nothing else competing for the cores; inspect off: it comes after the
#     render). At log level debug the render step keeps its ffmpeg command line
#     (data_dir/work/<task>.ffmpeg.json); the raw run is that argv, byte for byte, with only the
#     output file changed, reading the same inputs (speech+music mix, scene pictures, captions).
#     N rounds, each the engine's run then the raw command AIN_BENCH_RAW_RUNS (3) times (one run
#     of one argv moves by up to 25 % on this VM); ratio = median render step wall (claim ->
#     success: ASS, scene pictures, ffmpeg, ffprobe, thumbnail, object store) / median of all the
#     raw runs' walls, target <= 1.1. Also printed: CPU seconds of both ffmpegs. Peak RSS: the
#     engine process (VmHWM) + its largest ffmpeg child, target < 1 GB.
#     The 30 s script and the 6 scenes come from a copy of scripts/ with two numbers changed (the
#     template writer's default length, the visuals' longest scene): the shipped policies aim at
#     14-16 s videos with a scene at most every 3.6 s.
#  2. The demo (ain.lua.example as tools/demo.sh runs it: 1080x1920, the sample trends, 14
#     videos) on all cores: wall time (target < 240 s), peak RSS, per-step latency from the audit
#     log.
# Prints one "BAR" line per bar.
# Usage: bench/render.sh [N=3] [--no-demo|--demo-only]. Needs a build (tools/build.sh).
#        AIN_BENCH_KEEP=1 keeps the scratch folder (printed); bench/content.sh --data DIR/demo
#        then measures the demo's videos without rendering them again.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
AIN=$SRC/build/ain
N=${1:-3}
RAW_RUNS=${AIN_BENCH_RAW_RUNS:-3}
DEMO=1
PART1=1
[ "${2:-}" = "--no-demo" ] && DEMO=0
[ "${2:-}" = "--demo-only" ] && PART1=0
B=$(mktemp -d "${TMPDIR:-/tmp}/ain-bench-render-XXXXXX")
[ -n "${AIN_BENCH_KEEP:-}" ] || trap 'rm -rf "$B"' EXIT
mkdir -p "$B/bin"
# A private copy: other builds may replace build/ain while the benchmark runs.
cp "$AIN" "$B/bin/ain"
AIN=$B/bin/ain
printf '#!/bin/sh\nexec /usr/bin/time -f "%%M %%e %%U %%S" -a -o "%s/ffmpeg-engine.log" /usr/bin/ffmpeg "$@"\n' \
  "$B" > "$B/bin/ffmpeg"
chmod +x "$B/bin/ffmpeg"

# Runs "$@" in the background; writes its peak VmHWM (kB) to $1 once it exits (polled every
# 0.25 s: VmHWM only grows, so the last read is the peak). Exit status: the command's. The poll
# starts no process (bash's read on /proc, and a read with a timeout on a FIFO nobody writes as
# the sleep): an awk and a sleep four times a second cost the engine's side of the comparison
# CPU the raw side does not pay.
hwm_run() {
  local out=$1 pid hwm=0 k v rest
  shift
  "$@" &
  pid=$!
  [ -p "$B/tick" ] || mkfifo "$B/tick"
  exec 9<> "$B/tick"
  while kill -0 "$pid" 2> /dev/null; do
    while read -r k v rest; do
      [ "$k" = VmHWM: ] && hwm=$v
    done 2> /dev/null < "/proc/$pid/status" || true
    read -r -t 0.25 -u 9 _ || true
  done
  exec 9<&-
  echo "$hwm" > "$out"
  wait "$pid"
}

echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $B"

# ---- 1. engine vs the same ffmpeg command -----------------------------------------------------
if [ "$PART1" = 1 ]; then
[ "$N" -le "$(wc -l < bench/render_trends.jsonl)" ] ||
  { echo "N=$N: bench/render_trends.jsonl has $(wc -l < bench/render_trends.jsonl) trends" >&2; exit 2; }
cp -r "$SRC/scripts" "$B/scripts"
sed -i 's/^local DEFAULTS = { min_seconds = 10, max_seconds = 20, target_seconds = 14,/local DEFAULTS = { min_seconds = 27, max_seconds = 33, target_seconds = 30,/' \
  "$B/scripts/agents/scriptwriter.lua"
sed -i 's/^M.MAX_SCENE_MS = 3600 /M.MAX_SCENE_MS = 5600 /' "$B/scripts/agents/visuals.lua"
# A 30 s render on a loaded box can pass the render step's 180 s: give it 10 minutes.
sed -i '/name = "render", handler = "render"/{n;s/timeout_ms = 180000/timeout_ms = 600000/}' \
  "$B/scripts/agents/pipeline.lua"
grep -q 'target_seconds = 30' "$B/scripts/agents/scriptwriter.lua" &&
  grep -q '^M.MAX_SCENE_MS = 5600' "$B/scripts/agents/visuals.lua" &&
  grep -q 'timeout_ms = 600000' "$B/scripts/agents/pipeline.lua" ||
  { echo "bench/render.sh: scriptwriter.lua DEFAULTS, visuals.lua MAX_SCENE_MS or pipeline.lua's render timeout changed; update the sed lines" >&2; exit 1; }
: > "$B/trends.jsonl"
cat > "$B/ain.lua" <<EOF
shards = 1
log_level = "debug"
log_format = "json"
scripts_dir = "$B/scripts"
data_dir = "$B/var"
store = { url = "sqlite:$B/ain.db", sql_dir = "$SRC/sql" }
queue = { max_running = 1, claim_batch = 1 }
api = { enabled = false }
vectors = { dedup_threshold = 0 }
media = { render_timeout_ms = 590000, inspect = { enabled = false } }
trends = { source = "$B/trends.jsonl" }
channels = { outbox = { dir = "$B/outbox" } }
EOF
mkdir -p "$B/var"
q() { sqlite3 -batch -noheader "$B/ain.db" "$1"; }
: > "$B/raw.txt"
: > "$B/engine.txt"
# Interleaved: one trend through the engine, then its command run directly, N times, so that
# cache warmth and clock drift favour neither side.
for i in $(seq 1 "$N"); do
  sed -n "${i}p" bench/render_trends.jsonl >> "$B/trends.jsonl"
  : > "$B/ffmpeg-engine.log"
  PATH="$B/bin:$PATH" hwm_run "$B/ain-hwm.txt" "$AIN" run -c "$B/ain.lua" --until-idle \
    --no-progress > /dev/null 2>> "$B/engine.log"
  row=$(q "SELECT t.id, json_extract(t.result, '$.render_ms'), json_extract(t.result, '$.duration_ms'),
          json_extract(t.result, '$.scenes'), json_extract(t.result, '$.artifacts.captions'),
          (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
          (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running')
     FROM tasks t WHERE t.step = 'render' AND t.status = 'succeeded' ORDER BY t.created_at DESC LIMIT 1")
  [ -n "$row" ] || { echo "no render succeeded; see $B/engine.log" >&2; trap - EXIT; exit 1; }
  IFS='|' read -r id render_ms dur_ms scenes ass step_ms <<< "$row"
  cmd="$B/var/work/$id.ffmpeg.json"
  [ -f "$cmd" ] || { echo "no $cmd (the render step keeps it at log level debug)" >&2; trap - EXIT; exit 1; }
  # The engine's largest ffmpeg child (the render) and the engine's own peak.
  read -r ff_kb _ ff_user ff_sys <<< "$(grep '^[0-9]' "$B/ffmpeg-engine.log" | sort -n | tail -1)"
  echo "$render_ms $step_ms $dur_ms $scenes $(cat "$B/ain-hwm.txt") $ff_kb $ff_user $ff_sys" >> "$B/engine.txt"
  # The captions the command reads lived in the step's scratch folder (gone with the step): the
  # very same bytes are the captions artifact.
  python3 - "$cmd" "$B/var/objects/$ass" "$B/raw.mp4" "$B/raw.argv" <<'PY'
import json, os, shutil, sys
j = json.load(open(sys.argv[1]))
os.makedirs(os.path.dirname(j["captions"]), exist_ok=True)
shutil.copyfile(sys.argv[2], j["captions"])
argv = j["argv"]
assert argv[-1] == j["out"], "the output is not the last argument"
argv[0], argv[-1] = "/usr/bin/ffmpeg", sys.argv[3]
open(sys.argv[4], "w").write("\0".join(argv))
PY
  # RAW_RUNS runs of the raw command: back to back, the very same run's wall time moves by up to
  # ~25 % on this VM (20.0, 23.4 and 26.0 s for one argv), as much as the engine-raw gap used
  # to show, so one raw run is no reference. The round's reference is their median.
  for k in $(seq 1 "$RAW_RUNS"); do
    t0=$(date +%s%N)
    xargs -0 -a "$B/raw.argv" /usr/bin/time -f "%M %e %U %S" -a -o "$B/ffmpeg-raw.log" | cat > /dev/null
    t1=$(date +%s%N)
    echo "$i $(( (t1 - t0) / 1000000 ))" >> "$B/raw.txt"
  done
  rm -rf "${B:?}/var/work/$id"
done

python3 - "$B" "$N" <<'PY'
import sys, statistics as st
b, n = sys.argv[1], int(sys.argv[2])
eng = [l.split() for l in open(b + "/engine.txt") if l.strip()]
rawrows = [l.split() for l in open(b + "/raw.txt") if l.strip()]
raw = [float(r[1]) for r in rawrows]
raw_round = [st.median(float(r[1]) for r in rawrows if int(r[0]) == i + 1) for i in range(len(eng))]
ff = [float(e[0]) for e in eng]; step = [float(e[1]) for e in eng]
dur = [float(e[2]) / 1000 for e in eng]; sc = [int(e[3]) for e in eng]
ain_mb = max(int(e[4]) for e in eng) / 1024; ffe_mb = max(int(e[5]) for e in eng) / 1024
rawlog = [l.split() for l in open(b + "/ffmpeg-raw.log") if l[:1].isdigit()]
ffr_mb = max(int(l[0]) for l in rawlog) / 1024
# CPU seconds (user + sys) of each ffmpeg: what the two runs asked of the machine, which the
# machine's other tenants (steal, neighbours) move much less than the wall time
cpu_eng = [float(e[6]) + float(e[7]) for e in eng]
cpu_raw = [float(l[2]) + float(l[3]) for l in rawlog]
runs = lambda v: ", ".join("%.0f" % x for x in v)
print("videos: %s s; scenes %s (1080x1920, preset/crf as ain.lua.example)" % (
    ", ".join("%.1f" % d for d in dur), ", ".join(map(str, sc))))
print("raw ffmpeg, same argv:     median %6.0f ms  (runs: %s)" % (st.median(raw), runs(raw)))
print("ffmpeg inside the engine:  median %6.0f ms  (runs: %s)" % (st.median(ff), runs(ff)))
print("whole render step:         median %6.0f ms  (runs: %s)" % (st.median(step), runs(step)))
print("  (step = captions, scene pictures, ffmpeg, ffprobe, thumbnail, object store, checkpoint)")
print("ratio engine's ffmpeg / raw: %.3f" % (st.median(ff) / st.median(raw)))
print("per round, step / the round's median raw run: %s (median %.3f)" % (
    ", ".join("%.2f" % (s / r) for s, r in zip(step, raw_round)),
    st.median(s / r for s, r in zip(step, raw_round))))
print("the step's own work beside ffmpeg (step - engine's ffmpeg): median %.0f ms" % (
    st.median(s - f for s, f in zip(step, ff))))
cpu_raw_round = [st.median(c for c, r in zip(cpu_raw, rawrows) if int(r[0]) == i + 1)
                 for i in range(len(eng))]
print("ffmpeg CPU s (user+sys), engine / raw median: %s (median ratio %.3f)" % (
    ", ".join("%.1f/%.1f" % (e, r) for e, r in zip(cpu_eng, cpu_raw_round)),
    st.median(e / r for e, r in zip(cpu_eng, cpu_raw_round))))
ratio = st.median(step) / st.median(raw)
rss = ain_mb + ffe_mb
print("peak RSS: engine %.0f MB + its ffmpeg %.0f MB = %.0f MB (raw ffmpeg %.0f MB)" % (
    ain_mb, ffe_mb, rss, ffr_mb))
print("BAR render_step/raw_ffmpeg %.3f <= 1.10 %s (median step of %d rounds / median of the %d "
      "raw runs, %d a round)" % (ratio, "MET" if ratio <= 1.10 else "MISSED", n, len(raw),
                                  len(raw) // max(n, 1)))
print("BAR render_rss_mb %.0f < 1024 %s (engine + its ffmpeg)" % (rss, "MET" if rss < 1024 else "MISSED"))
PY
fi

# ---- 2. the demo on all cores ------------------------------------------------------------------
[ "$DEMO" = 1 ] || exit 0
mkdir -p "$B/demo/var"
sed -e "s|^data_dir = .*|data_dir = \"$B/demo/var\"|" \
    -e "s|url = \"sqlite:var/ain.db\"|url = \"sqlite:$B/demo/ain.db\"|" \
    -e "s|source = \"samples/trends.jsonl\"|source = \"$SRC/samples/trends.jsonl\"|" \
    -e "s|dir = \"var/outbox\"|dir = \"$B/demo/outbox\"|" \
    -e "s|^scripts_dir = .*|scripts_dir = \"$SRC/scripts\"|" \
    -e "s|^log_format = .*|log_format = \"json\"|" ain.lua.example > "$B/demo/ain.lua"
: > "$B/ffmpeg-engine.log"
t0=$(date +%s%N)
PATH="$B/bin:$PATH" /usr/bin/time -f "%M %U %S" -o "$B/ain-rss.txt" \
  "$AIN" run -c "$B/demo/ain.lua" --until-idle --no-progress --json > "$B/demo/summary.json" 2> "$B/demo/run.log" ||
  echo "demo: ain run failed, see $B/demo/run.log" >&2
t1=$(date +%s%N)
wall_ms=$(( (t1 - t0) / 1000000 ))
python3 - "$B" "$wall_ms" "$(nproc)" <<'PY'
import json, sys
b, wall, cores = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3])
d = json.load(open(b + "/demo/summary.json"))
rss, user, sys_ = open(b + "/ain-rss.txt").read().split()[-3:]
cpu = float(user) + float(sys_)
ff = max((int(l.split()[0]) for l in open(b + "/ffmpeg-engine.log") if l[:1].isdigit()), default=0)
print("demo: %d DAGs done, %d failed, %d videos published in %.1f s wall on %d cores" % (
    d["dags"]["succeeded"], d["dags"]["failed"], d["videos"]["published"], wall, cores))
print("CPU: %.0f s user+sys (engine and every child); on %d idle cores the wall cannot be under "
      "%.0f s" % (cpu, cores, cpu / cores))
print("peak RSS: largest of ain and its children %d MB, largest ffmpeg %d MB" % (
    int(rss) // 1024, ff // 1024))
import sqlite3
db = sqlite3.connect(b + "/demo/ain.db")
# finished DAGs' tasks move to tasks_archive after cluster.archive_after_ms (5 min): count both
rendered = db.execute("SELECT count(*) FROM (SELECT step, status FROM tasks UNION ALL SELECT step, "
                      "status FROM tasks_archive) WHERE step = 'render' AND status = 'succeeded'"
                      ).fetchone()[0]
review = db.execute("SELECT count(*) FROM tasks WHERE step = 'review_gate' AND status = 'waiting'"
                    ).fetchone()[0]
print("%d videos rendered, %d published, %d waiting for a human review (the judge's call)" % (
    rendered, d["videos"]["published"], review))
ok = wall < 240 and d["dags"]["failed"] == 0 and rendered >= 14
print("BAR demo_wall_s %.1f < 240 %s (14 videos rendered and judged; load average now %s)" % (
    wall, "MET" if ok else "MISSED", open("/proc/loadavg").read().split()[0]))
PY
sqlite3 -batch -noheader "$B/demo/ain.db" "
  SELECT coalesce(t.step, t.type),
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running')
    FROM (SELECT id, step, type, status, result FROM tasks UNION ALL
          SELECT id, step, type, status, result FROM tasks_archive) t WHERE t.status = 'succeeded'
  UNION ALL
  SELECT 'render (own work)',
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running') -
         json_extract(t.result, '$.waited_ms')
    FROM (SELECT id, step, status, result FROM tasks UNION ALL
          SELECT id, step, status, result FROM tasks_archive) t
   WHERE t.status = 'succeeded' AND t.step = 'render'" | python3 -c '
import sys, collections
d = collections.defaultdict(list)
for line in sys.stdin:
    step, ms = line.strip().split("|")
    d[step.split("_")[0] if step.startswith("publish") else step].append(int(ms))
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
print("claimed -> succeeded per step (render includes waiting for a render slot; own work excludes it)")
print("%-18s %5s %8s %8s %8s" % ("step", "n", "p50 ms", "p95 ms", "max ms"))
for k in sorted(d, key=lambda k: -pct(d[k], 95)):
    print("%-18s %5d %8d %8d %8d" % (k, len(d[k]), pct(d[k], 50), pct(d[k], 95), max(d[k])))'
