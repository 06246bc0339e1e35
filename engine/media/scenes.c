/* Scenes -> the video half of the render's ONE ffmpeg filter graph (issue 12 §1). Each scene is a
 * segment of the graph: generated motion (a moving three-colour gradient drawn at 1/8 size and
 * scaled up, debanded with gradfun, plus drifting translucent discs), a still with Ken Burns
 * motion (zoompan over the picture scaled once to twice the frame), or a clip (looped, cropped to
 * fill). An optional picture (an emoji PNG) is animated in over the scene. Segments are joined
 * with xfade, so every scene change is a transition and nothing is a still frame: the gradient,
 * the discs, the zoom and the picture's bob all move in every frame.
 * Pure string building, apart from ain_media_scenes_check (access(2) on the files: call it off
 * the loop thread).
 * Relies on: media/internal.h (argv), core/err.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "media/internal.h"

enum { MAX_SCENES = 128 };

/* A growing string that aborts on OOM like ain_strdup (a graph is a few KB per scene). */
typedef struct {
  char *s;
  size_t n, cap;
} gbuf_t;

__attribute__((format(printf, 2, 3))) static void gput(gbuf_t *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
      abort();
    }
    if (b->s != NULL && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->n + (size_t)k + 1) {
      cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (s == NULL) {
      abort();
    }
    b->s = s;
    b->cap = cap;
  }
}

/* Transitions cycled through (xfade names in ffmpeg 5.1); all are cheap per pixel. */
/* None of them moves the picture: a slide carries the outgoing scene's picture out through the
 * frame's edges, under the platforms' UI bands. */
static const char *const TRANSITIONS[] = {"smoothright", "fade",     "circleopen", "wipeup",
                                          "smoothleft",  "smoothup", "radial",     "dissolve"};

static int64_t transition_ms(const ain_media_scene_graph_opts_t *o) {
  return o->transition_ms > 0 ? o->transition_ms : 400;
}

int ain_media_scenes_validate(const ain_media_scene_t *s, size_t n,
                              const ain_media_scene_graph_opts_t *o, ain_err_t *err) {
  if (s == NULL || n == 0) {
    return ain_err_field(err, AIN_EINVAL, "scenes", "scenes: at least one scene is required");
  }
  if (n > MAX_SCENES) {
    return ain_err_field(err, AIN_EINVAL, "scenes", "scenes: %zu scenes, at most %d", n,
                         MAX_SCENES);
  }
  if (o == NULL || o->width < 16 || o->height < 16 || o->width > 8192 || o->height > 8192 ||
      ((o->width | o->height) & 1) || o->fps < 1 || o->fps > 120) {
    return ain_err_field(err, AIN_EINVAL, "size",
                         "scenes: size must be even 16..8192 and fps 1..120");
  }
  if (o->total_ms <= 0) {
    return ain_err_field(err, AIN_EINVAL, "total_ms", "scenes: total_ms must be > 0");
  }
  /* A scene must outlast the transition into the next one, with a little of itself to show. */
  int64_t min_ms = transition_ms(o) + 200;
  for (size_t i = 0; i < n; i++) {
    char field[48];
    snprintf(field, sizeof field, "scenes[%zu]", i);
    if (s[i].start_ms < 0 || s[i].end_ms <= s[i].start_ms) {
      return ain_err_field(err, AIN_EINVAL, field, "%s: start_ms %lld, end_ms %lld: want 0 <= start < end",
                           field, (long long)s[i].start_ms, (long long)s[i].end_ms);
    }
    if (i > 0 && s[i].start_ms < s[i - 1].end_ms) {
      return ain_err_field(err, AIN_EINVAL, field,
                           "%s: starts at %lld ms, before scenes[%zu] ends (%lld ms): scenes must "
                           "not overlap",
                           field, (long long)s[i].start_ms, i - 1, (long long)s[i - 1].end_ms);
    }
    if (s[i].start_ms >= o->total_ms) {
      return ain_err_field(err, AIN_EINVAL, field, "%s: starts at %lld ms, after the video ends (%lld ms)",
                           field, (long long)s[i].start_ms, (long long)o->total_ms);
    }
    /* The scene lasts until the next one starts (a gap holds the scene), the last one until
     * the end of the video: that is the length that must fit a transition. */
    int64_t start = i == 0 ? 0 : s[i].start_ms;
    int64_t end = i + 1 < n ? s[i + 1].start_ms : o->total_ms;
    if (end - start < min_ms) {
      return ain_err_field(err, AIN_EINVAL, field, "%s: lasts %lld ms, shorter than %lld ms (the transition + 200 ms)",
                           field, (long long)(end - start), (long long)min_ms);
    }
    if (s[i].kind != AIN_MEDIA_SCENE_MOTION && s[i].kind != AIN_MEDIA_SCENE_IMAGE &&
        s[i].kind != AIN_MEDIA_SCENE_CLIP) {
      return ain_err_field(err, AIN_EINVAL, field, "%s: unknown kind %d", field, (int)s[i].kind);
    }
    if (s[i].kind != AIN_MEDIA_SCENE_MOTION && (s[i].path == NULL || s[i].path[0] == '\0')) {
      return ain_err_field(err, AIN_EINVAL, field, "%s.path: an image or clip scene needs a file",
                           field);
    }
  }
  return 0;
}

