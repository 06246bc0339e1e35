/* Speech through a provider, as one asynchronous job on a uv loop:
 *   1. (pool) the written text is normalised for speech (speech_text.c); espeak-ng synthesises
 *      in-process (tts_espeak.c), festival gets its Scheme program written, the OpenAI-compatible
 *      server is asked (tts_openai.c, blocking curl);
 *   2. (child) festival --batch runs the program: wave + token times (tts_festival.c); the HTTP
 *      provider's audio is converted to a WAV by ffmpeg;
 *   3. when the provider gave no word times (HTTP), or force_align: forced alignment of the known
 *      tokens with pocketsphinx: ffmpeg makes 16 kHz mono, the script's language model is built on
 *      the pool (asrlm.c, the model inspect.c uses), pocketsphinx_continuous -time yes runs as a
 *      child and its words are aligned to the tokens (ain_media_align_parse);
 *   4. (pool) the WAV's duration, and the token times mapped back to the written words.
 * Nothing blocks the loop: every step is a pool job or a child process (ffrun.c).
 * Relies on: media/speech_text.c, tts_espeak.c, tts_festival.c, tts_openai.c, asrlm.c, ffrun.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "media/internal.h"

#define TTS_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

enum { P_ESPEAK, P_FESTIVAL, P_OPENAI };

typedef struct tts_job tts_job_t;
struct tts_job {
  uv_loop_t *loop;
  uv_work_t work;
  void (*work_fn)(tts_job_t *j);
  void (*after_fn)(tts_job_t *j);
  ain_media_tts_opts_t o;
  char *s[12]; /* owned copies of the option strings */
  int provider;
  ain_media_speech_t sp;
  int64_t *tok;
  int64_t duration_ms;
  int sample_rate;
  size_t matched;
  int aligned;
  char script[4200], resp[4200], align_wav[4200], lm[4200], dic[4200], gram[4200], tmp[4200];
  int use_gram; /* the grammar run first; 0 after it failed: the language model's run */
  int rc;
  ain_err_t err;
  ain_media_tts_result_t res;
  ain_media_tts_cb cb;
  void *data;
};

int ain_media_tts_provider_check(const char *name, ain_err_t *err) {
  if (name == NULL || strcmp(name, "espeak") == 0 || strcmp(name, "festival") == 0 ||
      strcmp(name, "openai") == 0) {
    return 0;
  }
  return ain_err_field(err, AIN_EINVAL, "provider",
                       "tts: provider \"%.64s\" is not one of \"espeak\", \"festival\", \"openai\"",
                       name);
}

static void job_free(tts_job_t *j) {
  if (j->s[8] != NULL) { /* the API key: not left in freed memory */
    memset(j->s[8], 0, strlen(j->s[8]));
  }
  for (size_t i = 0; i < sizeof j->s / sizeof j->s[0]; i++) {
    free(j->s[i]);
  }
  ain_media_speech_free(&j->sp);
  free(j->tok);
  ain_media_tts_result_free(&j->res);
  free(j);
}

static void finish(tts_job_t *j) {
  j->cb(j->rc, j->rc == 0 ? &j->res : NULL, j->rc == 0 ? NULL : &j->err, j->data);
  job_free(j);
}

static void on_work(uv_work_t *w) {
  tts_job_t *j = w->data;
  j->work_fn(j);
}

static void after_work(uv_work_t *w, int status) {
  tts_job_t *j = w->data;
  if (status == UV_ECANCELED && j->rc == 0) {
    j->rc = ain_err_set(&j->err, AIN_ECANCELLED, "tts: cancelled");
  }
  if (j->rc != 0) {
    finish(j);
    return;
  }
  j->after_fn(j);
}

static void pool(tts_job_t *j, void (*fn)(tts_job_t *), void (*after)(tts_job_t *)) {
  j->work_fn = fn;
  j->after_fn = after;
  j->work.data = j;
  int rc = uv_queue_work(j->loop, &j->work, on_work, after_work);
  if (rc != 0) {
    j->rc = ain_err_set(&j->err, AIN_EIO, "tts: uv_queue_work: %s", uv_strerror(rc));
    finish(j);
  }
}

