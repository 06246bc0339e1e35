/* The built-in "inspect" (scripts/agents/pipeline.lua: after render, before judge): what the
 * viewer will see and hear. It finds the rendered video and its ASS captions in the object store
 * (thread pool), runs ain_media_inspect (ffmpeg + tesseract on sampled frames, ffmpeg +
 * pocketsphinx on the audio, child processes off the loop) in the attempt's scratch folder
 * data_dir/work/<task_id>, and succeeds with the result the judge's output checks read
 * (scripts/agents/output_checks.lua):
 *   {enabled = true, ocr = {{t = seconds, text, words = {{text, conf, box}}}...},
 *    plan = {texts = {{start, stop, title, box, text}}, transitions = {{start, stop}},
 *            pictures = {{start, stop}}, picture_box},
 *    asr = {text, words, oov, model_words}, frame_interval_ms, ms = {...}}
 * The plan is what the render drew where and when: its captions and title (the ASS it wrote,
 * media/inspect_text.c), the scene changes (xfade, from deps.visuals.scenes) and the scenes with
 * a picture; boxes are fractions of the frame, times seconds.
 * With media.inspect.enabled = false it succeeds at once with {enabled = false}. Nothing is
 * checkpointed: the result is recomputed from the checkpointed video if the step runs again.
 * Cancellation (timeout, shutdown) kills the children; the scratch folder is removed on the pool.
 * Relies on: sched/internal.h, media/media.h, objstore/objstore.h, cJSON. */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "media/media.h"
#include "objstore/objstore.h"
#include "objstore/open.h"
#include "sched/internal.h"

/* media/scenes.c's xfade length (its default; the render sets no other). */
#define INSPECT_XFADE_S 0.4
/* A frame at 25..30 fps: the skipped windows are this much wider each side. */
#define INSPECT_PAD_MS 40
/* Above and below a text box that no mask covers (fractions of the height): outlines, and
 * descenders of a bigger highlighted word. */
#define INSPECT_TEXT_SLACK 0.012
/* Mask pieces shorter than this (fraction of the height) are left out. */
#define INSPECT_MIN_MASK 0.01

typedef struct {
  ain_step_t *step; /* NULL once cancelled: the outstanding callback then only cleans up */
  uv_loop_t *loop;
  const ain_config_t *cfg;
  cJSON *deps;
  char task_id[AIN_UUID_LEN + 1];
  char objects[4096], dir[4096], video[4096];
  const char *video_key, *script_text, *captions_key; /* borrowed from deps */
  ain_media_text_event_t *texts;                      /* the plan, from the captions */
  size_t n_texts;
  uv_work_t work;
  int work_rc;
  ain_err_t work_err;
  ain_media_inspect_t *job;
} insp_t;

static void insp_free(insp_t *s) {
  ain_media_text_plan_free(s->texts, s->n_texts);
  cJSON_Delete(s->deps);
  free(s);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static void rm_dir(uv_work_t *w) {
  insp_t *s = w->data;
  nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void after_rm(uv_work_t *w, int status) {
  (void)status;
  insp_free(w->data);
}

/* The scratch folder goes on the pool, then the state. */
static void insp_release(insp_t *s) {
  if (s->step != NULL) {
    s->step->priv = NULL;
    s->step = NULL;
  }
  s->work.data = s;
  if (uv_queue_work(s->loop, &s->work, rm_dir, after_rm) != 0) {
    insp_free(s);
  }
}

static void insp_fail(insp_t *s, int code, const char *msg, int permanent) {
  if (s->step != NULL) {
    ain_step_fail(s->step, code, msg, permanent);
  }
  insp_release(s);
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, b);
  }
  if (c != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, c);
  }
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double round3(double v) {
  return (double)(int64_t)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)) / 1000.0;
}

static cJSON *box_json(const double b[4]) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < 4; i++) {
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round3(b[i])));
  }
  return a;
}

static cJSON *span_json(double start, double stop) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "start", round3(start));
  cJSON_AddNumberToObject(o, "stop", round3(stop));
  return o;
}

/* What the render drew where and when (see the header). A scene change is an xfade of
 * media/scenes.c's length (400 ms) from the next scene's start; a picture is on screen for its
 * whole scene and under the transitions at both ends. */
