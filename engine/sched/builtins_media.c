/* The media built-ins of the video DAG (scripts/agents/pipeline.lua): "tts" (speech + word
 * timings, loudness-normalised), "assets" (the persona's background) and "render" (captions,
 * one-pass ffmpeg render with live percent, ffprobe + the output gate, thumbnail). Each reads its
 * inputs from the step payload and its dependencies' results, writes its files into the object
 * store (data_dir/objects, content-addressed) and succeeds with a result naming the keys, after
 * recording them as the step's checkpoint (checkpoint.c). Tools run as child processes or on the
 * thread pool (engine/media); object-store calls are blocking file I/O and run on the pool.
 *
 * The tts step's audio is the final mix: speech from the persona's provider (espeak-ng, festival,
 * an OpenAI-compatible server; word times aligned by pocketsphinx when the provider has none),
 * normalised, a music bed ducked under it (config music), and the mix normalised to -14 LUFS /
 * -1 dBTP, so the render's audio input stays one file.
 * The render result is the contract judge.lua and publisher.lua read:
 * {gate_ok, gate_error, video_id, probe = {duration, width, height, video_codec, audio_codec, ...},
 *  artifacts = {video, thumbnail, captions}, duration_ms, speech_ms}.
 * The video size is config media.width x media.height (the judge checks the same), so a test
 * config renders small videos with the production DAG.
 * Relies on: sched/media_step.h, media/media.h, objstore/objstore.h, cJSON. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/util.h"
#include "objstore/objstore.h"
#include "objstore/open.h"
#include "obs/obs.h"
#include "sched/media_step.h"
#include "sched/scenes_step.h"

enum { K_TTS, K_ASSETS, K_RENDER };

/* What the three built-ins carry between their stages. */
typedef struct {
  /* tts */
  cJSON *words;
  int64_t duration_ms;
  int sample_rate;
  int aligned;
  int stage;           /* 0 measure (or loudness without music), 1 mix, 2 mix loudness, 3 store */
  double speech_gain_db;
  char *spoken;        /* what the voice read (normalised text) */
  char music[4096];    /* the library file of the bed, "" = generated */
  char music_key[16];  /* the generated pad's key */
  char *api_key;       /* tts.openai.secret's value, between the pool and the synthesis */
  size_t api_key_len;
  /* assets */
  char bg_path[4096];
  int bg_cached;
  cJSON *library; /* the media library's index (scenes_step.c) */
  /* render: the scenes from deps.visuals with local files, when the DAG has a visuals step */
  ain__scenes_t scenes;
  double picture_y; /* where the pictures rest (fraction of the height), clear of the captions */
  /* render */
  char audio_path[4096], bg_in[4096];
  int64_t speech_ms;
  ain_media_probe_t probe;
  int gate_rc;
  char gate_error[512];
  uint64_t render_ns; /* ffmpeg's wall time, start to exit (bench/render.sh compares it) */
  uint64_t wait_ns;   /* time spent waiting for a render slot */
  /* keys written (tts: audio; assets: background; render: video, thumbnail, captions) */
  char keys[3][AIN_OBJSTORE_KEY_MAX + 1];
} media_x_t;

static media_x_t *X(ain__mstep_t *m) {
  return m->x;
}

/* Render slots, process-wide: x264 uses more than one core, so renders beyond
 * media.max_renders (0 = cores / 2, at least 2: one render alone leaves a third of two cores
 * idle in its single-threaded filter stages; measured, the 14-video demo on 2 cores took 257 s
 * with one slot and 195 s with two) wait here in arrival order instead of slowing each other down
 * and multiplying ffmpeg's ~340 MB at 1080x1920. Shards are threads: the queue is under a mutex,
 * and a slot is handed to a waiting render on another shard through that render's own uv_async
 * (created on its loop when it started waiting). Its timeout restarts when it gets the slot. */
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static int slots_used;                      /* guarded by slots_mu */
static ain__mstep_t *wait_head, *wait_tail; /* guarded by slots_mu */

static void render_go(ain__mstep_t *m);

/* The render-slot gauges (ain_render_slots_busy, _queued); with slots_mu held. */
static void slots_gauges(void) {
  int queued = 0;
  for (const ain__mstep_t *w = wait_head; w != NULL; w = w->wait_next) {
    queued++;
  }
  ain_obs_set(AIN_M_RENDER_SLOTS_BUSY, NULL, slots_used);
  ain_obs_set(AIN_M_RENDER_SLOTS_QUEUED, NULL, queued);
}

