/* Tests for engine/media: pure parsers and caption layout, then real espeak-ng and ffmpeg on short
 * media (3-6 s, mostly 360x640; one 1080x1920 render): caption onset accuracy against the audio,
 * loudness measured by ebur128, the gate on real files, safe areas checked on decoded frames,
 * progress, timeout, and ffmpeg's own error text. Helper measurements use the ffmpeg CLI directly
 * (blocking is fine in a test process). */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "media/internal.h"
#include "media/media.h"

/* ---- small helpers ---------------------------------------------------------------------------- */

static char *path_in_tmp(const char *name) {
  static char buf[8][1024];
  static int slot;
  char *out = buf[slot++ % 8];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* Runs a shell command and returns its stdout+stderr (caller frees). */
static char *run_capture(const char *cmd) {
  FILE *f = popen(cmd, "r");
  ASSERT_NOT_NULL(f);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  buf[n] = '\0';
  pclose(f);
  return buf;
}

static int count_tmp_parts(void) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.part-' || true", ain_test_tmpdir());
  char *out = run_capture(cmd);
  int n = atoi(out);
  free(out);
  return n;
}

static void loop_finish(uv_loop_t *loop) {
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(loop));
}

/* ---- pure functions ---------------------------------------------------------------------------- */

TEST(colour_parse) {
  uint32_t v = 0;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_colour_parse("#FF8000", &v, &err));
  ASSERT_EQ(v, 0xFF8000);
  ASSERT_OK(ain_media_colour_parse("00ff0a", &v, &err));
  ASSERT_EQ(v, 0x00FF0A);
  ASSERT_EQ(ain_media_colour_parse("#FF80", &v, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "#FF80");
  ASSERT_EQ(ain_media_colour_parse("#GG0000", &v, &err), AIN_EINVAL);
  ASSERT_EQ(ain_media_colour_parse(NULL, &v, &err), AIN_EINVAL);
}

TEST(filter_escape) {
  char out[256];
  ASSERT_GE(ain_media_filter_escape("/tmp/a.ass", out, sizeof out), 0);
  ASSERT_STR_EQ(out, "/tmp/a.ass");
  /* ':' -> "\:" at the option level, whose '\' is doubled at the graph level -> "\\:";
   * ',' '[' ']' are special only at the graph level; '\'' at both -> "\\\'" */
  ASSERT_GE(ain_media_filter_escape("C:x,y[1]'q", out, sizeof out), 0);
  ASSERT_STR_EQ(out, "C\\\\:x\\,y\\[1\\]\\\\\\'q");
  ASSERT_EQ(ain_media_filter_escape("abcdef", out, 4), AIN_ETOOBIG);
}

TEST(progress_line) {
  int64_t us = -1;
  ASSERT_EQ(ain_media_progress_line("out_time_us=1500000", 19, &us), 1);
  ASSERT_EQ(us, 1500000);
  ASSERT_EQ(ain_media_progress_line("out_time_us=  42", 16, &us), 1);
  ASSERT_EQ(us, 42);
  us = -1;
  ASSERT_EQ(ain_media_progress_line("out_time_us=N/A", 15, &us), 0);
  ASSERT_EQ(ain_media_progress_line("out_time_us=-5", 14, &us), 0);
  ASSERT_EQ(ain_media_progress_line("out_time_us=12x", 15, &us), 0);
  ASSERT_EQ(ain_media_progress_line("out_time_ms=1500000", 19, &us), 0); /* really us: ignored */
  ASSERT_EQ(ain_media_progress_line("bitrate=   9.0kbits/s", 21, &us), 0);
  ASSERT_EQ(us, -1);
  ASSERT_EQ(ain_media_progress_line("progress=end", 12, &us), 2);
  ASSERT_EQ(ain_media_progress_line("progress=continue", 17, &us), 0);
}

static ain_media_word_t W(const char *t, int64_t s, int64_t e) {
  return (ain_media_word_t){(char *)t, s, e};
}

static int count_str(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
    n++;
  }
  return n;
}

