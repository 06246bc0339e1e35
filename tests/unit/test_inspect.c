/* Tests for engine/media/inspect.c and asrlm.c: the children's argv, tesseract's and
 * pocketsphinx's output parsed, the recogniser's model for a script (real CMU dictionary), then
 * real runs on a short generated video: frames read at the right times, speech heard, a missing
 * tesseract named with its package, a corrupt MP4 failing with ffmpeg's message, a timeout, and
 * cancellation. Inputs are made with the ffmpeg and espeak-ng CLIs (blocking is fine here). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "media/media.h"

static char *tmp_path(const char *name) {
  static char buf[8][1024];
  static int slot;
  char *out = buf[slot++ % 8];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  ASSERT_NOT_NULL(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  ASSERT_EQ(fread(b, 1, (size_t)n, f), n);
  b[n] = '\0';
  fclose(f);
  return b;
}

static int joined_contains(char **argv, const char *needle) {
  for (size_t i = 0; argv[i] != NULL; i++) {
    if (strstr(argv[i], needle) != NULL) {
      return 1;
    }
  }
  return 0;
}

/* ---- pure parts ------------------------------------------------------------------------------- */

TEST(argv_building) {
  ain_media_inspect_opts_t o = {.mp4 = "/v/video.mp4", .frame_interval_ms = 1500, .asr_lw = 7};
  char **a = ain_media_inspect_argv(&o, "frames", "/w");
  ASSERT_NOT_NULL(a);
  ASSERT_STR_EQ(a[0], "ffmpeg");
  ASSERT_TRUE(joined_contains(
      a, "select='gte(t,(selected_n+0.5)*1.500)',settb=1/1000,scale=-2:960,format=gray"));
  ASSERT_TRUE(joined_contains(a, "/w/f%010d.png")); /* named by its time in ms */
  ASSERT_TRUE(joined_contains(a, "-frame_pts") && joined_contains(a, "1:1000"));
  ASSERT_TRUE(joined_contains(a, "bidir")); /* B-frames are not decoded */
  ASSERT_TRUE(joined_contains(a, "/v/video.mp4"));
  ain_media_argv_free(a);
  a = ain_media_inspect_argv(&o, "audio", "/w");
  ASSERT_TRUE(joined_contains(a, "16000") && joined_contains(a, "/w/audio.wav"));
  ain_media_argv_free(a);
  a = ain_media_inspect_argv(&o, "ocr", "/w");
  ASSERT_STR_EQ(a[0], "tesseract");
  ASSERT_STR_EQ(a[1], "/w/frames.txt");
  ASSERT_STR_EQ(a[2], "stdout");
  ASSERT_TRUE(joined_contains(a, "eng"));
  ASSERT_TRUE(joined_contains(a, "tsv")); /* words with boxes */
  ain_media_argv_free(a);
  a = ain_media_inspect_argv(&o, "asr", "/w");
  ASSERT_STR_EQ(a[0], "pocketsphinx_continuous");
  ASSERT_TRUE(joined_contains(a, "/w/script.lm") && joined_contains(a, "/w/script.dic"));
  ASSERT_TRUE(joined_contains(a, "/usr/share/pocketsphinx/model/en-us/en-us"));
  ASSERT_TRUE(joined_contains(a, "7.00"));
  ain_media_argv_free(a);
  o.tesseract = "/opt/tess";
  o.ocr_height = 480;
  a = ain_media_inspect_argv(&o, "ocr", "/w");
  ASSERT_STR_EQ(a[0], "/opt/tess");
  ain_media_argv_free(a);
  a = ain_media_inspect_argv(&o, "frames", "/w");
  ASSERT_TRUE(joined_contains(a, "scale=-2:480"));
  ain_media_argv_free(a);
  /* Two masks (the picture box cut around a caption band) and the scene changes skipped. */
  o.ocr_masks[0][0] = 0.24, o.ocr_masks[0][1] = 0.1, o.ocr_masks[0][2] = 0.5, o.ocr_masks[0][3] = 0.2;
  o.ocr_masks[1][0] = 0.24, o.ocr_masks[1][1] = 0.5, o.ocr_masks[1][2] = 0.5, o.ocr_masks[1][3] = 0.1;
  const int64_t skip[2][2] = {{2960, 3440}, {6000, 6480}};
  o.skip_ms = skip;
  o.n_skip = 2;
  a = ain_media_inspect_argv(&o, "frames", "/w");
  ASSERT_TRUE(joined_contains(a, "*not(between(t,2.960,3.439))*not(between(t,6.000,6.479))'"));
  ASSERT_TRUE(joined_contains(a, "drawbox=x=iw*0.240:y=ih*0.100:w=iw*0.500:h=ih*0.200"));
  ASSERT_TRUE(joined_contains(a, "drawbox=x=iw*0.240:y=ih*0.500:w=iw*0.500:h=ih*0.100"));
  ain_media_argv_free(a);
  /* A sliver would print as h=ih*0.000, which drawbox reads as the whole height: left out. */
  o.ocr_masks[0][3] = 0.0004;
  a = ain_media_inspect_argv(&o, "frames", "/w");
  ASSERT_EQ(joined_contains(a, "h=ih*0.000"), 0);
  ASSERT_TRUE(joined_contains(a, "drawbox=x=iw*0.240:y=ih*0.500:w=iw*0.500:h=ih*0.100"));
  ain_media_argv_free(a);
  ASSERT_NULL(ain_media_inspect_argv(&o, "video", "/w"));
}

