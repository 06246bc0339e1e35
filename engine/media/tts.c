/* Speech with libespeak-ng: PCM and WORD events collected in one synthesis, the WAV written by us
 * (temp + fsync + rename), word timings taken from the events' audio_position, which are the real
 * positions of the words in the audio (not an estimate from text length, the mistake that makes
 * peers' captions drift). libespeak-ng is process-global and not thread-safe, so every synthesis
 * runs on the libuv thread pool behind one mutex.
 * Relies on: libespeak-ng (speak_lib.h), libuv (uv_queue_work, uv_mutex), core/util. */
#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

#define TTS_MAX_TEXT (64 * 1024)

typedef struct {
  int64_t pos; /* 1-based character position in the text */
  int64_t len; /* characters */
  int64_t ms;
} tts_event_t;

/* Everything one synthesis collects; only touched with the mutex held. */
typedef struct {
  int16_t *pcm;
  size_t n, cap;
  tts_event_t *ev;
  size_t n_ev, cap_ev;
  int oom;
} tts_collect_t;

static uv_once_t g_once = UV_ONCE_INIT;
static uv_mutex_t g_mu;
static int g_rate; /* espeak's sample rate once initialised, 0 before */
static tts_collect_t *g_cur;

static void init_mutex(void) {
  if (uv_mutex_init(&g_mu) != 0) {
    abort();
  }
}

static int synth_cb(short *wav, int num, espeak_EVENT *ev) {
  tts_collect_t *c = g_cur;
  if (c == NULL || c->oom) {
    return 1; /* abort the synthesis */
  }
  if (wav != NULL && num > 0) {
    if (c->n + (size_t)num > c->cap) {
      size_t cap = (c->n + (size_t)num) * 2;
      int16_t *p = realloc(c->pcm, cap * sizeof *p);
      if (p == NULL) {
        c->oom = 1;
        return 1;
      }
      c->pcm = p;
      c->cap = cap;
    }
    memcpy(c->pcm + c->n, wav, (size_t)num * sizeof *wav);
    c->n += (size_t)num;
  }
  for (; ev != NULL && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
    if (ev->type != espeakEVENT_WORD) {
      continue;
    }
    if (c->n_ev == c->cap_ev) {
      size_t cap = c->cap_ev ? c->cap_ev * 2 : 64;
      tts_event_t *p = realloc(c->ev, cap * sizeof *p);
      if (p == NULL) {
        c->oom = 1;
        return 1;
      }
      c->ev = p;
      c->cap_ev = cap;
    }
    c->ev[c->n_ev++] = (tts_event_t){ev->text_position, ev->length, ev->audio_position};
  }
  return 0;
}

static void put_le(uint8_t *p, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; i++) {
    p[i] = (uint8_t)(v >> (8 * i));
  }
}

static int write_wav(const char *path, const int16_t *pcm, size_t n, int rate, ain_err_t *err) {
  size_t data_len = n * 2;
  if (data_len > 0xffffffffu - 36) {
    return ain_err_set(err, AIN_ETOOBIG, "tts: %zu samples do not fit a WAV", n);
  }
  uint8_t *buf = malloc(44 + data_len);
  if (buf == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory for the WAV");
  }
  memcpy(buf, "RIFF", 4);
  put_le(buf + 4, (uint32_t)(36 + data_len), 4);
  memcpy(buf + 8, "WAVEfmt ", 8);
  put_le(buf + 16, 16, 4);
  put_le(buf + 20, 1, 2); /* PCM */
  put_le(buf + 22, 1, 2); /* mono */
  put_le(buf + 24, (uint32_t)rate, 4);
  put_le(buf + 28, (uint32_t)rate * 2, 4);
  put_le(buf + 32, 2, 2);
  put_le(buf + 34, 16, 2);
  memcpy(buf + 36, "data", 4);
  put_le(buf + 40, (uint32_t)data_len, 4);
  for (size_t i = 0; i < n; i++) { /* WAV is little-endian whatever the host */
    put_le(buf + 44 + 2 * i, (uint16_t)pcm[i], 2);
  }
  int rc = ain_write_file_atomic(path, buf, 44 + data_len);
  free(buf);
  if (rc != 0) {
    return ain_err_field(err, AIN_EIO, "out_wav", "tts: writing %s: %s", path, strerror(-rc));
  }
  return 0;
}

/* Byte offset of each character (code point) start, plus one past the end. */
static size_t *char_offsets(const char *text, size_t len, size_t *n_chars) {
  size_t *off = malloc((len + 1) * sizeof *off);
  if (off == NULL) {
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (((unsigned char)text[i] & 0xC0) != 0x80) {
      off[n++] = i;
    }
  }
  off[n] = len;
  *n_chars = n;
  return off;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Events -> words. A word runs from its event's position to the next whitespace (so "world!" keeps
 * its punctuation) or the next event, whichever comes first. Events that do not advance in time
 * are merged into the previous word, so no cue has zero length. */