int ain__mstep_render_slots(const ain_config_t *cfg) {
  if (cfg->media.max_renders > 0) {
    return (int)cfg->media.max_renders;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores >= 4 ? (int)(cores / 2) : 2;
}

static int slot_limit(const ain__mstep_t *m) {
  return ain__mstep_render_slots(m->cfg);
}

/* Gives the slot back; the next waiting render (any shard) gets it. On m's loop thread. */
static void slot_release(ain__mstep_t *m) {
  if (!m->has_slot) {
    return;
  }
  m->has_slot = 0;
  pthread_mutex_lock(&slots_mu);
  slots_used--;
  ain__mstep_t *next = wait_head;
  if (next != NULL) {
    wait_head = next->wait_next;
    if (wait_head == NULL) {
      wait_tail = NULL;
    }
    next->wait_next = NULL;
    next->has_slot = 1; /* read by its own thread only after the async below */
    slots_used++;
    uv_async_send(&next->wake);
  }
  slots_gauges();
  pthread_mutex_unlock(&slots_mu);
}

static void on_wake_closed(uv_handle_t *h) {
  ain__mstep_t *m = h->data;
  m->waiting = 0;
  if (ain__mstep_detached(m)) {
    return; /* cancelled meanwhile: release gives the slot (if granted) to the next one */
  }
  render_go(m);
}

static void on_slot(uv_async_t *a) {
  uv_close((uv_handle_t *)a, on_wake_closed);
}

/* 1 if m got a slot now; else it waits (its step keeps running until on_slot). */
static int slot_take_or_wait(ain__mstep_t *m) {
  pthread_mutex_lock(&slots_mu);
  if (slots_used < slot_limit(m)) {
    slots_used++;
    m->has_slot = 1;
    slots_gauges();
    pthread_mutex_unlock(&slots_mu);
    return 1;
  }
  uv_async_init(m->loop, &m->wake, on_slot);
  m->wake.data = m;
  m->waiting = 1;
  if (wait_tail != NULL) {
    wait_tail->wait_next = m;
  } else {
    wait_head = m;
  }
  wait_tail = m;
  slots_gauges();
  pthread_mutex_unlock(&slots_mu);
  return 0;
}

/* A waiting render was cancelled: leave the queue (unless a slot is already on its way) and close
 * the async; on_wake_closed then releases the detached state. */
static void slot_cancel_wait(ain__mstep_t *m) {
  pthread_mutex_lock(&slots_mu);
  for (ain__mstep_t **p = &wait_head, *prev = NULL; *p != NULL; prev = *p, p = &(*p)->wait_next) {
    if (*p == m) {
      *p = m->wait_next;
      if (wait_tail == m) {
        wait_tail = prev;
      }
      m->wait_next = NULL;
      break;
    }
  }
  slots_gauges();
  pthread_mutex_unlock(&slots_mu);
  if (!uv_is_closing((uv_handle_t *)&m->wake)) {
    uv_close((uv_handle_t *)&m->wake, on_wake_closed);
  }
}

/* ---- state, pool jobs, endings ----------------------------------------------------------------
 */

static int mkdir_p(const char *path, ain_err_t *err) {
  int e = ain_mkdir_p(path);
  return e != 0 ? ain_err_set(err, AIN_EIO, "mkdir %s: %s", path, strerror(-e)) : 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static void on_pool(uv_work_t *w) {
  ain__mstep_t *m = w->data;
  ain_err_clear(&m->work_err);
  m->work_rc = 0;
  m->work_fn(m);
}

static void free_state(ain__mstep_t *m) {
  media_x_t *x = m->x;
  if (x != NULL) {
    cJSON_Delete(x->words);
    free(x->spoken);
    if (x->api_key != NULL) {
      ain_secret_free(x->api_key, x->api_key_len);
    }
    cJSON_Delete(x->library);
    ain__scenes_free(&x->scenes);
    free(x);
  }
  cJSON_Delete(m->payload);
  cJSON_Delete(m->deps);
  ain_store_req_cleanup(&m->req);
  ain_artifact_free(&m->art);
  free(m->ckpt_keys);
  free(m->ckpt_result);
  free(m->step_name);
  free(m);
}

static void after_release(uv_work_t *w, int status) {
  (void)status;
  free_state(w->data);
}

static void remove_dir(ain__mstep_t *m) {
  nftw(m->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void ain__mstep_release(ain__mstep_t *m) {
  slot_release(m);
  if (m->step != NULL) {
    m->step->priv = NULL;
    m->step = NULL;
  }
  ain_progress_slot_free(m->progress, m->progress_slot);
  m->progress_slot = -1;
  m->work_fn = remove_dir;
  m->work.data = m;
  if (uv_queue_work(m->loop, &m->work, on_pool, after_release) != 0) {
    free_state(m); /* the scratch folder stays; the next attempt of the task reuses its name */
  }
}

int ain__mstep_detached(ain__mstep_t *m) {
  if (m->step != NULL) {
    return 0;
  }
  ain__mstep_release(m);
  return 1;
}

void ain__mstep_fail(ain__mstep_t *m, int code, const char *msg, int permanent) {
  ain_step_t *step = m->step;
  if (step != NULL) {
    ain_step_fail(step, code, msg, permanent);
  }
  ain__mstep_release(m);
}

static void after_pool(uv_work_t *w, int status) {
  ain__mstep_t *m = w->data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    m->work_rc = ain_err_set(&m->work_err, AIN_ECANCELLED, "thread-pool job cancelled");
  }
  m->after(m);
}

void ain__mstep_work(ain__mstep_t *m, void (*fn)(ain__mstep_t *m), ain__mstep_fn after) {
  m->work_fn = fn;
  m->after = after;
  m->work.data = m;
  int rc = uv_queue_work(m->loop, &m->work, on_pool, after_pool);
  if (rc != 0) {
    m->work_rc =
        ain_err_set(&m->work_err, AIN_EIO, "queueing a thread-pool job: %s", uv_strerror(rc));
    after(m);
  }
}

/* Fails the step with the pool job's error when there was one; 1 if it did. */
static int work_failed(ain__mstep_t *m) {
  if (m->work_rc == 0) {
    return 0;
  }
  ain__mstep_fail(m, m->work_rc, m->work_err.msg, 0);
  return 1;
}

static ain__mstep_t *mstep_new(ain_step_t *step, int kind, ain_err_t *err) {
  const ain_task_t *t = &step->task;
  cJSON *payload = cJSON_Parse(t->payload ? t->payload : "{}");
  if (!cJSON_IsObject(payload)) {
    cJSON_Delete(payload);
    ain_err_field(err, AIN_EINVAL, "payload", "payload is not a JSON object");
    return NULL;
  }
  ain__mstep_t *m = calloc(1, sizeof *m);
  media_x_t *x = calloc(1, sizeof *x);
  if (m == NULL || x == NULL) {
    abort();
  }
  m->step = step;
  m->loop = ain_step_loop(step);
  m->cfg = step->shard->engine->cfg;
  m->progress = &step->shard->engine->progress;
  m->progress_slot = -1;
  m->kind = kind;
  m->x = x;
  m->payload = payload;
  m->deps = cJSON_Parse(t->deps_result ? t->deps_result : "{}");
  if (!cJSON_IsObject(m->deps)) {
    cJSON_Delete(m->deps);
    m->deps = cJSON_CreateObject();
  }
  snprintf(m->dag_id, sizeof m->dag_id, "%s", t->dag_id);
  snprintf(m->task_id, sizeof m->task_id, "%s", t->id);
  snprintf(m->trace_id, sizeof m->trace_id, "%s", step->trace_hex);
  snprintf(m->span_id, sizeof m->span_id, "%s", step->span_hex);
  m->step_name = ain_strdup(t->step);
  const char *data = ain_step_data_dir(step);
  snprintf(m->objects, sizeof m->objects, "%s/objects", data);
  snprintf(m->cache, sizeof m->cache, "%s/cache", data);
  snprintf(m->dir, sizeof m->dir, "%s/work/%s", data, t->id);
  step->priv = m;
  return m;
}

static void media_cancel(ain_step_t *step, int code, const char *why) {
  ain__mstep_t *m = step->priv;
  if (m == NULL) {
    return;
  }
  /* Detach first: the outstanding operation's callback will only clean up. */
  step->priv = NULL;
  m->step = NULL;
  if (m->waiting) {
    ain_step_fail(step, code, why, 0);
    slot_cancel_wait(m); /* the async's close callback releases the state */
    return;
  }
  if (m->job != NULL) {
    ain_media_job_cancel(m->job);
  }
  ain_step_fail(step, code, why, 0);
}

/* ---- inputs -----------------------------------------------------------------------------------
 */

static const char *str_at(cJSON *o, const char *a, const char *b, const char *c) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, b);
  }
  if (c != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, c);
  }
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_at(cJSON *o, const char *a, const char *b, double def) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, b);
  }
  return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* Bad input cannot get better on retry: dead-letter at once, naming the field. */