static void path_in(const tts_job_t *j, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", j->o.work_dir, name);
}

static int64_t timeout(const tts_job_t *j) {
  return j->o.timeout_ms > 0 ? j->o.timeout_ms : 60000;
}

/* ---- 4: map ------------------------------------------------------------------------------------ */

static void w_map(tts_job_t *j) {
  if (j->provider != P_ESPEAK &&
      (j->rc = ain_media_wav_info(j->o.out_wav, &j->duration_ms, &j->sample_rate, &j->err)) != 0) {
    return;
  }
  j->res.duration_ms = j->duration_ms;
  j->res.sample_rate = j->sample_rate;
  j->res.aligned = j->aligned;
  j->res.aligned_matched = j->aligned ? j->matched : 0;
  j->res.n_tokens = j->sp.n_tokens;
  j->rc = ain_media_speech_times(&j->sp, j->tok, j->duration_ms, &j->res.words, &j->res.n_words,
                                 &j->err);
  if (j->rc == 0) {
    j->res.spoken = ain_strdup(j->sp.spoken);
  }
}

static void a_map(tts_job_t *j) {
  finish(j);
}

/* ---- 3: forced alignment ----------------------------------------------------------------------- */

static void a_model(tts_job_t *j);

static void on_asr(int status, const char *out, const char *errtext, ain_err_t *err, void *data) {
  tts_job_t *j = data;
  (void)errtext;
  if (status != 0) {
    j->rc = status;
    j->err = *err;
    ain_err_prefix(&j->err, "tts: forced alignment");
    finish(j);
    return;
  }
  j->matched = ain_media_align_parse(out ? out : "", &j->sp, j->tok);
  j->aligned = 1;
  if (j->matched == 0 && j->use_gram) {
    /* the grammar found no path through the whole audio (pocketsphinx prints nothing then):
     * the language model's recognition, which can skip and insert words, is the fallback */
    j->use_gram = 0;
    a_model(j);
    return;
  }
  /* A recogniser that heard none of the script means the audio is not the script (or silent):
   * timing words by guesswork would hide that. */
  if (j->matched == 0) {
    j->rc = ain_err_set(&j->err, AIN_EMEDIA,
                        "tts: forced alignment heard none of the %zu script words in the audio",
                        j->sp.n_tokens);
    finish(j);
    return;
  }
  pool(j, w_map, a_map);
}

static void a_model(tts_job_t *j) {
  const char *ps = j->o.pocketsphinx ? j->o.pocketsphinx : "pocketsphinx_continuous";
  const char *md = j->o.asr_model_dir ? j->o.asr_model_dir : TTS_MODEL_DIR;
  ain__argv_t a = {0};
  ain__argv_push(&a, ps);
  ain__argv_push(&a, "-infile");
  ain__argv_push(&a, j->align_wav);
  ain__argv_push(&a, "-hmm");
  ain__argv_pushf(&a, "%s/en-us", md);
  if (j->use_gram) {
    /* Forced alignment proper: a grammar that is the script's words in order, silence and noise
     * allowed between them, over the whole audio as one utterance (no VAD: its dropped frames
     * shift the times). Wide beams: with the default ones the one path through the grammar is
     * pruned on one text in three. On espeak audio with known word onsets (8 texts, 320 words)
     * its onsets are 17 ms off at the median, 62 ms at p95; the language model's run jumps to
     * other places of the script on some words (p95 490 ms on that voice, bench/caption_sync.sh).
     */
    static const char *const g[] = {"-jsgf",  NULL,   "-remove_silence", "no",    "-beam",
                                    "1e-80",  "-pbeam", "1e-80",         "-wbeam", "1e-60"};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
      ain__argv_push(&a, g[i] ? g[i] : j->gram);
    }
  } else {
    ain__argv_push(&a, "-lm");
    ain__argv_push(&a, j->lm);
    /* the script's own model weighs heavily: this is alignment of known words, not recognition */
    ain__argv_push(&a, "-lw");
    ain__argv_push(&a, "12");
  }
  ain__argv_push(&a, "-dict");
  ain__argv_push(&a, j->dic);
  ain__argv_push(&a, "-time");
  ain__argv_push(&a, "yes");
  ain__argv_push(&a, "-logfn");
  ain__argv_push(&a, "/dev/null");
  ain__ffrun_opts_t fo = {.what = "tts align (pocketsphinx)", .argv = a.v,
                          .timeout_ms = timeout(j), .keep_stdout = 1};
  int rc = ain__ffrun(j->loop, &fo, on_asr, j, NULL, &j->err);
  ain__argv_free(&a);
  if (rc != 0) {
    j->rc = rc;
    finish(j);
  }
}

