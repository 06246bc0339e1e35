#!/usr/bin/env bash
# Inspect benchmark (not a test; figures in docs/benchmarks.md): what the output checks (the
# "inspect" step: ffmpeg + tesseract on sampled frames, ffmpeg + pocketsphinx on the audio) add to
# a video's end-to-end time. N sample trends, each made twice in the same run, interleaved: the
# whole pipeline with media.inspect.enabled = false, then with it on (fresh store and data folder
# each time, production size 1080x1920, the example config's preset). End-to-end = the DAG's first
# audit row to its last (plan -> published). Reports both medians, the ratio (target <= 1.30) and
# the inspect step's own parts, and the CPU time of each run (user + system, children included).
# Usage: bench/inspect.sh [N=3]. Needs a build (tools/build.sh) and tools/setup.sh's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
N=${1:-3}
B=$(mktemp -d "${TMPDIR:-/tmp}/ain-bench-inspect-XXXXXX")
[ -n "${AIN_BENCH_KEEP:-}" ] || trap 'rm -rf "$B"' EXIT
cp "$SRC/build/ain" "$B/ain" # a private copy: other builds may replace build/ain meanwhile
echo "# $(nproc) cores, $(tesseract --version 2>&1 | head -1), pocketsphinx $(dpkg-query -W -f='${Version}' pocketsphinx 2>/dev/null)"
grep -v '"t-002"' samples/trends.jsonl | awk -v n="$N" 'NR <= n' > "$B/all.jsonl"

run_one() { # I ON(true|false) -> "e2e_ms inspect_result_json"
  local d="$B/run-$1-$2"
  mkdir -p "$d"
  sed -n "${1}p" "$B/all.jsonl" > "$d/trends.jsonl"
  cat > "$d/ain.lua" <<EOF
log_format = "json"
scripts_dir = "$SRC/scripts"
data_dir = "$d/var"
store = { url = "sqlite:$d/ain.db", sql_dir = "$SRC/sql" }
trends = { source = "$d/trends.jsonl" }
media = { preset = "veryfast", inspect = { enabled = $2 } }
channels = { outbox = { dir = "$d/outbox" } }
EOF
  # CPU seconds of the run and its children (ffmpeg, tesseract, pocketsphinx): less sensitive to
  # other work on a shared machine than wall time.
  /usr/bin/time -f "%U %S" -o "$d/cpu.txt" \
    "$B/ain" run -c "$d/ain.lua" --until-idle --no-progress > /dev/null 2> "$d/run.log" ||
    { echo "run failed: $d/run.log" >&2; exit 1; }
  echo -n "$(awk '{printf "%.0f", ($1 + $2) * 1000}' "$d/cpu.txt")|"
  sqlite3 -batch -noheader "$d/ain.db" "SELECT (SELECT max(ts) - min(ts) FROM audit_log),
    coalesce((SELECT result FROM tasks WHERE step = 'inspect'), '{}'),
    (SELECT count(*) FROM publish_receipts) + (SELECT count(*) FROM reviews)"
}

: > "$B/results.txt"
for i in $(seq 1 "$N"); do
  echo "off $(run_one "$i" false)" >> "$B/results.txt"
  echo "on $(run_one "$i" true)" >> "$B/results.txt"
done

python3 - "$B/results.txt" <<'PY'
import json, statistics as st, sys
off, on, parts, cpu_off, cpu_on = [], [], [], [], []
for line in open(sys.argv[1]):
    kind, rest = line.split(" ", 1)
    cpu, ms, res, done = rest.strip().split("|", 3)
    (on if kind == "on" else off).append(float(ms))
    (cpu_on if kind == "on" else cpu_off).append(float(cpu))
    if kind == "on":
        parts.append(json.loads(res).get("ms", {}))
print("videos: %d with inspect off, %d on (1080x1920, one at a time, 2 cores)" % (len(off), len(on)))
print("end-to-end, inspect off: median %.0f ms  (runs: %s)" % (st.median(off), ", ".join("%.0f" % x for x in off)))
print("end-to-end, inspect on:  median %.0f ms  (runs: %s)" % (st.median(on), ", ".join("%.0f" % x for x in on)))
print("ratio on/off: %.3f  (target <= 1.30)" % (st.median(on) / st.median(off)))
print("CPU of the run, inspect off: median %.1f s, on: %.1f s, ratio %.3f" %
      (st.median(cpu_off) / 1000, st.median(cpu_on) / 1000, st.median(cpu_on) / st.median(cpu_off)))
for k in ("model", "audio", "frames", "asr", "ocr", "total"):
    print("inspect %-6s median %5.0f ms" % (k, st.median([p.get(k, 0) for p in parts])))
PY