/* tesseract 5's TSV for a list of images: a level-1 row per page (its size), level-5 rows for
 * the words (block, paragraph, line, word; box; confidence; text). */
static const char *TSV =
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t200\t400\t-1\t\n"
    "2\t1\t1\t0\t0\t0\t20\t40\t100\t20\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t20\t40\t50\t20\t95.5\tTitle\n"
    "5\t1\t1\t1\t1\t2\t80\t40\t40\t20\t91\tline\n"
    "5\t1\t1\t1\t2\t1\t20\t300\t60\t20\t88\tkit\n"
    "5\t1\t2\t1\t1\t1\t20\t340\t60\t20\t12.25\t \n"
    "1\t2\t0\t0\t0\t0\t0\t0\t200\t400\t-1\t\n"
    "1\t3\t0\t0\t0\t0\t0\t0\t200\t400\t-1\t\n"
    "5\t3\t1\t1\t1\t1\t100\t200\t100\t40\t70\tLast\n";

TEST(ocr_parse_tsv) {
  ain_media_ocr_frame_t *f = NULL;
  ain_err_t err = {0};
  int64_t t[3] = {1000, 3040, 5000};
  ASSERT_OK(ain_media_ocr_parse_tsv(TSV, 3, t, &f, &err));
  ASSERT_STR_EQ(f[0].text, "Title line\nkit"); /* a new line where tesseract's line changes */
  ASSERT_EQ(f[0].t_ms, 1000);
  ASSERT_EQ(f[0].n_words, 3); /* the blank word is dropped */
  ASSERT_STR_EQ(f[0].words[1].text, "line");
  ASSERT_TRUE(f[0].words[1].conf > 90.9 && f[0].words[1].conf < 91.1);
  ASSERT_TRUE(f[0].words[2].box[0] > 0.099 && f[0].words[2].box[0] < 0.101); /* 20 / 200 */
  ASSERT_TRUE(f[0].words[2].box[1] > 0.749 && f[0].words[2].box[1] < 0.751); /* 300 / 400 */
  ASSERT_STR_EQ(f[1].text, "");
  ASSERT_EQ(f[1].n_words, 0);
  ASSERT_EQ(f[1].t_ms, 3040);
  ASSERT_STR_EQ(f[2].text, "Last");
  ASSERT_TRUE(f[2].words[0].box[2] > 0.499 && f[2].words[0].box[2] < 0.501);
  ain_media_ocr_frames_free(f, 3);
  /* Fewer pages than frames, or a page out of range: an error naming the counts. */
  ASSERT_EQ(ain_media_ocr_parse_tsv(TSV, 4, (int64_t[4]){0}, &f, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "3 pages for 4 frames");
  ASSERT_NULL(f);
  ASSERT_EQ(ain_media_ocr_parse_tsv(TSV, 2, t, &f, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "page 3 of 2 frames");
  ASSERT_NULL(f);
  ASSERT_OK(ain_media_ocr_parse_tsv("", 0, t, &f, &err));
  ain_media_ocr_frames_free(f, 0);
}

/* The render's ASS (the shape media/captions.c writes): a title at the top (alignment 8), captions
 * at the bottom (alignment 2), one event per word of a phrase with the highlight moving. */
static const char *ASS =
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 360\nPlayResY: 640\nWrapStyle: 2\n\n"
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    "Style: Caption,DejaVu Sans,26,&H00FFFFFF,&H0000FFFF,&H00000000,&H80000000,-1,0,0,0,100,100,"
    "0,0,1,2,0,2,20,60,140,1\n"
    "Style: Title,DejaVu Sans,20,&H00FFFFFF,&H0000FFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,"
    "0,1,2,0,8,20,60,100,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, "
    "MarginR, MarginV, Effect, Text\n"
    "Dialogue: 1,0:00:00.00,0:00:05.20,Title,,0,0,0,,Morning walks,\\Nheart health\n"
    "Dialogue: 0,0:00:00.10,0:00:00.50,Caption,,0,0,0,,{\\1c&H00FFFF&}Morning{\\1c&HFFFFFF&} "
    "walks\n"
    "Dialogue: 0,0:00:00.50,0:00:00.90,Caption,,0,0,0,,Morning {\\1c&H00FFFF&}walks{\\1c&HFFFFFF&}\n"
    "Dialogue: 0,0:00:01.00,0:00:01.60,Caption,,0,0,0,,{\\fs22}help your\\Nheart\n";

TEST(text_plan_from_ass) {
  ain_media_text_event_t *ev = NULL;
  size_t n = 0;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_text_plan(ASS, &ev, &n, &err));
  ASSERT_EQ(n, 3); /* the title, "Morning walks" (two word events merged), "help your heart" */
  ASSERT_TRUE(ev[0].title);
  ASSERT_STR_EQ(ev[0].text, "Morning walks, heart health"); /* commas in the text kept */
  ASSERT_EQ(ev[0].end_ms, 5200);
  /* top-aligned at MarginV 100: y = 100 / 640; two lines of 20 px * 1.25 + 2 * outline 2 */
  ASSERT_TRUE(ev[0].box[1] > 0.156 && ev[0].box[1] < 0.157);
  ASSERT_TRUE(ev[0].box[3] > 0.0843 && ev[0].box[3] < 0.0845);
  ASSERT_TRUE(ev[0].box[0] > 0.0555 && ev[0].box[0] < 0.0556); /* MarginL 20 / 360 */
  ASSERT_TRUE(ev[0].box[2] > 0.777 && ev[0].box[2] < 0.778);   /* (360 - 20 - 60) / 360 */
  ASSERT_EQ(ev[1].title, 0);
  ASSERT_STR_EQ(ev[1].text, "Morning walks");
  ASSERT_EQ(ev[1].start_ms, 100);
  ASSERT_EQ(ev[1].end_ms, 900);
  /* bottom-aligned at MarginV 140: one line of 26 px: y = 640 - 140 - 36.5 */
  ASSERT_TRUE(ev[1].box[1] > 0.7241 && ev[1].box[1] < 0.7243);
  /* its own font size ({\fs22}) and two lines: 2 * 22 * 1.25 + 4 = 59 px */
  ASSERT_STR_EQ(ev[2].text, "help your heart");
  ASSERT_TRUE(ev[2].box[3] > 0.0921 && ev[2].box[3] < 0.0923);
  ain_media_text_plan_free(ev, n);
  /* A Dialogue with a style the script does not define, or before the sizes: errors. */
  char bad[4096];
  snprintf(bad, sizeof bad, "%sDialogue: 0,0:00:02.00,0:00:03.00,Nope,,0,0,0,,x\n", ASS);
  ASSERT_EQ(ain_media_text_plan(bad, &ev, &n, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "\"Nope\"");
  ASSERT_NULL(ev);
  ASSERT_EQ(ain_media_text_plan("Dialogue: 0,0:00:00.00,0:00:01.00,Caption,,0,0,0,,x\n", &ev, &n,
                                &err),
            AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "PlayResX");
  ASSERT_OK(ain_media_text_plan("", &ev, &n, &err));
  ASSERT_EQ(n, 0);
}

TEST(asr_parse) {
  size_t n = 0;
  char *t = ain_media_asr_parse("OKAY tech fans\n\n<sil> this [NOISE] is (2) wild  \n", &n);
  ASSERT_STR_EQ(t, "okay tech fans this is wild");
  ASSERT_EQ(n, 6);
  free(t);
  t = ain_media_asr_parse("", &n);
  ASSERT_STR_EQ(t, "");
  ASSERT_EQ(n, 0);
  free(t);
}

TEST(asr_model_from_script) {
  const char *dict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  size_t words = 0;
  char *oov = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_asr_model("Zürich trains are 30 percent faster! Don't wait: ride Qxzvbl.",
                                dict, tmp_path("s.lm"), tmp_path("s.dic"), &words, &oov, &err));
  ASSERT_STR_EQ(oov, "qxzvbl");
  ASSERT_EQ(words, 9); /* zurich trains are thirty percent faster don't wait ride */
  char *lm = slurp(tmp_path("s.lm"));
  ASSERT_STR_CONTAINS(lm, "\\data\\");
  ASSERT_STR_CONTAINS(lm, " zurich trains are\n");  /* a trigram of the script */
  ASSERT_STR_CONTAINS(lm, " thirty percent ");       /* 30 spelled out */
  ASSERT_STR_CONTAINS(lm, " <s> don't ");            /* a new sentence after "!" */
  ASSERT_STR_CONTAINS(lm, " chinese ");              /* background vocabulary */
  ASSERT_TRUE(strstr(lm, "qxzvbl") == NULL);
  ASSERT_STR_CONTAINS(lm, "\\end\\");
  char *dic = slurp(tmp_path("s.dic"));
  ASSERT_STR_CONTAINS(dic, "\nthirty ");
  ASSERT_STR_CONTAINS(dic, "trains ");
  free(lm);
  free(dic);
  free(oov);
  /* Many one-word sentences: two bigrams and two trigrams per word. */
  char many[4000] = "";
  for (int i = 0; i < 300; i++) {
    strcat(many, i % 2 ? "Yes. " : "No! ");
  }
  ASSERT_OK(ain_media_asr_model(many, dict, tmp_path("m.lm"), tmp_path("m.dic"), &words, &oov,
                                &err));
  ASSERT_EQ(words, 300);
  free(oov);
  lm = slurp(tmp_path("m.lm"));
  ASSERT_STR_CONTAINS(lm, "<s> yes </s>\n");
  free(lm);
  ASSERT_EQ(ain_media_asr_model("hello", "/nonexistent/dict", tmp_path("x.lm"), tmp_path("x.dic"),
                                &words, &oov, &err),
            AIN_EIO);
  ASSERT_STR_CONTAINS(err.msg, "pocketsphinx-en-us");
  ASSERT_NULL(oov);
}

/* ---- real runs -------------------------------------------------------------------------------- */

typedef struct {
  int done, status;
  ain_err_t err;
  size_t n_frames;
  int64_t t1;
  char text0[512], asr[1024];
  double word0_y; /* the first word's box top */
  size_t asr_words;
} got_t;

static void on_done(int status, const ain_media_inspect_result_t *res, const ain_err_t *err,
                    void *data) {
  got_t *g = data;
  g->done++;
  g->status = status;
  if (err != NULL) {
    g->err = *err;
  }
  if (res != NULL) {
    g->n_frames = res->n_frames;
    if (res->n_frames > 1) {
      g->t1 = res->frames[1].t_ms;
      snprintf(g->text0, sizeof g->text0, "%s", res->frames[0].text);
      g->word0_y = res->frames[0].n_words > 0 ? res->frames[0].words[0].box[1] : -1;
    }
    snprintf(g->asr, sizeof g->asr, "%s", res->asr_text);
    g->asr_words = res->asr_words;
  }
}

static const char *SPEECH = "Morning walks help your heart and your mood.";

/* A 4 s 360x640 video: a white card with black text "MORNING WALKS" and espeak-ng speech. */
static const char *make_video(void) {
  char cmd[4096];
  const char *mp4 = tmp_path("v.mp4");
  snprintf(cmd, sizeof cmd,
           "espeak-ng -v en-us -s 160 -w '%s' '%s' && ffmpeg -v error -y -f lavfi -i "
           "color=white:s=360x640:d=4 -i '%s' -vf \"subtitles=f='%s'\" -af apad -t 4 -c:v libx264 "
           "-preset ultrafast -pix_fmt yuv420p -c:a aac '%s'",
           tmp_path("s.wav"), SPEECH, tmp_path("s.wav"), tmp_path("t.ass"), mp4);
  FILE *f = fopen(tmp_path("t.ass"), "w");
  fprintf(f, "[Script Info]\nScriptType: v4.00+\nPlayResX: 360\nPlayResY: 640\n\n[V4+ Styles]\n"
             "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
             "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
             "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
             "Style: D,DejaVu Sans,40,&H00000000,&H00000000,&H00000000,&H00000000,-1,0,0,0,100,"
             "100,0,0,1,0,0,5,10,10,10,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, "
             "MarginL, MarginR, MarginV, Effect, Text\n"
             "Dialogue: 0,0:00:00.00,0:00:04.00,D,,0,0,0,,MORNING WALKS\n");
  fclose(f);
  ASSERT_OK(system(cmd));
  return mp4;
}

static void run_inspect(ain_media_inspect_opts_t *o, got_t *g, int cancel_after_ms) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_media_inspect_t *job = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_inspect(&loop, o, on_done, g, &job, &err));
  if (cancel_after_ms > 0) {
    uint64_t t0 = ain_mono_ns();
    while (!g->done && ain_mono_ns() - t0 < (uint64_t)cancel_after_ms * 1000000ULL) {
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
    if (!g->done) {
      ain_media_inspect_cancel(job);
    }
  }
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(g->done, 1);
}