/* The alignment grammar (JSGF): the spoken tokens, folded like the dictionary's words (ASCII
 * lower case, letters, digits and apostrophes), those the dictionary has, in order. 0 = written,
 * -1 = no word of the script is in the dictionary (the language model's run then). */
static int write_grammar(tts_job_t *j) {
  char *dic = NULL;
  size_t dlen = 0;
  if (ain_read_file(j->dic, &dic, &dlen) != 0) {
    return -1;
  }
  size_t cap = strlen(j->sp.spoken) + 64, n = 0, words = 0;
  char *g = malloc(cap);
  if (g == NULL) {
    free(dic);
    return -1;
  }
  n += (size_t)snprintf(g, cap, "#JSGF V1.0;\ngrammar align;\npublic <s> =");
  for (size_t i = 0; i < j->sp.n_tokens; i++) {
    char w[128];
    size_t k = 0;
    for (size_t c = 0; c < j->sp.tok_len[i] && k + 1 < sizeof w; c++) {
      unsigned char ch = (unsigned char)j->sp.spoken[j->sp.tok_off[i] + c];
      if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '\'') {
        w[k++] = (char)ch;
      } else if (ch >= 'A' && ch <= 'Z') {
        w[k++] = (char)(ch - 'A' + 'a');
      }
    }
    w[k] = '\0';
    /* in the dictionary: a line starting with "w " or "w(" */
    int found = 0;
    for (const char *p = dic; k > 0 && p != NULL && *p && !found;) {
      found = strncmp(p, w, k) == 0 && (p[k] == ' ' || p[k] == '(' || p[k] == '\t');
      p = strchr(p, '\n');
      p = p ? p + 1 : NULL;
    }
    if (found && n + k + 4 < cap) {
      g[n++] = ' ';
      memcpy(g + n, w, k);
      n += k;
      words++;
    }
  }
  free(dic);
  if (words == 0) {
    free(g);
    return -1;
  }
  n += (size_t)snprintf(g + n, cap - n, " ;\n");
  int rc = ain_write_file_atomic(j->gram, g, n);
  free(g);
  return rc == 0 ? 0 : -1;
}

static void w_model(tts_job_t *j) {
  const char *md = j->o.asr_model_dir ? j->o.asr_model_dir : TTS_MODEL_DIR;
  char mdef[4200], dict[4200];
  snprintf(mdef, sizeof mdef, "%s/en-us/mdef", md);
  struct stat st;
  if (stat(mdef, &st) != 0) {
    j->rc = ain_err_field(&j->err, AIN_EIO, "asr_model_dir",
                          "tts: no acoustic model for alignment at %s (Debian package "
                          "pocketsphinx-en-us)",
                          mdef);
    return;
  }
  snprintf(dict, sizeof dict, "%s/cmudict-en-us.dict", md);
  path_in(j, "align.lm", j->lm, sizeof j->lm);
  path_in(j, "align.dic", j->dic, sizeof j->dic);
  size_t words = 0;
  char *oov = NULL;
  j->rc = ain_media_asr_model(j->sp.spoken, dict, j->lm, j->dic, &words, &oov, &j->err);
  free(oov); /* words the dictionary lacks are timed by their neighbours */
  path_in(j, "align.gram", j->gram, sizeof j->gram);
  j->use_gram = j->rc == 0 && write_grammar(j) == 0;
}

