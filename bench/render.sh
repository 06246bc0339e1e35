#!/usr/bin/env bash
# Render benchmark (not a test; figures in docs/benchmarks.md). Two parts, one run:
#  1. The same render through the engine and as the equivalent raw ffmpeg command, interleaved:
#     a trend goes through the real pipeline one step at a time (1 shard, 1 step in flight, so
#     nothing else competes for the cores), then the raw command renders that video again from
#     the very same inputs (background, speech, captions taken from the object store); N times. Both ffmpeg runs go
#     through /usr/bin/time for peak RSS. Reports ffmpeg wall time inside the engine, the whole
#     render step (ffmpeg + probe + thumbnail + object store) and the raw command: ratio = engine
#     / raw, target <= 1.05; peak memory, target < 1 GB.
#  2. The demo (ain.lua.example: 1080x1920, every sample trend) on all cores: wall time and
#     per-step latency p50/p95 from the audit log (claimed -> succeeded), target < 90 s per step.
# Usage: bench/render.sh [N=3] [--no-demo|--demo-only]. Needs a build (tools/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
AIN=$SRC/build/ain
N=${1:-3}
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
cat > "$B/bin/ffmpeg" <<EOF
#!/bin/sh
exec /usr/bin/time -f "%M %e" -a -o "$B/ffmpeg-engine.log" /usr/bin/ffmpeg "\$@"
EOF
chmod +x "$B/bin/ffmpeg"

echo "# $(nproc) cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"

