/* Thumbnails: one JPEG frame, written to a temp name and renamed. Two sources:
 *  - a scene (media/scenes.c): that scene's own picture drawn again for one frame, WITHOUT the
 *    captions the video burns in, at the full output size (1080x1920 for the platforms), with the
 *    title set large over it (each line centred, a translucent box behind, inside the safe
 *    area's middle band) - what a feed shows before anyone presses play;
 *  - a video: the frame at at_ms, scaled to a width (seeking before -i is the fast, keyframe-
 *    then-decode seek).
 * Relies on: media/ffrun.c, media/scenes.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

typedef struct {
  ain_media_done_cb cb;
  void *data;
} thumb_job_t;

static void on_thumb(int status, const char *out, const char *errtext, ain_err_t *err,
                     void *data) {
  thumb_job_t *j = data;
  if (status != 0) {
    ain_err_prefix(err, "thumbnail");
  }
  j->cb(status, status ? err : NULL, j->data);
  free(j);
}

/* Breaks title into at most max_lines lines of at most per_line characters (UTF-8 code points),
 * at spaces; a word longer than a line gets a line of its own. Returns the line count, or 0 when
 * the title needs more lines. lines[i] point into out (each NUL-terminated). */
static int wrap(const char *title, int per_line, int max_lines, char *out, size_t cap,
                char *lines[]) {
  char words[1024];
  snprintf(words, sizeof words, "%s", title);
  size_t used = 0;
  int n = 0, len = 0;
  char *save = NULL;
  for (char *w = strtok_r(words, " \t\r\n", &save); w != NULL;
       w = strtok_r(NULL, " \t\r\n", &save)) {
    int wl = 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
      wl += (*p & 0xc0) != 0x80;
    }
    size_t bl = strlen(w);
    if (used + bl + 2 > cap) {
      return 0;
    }
    if (n > 0 && len + 1 + wl <= per_line) {
      out[used - 1] = ' '; /* the current line's NUL becomes the space before this word */
      len += 1 + wl;
    } else {
      if (n == max_lines) {
        return 0;
      }
      lines[n++] = out + used;
      len = wl;
    }
    memcpy(out + used, w, bl);
    used += bl;
    out[used++] = '\0';
  }
  return n;
}

/* The drawtext lines of the title, appended to vf. Font size starts at width / 9 (120 px at
 * 1080) and shrinks until the title fits 4 lines of the box's width; DejaVu Sans Bold averages
 * ~0.6 em per character, the box is 84 % of the width. */
static int title_filters(const ain_media_thumbnail_opts_t *o, int w, int h, char *vf, size_t cap,
                         size_t *n, ain_err_t *err) {
  char buf[1100], *lines[64], last[400];
  int fs = w / 9, count = 0, per_line = 1;
  for (; fs > w / 30; fs = fs * 9 / 10) {
    per_line = (int)((double)w * 0.84 / (0.6 * fs));
    if ((count = wrap(o->title, per_line, 4, buf, sizeof buf, lines)) > 0) {
      break;
    }
  }
  if (count == 0) {
    /* Still too long at the smallest size: four lines, the last one ending in an ellipsis, so
     * the cut is visible (never words silently lost). */
    count = wrap(o->title, per_line, 64, buf, sizeof buf, lines);
    if (count == 0) {
      return ain_err_field(err, AIN_EINVAL, "title", "thumbnail: title too long to set");
    }
    if (count > 4) {
      count = 4;
      snprintf(last, sizeof last, "%s\xe2\x80\xa6", lines[3]);
      lines[3] = last;
    }
  }
  char font[4096];
  if (ain_media_filter_escape(o->font_file ? o->font_file : AIN__MEDIA_FONTS_DIR "/DejaVuSans-Bold.ttf",
                              font, sizeof font) < 0) {
    return ain_err_field(err, AIN_ETOOBIG, "font_file", "thumbnail: font path too long");
  }
  uint32_t rgb = 0xffffff;
  if (o->title_colour != NULL && ain_media_colour_parse(o->title_colour, &rgb, err) != 0) {
    ain_err_prefix(err, "thumbnail: title_colour");
    return AIN_EINVAL;
  }
  int lh = fs * 5 / 4;
  /* The block is centred on 40 % of the height: below the top UI band, above the bottom one. */
  int y0 = h * 2 / 5 - count * lh / 2;
  for (int i = 0; i < count; i++) {
    char text[2048];
    if (ain_media_filter_escape(lines[i], text, sizeof text) < 0) {
      return ain_err_field(err, AIN_ETOOBIG, "title", "thumbnail: title too long");
    }
    int k = snprintf(vf + *n, cap - *n,
                     ",drawtext=fontfile=%s:text=%s:fontsize=%d:fontcolor=0x%06x:borderw=%d:"
                     "bordercolor=black@0.85:box=1:boxcolor=black@0.35:boxborderw=%d:"
                     "x=(w-text_w)/2:y=%d",
                     font, text, fs, rgb, fs / 14 + 1, fs / 6, y0 + i * lh);
    if (k < 0 || (size_t)k >= cap - *n) {
      return ain_err_field(err, AIN_ETOOBIG, "title", "thumbnail: title too long");
    }
    *n += (size_t)k;
  }
  return 0;
}