TEST(inspect_reads_frames_and_hears_speech) {
  const char *mp4 = make_video();
  ain_media_inspect_opts_t o = {.mp4 = mp4,
                                .work_dir = tmp_path("work"),
                                .script_text = SPEECH,
                                .frame_interval_ms = 1000};
  got_t g = {0};
  run_inspect(&o, &g, 0);
  ASSERT_EQ(g.status, 0);
  ASSERT_EQ(g.n_frames, 4); /* at 0.5, 1.5, 2.5 and 3.5 s */
  /* the frame's own time: the first at or after 1.5 s (25 fps: 1.52 s) */
  ASSERT_GE(g.t1, 1500);
  ASSERT_TRUE(g.t1 < 1700);
  ASSERT_STR_CONTAINS(g.text0, "MORNING WALKS");
  ASSERT_TRUE(g.word0_y > 0.4 && g.word0_y < 0.55); /* the card's text is centred (alignment 5) */
  ASSERT_STR_CONTAINS(g.asr, "heart");
  ASSERT_GE(g.asr_words, 5);
}

TEST(missing_tesseract_is_a_clear_error) {
  const char *mp4 = make_video();
  ain_media_inspect_opts_t o = {.mp4 = mp4,
                                .work_dir = tmp_path("work"),
                                .script_text = SPEECH,
                                .tesseract = "/nonexistent/bin/tesseract"};
  got_t g = {0};
  run_inspect(&o, &g, 0);
  ASSERT_EQ(g.status, AIN_ESPAWN);
  ASSERT_STR_CONTAINS(g.err.msg, "/nonexistent/bin/tesseract");
  ASSERT_STR_CONTAINS(g.err.msg, "tesseract-ocr");
}

