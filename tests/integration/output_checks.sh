#!/usr/bin/env bash
# The judge's output checks on real renders (360x640, ~8 s videos): the real pipeline with the
# inspect step (ffmpeg + tesseract on frames, ffmpeg + pocketsphinx on the audio) and a test
# scriptwriter (tests/fixtures/output_checks) that gives three trends the same short text and makes
# the voice read something else for two of them. Asserts: the good video passes and is published,
# the inspect result has OCR frames with times, words with boxes, the render's plan (title and
# caption boxes, scene changes, none of them sampled) and the heard text; the video whose voice drops a
# sentence and the one whose voice says other words both go to review with output findings
# naming what was expected; media.inspect.enabled = false skips the step (the judge sees
# {enabled = false}); a bad media.inspect value is refused at load, naming the key.
source "$(dirname "$0")/lib.bash"

F="$AIN_SOURCE_DIR/tests/fixtures/output_checks"
cp -r "$AIN_SOURCE_DIR/scripts" "$T/scripts"
mv "$T/scripts/agents/scriptwriter.lua" "$T/scripts/agents/scriptwriter_real.lua"
cp "$F/scriptwriter.lua" "$T/scripts/agents/"
cfg="$T/ain.lua"
write_config "$cfg" "$T/scripts" \
  "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$F/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\" }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"
"$AIN_BIN" run -c "$cfg" --until-idle --no-progress > /dev/null 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"

# The DAG of a trend title -> its step's result.
result() { # TITLE STEP
  sql "SELECT t.result FROM tasks t JOIN tasks s ON s.dag_id = t.dag_id AND s.step = 'script'
       WHERE t.step = '$2' AND json_extract(s.result, '$.title') = '$1'"
}
good="Morning walks boost heart health"
drop="Evening walks boost sleep quality"
swap="Lunch walks boost focus at work"

insp=$(result "$good" inspect)
[ -n "$insp" ] || fail "no inspect result for the good video: $(grep -i inspect "$T/run.log" | tail -3)"
echo "$insp" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["enabled"] is True, r
assert len(r["ocr"]) >= 3, r["ocr"]
assert all(isinstance(f["t"], (int, float)) and f["t"] > 0 for f in r["ocr"]), r["ocr"]
text = " ".join(f["text"] for f in r["ocr"]).lower()
assert "morning" in text and "walks" in text, text
assert "heart" in r["asr"]["text"] and r["asr"]["words"] >= 15, r["asr"]
assert r["ms"]["total"] > 0 and r["ms"]["ocr"] > 0 and r["ms"]["asr"] > 0, r["ms"]
# Every word with its box and confidence; the plan: the title at the top, the captions below it
# (boxes from the render ASS), the scene changes, which no frame is sampled in.
ws = [w for f in r["ocr"] for w in f["words"]]
assert ws and all(len(w["box"]) == 4 and 0 <= w["box"][1] <= 1 and 0 <= w["conf"] <= 100 for w in ws), ws
p = r["plan"]
title = [t for t in p["texts"] if t["title"]]
caps = [t for t in p["texts"] if not t["title"]]
assert len(title) == 1 and title[0]["text"].startswith("Morning walks") and title[0]["box"][1] < 0.35, p
assert len(caps) >= 3 and all(c["box"][1] > title[0]["box"][1] for c in caps), p
assert p["transitions"], p
for f in r["ocr"]:
    assert not any(x["start"] <= f["t"] < x["stop"] for x in p["transitions"]), (f["t"], p["transitions"])
# The title's words are read inside the title's box.
inbox = [w["text"].lower() for f in r["ocr"] for w in f["words"]
         if title[0]["box"][1] - 0.02 <= w["box"][1] <= title[0]["box"][1] + title[0]["box"][3]]
assert "morning" in inbox or "boost" in inbox, inbox
' || fail "inspect result of the good video: $insp"
ok "inspect: OCR of $(echo "$insp" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ocr"]))') frames with times, the heard text, timings"

decision() { result "$1" judge | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["decision"])'; }
rules() { result "$1" judge | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(sorted(set(f["rule"] for f in r.get("findings", []) if f["category"] == "output"))))'; }
assert_eq "$(decision "$good")" "pass" "the good video's decision (findings: $(rules "$good"))"
assert_eq "$(rules "$good")" "" "the good video's output findings"
assert_eq "$(sql "SELECT count(*) FROM publish_receipts")" "1" "published videos"
ok "a good render passes the output checks and is published"

assert_eq "$(decision "$drop")" "review" "decision when the voice drops a sentence"
assert_contains "$(rules "$drop")" "sentence_not_heard" "findings of the dropped sentence"
detail=$(result "$drop" judge | python3 -c '
import json, sys
r = json.load(sys.stdin)
print([f["detail"] for f in r["findings"] if f["rule"] == "sentence_not_heard"][0])')
assert_contains "$detail" "expected \"ten minutes outside is a great start for beginners\"" "the finding names the sentence"
ok "a dropped sentence: review, the finding names the expected and the heard text"

assert_eq "$(decision "$swap")" "review" "decision when the voice says other words"
[ -n "$(rules "$swap")" ] || fail "no output finding for the swapped sentence"
ok "a sentence said differently: review ($(rules "$swap"))"

# Disabled: the step succeeds at once and the judge ignores it.
T2="$T/off"
mkdir -p "$T2"
head -1 "$F/trends.jsonl" > "$T2/trends.jsonl"
write_config "$T2/ain.lua" "$T/scripts" \
  "store = { url = \"sqlite:$T2/ain.db\", sql_dir = \"$AIN_SOURCE_DIR/sql\" }" \
  "data_dir = \"$T2/var\"" \
  "trends = { source = \"$T2/trends.jsonl\" }" \
  "media = { width = 360, height = 640, preset = \"ultrafast\", inspect = { enabled = false } }" \
  "channels = { outbox = { dir = \"$T2/outbox\" } }"
"$AIN_BIN" run -c "$T2/ain.lua" --until-idle --no-progress > /dev/null 2> "$T2/run.log" || fail "run with inspect off"
assert_eq "$(sqlite3 -batch -noheader "$T2/ain.db" "SELECT result FROM tasks WHERE step = 'inspect'")" \
  '{"enabled":false}' "inspect result when disabled"
assert_eq "$(sqlite3 -batch -noheader "$T2/ain.db" "SELECT count(*) FROM publish_receipts")" "1" "published with inspect off"
ok "media.inspect.enabled = false: the step is skipped, the video is published"

# A bad config value is refused at load, naming the key.
write_config "$T/bad.lua" "$T/scripts" "media = { inspect = { frame_interval_ms = 50 } }"
out=$("$AIN_BIN" run -c "$T/bad.lua" --until-idle 2>&1) && fail "a bad media.inspect value was accepted"
assert_contains "$out" "media.inspect.frame_interval_ms" "the error names the key"
ok "media.inspect values are validated at load"
