#!/usr/bin/env python3
"""Checks the caption meter of bench/content_measure.py on audio whose word onsets are known.

The meter times caption words against pocketsphinx's word onsets; if the recogniser itself were
off, the caption bars would measure the meter, not the captions. So: every word of a text is
synthesised alone by the espeak-ng program (not the engine's library path), its leading and
trailing silence cut at a fixed level, and the words are joined with gaps (short inside a phrase,
longer after punctuation). A word's true onset is where its first sample above the level sits in
the joined audio: known by construction, independent of espeak's events and of pocketsphinx.
The joined speech optionally gets a music bed under it (a chord pad at -30 LUFS-ish, like the
generated bed) and goes through AAC in an MP4, like a rendered video. content_measure.recognise
then hears it, and this prints the meter's own onset error (median, p95, max) and its signed bias.

Usage: caption_meter_check.py [--voice en-us] [--rate 175] [--music] [--text T] [--json]
Needs espeak-ng, ffmpeg, pocketsphinx_continuous, pocketsphinx-en-us. Python standard library."""
import argparse
import json
import math
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import content_measure as cm  # noqa: E402

TEXT = ("A runner walked the treadmill routine for one hundred days in a row. Trainers say the "
        "split of effort keeps it simple, and the results speak for themselves. Quiet temples in "
        "Kyoto are the travel trend of the autumn, away from the crowds.")
RATE = 22050  # espeak-ng's own sample rate
LEVEL = 400   # |sample| above this is sound (of 32767: -38 dBFS)


def synth_word(word, voice, rate, tmp):
    path = os.path.join(tmp, "w.wav")
    cm.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", path, word])
    with wave.open(path) as w:
        assert w.getframerate() == RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
        data = w.readframes(w.getnframes())
    s = struct.unpack("<%dh" % (len(data) // 2), data)
    loud = [i for i, v in enumerate(s) if abs(v) > LEVEL]
    return list(s[loud[0]:loud[-1] + 1]) if loud else []


def build(text, voice, rate, tmp, seed=7):
    """The joined speech (samples) and [(word, onset ms)] known by construction."""
    rnd = random.Random(seed)
    pcm = [0] * int(0.4 * RATE)  # a lead-in like the voices' own
    truth = []
    for tok in text.split():
        word = tok.strip(".,;:!?")
        s = synth_word(word, voice, rate, tmp)
        if not s:
            continue
        truth.append((word, int(round(len(pcm) * 1000.0 / RATE))))
        pcm.extend(s)
        gap = rnd.uniform(0.25, 0.45) if tok[-1] in ".,;:!?" else rnd.uniform(0.02, 0.09)
        pcm.extend([0] * int(gap * RATE))
    pcm.extend([0] * int(0.4 * RATE))
    return pcm, truth


def write_wav(path, pcm):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack("<%dh" % len(pcm), *pcm))


def to_mp4(wav, mp4, music):
    """Speech (+ a ducked-level pad) -> AAC in an MP4 with a black picture, as a render would."""
    dur = os.path.getsize(wav) / 2.0 / RATE
    bed = ("aevalsrc=0.02*(sin(2*PI*130.81*t)+sin(2*PI*164.81*t)+sin(2*PI*196*t)):s=48000:d=%.3f"
           % dur)
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", wav, "-f", "lavfi", "-i",
            "color=c=black:s=64x64:r=10:d=%.3f" % dur]
    if music:
        argv += ["-f", "lavfi", "-i", bed, "-filter_complex",
                 "[0:a]aresample=48000[s];[s][2:a]amix=inputs=2:duration=first:normalize=0[a]",
                 "-map", "1:v", "-map", "[a]"]
    else:
        argv += ["-map", "1:v", "-map", "0:a", "-ar", "48000"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "128k", mp4]
    cm.run(argv)


def check(text, voice, rate, music):
    with tempfile.TemporaryDirectory(prefix="ain-meter-") as tmp:
        pcm, truth = build(text, voice, rate, tmp)
        wav, mp4 = os.path.join(tmp, "speech.wav"), os.path.join(tmp, "speech.mp4")
        write_wav(wav, pcm)
        to_mp4(wav, mp4, music)
        heard = cm.recognise(mp4, text, tmp)
    # the meter's own rule: words of 3+ letters, matched in order
    want = [(w.lower(), t) for w, t in truth if len(w) >= 3]
    got = [h for h in heard if len(h[0]) >= 3]
    pairs = cm.timed_pairs(want, got)
    signed = [got[j][1] - want[i][1] for i, j in pairs]
    errs = sorted(abs(e) for e in signed)
    if not errs:
        return {"voice": voice, "rate": rate, "music": music, "matched": 0, "words": len(want)}
    p95 = errs[min(len(errs) - 1, int(math.ceil(0.95 * len(errs))) - 1)]
    return {"voice": voice, "rate": rate, "music": music, "words": len(want),
            "matched": len(errs), "median_ms": statistics.median(errs), "p95_ms": p95,
            "max_ms": errs[-1], "bias_ms": statistics.median(signed),
            "worst": sorted(([want[i][0], got[j][1] - want[i][1]] for i, j in pairs),
                            key=lambda x: -abs(x[1]))[:5]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voice", default="en-us")
    ap.add_argument("--rate", type=int, default=175)
    ap.add_argument("--music", action="store_true")
    ap.add_argument("--text", default=TEXT)
    a = ap.parse_args()
    print(json.dumps(check(a.text, a.voice, a.rate, a.music)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
