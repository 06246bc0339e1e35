/* The TTS providers for real: Festival with Debian's HTS voice (word times from its utterance),
 * the OpenAI-compatible HTTP provider against tests/servers/openai_compat.js (real espeak-ng
 * audio, no word times: pocketsphinx forced alignment times them; 429, 5xx, dropped connections,
 * slow answers, malformed audio, a wrong key), forced alignment of espeak-ng's own audio compared
 * with espeak-ng's event times, the music mix at delivery loudness (measured by ffmpeg ebur128),
 * and bad options. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "media/media.h"

typedef struct {
  int calls, status;
  ain_err_t err;
  ain_media_tts_result_t res;
} seen_t;

static void on_tts(int status, const ain_media_tts_result_t *res, const ain_err_t *err,
                   void *data) {
  seen_t *s = data;
  s->calls++;
  s->status = status;
  if (err != NULL) {
    s->err = *err;
    return;
  }
  s->res = *res;
  s->res.spoken = ain_strdup(res->spoken);
  s->res.words = calloc(res->n_words, sizeof *res->words);
  for (size_t i = 0; i < res->n_words; i++) {
    s->res.words[i] = res->words[i];
    s->res.words[i].text = ain_strdup(res->words[i].text);
  }
}

static const char *tmp(const char *name) {
  static char buf[8][1024];
  static int slot;
  char *out = buf[slot++ % 8];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

static int run(ain_media_tts_opts_t *o, seen_t *s) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(s, 0, sizeof *s);
  if (o->work_dir == NULL) {
    o->work_dir = ain_test_tmpdir();
  }
  ain_err_t err = {0};
  int rc = ain_media_tts(&loop, o, on_tts, s, &err);
  if (rc != 0) {
    s->status = rc;
    s->err = err;
    uv_loop_close(&loop);
    return rc;
  }
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(s->calls, 1);
  if (s->status != 0) {
    fprintf(stderr, "# tts: %s\n", s->err.msg);
  }
  return s->status;
}

/* Every written word, in order, with strictly increasing contiguous times. */
static void check_words(const seen_t *s, const char *text) {
  ain_media_speech_t sp;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_speech_normalise(text, &sp, &err));
  ASSERT_EQ(s->res.n_words, sp.n_written);
  for (size_t i = 0; i < sp.n_written; i++) {
    ASSERT_STR_EQ(s->res.words[i].text, sp.written[i]);
    ASSERT_TRUE(s->res.words[i].end_ms > s->res.words[i].start_ms);
    if (i > 0) {
      ASSERT_EQ(s->res.words[i].start_ms, s->res.words[i - 1].end_ms);
    }
  }
  ASSERT_EQ(s->res.words[sp.n_written - 1].end_ms, s->res.duration_ms);
  ain_media_speech_free(&sp);
}

static void free_seen(seen_t *s) {
  for (size_t i = 0; i < s->res.n_words; i++) {
    free(s->res.words[i].text);
  }
  free(s->res.words);
  free(s->res.spoken);
}

static char *run_capture(const char *cmd) {
  FILE *f = popen(cmd, "r");
  ASSERT_NOT_NULL(f);
  size_t cap = 1 << 16, n = 0, r;
  char *buf = malloc(cap);
  while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  buf[n] = '\0';
  pclose(f);
  return buf;
}

/* ---- festival ---------------------------------------------------------------------------------- */