TEST(captions_layout) {
  ain_media_word_t w[] = {
      W("This", 0, 300),          W("is", 300, 500),        W("a", 500, 600),
      W("fairly", 600, 900),      W("long", 900, 1200),     W("sentence", 1200, 1700),
      W("that", 1700, 1900),      W("must", 1900, 2100),    W("wrap", 2100, 2400),
      W("onto", 2400, 2600),      W("several", 2600, 3000), W("phrases{\\b1}.", 3000, 3600),
      W("Supercalifragilisticexpialidocious", 3600, 5000),
  };
  size_t n = sizeof w / sizeof w[0];
  ain_media_caption_style_t st = {.highlight_colour = "#00FF00", .colour = "#FFFFFF",
                                  .title = "A title"};
  ain_media_safe_area_t sa = {.top_px = 40, .bottom_px = 120, .left_px = 20, .right_px = 60};
  ain_err_t err = {0};
  char *ass = ain_media_captions_ass(w, n, &st, &sa, 360, 640, &err);
  if (ass == NULL) {
    fprintf(stderr, "%s\n", err.msg);
  }
  ASSERT_NOT_NULL(ass);
  ASSERT_STR_CONTAINS(ass, "PlayResX: 360\nPlayResY: 640");
  ASSERT_STR_CONTAINS(ass, "WrapStyle: 2");
  /* margins include the outline padding: 20+4, 60+4; top and bottom raised to the floor every
   * platform needs (14 % and 20 % of 640: 90 and 128) */
  ASSERT_STR_CONTAINS(ass, ",2,24,64,132,1\n");
  ASSERT_STR_CONTAINS(ass, ",8,24,64,94,1\n");
  ASSERT_STR_CONTAINS(ass, "Title,,0,0,0,,A title\n");
  /* one event per word, each highlighting exactly one word in green (&H00FF00& in BGR) */
  ASSERT_EQ(count_str(ass, ",Caption,"), (int)n);
  ASSERT_EQ(count_str(ass, "{\\1c&H00FF00&}"), (int)n);
  /* the word's own markup is neutralised */
  ASSERT_TRUE(strstr(ass, "{\\b1}") == NULL);
  ASSERT_STR_CONTAINS(ass, "phrases(/b1).");
  /* every event: at most two lines, start < end, back to back */
  const char *p = ass;
  int last_end = -1, events = 0;
  while ((p = strstr(p, "Dialogue: 0,")) != NULL) {
    int h1, m1, s1, c1, h2, m2, s2, c2;
    ASSERT_EQ(sscanf(p, "Dialogue: 0,%d:%d:%d.%d,%d:%d:%d.%d", &h1, &m1, &s1, &c1, &h2, &m2, &s2,
                     &c2),
              8);
    int a = ((h1 * 60 + m1) * 60 + s1) * 100 + c1, b = ((h2 * 60 + m2) * 60 + s2) * 100 + c2;
    ASSERT_TRUE(a < b);
    if (last_end >= 0) {
      ASSERT_EQ(a, last_end);
    }
    last_end = b;
    const char *eol = strchr(p, '\n');
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)(eol - p), p);
    ASSERT_LE(count_str(line, "\\N"), 1);
    events++;
    p = eol;
  }
  ASSERT_EQ(events, (int)n);
  /* the sentence end starts a new phrase: the long word's events do not show "phrases" */
  const char *last = strstr(ass, "Supercali");
  ASSERT_NOT_NULL(last);
  const char *line_start = last;
  while (line_start > ass && line_start[-1] != '\n') {
    line_start--;
  }
  ASSERT_TRUE(strstr(line_start, "phrases") == NULL || strstr(line_start, "phrases") > last);
  /* a word wider than a line gets a smaller font instead of running into the rail */
  ASSERT_STR_CONTAINS(line_start, "{\\fs");
  free(ass);
}

TEST(captions_bad_inputs) {
  ain_err_t err = {0};
  ain_media_safe_area_t sa = {.top_px = 40, .bottom_px = 120, .left_px = 20, .right_px = 60};
  ain_media_word_t zero[] = {W("a", 100, 100)};
  ASSERT_NULL(ain_media_captions_ass(zero, 1, NULL, &sa, 360, 640, &err));
  ASSERT_STR_CONTAINS(err.msg, "word 0");
  ain_media_word_t overlap[] = {W("a", 0, 500), W("b", 400, 600)};
  ASSERT_NULL(ain_media_captions_ass(overlap, 2, NULL, &sa, 360, 640, &err));
  ASSERT_STR_CONTAINS(err.msg, "starts before");
  ain_media_word_t ok[] = {W("a", 0, 500)};
  ain_media_safe_area_t wide = {.left_px = 200, .right_px = 200};
  ASSERT_NULL(ain_media_captions_ass(ok, 1, NULL, &wide, 360, 640, &err));
  ASSERT_STR_CONTAINS(err.msg, "safe area");
  /* a comma in the font name would split the ASS Style line (found by fuzz_captions) */
  ain_media_caption_style_t comma = {.font = "DejaVu Sans,99"};
  ASSERT_NULL(ain_media_captions_ass(ok, 1, &comma, &sa, 360, 640, &err));
  ASSERT_STR_EQ(err.field, "font");
  ASSERT_STR_CONTAINS(err.msg, "comma");
  ain_media_caption_style_t tall = {.font_size = 2000};
  ASSERT_NULL(ain_media_captions_ass(ok, 1, &tall, &sa, 360, 640, &err));
  ASSERT_STR_EQ(err.field, "font_size");
  ain_media_word_t late[] = {W("a", 0, INT64_MAX)};
  ASSERT_NULL(ain_media_captions_ass(late, 1, NULL, &sa, 360, 640, &err));
  ASSERT_STR_CONTAINS(err.msg, "word 0");
  ain_media_caption_style_t bad = {.highlight_colour = "yellow"};
  ASSERT_NULL(ain_media_captions_ass(ok, 1, &bad, &sa, 360, 640, &err));
  ASSERT_STR_CONTAINS(err.msg, "yellow");
  ASSERT_NULL(ain_media_captions_ass(ok, 1, NULL, &sa, 10, 640, &err));
  /* no words: a valid script with no events */
  char *empty = ain_media_captions_ass(NULL, 0, NULL, &sa, 360, 640, &err);
  ASSERT_NOT_NULL(empty);
  ASSERT_EQ(count_str(empty, "Dialogue:"), 0);
  free(empty);
}

static ain_media_probe_t good_probe(void) {
  ain_media_probe_t p = {.width = 1080, .height = 1920, .fps_num = 30, .fps_den = 1, .cfr = 1,
                         .sample_rate = 48000, .duration_ms = 20000, .faststart = 1};
  strcpy(p.vcodec, "h264");
  strcpy(p.pix_fmt, "yuv420p");
  strcpy(p.acodec, "aac");
  return p;
}

