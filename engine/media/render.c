/* The render: ONE ffmpeg pass from the scenes (media/scenes.c: generated motion, stills with Ken
 * Burns, clips, pictures, xfade transitions) or a cached background, + speech + ASS captions to a
 * vertical H.264 MP4. A background PNG is looped at the output rate, libass burns the
 * captions, the speech is padded with silence to the video length and resampled to 48 kHz AAC,
 * libx264 writes yuv420p (BT.709 matrix, tagged BT.709) at a constant rate and +faststart moves
 * moov to the front for streaming.
 * -progress pipe:1 is parsed into percent of the known duration.
 * Relies on: media/ffrun.c (child, timeout, SIGTERM->SIGKILL, atomic rename). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

struct ain_media_job {
  ain__ffrun_t *run;
  int64_t total_us;
  double last_pct;
  ain_media_progress_cb on_progress;
  ain_media_done_cb cb;
  void *data;
};

static void on_progress_line(void *data, const char *line, size_t len) {
  ain_media_job_t *j = data;
  int64_t us = 0;
  if (j->on_progress == NULL || ain_media_progress_line(line, len, &us) != 1) {
    return;
  }
  /* 100 is kept for success (after the rename), so callers can treat it as "done". */
  double pct = (double)us * 100.0 / (double)j->total_us;
  if (pct > 99.0) {
    pct = 99.0;
  }
  if (pct > j->last_pct) {
    j->last_pct = pct;
    j->on_progress(pct, j->data);
  }
}

static void on_rendered(int status, const char *out, const char *errtext, ain_err_t *err,
                        void *data) {
  ain_media_job_t *j = data;
  if (status == 0 && j->on_progress != NULL) {
    j->on_progress(100.0, j->data);
  }
  j->cb(status, status ? err : NULL, j->data);
  free(j);
}