TEST(corrupt_mp4_is_an_error) {
  const char *bad = tmp_path("bad.mp4");
  FILE *f = fopen(bad, "wb");
  for (int i = 0; i < 20000; i++) {
    fputc((i * 7919) & 0xff, f);
  }
  fclose(f);
  ain_media_inspect_opts_t o = {.mp4 = bad, .work_dir = tmp_path("work"), .script_text = SPEECH};
  got_t g = {0};
  run_inspect(&o, &g, 0);
  ASSERT_EQ(g.status, AIN_EMEDIA);
  ASSERT_STR_CONTAINS(g.err.msg, "inspect: ffmpeg");
  ASSERT_STR_CONTAINS(g.err.msg, "Invalid data");
}

TEST(timeout_and_cancel) {
  const char *mp4 = make_video();
  ain_media_inspect_opts_t o = {.mp4 = mp4,
                                .work_dir = tmp_path("work"),
                                .script_text = SPEECH,
                                .timeout_ms = 100};
  got_t g = {0};
  run_inspect(&o, &g, 0);
  ASSERT_EQ(g.status, AIN_ETIMEOUT);
  ASSERT_STR_CONTAINS(g.err.msg, "timed out");
  o.timeout_ms = 0;
  got_t c = {0};
  uint64_t t0 = ain_mono_ns();
  run_inspect(&o, &c, 150);
  ASSERT_EQ(c.status, AIN_ECANCELLED);
  ASSERT_LE((ain_mono_ns() - t0) / 1000000, 5000); /* children killed, not waited for */
}

