/* Thumbnails: one JPEG frame at a given time, scaled to a width (height keeps the aspect ratio,
 * rounded to even), written to a temp name and renamed. Seeking before -i is the fast, keyframe-
 * then-decode seek.
 * Relies on: media/ffrun.c. */
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

int ain_media_thumbnail(uv_loop_t *loop, const ain_media_thumbnail_opts_t *o,
                        ain_media_done_cb cb, void *data, ain_err_t *err) {
  if (o == NULL || cb == NULL || o->mp4 == NULL || o->out_jpg == NULL) {
    return ain_err_set(err, AIN_EINVAL, "thumbnail: mp4, out_jpg and a callback are required");
  }
  int width = o->width ? o->width : 540;
  if (width < 16 || width > 8192 || o->at_ms < 0) {
    return ain_err_field(err, AIN_EINVAL, "width", "thumbnail: width %d or at_ms %lld out of range",
                         width, (long long)o->at_ms);
  }
  char tmp[4096];
  if (ain__media_temp_path(o->out_jpg, ".jpg", tmp, sizeof tmp) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "out_jpg", "thumbnail: path too long");
  }
  thumb_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "thumbnail: no memory");
  }
  j->cb = cb;
  j->data = data;
  ain__argv_t a = {0};
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-ss");
  ain__argv_pushf(&a, "%.3f", (double)o->at_ms / 1000.0);
  ain__argv_push(&a, "-i");
  ain__argv_push(&a, o->mp4);
  ain__argv_push(&a, "-frames:v");
  ain__argv_push(&a, "1");
  ain__argv_push(&a, "-vf");
  ain__argv_pushf(&a, "scale=%d:-2", width);
  static const char *const tail[] = {"-q:v", "3", "-c:v", "mjpeg", "-f", "image2", "-update", "1"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(&a, tail[i]);
  }
  ain__argv_push(&a, tmp);
  ain__ffrun_opts_t fo = {.what = "ffmpeg",
                          .argv = a.v,
                          .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000,
                          .tmp_path = tmp,
                          .final_path = o->out_jpg};
  int rc = ain__ffrun(loop, &fo, on_thumb, j, NULL, err);
  ain__argv_free(&a);
  if (rc != 0) {
    free(j);
  }
  return rc;
}