static int build_words(const char *text, const tts_collect_t *c, int64_t dur_ms,
                       ain_media_tts_result_t *res, ain_err_t *err) {
  size_t len = strlen(text), n_chars = 0;
  size_t *off = char_offsets(text, len, &n_chars);
  if (off == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
  }
  res->words = calloc(c->n_ev ? c->n_ev : 1, sizeof *res->words);
  if (res->words == NULL) {
    free(off);
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
  }
  for (size_t i = 0; i < c->n_ev; i++) {
    int64_t p = c->ev[i].pos - 1;
    if (p < 0 || (size_t)p >= n_chars || c->ev[i].ms >= dur_ms) {
      continue; /* an event outside the text or the audio cannot be shown */
    }
    size_t b = off[p];
    size_t limit = len;
    if (i + 1 < c->n_ev && c->ev[i + 1].pos - 1 > p && (size_t)(c->ev[i + 1].pos - 1) < n_chars) {
      limit = off[c->ev[i + 1].pos - 1];
    }
    size_t e = b;
    while (e < limit && !is_space(text[e])) {
      e++;
    }
    while (b < e && is_space(text[b])) {
      b++;
    }
    if (e == b) {
      continue;
    }
    ain_media_word_t *prev = res->n_words ? &res->words[res->n_words - 1] : NULL;
    if (prev != NULL && c->ev[i].ms <= prev->start_ms) {
      size_t pl = strlen(prev->text);
      char *t = realloc(prev->text, pl + 1 + (e - b) + 1);
      if (t == NULL) {
        free(off);
        return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
      }
      t[pl] = ' ';
      memcpy(t + pl + 1, text + b, e - b);
      t[pl + 1 + (e - b)] = '\0';
      prev->text = t;
      continue;
    }
    ain_media_word_t *w = &res->words[res->n_words];
    w->text = malloc(e - b + 1);
    if (w->text == NULL) {
      free(off);
      return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
    }
    memcpy(w->text, text + b, e - b);
    w->text[e - b] = '\0';
    w->start_ms = c->ev[i].ms;
    res->n_words++;
  }
  free(off);
  for (size_t i = 0; i < res->n_words; i++) {
    res->words[i].end_ms = i + 1 < res->n_words ? res->words[i + 1].start_ms : dur_ms;
  }
  return 0;
}

/* Persona files name voices by language ("en-gb") or by espeak voice name ("English_(America)",
 * "en-us+f3"); SetVoiceByName only knows the latter, so a language code falls back to a
 * by-language lookup. */
static espeak_ERROR set_voice(const char *voice) {
  if (espeak_SetVoiceByName(voice) == EE_OK) {
    return EE_OK;
  }
  espeak_VOICE want;
  memset(&want, 0, sizeof want);
  want.languages = voice;
  /* ListVoices ranks partial matches too ("no-such-voice" -> Norwegian "no"): accept only a
   * best match whose language is the one asked for, or a dialect of it ("en" -> "en-gb"). */
  const espeak_VOICE **list = espeak_ListVoices(&want);
  if (list == NULL || list[0] == NULL || list[0]->languages == NULL) {
    return EE_NOT_FOUND;
  }
  const char *lang = list[0]->languages + 1; /* first byte is the priority */
  size_t n = strlen(voice);
  if (strncmp(lang, voice, n) != 0 || (lang[n] != '\0' && lang[n] != '-')) {
    return EE_NOT_FOUND;
  }
  return espeak_SetVoiceByProperties(&want);
}

