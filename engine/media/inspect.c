/* Inspecting a rendered video: what the viewer sees (OCR of sampled frames) and hears (speech
 * recognition of the audio), for the judge's output checks. Two chains run at once, each a pair
 * of child processes under one deadline:
 *   frames: ffmpeg (one grey, scaled frame per interval) -> list file (pool) -> tesseract
 *   audio:  ffmpeg (16 kHz mono WAV) -> pocketsphinx_continuous with the script's model
 * after the recogniser's model is built on the thread pool (asrlm.c). Any failure kills the other
 * chain's child and ends the job with the first error; cancelling kills both (process groups,
 * through loop/proc.h).
 * Relies on: media/ffrun.c (children), media/asrlm.c (model), libuv (pool), POSIX dirent. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "media/internal.h"

#define INSPECT_TESSERACT "tesseract"
#define INSPECT_POCKETSPHINX "pocketsphinx_continuous"
#define INSPECT_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#define INSPECT_MAX_FRAMES 600

extern char **environ;

struct ain_media_inspect {
  uv_loop_t *loop;
  char *mp4, *dir, *script, *tess, *ps, *model_dir;
  int64_t interval_ms;
  int ocr_height;
  double masks[AIN_MEDIA_OCR_MASKS][4];
  int64_t (*skip)[2];
  size_t n_skip;
  double lw;
  int64_t timeout_ms;
  uint64_t t0, deadline_ns;
  uint64_t t_audio, t_frames; /* when the current child of each chain started */
  int pending; /* operations outstanding: pool jobs and children */
  int cancelled;
  int status;
  ain_err_t err;
  ain__ffrun_t *run_audio, *run_video; /* the running child of each chain */
  uv_work_t work;                      /* model, then the frame list (never both at once) */
  int work_rc;
  ain_err_t work_err;
  char **env; /* for tesseract: ours plus OMP_THREAD_LIMIT=1 */
  int64_t *t_ms; /* each listed frame's time, from its file name */
  ain_media_inspect_result_t res;
  ain_media_inspect_cb cb;
  void *data;
};

static double ms_since(uint64_t t) {
  return (double)(ain_mono_ns() - t) / 1e6;
}

/* ---- argv --------------------------------------------------------------------------------------
 */

static void path_in(const char *dir, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", dir, name);
}

/* The frames' filter: one sample per interval outside the skipped windows, timed in ms, scaled,
 * the masks drawn, grey. */
static void frames_filter(ain__argv_t *a, int64_t interval_ms, int ocr_height,
                          const double (*masks)[4], const int64_t (*skip)[2], size_t n_skip) {
  size_t cap = 256 + n_skip * 48 + AIN_MEDIA_OCR_MASKS * 96, n = 0;
  char *f = malloc(cap);
  if (f == NULL) {
    abort();
  }
  n += (size_t)snprintf(f + n, cap - n, "select='gte(t,(selected_n+0.5)*%.3f)",
                        (double)interval_ms / 1000.0);
  for (size_t i = 0; i < n_skip; i++) {
    n += (size_t)snprintf(f + n, cap - n, "*not(between(t,%.3f,%.3f))",
                          (double)skip[i][0] / 1000.0, (double)(skip[i][1] - 1) / 1000.0);
  }
  n += (size_t)snprintf(f + n, cap - n, "',settb=1/1000,scale=-2:%d", ocr_height);
  for (int i = 0; i < AIN_MEDIA_OCR_MASKS && masks[i][2] > 0; i++) {
    /* drawbox reads a size of 0 as the whole frame: a sliver that prints as 0.000 is left out */
    if (masks[i][2] < 0.001 || masks[i][3] < 0.001) {
      continue;
    }
    n += (size_t)snprintf(f + n, cap - n,
                          ",drawbox=x=iw*%.3f:y=ih*%.3f:w=iw*%.3f:h=ih*%.3f:color=black:t=fill",
                          masks[i][0], masks[i][1], masks[i][2], masks[i][3]);
  }
  snprintf(f + n, cap - n, ",format=gray");
  ain__argv_push(a, f);
  free(f);
}