TEST(festival_word_times) {
  const char *text = "Penny here: rates rose 0.25% to 5.5%, the 3rd rise in a row \xf0\x9f\x93\x88";
  ain_media_tts_opts_t o = {.text = text, .provider = "festival", .rate = 165, .pitch = 48,
                            .out_wav = tmp("fest.wav")};
  seen_t s;
  ASSERT_OK(run(&o, &s));
  ASSERT_EQ(s.res.aligned, 0); /* festival's own times */
  ASSERT_STR_CONTAINS(s.res.spoken, "zero point two five percent to five point five percent");
  ASSERT_GE(s.res.duration_ms, 2500);
  check_words(&s, text);
  int64_t dur = 0;
  int rate = 0;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_wav_info(o.out_wav, &dur, &rate, &err));
  ASSERT_EQ(dur, s.res.duration_ms);
  /* the first word starts near the audio's start, the last one well before its end */
  ASSERT_LE(s.res.words[1].start_ms, 1200);
  ASSERT_GE(s.res.words[s.res.n_words - 2].start_ms, s.res.duration_ms / 2);
  free_seen(&s);
  /* a voice festival does not have is an error naming the voice */
  o.voice = "no_such_voice";
  ASSERT_EQ(run(&o, &s), AIN_EMEDIA);
  ASSERT_STR_CONTAINS(s.err.msg, "no_such_voice");
  o.voice = "bad voice)";
  ASSERT_EQ(run(&o, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "voice");
  /* a festival program that does not exist */
  o.voice = NULL;
  o.festival = "/nonexistent/festival";
  ASSERT_NE(run(&o, &s), 0);
}

/* Alignment of espeak-ng's audio against espeak-ng's own event times: the aligner is within a
 * generous margin of the truth on every word. */
TEST(forced_alignment_matches_espeak_events) {
  const char *text = "Coach Ava here. Try the 12-3-30 workout: twelve percent incline, speed "
                     "three, thirty minutes. Your legs will thank you tomorrow.";
  ain_media_tts_opts_t o = {.text = text, .rate = 170, .out_wav = tmp("es.wav")};
  seen_t truth, al;
  ASSERT_OK(run(&o, &truth));
  o.force_align = 1;
  o.out_wav = tmp("es2.wav");
  ASSERT_OK(run(&o, &al));
  ASSERT_EQ(al.res.aligned, 1);
  ASSERT_GE(al.res.aligned_matched * 10, al.res.n_tokens * 7); /* >= 70 % heard */
  check_words(&al, text);
  ASSERT_EQ(al.res.n_words, truth.res.n_words);
  size_t close = 0;
  int64_t worst = 0;
  for (size_t i = 0; i < al.res.n_words; i++) {
    int64_t d = llabs(al.res.words[i].start_ms - truth.res.words[i].start_ms);
    close += d <= 150;
    worst = d > worst ? d : worst;
  }
  fprintf(stderr, "# alignment: %zu of %zu words within 150 ms of espeak's events, worst %lld ms\n",
          close, al.res.n_words, (long long)worst);
  /* the grammar's alignment: every word (the language model's run alone had 17 of 20, worst
   * 269 ms; the grammar's worst is ~50 ms) */
  ASSERT_EQ(close, al.res.n_words);
  free_seen(&truth);
  free_seen(&al);
}

/* espeak-ng says "in a row" and "for a while" as one word and a second one ("ina" "row") and
 * reports the second word's event at a position inside "in"/"for": the word after the joined one
 * gets that event's time (its phonemes start within ~15 ms of it), not a share of the time up to
 * the next sentence by interpolation (which put "row" ~170 ms late, after the pause was counted
 * into it). At rate 190 "in" -> "row" is ~140 ms of speech; interpolated it was ~330 ms. */
