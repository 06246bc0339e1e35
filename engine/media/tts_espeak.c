/* The espeak-ng provider: PCM and WORD events collected in one synthesis of the spoken text
 * (speech_text.c), the WAV written by us (temp + fsync + rename), each spoken token's start taken
 * from the events' audio_position, which are the real positions of the words in the audio (not an
 * estimate from text length, the mistake that makes peers' captions drift). libespeak-ng is
 * process-global and not thread-safe, so every synthesis runs on the libuv thread pool behind one
 * mutex.
 * Relies on: libespeak-ng (speak_lib.h), libuv (uv_mutex), core/util, media/speech_text.c. */
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

/* Events -> the start of each spoken token: an event belongs to the token its character position
 * falls in (or the next one, when it points at the space before it); a token's first event wins. */
static int token_starts(const ain_media_speech_t *sp, const tts_collect_t *c, int64_t dur_ms,
                        int64_t *tok_start, ain_err_t *err) {
  size_t len = strlen(sp->spoken), n_chars = 0;
  size_t *off = char_offsets(sp->spoken, len, &n_chars);
  if (off == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
  }
  for (size_t k = 0; k < sp->n_tokens; k++) {
    tok_start[k] = -1;
  }
  size_t k = 0;
  for (size_t i = 0; i < c->n_ev; i++) {
    int64_t p = c->ev[i].pos - 1;
    if (p < 0 || (size_t)p >= n_chars || c->ev[i].ms >= dur_ms) {
      continue; /* an event outside the text or the audio cannot be shown */
    }
    size_t b = off[p];
    while (k < sp->n_tokens && sp->tok_off[k] + sp->tok_len[k] <= b) {
      k++;
    }
    if (k == sp->n_tokens) {
      break;
    }
    /* An event pointing inside a word that already has its start comes from espeak joining an
     * unstressed word to the one before ("in a row", "for a while" are said as "ina" "row"): its
     * position is wrong but its time is the onset of the word after the joined one (measured on
     * espeak's phoneme events: "row" 10 ms after the event, "a" 30 ms before it). Dropping it
     * left "a row" to interpolation, ~170 ms late. */
    size_t t = k;
    if (tok_start[k] >= 0 && b > sp->tok_off[k]) {
      t = k + 2 < sp->n_tokens && tok_start[k + 1] < 0 ? k + 2 : k + 1;
      if (t >= sp->n_tokens) {
        continue;
      }
      k = t;
    }
    if (tok_start[t] < 0) {
      tok_start[t] = c->ev[i].ms;
    }
  }
  free(off);
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

int ain__tts_espeak(const ain_media_tts_opts_t *o, const ain_media_speech_t *sp,
                    int64_t *tok_start, int64_t *duration_ms, int *sample_rate, ain_err_t *err) {
  if (o->out_wav == NULL || o->out_wav[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "out_wav", "tts: out_wav is required");
  }
  int rate = o->rate ? o->rate : 175, pitch = o->pitch > 0 ? o->pitch : 50;
  const char *voice = o->voice && o->voice[0] ? o->voice : "en-us";
  const char *text = sp->spoken;
  size_t len = strlen(text);
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
  e = espeak_Synth(text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
  if (e == EE_OK) {
    e = espeak_Synchronize();
  }
  g_cur = NULL;
  *sample_rate = g_rate;
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
  *duration_ms = (int64_t)c.n * 1000 / *sample_rate;
  if (c.n == 0 || c.n_ev == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "text", "tts: text has no speakable words");
    goto fail;
  }
  if ((rc = token_starts(sp, &c, *duration_ms, tok_start, err)) != 0 ||
      (rc = write_wav(o->out_wav, c.pcm, c.n, *sample_rate, err)) != 0) {
    goto fail;
  }
fail:
  free(c.pcm);
  free(c.ev);
  return rc;
}

int ain__tts_check(const ain_media_tts_opts_t *o, ain_err_t *err) {
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
  if (pitch > 100 || o->pitch < 0) {
    return ain_err_field(err, AIN_EINVAL, "pitch", "tts: pitch %d out of 0..100", o->pitch);
  }
  return ain_media_tts_provider_check(o->provider, err);
}

int ain_media_tts_sync(const ain_media_tts_opts_t *o, ain_media_tts_result_t *res,
                       ain_err_t *err) {
  memset(res, 0, sizeof *res);
  ain_media_speech_t sp = {0};
  int64_t *tok = NULL;
  int rc = ain__tts_check(o, err);
  if (rc != 0) {
    return rc;
  }
  if ((rc = ain_media_speech_normalise(o->text, &sp, err)) != 0) {
    return rc;
  }
  tok = calloc(sp.n_tokens, sizeof *tok);
  if (tok == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "tts: no memory");
    goto fail;
  }
  if ((rc = ain__tts_espeak(o, &sp, tok, &res->duration_ms, &res->sample_rate, err)) != 0 ||
      (rc = ain_media_speech_times(&sp, tok, res->duration_ms, &res->words, &res->n_words,
                                   err)) != 0) {
    goto fail;
  }
  res->n_tokens = sp.n_tokens;
  res->spoken = sp.spoken;
  sp.spoken = NULL;
fail:
  free(tok);
  ain_media_speech_free(&sp);
  if (rc != 0) {
    ain_media_tts_result_free(res);
  }
  return rc;
}

void ain_media_tts_result_free(ain_media_tts_result_t *res) {
  for (size_t i = 0; i < res->n_words; i++) {
    free(res->words[i].text);
  }
  free(res->words);
  free(res->spoken);
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