static void bad_input(ain__mstep_t *m, const char *what) {
  char msg[300];
  snprintf(msg, sizeof msg, "step %s: %s", m->step_name ? m->step_name : "?", what);
  ain__mstep_fail(m, AIN_EINVAL, msg, 1);
}

static int width(const ain__mstep_t *m) {
  return (int)m->cfg->media.width;
}

static int height(const ain__mstep_t *m) {
  return (int)m->cfg->media.height;
}

/* ---- object store (on the pool) ----------------------------------------------------------------
 */

/* Stores files[i] (ext[i]) into x->keys[i]. */
static void put_files(ain__mstep_t *m, const char *const *files, const char *const *exts, int n) {
  ain_objstore_t *os = NULL;
  m->work_rc = ain_objstore_open(m->cfg, &os, &m->work_err);
  for (int i = 0; i < n && m->work_rc == 0; i++) {
    m->work_rc = ain_objstore_put_file(os, files[i], exts[i], X(m)->keys[i], sizeof X(m)->keys[i],
                                       &m->work_err);
  }
  if (os != NULL) {
    ain_objstore_close(os);
  }
}

static void make_dirs(ain__mstep_t *m) {
  if ((m->work_rc = mkdir_p(m->dir, &m->work_err)) == 0) {
    m->work_rc = mkdir_p(m->cache, &m->work_err);
  }
}

static char *keys_json(ain__mstep_t *m, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON_AddItemToArray(a, cJSON_CreateString(X(m)->keys[i]));
  }
  char *s = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  return s;
}

static char *print_delete(cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

/* ---- tts: speech (a provider per persona), music bed, the mix at delivery loudness -------------- */

/* The provider of this persona: payload.voice.provider, else config tts.provider. */
static const char *tts_provider(ain__mstep_t *m) {
  const char *p = str_at(m->payload, "voice", "provider", NULL);
  return p != NULL ? p : m->cfg->tts.provider;
}

/* The file the render reads: the normalised mix, or the normalised speech without music. */
static const char *tts_final(ain__mstep_t *m) {
  return m->cfg->music.enabled ? "audio.wav" : "speech.wav";
}

static void tts_put(ain__mstep_t *m) {
  char wav[4200];
  snprintf(wav, sizeof wav, "%s/%s", m->dir, tts_final(m));
  const char *files[] = {wav}, *exts[] = {"wav"};
  put_files(m, files, exts, 1);
}

static void tts_done(ain__mstep_t *m) {
  if (work_failed(m)) {
    return;
  }
  media_x_t *x = X(m);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "audio", x->keys[0]);
  cJSON_AddNumberToObject(r, "duration_ms", (double)x->duration_ms);
  cJSON_AddNumberToObject(r, "sample_rate", 48000);
  const char *voice = str_at(m->payload, "voice", "name", NULL);
  cJSON_AddStringToObject(r, "voice", voice ? voice : "default");
  cJSON_AddStringToObject(r, "provider", tts_provider(m));
  cJSON_AddBoolToObject(r, "aligned", x->aligned);
  if (x->spoken != NULL) {
    cJSON_AddStringToObject(r, "spoken", x->spoken);
  }
  if (m->cfg->music.enabled) {
    cJSON *mu = cJSON_AddObjectToObject(r, "music");
    cJSON_AddStringToObject(mu, "source", x->music[0] ? "library" : "generated");
    if (x->music[0]) {
      const char *base = strrchr(x->music, '/');
      cJSON_AddStringToObject(mu, "file", base ? base + 1 : x->music);
    } else {
      cJSON_AddStringToObject(mu, "key", x->music_key);
    }
  }
  cJSON_AddItemToObject(r, "words", x->words);
  x->words = NULL;
  ain__ckpt_record_and_succeed(m, keys_json(m, 1), print_delete(r));
}

static void on_stage_done(int status, const ain_err_t *err, void *data);
static void on_speech_measured(int status, double lufs, double tp, const ain_err_t *err,
                               void *data);

/* With music: raw.wav measured -> mix.wav (speech gained to -14, bed ducked) -> audio.wav
 * (loudness of the mix). Without: raw.wav -> speech.wav (loudness). */
static void tts_stage(ain__mstep_t *m) {
  media_x_t *x = X(m);
  char in[4200], out[4200];
  ain_err_t e;
  ain_err_clear(&e);
  int rc = 0;
  int64_t to = m->cfg->media.tts_timeout_ms;
  if (x->stage == 0 && m->cfg->music.enabled) {
    snprintf(in, sizeof in, "%s/raw.wav", m->dir);
    rc = ain_media_measure(m->loop, in, to, on_speech_measured, m, &e);
  } else if (x->stage == 0 || x->stage == 2) { /* loudness of the speech alone, or of the mix */
    snprintf(in, sizeof in, "%s/%s", m->dir, x->stage == 0 ? "raw.wav" : "mix.wav");
    snprintf(out, sizeof out, "%s/%s", m->dir, tts_final(m));
    ain_media_loudnorm_opts_t o = {.in_path = in, .out_wav = out, .timeout_ms = to};
    rc = ain_media_loudnorm(m->loop, &o, on_stage_done, m, &e);
  } else if (x->stage == 1) {
    snprintf(in, sizeof in, "%s/raw.wav", m->dir);
    snprintf(out, sizeof out, "%s/mix.wav", m->dir);
    ain_media_mix_opts_t o = {.speech_wav = in,
                              .speech_gain_db = x->speech_gain_db,
                              .music = x->music[0] ? x->music : NULL,
                              .key = x->music_key,
                              .music_lufs = m->cfg->music.level,
                              .duration_ms = x->duration_ms,
                              .out_wav = out,
                              .timeout_ms = to};
    rc = ain_media_mix(m->loop, &o, on_stage_done, m, &e);
  } else {
    ain__mstep_work(m, tts_put, tts_done);
    return;
  }
  if (rc != 0) {
    ain__mstep_fail(m, rc, e.msg, rc == AIN_EINVAL);
  }
}