TEST(espeak_joined_words) {
  const char *text = "One hundred days in a row. What a week, and for a while nobody knew.";
  ain_media_tts_opts_t o = {.text = text, .voice = "en-us+f2", .rate = 190,
                            .out_wav = tmp("joined.wav")};
  seen_t s;
  ASSERT_OK(run(&o, &s));
  check_words(&s, text);
  const ain_media_word_t *w = s.res.words;
  ASSERT_STR_EQ(w[3].text, "in");
  ASSERT_STR_EQ(w[5].text, "row.");
  ASSERT_STR_EQ(w[6].text, "What");
  fprintf(stderr, "# in %lld a %lld row %lld What %lld; for %lld a %lld while %lld\n",
          (long long)w[3].start_ms, (long long)w[4].start_ms, (long long)w[5].start_ms,
          (long long)w[6].start_ms, (long long)w[10].start_ms, (long long)w[11].start_ms,
          (long long)w[12].start_ms);
  ASSERT_GE(w[5].start_ms - w[3].start_ms, 60);
  ASSERT_LE(w[5].start_ms - w[3].start_ms, 220);
  ASSERT_GE(w[4].start_ms, w[3].start_ms + 1);
  ASSERT_LE(w[4].start_ms, w[5].start_ms - 1);
  ASSERT_STR_EQ(w[12].text, "while");
  ASSERT_LE(w[12].start_ms - w[10].start_ms, 260);
  free_seen(&s);
}

/* ---- the HTTP provider against the test server --------------------------------------------------- */

typedef struct {
  pid_t pid;
  int port;
} server_t;

static void server_start(server_t *sv) {
  const char *pf = tmp("port");
  unlink(pf);
  sv->pid = fork();
  ASSERT_TRUE(sv->pid >= 0);
  if (sv->pid == 0) {
    execlp("node", "node", ain_test_src("tests/servers/openai_compat.js"), "--key", "sk-test",
           "--port-file", pf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 400; i++) {
    char *buf = NULL;
    size_t len = 0;
    if (ain_read_file(pf, &buf, &len) == 0 && len > 0) {
      sv->port = atoi(buf);
      free(buf);
      return;
    }
    free(buf);
    usleep(25000);
  }
  AIN__FAIL("the test server did not start");
}

static void server_stop(server_t *sv) {
  kill(sv->pid, SIGTERM);
  waitpid(sv->pid, NULL, 0);
}

static void control(const server_t *sv, const char *fault, int count) {
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "curl -sf -X POST -d '{\"fault\": \"%s\", \"count\": %d}' http://127.0.0.1:%d/control",
           fault, count, sv->port);
  free(run_capture(cmd));
}

static int stat_of(const server_t *sv, const char *key) {
  char cmd[256], k[64];
  snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/stats", sv->port);
  char *out = run_capture(cmd);
  snprintf(k, sizeof k, "\"%s\":", key);
  const char *p = strstr(out, k);
  int n = p ? atoi(p + strlen(k)) : -1;
  free(out);
  return n;
}

