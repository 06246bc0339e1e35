#!/usr/bin/env bash
# bench/content (issue 12 "How it is measured"; figures in docs/benchmarks.md): runs the demo
# (ain.lua.example as shipped: the sample trends, 1080x1920) in a scratch folder, then measures
# every rendered video with bench/content_measure.py, from its frames and audio alone: scene count
# and longest still stretch, text boxes against the safe-area bands, caption onsets against the
# speech (pocketsphinx), loudness and true peak of the mix, every script word in the captions,
# BT.709 tags. Prints one line per video and, per bar of bench/content_bars.txt, how many videos
# meet it. Exit status 0 whatever the bars say (a benchmark, not a test: it.content_measure is).
# Usage: bench/content.sh [--data DIR]   (--data: measure an existing run instead: DIR holds
#        ain.db and var/ as bench/content.sh leaves them with AIN_BENCH_KEEP=1)
# Needs a build (tools/build.sh) and tools/setup.sh's packages (ffmpeg, pocketsphinx, fonts).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
AIN=${AIN_BIN:-$SRC/build/ain}
DATA=""
[ "${1:-}" = "--data" ] && DATA=$2
if [ -z "$DATA" ]; then
  B=$(mktemp -d "${TMPDIR:-/tmp}/ain-bench-content-XXXXXX")
  [ -n "${AIN_BENCH_KEEP:-}" ] || trap 'rm -rf "$B"' EXIT
  mkdir -p "$B/var"
  sed -e "s|^data_dir = .*|data_dir = \"$B/var\"|" \
      -e "s|url = \"sqlite:var/ain.db\"|url = \"sqlite:$B/ain.db\"|" \
      -e "s|source = \"samples/trends.jsonl\"|source = \"$SRC/samples/trends.jsonl\"|" \
      -e "s|dir = \"var/outbox\"|dir = \"$B/outbox\"|" \
      -e "s|^scripts_dir = .*|scripts_dir = \"$SRC/scripts\"|" \
      -e "s|^log_format = .*|log_format = \"json\"|" ain.lua.example > "$B/ain.lua"
  t0=$(date +%s%N)
  "$AIN" run -c "$B/ain.lua" --until-idle --no-progress > /dev/null 2> "$B/run.log" ||
    { echo "demo run failed: $B/run.log" >&2; trap - EXIT; exit 1; }
  echo "# demo: $(( ($(date +%s%N) - t0) / 1000000 )) ms wall on $(nproc) cores ($B)"
  DATA=$B
fi
[ -f "$DATA/ain.db" ] || { echo "no $DATA/ain.db" >&2; exit 1; }

mkdir -p "$DATA/content"
sqlite3 -batch -noheader "$DATA/ain.db" "
  SELECT r.id, json_extract(r.result, '$.artifacts.video'), json_extract(r.result, '$.artifacts.captions'),
         replace(json_extract(s.result, '$.title'), '|', '/')
    FROM tasks r JOIN tasks s ON s.dag_id = r.dag_id AND s.step = 'script'
   WHERE r.step = 'render' AND r.status = 'succeeded' ORDER BY s.created_at" > "$DATA/content/videos.txt"
echo "# $(wc -l < "$DATA/content/videos.txt") rendered videos"
while IFS='|' read -r id video ass title; do
  sqlite3 -batch -noheader "$DATA/ain.db" "SELECT json_extract(s.result, '$.text') FROM tasks r
    JOIN tasks s ON s.dag_id = r.dag_id AND s.step = 'script' WHERE r.id = '$id'" > "$DATA/content/$id.txt"
  # what the voice said (numbers, %, $ spelled out by the engine): the meter's language model
  sqlite3 -batch -noheader "$DATA/ain.db" "SELECT json_extract(t.result, '$.spoken') FROM tasks r
    JOIN tasks t ON t.dag_id = r.dag_id AND t.step = 'tts' WHERE r.id = '$id'" > "$DATA/content/$id.spoken"
  python3 "$SRC/bench/content_measure.py" --video "$DATA/var/objects/$video" \
    --captions "$DATA/var/objects/$ass" --script-file "$DATA/content/$id.txt" \
    --spoken-file "$DATA/content/$id.spoken" \
    --bars "$SRC/bench/content_bars.txt" --out "$DATA/content/$id.json" > /dev/null ||
    echo "measure failed: $title" >&2
done < "$DATA/content/videos.txt"

python3 - "$DATA/content" <<'PY'
import glob, json, os, sys
rows = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))]
print("%-5s %6s %7s %8s %7s %7s %7s %6s %6s %5s" % ("video", "scenes", "still_s", "band_px",
      "cap_med", "cap_p95", "LUFS", "TP", "miss", "709"))
for i, r in enumerate(rows):
    c, L = r["captions"], r["loudness"]
    print("%-5d %6d %7.1f %8d %7s %7s %7s %6s %6d %5s" % (i + 1, r["scenes"]["scenes"],
          r["scenes"]["longest_still_s"], r["text"]["px_in_bands_max"], c.get("median_ms"),
          c.get("p95_ms"), L["integrated_lufs"], L["true_peak_dbtp"], r["words"]["missing"],
          r["probe"]["color_space"]))
print()
if rows:
    for k, b in enumerate(rows[0]["bars"]):
        met = sum(1 for r in rows if r["bars"][k]["passed"])
        print("bar %-22s %s %-6g met by %2d/%d videos%s" % (b["metric"], b["op"], b["value"], met,
              len(rows), "" if b["enforced"] else "  (not enforced yet)"))
PY