static void on_speech_measured(int status, double lufs, double tp, const ain_err_t *err,
                               void *data) {
  ain__mstep_t *m = data;
  (void)tp;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "loudness measure failed", 0);
    return;
  }
  X(m)->speech_gain_db = -14.0 - lufs;
  X(m)->stage = 1;
  tts_stage(m);
}

static void on_stage_done(int status, const ain_err_t *err, void *data) {
  ain__mstep_t *m = data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "audio failed", 0);
    return;
  }
  media_x_t *x = X(m);
  x->stage = x->stage == 0 ? 3 : x->stage + 1; /* stage 0 here: speech alone, no music */
  tts_stage(m);
}

static void on_tts(int status, const ain_media_tts_result_t *res, const ain_err_t *err,
                   void *data) {
  ain__mstep_t *m = data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    /* bad options (an unknown voice, a provider without its config) cannot get better */
    ain__mstep_fail(m, status, err ? err->msg : "tts failed", status == AIN_EINVAL);
    return;
  }
  media_x_t *x = X(m);
  x->duration_ms = res->duration_ms;
  x->sample_rate = res->sample_rate;
  x->aligned = res->aligned;
  x->spoken = ain_strdup(res->spoken);
  x->words = cJSON_CreateArray();
  for (size_t i = 0; i < res->n_words; i++) {
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "w", res->words[i].text);
    cJSON_AddNumberToObject(w, "s", (double)res->words[i].start_ms);
    cJSON_AddNumberToObject(w, "e", (double)res->words[i].end_ms);
    cJSON_AddItemToArray(x->words, w);
  }
  x->stage = 0;
  tts_stage(m);
}

/* What the voice reads: the script's "speech" when it has one (a spoken form, e.g. respelled
 * names), else its text. The judge's output checks compare the audio with the text, so a speech
 * that says something else is caught there (scripts/agents/output_checks.lua). */
static const char *tts_text(ain__mstep_t *m) {
  const char *speech = str_at(m->deps, "script", "speech", NULL);
  return speech != NULL && speech[0] != '\0' ? speech : str_at(m->deps, "script", "text", NULL);
}

static int is_audio_file(const char *name) {
  static const char *const ext[] = {".mp3", ".wav", ".ogg", ".flac", ".m4a", ".opus", ".aac"};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    size_t l = strlen(ext[i]);
    if (n > l && strcasecmp(name + n - l, ext[i]) == 0 && name[0] != '.') {
      return 1;
    }
  }
  return 0;
}

static int cmp_names(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

/* The persona's bed: payload.music.file from the library, else one picked by a hash of the
 * persona (stable: the same persona keeps its track); no library: a generated pad in
 * payload.music.key, else a key picked by the same hash. */
static int tts_music(ain__mstep_t *m, ain_err_t *err) {
  media_x_t *x = X(m);
  const char *who = str_at(m->payload, "persona", NULL, NULL);
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = who ? who : "default"; *p; p++) {
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  }
  static const char *const keys[] = {"C", "G", "D", "A", "F", "Bb", "Eb", "Am", "Em", "Dm"};
  const char *key = str_at(m->payload, "music", "key", NULL);
  snprintf(x->music_key, sizeof x->music_key, "%s", key ? key : keys[h % 10]);
  const char *lib = m->cfg->music.library;
  if (lib == NULL) {
    return 0;
  }
  const char *want = str_at(m->payload, "music", "file", NULL);
  struct dirent **list = NULL;
  int n = scandir(lib, &list, NULL, cmp_names), k = 0, rc = 0;
  if (n < 0) {
    return ain_err_field(err, AIN_EIO, "music.library", "music library %s: %s", lib,
                         strerror(errno));
  }
  for (int i = 0; i < n; i++) {
    if (is_audio_file(list[i]->d_name)) {
      list[k++] = list[i];
    } else {
      free(list[i]);
    }
  }
  if (want != NULL) {
    int found = 0;
    for (int i = 0; i < k && !found; i++) {
      found = strcmp(list[i]->d_name, want) == 0;
    }
    if (!found || strchr(want, '/') != NULL) {
      rc = ain_err_field(err, AIN_EINVAL, "music.file",
                         "persona music.file \"%.128s\" is not an audio file in %s", want, lib);
    } else {
      snprintf(x->music, sizeof x->music, "%s/%s", lib, want);
    }
  } else if (k > 0) {
    snprintf(x->music, sizeof x->music, "%s/%s", lib, list[h % (uint64_t)k]->d_name);
  }
  for (int i = 0; i < k; i++) {
    free(list[i]);
  }
  free(list);
  return rc; /* an empty library: the generated pad */
}

/* On the pool: the scratch folder, the music bed, and the HTTP provider's API key. */
static void tts_setup(ain__mstep_t *m) {
  make_dirs(m);
  if (m->work_rc == 0 && m->cfg->music.enabled) {
    m->work_rc = tts_music(m, &m->work_err);
  }
  const char *secret = m->cfg->tts.openai.secret;
  if (m->work_rc == 0 && strcmp(tts_provider(m), "openai") == 0 && secret != NULL) {
    size_t len = 0;
    m->work_rc = ain_secret_resolve(m->cfg->secrets_dir, secret, &X(m)->api_key, &len,
                                    &m->work_err);
    X(m)->api_key_len = len;
  }
}