TEST(openai_provider_and_faults) {
  server_t sv;
  server_start(&sv);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", sv.port);
  const char *text = "Tina here! The new M5 chip is 20% faster, says apple.com \xf0\x9f\x9a\x80";
  ain_media_tts_opts_t o = {.text = text, .provider = "openai", .voice = "nova", .url = url,
                            .model = "tts-1", .api_key = "sk-test", .out_wav = tmp("oa.wav"),
                            .timeout_ms = 20000};
  seen_t s;
  ASSERT_OK(run(&o, &s));
  ASSERT_EQ(s.res.aligned, 1); /* the API has no word times: aligned */
  ASSERT_GE(s.res.aligned_matched * 2, s.res.n_tokens);
  ASSERT_STR_CONTAINS(s.res.spoken, "twenty percent faster, says apple dot com");
  check_words(&s, text);
  ASSERT_EQ(stat_of(&sv, "speech"), 1);
  free_seen(&s);

  /* 429 then 500 then a dropped connection: retried, the fourth attempt succeeds */
  o.max_attempts = 4;
  control(&sv, "429", 1);
  ASSERT_OK(run(&o, &s));
  free_seen(&s);
  control(&sv, "500", 2);
  ASSERT_OK(run(&o, &s));
  free_seen(&s);
  control(&sv, "close", 1);
  ASSERT_OK(run(&o, &s));
  free_seen(&s);
  /* requests that reached the route (faulted ones included): 1 + 2 + 3 + 2 */
  ASSERT_EQ(stat_of(&sv, "speech"), 8);

  /* faults past the attempts: the error names the status, never the key */
  o.max_attempts = 2;
  control(&sv, "500", 5);
  ASSERT_EQ(run(&o, &s), AIN_EHTTP);
  ASSERT_STR_CONTAINS(s.err.msg, "HTTP 500");
  ASSERT_STR_CONTAINS(s.err.msg, "after 2 attempts");
  ASSERT_TRUE(strstr(s.err.msg, "sk-test") == NULL);
  control(&sv, "", 0);
  /* a slow answer past the timeout */
  o.timeout_ms = 300;
  o.max_attempts = 1;
  control(&sv, "delay=3000", 1);
  ASSERT_EQ(run(&o, &s), AIN_ETIMEOUT);
  o.timeout_ms = 20000;
  /* a 200 that is not audio, a truncated body */
  control(&sv, "malformed", 1);
  ASSERT_NE(run(&o, &s), 0);
  ASSERT_STR_CONTAINS(s.err.msg, "not audio");
  control(&sv, "truncated", 1);
  ASSERT_NE(run(&o, &s), 0);
  /* a wrong key and a voice the API does not have are final (4xx, one request each) */
  o.max_attempts = 3;
  o.api_key = "sk-wrong";
  ASSERT_EQ(run(&o, &s), AIN_ECREDS);
  ASSERT_TRUE(strstr(s.err.msg, "sk-wrong") == NULL);
  o.api_key = "sk-test";
  o.voice = "robot";
  int before = stat_of(&sv, "total");
  ASSERT_EQ(run(&o, &s), AIN_EHTTP);
  ASSERT_STR_CONTAINS(s.err.msg, "HTTP 400");
  ASSERT_STR_CONTAINS(s.err.msg, "voice");
  ASSERT_EQ(stat_of(&sv, "total"), before + 1); /* not retried */
  /* a server that is not there */
  o.voice = "nova";
  o.url = "http://127.0.0.1:9";
  o.max_attempts = 1;
  ASSERT_EQ(run(&o, &s), AIN_EHTTP);
  server_stop(&sv);
}

