#!/usr/bin/env python3
"""Measures one rendered video the way a viewer meets it, independently of the pipeline's own
numbers (issue 12, "How it is measured"; docs/benchmarks.md "bench/content"):

  scenes         scene count and the longest still stretch, from frame differences outside the
                 text boxes (frames at 5 fps, 108 px wide, grey; a scene change is a peak of the
                 difference between frames 0.6 s apart, so xfade transitions count too)
  text           text boxes against the safe areas: text pixels (bright pixels within a few pixels
                 of the black outline libass draws) found on frames at 2 fps, counted inside the
                 bands no platform leaves free: top 14 %, bottom 20 %, right 12 %
  captions       caption onsets (the ASS events' highlighted words) against the speech: the audio
                 recognised by pocketsphinx with word times, against a language model of what
                 was said (--spoken-file, else the script); words matched in order (as many
                 as an LCS finds; of those pairings, the nearest in time: sclite's
                 time-mediated alignment), onset error median and p95 (words of 3+ letters:
                 the recogniser's boundaries of short function words are its own noise)
  loudness       integrated loudness and true peak of the final mix (ffmpeg ebur128)
  words          every script word present in the captions, in order

Usage: content_measure.py --video V.mp4 --captions C.ass --script-file S.txt [--spoken-file P.txt]
       [--per-word] [--out R.json]
Prints one JSON object. Needs ffmpeg, pocketsphinx_continuous and pocketsphinx-en-us.
Python standard library only."""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile

FLOOR = {"top": 0.14, "bottom": 0.20, "right": 0.12}
DICT = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
HMM = "/usr/share/pocketsphinx/model/en-us/en-us"
FPS = 5  # frames a second for the scene analysis (a 0.6 s lag finds xfade transitions too)


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def probe(video):
    out = run(["ffprobe", "-v", "error", "-show_entries",
               "stream=codec_type,width,height,color_space,color_primaries,color_transfer:"
               "format=duration", "-of", "json", video]).stdout
    j = json.loads(out)
    v = next(s for s in j["streams"] if s["codec_type"] == "video")
    return {"width": v["width"], "height": v["height"], "duration": float(j["format"]["duration"]),
            "color_space": v.get("color_space"), "color_primaries": v.get("color_primaries"),
            "color_transfer": v.get("color_transfer")}


# ---- frames ------------------------------------------------------------------------------------

def text_mask_graph(fps, w, h, outs):
    """grey frames at fps; mask = bright (>= 170) pixels within 3 px of black (<= 30) ones, grown
    by 4 px so that it covers the outline too (text = glyphs + outline)."""
    return ("[0:v]fps=%d,format=gray,split=3[g][a][b];"
            "[a]lut=y='if(gte(val,170),255,0)'[br];"
            "[b]lut=y='if(lte(val,30),255,0)',dilation,dilation,dilation[dk];"
            "[br][dk]blend=all_mode=multiply,dilation,dilation,dilation,dilation,split=%d%s;"
            "[g]scale=%d:%d:flags=area[small]" % (
                fps, len(outs), "".join("[m%d]" % i for i in range(len(outs))), w, h))


def frames(video, tmp, info):
    """Returns (small grey frames, small masks, big masks, sizes)."""
    sw, sh = 108, max(2, int(round(108 * info["height"] / info["width"] / 2)) * 2)
    bw, bh = 270, max(2, int(round(270 * info["height"] / info["width"] / 2)) * 2)
    g = text_mask_graph(FPS, sw, sh, ["small", "big"])
    g += ";[m0]scale=%d:%d:flags=area[msmall];[m1]fps=2,scale=%d:%d:flags=area[mbig]" % (
        sw, sh, bw, bh)
    paths = {k: os.path.join(tmp, k + ".raw") for k in ("small", "msmall", "mbig")}
    run(["ffmpeg", "-v", "error", "-nostdin", "-i", video, "-filter_complex", g,
         "-map", "[small]", "-f", "rawvideo", "-pix_fmt", "gray", paths["small"],
         "-map", "[msmall]", "-f", "rawvideo", "-pix_fmt", "gray", paths["msmall"],
         "-map", "[mbig]", "-f", "rawvideo", "-pix_fmt", "gray", paths["mbig"]])

    def split(path, w, h):
        data = open(path, "rb").read()
        n = w * h
        return [data[i:i + n] for i in range(0, len(data) - n + 1, n)]
    return (split(paths["small"], sw, sh), split(paths["msmall"], sw, sh),
            split(paths["mbig"], bw, bh), (sw, sh), (bw, bh))