static void tts_synth(ain__mstep_t *m) {
  if (m->work_rc != 0) {
    ain__mstep_fail(m, m->work_rc, m->work_err.msg, m->work_rc == AIN_EINVAL);
    return;
  }
  media_x_t *x = X(m);
  const ain_config_t *c = m->cfg;
  char raw[4200];
  snprintf(raw, sizeof raw, "%s/raw.wav", m->dir);
  ain_media_tts_opts_t o = {.text = tts_text(m),
                            .provider = tts_provider(m),
                            .voice = str_at(m->payload, "voice", "name", NULL),
                            .rate = (int)num_at(m->payload, "voice", "rate", 0),
                            .pitch = (int)num_at(m->payload, "voice", "pitch", 0),
                            .out_wav = raw,
                            .work_dir = m->dir,
                            .festival = c->tts.festival,
                            .url = c->tts.openai.url,
                            .model = c->tts.openai.model,
                            .api_key = x->api_key,
                            .max_attempts = (int)c->tts.max_attempts,
                            .pocketsphinx = c->tts.pocketsphinx,
                            .timeout_ms = strcmp(tts_provider(m), "openai") == 0
                                              ? c->tts.openai.timeout_ms
                                              : c->media.tts_timeout_ms};
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_media_tts(m->loop, &o, on_tts, m, &e);
  if (x->api_key != NULL) { /* the job has its own copy; ours goes now */
    ain_secret_free(x->api_key, x->api_key_len);
    x->api_key = NULL;
  }
  if (rc != 0) {
    ain__mstep_fail(m, rc, e.msg, rc == AIN_EINVAL);
  }
}

static void tts_begin(ain__mstep_t *m) {
  const char *text = tts_text(m);
  if (text == NULL || text[0] == '\0') {
    bad_input(m, "needs the script step's result with a non-empty 'text' (deps.script.text)");
    return;
  }
  ain_err_t e;
  ain_err_clear(&e);
  if (ain_media_tts_provider_check(tts_provider(m), &e) != 0) {
    bad_input(m, "payload.voice.provider must be \"espeak\", \"festival\" or \"openai\"");
    return;
  }
  if (strcmp(tts_provider(m), "openai") == 0 && m->cfg->tts.openai.url == NULL) {
    bad_input(m, "payload.voice.provider \"openai\" needs tts.openai.url and tts.openai.model "
                 "in the config");
    return;
  }
  ain__mstep_work(m, tts_setup, tts_synth);
}

static int tts_start(ain_step_t *step, ain_err_t *err) {
  ain__mstep_t *m = mstep_new(step, K_TTS, err);
  if (m == NULL) {
    return err->code;
  }
  ain__ckpt_resume_or(m, tts_begin);
  return 0;
}

/* ---- assets ---------------------------------------------------------------------------------- */

static void assets_put(ain__mstep_t *m) {
  const char *files[] = {X(m)->bg_path}, *exts[] = {"png"};
  put_files(m, files, exts, 1);
  if (m->work_rc == 0) {
    m->work_rc = ain__library_scan(m->cfg->media.library, &X(m)->library, &m->work_err);
  }
}

static void assets_done(ain__mstep_t *m) {
  if (work_failed(m)) {
    return;
  }
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "background", X(m)->keys[0]);
  cJSON_AddNumberToObject(r, "width", width(m));
  cJSON_AddNumberToObject(r, "height", height(m));
  cJSON_AddItemToObject(r, "library", X(m)->library);
  X(m)->library = NULL;
  ain__ckpt_record_and_succeed(m, keys_json(m, 1), print_delete(r));
}

static void on_background(int status, const char *path, int cached, const ain_err_t *err,
                          void *data) {
  ain__mstep_t *m = data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "background failed", 0);
    return;
  }
  snprintf(X(m)->bg_path, sizeof X(m)->bg_path, "%s", path);
  X(m)->bg_cached = cached;
  ain__mstep_work(m, assets_put, assets_done);
}

static void assets_draw(ain__mstep_t *m) {
  if (work_failed(m)) {
    return;
  }
  ain_media_background_opts_t o = {.colour_top = str_at(m->payload, "style", "palette", "bg1"),
                                   .colour_bottom = str_at(m->payload, "style", "palette", "bg2"),
                                   .width = width(m),
                                   .height = height(m),
                                   .cache_dir = m->cache};
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_media_background(m->loop, &o, on_background, m, &e);
  if (rc != 0) {
    ain__mstep_fail(m, rc, e.msg, rc == AIN_EINVAL);
  }
}

static void assets_begin(ain__mstep_t *m) {
  const char *fields[] = {"bg1", "bg2"};
  for (int i = 0; i < 2; i++) {
    const char *c = str_at(m->payload, "style", "palette", fields[i]);
    uint32_t rgb;
    ain_err_t e;
    if (c == NULL || ain_media_colour_parse(c, &rgb, &e) != 0) {
      char what[160];
      snprintf(what, sizeof what, "payload.style.palette.%s must be a colour \"#rrggbb\"",
               fields[i]);
      bad_input(m, what);
      return;
    }
  }
  ain__mstep_work(m, make_dirs, assets_draw);
}

static int assets_start(ain_step_t *step, ain_err_t *err) {
  ain__mstep_t *m = mstep_new(step, K_ASSETS, err);
  if (m == NULL) {
    return err->code;
  }
  ain__ckpt_resume_or(m, assets_begin);
  return 0;
}

/* ---- render ---------------------------------------------------------------------------------- */

static void scratch(const ain__mstep_t *m, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", m->dir, name);
}

/* Words from the tts result: [{w, s, e}]. */
static int words_from(cJSON *arr, ain_media_word_t **out, size_t *n) {
  int cnt = cJSON_GetArraySize(arr);
  ain_media_word_t *w = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof *w);
  if (w == NULL) {
    abort();
  }
  cJSON *it;
  size_t k = 0;
  cJSON_ArrayForEach(it, arr) {
    cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "w");
    cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "s");
    cJSON *e = cJSON_GetObjectItemCaseSensitive(it, "e");
    if (!cJSON_IsString(t) || !cJSON_IsNumber(s) || !cJSON_IsNumber(e)) {
      free(w);
      return -1;
    }
    w[k].text = t->valuestring; /* borrowed from the JSON */
    w[k].start_ms = (int64_t)s->valuedouble;
    w[k].end_ms = (int64_t)e->valuedouble;
    k++;
  }
  *out = w;
  *n = k;
  return 0;
}

static int scale(int64_t px, int size, int ref) {
  return (int)(px * size / ref);
}

/* The channel's safe area at the render size: the profile's bands, widened by any px keys (px at
 * 1080x1920, scaled). ain_media_captions_ass raises them to the floor in any case. */