TEST(gate_checks) {
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  ain_err_t err = {0};
  ain_media_probe_t p = good_probe();
  ASSERT_OK(ain_media_gate(&p, &ch, &err));
  strcpy(p.pix_fmt, "yuv444p");
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.msg, "pix_fmt: yuv444p, want yuv420p");
  ASSERT_STR_EQ(err.field, "pix_fmt");
  p = good_probe();
  p.width = 720;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.msg, "size: 720x1920, want 1080x1920");
  p = good_probe();
  p.fps_num = 30000;
  p.fps_den = 1001;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.field, "fps");
  p = good_probe();
  p.cfr = 0;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.field, "cfr");
  p = good_probe();
  p.faststart = 0;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.field, "faststart");
  p = good_probe();
  p.duration_ms = 61000;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "duration: 61000 ms, want <= 60000 ms");
  p = good_probe();
  p.sample_rate = 44100;
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.field, "sample_rate");
  p = good_probe();
  p.acodec[0] = '\0';
  ASSERT_EQ(ain_media_gate(&p, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.msg, "acodec: none, want aac");
}

TEST(probe_parse) {
  ain_media_probe_t p;
  ain_err_t err = {0};
  const char *js =
      "{\"streams\":[{\"codec_type\":\"video\",\"codec_name\":\"h264\",\"pix_fmt\":\"yuv420p\","
      "\"width\":360,\"height\":640,\"r_frame_rate\":\"30/1\",\"avg_frame_rate\":\"30/1\"},"
      "{\"codec_type\":\"audio\",\"codec_name\":\"aac\",\"sample_rate\":\"48000\"}],"
      "\"format\":{\"duration\":\"4.533000\",\"size\":\"12345\"}}";
  ASSERT_OK(ain_media_probe_parse_json(js, &p, &err));
  ASSERT_STR_EQ(p.vcodec, "h264");
  ASSERT_EQ(p.width, 360);
  ASSERT_EQ(p.fps_num, 30);
  ASSERT_EQ(p.cfr, 1);
  ASSERT_EQ(p.sample_rate, 48000);
  ASSERT_EQ(p.duration_ms, 4533);
  const char *vfr = "{\"streams\":[{\"codec_type\":\"video\",\"r_frame_rate\":\"30/1\","
                    "\"avg_frame_rate\":\"2997/100\"}],\"format\":{}}";
  ASSERT_OK(ain_media_probe_parse_json(vfr, &p, &err));
  ASSERT_EQ(p.cfr, 0);
  ASSERT_EQ(ain_media_probe_parse_json("not json", &p, &err), AIN_EMEDIA);
  ASSERT_EQ(ain_media_probe_parse_json("{\"streams\":[]}", &p, &err), AIN_EMEDIA);
}

