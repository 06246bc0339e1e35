#!/usr/bin/env bash
# Scenes with real visuals through the production DAG at 180x320: a media library (one picture
# with a sidecar of tags), Pexels and Pixabay test servers (tests/servers/pexels.js, pixabay.js:
# the documented requests and answers) and the generated default. Pexels fails its first search
# (500), Pixabay answers 429 to every search. Asserts: the scene list covers the speech without
# overlap; the library picture is used for the scene whose words match its tags; the other
# scenes come from Pexels (portrait photo, key in Authorization) or, where no stock answered,
# generated motion with an emoji; Pixabay is asked once (a 429 holds for the rest of the video);
# the stock file is downloaded once (cached by URL) and stored by its sha256; licence and
# attribution are in the render result's credits; the rendered picture changes at every scene
# (ffmpeg's scene score) and never stands still for 4 s (freezedetect); the thumbnail is
# 1080x1920.
source "$(dirname "$0")/lib.bash"
command -v node > /dev/null || fail "node is required"

mkdir -p "$T/files" "$T/lib"
ffmpeg -v error -f lavfi -i testsrc2=s=480x720:d=1 -frames:v 1 "$T/files/a-photo.jpg"
ffmpeg -v error -f lavfi -i smptebars=s=480x720:d=1 -frames:v 1 "$T/files/b-photo.jpg"
ffmpeg -v error -f lavfi -i mandelbrot=s=360x640 -frames:v 1 "$T/lib/robot-cafe.jpg"
printf '{"tags": ["robots", "cafe", "tokyo"], "licence": "CC0", "attribution": "Test Library"}\n' \
  > "$T/lib/robot-cafe.jpg.json"

start() { # name -> port in $T/<name>.port
  node "$AIN_SOURCE_DIR/tests/servers/$1.js" --key "$2" --files "$T/files" --port-file "$T/$1.port" \
    > "$T/$1.log" 2>&1 &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 1 200); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
  [ -s "$T/$1.port" ] || fail "$1.js did not start: $(cat "$T/$1.log")"
}
start pexels pk-test-1
start pixabay xk-test-2
PX=$(cat "$T/pexels.port") PB=$(cat "$T/pixabay.port")
curl -sf -X POST "http://127.0.0.1:$PX/__fault" -d '{"fault":"500","count":1}' > /dev/null
curl -sf -X POST "http://127.0.0.1:$PB/__fault" -d '{"fault":"429","count":-1}' > /dev/null
export AIN_SECRET_PEXELS_KEY=pk-test-1 AIN_SECRET_PIXABAY_KEY=xk-test-2

head -1 "$AIN_SOURCE_DIR/tests/fixtures/trends/e2e.jsonl" > "$T/trends.jsonl"
cfg="$T/ain.lua"
write_config "$cfg" "$AIN_SOURCE_DIR/scripts" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 180, height = 320, preset = \"ultrafast\", library = \"$T/lib\", inspect = { enabled = false } }" \
  "stock = { order = \"pexels,pixabay\", pexels = { url = \"http://127.0.0.1:$PX\", key_secret = \"pexels_key\" }, pixabay = { url = \"http://127.0.0.1:$PB\", key_secret = \"pixabay_key\" } }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress > "$T/run.log" 2>&1 ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
assert_eq "$(sql "SELECT status FROM tasks WHERE step = 'render'")" "succeeded" "render step"
ok "the DAG renders with library, stock and generated scenes"

sql "SELECT result FROM tasks WHERE step = 'visuals'" > "$T/visuals.json"
sql "SELECT result FROM tasks WHERE step = 'render'" > "$T/render.json"
python3 - "$T/visuals.json" "$T/render.json" "$T/lib/robot-cafe.jpg" << 'PY' || fail "scenes/credits: see above"
import json, sys
v = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
sc = v["scenes"]
assert len(sc) >= 3, f"{len(sc)} scenes"
assert sc[0]["start_ms"] == 0
for a, b in zip(sc, sc[1:]):
    assert a["end_ms"] == b["start_ms"], (a, b)
for s in sc:
    assert s["end_ms"] - s["start_ms"] <= 4000, s
src = [s["visual"]["source"] for s in sc]
lib = [s for s in sc if s["visual"]["source"] == "library"]
assert lib and lib[0]["visual"]["path"] == sys.argv[3], src
assert "robots" in lib[0]["keywords"], lib[0]
assert "pexels" in src and "pixabay" not in src, src
assert src[0] == "generated" and sc[0]["visual"].get("emoji"), sc[0]   # 500 then 429: no stock
assert any("rate limited" in n for n in v["notes"]), v["notes"]
assert r["scenes"] == len(sc), (r["scenes"], len(sc))
cr = r["credits"]
px = [c for c in cr if c["source"] == "pexels"]
assert px and all(c["licence"].startswith("Pexels License") and c["author"].startswith("Photographer")
                  and c["key"].startswith("sha256/") and c["page_url"] for c in px), px
assert all(c["url"].endswith("/files/b-photo.jpg") for c in px), px   # the portrait one
lc = [c for c in cr if c["source"] == "library"]
assert lc and lc[0]["licence"] == "CC0", lc
print("scenes:", len(sc), src)
PY
ok "scenes cover the speech without overlap, none over 4 s; library match, Pexels after its 500, generated where no stock answered"
ok "credits: licence, author, page and the object-store key (sha256) of every stock and library picture"

px=$(curl -sf "http://127.0.0.1:$PX/__stats") pb=$(curl -sf "http://127.0.0.1:$PB/__stats")
python3 -c '
import json, sys
px, pb = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert px["bad_key"] == 0 and px["rejected"] == 0 and pb["bad_key"] == 0 and pb["rejected"] == 0, (px, pb)
assert px["faults"] == 1 and px["ok"] >= 1, px
assert pb["searches"] == 1 and pb["rate_limited"] == 1, pb
assert px["downloads"] == 1, px   # one URL, downloaded once, cached for the other scenes
' "$px" "$pb" || fail "stock servers: pexels $px pixabay $pb"
ok "Pexels: key accepted, one 500 then answers, the file downloaded once; Pixabay asked once (429 holds)"

mp4=$(find "$T/var/objects" -name '*.mp4' | head -1)
jpg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifacts"]["thumbnail"])' "$T/render.json")
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp4")
# Sampled at 2 fps: an xfade spreads a cut over 0.4 s, too gradual for frame-to-frame scores.
cuts=$(ffmpeg -v error -i "$mp4" -vf "fps=2,select='gt(scene,0.1)',metadata=print:file=-" -f null - |
  grep -o 'pts_time:[0-9.]*' | cut -d: -f2 |
  awk 'BEGIN{n=0; last=-9} { if ($1 - last > 0.8) n++; last=$1 } END{print n}')
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["scenes"]))' "$T/visuals.json")
[ "$cuts" -ge $((n - 1)) ] || fail "$cuts picture changes detected for $n scenes"
ok "the picture changes at every scene ($cuts changes for $n scenes in $dur s)"
freezes=$(ffmpeg -v info -i "$mp4" -vf freezedetect=n=0.0005:d=4 -f null - 2>&1 | grep -c freeze_start || true)
assert_eq "$freezes" "0" "stretches of 4 s without motion"
ok "no still stretch of 4 s"
size=$(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=p=0 "$T/var/objects/$jpg")
assert_eq "$size" "1080,1920" "thumbnail size"
ok "thumbnail is 1080x1920"