static int safe_area(const ain_config_t *c, int w, int h, ain_media_safe_area_t *sa,
                     ain_err_t *err) {
  /* A video may go to every configured channel: the widest band of each side over them all,
   * each channel's the bands of its platform's profile widened by its px keys. */
  memset(sa, 0, sizeof *sa);
  for (size_t k = 0; k < c->channels.n; k++) {
    const ain_config_safe_area_t *cs = &c->channels.list[k].safe_area;
    ain_media_safe_area_t one;
    int rc = ain_media_safe_area_profile(cs->profile, w, h, &one, err);
    if (rc != 0) {
      return rc;
    }
    int px[4] = {scale(cs->top, h, 1920), scale(cs->bottom, h, 1920), scale(cs->left, w, 1080),
                 scale(cs->right, w, 1080)};
    int got[4] = {one.top_px, one.bottom_px, one.left_px, one.right_px};
    int *side[4] = {&sa->top_px, &sa->bottom_px, &sa->left_px, &sa->right_px};
    for (int i = 0; i < 4; i++) {
      int v = px[i] > got[i] ? px[i] : got[i];
      *side[i] = v > *side[i] ? v : *side[i];
    }
  }
  return 0;
}

/* The caption words are the script's text as written, timed by the spoken words (which follow
 * the voice's own text: numbers spelled out, emoji dropped). */
static int caption_words(ain__mstep_t *m, const ain_media_word_t *spoken, size_t n,
                         ain_media_word_t **out, size_t *n_out) {
  const char *text = str_at(m->deps, "script", "text", NULL);
  return ain_media_caption_words(text ? text : "", spoken, n, out, n_out, &m->work_err);
}

/* Pictures go where the captions are not: the captions file's own "Caption" style says where
 * they sit (ASS numpad alignment: 7-9 top, 4-6 middle, 1-3 bottom), whoever lays them out. */
static double picture_y_for(const char *ass) {
  const char *st = strstr(ass, "\nStyle: Caption,");
  int field = 0;
  for (const char *p = st ? st + 1 : NULL; p != NULL && *p && *p != '\n'; p++) {
    if (*p == ',' && ++field == 18) {
      int align = atoi(p + 1);
      return align >= 7 ? 0.5 : align >= 4 ? 0.6 : 0.26;
    }
  }
  return 0.26;
}

static double picture_y(ain__mstep_t *m);

/* The render's options from the step's state (ass and mp4: 4200 bytes each, filled here). */
static void render_opts(ain__mstep_t *m, char *ass, char *mp4, ain_media_render_opts_t *o) {
  media_x_t *x = X(m);
  scratch(m, "captions.ass", ass, 4200);
  scratch(m, "video.mp4", mp4, 4200);
  *o = (ain_media_render_opts_t){.background_png = x->bg_in,
                                 .scenes = x->scenes.scenes,
                                 .n_scenes = x->scenes.n,
                                 .audio_wav = x->audio_path,
                                 .ass_path = ass,
                                 .out_mp4 = mp4,
                                 .duration_ms = x->speech_ms,
                                 .width = width(m),
                                 .height = height(m),
                                 .fps = (int)m->cfg->media.fps,
                                 .crf = (int)m->cfg->media.crf,
                                 .preset = m->cfg->media.preset,
                                 .timeout_ms = m->cfg->media.render_timeout_ms,
                                 .picture_y = picture_y(m)};
}

/* At log level debug: the ffmpeg command line of this render as data_dir/work/<task>.ffmpeg.json
 * ({"argv": [...], "captions": the scratch ASS it reads, "out": the output argument}), beside the
 * scratch folder (which goes when the step ends; the ASS is also the captions artifact), so the
 * same command can be run by hand (bench/render.sh does). On the pool; a failure is only logged. */
