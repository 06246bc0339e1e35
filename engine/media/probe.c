/* Probe and gate: ffprobe's JSON gives codecs, pixel format, size, frame rates, sample rate and
 * duration; faststart is read from the file's own top-level MP4 boxes (moov before mdat), on the
 * thread pool. The gate compares a probe with a channel profile and names the first failed check,
 * so a bad render never reaches the judge.
 * Relies on: media/ffrun.c, cJSON, libuv (uv_queue_work), stdio for the box walk. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "media/internal.h"

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int jint(const cJSON *o, const char *key) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  if (cJSON_IsNumber(it)) {
    return it->valueint;
  }
  return cJSON_IsString(it) ? atoi(it->valuestring) : 0;
}

static void parse_rate(const char *s, int *num, int *den) {
  *num = 0;
  *den = 1;
  if (s != NULL && sscanf(s, "%d/%d", num, den) != 2) {
    *num = 0;
    *den = 1;
  }
  if (*den == 0) { /* "0/0" is ffprobe's "unknown" */
    *num = 0;
    *den = 1;
  }
}

static void copy_str(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

int ain_media_probe_parse_json(const char *json, ain_media_probe_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  if (root == NULL) {
    return ain_err_set(err, AIN_EMEDIA, "probe: ffprobe output is not JSON");
  }
  const cJSON *streams = cJSON_GetObjectItemCaseSensitive(root, "streams");
  const cJSON *s;
  int have_v = 0, have_a = 0;
  cJSON_ArrayForEach(s, streams) {
    const char *type = jstr(s, "codec_type");
    if (type && strcmp(type, "video") == 0 && !have_v) {
      have_v = 1;
      copy_str(out->vcodec, sizeof out->vcodec, jstr(s, "codec_name"));
      copy_str(out->pix_fmt, sizeof out->pix_fmt, jstr(s, "pix_fmt"));
      out->width = jint(s, "width");
      out->height = jint(s, "height");
      int an, ad;
      parse_rate(jstr(s, "r_frame_rate"), &out->fps_num, &out->fps_den);
      parse_rate(jstr(s, "avg_frame_rate"), &an, &ad);
      /* Equal ratios: the container's average rate is the stream's base rate, i.e. no frame was
       * dropped or stretched. */
      out->cfr = out->fps_num > 0 && (int64_t)an * out->fps_den == (int64_t)out->fps_num * ad;
    } else if (type && strcmp(type, "audio") == 0 && !have_a) {
      have_a = 1;
      copy_str(out->acodec, sizeof out->acodec, jstr(s, "codec_name"));
      out->sample_rate = jint(s, "sample_rate");
    }
  }
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
  const char *d = jstr(fmt, "duration"), *size = jstr(fmt, "size");
  out->duration_ms = d ? (int64_t)(strtod(d, NULL) * 1000.0 + 0.5) : 0;
  out->size_bytes = size ? strtoll(size, NULL, 10) : 0;
  cJSON_Delete(root);
  if (!have_v && !have_a) {
    return ain_err_set(err, AIN_EMEDIA, "probe: no audio or video stream");
  }
  return 0;
}

static uint64_t be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) {
    v = v << 8 | p[i];
  }
  return v;
}

int ain_media_mp4_faststart(const char *path, ain_err_t *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return ain_err_field(err, AIN_EIO, "path", "probe: %s: %s", path, strerror(errno));
  }
  int rc = ain_err_set(err, AIN_EMEDIA, "probe: %s: no moov or mdat box", path);
  unsigned char h[16];
  uint64_t pos = 0;
  for (int boxes = 0; boxes < 1024; boxes++) { /* a real MP4 has a handful of top-level boxes */
    if (fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8) {
      break;
    }
    uint64_t size = be(h, 4);
    if (size == 1) { /* 64-bit largesize follows the type */
      if (fread(h + 8, 1, 8, f) != 8) {
        break;
      }
      size = be(h + 8, 8);
    } else if (size == 0) { /* extends to the end of the file */
      size = UINT64_MAX - pos;
    }
    if (memcmp(h + 4, "moov", 4) == 0) {
      rc = 1;
      break;
    }
    if (memcmp(h + 4, "mdat", 4) == 0) {
      rc = 0;
      break;
    }
    if (size < 8) {
      rc = ain_err_set(err, AIN_EMEDIA, "probe: %s: bad box size at %llu", path,
                       (unsigned long long)pos);
      break;
    }
    pos += size;
  }
  if (rc >= 0 && err != NULL) {
    ain_err_clear(err);
  }
  fclose(f);
  return rc;
}

typedef struct {
  uv_work_t work;
  uv_loop_t *loop;
  char *path;
  ain_media_probe_t probe;
  int status;
  ain_err_t err;
  ain_media_probe_cb cb;
  void *data;
} probe_job_t;

static void probe_finish(probe_job_t *j) {
  j->cb(j->status, j->status == 0 ? &j->probe : NULL, j->status ? &j->err : NULL, j->data);
  free(j->path);
  free(j);
}