static void on_align_audio(int status, const char *out, const char *errtext, ain_err_t *err,
                           void *data) {
  tts_job_t *j = data;
  (void)out;
  (void)errtext;
  if (status != 0) {
    j->rc = status;
    j->err = *err;
    finish(j);
    return;
  }
  pool(j, w_model, a_model);
}

static void start_align(tts_job_t *j) {
  path_in(j, "align.wav", j->align_wav, sizeof j->align_wav);
  char tmp[4300];
  if (ain__media_temp_path(j->align_wav, ".wav", tmp, sizeof tmp) != 0) {
    j->rc = ain_err_field(&j->err, AIN_ETOOBIG, "work_dir", "tts: path too long");
    finish(j);
    return;
  }
  ain__argv_t a = {0};
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-i");
  ain__argv_push(&a, j->o.out_wav);
  static const char *const mid[] = {"-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav"};
  for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
    ain__argv_push(&a, mid[i]);
  }
  ain__argv_push(&a, tmp);
  ain__ffrun_opts_t fo = {.what = "tts align (16 kHz audio)", .argv = a.v,
                          .timeout_ms = timeout(j), .tmp_path = tmp, .final_path = j->align_wav};
  int rc = ain__ffrun(j->loop, &fo, on_align_audio, j, NULL, &j->err);
  ain__argv_free(&a);
  if (rc != 0) {
    j->rc = rc;
    finish(j);
  }
}

/* ---- 2: the provider's child ------------------------------------------------------------------- */

static void on_festival(int status, const char *out, const char *errtext, ain_err_t *err,
                        void *data) {
  tts_job_t *j = data;
  (void)errtext;
  if (status != 0) {
    j->rc = status;
    j->err = *err;
    finish(j);
    return;
  }
  /* festival exits 0 after a Scheme error: END is printed last, so its absence is the error */
  if (out == NULL || strstr(out, "END\n") == NULL) {
    j->rc = ain_err_field(&j->err, AIN_EMEDIA, "voice",
                          "tts festival: the program did not finish (unknown voice \"%.64s\"?)",
                          j->o.voice ? j->o.voice : "cmu_us_slt_arctic_hts");
    finish(j);
    return;
  }
  j->matched = ain_media_festival_parse(out, &j->sp, j->tok);
  if (j->matched == 0 || j->o.force_align) {
    start_align(j);
    return;
  }
  pool(j, w_map, a_map);
}

static void on_converted(int status, const char *out, const char *errtext, ain_err_t *err,
                         void *data) {
  tts_job_t *j = data;
  (void)out;
  (void)errtext;
  if (status != 0) {
    j->rc = status;
    j->err = *err;
    ain_err_prefix(&j->err, "tts openai: the answer is not audio ffmpeg can read");
    finish(j);
    return;
  }
  start_align(j);
}

static void a_prepare(tts_job_t *j) {
  if (j->provider == P_ESPEAK) {
    if (j->o.force_align) {
      start_align(j);
    } else {
      pool(j, w_map, a_map);
    }
    return;
  }
  ain__argv_t a = {0};
  ain__ffrun_opts_t fo = {.timeout_ms = timeout(j), .tmp_path = j->tmp, .final_path = j->o.out_wav};
  ain__ffrun_cb cb;
  if (j->provider == P_FESTIVAL) {
    ain__argv_push(&a, j->o.festival ? j->o.festival : "festival");
    ain__argv_push(&a, "--batch");
    ain__argv_push(&a, j->script);
    fo.what = "tts festival";
    fo.keep_stdout = 1;
    cb = on_festival;
  } else {
    ain__argv_ffmpeg(&a);
    ain__argv_push(&a, "-i");
    ain__argv_push(&a, j->resp);
    static const char *const mid[] = {"-ac", "1", "-c:a", "pcm_s16le", "-f", "wav"};
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
      ain__argv_push(&a, mid[i]);
    }
    ain__argv_push(&a, j->tmp);
    fo.what = "tts openai (audio to WAV)";
    cb = on_converted;
  }
  fo.argv = a.v;
  int rc = ain__ffrun(j->loop, &fo, cb, j, NULL, &j->err);
  ain__argv_free(&a);
  if (rc != 0) {
    j->rc = rc;
    finish(j);
  }
}