static void render_debug_argv(ain__mstep_t *m) {
  char ass[4200], mp4[4200], path[4300];
  ain_media_render_opts_t o;
  render_opts(m, ass, mp4, &o);
  char **argv = NULL;
  ain_err_t e;
  ain_err_clear(&e);
  if (ain_media_render_argv(&o, mp4, &argv, &e) != 0) {
    ain_log_debug("render: no command line to keep: %s", e.msg);
    return;
  }
  int n = 0;
  while (argv[n] != NULL) {
    n++;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToObject(j, "argv", cJSON_CreateStringArray((const char *const *)argv, n));
  cJSON_AddStringToObject(j, "captions", ass);
  cJSON_AddStringToObject(j, "out", mp4);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  ain_media_argv_free(argv);
  snprintf(path, sizeof path, "%s.ffmpeg.json", m->dir);
  int rc = text != NULL ? ain_write_file_atomic(path, text, strlen(text)) : -ENOMEM;
  free(text);
  if (rc == 0) {
    ain_log_debug("render: ffmpeg command line in %s", path);
  } else {
    ain_log_debug("render: ffmpeg command line not written to %s: %s", path, strerror(-rc));
  }
}

/* On the pool: local paths of the inputs, the scratch folder and the ASS captions file. */
static void render_prepare(ain__mstep_t *m) {
  media_x_t *x = X(m);
  ain_objstore_t *os = NULL;
  ain_media_word_t *words = NULL, *cw = NULL;
  size_t nw = 0, ncw = 0;
  char *ass = NULL;
  if ((m->work_rc = mkdir_p(m->dir, &m->work_err)) != 0 ||
      (m->work_rc = mkdir_p(m->cache, &m->work_err)) != 0 ||
      (m->work_rc = ain_objstore_open(m->cfg, &os, &m->work_err)) != 0 ||
      (m->work_rc = ain_objstore_get_path(os, str_at(m->deps, "tts", "audio", NULL), x->audio_path,
                                          sizeof x->audio_path, &m->work_err)) != 0 ||
      (m->work_rc = ain_objstore_get_path(os, str_at(m->deps, "assets", "background", NULL),
                                          x->bg_in, sizeof x->bg_in, &m->work_err)) != 0) {
    goto done;
  }
  cJSON *tts = cJSON_GetObjectItemCaseSensitive(m->deps, "tts");
  if (words_from(cJSON_GetObjectItemCaseSensitive(tts, "words"), &words, &nw) != 0) {
    m->work_rc =
        ain_err_field(&m->work_err, AIN_EINVAL, "deps.tts.words", "tts words must be [{w, s, e}]");
    goto done;
  }
  if ((m->work_rc = caption_words(m, words, nw, &cw, &ncw)) != 0) {
    goto done;
  }
  int w = width(m), h = height(m);
  ain_media_safe_area_t sa;
  if ((m->work_rc = safe_area(m->cfg, w, h, &sa, &m->work_err)) != 0) {
    goto done;
  }
  ain_media_caption_style_t st = {
      .font = str_at(m->payload, "style", "font", NULL),
      .colour = str_at(m->payload, "style", "palette", "text"),
      .highlight_colour = str_at(m->payload, "style", "palette", "highlight"),
      .title = str_at(m->deps, "script", "title", NULL),
      .layout = str_at(m->payload, "style", "layout", NULL),
      /* persona sizes are px at 1080x1920, like the safe-area keys */
      .title_size = scale((int64_t)num_at(m->payload, "style", "title_size", 0), h, 1920)};
  ass = ain_media_captions_ass(cw, ncw, &st, &sa, w, h, &m->work_err);
  if (ass == NULL) {
    m->work_rc = m->work_err.code ? m->work_err.code : AIN_EMEDIA;
    goto done;
  }
  x->picture_y = picture_y_for(ass);
  cJSON *visuals = cJSON_GetObjectItemCaseSensitive(m->deps, "visuals");
  if (visuals != NULL &&
      (m->work_rc = ain__scenes_materialise(m->cfg, visuals, m->cache, os, (w / 2) & ~1, &x->scenes,
                                            &m->work_err)) != 0) {
    goto done;
  }
  char path[4200];
  scratch(m, "captions.ass", path, sizeof path);
  int rc = ain_write_file_atomic(path, ass, strlen(ass));
  if (rc != 0) {
    m->work_rc = ain_err_set(&m->work_err, AIN_EIO, "writing %s: %s", path, strerror(-rc));
  } else if (ain_log_enabled(AIN_LOG_DEBUG)) {
    render_debug_argv(m);
  }
done:
  free(ass);
  free(words);
  ain_media_words_free(cw, ncw);
  if (os != NULL) {
    ain_objstore_close(os);
  }
}

static void render_put(ain__mstep_t *m) {
  char mp4[4200], jpg[4200], ass[4200];
  scratch(m, "video.mp4", mp4, sizeof mp4);
  scratch(m, "thumb.jpg", jpg, sizeof jpg);
  scratch(m, "captions.ass", ass, sizeof ass);
  const char *files[] = {mp4, jpg, ass}, *exts[] = {"mp4", "jpg", "ass"};
  put_files(m, files, exts, 3);
}

static double picture_y(ain__mstep_t *m) {
  return X(m)->picture_y;
}

static void render_done(ain__mstep_t *m) {
  if (work_failed(m)) {
    return;
  }
  media_x_t *x = X(m);
  const ain_media_probe_t *p = &x->probe;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "gate_ok", x->gate_rc == 0);
  if (x->gate_rc == 0) {
    cJSON_AddNullToObject(r, "gate_error");
  } else {
    cJSON_AddStringToObject(r, "gate_error", x->gate_error);
  }
  /* One video per DAG: its id is stable across retries and resumes. */
  char vid[AIN_UUID_LEN + 1];
  if (m->dag_id[0]) {
    snprintf(vid, sizeof vid, "%s", m->dag_id);
  } else {
    ain_uuid7(vid);
  }
  cJSON_AddStringToObject(r, "video_id", vid);
  cJSON *pr = cJSON_AddObjectToObject(r, "probe");
  cJSON_AddNumberToObject(pr, "duration", (double)p->duration_ms / 1000.0);
  cJSON_AddNumberToObject(pr, "width", p->width);
  cJSON_AddNumberToObject(pr, "height", p->height);
  cJSON_AddStringToObject(pr, "video_codec", p->vcodec);
  cJSON_AddStringToObject(pr, "audio_codec", p->acodec);
  cJSON_AddStringToObject(pr, "pix_fmt", p->pix_fmt);
  cJSON_AddNumberToObject(pr, "fps", p->fps_den ? (double)p->fps_num / p->fps_den : 0);
  cJSON_AddNumberToObject(pr, "sample_rate", p->sample_rate);
  cJSON_AddBoolToObject(pr, "faststart", p->faststart);
  cJSON_AddNumberToObject(pr, "size_bytes", (double)p->size_bytes);
  cJSON *a = cJSON_AddObjectToObject(r, "artifacts");
  cJSON_AddStringToObject(a, "video", x->keys[0]);
  cJSON_AddStringToObject(a, "thumbnail", x->keys[1]);
  cJSON_AddStringToObject(a, "captions", x->keys[2]);
  cJSON_AddNumberToObject(r, "duration_ms", (double)p->duration_ms);
  cJSON_AddNumberToObject(r, "speech_ms", (double)x->speech_ms);
  cJSON_AddNumberToObject(r, "width", p->width);
  cJSON_AddNumberToObject(r, "height", p->height);
  cJSON_AddNumberToObject(r, "render_ms", (double)(x->render_ns / 1000000));
  cJSON_AddNumberToObject(r, "waited_ms", (double)(x->wait_ns / 1000000));
  /* What is on screen and whose it is: the publisher copies credits into the sidecar/receipt. */
  cJSON_AddNumberToObject(r, "scenes", (double)x->scenes.n);
  int pictures = 0;
  for (size_t i = 0; i < x->scenes.n; i++) {
    pictures += x->scenes.scenes[i].picture != NULL;
  }
  if (pictures > 0) {
    ain_media_scene_graph_opts_t go = {.width = width(m), .height = height(m),
                                       .picture_y = picture_y(m)};
    double box[4];
    ain_media_scenes_picture_box(&go, box);
    cJSON_AddItemToObject(r, "picture_box", cJSON_CreateDoubleArray(box, 4));
  }
  if (x->scenes.credits != NULL) {
    cJSON_AddItemToObject(r, "credits", x->scenes.credits);
    x->scenes.credits = NULL;
  }
  ain_log_ctx_t lc = {.task_id = m->task_id,
                      .dag_id = m->dag_id[0] ? m->dag_id : NULL,
                      .trace_id = m->trace_id,
                      .span_id = m->span_id};
  ain_log(AIN_LOG_INFO, &lc, "render: %dx%d %.2f s, %lld bytes, ffmpeg %.0f ms, gate %s", p->width,
          p->height, (double)p->duration_ms / 1000.0, (long long)p->size_bytes,
          (double)x->render_ns / 1e6, x->gate_rc == 0 ? "ok" : x->gate_error);
  ain__ckpt_record_and_succeed(m, keys_json(m, 3), print_delete(r));
}