static void boxes_work(uv_work_t *w) {
  probe_job_t *j = w->data;
  struct stat st;
  if (stat(j->path, &st) == 0) {
    j->probe.size_bytes = (int64_t)st.st_size;
  }
  /* ffprobe already read the file, so a box walk that finds no moov/mdat means "not an MP4"
   * (a JPEG, a WAV): not faststart, which the gate rejects, but not a probe failure either. */
  ain_err_t ignored = {0};
  int fs = ain_media_mp4_faststart(j->path, &ignored);
  if (fs == AIN_EIO) {
    j->status = ain_err_field(&j->err, AIN_EIO, "path", "%s", ignored.msg);
  } else {
    j->probe.faststart = fs == 1;
  }
}

static void boxes_after(uv_work_t *w, int status) {
  probe_job_t *j = w->data;
  if (status == UV_ECANCELED && j->status == 0) {
    j->status = ain_err_set(&j->err, AIN_ECANCELLED, "probe: cancelled");
  }
  probe_finish(j);
}

static void on_ffprobe(int status, const char *out, const char *errtext, ain_err_t *err,
                       void *data) {
  probe_job_t *j = data;
  if (status == 0) {
    status = ain_media_probe_parse_json(out, &j->probe, &j->err);
  } else {
    j->err = *err;
  }
  j->status = status;
  if (status == 0) {
    j->work.data = j;
    int rc = uv_queue_work(j->loop, &j->work, boxes_work, boxes_after);
    if (rc == 0) {
      return;
    }
    j->status = ain_err_set(&j->err, AIN_EIO, "probe: uv_queue_work: %s", uv_strerror(rc));
  }
  probe_finish(j);
}

int ain_media_probe(uv_loop_t *loop, const char *path, ain_media_probe_cb cb, void *data,
                    ain_err_t *err) {
  if (path == NULL || path[0] == '\0' || cb == NULL) {
    return ain_err_set(err, AIN_EINVAL, "probe: a path and a callback are required");
  }
  probe_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "probe: no memory");
  }
  j->loop = loop;
  j->path = ain_strdup(path);
  j->cb = cb;
  j->data = data;
  /* ffprobe has no "--": a path starting with '-' goes through the file: protocol instead. */
  char prefixed[4200];
  snprintf(prefixed, sizeof prefixed, "file:%s", path);
  char *argv[] = {AIN__MEDIA_FFPROBE, "-v", "error", "-print_format", "json", "-show_streams",
                  "-show_format", path[0] == '-' ? prefixed : j->path, NULL};
  ain__ffrun_opts_t fo = {.what = "probe", .argv = argv, .timeout_ms = 30000, .keep_stdout = 1};
  int rc = ain__ffrun(loop, &fo, on_ffprobe, j, NULL, err);
  if (rc != 0) {
    free(j->path);
    free(j);
  }
  return rc;
}

/* Checks in the order a human would read them; the first failure is reported. */
int ain_media_gate(const ain_media_probe_t *p, const ain_media_channel_t *ch, ain_err_t *err) {
  if (strcmp(p->vcodec, "h264") != 0) {
    return ain_err_field(err, AIN_EMEDIA, "vcodec", "vcodec: %s, want h264",
                         p->vcodec[0] ? p->vcodec : "none");
  }
  if (strcmp(p->pix_fmt, "yuv420p") != 0) {
    return ain_err_field(err, AIN_EMEDIA, "pix_fmt", "pix_fmt: %s, want yuv420p", p->pix_fmt);
  }
  if (p->width != ch->width || p->height != ch->height) {
    return ain_err_field(err, AIN_EMEDIA, "size", "size: %dx%d, want %dx%d", p->width, p->height,
                         ch->width, ch->height);
  }
  if ((int64_t)p->fps_num * ch->fps_den != (int64_t)ch->fps_num * p->fps_den) {
    return ain_err_field(err, AIN_EMEDIA, "fps", "fps: %d/%d, want %d/%d", p->fps_num, p->fps_den,
                         ch->fps_num, ch->fps_den);
  }
  if (!p->cfr) {
    return ain_err_field(err, AIN_EMEDIA, "cfr", "cfr: variable frame rate, want constant");
  }
  if (strcmp(p->acodec, "aac") != 0) {
    return ain_err_field(err, AIN_EMEDIA, "acodec", "acodec: %s, want aac",
                         p->acodec[0] ? p->acodec : "none");
  }
  if (p->sample_rate != ch->sample_rate) {
    return ain_err_field(err, AIN_EMEDIA, "sample_rate", "sample_rate: %d, want %d",
                         p->sample_rate, ch->sample_rate);
  }
  if (!p->faststart) {
    return ain_err_field(err, AIN_EMEDIA, "faststart",
                         "faststart: moov after mdat, want +faststart");
  }
  if (p->duration_ms <= 0) {
    return ain_err_field(err, AIN_EMEDIA, "duration", "duration: %lld ms, want > 0",
                         (long long)p->duration_ms);
  }
  if (ch->max_duration_ms > 0 && p->duration_ms > ch->max_duration_ms) {
    return ain_err_field(err, AIN_EMEDIA, "duration", "duration: %lld ms, want <= %lld ms",
                         (long long)p->duration_ms, (long long)ch->max_duration_ms);
  }
  return 0;
}