static int render_args(const ain_media_render_opts_t *o, const char *tmp, ain__argv_t *a,
                       ain_err_t *err) {
  int w = o->width ? o->width : 1080, h = o->height ? o->height : 1920;
  int fps = o->fps ? o->fps : 30, crf = o->crf ? o->crf : 23;
  int64_t tail = o->tail_ms == 0 ? 300 : o->tail_ms < 0 ? 0 : o->tail_ms;
  int64_t total_ms = o->duration_ms + tail;
  const char *preset = o->preset ? o->preset : "veryfast";
  if (w < 16 || h < 16 || w > 8192 || h > 8192 || (w | h) & 1) {
    return ain_err_field(err, AIN_EINVAL, "size", "render: size %dx%d must be even, 16..8192", w,
                         h);
  }
  if (fps < 1 || fps > 120 || crf < 0 || crf > 51) {
    return ain_err_field(err, AIN_EINVAL, "fps", "render: fps %d (1..120) or crf %d (0..51)", fps,
                         crf);
  }
  if (strspn(preset, "abcdefghijklmnopqrstuvwxyz") != strlen(preset)) {
    return ain_err_field(err, AIN_EINVAL, "preset", "render: bad preset \"%.32s\"", preset);
  }
  /* The video chain: the scenes' graph (engine/media/scenes.c, inputs from 1 on), or the
   * looped background. Then, in both cases, the captions and the output format. */
  ain_media_scene_graph_t sg = {0};
  const char *src = "[0:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1";
  if (o->n_scenes > 0) {
    ain_media_scene_graph_opts_t go = {.width = w, .height = h, .fps = fps, .total_ms = total_ms,
                                       .first_input = 1, .out_label = "vs",
                                       .picture_y = o->picture_y};
    int rc = ain_media_scenes_graph(o->scenes, o->n_scenes, &go, &sg, err);
    if (rc != 0) {
      ain_media_scene_graph_free(&sg);
      return rc;
    }
  }
  size_t cap = (sg.graph ? strlen(sg.graph) : 0) + 9000;
  char *vf = malloc(cap);
  if (vf == NULL) {
    ain_media_scene_graph_free(&sg);
    return ain_err_set(err, AIN_ENOMEM, "render: no memory");
  }
  int n = sg.graph ? snprintf(vf, cap, "%s;[vs]null", sg.graph)
                   : snprintf(vf, cap, src, w, h, w, h);
  if (o->ass_path != NULL) {
    char ass[4096], fonts[4096];
    if (ain_media_filter_escape(o->ass_path, ass, sizeof ass) < 0 ||
        ain_media_filter_escape(o->fonts_dir ? o->fonts_dir : AIN__MEDIA_FONTS_DIR, fonts,
                                sizeof fonts) < 0) {
      free(vf);
      ain_media_scene_graph_free(&sg);
      return ain_err_field(err, AIN_ETOOBIG, "ass_path", "render: path too long");
    }
    n += snprintf(vf + n, cap - (size_t)n, ",subtitles=filename=%s:fontsdir=%s", ass, fonts);
  }
  /* The background PNG: RGB -> YUV with the BT.709 matrix in limited range, the colours the
   * output is tagged with below (swscale's default would be BT.601, and players would shift
   * every colour). The scenes' chain is YUV 4:2:0 BT.709 already (media/scenes.c converts each
   * source once, small): converting every full frame again here cost a quarter of the render.
   * The audio is input 0 with scenes (their inputs follow it), input 1 after the background. */
  snprintf(vf + n, cap - (size_t)n,
           "%s,format=yuv420p[v];[%d:a]aresample=48000,apad[a]",
           sg.graph ? "" : ",scale=out_color_matrix=bt709:out_range=tv", sg.graph ? 0 : 1);
  ain__argv_ffmpeg(a);
  ain__argv_push(a, "-nostats");
  ain__argv_push(a, "-progress");
  ain__argv_push(a, "pipe:1");
  if (sg.graph != NULL) {
    ain__argv_push(a, "-i");
    ain__argv_push(a, o->audio_wav);
    for (size_t i = 0; i < sg.argc; i++) {
      ain__argv_push(a, sg.argv[i]);
    }
  } else {
    ain__argv_push(a, "-loop");
    ain__argv_push(a, "1");
    ain__argv_push(a, "-framerate");
    ain__argv_pushf(a, "%d", fps);
    ain__argv_push(a, "-i");
    ain__argv_push(a, o->background_png);
    ain__argv_push(a, "-i");
    ain__argv_push(a, o->audio_wav);
  }
  ain_media_scene_graph_free(&sg);
  ain__argv_push(a, "-filter_complex");
  ain__argv_push(a, vf);
  free(vf);
  ain__argv_push(a, "-map");
  ain__argv_push(a, "[v]");
  ain__argv_push(a, "-map");
  ain__argv_push(a, "[a]");
  ain__argv_push(a, "-t");
  ain__argv_pushf(a, "%.3f", (double)total_ms / 1000.0);
  ain__argv_push(a, "-r");
  ain__argv_pushf(a, "%d", fps);
  ain__argv_push(a, "-fps_mode");
  ain__argv_push(a, "cfr");
  ain__argv_push(a, "-c:v");
  ain__argv_push(a, "libx264");
  ain__argv_push(a, "-preset");
  ain__argv_push(a, preset);
  ain__argv_push(a, "-crf");
  ain__argv_pushf(a, "%d", crf);
  ain__argv_push(a, "-pix_fmt");
  ain__argv_push(a, "yuv420p");
  /* Tagged BT.709 (HD video): without tags players guess, and phones guess BT.601. */
  static const char *const colour_args[] = {"-colorspace", "bt709", "-color_primaries", "bt709",
                                            "-color_trc",  "bt709", "-color_range",     "tv"};
  for (size_t i = 0; i < sizeof colour_args / sizeof colour_args[0]; i++) {
    ain__argv_push(a, colour_args[i]);
  }
  static const char *const tail_args[] = {"-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                                          "-ac", "2", "-movflags", "+faststart", "-f", "mp4"};
  for (size_t i = 0; i < sizeof tail_args / sizeof tail_args[0]; i++) {
    ain__argv_push(a, tail_args[i]);
  }
  ain__argv_push(a, tmp);
  return 0;
}

static int render_check(const ain_media_render_opts_t *o, ain_err_t *err) {
  if (o == NULL || (o->background_png == NULL && o->n_scenes == 0) || o->audio_wav == NULL ||
      o->out_mp4 == NULL) {
    return ain_err_set(err, AIN_EINVAL,
                       "render: scenes or background_png, audio_wav, out_mp4 and a callback are "
                       "required");
  }
  if (o->duration_ms <= 0 || o->duration_ms > 3600 * 1000) {
    return ain_err_field(err, AIN_EINVAL, "duration_ms", "render: duration %lld ms out of range",
                         (long long)o->duration_ms);
  }
  return 0;
}

int ain_media_render_argv(const ain_media_render_opts_t *o, const char *out_path, char ***argv,
                          ain_err_t *err) {
  if (argv == NULL || out_path == NULL) {
    return ain_err_set(err, AIN_EINVAL, "render: argv and out_path are required");
  }
  *argv = NULL;
  int rc = render_check(o, err);
  if (rc != 0) {
    return rc;
  }
  ain__argv_t a = {0};
  rc = render_args(o, out_path, &a, err);
  if (rc != 0) {
    ain__argv_free(&a);
    return rc;
  }
  *argv = a.v;
  return 0;
}

int ain_media_render(uv_loop_t *loop, const ain_media_render_opts_t *o, ain_media_done_cb cb,
                     void *data, ain_media_job_t **job, ain_err_t *err) {
  int rc0 = cb == NULL ? ain_err_set(err, AIN_EINVAL, "render: a callback is required")
                       : render_check(o, err);
  if (rc0 != 0) {
    return rc0;
  }
  char tmp[4096];
  if (ain__media_temp_path(o->out_mp4, ".mp4", tmp, sizeof tmp) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "out_mp4", "render: path too long");
  }
  ain__argv_t a = {0};
  int rc = render_args(o, tmp, &a, err);
  if (rc != 0) {
    ain__argv_free(&a);
    return rc;
  }
  ain_media_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ain__argv_free(&a);
    return ain_err_set(err, AIN_ENOMEM, "render: no memory");
  }
  int64_t tail = o->tail_ms == 0 ? 300 : o->tail_ms < 0 ? 0 : o->tail_ms;
  j->total_us = (o->duration_ms + tail) * 1000;
  j->on_progress = o->on_progress;
  j->cb = cb;
  j->data = data;
  ain__ffrun_opts_t fo = {.what = "render",
                          .argv = a.v,
                          .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 300000,
                          .tmp_path = tmp,
                          .final_path = o->out_mp4,
                          .on_stdout_line = on_progress_line};
  rc = ain__ffrun(loop, &fo, on_rendered, j, &j->run, err);
  ain__argv_free(&a);
  if (rc != 0) {
    free(j);
    return rc;
  }
  if (job != NULL) {
    *job = j;
  }
  return 0;
}

void ain_media_job_cancel(ain_media_job_t *job) {
  if (job != NULL && job->run != NULL) {
    ain__ffrun_cancel(job->run);
  }
}