static char **argv_build(const char *mp4, const char *dir, const char *which, int64_t interval_ms,
                         int ocr_height, const double (*masks)[4], const int64_t (*skip)[2],
                         size_t n_skip, double lw, const char *tess, const char *ps,
                         const char *model_dir) {
  ain__argv_t a = {0};
  char p[4200];
  if (strcmp(which, "frames") == 0) {
    ain__argv_ffmpeg(&a);
    /* Decode no B-frames: the render's x264 makes ~3 of 4 frames B-frames, and the I and P frames
     * left (every ~130 ms) are plenty for one sample per interval. A third of the CPU. */
    ain__argv_push(&a, "-skip_frame");
    ain__argv_push(&a, "bidir");
    ain__argv_push(&a, "-i");
    ain__argv_push(&a, mp4);
    ain__argv_push(&a, "-map");
    ain__argv_push(&a, "0:v:0");
    ain__argv_push(&a, "-an");
    /* The first frame at or after the middle of each interval: captions change every few
     * hundred ms, so a frame at 0 s would show the video before the first word. Its timestamp,
     * in ms, names its file (settb, -enc_time_base, -frame_pts): the frame shown is the first I
     * or P frame after the mark, up to ~130 ms later, and the checks compare it with the
     * captions on screen at that very time. */
    ain__argv_push(&a, "-vf");
    frames_filter(&a, interval_ms, ocr_height, masks, skip, n_skip);
    ain__argv_push(&a, "-fps_mode");
    ain__argv_push(&a, "vfr");
    ain__argv_push(&a, "-enc_time_base");
    ain__argv_push(&a, "1:1000");
    ain__argv_push(&a, "-frame_pts");
    ain__argv_push(&a, "1");
    ain__argv_push(&a, "-frames:v");
    ain__argv_pushf(&a, "%d", INSPECT_MAX_FRAMES);
    path_in(dir, "f%010d.png", p, sizeof p);
    ain__argv_push(&a, p);
  } else if (strcmp(which, "audio") == 0) {
    ain__argv_ffmpeg(&a);
    ain__argv_push(&a, "-i");
    ain__argv_push(&a, mp4);
    static const char *const mid[] = {"-map", "0:a:0", "-vn",       "-ac", "1",
                                      "-ar",  "16000", "-c:a", "pcm_s16le"};
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
      ain__argv_push(&a, mid[i]);
    }
    path_in(dir, "audio.wav", p, sizeof p);
    ain__argv_push(&a, p);
  } else if (strcmp(which, "ocr") == 0) {
    ain__argv_push(&a, tess);
    path_in(dir, "frames.txt", p, sizeof p); /* a list of images: one page each, \f after each */
    ain__argv_push(&a, p);
    ain__argv_push(&a, "stdout");
    ain__argv_push(&a, "-l");
    ain__argv_push(&a, "eng");
    ain__argv_push(&a, "--psm"); /* sparse text: a title at the top, captions at the bottom */
    ain__argv_push(&a, "11");
    ain__argv_push(&a, "tsv"); /* every word with its box and confidence */
  } else if (strcmp(which, "asr") == 0) {
    ain__argv_push(&a, ps);
    ain__argv_push(&a, "-infile");
    path_in(dir, "audio.wav", p, sizeof p);
    ain__argv_push(&a, p);
    ain__argv_push(&a, "-hmm");
    path_in(model_dir, "en-us", p, sizeof p);
    ain__argv_push(&a, p);
    ain__argv_push(&a, "-lm");
    path_in(dir, "script.lm", p, sizeof p);
    ain__argv_push(&a, p);
    ain__argv_push(&a, "-dict");
    path_in(dir, "script.dic", p, sizeof p);
    ain__argv_push(&a, p);
    ain__argv_push(&a, "-lw");
    ain__argv_pushf(&a, "%.2f", lw);
  } else {
    return NULL;
  }
  return a.v;
}

static int64_t def_interval(const ain_media_inspect_opts_t *o) {
  return o->frame_interval_ms > 0 ? o->frame_interval_ms : 2000;
}

char **ain_media_inspect_argv(const ain_media_inspect_opts_t *o, const char *which,
                              const char *dir) {
  if (o == NULL || which == NULL || dir == NULL || o->mp4 == NULL) {
    return NULL;
  }
  return argv_build(o->mp4, dir, which, def_interval(o), o->ocr_height > 0 ? o->ocr_height : 960,
                    (const double(*)[4])o->ocr_masks, o->skip_ms, o->n_skip, o->asr_lw > 0 ? o->asr_lw : 10.0, o->tesseract ? o->tesseract : INSPECT_TESSERACT,
                    o->pocketsphinx ? o->pocketsphinx : INSPECT_POCKETSPHINX,
                    o->asr_model_dir ? o->asr_model_dir : INSPECT_MODEL_DIR);
}

