#!/usr/bin/env bash
# Issue 12 §2 and §4 end to end: two trends, two personas, two TTS providers in one run of the
# production DAG at 240x426 (espeak-ng, the default, is what every other pipeline test renders
# with, music bed included): penny_ledger on Festival (Debian's HTS voice, word times from its
# utterance), techie_tina switched to the OpenAI-compatible provider
# (tests/servers/openai_compat.js: real audio, no word times, so pocketsphinx aligns them; the
# first request gets a 429). Every video has the generated music bed ducked under the voice.
# Measured independently with ffmpeg's ebur128 on the published MP4: integrated loudness of the
# MIX within -14 +-1 LUFS and true peak <= -1 dBTP. The tts result's words are the script's
# written words, every one, in order, with increasing times ending at the speech's end.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/openai_compat_common.bash"
command -v festival > /dev/null || fail "festival is required (Debian festival, festvox-us-slt-hts)"

start_server
cp -r "$AIN_SOURCE_DIR/scripts" "$T/scripts"
# techie_tina speaks through the HTTP provider in this test
sed -i 's/voice = { provider = "espeak", name = "[^"]*"/voice = { provider = "openai", name = "nova"/' \
  "$T/scripts/personas/techie_tina.lua"
grep -q 'provider = "openai"' "$T/scripts/personas/techie_tina.lua" || fail "could not switch tina's provider"
cat > "$T/trends.jsonl" << 'EOF'
{"id":"v-1","title":"Central bank holds interest rates at 5.5% as inflation cools","summary":"Savings rates stay high; mortgage costs ease a little.","tags":["finance","interest rates","inflation"],"score":90,"ts":"2025-06-02T08:00:00Z"}
{"id":"v-2","title":"New laptop chip runs AI models 2x faster on battery","summary":"Gadgets with the chip ship in July.","tags":["laptops","chips","ai"],"score":80,"ts":"2025-06-02T07:00:00Z"}
EOF
export AIN_SECRET_TTS_KEY="$KEY"
cfg="$T/ain.lua"
write_config "$cfg" "$T/scripts" \
  "queue = { retry_base_ms = 100, retry_max_ms = 500 }" \
  "trends = { source = \"$T/trends.jsonl\", interval_ms = 600000 }" \
  "media = { width = 240, height = 426, preset = \"ultrafast\", inspect = { enabled = false } }" \
  "tts = { openai = { url = \"http://127.0.0.1:$PORT\", model = \"tts-1\", secret = \"tts_key\" } }" \
  "music = { enabled = true }" \
  "channels = { outbox = { dir = \"$T/outbox\" } }"
curl -sf -X POST -d '{"fault": "429", "count": 1}' "http://127.0.0.1:$PORT/control" > /dev/null

"$AIN_BIN" run -c "$cfg" --until-idle --no-progress --json > "$T/summary.json" 2> "$T/run.log" ||
  fail "ain run exited $? (log: $(tail -5 "$T/run.log"))"
failed=$(sql "SELECT coalesce(step, type) || ': ' || coalesce(last_error, '') FROM tasks WHERE status <> 'succeeded'")
[ -z "$failed" ] || fail "tasks did not succeed: $failed"
ok "two videos rendered, every task succeeded"

# The provider each persona used, and alignment only where the provider had no times.
got=$(sql "SELECT json_extract(t.result, '$.provider') || ' ' || json_extract(t.result, '$.aligned')
           || ' ' || json_extract(t.result, '$.music.source') FROM tasks t WHERE t.step = 'tts'
           ORDER BY json_extract(t.result, '$.provider')" | tr '\n' ',')
assert_eq "$got" "festival 0 generated,openai 1 generated," "providers, alignment, music"
speech_reqs=$(stats | json_get 'd["speech"]')
[ "$speech_reqs" -ge 2 ] || fail "the speech route saw $speech_reqs requests (a 429 and a retry expected)"
ok "festival and the openai provider (429 retried, words aligned by pocketsphinx)"

# Written words: the tts words are the script's text split on whitespace, in order, all of them.
for id in $(sql "SELECT dag_id FROM tasks WHERE step = 'tts'"); do
  sql "SELECT result FROM tasks WHERE step = 'script' AND dag_id = '$id'" > "$T/script.json"
  sql "SELECT result FROM tasks WHERE step = 'tts' AND dag_id = '$id'" > "$T/tts.json"
  python3 - "$T/script.json" "$T/tts.json" << 'EOF' || fail "words of $id do not match its script"
import json, sys
script = json.load(open(sys.argv[1]))
tts = json.load(open(sys.argv[2]))
text = script.get("speech") or script["text"]
written = text.split()
words = [w["w"] for w in tts["words"]]
if words != written:
    sys.exit("words %r\n   != written %r" % (words[:12], written[:12]))
prev = -1
for w in tts["words"]:
    if not (w["s"] > prev and w["e"] > w["s"]):
        sys.exit("times out of order at %r" % w)
    prev = w["s"]
if tts["words"][-1]["e"] != tts["duration_ms"]:
    sys.exit("the last word does not end with the speech")
print("# %s: %d words, spoken as: %s" % (tts["provider"], len(words), tts["spoken"][:90]))
EOF
done
ok "every written word has a time, in order (captions show the text as written)"

# The mix at delivery: ffmpeg ebur128 on the published files themselves.
n=0
for mp4 in "$T"/outbox/*/*.mp4; do
  read -r i tp <<< "$(ffmpeg -hide_banner -nostats -i "$mp4" -map 0:a -af ebur128=peak=true -f null - 2>&1 |
    awk '/Summary:/ {s = 1} s && /I:/ {i = $2} s && /Peak:/ {p = $2} END {print i, p}')"
  python3 -c "import sys; i, tp = float('$i'), float('$tp'); sys.exit(0 if -15 <= i <= -13 and tp <= -1.0 else 1)" ||
    fail "$mp4: I = $i LUFS, true peak = $tp dBTP"
  echo "# $(basename "$mp4"): I = $i LUFS, true peak = $tp dBTP"
  n=$((n + 1))
done
assert_eq "$n" "2" "published videos"
ok "the mix of every video: -14 +-1 LUFS, true peak <= -1 dBTP (ebur128 on the MP4)"

# The bed is there: right after the last word (the 300 ms tail, where the bed fades out while
# the sidechain still releases the ducking), the published audio is not silent (AAC of digital
# silence measures -inf; the bed measured -52 to -64 dB here).
vid=$(sql "SELECT dag_id FROM tasks WHERE step = 'tts' LIMIT 1")
speech=$(sql "SELECT json_extract(result, '$.duration_ms') FROM tasks WHERE step = 'tts' AND dag_id = '$vid'")
mp4=$(ls "$T"/outbox/*/"$vid".mp4)
tail_db=$(ffmpeg -hide_banner -nostats -ss "$(python3 -c "print($speech / 1000 + 0.03)")" -t 0.12 -i "$mp4" -map 0:a \
  -af astats=measure_perchannel=none -f null - 2>&1 | awk -F: '/RMS level dB/ {v = $2} END {print v}')
python3 -c "import sys; sys.exit(0 if float('$tail_db') > -80 else 1)" || fail "the tail is silent ($tail_db dB): no music bed"
ok "the music bed plays under and after the voice (tail at $tail_db dB)"