int ain_media_scenes_check(const ain_media_scene_t *s, size_t n, ain_err_t *err) {
  for (size_t i = 0; i < n; i++) {
    const char *files[2] = {s[i].kind != AIN_MEDIA_SCENE_MOTION ? s[i].path : NULL, s[i].picture};
    const char *names[2] = {"path", "picture"};
    for (int k = 0; k < 2; k++) {
      if (files[k] != NULL && access(files[k], R_OK) != 0) {
        char field[48];
        snprintf(field, sizeof field, "scenes[%zu].%s", i, names[k]);
        return ain_err_field(err, AIN_ENOTFOUND, field, "%s: %s: %s", field, files[k],
                             strerror(errno));
      }
    }
  }
  return 0;
}

/* Generated motion: a gradient drawn at 1/8 size (the per-pixel source is the slow part, and a
 * gradient has no detail to lose), turned into YUV (BT.709, the output's matrix) while it is
 * small, scaled up bicubic, debanded with gradfun (dither where the 8-bit steps would show as
 * bands), then two translucent discs drifting upwards. Everything after the sources is YUV 4:2:0:
 * converting each full 1080x1920 frame from RGB (or converting the whole frame again at the end)
 * cost as much CPU as the rest of the graph together (bench/render.sh). */
static void seg_motion(gbuf_t *g, const ain_media_scene_t *s, size_t i, int w, int h, int fps,
                       double dur) {
  int gw = (w / 8) & ~1, gh = (h / 8) & ~1;
  if (gw < 16) {
    gw = 16;
  }
  if (gh < 16) {
    gh = 16;
  }
  unsigned seed = s->seed;
  gput(g,
       "gradients=s=%dx%d:r=%d:d=%.3f:c0=0x%06x:c1=0x%06x:c2=0x%06x:n=3:speed=0.015:seed=%u,"
       "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
       "scale=%d:%d:flags=bicubic,gradfun=1.2:16,setsar=1[b%zu];",
       gw, gh, fps, dur, s->colours[0] & 0xffffff, s->colours[1] & 0xffffff,
       s->colours[2] & 0xffffff, seed, w, h, i);
  /* The disc is drawn once (geq on one frame, converted to the overlay's YUVA once) and repeated
   * by loop, not evaluated or converted per frame. */
  int frames = (int)(dur * fps + 0.5);
  int p = (w / 10) & ~1;
  if (p < 4) {
    p = 4;
  }
  gput(g,
       "color=c=white:s=%dx%d:r=%d:d=%.3f,format=rgba,"
       "geq=r=255:g=255:b=255:a='64*lte(hypot(X-W/2\\,Y-H/2)\\,W/2)',format=yuva420p,"
       "loop=loop=%d:size=1,"
       "split=2[pa%zu][pb%zu];",
       p, p, fps, 1.0 / fps, frames - 1, i, i);
  /* Paths differ by seed so that consecutive scenes do not repeat the same drift. They stay in
   * the band between the title and the captions (15 %..60 % of the height, moving up 4-5 % a
   * second for at most ~4 s), so text never sits on a moving edge. */
  double x1 = 0.06 + 0.05 * (seed % 5), x2 = 0.62 + 0.05 * ((seed / 5) % 5);
  double y1 = 0.52 + 0.02 * (seed % 3), y2 = 0.42 + 0.04 * ((seed / 3) % 3);
  gput(g,
       "[b%zu][pa%zu]overlay=x='W*%.2f+W*0.05*sin(t*1.3)':y='H*(%.2f-0.05*t)':eval=frame[q%zu];"
       "[q%zu][pb%zu]overlay=x='W*%.2f+W*0.04*sin(t*0.9+1)':y='H*(%.2f-0.04*t)':eval=frame",
       i, i, x1, y1, i, i, i, x2, y2);
}