static int thumb_args(const ain_media_thumbnail_opts_t *o, const char *tmp, ain__argv_t *a,
                      ain_err_t *err) {
  int width = o->width ? o->width : 540;
  if (width < 16 || width > 8192 || o->at_ms < 0 || o->height < 0 || o->height > 8192 ||
      (o->scene != NULL && (o->height < 16 || (width | o->height) & 1))) {
    return ain_err_field(err, AIN_EINVAL, "width",
                         "thumbnail: width %d, height %d or at_ms %lld out of range", width,
                         o->height, (long long)o->at_ms);
  }
  size_t cap = 16384, n = 0;
  char *vf = malloc(cap);
  ain_media_scene_graph_t g = {0};
  int rc = 0;
  if (vf == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "thumbnail: no memory");
  }
  ain__argv_ffmpeg(a);
  if (o->scene != NULL) {
    /* The scene alone, from 0 to just past the frame wanted: its picture has animated in. */
    ain_media_scene_t s = *o->scene;
    s.start_ms = 0;
    s.end_ms = o->at_ms + 600;
    ain_media_scene_graph_opts_t go = {.width = width, .height = o->height, .fps = 10,
                                       .total_ms = s.end_ms, .first_input = 0, .out_label = "sc"};
    if ((rc = ain_media_scenes_graph(&s, 1, &go, &g, err)) != 0) {
      goto done;
    }
    for (size_t i = 0; i < g.argc; i++) {
      ain__argv_push(a, g.argv[i]);
    }
    int k = snprintf(vf, cap, "%s;[sc]trim=start=%.3f,setpts=PTS-STARTPTS", g.graph,
                     (double)o->at_ms / 1000.0);
    if (k < 0 || (size_t)k >= cap) {
      rc = ain_err_set(err, AIN_ETOOBIG, "thumbnail: graph too long");
      goto done;
    }
    n = (size_t)k;
  } else {
    ain__argv_push(a, "-ss");
    ain__argv_pushf(a, "%.3f", (double)o->at_ms / 1000.0);
    ain__argv_push(a, "-i");
    ain__argv_push(a, o->mp4);
    n = (size_t)snprintf(vf, cap, "[0:v]scale=%d:%d", width, o->height ? o->height : -2);
  }
  if (o->title != NULL && o->title[0] != '\0' &&
      (rc = title_filters(o, width, o->scene ? o->height : o->height ? o->height : width * 16 / 9,
                          vf, cap, &n, err)) != 0) {
    goto done;
  }
  snprintf(vf + n, cap - n, ",format=yuvj420p[t]");
  ain__argv_push(a, "-filter_complex");
  ain__argv_push(a, vf);
  ain__argv_push(a, "-map");
  ain__argv_push(a, "[t]");
  ain__argv_push(a, "-frames:v");
  ain__argv_push(a, "1");
  static const char *const tail[] = {"-q:v", "3", "-c:v", "mjpeg", "-f", "image2", "-update", "1"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(a, tail[i]);
  }
  ain__argv_push(a, tmp);
done:
  ain_media_scene_graph_free(&g);
  free(vf);
  return rc;
}

int ain_media_thumbnail(uv_loop_t *loop, const ain_media_thumbnail_opts_t *o,
                        ain_media_done_cb cb, void *data, ain_err_t *err) {
  if (o == NULL || cb == NULL || (o->mp4 == NULL && o->scene == NULL) || o->out_jpg == NULL) {
    return ain_err_set(err, AIN_EINVAL,
                       "thumbnail: mp4 or a scene, out_jpg and a callback are required");
  }
  char tmp[4096];
  if (ain__media_temp_path(o->out_jpg, ".jpg", tmp, sizeof tmp) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "out_jpg", "thumbnail: path too long");
  }
  ain__argv_t a = {0};
  int rc = thumb_args(o, tmp, &a, err);
  if (rc != 0) {
    ain__argv_free(&a);
    return rc;
  }
  thumb_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ain__argv_free(&a);
    return ain_err_set(err, AIN_ENOMEM, "thumbnail: no memory");
  }
  j->cb = cb;
  j->data = data;
  ain__ffrun_opts_t fo = {.what = "ffmpeg",
                          .argv = a.v,
                          .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000,
                          .tmp_path = tmp,
                          .final_path = o->out_jpg};
  rc = ain__ffrun(loop, &fo, on_thumb, j, NULL, err);
  ain__argv_free(&a);
  if (rc != 0) {
    free(j);
  }
  return rc;
}