void ain_media_argv_free(char **argv) {
  for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
    free(argv[i]);
  }
  free(argv);
}

/* ---- parsing ---------------------------------------------------------------------------------- */

char *ain_media_asr_parse(const char *out, size_t *words) {
  size_t len = out ? strlen(out) : 0;
  char *r = malloc(len + 1);
  if (r == NULL) {
    abort();
  }
  size_t n = 0, w = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && (out[i] == ' ' || out[i] == '\n' || out[i] == '\r' || out[i] == '\t')) {
      i++;
    }
    size_t j = i;
    while (j < len && out[j] != ' ' && out[j] != '\n' && out[j] != '\r' && out[j] != '\t') {
      j++;
    }
    /* Fillers and markers ("<sil>", "[NOISE]", "(2)") are not words anyone said. */
    if (j > i && out[i] != '<' && out[i] != '[' && out[i] != '(') {
      if (n > 0) {
        r[n++] = ' ';
      }
      for (size_t k = i; k < j; k++) {
        char c = out[k];
        r[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
      }
      w++;
    }
    i = j;
  }
  r[n] = '\0';
  *words = w;
  return r;
}

void ain_media_inspect_result_free(ain_media_inspect_result_t *res) {
  /* n_frames is set when the frames are listed, frames only once tesseract's pages are parsed. */
  ain_media_ocr_frames_free(res->frames, res->frames != NULL ? res->n_frames : 0);
  free(res->asr_text);
  free(res->oov);
  memset(res, 0, sizeof *res);
}

/* ---- the job ---------------------------------------------------------------------------------- */

static void job_free(ain_media_inspect_t *j) {
  ain_media_inspect_result_free(&j->res);
  free(j->mp4);
  free(j->dir);
  free(j->script);
  free(j->tess);
  free(j->ps);
  free(j->model_dir);
  ain_media_argv_free(j->env);
  free(j->t_ms);
  free(j->skip);
  free(j);
}

/* Records the first error and stops the other chain. */
static void job_error(ain_media_inspect_t *j, int status, const ain_err_t *err) {
  if (j->status == 0) {
    j->status = status;
    j->err = *err;
  }
  if (j->run_audio != NULL) {
    ain__ffrun_cancel(j->run_audio);
  }
  if (j->run_video != NULL) {
    ain__ffrun_cancel(j->run_video);
  }
}

/* One outstanding operation ended; the last one finishes the job. */
static void job_step_done(ain_media_inspect_t *j) {
  if (--j->pending > 0) {
    return;
  }
  if (j->status == 0 && j->cancelled) {
    j->status = ain_err_set(&j->err, AIN_ECANCELLED, "inspect: cancelled");
  }
  j->res.ms_total = ms_since(j->t0);
  j->cb(j->status, j->status == 0 ? &j->res : NULL, j->status ? &j->err : NULL, j->data);
  job_free(j);
}

static int64_t time_left(ain_media_inspect_t *j, ain_err_t *err) {
  uint64_t now = ain_mono_ns();
  if (now >= j->deadline_ns) {
    ain_err_set(err, AIN_ETIMEOUT, "inspect: timed out after %lld ms", (long long)j->timeout_ms);
    return -1;
  }
  int64_t left = (int64_t)((j->deadline_ns - now) / 1000000);
  return left > 0 ? left : 1;
}

/* Starts one child; on failure records the error (naming the Debian package for a missing
 * program) and returns nonzero. */