TEST(bad_options) {
  ain_err_t err = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  got_t g = {0};
  ain_media_inspect_opts_t o = {.mp4 = "x.mp4", .work_dir = "w"};
  ASSERT_EQ(ain_media_inspect(&loop, &o, on_done, &g, NULL, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "script_text");
  o.script_text = "hi";
  o.frame_interval_ms = 20;
  ASSERT_EQ(ain_media_inspect(&loop, &o, on_done, &g, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "frame_interval_ms");
  o.frame_interval_ms = 0;
  o.ocr_height = 10;
  ASSERT_EQ(ain_media_inspect(&loop, &o, on_done, &g, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "ocr_height");
  o.ocr_height = 0;
  const int64_t back[1][2] = {{3000, 2000}};
  o.skip_ms = back;
  o.n_skip = 1;
  ASSERT_EQ(ain_media_inspect(&loop, &o, on_done, &g, NULL, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "skip_ms");
  ASSERT_STR_CONTAINS(err.msg, "3000..2000 ms");
  ASSERT_EQ(g.done, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(argv_building), TEST_ENTRY(ocr_parse_tsv), TEST_ENTRY(text_plan_from_ass), TEST_ENTRY(asr_parse),
          TEST_ENTRY(asr_model_from_script), TEST_ENTRY(inspect_reads_frames_and_hears_speech),
          TEST_ENTRY(missing_tesseract_is_a_clear_error), TEST_ENTRY(corrupt_mp4_is_an_error),
          TEST_ENTRY(timeout_and_cancel), TEST_ENTRY(bad_options))