static cJSON *plan_json(const insp_t *s) {
  cJSON *p = cJSON_CreateObject();
  cJSON *texts = cJSON_AddArrayToObject(p, "texts");
  for (size_t i = 0; i < s->n_texts; i++) {
    const ain_media_text_event_t *e = &s->texts[i];
    cJSON *o = span_json((double)e->start_ms / 1000.0, (double)e->end_ms / 1000.0);
    cJSON_AddBoolToObject(o, "title", e->title);
    cJSON_AddItemToObject(o, "box", box_json(e->box));
    cJSON_AddStringToObject(o, "text", e->text);
    cJSON_AddItemToArray(texts, o);
  }
  const cJSON *scenes = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(s->deps, "visuals"), "scenes");
  cJSON *tr = cJSON_AddArrayToObject(p, "transitions");
  cJSON *pics = cJSON_AddArrayToObject(p, "pictures");
  int n = cJSON_GetArraySize(scenes);
  for (int i = 0; i < n; i++) {
    const cJSON *sc = cJSON_GetArrayItem(scenes, i);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(sc, "start_ms");
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scenes, i + 1), "start_ms");
    double start = i == 0 || !cJSON_IsNumber(st) ? 0 : st->valuedouble / 1000.0;
    double stop = cJSON_IsNumber(nx) ? nx->valuedouble / 1000.0 : 1e9;
    if (i > 0) {
      cJSON_AddItemToArray(tr, span_json(start, start + INSPECT_XFADE_S));
    }
    const cJSON *emoji = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sc, "visual"), "emoji");
    if (cJSON_IsString(emoji) && emoji->valuestring[0] != '\0') {
      cJSON_AddItemToArray(pics, span_json(start, stop + INSPECT_XFADE_S));
    }
  }
  const cJSON *box = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(s->deps, "render"), "picture_box");
  if (cJSON_GetArraySize(box) == 4) {
    cJSON_AddItemToObject(p, "picture_box", cJSON_Duplicate(box, 1));
  }
  return p;
}

static char *result_json(const insp_t *s, const ain_media_inspect_result_t *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddTrueToObject(o, "enabled");
  cJSON *ocr = cJSON_AddArrayToObject(o, "ocr");
  for (size_t i = 0; i < r->n_frames; i++) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "t", (double)r->frames[i].t_ms / 1000.0);
    cJSON_AddStringToObject(f, "text", r->frames[i].text);
    cJSON *ws = cJSON_AddArrayToObject(f, "words");
    for (size_t k = 0; k < r->frames[i].n_words; k++) {
      const ain_media_ocr_word_t *w = &r->frames[i].words[k];
      cJSON *x = cJSON_CreateObject();
      cJSON_AddStringToObject(x, "text", w->text);
      cJSON_AddNumberToObject(x, "conf", round3(w->conf));
      cJSON_AddItemToObject(x, "box", box_json(w->box));
      cJSON_AddItemToArray(ws, x);
    }
    cJSON_AddItemToArray(ocr, f);
  }
  cJSON_AddItemToObject(o, "plan", plan_json(s));
  cJSON *asr = cJSON_AddObjectToObject(o, "asr");
  cJSON_AddStringToObject(asr, "text", r->asr_text ? r->asr_text : "");
  cJSON_AddNumberToObject(asr, "words", (double)r->asr_words);
  cJSON_AddStringToObject(asr, "oov", r->oov ? r->oov : "");
  cJSON_AddNumberToObject(asr, "model_words", (double)r->model_words);
  cJSON_AddNumberToObject(o, "frame_interval_ms", (double)s->cfg->media.inspect.frame_interval_ms);
  cJSON *ms = cJSON_AddObjectToObject(o, "ms");
  const struct {
    const char *k;
    double v;
  } t[] = {{"model", r->ms_model}, {"audio", r->ms_audio}, {"frames", r->ms_frames},
           {"asr", r->ms_asr},     {"ocr", r->ms_ocr},     {"total", r->ms_total}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    cJSON_AddNumberToObject(ms, t[i].k, (double)(int64_t)(t[i].v + 0.5));
  }
  char *js = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return js;
}

static void on_inspected(int status, const ain_media_inspect_result_t *res, const ain_err_t *err,
                         void *data) {
  insp_t *s = data;
  s->job = NULL;
  if (s->step == NULL) {
    insp_release(s);
    return;
  }
  if (status != 0) {
    insp_fail(s, status, err ? err->msg : "inspect failed", 0);
    return;
  }
  char *js = result_json(s, res);
  ain_log_ctx_t lc = ain_step_log_ctx(s->step);
  ain_log(AIN_LOG_INFO, &lc,
          "inspect: %zu frames read in %.0f ms, %zu words heard in %.0f ms, total %.0f ms",
          res->n_frames, res->ms_frames + res->ms_ocr, res->asr_words, res->ms_audio + res->ms_asr,
          res->ms_total);
  ain_step_succeed(s->step, js, NULL, NULL);
  free(js);
  insp_release(s);
}