# ---- 1. engine vs raw ffmpeg ------------------------------------------------------------------
if [ "$PART1" = 1 ]; then
grep -v '"t-002"' samples/trends.jsonl | awk -v n="$N" 'NR <= n' > "$B/all-trends.jsonl" # t-002 duplicates t-001
: > "$B/trends.jsonl"
cat > "$B/ain.lua" <<EOF
shards = 1
log_format = "json"
scripts_dir = "$SRC/scripts"
data_dir = "$B/var"
store = { url = "sqlite:$B/ain.db", sql_dir = "$SRC/sql" }
queue = { max_running = 1, claim_batch = 1 }
api = { enabled = false }
trends = { source = "$B/trends.jsonl" }
channels = { outbox = { dir = "$B/outbox" } }
EOF
mkdir -p "$B/var"
q() { sqlite3 -batch -noheader "$B/ain.db" "$1"; }
: > "$B/raw.txt"
: > "$B/engine.txt"
# Interleaved: one trend through the engine, then the raw command on the same inputs, N times, so
# that cache warmth and clock drift favour neither side.
for i in $(seq 1 "$N"); do
  sed -n "${i}p" "$B/all-trends.jsonl" >> "$B/trends.jsonl"
  PATH="$B/bin:$PATH" "$AIN" run -c "$B/ain.lua" --until-idle --no-progress > /dev/null 2>> "$B/engine.log"
  row=$(q "SELECT t.id, json_extract(t.result, '$.render_ms'), json_extract(t.result, '$.speech_ms'),
          json_extract(d.result, '$.background'), json_extract(s.result, '$.audio'),
          json_extract(t.result, '$.artifacts.captions'),
          (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
          (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running')
     FROM tasks t
     JOIN task_deps ea ON ea.task_id = t.id JOIN tasks d ON d.id = ea.depends_on AND d.step = 'assets'
     JOIN task_deps es ON es.task_id = t.id JOIN tasks s ON s.id = es.depends_on AND s.step = 'tts'
    WHERE t.step = 'render' AND t.status = 'succeeded' ORDER BY t.created_at DESC LIMIT 1")
  [ -n "$row" ] || { echo "no render succeeded; see $B/engine.log" >&2; trap - EXIT; exit 1; }
  IFS='|' read -r id render_ms speech_ms bg wav ass step_ms <<< "$row"
  echo "$render_ms $step_ms" >> "$B/engine.txt"
  o="$B/var/objects"
  total=$(python3 -c "print('%.3f' % (($speech_ms + 300) / 1000.0))")
  vf="[0:v]scale=1080:1920:force_original_aspect_ratio=increase,crop=1080:1920,setsar=1,subtitles=filename=$o/$ass:fontsdir=/usr/share/fonts/truetype/dejavu,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p[v];[1:a]aresample=48000,apad[a]"
  t0=$(date +%s%N)
  /usr/bin/time -f "%M %e" -a -o "$B/ffmpeg-raw.log" /usr/bin/ffmpeg -y -nostdin -hide_banner \
    -loglevel error -nostats -progress pipe:1 -loop 1 -framerate 30 -i "$o/$bg" -i "$o/$wav" \
    -filter_complex "$vf" -map '[v]' -map '[a]' -t "$total" -r 30 -fps_mode cfr -c:v libx264 \
    -preset veryfast -crf 23 -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 \
    -color_trc bt709 -color_range tv -c:a aac -b:a 128k -ar 48000 -ac 2 \
    -movflags +faststart -f mp4 "$B/raw.mp4" | cat > /dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >> "$B/raw.txt"
done

python3 - "$B" <<'PY'
import sys, statistics as st
b = sys.argv[1]
eng = [tuple(map(float, l.split())) for l in open(b + "/engine.txt") if l.strip()]
raw = [float(l) for l in open(b + "/raw.txt") if l.strip()]
ff = [e[0] for e in eng]; step = [e[1] for e in eng]
def mem(path, want):
    # /usr/bin/time lines "maxrss_kb seconds"; the renders are the long runs
    rows = [l.split() for l in open(path) if l[:1].isdigit()]
    rows = sorted(rows, key=lambda r: -float(r[1]))[:want]
    return max(int(r[0]) for r in rows) / 1024 if rows else 0
print("renders: %d engine, %d raw (1080x1920, veryfast, crf 23)" % (len(ff), len(raw)))
print("ffmpeg inside the engine: median %.0f ms  (runs: %s)" % (st.median(ff), ", ".join("%.0f" % x for x in ff)))
print("raw ffmpeg command:       median %.0f ms  (runs: %s)" % (st.median(raw), ", ".join("%.0f" % x for x in raw)))
print("whole render step:        median %.0f ms  (ffmpeg + ffprobe + thumbnail + object store)" % st.median(step))
print("ratio engine/raw (ffmpeg):     %.3f  (target <= 1.05)" % (st.median(ff) / st.median(raw)))
print("ratio engine/raw (whole step): %.3f" % (st.median(step) / st.median(raw)))
print("peak RSS: ffmpeg in the engine %.0f MB, raw %.0f MB (target < 1024 MB)" %
      (mem(b + "/ffmpeg-engine.log", len(ff)), mem(b + "/ffmpeg-raw.log", len(raw))))
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
PATH="$B/bin:$PATH" /usr/bin/time -f "%M" -o "$B/ain-rss.txt" \
  "$AIN" run -c "$B/demo/ain.lua" --until-idle --no-progress --json > "$B/demo/summary.json" 2> "$B/demo/run.log"
t1=$(date +%s%N)
echo "demo: $(python3 -c "import json; d=json.load(open('$B/demo/summary.json')); print('%d DAGs done, %d failed, %d videos published' % (d['dags']['succeeded'], d['dags']['failed'], d['videos']['published']))") in $(( (t1 - t0) / 1000000 )) ms wall on $(nproc) cores"
echo "peak RSS: ain $(( $(cat "$B/ain-rss.txt") / 1024 )) MB, largest ffmpeg $(sort -n "$B/ffmpeg-engine.log" | tail -1 | awk '{printf "%d", $1/1024}') MB"
sqlite3 -batch -noheader "$B/demo/ain.db" "
  SELECT coalesce(t.step, t.type),
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running')
    FROM tasks t WHERE t.status = 'succeeded'
  UNION ALL
  SELECT 'render (own work)',
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'succeeded') -
         (SELECT max(ts) FROM audit_log WHERE task_id = t.id AND to_status = 'running') -
         json_extract(t.result, '$.waited_ms')
    FROM tasks t WHERE t.status = 'succeeded' AND t.step = 'render'" | python3 -c '
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