static int job_spawn(ain_media_inspect_t *j, const char *which, const char *what, const char *pkg,
                     ain__ffrun_cb cb, ain__ffrun_t **slot) {
  ain_err_t e;
  ain_err_clear(&e);
  int64_t left = time_left(j, &e);
  if (left < 0) {
    job_error(j, AIN_ETIMEOUT, &e);
    return -1;
  }
  char **argv = argv_build(j->mp4, j->dir, which, j->interval_ms, j->ocr_height,
                           (const double(*)[4])j->masks, (const int64_t(*)[2])j->skip, j->n_skip,
                           j->lw, j->tess,
                           j->ps, j->model_dir);
  ain__ffrun_opts_t fo = {.what = what,
                          .argv = argv,
                          .timeout_ms = left,
                          .keep_stdout = 1,
                          .env = strcmp(which, "ocr") == 0 ? j->env : NULL};
  int rc = ain__ffrun(j->loop, &fo, cb, j, slot, &e);
  ain_media_argv_free(argv);
  if (rc != 0) {
    if (rc == AIN_ESPAWN) {
      ain_err_t e2;
      ain_err_set(&e2, rc, "%s (is the Debian package %s installed?)", e.msg, pkg);
      e = e2;
    }
    job_error(j, rc, &e);
    return rc;
  }
  j->pending++;
  return 0;
}

static void on_asr(int status, const char *out, const char *errtext, ain_err_t *err, void *data) {
  (void)errtext;
  ain_media_inspect_t *j = data;
  j->run_audio = NULL;
  j->res.ms_asr = ms_since(j->t_audio);
  if (status != 0) {
    job_error(j, status, err);
  } else {
    j->res.asr_text = ain_media_asr_parse(out, &j->res.asr_words);
  }
  job_step_done(j);
}

static void on_audio(int status, const char *out, const char *errtext, ain_err_t *err,
                     void *data) {
  (void)out;
  (void)errtext;
  ain_media_inspect_t *j = data;
  j->run_audio = NULL;
  j->res.ms_audio = ms_since(j->t_audio);
  if (status != 0) {
    job_error(j, status, err);
  } else if (j->status == 0 && !j->cancelled) {
    j->t_audio = ain_mono_ns();
    job_spawn(j, "asr", "inspect: pocketsphinx", "pocketsphinx", on_asr, &j->run_audio);
  }
  job_step_done(j);
}

static void on_ocr(int status, const char *out, const char *errtext, ain_err_t *err, void *data) {
  (void)errtext;
  ain_media_inspect_t *j = data;
  j->run_video = NULL;
  j->res.ms_ocr = ms_since(j->t_frames);
  if (status != 0) {
    job_error(j, status, err);
  } else {
    ain_err_t e;
    ain_err_clear(&e);
    int rc = ain_media_ocr_parse_tsv(out, j->res.n_frames, j->t_ms, &j->res.frames, &e);
    if (rc != 0) {
      j->res.n_frames = 0;
      job_error(j, rc, &e);
    }
  }
  job_step_done(j);
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pool: the frames ffmpeg wrote, in order, into frames.txt (tesseract's list of images). */
static void list_frames(uv_work_t *w) {
  ain_media_inspect_t *j = w->data;
  ain_err_clear(&j->work_err);
  j->work_rc = 0;
  DIR *d = opendir(j->dir);
  if (d == NULL) {
    j->work_rc = ain_err_set(&j->work_err, AIN_EIO, "inspect: cannot list %s", j->dir);
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] != 'f' || l < 5 || strcmp(e->d_name + l - 4, ".png") != 0) {
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **v = realloc(names, cap * sizeof *v);
      if (v == NULL) {
        abort();
      }
      names = v;
    }
    names[n++] = ain_strdup(e->d_name);
  }
  closedir(d);
  if (n > 0) {
    qsort(names, n, sizeof *names, name_cmp);
  }
  char list[4200];
  path_in(j->dir, "frames.txt", list, sizeof list);
  FILE *f = fopen(list, "w");
  if (f == NULL) {
    j->work_rc = ain_err_set(&j->work_err, AIN_EIO, "inspect: cannot write %s", list);
  }
  j->t_ms = calloc(n ? n : 1, sizeof *j->t_ms);
  if (j->t_ms == NULL) {
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    if (f != NULL) {
      fprintf(f, "%s/%s\n", j->dir, names[i]);
    }
    j->t_ms[i] = strtoll(names[i] + 1, NULL, 10); /* f<pts in ms>.png */
    free(names[i]);
  }
  free(names);
  if (f != NULL && fclose(f) != 0) {
    j->work_rc = ain_err_set(&j->work_err, AIN_EIO, "inspect: writing %s failed", list);
  }
  j->res.n_frames = n;
}

