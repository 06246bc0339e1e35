/* Tests for engine/media/scenes.c (scene list -> the video chain of the filter graph) and
 * picture.c (colour emoji -> PNG): the graph's shape for each kind of scene, the bad inputs
 * (no scenes, overlapping or too short scenes, a missing file), then a real render at 144x256
 * whose frames must change at every scene (ffmpeg's scene score) and never stand still. */
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "media/internal.h"
#include "media/media.h"

static char *tmp_path(const char *name) {
  static char buf[8][1024];
  static int slot;
  char *out = buf[slot++ % 8];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

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

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
    n++;
  }
  return n;
}

static const ain_media_scene_graph_opts_t OPTS = {
    .width = 360, .height = 640, .fps = 30, .total_ms = 9000, .first_input = 1};

TEST(graph_shape) {
  ain_media_scene_t s[3] = {
      {.start_ms = 0, .end_ms = 3000, .kind = AIN_MEDIA_SCENE_MOTION, .picture = "/e.png",
       .colours = {0x102030, 0x405060, 0x708090}, .seed = 1},
      {.start_ms = 3000, .end_ms = 6000, .kind = AIN_MEDIA_SCENE_IMAGE, .path = "/p.jpg", .seed = 2},
      {.start_ms = 6000, .end_ms = 8500, .kind = AIN_MEDIA_SCENE_CLIP, .path = "/c.mp4"}};
  ain_media_scene_graph_t g;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_scenes_graph(s, 3, &OPTS, &g, &err));
  /* inputs: the emoji (one picture, looped in the graph), the still, the clip (looped) */
  ASSERT_EQ(g.n_inputs, 3);
  ASSERT_EQ(g.argc, 4 + 2 + 6);
  ASSERT_STR_EQ(g.argv[0], "-framerate");
  ASSERT_STR_EQ(g.argv[3], "/e.png");
  ASSERT_STR_EQ(g.argv[5], "/p.jpg");
  ASSERT_STR_EQ(g.argv[6], "-stream_loop");
  ASSERT_STR_EQ(g.argv[9], "3.000");
  ASSERT_STR_EQ(g.argv[11], "/c.mp4");
  ASSERT_STR_CONTAINS(g.graph, "loop=loop=101:size=1"); /* the emoji: 3.4 s at 30 fps */
  /* one xfade per scene change, at each scene's start; the chain ends in [vs] */
  ASSERT_EQ(count(g.graph, "xfade="), 2);
  ASSERT_STR_CONTAINS(g.graph, "offset=3.000");
  ASSERT_STR_CONTAINS(g.graph, "offset=6.000[vs]");
  ASSERT_STR_CONTAINS(g.graph, "gradients=s=44x80"); /* drawn at 1/8 size ... */
  ASSERT_STR_CONTAINS(g.graph, "c0=0x102030");
  ASSERT_STR_CONTAINS(g.graph, "gradfun");           /* ... and dithered */
  ASSERT_STR_CONTAINS(g.graph, "[2:v]scale=720:1280"); /* Ken Burns from 2x */
  ASSERT_STR_CONTAINS(g.graph, "zoompan=");
  ASSERT_STR_CONTAINS(g.graph, "d=102:s=360x640");      /* 3.0 s + 0.4 s transition at 30 fps */
  ASSERT_STR_CONTAINS(g.graph, "[3:v]scale=360:640");   /* the clip fills the frame */
  ASSERT_STR_CONTAINS(g.graph, "trim=duration=3.000");  /* the last scene runs to total_ms */
  /* the emoji over scene 0, converted to YUVA (BT.709) once, before loop repeats it */
  ASSERT_STR_CONTAINS(g.graph, "[1:v]scale=180:180:force_original_aspect_ratio=decrease:"
                               "force_divisible_by=2:out_color_matrix=bt709:out_range=tv,"
                               "format=yuva420p,loop=");
  /* every source becomes YUV 4:2:0 with the BT.709 matrix while it is small: the gradient at
   * 1/8 size, the still at 2x before zoompan, the clip when it is scaled */
  ASSERT_STR_CONTAINS(g.graph, ",scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
                               "scale=360:640:flags=bicubic,gradfun");
  ASSERT_STR_CONTAINS(g.graph, "[2:v]scale=720:1280:force_original_aspect_ratio=increase:"
                               "out_color_matrix=bt709");
  ASSERT_STR_CONTAINS(g.graph, "[3:v]scale=360:640:force_original_aspect_ratio=increase:"
                               "out_color_matrix=bt709");
  ASSERT_EQ(count(g.graph, "format=rgba"), 1); /* only the disc, drawn once by geq */
  ASSERT_TRUE(g.graph[strlen(g.graph) - 1] == ']');
  /* no transition moves the pictures out through the frame's edges (the UI bands) */
  ASSERT_TRUE(strstr(g.graph, "transition=slide") == NULL);
  ain_media_scene_graph_free(&g);

  /* captions in the middle put the picture lower (60 %): it shrinks so that at rest, bob
   * included, it stays above the bottom 20 % (with a margin: 78 %), and picture_box says so */
  ain_media_scene_graph_opts_t low = OPTS;
  low.picture_y = 0.6;
  ASSERT_OK(ain_media_scenes_graph(s, 3, &low, &g, &err));
  ASSERT_STR_CONTAINS(g.graph, "[1:v]scale=106:106:"); /* (0.78 - 0.012 - 0.6) x 640, even */
  ASSERT_TRUE(0.6 + 106.0 / 640 + 0.012 <= 0.78);
  double box[4];
  ain_media_scenes_picture_box(&low, box);
  ASSERT_TRUE(box[0] > 0.3 && box[0] + box[2] < 0.7); /* the narrower square, centred */
  ain_media_scene_graph_free(&g);

  /* one scene: no transition at all */
  ain_media_scene_t one = {.start_ms = 0, .end_ms = 2000, .kind = AIN_MEDIA_SCENE_MOTION};
  ain_media_scene_graph_opts_t o = OPTS;
  o.total_ms = 2000;
  o.out_label = "scn";
  ASSERT_OK(ain_media_scenes_graph(&one, 1, &o, &g, &err));
  ASSERT_EQ(count(g.graph, "xfade="), 0);
  ASSERT_EQ(g.argc, 0);
  ASSERT_STR_CONTAINS(g.graph, "[s0]null[scn]");
  ain_media_scene_graph_free(&g);
}