int ain_media_tts_sync(const ain_media_tts_opts_t *o, ain_media_tts_result_t *res,
                       ain_err_t *err) {
  memset(res, 0, sizeof *res);
  if (o->text == NULL || o->text[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "text", "tts: text is empty");
  }
  size_t len = strlen(o->text);
  if (len > TTS_MAX_TEXT) {
    return ain_err_field(err, AIN_ETOOBIG, "text", "tts: text is %zu bytes, max %d", len,
                         TTS_MAX_TEXT);
  }
  size_t bad = 0;
  if (!ain_utf8_valid(o->text, len, &bad)) {
    return ain_err_field(err, AIN_EUTF8, "text", "tts: invalid UTF-8 at byte %zu", bad);
  }
  if (o->out_wav == NULL || o->out_wav[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "out_wav", "tts: out_wav is required");
  }
  int rate = o->rate ? o->rate : 175, pitch = o->pitch > 0 ? o->pitch : 50;
  if (rate < 80 || rate > 450) {
    return ain_err_field(err, AIN_EINVAL, "rate", "tts: rate %d out of 80..450", rate);
  }
  if (pitch > 100) {
    return ain_err_field(err, AIN_EINVAL, "pitch", "tts: pitch %d out of 0..100", pitch);
  }
  const char *voice = o->voice && o->voice[0] ? o->voice : "en-us";
  tts_collect_t c = {0};
  int rc = 0;
  espeak_ERROR e = EE_OK;

  uv_once(&g_once, init_mutex);
  uv_mutex_lock(&g_mu);
  if (g_rate == 0) {
    /* DONT_EXIT: a missing data file must be an error, not exit() of the whole engine. */
    int r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
    if (r <= 0) {
      uv_mutex_unlock(&g_mu);
      return ain_err_set(err, AIN_EMEDIA, "tts: espeak-ng failed to initialise (%d)", r);
    }
    g_rate = r;
    espeak_SetSynthCallback(synth_cb);
  }
  if (set_voice(voice) != EE_OK) {
    rc = ain_err_field(err, AIN_EINVAL, "voice", "tts: voice \"%.64s\" not found", voice);
    goto unlock;
  }
  espeak_SetParameter(espeakRATE, rate, 0);
  espeak_SetParameter(espeakPITCH, pitch, 0);
  g_cur = &c;
  e = espeak_Synth(o->text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
  if (e == EE_OK) {
    e = espeak_Synchronize();
  }
  g_cur = NULL;
  res->sample_rate = g_rate;
unlock:
  uv_mutex_unlock(&g_mu);
  if (rc != 0) {
    goto fail;
  }
  if (c.oom) {
    rc = ain_err_set(err, AIN_ENOMEM, "tts: no memory for the audio");
    goto fail;
  }
  if (e != EE_OK) {
    rc = ain_err_set(err, AIN_EMEDIA, "tts: espeak-ng synthesis failed (%d)", (int)e);
    goto fail;
  }
  res->duration_ms = (int64_t)c.n * 1000 / res->sample_rate;
  if (c.n == 0 || c.n_ev == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "text", "tts: text has no speakable words");
    goto fail;
  }
  if ((rc = build_words(o->text, &c, res->duration_ms, res, err)) != 0) {
    goto fail;
  }
  if (res->n_words == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "text", "tts: text has no speakable words");
    goto fail;
  }
  if ((rc = write_wav(o->out_wav, c.pcm, c.n, res->sample_rate, err)) != 0) {
    goto fail;
  }
  free(c.pcm);
  free(c.ev);
  return 0;
fail:
  free(c.pcm);
  free(c.ev);
  ain_media_tts_result_free(res);
  return rc;
}

void ain_media_tts_result_free(ain_media_tts_result_t *res) {
  for (size_t i = 0; i < res->n_words; i++) {
    free(res->words[i].text);
  }
  free(res->words);
  memset(res, 0, sizeof *res);
}

void ain_media_shutdown(void) {
  uv_once(&g_once, init_mutex);
  uv_mutex_lock(&g_mu);
  if (g_rate != 0) {
    espeak_Terminate();
    g_rate = 0;
  }
  uv_mutex_unlock(&g_mu);
}

typedef struct {
  uv_work_t work;
  ain_media_tts_opts_t opts; /* strings below are owned copies */
  char *text, *voice, *out_wav;
  ain_media_tts_result_t res;
  ain_err_t err;
  int status;
  ain_media_tts_cb cb;
  void *data;
} tts_job_t;

static void tts_work(uv_work_t *w) {
  tts_job_t *j = w->data;
  j->status = ain_media_tts_sync(&j->opts, &j->res, &j->err);
}

static void tts_after(uv_work_t *w, int status) {
  tts_job_t *j = w->data;
  if (status == UV_ECANCELED && j->status == 0) {
    j->status = ain_err_set(&j->err, AIN_ECANCELLED, "tts: cancelled");
  }
  j->cb(j->status, j->status == 0 ? &j->res : NULL, j->status == 0 ? NULL : &j->err, j->data);
  ain_media_tts_result_free(&j->res);
  free(j->text);
  free(j->voice);
  free(j->out_wav);
  free(j);
}

int ain_media_tts(uv_loop_t *loop, const ain_media_tts_opts_t *opts, ain_media_tts_cb cb,
                  void *data, ain_err_t *err) {
  if (opts == NULL || cb == NULL || opts->text == NULL || opts->out_wav == NULL) {
    return ain_err_set(err, AIN_EINVAL, "tts: text, out_wav and a callback are required");
  }
  tts_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
  }
  j->text = ain_strdup(opts->text);
  j->voice = ain_strdup(opts->voice);
  j->out_wav = ain_strdup(opts->out_wav);
  j->opts = *opts;
  j->opts.text = j->text;
  j->opts.voice = j->voice;
  j->opts.out_wav = j->out_wav;
  j->cb = cb;
  j->data = data;
  j->work.data = j;
  int rc = uv_queue_work(loop, &j->work, tts_work, tts_after);
  if (rc != 0) {
    free(j->text);
    free(j->voice);
    free(j->out_wav);
    free(j);
    return ain_err_set(err, AIN_EIO, "tts: uv_queue_work: %s", uv_strerror(rc));
  }
  return 0;
}
