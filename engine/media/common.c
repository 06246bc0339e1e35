/* Shared media helpers: colour parsing, filtergraph escaping, -progress parsing, argv building,
 * child-exit -> error mapping with the tool's stderr, temp paths and async rename/unlink.
 * Relies on: core/err, core/util (uuid7), loop/proc.h result struct, libuv fs requests. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

void ain_media_channel_default(ain_media_channel_t *ch) {
  memset(ch, 0, sizeof *ch);
  ch->width = 1080;
  ch->height = 1920;
  ch->fps_num = 30;
  ch->fps_den = 1;
  ch->sample_rate = 48000;
  ch->max_duration_ms = 60000;
  /* TikTok's own UI: caption/description band at the bottom, action rail on the right. */
  ain_media_safe_area_profile("tiktok", ch->width, ch->height, &ch->safe, NULL);
}

int ain_media_colour_parse(const char *s, uint32_t *rgb, ain_err_t *err) {
  if (s == NULL) {
    return ain_err_set(err, AIN_EINVAL, "colour: missing");
  }
  const char *p = s[0] == '#' ? s + 1 : s;
  if (strlen(p) != 6) {
    return ain_err_set(err, AIN_EINVAL, "colour \"%.64s\": want #RRGGBB", s);
  }
  uint32_t v = 0;
  for (int i = 0; i < 6; i++) {
    int c = (unsigned char)p[i];
    if (!isxdigit(c)) {
      return ain_err_set(err, AIN_EINVAL, "colour \"%.64s\": want #RRGGBB", s);
    }
    v = v * 16 + (uint32_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
  }
  *rgb = v;
  return 0;
}

/* ffmpeg parses a filtergraph twice: the option value (where \ ' : are special) and then the
 * graph description (where \ ' [ ] , ; are special). A path like "a:b,c.ass" must survive both. */
int ain_media_filter_escape(const char *in, char *out, size_t cap) {
  char lvl1[4096];
  size_t n = 0;
  for (const char *p = in; *p; p++) {
    if (strchr("\\':", *p) && n + 1 < sizeof lvl1) {
      lvl1[n++] = '\\';
    }
    if (n + 1 >= sizeof lvl1) {
      return AIN_ETOOBIG;
    }
    lvl1[n++] = *p;
  }
  lvl1[n] = '\0';
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (strchr("\\'[],;", lvl1[i])) {
      if (m + 1 >= cap) {
        return AIN_ETOOBIG;
      }
      out[m++] = '\\';
    }
    if (m + 1 >= cap) {
      return AIN_ETOOBIG;
    }
    out[m++] = lvl1[i];
  }
  out[m] = '\0';
  return (int)m;
}

/* Values may carry leading spaces or be "N/A"; out_time_ms is really microseconds in ffmpeg, so
 * only out_time_us is trusted. */
int ain_media_progress_line(const char *line, size_t len, int64_t *out_us) {
  static const char k_us[] = "out_time_us=", k_end[] = "progress=end";
  if (len >= sizeof k_end - 1 && memcmp(line, k_end, sizeof k_end - 1) == 0) {
    return 2;
  }
  if (len < sizeof k_us - 1 || memcmp(line, k_us, sizeof k_us - 1) != 0) {
    return 0;
  }
  char buf[32];
  size_t vlen = len - (sizeof k_us - 1);
  if (vlen == 0 || vlen >= sizeof buf) {
    return 0;
  }
  memcpy(buf, line + sizeof k_us - 1, vlen);
  buf[vlen] = '\0';
  char *p = buf, *end = NULL;
  while (*p == ' ') {
    p++;
  }
  errno = 0;
  long long v = strtoll(p, &end, 10);
  if (end == p || errno != 0 || v < 0) {
    return 0;
  }
  while (*end == ' ') {
    end++;
  }
  if (*end != '\0') {
    return 0;
  }
  *out_us = v;
  return 1;
}

void ain__argv_push(ain__argv_t *a, const char *s) {
  if (a->n + 2 > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 32;
    char **v = realloc(a->v, cap * sizeof *v);
    if (v == NULL) {
      abort();
    }
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = ain_strdup(s);
  a->v[a->n] = NULL;
}

void ain__argv_pushf(ain__argv_t *a, const char *fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ain__argv_push(a, buf);
}

void ain__argv_free(ain__argv_t *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i]);
  }
  free(a->v);
  memset(a, 0, sizeof *a);
}

void ain__argv_ffmpeg(ain__argv_t *a) {
  static const char *const pro[] = {AIN__MEDIA_FFMPEG, "-y", "-nostdin", "-hide_banner",
                                    "-loglevel", "error"};
  for (size_t i = 0; i < sizeof pro / sizeof pro[0]; i++) {
    ain__argv_push(a, pro[i]);
  }
}

/* The last ~600 bytes of stderr, one line: enough for ffmpeg's "No such file or directory". */
static void stderr_tail(const ain_proc_result_t *res, char *out, size_t cap) {
  const char *s = res->err ? res->err : "";
  size_t len = res->err ? res->err_len : 0;
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ')) {
    len--;
  }
  size_t from = len > 600 ? len - 600 : 0;
  size_t n = 0;
  for (size_t i = from; i < len && n + 1 < cap; i++) {
    out[n++] = (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
  }
  out[n] = '\0';
}

int ain__media_proc_status(const ain_proc_result_t *res, const char *what, ain_err_t *err) {
  char tail[640];
  stderr_tail(res, tail, sizeof tail);
  if (res->timed_out) {
    return ain_err_set(err, AIN_ETIMEOUT, "%s: timed out after %.0f ms", what, res->elapsed_ms);
  }
  if (res->killed) {
    return ain_err_set(err, AIN_ECANCELLED, "%s: cancelled", what);
  }
  if (res->term_signal != 0) {
    return ain_err_set(err, AIN_EMEDIA, "%s: killed by signal %d: %s", what, res->term_signal,
                       tail);
  }
  if (res->exit_status != 0) {
    return ain_err_set(err, AIN_EMEDIA, "%s: exit %lld: %s", what, (long long)res->exit_status,
                       tail);
  }
  return 0;
}

int ain__media_temp_path(const char *path, const char *ext, char *out, size_t cap) {
  char id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  int n = snprintf(out, cap, "%s.part-%s%s", path, id, ext ? ext : "");
  return n < 0 || (size_t)n >= cap ? AIN_ETOOBIG : 0;
}

typedef struct {
  uv_fs_t req;
  ain__media_rename_cb cb;
  void *data;
} rename_req_t;

static void on_rename(uv_fs_t *req) {
  rename_req_t *r = req->data;
  int status = (int)req->result;
  uv_fs_req_cleanup(req);
  if (r->cb) {
    r->cb(status < 0 ? status : 0, r->data);
  }
  free(r);
}

void ain__media_rename(uv_loop_t *loop, const char *from, const char *to, ain__media_rename_cb cb,
                       void *data) {
  rename_req_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    abort();
  }
  r->cb = cb;
  r->data = data;
  r->req.data = r;
  int rc = uv_fs_rename(loop, &r->req, from, to, on_rename);
  if (rc < 0) { /* only on bad arguments; report it through the same path */
    free(r);
    if (cb) {
      cb(rc, data);
    }
  }
}

static void on_unlink(uv_fs_t *req) {
  uv_fs_req_cleanup(req);
  free(req);
}

void ain__media_unlink(uv_loop_t *loop, const char *path) {
  uv_fs_t *req = calloc(1, sizeof *req);
  if (req == NULL) {
    abort();
  }
  if (uv_fs_unlink(loop, req, path, on_unlink) < 0) {
    free(req);
  }
}