static void on_done(int status, const ain_err_t *err, void *data) {
  if (status != 0) {
    fprintf(stderr, "render failed: %s\n", err ? err->msg : "?");
  }
  *(int *)data = status == 0 ? 1 : -1;
}

TEST(graph_bad_inputs) {
  ain_media_scene_graph_t g;
  ain_err_t err = {0};
  ASSERT_EQ(ain_media_scenes_graph(NULL, 0, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "at least one scene");
  ASSERT_NULL(g.graph);

  ain_media_scene_t s[2] = {{.start_ms = 0, .end_ms = 3000}, {.start_ms = 2500, .end_ms = 5000}};
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "scenes[1]");
  ASSERT_STR_CONTAINS(err.msg, "must not overlap");

  s[1].start_ms = 3000;
  s[1].end_ms = 2000; /* ends before it starts */
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "want 0 <= start < end");

  s[1].end_ms = 9000;
  s[1].start_ms = 8800; /* 200 ms: no room for the 400 ms transition */
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "shorter than 600 ms");

  s[1].start_ms = 3000;
  s[1].kind = AIN_MEDIA_SCENE_IMAGE; /* an image scene without its file */
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "scenes[1]");
  ASSERT_STR_CONTAINS(err.msg, "needs a file");

  s[1].path = "/nonexistent/x.jpg";
  ASSERT_OK(ain_media_scenes_validate(s, 2, &OPTS, &err));
  ASSERT_EQ(ain_media_scenes_check(s, 2, &err), AIN_ENOTFOUND);
  ASSERT_STR_EQ(err.field, "scenes[1].path");
  ASSERT_STR_CONTAINS(err.msg, "/nonexistent/x.jpg");

  s[1].kind = (ain_media_scene_kind_t)7;
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "unknown kind");

  s[1].kind = AIN_MEDIA_SCENE_MOTION;
  s[1].start_ms = 9500; /* after the end of the video */
  s[1].end_ms = 9900;
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &OPTS, &g, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "after the video ends");

  ain_media_scene_graph_opts_t o = OPTS;
  o.width = 361;
  s[1].start_ms = 3000;
  ASSERT_EQ(ain_media_scenes_graph(s, 2, &o, &g, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "size");

  /* the render refuses a bad scene list before starting ffmpeg */
  ain_media_render_opts_t ro = {.scenes = s, .n_scenes = 2, .audio_wav = "/a.wav",
                                .out_mp4 = tmp_path("never.mp4"), .duration_ms = 2000,
                                .width = 360, .height = 640};
  uv_loop_t loop;
  uv_loop_init(&loop);
  int done = 0;
  ASSERT_EQ(ain_media_render(&loop, &ro, on_done, &done, NULL, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "after the video ends");
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(done, 0);
  uv_loop_close(&loop);
}

/* The command line the render step keeps at log level debug is the one ain_media_render runs:
 * the scenes' chain stays YUV to the end (no full-frame conversion after the captions), the
 * background PNG is converted once with the BT.709 matrix; the output is the last argument. */
TEST(render_argv) {
  ain_media_scene_t s[2] = {
      {.start_ms = 0, .end_ms = 2000, .kind = AIN_MEDIA_SCENE_MOTION, .colours = {1, 2, 3}},
      {.start_ms = 2000, .end_ms = 4000, .kind = AIN_MEDIA_SCENE_MOTION, .seed = 5}};
  ain_media_render_opts_t ro = {.scenes = s, .n_scenes = 2, .audio_wav = "/a.wav",
                                .ass_path = "/c.ass", .out_mp4 = "/o.mp4", .duration_ms = 3700,
                                .width = 360, .height = 640};
  ain_err_t err = {0};
  char **argv = NULL;
  ASSERT_OK(ain_media_render_argv(&ro, "/x.mp4", &argv, &err));
  size_t n = 0;
  const char *graph = NULL;
  for (; argv[n] != NULL; n++) {
    if (n > 0 && strcmp(argv[n - 1], "-filter_complex") == 0) {
      graph = argv[n];
    }
  }
  ASSERT_STR_EQ(argv[0], "ffmpeg");
  ASSERT_STR_EQ(argv[n - 1], "/x.mp4");
  ASSERT_NOT_NULL(graph);
  ASSERT_STR_CONTAINS(graph, "[vs]null,subtitles=filename=/c.ass:fontsdir=");
  ASSERT_STR_CONTAINS(graph, ",format=yuv420p[v];[0:a]aresample=48000,apad[a]");
  ASSERT_NULL(strstr(strstr(graph, "[vs]null"), "scale="));
  ain_media_argv_free(argv);

  ro.scenes = NULL;
  ro.n_scenes = 0;
  ro.background_png = "/bg.png";
  ASSERT_OK(ain_media_render_argv(&ro, "/x.mp4", &argv, &err));
  for (n = 0; argv[n] != NULL; n++) {
    if (n > 0 && strcmp(argv[n - 1], "-filter_complex") == 0) {
      ASSERT_STR_CONTAINS(argv[n], ",scale=out_color_matrix=bt709:out_range=tv,format=yuv420p[v];"
                                   "[1:a]");
    }
  }
  ain_media_argv_free(argv);

  ro.duration_ms = 0;
  ASSERT_EQ(ain_media_render_argv(&ro, "/x.mp4", &argv, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "duration_ms");
  ASSERT_NULL(argv);
  ro.duration_ms = 3700;
  ASSERT_EQ(ain_media_render_argv(&ro, NULL, &argv, &err), AIN_EINVAL);
}

/* Colours survive the scenes' chain: a flat gradient of one colour, decoded with the BT.709
 * matrix the file is tagged with, comes back as that colour (converted with swscale's default
 * BT.601 and not corrected, this yellow comes back as 255,196,12: 8-9 levels off). */
TEST(render_colours_bt709) {
  char cmd[6000];
  snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -f lavfi -i anullsrc=r=48000:cl=mono -t 1.2 '%s'",
           tmp_path("quiet.wav"));
  ASSERT_OK(system(cmd));
  ain_media_scene_t s = {.start_ms = 0, .end_ms = 1200, .kind = AIN_MEDIA_SCENE_MOTION,
                         .colours = {0xfacc15, 0xfacc15, 0xfacc15}};
  uv_loop_t loop;
  uv_loop_init(&loop);
  int done = 0;
  ain_err_t err = {0};
  ain_media_render_opts_t ro = {.scenes = &s, .n_scenes = 1, .audio_wav = tmp_path("quiet.wav"),
                                .out_mp4 = tmp_path("yellow.mp4"), .duration_ms = 1200,
                                .tail_ms = -1, .width = 144, .height = 256, .fps = 25,
                                .preset = "ultrafast", .crf = 10, .timeout_ms = 50000};
  ASSERT_OK(ain_media_render(&loop, &ro, on_done, &done, NULL, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(done, 1);
  /* the bottom tenth of a frame at 1 s (the discs drift in the middle band) */
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v error -ss 1 -i '%s' -frames:v 1 -vf 'crop=144:24:0:228,"
           "scale=in_color_matrix=bt709:in_range=tv,format=rgb24' -f rawvideo - | od -An -tu1 -v",
           tmp_path("yellow.mp4"));
  char *px = run_capture(cmd);
  long sum[3] = {0, 0, 0}, n = 0;
  for (char *p = px; *p;) {
    int c[3], used;
    if (sscanf(p, "%d %d %d%n", &c[0], &c[1], &c[2], &used) != 3) {
      break;
    }
    p += used;
    for (int k = 0; k < 3; k++) {
      sum[k] += c[k];
    }
    n++;
  }
  free(px);
  ASSERT_GE(n, 144 * 24);
  const int want[3] = {0xfa, 0xcc, 0x15};
  for (int k = 0; k < 3; k++) {
    long got = sum[k] / n;
    if (labs(got - want[k]) > 5) {
      AIN__FAIL("channel %d: %ld, want %d +- 5", k, got, want[k]);
    }
  }
}

TEST(emoji_png) {
  ain_err_t err = {0};
  char out[4096], again[4096];
  ASSERT_EQ(ain_media_emoji_png_sync("", 64, ain_test_tmpdir(), out, sizeof out, &err),
            AIN_EINVAL);
  ASSERT_EQ(ain_media_emoji_png_sync("--help", 64, ain_test_tmpdir(), out, sizeof out, &err),
            AIN_EINVAL);
  ASSERT_EQ(ain_media_emoji_png_sync("\xf0\x9f\x9a\x80", 4, ain_test_tmpdir(), out, sizeof out,
                                     &err),
            AIN_EINVAL);
  ASSERT_OK(ain_media_emoji_png_sync("\xf0\x9f\x9a\x80", 96, ain_test_tmpdir(), out, sizeof out,
                                     &err));
  struct stat st;
  ASSERT_OK(stat(out, &st));
  /* A colour picture, not an empty box: many distinct colours, with transparency around it. */
  char cmd[5000];
  snprintf(cmd, sizeof cmd,
           "ffprobe -v error -select_streams v -show_entries stream=width,height,pix_fmt -of csv=p=0 '%s'",
           out);
  char *probe = run_capture(cmd);
  ASSERT_STR_CONTAINS(probe, "rgba");
  int w = 0, h = 0;
  ASSERT_EQ(sscanf(probe, "%d,%d", &w, &h), 2);
  ASSERT_GE(h, 80);
  free(probe);
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v error -i '%s' -vf format=rgb24,scale=16:16 -f rawvideo - | od -An -tu1 -v",
           out);
  char *px = run_capture(cmd);
  int red = 0;
  for (char *p = px; *p;) {
    int r, g, b, used;
    if (sscanf(p, "%d %d %d%n", &r, &g, &b, &used) != 3) {
      break;
    }
    p += used;
    red += r > 150 && g < 110 && b < 110; /* the rocket's red fins */
  }
  free(px);
  ASSERT_GE(red, 3);
  /* cached: the same path, the same file */
  ASSERT_OK(ain_media_emoji_png_sync("\xf0\x9f\x9a\x80", 96, ain_test_tmpdir(), again,
                                     sizeof again, &err));
  ASSERT_STR_EQ(out, again);
}

/* Three scenes in 4.6 s at 144x256: every change must show in ffmpeg's scene score, and no run of
 * identical frames may last 4 s. */
TEST(render_scenes_change) {
  ain_err_t err = {0};
  char cmd[6000];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x240:d=1 -frames:v 1 '%s' && "
           "ffmpeg -v error -y -f lavfi -i sine=f=330:d=4.3 -ar 48000 '%s'",
           tmp_path("still.png"), tmp_path("tone.wav"));
  ASSERT_OK(system(cmd));
  char emoji[4096];
  ASSERT_OK(ain_media_emoji_png_sync("\xf0\x9f\x92\xa1", 64, ain_test_tmpdir(), emoji,
                                     sizeof emoji, &err));
  ain_media_scene_t s[3] = {
      {.start_ms = 0, .end_ms = 1500, .kind = AIN_MEDIA_SCENE_MOTION, .picture = emoji,
       .colours = {0x0f172a, 0x1e3a8a, 0xfacc15}, .seed = 3},
      {.start_ms = 1500, .end_ms = 3000, .kind = AIN_MEDIA_SCENE_IMAGE,
       .path = tmp_path("still.png"), .seed = 1},
      {.start_ms = 3000, .end_ms = 4300, .kind = AIN_MEDIA_SCENE_MOTION,
       .colours = {0xfacc15, 0x0f172a, 0x1e3a8a}, .seed = 8}};
  ASSERT_OK(ain_media_scenes_check(s, 3, &err));
  uv_loop_t loop;
  uv_loop_init(&loop);
  int done = 0;
  ain_media_render_opts_t ro = {.scenes = s, .n_scenes = 3, .audio_wav = tmp_path("tone.wav"),
                                .out_mp4 = tmp_path("scenes.mp4"), .duration_ms = 4300,
                                .width = 144, .height = 256, .fps = 25, .preset = "ultrafast",
                                .timeout_ms = 50000};
  ASSERT_OK(ain_media_render(&loop, &ro, on_done, &done, NULL, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(done, 1);
  /* scene cuts: frames whose scene score passes 0.3 (xfade spreads a cut over 10 frames, so
   * count the transitions by the times of the high-score frames) */
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v error -i '%s' -vf \"select='gt(scene,0.08)',metadata=print:file=-\" -f null - "
           "| grep -o 'pts_time:[0-9.]*'",
           tmp_path("scenes.mp4"));
  char *cuts = run_capture(cmd);
  int near_1500 = 0, near_3000 = 0;
  for (char *p = strstr(cuts, "pts_time:"); p != NULL; p = strstr(p + 1, "pts_time:")) {
    double t = atof(p + 9);
    near_1500 += t > 1.3 && t < 2.1;
    near_3000 += t > 2.8 && t < 3.6;
  }
  free(cuts);
  ASSERT_GE(near_1500, 1);
  ASSERT_GE(near_3000, 1);
  /* stills: freezedetect reports any stretch of (near) identical frames longer than 1 s */
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v info -i '%s' -vf freezedetect=n=0.0005:d=1 -f null - 2>&1 | grep -c "
           "freeze_start || true",
           tmp_path("scenes.mp4"));
  char *freezes = run_capture(cmd);
  ASSERT_EQ(atoi(freezes), 0);
  free(freezes);
}

TEST_MAIN(TEST_ENTRY(graph_shape), TEST_ENTRY(graph_bad_inputs), TEST_ENTRY(render_argv),
          TEST_ENTRY(render_colours_bt709), TEST_ENTRY(emoji_png),
          TEST_ENTRY(render_scenes_change))