static void on_thumbnail(int status, const ain_err_t *err, void *data) {
  ain__mstep_t *m = data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "thumbnail failed", 0);
    return;
  }
  ain__mstep_work(m, render_put, render_done);
}

static void on_probe(int status, const ain_media_probe_t *probe, const ain_err_t *err, void *data) {
  ain__mstep_t *m = data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "ffprobe failed", 0);
    return;
  }
  media_x_t *x = X(m);
  x->probe = *probe;
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  ch.width = width(m);
  ch.height = height(m);
  ch.fps_num = (int)m->cfg->media.fps;
  ch.fps_den = 1;
  ain_config_safe_area_t frame;
  ain_config_channels_frame(&m->cfg->channels, &frame, &ch.max_duration_ms);
  ain_err_t ge;
  ain_err_clear(&ge);
  x->gate_rc = ain_media_gate(probe, &ch, &ge);
  snprintf(x->gate_error, sizeof x->gate_error, "%s", x->gate_rc ? ge.msg : "");
  char mp4[4200], jpg[4200];
  scratch(m, "video.mp4", mp4, sizeof mp4);
  scratch(m, "thumb.jpg", jpg, sizeof jpg);
  /* The thumbnail (issue 12 §6): 1080x1920, the title set large over a scene's own picture (no
   * caption on it): the first stock or library picture, else the opening scene (the hook). */
  ain_media_thumbnail_opts_t o = {.mp4 = mp4,
                                  .at_ms = probe->duration_ms / 3,
                                  .out_jpg = jpg,
                                  .width = 1080,
                                  .height = 1920,
                                  .title = str_at(m->deps, "script", "title", NULL),
                                  .title_colour = str_at(m->payload, "style", "palette", "text"),
                                  .timeout_ms = 60000};
  const ain__scenes_t *sc = &x->scenes;
  for (size_t i = 0; i < sc->n && o.scene == NULL; i++) {
    if (sc->scenes[i].kind != AIN_MEDIA_SCENE_MOTION) {
      o.scene = &sc->scenes[i];
    }
  }
  if (o.scene == NULL && sc->n > 0) {
    o.scene = &sc->scenes[0];
  }
  if (o.scene != NULL) {
    int64_t len = o.scene->end_ms - o.scene->start_ms;
    o.at_ms = len * 3 / 5 < 1200 ? len * 3 / 5 : 1200; /* the picture has animated in */
  }
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_media_thumbnail(m->loop, &o, on_thumbnail, m, &e);
  if (rc != 0) {
    ain__mstep_fail(m, rc, e.msg, 0);
  }
}

static void on_render(int status, const ain_err_t *err, void *data) {
  ain__mstep_t *m = data;
  m->job = NULL;
  if (ain__mstep_detached(m)) {
    return;
  }
  X(m)->render_ns = ain_mono_ns() - X(m)->render_ns;
  if (status != 0) {
    ain__mstep_fail(m, status, err ? err->msg : "ffmpeg failed", 0);
    return;
  }
  char mp4[4200];
  scratch(m, "video.mp4", mp4, sizeof mp4);
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_media_probe(m->loop, mp4, on_probe, m, &e);
  if (rc != 0) {
    ain__mstep_fail(m, rc, e.msg, 0);
  }
}

static void on_render_progress(double percent, void *data) {
  ain__mstep_t *m = data;
  ain_progress_slot_set(m->progress, m->progress_slot, percent);
}

static void render_run(ain__mstep_t *m) {
  if (m->work_rc != 0) {
    /* A missing input object cannot appear by retrying this step. */
    ain__mstep_fail(m, m->work_rc, m->work_err.msg, m->work_rc == AIN_EINVAL);
    return;
  }
  media_x_t *x = X(m);
  char ass[4200], mp4[4200];
  ain_media_render_opts_t o;
  render_opts(m, ass, mp4, &o);
  o.on_progress = on_render_progress;
  m->progress_slot = ain_progress_slot_take(m->progress);
  ain_err_t e;
  ain_err_clear(&e);
  x->render_ns = ain_mono_ns();
  int rc = ain_media_render(m->loop, &o, on_render, m, &m->job, &e);
  if (rc != 0) {
    m->job = NULL;
    ain__mstep_fail(m, rc, e.msg, rc == AIN_EINVAL);
  }
}

static void render_begin(ain__mstep_t *m) {
  const char *need[][2] = {{"tts", "audio"}, {"assets", "background"}, {"script", "text"}};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (str_at(m->deps, need[i][0], need[i][1], NULL) == NULL) {
      char what[200];
      snprintf(what, sizeof what, "needs deps.%s.%s (the %s step's result)", need[i][0], need[i][1],
               need[i][0]);
      bad_input(m, what);
      return;
    }
  }
  X(m)->speech_ms = (int64_t)num_at(m->deps, "tts", "duration_ms", 0);
  if (X(m)->speech_ms <= 0) {
    bad_input(m, "needs deps.tts.duration_ms > 0");
    return;
  }
  X(m)->wait_ns = ain_mono_ns();
  if (slot_take_or_wait(m)) {
    render_go(m);
    return;
  }
  /* No timeout while queued (a long queue is not a hung render); render_go re-arms it in full.
   * Shutdown still cancels a waiting render through the shard's grace period. */
  uv_timer_stop(&m->step->timeout);
}

/* m holds a slot. */
static void render_go(ain__mstep_t *m) {
  X(m)->wait_ns = ain_mono_ns() - X(m)->wait_ns;
  ain_step_restart_timeout(m->step); /* the wait for the slot is not the render's time */
  ain__mstep_work(m, render_prepare, render_run);
}

static int render_start(ain_step_t *step, ain_err_t *err) {
  ain__mstep_t *m = mstep_new(step, K_RENDER, err);
  if (m == NULL) {
    return err->code;
  }
  ain__ckpt_resume_or(m, render_begin);
  return 0;
}

const ain_builtin_t ain__builtin_tts = {"tts", tts_start, media_cancel};
const ain_builtin_t ain__builtin_assets = {"assets", assets_start, media_cancel};
const ain_builtin_t ain__builtin_render = {"render", render_start, media_cancel};