/* Pool: the video's local path. */
static void find_video(uv_work_t *w) {
  insp_t *s = w->data;
  ain_objstore_t *os = NULL;
  ain_err_clear(&s->work_err);
  s->work_rc = ain_objstore_open(s->cfg, &os, &s->work_err);
  if (s->work_rc == 0) {
    s->work_rc = ain_objstore_get_path(os, s->video_key, s->video, sizeof s->video, &s->work_err);
  }
  if (s->work_rc == 0 && ain_objstore_exists(os, s->video_key, &s->work_err) != 1) {
    s->work_rc = ain_err_set(&s->work_err, AIN_EIO, "inspect: video %s is not in the object store",
                             s->video_key);
  }
  /* The captions the render wrote: where and when it drew text (a render without them, such as
   * an older checkpoint, gives an empty plan: every word is then checked against the script). */
  char ass_path[4096];
  char *ass = NULL;
  size_t ass_len = 0;
  ain_err_t e;
  ain_err_clear(&e);
  if (s->work_rc == 0 && s->captions_key != NULL &&
      ain_objstore_get_path(os, s->captions_key, ass_path, sizeof ass_path, &e) == 0 &&
      ain_read_file(ass_path, &ass, &ass_len) == 0) {
    s->work_rc = ain_media_text_plan(ass, &s->texts, &s->n_texts, &s->work_err);
    free(ass);
  }
  if (os != NULL) {
    ain_objstore_close(os);
  }
}

/* The scenes' changes (deps.visuals.scenes: each scene after the first starts with an xfade),
 * padded by a frame either side: the windows the frames skip. Returns their count. */
static size_t plan_skips(const insp_t *s, int64_t (**out)[2]) {
  const cJSON *scenes = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(s->deps, "visuals"), "scenes");
  int n = cJSON_GetArraySize(scenes);
  *out = NULL;
  if (n < 2) {
    return 0;
  }
  int64_t(*w)[2] = calloc((size_t)n, sizeof *w);
  if (w == NULL) {
    abort();
  }
  size_t k = 0;
  for (int i = 1; i < n && k < AIN_MEDIA_OCR_SKIPS; i++) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scenes, i), "start_ms");
    if (cJSON_IsNumber(st) && st->valuedouble >= 0) {
      int64_t a = (int64_t)st->valuedouble - INSPECT_PAD_MS;
      w[k][0] = a < 0 ? 0 : a;
      w[k][1] = (int64_t)st->valuedouble + (int64_t)(INSPECT_XFADE_S * 1000) + INSPECT_PAD_MS;
      k++;
    }
  }
  *out = w;
  return k;
}

/* The picture box (deps.render.picture_box) cut into the bands between the texts the render
 * drew (title, captions: the plan's boxes, a little taller), so that no mask covers text. */
static void plan_masks(const insp_t *s, double masks[AIN_MEDIA_OCR_MASKS][4]) {
  const cJSON *box = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(s->deps, "render"), "picture_box");
  if (cJSON_GetArraySize(box) != 4) {
    return;
  }
  double b[4];
  for (int i = 0; i < 4; i++) {
    const cJSON *v = cJSON_GetArrayItem(box, i);
    b[i] = cJSON_IsNumber(v) ? v->valuedouble : 0;
  }
  /* [y0, y1) pieces of the box's height, cut by each text band in turn. */
  double piece[AIN_MEDIA_OCR_MASKS][2] = {{b[1], b[1] + b[3]}};
  int np = 1;
  for (size_t t = 0; t < s->n_texts; t++) {
    const double *tb = s->texts[t].box;
    double y0 = tb[1] - INSPECT_TEXT_SLACK, y1 = tb[1] + tb[3] + INSPECT_TEXT_SLACK;
    double next[AIN_MEDIA_OCR_MASKS][2];
    int nn = 0;
    for (int i = 0; i < np; i++) {
      if (y1 <= piece[i][0] || y0 >= piece[i][1]) { /* no overlap */
        next[nn][0] = piece[i][0];
        next[nn++][1] = piece[i][1];
        continue;
      }
      if (y0 > piece[i][0] && nn < AIN_MEDIA_OCR_MASKS) {
        next[nn][0] = piece[i][0];
        next[nn++][1] = y0;
      }
      if (y1 < piece[i][1] && nn < AIN_MEDIA_OCR_MASKS) {
        next[nn][0] = y1;
        next[nn++][1] = piece[i][1];
      }
    }
    memcpy(piece, next, sizeof piece);
    np = nn;
  }
  int k = 0;
  for (int i = 0; i < np; i++) {
    if (piece[i][1] - piece[i][0] < INSPECT_MIN_MASK) {
      continue; /* a sliver between two texts hides nothing worth a box */
    }
    masks[k][0] = b[0];
    masks[k][1] = piece[i][0];
    masks[k][2] = b[2];
    masks[k++][3] = piece[i][1] - piece[i][0];
  }
}