TEST(bad_options) {
  ain_media_tts_opts_t o = {.text = "hello", .provider = "polly", .out_wav = tmp("x.wav")};
  seen_t s;
  ASSERT_EQ(run(&o, &s), AIN_EINVAL);
  ASSERT_STR_CONTAINS(s.err.msg, "polly");
  o.provider = "openai"; /* no url/model */
  ASSERT_EQ(run(&o, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "tts.openai");
  o.provider = "festival";
  o.work_dir = "";
  ASSERT_EQ(run(&o, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "work_dir");
  o.work_dir = NULL;
  o.pitch = 101;
  ASSERT_EQ(run(&o, &s), AIN_EINVAL);
  ASSERT_STR_EQ(s.err.field, "pitch");
}

/* ---- the mix ----------------------------------------------------------------------------------- */

typedef struct {
  int calls, status;
  char msg[512];
} done_t;

static void on_done(int status, const ain_err_t *err, void *data) {
  done_t *d = data;
  d->calls++;
  d->status = status;
  if (err) {
    snprintf(d->msg, sizeof d->msg, "%s", err->msg);
  }
}

static void on_measured(int status, double i, double tp, const ain_err_t *err, void *data) {
  double *out = data;
  (void)tp;
  (void)err;
  if (status == 0) {
    out[0] = i;
  }
  out[1] = status;
}

static void ebur128(const char *wav, double *i, double *tp) {
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -hide_banner -nostats -i '%s' -af ebur128=peak=true -f null - 2>&1", wav);
  char *out = run_capture(cmd);
  const char *sum = strstr(out, "Summary:");
  ASSERT_NOT_NULL(sum);
  const char *pi = strstr(sum, "I:"), *pp = strstr(sum, "Peak:");
  ASSERT_TRUE(pi && pp);
  *i = strtod(pi + 2, NULL);
  *tp = strtod(pp + 5, NULL);
  free(out);
}

/* RMS level (dB) of a stretch of a WAV, from ffmpeg's astats. */
static double rms_db(const char *wav, double from, double len) {
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -hide_banner -nostats -ss %.2f -t %.2f -i '%s' -af astats=measure_perchannel=none"
           " -f null - 2>&1 | grep 'RMS level dB' | tail -1",
           from, len, wav);
  char *out = run_capture(cmd);
  const char *p = strstr(out, "RMS level dB:");
  double v = p ? strtod(p + 13, NULL) : 0;
  free(out);
  return v;
}

TEST(music_mix_loudness_and_ducking) {
  /* speech with a long pause: the bed is ducked while the voice speaks, back up in the pause */
  const char *sp = tmp("speech.wav");
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -loglevel error -y -f lavfi -i \"aevalsrc=0.3*sin(2*PI*220*t)*lt(t\\,2):s=48000:d=5\" "
           "-c:a pcm_s16le '%s'",
           sp);
  ASSERT_EQ(system(cmd), 0);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  done_t d = {0};
  ain_err_t err = {0};
  double lufs[2] = {0};
  ASSERT_OK(ain_media_measure(&loop, sp, 0, on_measured, lufs, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_TRUE(lufs[0] < -14.0 && lufs[0] > -16.0); /* the sine: -14.8 LUFS */
  ASSERT_EQ(ain_media_measure(&loop, "/nonexistent.wav", 0, on_measured, lufs, &err), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(lufs[1], AIN_EMEDIA);
  ain_media_mix_opts_t mo = {.speech_wav = sp, .speech_gain_db = -14.0 - lufs[0], .key = "Am",
                             .duration_ms = 5000, .out_wav = tmp("mix.wav")};
  ASSERT_OK(ain_media_mix(&loop, &mo, on_done, &d, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(d.status, 0);
  ain_media_loudnorm_opts_t lo = {.in_path = tmp("mix.wav"), .out_wav = tmp("final.wav")};
  ASSERT_OK(ain_media_loudnorm(&loop, &lo, on_done, &d, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(d.calls, 2);
  ASSERT_EQ(d.status, 0);
  double i = 0, tp = 0;
  ebur128(tmp("final.wav"), &i, &tp);
  fprintf(stderr, "# mix: I = %.1f LUFS, true peak = %.1f dBTP\n", i, tp);
  ASSERT_TRUE(i >= -15.0 && i <= -13.0);
  ASSERT_TRUE(tp <= -1.0);
  int64_t dur = 0;
  int rate = 0;
  ASSERT_OK(ain_media_wav_info(tmp("final.wav"), &dur, &rate, &err));
  ASSERT_EQ(rate, 48000);
  ASSERT_TRUE(llabs(dur - 5300) <= 30); /* speech + 300 ms tail */
  /* the bed alone in the pause (3..4 s) is well under the speech (0.5..1.5 s) but present */
  double speech = rms_db(tmp("final.wav"), 0.5, 1.0), pause = rms_db(tmp("final.wav"), 3.0, 1.0);
  fprintf(stderr, "# speech stretch %.1f dB, pause (bed) %.1f dB\n", speech, pause);
  ASSERT_TRUE(pause < speech - 8);
  ASSERT_TRUE(pause > -60);
  /* a bad key is refused before ffmpeg runs */
  ASSERT_OK(uv_loop_init(&loop));
  mo.key = "H#";
  ASSERT_EQ(ain_media_mix(&loop, &mo, on_done, &d, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "music.key");
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(festival_word_times), TEST_ENTRY(forced_alignment_matches_espeak_events),
          TEST_ENTRY(espeak_joined_words),
          TEST_ENTRY(openai_provider_and_faults), TEST_ENTRY(bad_options),
          TEST_ENTRY(music_mix_loudness_and_ducking))