static void after_list(uv_work_t *w, int status) {
  ain_media_inspect_t *j = w->data;
  if (status != 0 || j->work_rc != 0) {
    if (status != 0) {
      ain_err_set(&j->work_err, AIN_ECANCELLED, "inspect: thread-pool job cancelled");
    }
    job_error(j, j->work_rc ? j->work_rc : AIN_ECANCELLED, &j->work_err);
  } else if (j->status == 0 && !j->cancelled) {
    if (j->res.n_frames == 0) {
      j->res.frames = calloc(1, sizeof *j->res.frames); /* a video shorter than half an interval */
    } else {
      j->t_frames = ain_mono_ns();
      job_spawn(j, "ocr", "inspect: tesseract", "tesseract-ocr", on_ocr, &j->run_video);
    }
  }
  job_step_done(j);
}

static void on_frames(int status, const char *out, const char *errtext, ain_err_t *err,
                      void *data) {
  (void)out;
  (void)errtext;
  ain_media_inspect_t *j = data;
  j->run_video = NULL;
  j->res.ms_frames = ms_since(j->t_frames);
  if (status != 0) {
    job_error(j, status, err);
  } else if (j->status == 0 && !j->cancelled) {
    j->work.data = j;
    int rc = uv_queue_work(j->loop, &j->work, list_frames, after_list);
    if (rc != 0) {
      ain_err_t e;
      ain_err_set(&e, AIN_EIO, "inspect: queueing a thread-pool job: %s", uv_strerror(rc));
      job_error(j, AIN_EIO, &e);
    } else {
      j->pending++;
    }
  }
  job_step_done(j);
}

/* Pool: the work folder and the recogniser's model. */
static void build_model(uv_work_t *w) {
  ain_media_inspect_t *j = w->data;
  uint64_t t = ain_mono_ns();
  ain_err_clear(&j->work_err);
  j->work_rc = 0;
  int e = ain_mkdir_p(j->dir);
  if (e != 0) {
    j->work_rc = ain_err_set(&j->work_err, AIN_EIO, "inspect: mkdir %s: %s", j->dir, strerror(-e));
    return;
  }
  char hmm[4200], dict[4200], lm[4200], dic[4200];
  path_in(j->model_dir, "en-us/mdef", hmm, sizeof hmm);
  struct stat st;
  if (stat(hmm, &st) != 0) {
    j->work_rc = ain_err_field(&j->work_err, AIN_EIO, "asr_model_dir",
                               "inspect: no acoustic model at %s (Debian package "
                               "pocketsphinx-en-us)",
                               hmm);
    return;
  }
  path_in(j->model_dir, "cmudict-en-us.dict", dict, sizeof dict);
  path_in(j->dir, "script.lm", lm, sizeof lm);
  path_in(j->dir, "script.dic", dic, sizeof dic);
  j->work_rc = ain_media_asr_model(j->script, dict, lm, dic, &j->res.model_words, &j->res.oov,
                                   &j->work_err);
  j->res.ms_model = ms_since(t);
}

static void after_model(uv_work_t *w, int status) {
  ain_media_inspect_t *j = w->data;
  if (status != 0 || j->work_rc != 0) {
    if (status != 0) {
      ain_err_set(&j->work_err, AIN_ECANCELLED, "inspect: thread-pool job cancelled");
    }
    job_error(j, j->work_rc ? j->work_rc : AIN_ECANCELLED, &j->work_err);
  } else if (j->status == 0 && !j->cancelled) {
    j->t_audio = j->t_frames = ain_mono_ns();
    if (job_spawn(j, "audio", "inspect: ffmpeg audio", "ffmpeg", on_audio, &j->run_audio) == 0) {
      job_spawn(j, "frames", "inspect: ffmpeg frames", "ffmpeg", on_frames, &j->run_video);
    }
  }
  job_step_done(j);
}

static char **env_with_omp(void) {
  size_t n = 0;
  while (environ != NULL && environ[n] != NULL) {
    n++;
  }
  char **env = calloc(n + 2, sizeof *env);
  if (env == NULL) {
    abort();
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "OMP_THREAD_LIMIT=", 17) != 0) {
      env[k++] = ain_strdup(environ[i]);
    }
  }
  /* tesseract's OpenMP threads would fight the recogniser and the renders for the cores. */
  env[k] = ain_strdup("OMP_THREAD_LIMIT=1");
  return env;
}

