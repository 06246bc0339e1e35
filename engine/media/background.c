/* Persona backgrounds: a vertical two-colour gradient drawn once by ffmpeg's lavfi `gradients`
 * source (one frame: the per-pixel source is the slow part of a render, so it must never run per
 * frame) and cached by sha256(style, size). A cache hit costs one async stat.
 * Relies on: media/ffrun.c, OpenSSL SHA-256, libuv fs. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

typedef struct {
  uv_fs_t stat_req;
  uv_loop_t *loop;
  char path[4096], tmp[4096];
  uint32_t top, bottom;
  int width, height;
  int64_t timeout_ms;
  ain_media_background_cb cb;
  void *data;
} bg_job_t;

static int bg_validate(const ain_media_background_opts_t *o, uint32_t *top, uint32_t *bottom,
                       ain_err_t *err) {
  if (o->width < 16 || o->height < 16 || o->width > 8192 || o->height > 8192) {
    return ain_err_field(err, AIN_EINVAL, "size", "background: size %dx%d out of 16..8192",
                         o->width, o->height);
  }
  if (o->cache_dir == NULL || o->cache_dir[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "cache_dir", "background: cache_dir is required");
  }
  int rc = ain_media_colour_parse(o->colour_top, top, err);
  if (rc == 0) {
    rc = ain_media_colour_parse(o->colour_bottom, bottom, err);
  }
  if (rc != 0) {
    ain_err_prefix(err, "background");
  }
  return rc;
}

int ain_media_background_path(const ain_media_background_opts_t *o, char *out, size_t cap,
                              ain_err_t *err) {
  uint32_t top, bottom;
  int rc = bg_validate(o, &top, &bottom, err);
  if (rc != 0) {
    return rc;
  }
  /* v1 names the drawing recipe: change it when the drawing changes, so old PNGs are not reused. */
  char key[128];
  int kn = snprintf(key, sizeof key, "v1|gradient|%06x|%06x|%dx%d", top, bottom, o->width,
                    o->height);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)key, (size_t)kn, md);
  char hex[17];
  for (int i = 0; i < 8; i++) {
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  }
  int n = snprintf(out, cap, "%s/bg-%s-%dx%d.png", o->cache_dir, hex, o->width, o->height);
  if (n < 0 || (size_t)n >= cap) {
    return ain_err_field(err, AIN_ETOOBIG, "cache_dir", "background: cache_dir too long");
  }
  return 0;
}

static void bg_finish(bg_job_t *j, int status, int cached, const ain_err_t *err) {
  j->cb(status, status == 0 ? j->path : NULL, cached, status ? err : NULL, j->data);
  free(j);
}

static void on_drawn(int status, const char *out, const char *errtext, ain_err_t *err,
                     void *data) {
  bg_finish(data, status, 0, err);
}

static void on_stat(uv_fs_t *req) {
  bg_job_t *j = req->data;
  int64_t result = req->result;
  uv_fs_req_cleanup(req);
  if (result == 0) {
    bg_finish(j, 0, 1, NULL);
    return;
  }
  ain_err_t err = {0};
  ain__argv_t a = {0};
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-f");
  ain__argv_push(&a, "lavfi");
  ain__argv_push(&a, "-i");
  /* Fixed endpoints and seed: the same style always draws the same picture. */
  ain__argv_pushf(&a, "gradients=s=%dx%d:c0=0x%06x:c1=0x%06x:x0=0:y0=0:x1=0:y1=%d:n=2:seed=1",
                  j->width, j->height, j->top, j->bottom, j->height - 1);
  static const char *const tail[] = {"-frames:v", "1", "-c:v", "png", "-f", "image2",
                                     "-update", "1"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(&a, tail[i]);
  }
  ain__argv_push(&a, j->tmp);
  ain__ffrun_opts_t fo = {.what = "background", .argv = a.v, .timeout_ms = j->timeout_ms,
                          .tmp_path = j->tmp, .final_path = j->path};
  int rc = ain__ffrun(j->loop, &fo, on_drawn, j, NULL, &err);
  ain__argv_free(&a);
  if (rc != 0) {
    bg_finish(j, rc, 0, &err);
  }
}

int ain_media_background(uv_loop_t *loop, const ain_media_background_opts_t *o,
                         ain_media_background_cb cb, void *data, ain_err_t *err) {
  if (o == NULL || cb == NULL) {
    return ain_err_set(err, AIN_EINVAL, "background: options and a callback are required");
  }
  bg_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "background: no memory");
  }
  int rc = bg_validate(o, &j->top, &j->bottom, err);
  if (rc == 0) {
    rc = ain_media_background_path(o, j->path, sizeof j->path, err);
  }
  if (rc == 0 && ain__media_temp_path(j->path, ".png", j->tmp, sizeof j->tmp) != 0) {
    rc = ain_err_field(err, AIN_ETOOBIG, "cache_dir", "background: cache_dir too long");
  }
  if (rc != 0) {
    free(j);
    return rc;
  }
  j->loop = loop;
  j->width = o->width;
  j->height = o->height;
  j->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
  j->cb = cb;
  j->data = data;
  j->stat_req.data = j;
  rc = uv_fs_stat(loop, &j->stat_req, j->path, on_stat);
  if (rc < 0) {
    free(j);
    return ain_err_set(err, AIN_EIO, "background: stat: %s", uv_strerror(rc));
  }
  return 0;
}