TEST(loudnorm_parse) {
  double m[5];
  ain_err_t err = {0};
  const char *ok = "Stream mapping: ... {junk}\n[Parsed_loudnorm_0 @ 0x1]\n{\n\t\"input_i\" : "
                   "\"-27.61\",\n\t\"input_tp\" : \"-4.47\",\n\t\"input_lra\" : \"18.06\",\n\t"
                   "\"input_thresh\" : \"-39.20\",\n\t\"target_offset\" : \"0.58\"\n}\n";
  ASSERT_OK(ain__media_loudnorm_parse(ok, m, &err));
  ASSERT_TRUE(fabs(m[0] + 27.61) < 1e-9 && fabs(m[4] - 0.58) < 1e-9);
  const char *silent = "{\"input_i\" : \"-inf\", \"input_tp\" : \"-inf\", \"input_lra\" : "
                       "\"0.00\", \"input_thresh\" : \"-70.00\", \"target_offset\" : \"inf\"}";
  ASSERT_EQ(ain__media_loudnorm_parse(silent, m, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "silent");
  ASSERT_EQ(ain__media_loudnorm_parse("no json here", m, &err), AIN_EMEDIA);
  ASSERT_EQ(ain__media_loudnorm_parse("{\"input_i\":\"-20\"}", m, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "input_tp");
}

/* ---- real espeak-ng ---------------------------------------------------------------------------- */

typedef struct {
  int calls, status;
  ain_err_t err;
  ain_media_tts_result_t res; /* deep copy */
} tts_seen_t;

static void on_tts(int status, const ain_media_tts_result_t *res, const ain_err_t *err,
                   void *data) {
  tts_seen_t *s = data;
  s->calls++;
  s->status = status;
  if (err != NULL) {
    s->err = *err;
    ASSERT_NULL(res);
    return;
  }
  s->res = *res;
  s->res.spoken = ain_strdup(res->spoken);
  s->res.words = calloc(res->n_words, sizeof *res->words);
  for (size_t i = 0; i < res->n_words; i++) {
    s->res.words[i] = res->words[i];
    s->res.words[i].text = ain_strdup(res->words[i].text);
  }
}

/* Runs ain_media_tts on a fresh loop; returns the status. */
static int tts_run(const char *text, const char *voice, int rate, const char *wav,
                   tts_seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  ain_media_tts_opts_t o = {.text = text, .voice = voice, .rate = rate, .out_wav = wav};
  ain_err_t err = {0};
  ASSERT_OK(ain_media_tts(&loop, &o, on_tts, s, &err));
  loop_finish(&loop);
  ASSERT_EQ(s->calls, 1);
  return s->status;
}

/* Reads a PCM WAV: sample rate and duration in ms, walking the chunks (ffmpeg adds LIST). */
static uint32_t le32(const unsigned char *u) {
  return u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24;
}

static void wav_info(const char *path, int *rate, int64_t *dur_ms) {
  char *buf = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(path, &buf, &len));
  ASSERT_GE(len, 44);
  ASSERT_TRUE(memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WAVE", 4) == 0);
  const unsigned char *u = (const unsigned char *)buf;
  int ch = 0, bits = 0;
  int64_t data = -1;
  for (size_t pos = 12; pos + 8 <= len;) {
    uint32_t sz = le32(u + pos + 4);
    if (memcmp(u + pos, "fmt ", 4) == 0) {
      ch = u[pos + 10];
      *rate = (int)le32(u + pos + 12);
      bits = u[pos + 22];
    } else if (memcmp(u + pos, "data", 4) == 0) {
      data = sz;
      ASSERT_EQ(pos + 8 + sz, len);
      break;
    }
    pos += 8 + sz + (sz & 1);
  }
  ASSERT_TRUE(data >= 0 && ch > 0 && bits == 16);
  *dur_ms = data * 1000 / (*rate * ch * (bits / 8));
  free(buf);
}

TEST(tts_words_and_wav) {
  const char *wav = path_in_tmp("speech.wav");
  tts_seen_t s;
  int rc = tts_run("Hello, wonderful world! Naïve café, really well-known.", NULL, 175, wav, &s);
  if (rc != 0) {
    fprintf(stderr, "%s\n", s.err.msg);
  }
  ASSERT_OK(rc);
  int rate = 0;
  int64_t dur = 0;
  wav_info(wav, &rate, &dur);
  ASSERT_EQ(rate, s.res.sample_rate);
  ASSERT_LE(llabs(dur - s.res.duration_ms), 1);
  ASSERT_GE(s.res.duration_ms, 1500);
  ASSERT_GE(s.res.n_words, 7);
  ASSERT_STR_EQ(s.res.words[0].text, "Hello,");
  ASSERT_STR_EQ(s.res.words[2].text, "world!");
  ASSERT_STR_EQ(s.res.words[3].text, "Naïve"); /* UTF-8 character positions, not bytes */
  ASSERT_STR_EQ(s.res.words[4].text, "café,");
  for (size_t i = 0; i < s.res.n_words; i++) {
    const ain_media_word_t *w = &s.res.words[i];
    ASSERT_TRUE(w->end_ms > w->start_ms);
    if (i > 0) {
      ASSERT_EQ(w->start_ms, s.res.words[i - 1].end_ms);
    }
  }
  ASSERT_EQ(s.res.words[s.res.n_words - 1].end_ms, s.res.duration_ms);
  ain_media_tts_result_free(&s.res);
  ASSERT_EQ(count_tmp_parts(), 0);
  ain_media_shutdown();
}

TEST(tts_bad_inputs) {
  const char *wav = path_in_tmp("bad.wav");
  tts_seen_t s;
  ASSERT_EQ(tts_run("hello", "no-such-voice-xx", 175, wav, &s), AIN_EINVAL);
  ASSERT_STR_CONTAINS(s.err.msg, "no-such-voice-xx");
  ASSERT_EQ(tts_run("", NULL, 175, wav, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "text");
  ASSERT_EQ(tts_run("hello", NULL, 5000, wav, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "rate");
  ASSERT_EQ(tts_run("bad \xff utf8", NULL, 175, wav, &s), AIN_EUTF8);
  ASSERT_EQ(tts_run("   ", NULL, 175, wav, &s), AIN_EINVAL);
  ASSERT_EQ(tts_run("hello", NULL, 175, "/nonexistent-dir/x.wav", &s), AIN_EIO);
  ASSERT_STR_CONTAINS(s.err.msg, "/nonexistent-dir/x.wav");
  ASSERT_TRUE(!file_exists(wav));
  ain_media_shutdown();
}

/* Caption sync: words spoken with pauses between them, so each onset is the end of a silence that
 * ffmpeg's silencedetect finds in the audio itself. Every word's start from the TTS events is
 * compared with the nearest detected onset. */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

TEST(caption_onset_accuracy) {
  const char *wav = path_in_tmp("words.wav");
  tts_seen_t s;
  ASSERT_OK(tts_run("Apple. Orange. Banana. Lemon. Mango. Melon. Yellow. Window. River.", NULL,
                    170, wav, &s));
  ASSERT_EQ(s.res.n_words, 9);
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -hide_banner -nostats -i '%s' -af silencedetect=n=-45dB:d=0.08 -f null - 2>&1",
           wav);
  char *out = run_capture(cmd);
  int64_t onsets[64];
  size_t n_on = 0;
  onsets[n_on++] = 0; /* the audio starts with the first word */
  for (const char *p = out; (p = strstr(p, "silence_end: ")) != NULL && n_on < 64; p++) {
    onsets[n_on++] = (int64_t)(strtod(p + 13, NULL) * 1000.0 + 0.5);
  }
  free(out);
  ASSERT_GE(n_on, 9);
  int64_t errs[16];
  for (size_t i = 0; i < s.res.n_words; i++) {
    int64_t best = INT64_MAX;
    for (size_t k = 0; k < n_on; k++) {
      int64_t d = llabs(onsets[k] - s.res.words[i].start_ms);
      best = d < best ? d : best;
    }
    errs[i] = best;
  }
  qsort(errs, s.res.n_words, sizeof errs[0], cmp_i64);
  int64_t median = errs[s.res.n_words / 2], worst = errs[s.res.n_words - 1];
  fprintf(stderr, "# onset error: median %lld ms, worst %lld ms over %zu words\n",
          (long long)median, (long long)worst, s.res.n_words);
  ASSERT_LE(median, 50);
  ASSERT_LE(worst, 150);
  ain_media_tts_result_free(&s.res);
  ain_media_shutdown();
}

/* ---- real ffmpeg ------------------------------------------------------------------------------- */

typedef struct {
  int calls, status;
  ain_err_t err;
  double last_pct;
  int progress_calls, saw_100, non_monotonic;
  char path[1024];
  int cached;
} done_seen_t;

static void on_done(int status, const ain_err_t *err, void *data) {
  done_seen_t *s = data;
  s->calls++;
  s->status = status;
  if (err != NULL) {
    s->err = *err;
  }
}

static void on_progress(double pct, void *data) {
  done_seen_t *s = data;
  if (pct < s->last_pct) {
    s->non_monotonic = 1;
  }
  s->last_pct = pct;
  s->progress_calls++;
  s->saw_100 += pct >= 100.0;
}

static void on_bg(int status, const char *path, int cached, const ain_err_t *err, void *data) {
  done_seen_t *s = data;
  s->calls++;
  s->status = status;
  s->cached = cached;
  if (err != NULL) {
    s->err = *err;
  } else {
    snprintf(s->path, sizeof s->path, "%s", path);
  }
}

static int loudnorm_run(const char *in, const char *out, done_seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  ain_media_loudnorm_opts_t o = {.in_path = in, .out_wav = out};
  ain_err_t err = {0};
  ASSERT_OK(ain_media_loudnorm(&loop, &o, on_done, s, &err));
  loop_finish(&loop);
  ASSERT_EQ(s->calls, 1);
  return s->status;
}

static void ebur128(const char *wav, double *lufs, double *tp) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -hide_banner -nostats -i '%s' -af ebur128=peak=true -f null - 2>&1", wav);
  char *out = run_capture(cmd);
  const char *sum = strstr(out, "Summary:");
  ASSERT_NOT_NULL(sum);
  const char *pi = strstr(sum, "I:"), *pk = strstr(sum, "Peak:");
  ASSERT_NOT_NULL(pi);
  ASSERT_NOT_NULL(pk);
  *lufs = strtod(pi + 2, NULL);
  *tp = strtod(pk + 5, NULL);
  free(out);
}

/* Peaky synthetic speech (two voices and rates) and a quiet, non-peaky tone all end at
 * -14 +- 1 LUFS with true peak <= -1 dBTP, as ebur128 measures the written file. */
TEST(loudnorm_reaches_target) {
  const char *wav = path_in_tmp("raw.wav"), *norm = path_in_tmp("norm.wav");
  struct {
    const char *text, *voice;
    int rate;
  } in[] = {
      {"Loudness matters. Every platform turns quiet speech up and loud speech down, so we "
       "deliver it at minus fourteen.",
       NULL, 175},
      {"Shorter, faster, higher: a second voice checks that the limiter adapts.", "en-gb", 260},
      {NULL, NULL, 0},
  };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    if (in[i].text != NULL) {
      tts_seen_t t;
      ASSERT_OK(tts_run(in[i].text, in[i].voice, in[i].rate, wav, &t));
      ain_media_tts_result_free(&t.res);
    } else {
      char cmd[1200];
      snprintf(cmd, sizeof cmd,
               "ffmpeg -y -nostdin -loglevel error -f lavfi -i sine=frequency=300:duration=4 "
               "-af volume=0.05 '%s'",
               wav);
      ASSERT_OK(system(cmd));
    }
    done_seen_t s;
    int rc = loudnorm_run(wav, norm, &s);
    if (rc != 0) {
      fprintf(stderr, "%s\n", s.err.msg);
    }
    ASSERT_OK(rc);
    int rate = 0;
    int64_t dur = 0;
    wav_info(norm, &rate, &dur);
    ASSERT_EQ(rate, 48000);
    double lufs, tp;
    ebur128(norm, &lufs, &tp);
    fprintf(stderr, "# input %zu after loudnorm: I = %.1f LUFS, true peak = %.1f dBTP\n", i, lufs,
            tp);
    ASSERT_TRUE(fabs(lufs - -14.0) <= 1.0);
    ASSERT_TRUE(tp <= -1.0);
  }
  ASSERT_EQ(count_tmp_parts(), 0);
  done_seen_t s;
  int rc;
  /* bad input: ffmpeg's own message, no output, no temp file left */
  rc = loudnorm_run(path_in_tmp("missing.wav"), path_in_tmp("n2.wav"), &s);
  ASSERT_EQ(rc, AIN_EMEDIA);
  ASSERT_STR_CONTAINS(s.err.msg, "No such file or directory");
  ASSERT_TRUE(!file_exists(path_in_tmp("n2.wav")));
  ain_media_shutdown();
}

typedef struct {
  int calls, status;
  ain_err_t err;
  ain_media_probe_t probe;
} probe_seen_t;

static void on_probe(int status, const ain_media_probe_t *probe, const ain_err_t *err,
                     void *data) {
  probe_seen_t *s = data;
  s->calls++;
  s->status = status;
  if (err != NULL) {
    s->err = *err;
    ASSERT_NULL(probe);
  } else {
    s->probe = *probe;
  }
}

static int probe_run(const char *path, probe_seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  ain_err_t err = {0};
  ASSERT_OK(ain_media_probe(&loop, path, on_probe, s, &err));
  loop_finish(&loop);
  ASSERT_EQ(s->calls, 1);
  return s->status;
}

static int background_run(int w, int h, done_seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  ain_media_background_opts_t o = {.colour_top = "#200040", .colour_bottom = "#402010",
                                   .width = w, .height = h, .cache_dir = ain_test_tmpdir()};
  ain_err_t err = {0};
  ASSERT_OK(ain_media_background(&loop, &o, on_bg, s, &err));
  loop_finish(&loop);
  ASSERT_EQ(s->calls, 1);
  return s->status;
}

static int render_run(ain_media_render_opts_t *o, done_seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  o->on_progress = on_progress;
  ain_err_t err = {0};
  int rc = ain_media_render(&loop, o, on_done, s, NULL, &err);
  if (rc != 0) {
    fprintf(stderr, "render start: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  loop_finish(&loop);
  ASSERT_EQ(s->calls, 1);
  return s->status;
}

/* Caption colours that the gradient background never produces. */
#define CAP_TEXT "#FFFF00"
#define CAP_HIGH "#00FFFF"

/* speech -> loudnorm -> background -> captions -> render; returns the speech duration. */
static int64_t make_video(int w, int h, const char *text, const ain_media_safe_area_t *sa,
                          const char *mp4, done_seen_t *rs) {
  const char *wav = path_in_tmp("v-raw.wav"), *norm = path_in_tmp("v-norm.wav");
  const char *ass_path = path_in_tmp("v.ass");
  tts_seen_t t;
  ASSERT_OK(tts_run(text, NULL, 185, wav, &t));
  done_seen_t s;
  ASSERT_OK(loudnorm_run(wav, norm, &s));
  done_seen_t bg;
  ASSERT_OK(background_run(w, h, &bg));
  ain_media_caption_style_t st = {.colour = CAP_TEXT, .highlight_colour = CAP_HIGH,
                                  .title = "Safe area check"};
  ain_err_t err = {0};
  char *ass = ain_media_captions_ass(t.res.words, t.res.n_words, &st, sa, w, h, &err);
  ASSERT_NOT_NULL(ass);
  ASSERT_OK(ain_write_file_atomic(ass_path, ass, strlen(ass)));
  free(ass);
  ain_media_render_opts_t o = {.background_png = bg.path, .audio_wav = norm,
                               .ass_path = ass_path, .out_mp4 = mp4,
                               .duration_ms = t.res.duration_ms, .width = w, .height = h};
  int rc = render_run(&o, rs);
  if (rc != 0) {
    fprintf(stderr, "render: %s\n", rs->err.msg);
  }
  ASSERT_OK(rc);
  int64_t dur = t.res.duration_ms;
  ain_media_tts_result_free(&t.res);
  return dur;
}

/* Decodes one frame as RGB and counts caption-coloured pixels inside and outside the safe area. */
typedef struct {
  long in_safe, bottom, right, top, left;
} pix_count_t;

static int is_caption_px(const unsigned char *p) {
  int r = p[0], g = p[1], b = p[2];
  return (r > 170 && g > 170 && b < 110) || (r < 110 && g > 170 && b > 170);
}

static void count_frame(const char *mp4, double at_s, int w, int h,
                        const ain_media_safe_area_t *sa, pix_count_t *c) {
  const char *raw = path_in_tmp("frame.rgb");
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -y -nostdin -loglevel error -ss %.2f -i '%s' -frames:v 1 -f rawvideo "
           "-pix_fmt rgb24 '%s'",
           at_s, mp4, raw);
  ASSERT_OK(system(cmd));
  char *buf = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(raw, &buf, &len));
  ASSERT_EQ(len, (size_t)w * h * 3);
  memset(c, 0, sizeof *c);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      if (!is_caption_px((const unsigned char *)buf + ((size_t)y * w + x) * 3)) {
        continue;
      }
      if (y >= h - sa->bottom_px) {
        c->bottom++;
      } else if (x >= w - sa->right_px) {
        c->right++;
      } else if (y < sa->top_px) {
        c->top++;
      } else if (x < sa->left_px) {
        c->left++;
      } else {
        c->in_safe++;
      }
    }
  }
  free(buf);
}