/* Ken Burns: the still is scaled once to twice the frame (zoompan rounds its window to whole
 * pixels; at 2x the steps are half a frame pixel, so the motion does not shake) and turned into
 * YUV 4:2:0 (BT.709) once, then zoompan emits every frame of the scene from that one picture,
 * zooming in or out by 12 % (in YUV: 1.5 bytes a pixel to scale per frame instead of 4). */
static void seg_image(gbuf_t *g, const ain_media_scene_t *s, int in, int w, int h, int fps,
                      double dur) {
  int frames = (int)(dur * fps + 0.5);
  if (frames < 1) {
    frames = 1;
  }
  const char *z = s->seed % 2 ? "1.12-0.12*on/%d" : "1+0.12*on/%d";
  char zexpr[64];
  snprintf(zexpr, sizeof zexpr, z, frames);
  /* Drift the window left-to-right or right-to-left across the slack the zoom leaves. */
  const char *x = (s->seed / 2) % 2 ? "(iw-iw/zoom)*on/%d" : "(iw-iw/zoom)*(1-on/%d)";
  char xexpr[64];
  snprintf(xexpr, sizeof xexpr, x, frames);
  gput(g,
       "[%d:v]scale=%d:%d:force_original_aspect_ratio=increase:out_color_matrix=bt709:"
       "out_range=tv,crop=%d:%d,format=yuv420p,setsar=1,"
       "zoompan=z='%s':x='%s':y='(ih-ih/zoom)/2':d=%d:s=%dx%d:fps=%d,format=yuv420p,setsar=1",
       in, 2 * w, 2 * h, 2 * w, 2 * h, zexpr, xexpr, frames, w, h, fps);
}

static void seg_clip(gbuf_t *g, int in, int w, int h, int fps, double dur) {
  gput(g,
       "[%d:v]scale=%d:%d:force_original_aspect_ratio=increase:out_color_matrix=bt709:"
       "out_range=tv,crop=%d:%d,fps=%d,format=yuv420p,setsar=1,trim=duration=%.3f,"
       "setpts=PTS-STARTPTS",
       in, w, h, w, h, fps, dur);
}

static double picture_y(const ain_media_scene_graph_opts_t *o) {
  return o->picture_y > 0.05 && o->picture_y < 0.7 ? o->picture_y : 0.26;
}

/* The lowest a picture reaches at rest, bob included (fraction of the height): above the bottom
 * 20 % every platform's UI covers (the same floor as the captions' safe areas), with a margin. */
#define PICTURE_FLOOR 0.78
#define PICTURE_BOB 0.012

/* The picture's box side in pixels (even): half the frame's width, less when the room between
 * its resting top and the floor is smaller (captions in the middle put it lower), so the UI
 * never hides part of it. */
static int picture_px(const ain_media_scene_graph_opts_t *o) {
  int side = (o->width / 2) & ~1;
  int room = (int)((PICTURE_FLOOR - PICTURE_BOB - picture_y(o)) * o->height) & ~1;
  return room < side ? (room > 2 ? room : 2) : side;
}

void ain_media_scenes_picture_box(const ain_media_scene_graph_opts_t *o, double box[4]) {
  double py = picture_y(o);
  /* The picture's square, plus the slide-in from 12 % higher and the bob either way. */
  double pw = o->width > 0 ? (double)picture_px(o) / o->width : 0.5;
  double ph = o->height > 0 ? (double)picture_px(o) / o->height : 0.3;
  box[0] = (1 - pw) / 2 - 0.01;
  box[1] = py - 0.135 > 0 ? py - 0.135 : 0;
  box[2] = pw + 0.02;
  box[3] = ph + 0.15;
}

void ain_media_scene_graph_free(ain_media_scene_graph_t *g) {
  if (g == NULL) {
    return;
  }
  for (size_t i = 0; i < g->argc; i++) {
    free(g->argv[i]);
  }
  free(g->argv);
  free(g->graph);
  memset(g, 0, sizeof *g);
}