int ain_media_inspect(uv_loop_t *loop, const ain_media_inspect_opts_t *o, ain_media_inspect_cb cb,
                      void *data, ain_media_inspect_t **job, ain_err_t *err) {
  if (o == NULL || cb == NULL || o->mp4 == NULL || o->work_dir == NULL) {
    return ain_err_set(err, AIN_EINVAL, "inspect: mp4, work_dir and a callback are required");
  }
  if (o->script_text == NULL) {
    return ain_err_field(err, AIN_EINVAL, "script_text", "inspect: script_text is required");
  }
  int64_t interval = def_interval(o);
  int h = o->ocr_height > 0 ? o->ocr_height : 960;
  if (interval < 100 || interval > 600000) {
    return ain_err_field(err, AIN_EINVAL, "frame_interval_ms",
                         "inspect: frame_interval_ms %lld out of 100..600000", (long long)interval);
  }
  if (h < 64 || h > 8192) {
    return ain_err_field(err, AIN_EINVAL, "ocr_height", "inspect: ocr_height %d out of 64..8192",
                         h);
  }
  if (o->asr_lw < 0 || o->asr_lw > 100) {
    return ain_err_field(err, AIN_EINVAL, "asr_lw", "inspect: asr_lw %g out of 0..100", o->asr_lw);
  }
  if (strlen(o->work_dir) > 4000) {
    return ain_err_field(err, AIN_ETOOBIG, "work_dir", "inspect: work_dir too long");
  }
  if (o->n_skip > AIN_MEDIA_OCR_SKIPS || (o->n_skip > 0 && o->skip_ms == NULL)) {
    return ain_err_field(err, AIN_EINVAL, "skip_ms", "inspect: %zu skipped windows, at most %d",
                         o->n_skip, AIN_MEDIA_OCR_SKIPS);
  }
  for (size_t i = 0; i < o->n_skip; i++) {
    if (o->skip_ms[i][0] < 0 || o->skip_ms[i][1] <= o->skip_ms[i][0]) {
      return ain_err_field(err, AIN_EINVAL, "skip_ms",
                           "inspect: skipped window %zu is %lld..%lld ms: want 0 <= start < end", i,
                           (long long)o->skip_ms[i][0], (long long)o->skip_ms[i][1]);
    }
  }
  ain_media_inspect_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "inspect: no memory");
  }
  j->loop = loop;
  j->mp4 = ain_strdup(o->mp4);
  j->dir = ain_strdup(o->work_dir);
  j->script = ain_strdup(o->script_text);
  j->tess = ain_strdup(o->tesseract ? o->tesseract : INSPECT_TESSERACT);
  j->ps = ain_strdup(o->pocketsphinx ? o->pocketsphinx : INSPECT_POCKETSPHINX);
  j->model_dir = ain_strdup(o->asr_model_dir ? o->asr_model_dir : INSPECT_MODEL_DIR);
  j->interval_ms = interval;
  j->ocr_height = h;
  for (int m = 0; m < AIN_MEDIA_OCR_MASKS; m++) {
    for (int i = 0; i < 4; i++) {
      double v = o->ocr_masks[m][i];
      j->masks[m][i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  if (o->n_skip > 0) {
    j->skip = malloc(o->n_skip * sizeof *j->skip);
    if (j->skip == NULL) {
      abort();
    }
    memcpy(j->skip, o->skip_ms, o->n_skip * sizeof *j->skip);
    j->n_skip = o->n_skip;
  }
  j->lw = o->asr_lw > 0 ? o->asr_lw : 10.0;
  j->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000;
  j->env = env_with_omp();
  j->cb = cb;
  j->data = data;
  j->t0 = ain_mono_ns();
  j->deadline_ns = j->t0 + (uint64_t)j->timeout_ms * 1000000ULL;
  j->work.data = j;
  int rc = uv_queue_work(loop, &j->work, build_model, after_model);
  if (rc != 0) {
    job_free(j);
    return ain_err_set(err, AIN_EIO, "inspect: queueing a thread-pool job: %s", uv_strerror(rc));
  }
  j->pending = 1;
  if (job != NULL) {
    *job = j;
  }
  return 0;
}

void ain_media_inspect_cancel(ain_media_inspect_t *j) {
  j->cancelled = 1;
  if (j->run_audio != NULL) {
    ain__ffrun_cancel(j->run_audio);
  }
  if (j->run_video != NULL) {
    ain__ffrun_cancel(j->run_video);
  }
}