TEST(render_small_gate_safe_area_thumbnail) {
  const char *mp4 = path_in_tmp("small.mp4");
  ain_media_safe_area_t sa = {.top_px = 40, .bottom_px = 140, .left_px = 16, .right_px = 70};
  done_seen_t rs;
  int64_t speech = make_video(360, 640,
                              "Captions must never hide behind the buttons. Every single word "
                              "lights up exactly when it is spoken, inside the safe area.",
                              &sa, mp4, &rs);
  /* progress: several reports, non-decreasing, exactly one 100 */
  ASSERT_GE(rs.progress_calls, 2);
  ASSERT_EQ(rs.saw_100, 1);
  ASSERT_EQ(rs.non_monotonic, 0);
  ASSERT_EQ(count_tmp_parts(), 0);

  probe_seen_t ps;
  ASSERT_OK(probe_run(mp4, &ps));
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  ch.width = 360;
  ch.height = 640;
  ain_err_t err = {0};
  int rc = ain_media_gate(&ps.probe, &ch, &err);
  if (rc != 0) {
    fprintf(stderr, "gate: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  ASSERT_LE(llabs(ps.probe.duration_ms - speech), 500);
  ASSERT_GE(ps.probe.size_bytes, 1000);
  ASSERT_EQ(ps.probe.faststart, 1);

  /* safe area on decoded frames: caption pixels inside, none in the bands the platform covers */
  double times[] = {1.0, (double)speech / 1000.0 - 0.8};
  for (int i = 0; i < 2; i++) {
    pix_count_t c;
    count_frame(mp4, times[i], 360, 640, &sa, &c);
    fprintf(stderr, "# frame at %.1fs: %ld caption px in the safe area, %ld bottom, %ld right, "
                    "%ld top, %ld left\n",
            times[i], c.in_safe, c.bottom, c.right, c.top, c.left);
    ASSERT_GE(c.in_safe, 300);
    ASSERT_EQ(c.bottom, 0);
    ASSERT_EQ(c.right, 0);
    ASSERT_EQ(c.top, 0);
    ASSERT_EQ(c.left, 0);
  }

  /* the background is drawn once and then served from the cache */
  done_seen_t bg;
  ASSERT_OK(background_run(360, 640, &bg));
  ASSERT_EQ(bg.cached, 1);

  /* thumbnail: a JPEG of the requested width */
  const char *jpg = path_in_tmp("thumb.jpg");
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  done_seen_t ts = {0};
  ain_media_thumbnail_opts_t to = {.mp4 = mp4, .at_ms = 1000, .out_jpg = jpg, .width = 180};
  ASSERT_OK(ain_media_thumbnail(&loop, &to, on_done, &ts, &err));
  loop_finish(&loop);
  ASSERT_EQ(ts.calls, 1);
  ASSERT_OK(ts.status);
  ASSERT_OK(probe_run(jpg, &ps));
  ASSERT_STR_EQ(ps.probe.vcodec, "mjpeg");
  ASSERT_EQ(ps.probe.width, 180);
  ASSERT_EQ(ps.probe.height, 320);
  /* past the end there is no frame: an error, not an empty file */
  ASSERT_OK(uv_loop_init(&loop));
  memset(&ts, 0, sizeof ts);
  to.at_ms = 60000;
  to.out_jpg = path_in_tmp("late.jpg");
  ASSERT_OK(ain_media_thumbnail(&loop, &to, on_done, &ts, &err));
  loop_finish(&loop);
  ASSERT_EQ(ts.status, AIN_EMEDIA);
  ASSERT_TRUE(!file_exists(to.out_jpg));
  ASSERT_EQ(count_tmp_parts(), 0);
  ain_media_shutdown();
}

TEST(render_1080x1920_passes_gate) {
  const char *mp4 = path_in_tmp("full.mp4");
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  done_seen_t rs;
  int64_t speech =
      make_video(1080, 1920, "Full size render. Four seconds of speech, gated.", &ch.safe, mp4, &rs);
  probe_seen_t ps;
  ASSERT_OK(probe_run(mp4, &ps));
  ain_err_t err = {0};
  int rc = ain_media_gate(&ps.probe, &ch, &err);
  if (rc != 0) {
    fprintf(stderr, "gate: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  ASSERT_LE(llabs(ps.probe.duration_ms - speech), 500);
  ASSERT_EQ(rs.saw_100, 1);
  /* the channel's maximum duration is enforced on the real file too */
  ch.max_duration_ms = 1000;
  ASSERT_EQ(ain_media_gate(&ps.probe, &ch, &err), AIN_EMEDIA);
  ASSERT_STR_EQ(err.field, "duration");
  ain_media_shutdown();
}

static void make_tone(const char *wav, int seconds) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -y -nostdin -loglevel error -f lavfi -i sine=frequency=440:duration=%d '%s'",
           seconds, wav);
  ASSERT_OK(system(cmd));
}

TEST(render_timeout_kills_ffmpeg) {
  const char *wav = path_in_tmp("tone.wav"), *mp4 = path_in_tmp("slow.mp4");
  make_tone(wav, 1);
  done_seen_t bg;
  ASSERT_OK(background_run(1080, 1920, &bg));
  /* ten minutes of 1080p cannot finish in 400 ms */
  ain_media_render_opts_t o = {.background_png = bg.path, .audio_wav = wav, .out_mp4 = mp4,
                               .duration_ms = 600000, .timeout_ms = 400, .preset = "medium"};
  uint64_t t0 = ain_mono_ns();
  done_seen_t rs;
  ASSERT_EQ(render_run(&o, &rs), AIN_ETIMEOUT);
  double ms = (double)(ain_mono_ns() - t0) / 1e6;
  ASSERT_LE(ms, 5000);
  ASSERT_STR_CONTAINS(rs.err.msg, "render: timed out");
  ASSERT_EQ(rs.saw_100, 0);
  ASSERT_TRUE(!file_exists(mp4));
  ASSERT_EQ(count_tmp_parts(), 0);
  /* no ffmpeg of ours survives */
  char cmd[1200];
  /* "slow[.]mp4" matches ffmpeg's argv but not this shell's own command line */
  snprintf(cmd, sizeof cmd, "pgrep -f 'ffmpeg.*slow[.]mp4' | wc -l");
  char *out = run_capture(cmd);
  ASSERT_EQ(atoi(out), 0);
  free(out);
}

TEST(render_missing_input_reports_ffmpeg_error) {
  const char *wav = path_in_tmp("tone.wav"), *mp4 = path_in_tmp("x.mp4");
  make_tone(wav, 1);
  ain_media_render_opts_t o = {.background_png = path_in_tmp("nope.png"), .audio_wav = wav,
                               .out_mp4 = mp4, .duration_ms = 1000, .width = 360,
                               .height = 640};
  done_seen_t rs;
  ASSERT_EQ(render_run(&o, &rs), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(rs.err.msg, "nope.png: No such file or directory");
  ASSERT_TRUE(!file_exists(mp4));
  /* bad options are refused before anything runs */
  ain_err_t err = {0};
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  o.width = 361;
  ASSERT_EQ(ain_media_render(&loop, &o, on_done, &rs, NULL, &err), AIN_EINVAL);
  o.width = 360;
  o.duration_ms = 0;
  ASSERT_EQ(ain_media_render(&loop, &o, on_done, &rs, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "duration_ms");
  loop_finish(&loop);
  /* probe of a missing file carries ffprobe's message */
  probe_seen_t ps;
  ASSERT_EQ(probe_run(path_in_tmp("nope.mp4"), &ps), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(ps.err.msg, "No such file or directory");
}

TEST(gate_rejects_real_files) {
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  ch.width = 360;
  ch.height = 640;
  struct {
    const char *name, *args, *field;
  } cases[] = {
      {"yuv444.mp4", "-s 360x640 -pix_fmt yuv444p -movflags +faststart", "pix_fmt"},
      {"nofast.mp4", "-s 360x640 -pix_fmt yuv420p", "faststart"},
      {"size.mp4", "-s 320x640 -pix_fmt yuv420p -movflags +faststart", "size"},
      {"ok.mp4", "-s 360x640 -pix_fmt yuv420p -movflags +faststart", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *mp4 = path_in_tmp(cases[i].name);
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -y -nostdin -loglevel error -f lavfi -i color=c=red:s=360x640:r=30:d=1 -f "
             "lavfi -i sine=d=1:sample_rate=48000 -c:v libx264 -preset ultrafast %s -c:a aac "
             "-shortest '%s'",
             cases[i].args, mp4);
    ASSERT_OK(system(cmd));
    probe_seen_t ps;
    ASSERT_OK(probe_run(mp4, &ps));
    ain_err_t err = {0};
    int rc = ain_media_gate(&ps.probe, &ch, &err);
    fprintf(stderr, "# %s: %s\n", cases[i].name, rc ? err.msg : "pass");
    if (cases[i].field[0]) {
      ASSERT_EQ(rc, AIN_EMEDIA);
      ASSERT_STR_EQ(err.field, cases[i].field);
    } else {
      ASSERT_OK(rc);
    }
  }
  ain_err_t err = {0};
  ASSERT_EQ(ain_media_mp4_faststart(path_in_tmp("nofast.mp4"), &err), 0);
  ASSERT_EQ(ain_media_mp4_faststart(path_in_tmp("ok.mp4"), &err), 1);
  ASSERT_OK(ain_write_file_atomic(path_in_tmp("junk.mp4"), "\0\0\0\x04junkjunk", 12));
  ASSERT_EQ(ain_media_mp4_faststart(path_in_tmp("junk.mp4"), &err), AIN_EMEDIA);
  ASSERT_EQ(ain_media_mp4_faststart(path_in_tmp("none.mp4"), &err), AIN_EIO);
}

TEST(background_bad_inputs) {
  ain_err_t err = {0};
  char path[4096];
  ain_media_background_opts_t o = {.colour_top = "#000000", .colour_bottom = "red", .width = 360,
                                    .height = 640, .cache_dir = "/tmp"};
  ASSERT_EQ(ain_media_background_path(&o, path, sizeof path, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "\"red\"");
  o.colour_bottom = "#FFFFFF";
  o.width = 4;
  ASSERT_EQ(ain_media_background_path(&o, path, sizeof path, &err), AIN_EINVAL);
  o.width = 360;
  ASSERT_OK(ain_media_background_path(&o, path, sizeof path, &err));
  char other[4096];
  o.colour_top = "#000001";
  ASSERT_OK(ain_media_background_path(&o, other, sizeof other, &err));
  ASSERT_TRUE(strcmp(path, other) != 0); /* the style is part of the cache key */
}

TEST_MAIN(TEST_ENTRY(colour_parse), TEST_ENTRY(filter_escape), TEST_ENTRY(progress_line),
          TEST_ENTRY(captions_layout), TEST_ENTRY(captions_bad_inputs), TEST_ENTRY(gate_checks),
          TEST_ENTRY(probe_parse), TEST_ENTRY(loudnorm_parse), TEST_ENTRY(tts_words_and_wav),
          TEST_ENTRY(tts_bad_inputs), TEST_ENTRY(caption_onset_accuracy),
          TEST_ENTRY(loudnorm_reaches_target), TEST_ENTRY(render_small_gate_safe_area_thumbnail),
          TEST_ENTRY(render_1080x1920_passes_gate), TEST_ENTRY(render_timeout_kills_ffmpeg),
          TEST_ENTRY(render_missing_input_reports_ffmpeg_error), TEST_ENTRY(gate_rejects_real_files),
          TEST_ENTRY(background_bad_inputs))