def scenes(small, msmall, fps=None, lag=3, cut=14.0, still=0.35):
    """Scene count and longest still stretch (s) from grey frames, text pixels left out."""
    fps = fps or FPS
    n = len(small)
    if n < 2:
        return {"scenes": 1, "longest_still_s": n / fps, "frames": n}

    def diff(a, b, ma, mb):
        tot, cnt = 0, 0
        for x, y, p, q in zip(a, b, ma, mb):
            if p == 0 and q == 0:
                tot += abs(x - y)
                cnt += 1
        return tot / cnt if cnt else 0.0
    d1 = [0.0] + [diff(small[i], small[i - 1], msmall[i], msmall[i - 1]) for i in range(1, n)]
    dl = [0.0] * n
    for i in range(lag, n):
        dl[i] = diff(small[i], small[i - lag], msmall[i], msmall[i - lag])
    # scene changes: local maxima of the lagged difference above the cut level, >= 1 s apart
    cuts, last = [], -10 * fps
    for i in range(lag, n):
        lo, hi = max(lag, i - lag), min(n, i + lag + 1)
        if dl[i] >= cut and dl[i] == max(dl[lo:hi]) and i - last >= fps:
            cuts.append(i)
            last = i
    run_len, longest = 0, 0
    for i in range(1, n):
        run_len = run_len + 1 if d1[i] < still else 0
        longest = max(longest, run_len)
    return {"scenes": len(cuts) + 1, "cuts_s": [round(c / fps - lag / fps / 2, 2) for c in cuts],
            "longest_still_s": round((longest + 1) / fps if longest else 0, 2), "frames": n,
            "mean_motion": round(sum(d1) / len(d1), 3)}


def text_boxes(mbig, size):
    """Text pixels per band (max over frames) and the union box of text, in fractions."""
    w, h = size
    top, bottom, right = (int(math.ceil(FLOOR["top"] * h)), int(math.floor((1 - FLOOR["bottom"]) * h)),
                          int(math.floor((1 - FLOOR["right"]) * w)))
    worst = {"top": 0, "bottom": 0, "right": 0}
    box = [w, h, -1, -1]
    with_text = 0
    for f in mbig:
        rows = [f[y * w:(y + 1) * w] for y in range(h)]
        t = sum(w - r.count(0) for r in rows[:top])
        b = sum(w - r.count(0) for r in rows[bottom:])
        r_ = sum((w - right) - r[right:].count(0) for r in rows[top:bottom])
        worst["top"], worst["bottom"], worst["right"] = (max(worst["top"], t), max(worst["bottom"], b),
                                                         max(worst["right"], r_))
        any_text = False
        for y, r in enumerate(rows):
            s = r.lstrip(b"\x00")
            if not s:
                continue
            any_text = True
            x0, x1 = w - len(s), len(r.rstrip(b"\x00")) - 1
            box = [min(box[0], x0), min(box[1], y), max(box[2], x1), max(box[3], y)]
        with_text += any_text
    frac = None
    if box[2] >= 0:
        frac = {"left": round(box[0] / w, 3), "top": round(box[1] / h, 3),
                "right": round(1 - (box[2] + 1) / w, 3), "bottom": round(1 - (box[3] + 1) / h, 3)}
    return {"frames": len(mbig), "frames_with_text": with_text, "px_in_bands": worst,
            "px_in_bands_max": max(worst.values()), "text_box_margins": frac,
            "analysis_size": [w, h]}


# ---- captions and speech -----------------------------------------------------------------------

def ass_time(s):
    h, m, rest = s.split(":")
    return int(round((int(h) * 3600 + int(m) * 60 + float(rest)) * 1000))