int ain_media_scenes_graph(const ain_media_scene_t *s, size_t n,
                           const ain_media_scene_graph_opts_t *o, ain_media_scene_graph_t *out,
                           ain_err_t *err) {
  if (out == NULL) {
    return ain_err_set(err, AIN_EINVAL, "scenes: out is required");
  }
  memset(out, 0, sizeof *out);
  int rc = ain_media_scenes_validate(s, n, o, err);
  if (rc != 0) {
    return rc;
  }
  const char *label = o->out_label != NULL ? o->out_label : "vs";
  if (strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(label) || !label[0]) {
    return ain_err_field(err, AIN_EINVAL, "out_label", "scenes: out_label must be [a-z0-9_]+");
  }
  int w = o->width, h = o->height, fps = o->fps;
  double t = (double)transition_ms(o) / 1000.0;
  ain__argv_t in = {0};
  gbuf_t g = {0};
  int next_in = o->first_input;
  for (size_t i = 0; i < n; i++) {
    double start = i == 0 ? 0 : (double)s[i].start_ms / 1000.0;
    double end = (double)(i + 1 < n ? s[i + 1].start_ms : o->total_ms) / 1000.0;
    /* Every scene but the last runs on under the transition into the next one. */
    double dur = end - start + (i + 1 < n ? t : 0);
    switch (s[i].kind) {
    case AIN_MEDIA_SCENE_MOTION:
      seg_motion(&g, &s[i], i, w, h, fps, dur);
      break;
    case AIN_MEDIA_SCENE_IMAGE:
      ain__argv_push(&in, "-i");
      ain__argv_push(&in, s[i].path);
      seg_image(&g, &s[i], next_in++, w, h, fps, dur);
      break;
    case AIN_MEDIA_SCENE_CLIP:
      /* Looped so that a clip shorter than its scene still fills it. */
      ain__argv_push(&in, "-stream_loop");
      ain__argv_push(&in, "-1");
      ain__argv_push(&in, "-t");
      ain__argv_pushf(&in, "%.3f", dur);
      ain__argv_push(&in, "-i");
      ain__argv_push(&in, s[i].path);
      seg_clip(&g, next_in++, w, h, fps, dur);
      break;
    }
    if (s[i].picture == NULL) {
      gput(&g, ",settb=1/%d[s%zu];", fps, i);
      continue;
    }
    /* The picture slides up into place and fades in (0.45 s), then bobs gently, centred in the
     * upper middle of the frame: clear of the title band and of the captions. */
    gput(&g, "[m%zu];", i);
    /* One decoded picture, scaled and converted to the overlay's YUVA once, repeated by loop
     * for the scene's frames (fade then works on its alpha plane). */
    ain__argv_push(&in, "-framerate");
    ain__argv_pushf(&in, "%d", fps);
    ain__argv_push(&in, "-i");
    ain__argv_push(&in, s[i].picture);
    int side = picture_px(o);
    gput(&g,
         "[%d:v]scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2:"
         "out_color_matrix=bt709:out_range=tv,format=yuva420p,"
         "loop=loop=%d:size=1,fade=in:st=0:d=0.45:alpha=1[e%zu];"
         "[m%zu][e%zu]overlay=x='(W-w)/2':y='H*%.3f+H*%.3f*sin(2*PI*t/2.4)-H*0.12*max(0\\,1-t/0.45)'"
         ":eval=frame:shortest=1,format=yuv420p,settb=1/%d[s%zu];",
         next_in++, side, side, (int)(dur * fps + 0.5) - 1, i, i, i, picture_y(o), PICTURE_BOB, fps,
         i);
  }
  if (n == 1) {
    gput(&g, "[s0]null[%s]", label);
  }
  for (size_t i = 1; i < n; i++) {
    unsigned pick = (unsigned)i + s[i].seed;
    const char *tr = TRANSITIONS[pick % (sizeof TRANSITIONS / sizeof TRANSITIONS[0])];
    char a[24];
    snprintf(a, sizeof a, "%c%zu", i == 1 ? 's' : 'x', i == 1 ? (size_t)0 : i - 1);
    gput(&g, "[%s][s%zu]xfade=transition=%s:duration=%.3f:offset=%.3f", a, i, tr, t,
         (double)s[i].start_ms / 1000.0);
    if (i + 1 < n) {
      gput(&g, "[x%zu];", i);
    } else {
      gput(&g, "[%s]", label);
    }
  }
  out->graph = g.s;
  out->argv = in.v;
  out->argc = in.n;
  out->n_inputs = (size_t)(next_in - o->first_input);
  return 0;
}