/* ---- 1: normalise + the provider's pool part --------------------------------------------------- */

static void w_prepare(tts_job_t *j) {
  if ((j->rc = ain__tts_check(&j->o, &j->err)) != 0 ||
      (j->rc = ain_media_speech_normalise(j->o.text, &j->sp, &j->err)) != 0) {
    return;
  }
  j->tok = calloc(j->sp.n_tokens, sizeof *j->tok);
  if (j->tok == NULL) {
    j->rc = ain_err_set(&j->err, AIN_ENOMEM, "tts: no memory");
    return;
  }
  for (size_t i = 0; i < j->sp.n_tokens; i++) {
    j->tok[i] = -1;
  }
  if (j->provider == P_ESPEAK) {
    j->rc = ain__tts_espeak(&j->o, &j->sp, j->tok, &j->duration_ms, &j->sample_rate, &j->err);
    return;
  }
  if (ain__media_temp_path(j->o.out_wav, ".wav", j->tmp, sizeof j->tmp) != 0) {
    j->rc = ain_err_field(&j->err, AIN_ETOOBIG, "out_wav", "tts: path too long");
    return;
  }
  if (j->provider == P_FESTIVAL) {
    path_in(j, "festival.scm", j->script, sizeof j->script);
    char *prog = ain_media_festival_script(j->sp.spoken, j->o.voice, j->o.rate, j->o.pitch, j->tmp);
    if (prog == NULL) {
      j->rc = ain_err_field(&j->err, AIN_EINVAL, "voice",
                            "tts festival: voice \"%.64s\" must be letters, digits and _",
                            j->o.voice);
      return;
    }
    int wr = ain_write_file_atomic(j->script, prog, strlen(prog));
    free(prog);
    if (wr != 0) {
      j->rc = ain_err_set(&j->err, AIN_EIO, "tts: writing %s: %s", j->script, strerror(-wr));
    }
    return;
  }
  path_in(j, "openai.audio", j->resp, sizeof j->resp);
  j->rc = ain__tts_openai(&j->o, j->sp.spoken, j->resp, &j->err);
}

int ain_media_tts(uv_loop_t *loop, const ain_media_tts_opts_t *opts, ain_media_tts_cb cb,
                  void *data, ain_err_t *err) {
  if (opts == NULL || cb == NULL || opts->text == NULL || opts->out_wav == NULL) {
    return ain_err_set(err, AIN_EINVAL, "tts: text, out_wav and a callback are required");
  }
  int provider = opts->provider == NULL || strcmp(opts->provider, "espeak") == 0 ? P_ESPEAK
                 : strcmp(opts->provider, "festival") == 0                      ? P_FESTIVAL
                                                                                 : P_OPENAI;
  if (ain_media_tts_provider_check(opts->provider, err) != 0) {
    return err->code;
  }
  if ((provider != P_ESPEAK || opts->force_align) &&
      (opts->work_dir == NULL || opts->work_dir[0] == '\0')) {
    return ain_err_field(err, AIN_EINVAL, "work_dir", "tts: provider %s needs a work_dir",
                         opts->provider ? opts->provider : "espeak");
  }
  if (provider == P_OPENAI &&
      (opts->url == NULL || opts->url[0] == '\0' || opts->model == NULL || opts->model[0] == '\0')) {
    return ain_err_field(err, AIN_EINVAL, "tts.openai",
                         "tts: provider openai needs tts.openai.url and tts.openai.model");
  }
  tts_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts: no memory");
  }
  j->loop = loop;
  j->o = *opts;
  j->provider = provider;
  const char **f[] = {&j->o.text,  &j->o.provider, &j->o.voice,        &j->o.out_wav,
                      &j->o.work_dir, &j->o.festival, &j->o.url,     &j->o.model,
                      &j->o.api_key, &j->o.pocketsphinx, &j->o.asr_model_dir};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    j->s[i] = ain_strdup(*f[i]);
    *f[i] = j->s[i];
  }
  j->cb = cb;
  j->data = data;
  pool(j, w_prepare, a_prepare);
  return 0;
}
