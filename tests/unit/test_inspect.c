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
  ASSERT_TRUE(joined_contains(a, "select='gte(t,(selected_n+0.5)*1.500)',scale=-2:960,format=gray"));
  ASSERT_TRUE(joined_contains(a, "/w/f%05d.png"));
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
  ASSERT_NULL(ain_media_inspect_argv(&o, "video", "/w"));
}

TEST(ocr_parse) {
  ain_media_ocr_frame_t *f = NULL;
  ain_err_t err = {0};
  /* tesseract 5: the separator before every page but the first; an empty page is empty. */
  ASSERT_OK(ain_media_ocr_parse("Title line\n\n  kit costs  \n\fsecond\n\f\fLast page\n", 4, 2000,
                                &f, &err));
  ASSERT_STR_EQ(f[0].text, "Title line\nkit costs");
  ASSERT_EQ(f[0].t_ms, 1000);
  ASSERT_STR_EQ(f[1].text, "second");
  ASSERT_EQ(f[1].t_ms, 3000);
  ASSERT_STR_EQ(f[2].text, "");
  ASSERT_STR_EQ(f[3].text, "Last page");
  ASSERT_EQ(f[3].t_ms, 7000);
  for (int i = 0; i < 4; i++) {
    free(f[i].text);
  }
  free(f);
  /* A trailing separator (older tesseract) ends the last page. */
  ASSERT_OK(ain_media_ocr_parse("a\fb\f", 2, 1000, &f, &err));
  ASSERT_STR_EQ(f[1].text, "b");
  free(f[0].text);
  free(f[1].text);
  free(f);
  ASSERT_EQ(ain_media_ocr_parse("a\fb", 3, 1000, &f, &err), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(err.msg, "2 pages for 3 frames");
  ASSERT_NULL(f);
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
  ASSERT_EQ(g.t1, 1500);
  ASSERT_STR_CONTAINS(g.text0, "MORNING WALKS");
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
  ASSERT_EQ(g.done, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(argv_building), TEST_ENTRY(ocr_parse), TEST_ENTRY(asr_parse),
          TEST_ENTRY(asr_model_from_script), TEST_ENTRY(inspect_reads_frames_and_hears_speech),
          TEST_ENTRY(missing_tesseract_is_a_clear_error), TEST_ENTRY(corrupt_mp4_is_an_error),
          TEST_ENTRY(timeout_and_cancel), TEST_ENTRY(bad_options))