def caption_events(ass_path):
    """[(start_ms, highlighted token)] from the Caption events, in order."""
    out = []
    for line in open(ass_path, encoding="utf-8"):
        if not line.startswith("Dialogue:"):
            continue
        parts = line.rstrip("\n").split(",", 9)
        if len(parts) < 10 or parts[3] != "Caption":
            continue
        text = re.sub(r"\{\\fs\d+\}", "", parts[9])
        m = re.search(r"\{\\1c&H[0-9A-Fa-f]+&\}(.*?)\{\\1c&H[0-9A-Fa-f]+&\}", text)
        if m:
            out.append((ass_time(parts[1]), m.group(1)))
    return out


ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
       "fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spell(n % 100))
    if n < 10000 and 1100 <= n and n % 100 != 0 and n // 100 % 10 != 0:
        return spell(n // 100) + " " + spell(n % 100)  # years: twenty twenty five
    if n < 1000000:
        return spell(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spell(n % 1000))
    return " ".join(ONES[int(d)] for d in str(n))


def words_of(text):
    """Lower-case words as spoken: letters and apostrophes; numbers spelled out."""
    out = []
    for tok in re.findall(r"[A-Za-z']+|\d+", text):
        if tok.isdigit():
            out.extend(spell(int(tok)).split())
        else:
            t = tok.lower().strip("'")
            if t:
                out.append(t)
    return out


def language_model(script, tmp):
    vocab_all = words_of(script)
    pron = {}
    for line in open(DICT, encoding="utf-8", errors="replace"):
        w = line.split(" ", 1)[0]
        base = re.sub(r"\(\d+\)$", "", w)
        if base in pron or base in set(vocab_all):
            pron.setdefault(base, []).append(line.rstrip("\n"))
    seq = [w for w in vocab_all if w in pron]
    vocab = sorted(set(seq))
    if not vocab:
        return None, None, 0
    succ = {}
    for a, b in zip(["<s>"] + seq, seq + ["</s>"]):
        succ.setdefault(a, set()).add(b)
    uni = vocab + ["<s>", "</s>"]
    p_uni = math.log10(1.0 / len(uni))
    bigrams = [(a, b) for a in sorted(succ) for b in sorted(succ[a])]
    lm = os.path.join(tmp, "script.lm")
    with open(lm, "w") as f:
        f.write("\\data\\\nngram 1=%d\nngram 2=%d\n\n\\1-grams:\n" % (len(uni), len(bigrams)))
        for w in uni:
            f.write("%.4f %s %.4f\n" % (-99 if w == "<s>" else p_uni, w, -0.3))
        f.write("\n\\2-grams:\n")
        for a, b in bigrams:
            f.write("%.4f %s %s\n" % (math.log10(0.9 / len(succ[a])), a, b))
        f.write("\n\\end\\\n")
    dic = os.path.join(tmp, "script.dic")
    with open(dic, "w") as f:
        for w in vocab:
            for line in pron[w]:
                f.write(line + "\n")
    return lm, dic, len(vocab)


def recognise(video, script, tmp):
    wav = os.path.join(tmp, "a16.wav")
    run(["ffmpeg", "-v", "error", "-nostdin", "-i", video, "-vn", "-ac", "1", "-ar", "16000",
         "-f", "wav", wav])
    lm, dic, nv = language_model(script, tmp)
    if lm is None:
        return []
    # -remove_silence no: with the VAD on, pocketsphinx_continuous drops frames it calls silence
    # and its word times drift early by the frames dropped (under a music bed: -109 ms median on
    # audio with known onsets, bench/caption_meter_check.py; -22 ms without the VAD)
    out = run(["pocketsphinx_continuous", "-infile", wav, "-hmm", HMM, "-lm", lm, "-dict", dic,
               "-remove_silence", "no", "-time", "yes", "-logfn", "/dev/null"]
              ).stdout.decode("utf-8", "replace")
    words = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and not p[0].startswith("<") and p[0] != "[NOISE]":
            try:
                words.append((re.sub(r"\(\d+\)$", "", p[0]), int(round(float(p[1]) * 1000))))
            except ValueError:
                pass
    return words


def timed_pairs(a, b):
    """Pairs (i, j) of equal words of a and b, in order, as many as there are (an LCS); among
    the pairings with that many, the one nearest in time (least summed |onset difference|).
    sclite's time-mediated alignment, for the same reason: a recogniser that hears a script word
    twice (once where it was said, once in a misheard stretch) must not have its first hearing
    taken just because it is first. The count is the LCS's, so drift is never matched away."""
    n, m = len(a), len(b)
    # best[i][j] = (matches, -summed error) of a[i:] against b[j:]
    best = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            cand = max(best[i + 1][j], best[i][j + 1])
            if a[i][0] == b[j][0]:
                k, e = best[i + 1][j + 1]
                cand = max(cand, (k + 1, e - abs(a[i][1] - b[j][1])))
            best[i][j] = cand
    i = j = 0
    out = []
    while i < n and j < m:
        if a[i][0] == b[j][0]:
            k, e = best[i + 1][j + 1]
            if best[i][j] == (k + 1, e - abs(a[i][1] - b[j][1])):
                out.append((i, j))
                i += 1
                j += 1
                continue
        if best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


def caption_sync(events, heard, per_word=False):
    """Onset error of caption words against the recognised speech (ms)."""
    cap = []
    for t, tok in events:
        ws = words_of(tok)
        if len(ws) == 1 and len(ws[0]) >= 3:
            cap.append((ws[0], t))
    long_heard = [h for h in heard if len(h[0]) >= 3]
    pairs = timed_pairs(cap, long_heard)
    errs = sorted(abs(cap[i][1] - long_heard[j][1]) for i, j in pairs)
    if not errs:
        return {"matched": 0, "caption_words": len(cap), "heard_words": len(heard)}
    p95 = errs[min(len(errs) - 1, int(math.ceil(0.95 * len(errs))) - 1)]
    res = {"matched": len(errs), "caption_words": len(cap), "heard_words": len(heard),
           "median_ms": statistics.median(errs), "p95_ms": p95, "max_ms": errs[-1]}
    if per_word:  # [word, caption onset, heard onset] for every matched word, in order
        res["per_word"] = [[cap[i][0], cap[i][1], long_heard[j][1]] for i, j in pairs]
    return res


def script_words_in_captions(script, events):
    """Every script word (letters/digits as written) present in the captions, in order."""
    def keys(text):
        return [re.sub(r"[^\w]", "", t.lower()) for t in text.split() if re.sub(r"[^\w]", "", t)]
    want = keys(script)
    have = []
    for _, tok in events:
        have.extend(keys(tok))
    pairs = timed_pairs([(w, 0) for w in want], [(h, 0) for h in have])  # no times: an LCS
    matched = {i for i, _ in pairs}
    missing = [w for i, w in enumerate(want) if i not in matched]
    return {"script_words": len(want), "in_captions_in_order": len(pairs),
            "missing": len(missing), "missing_words": missing[:20]}


def loudness(video):
    err = subprocess.run(["ffmpeg", "-v", "info", "-nostdin", "-nostats", "-i", video, "-vn",
                          "-af", "ebur128=peak=true", "-f", "null", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE).stderr.decode()
    summary = err[err.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    tp = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {"integrated_lufs": float(i.group(1)) if i else None,
            "true_peak_dbtp": float(tp.group(1)) if tp and tp.group(1) != "-inf" else None}


def measure(video, ass, script, per_word=False, spoken=None):
    info = probe(video)
    with tempfile.TemporaryDirectory(prefix="ain-content-") as tmp:
        small, msmall, mbig, _, bsize = frames(video, tmp, info)
        events = caption_events(ass) if ass else []
        heard = recognise(video, spoken or script, tmp)
    res = {"video": video, "probe": info, "scenes": scenes(small, msmall),
           "text": text_boxes(mbig, bsize), "captions": caption_sync(events, heard, per_word),
           "words": script_words_in_captions(script, events), "loudness": loudness(video)}
    res["scenes"]["per_15s"] = round(res["scenes"]["scenes"] * 15.0 / max(info["duration"], 0.1), 2)
    return res


# ---- bars --------------------------------------------------------------------------------------

def metric(res, name):
    """The value of a bar's metric in a measurement (None when it could not be measured)."""
    L = res["loudness"]
    table = {
        "scenes_per_15s": res["scenes"]["per_15s"],
        "longest_still_s": res["scenes"]["longest_still_s"],
        "text_px_in_bands": res["text"]["px_in_bands_max"],
        "caption_median_ms": res["captions"].get("median_ms"),
        "caption_p95_ms": res["captions"].get("p95_ms"),
        "caption_matched": res["captions"].get("matched"),
        "loudness_error_lu": None if L["integrated_lufs"] is None else abs(L["integrated_lufs"] + 14),
        "true_peak_dbtp": L["true_peak_dbtp"],
        "script_words_missing": res["words"]["missing"],
        "bt709_tagged": int(res["probe"]["color_space"] == "bt709" and
                            res["probe"]["color_primaries"] == "bt709" and
                            res["probe"]["color_transfer"] == "bt709"),
    }
    return table[name]


def read_bars(path):
    bars = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, op, value, enforced = line.split()[:4]
        bars.append({"metric": name, "op": op, "value": float(value), "enforced": enforced == "yes"})
    return bars


def check_bars(res, bars):
    out = []
    for b in bars:
        v = metric(res, b["metric"])
        ok = v is not None and {"<=": v <= b["value"], ">=": v >= b["value"],
                                "==": v == b["value"]}[b["op"]]
        out.append(dict(b, got=v, passed=bool(ok)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", required=True)
    ap.add_argument("--captions", help="the ASS file burned into the video")
    ap.add_argument("--script-file", required=True, help="the script's text (what is said)")
    ap.add_argument("--spoken-file",
                    help="what the voice said, when it differs from the script (the tts "
                         "result's 'spoken': 80%% as 'eighty percent', e.g. as 'for example'): "
                         "the recogniser's model is built from it, so it is not forced to explain "
                         "words it does not know")
    ap.add_argument("--bars", help="bars table (bench/content_bars.txt): adds a pass/fail list")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--per-word", action="store_true",
                    help="captions.per_word: [word, caption onset ms, heard onset ms] per match")
    a = ap.parse_args()
    script = open(a.script_file, encoding="utf-8").read()
    spoken = open(a.spoken_file, encoding="utf-8").read() if a.spoken_file else None
    res = measure(a.video, a.captions, script, a.per_word, spoken)
    if a.bars:
        res["bars"] = check_bars(res, read_bars(a.bars))
    s = json.dumps(res, ensure_ascii=False)
    if a.out:
        with open(a.out, "w") as f:
            f.write(s + "\n")
    print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