static void after_find(uv_work_t *w, int status) {
  insp_t *s = w->data;
  if (s->step == NULL) {
    insp_release(s);
    return;
  }
  if (status != 0 || s->work_rc != 0) {
    insp_fail(s, s->work_rc ? s->work_rc : AIN_ECANCELLED,
              s->work_rc ? s->work_err.msg : "thread-pool job cancelled", 0);
    return;
  }
  const ain_config_t *c = s->cfg;
  ain_media_inspect_opts_t o = {.mp4 = s->video,
                                .work_dir = s->dir,
                                .script_text = s->script_text,
                                .frame_interval_ms = c->media.inspect.frame_interval_ms,
                                .ocr_height = (int)c->media.inspect.ocr_height,
                                .asr_lw = (double)c->media.inspect.asr_lw,
                                .timeout_ms = c->media.inspect.timeout_ms};
  /* Where the render drew pictures (emoji) is not text, so not read (engine/media/scenes.c),
   * except the bands it drew text in; scene changes are not sampled. */
  plan_masks(s, o.ocr_masks);
  int64_t(*skip)[2] = NULL;
  o.n_skip = plan_skips(s, &skip);
  o.skip_ms = (const int64_t(*)[2])skip;
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_media_inspect(s->loop, &o, on_inspected, s, &s->job, &e);
  free(skip);
  if (rc != 0) {
    insp_fail(s, rc, e.msg, rc == AIN_EINVAL);
  }
}

static int insp_start(ain_step_t *step, ain_err_t *err) {
  const ain_config_t *cfg = step->shard->engine->cfg;
  if (!cfg->media.inspect.enabled) {
    ain_step_succeed(step, "{\"enabled\":false}", NULL, NULL);
    return 0;
  }
  insp_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "inspect: no memory");
  }
  s->step = step;
  s->loop = ain_step_loop(step);
  s->cfg = cfg;
  s->deps = cJSON_Parse(step->task.deps_result ? step->task.deps_result : "{}");
  snprintf(s->task_id, sizeof s->task_id, "%s", step->task.id);
  const char *data = ain_step_data_dir(step);
  snprintf(s->objects, sizeof s->objects, "%s/objects", data);
  snprintf(s->dir, sizeof s->dir, "%s/work/%s", data, step->task.id);
  s->video_key = str_at(s->deps, "render", "artifacts", "video");
  s->script_text = str_at(s->deps, "script", "text", NULL);
  s->captions_key = str_at(s->deps, "render", "artifacts", "captions");
  if (s->video_key == NULL || s->script_text == NULL) {
    /* Bad input: no retry can make the render or the script appear. */
    ain_step_fail(step,
                  AIN_EINVAL,
                  s->video_key == NULL ? "step inspect: needs deps.render.artifacts.video (the "
                                         "render step's result)"
                                       : "step inspect: needs deps.script.text (the script step's "
                                         "result)",
                  1);
    insp_free(s);
    return 0;
  }
  step->priv = s;
  s->work.data = s;
  int rc = uv_queue_work(s->loop, &s->work, find_video, after_find);
  if (rc != 0) {
    step->priv = NULL;
    insp_free(s);
    return ain_err_set(err, AIN_EIO, "inspect: queueing a thread-pool job: %s", uv_strerror(rc));
  }
  return 0;
}

static void insp_cancel(ain_step_t *step, int code, const char *why) {
  insp_t *s = step->priv;
  if (s == NULL) {
    return;
  }
  /* Detach first: the outstanding operation's callback will only clean up. */
  step->priv = NULL;
  s->step = NULL;
  if (s->job != NULL) {
    ain_media_inspect_cancel(s->job);
  }
  ain_step_fail(step, code, why, 0);
}

const ain_builtin_t ain__builtin_inspect = {"inspect", insp_start, insp_cancel};
