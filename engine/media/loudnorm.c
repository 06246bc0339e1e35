/* Loudness normalisation to an EBU R128 target (default -14 LUFS integrated, true peak <= -1 dBTP).
 * Every measurement is ffmpeg's ebur128 meter (integrated loudness and true peak), the reference
 * the delivery is checked with: loudnorm's own print_format=json reads stereo mixes ~0.9 LU lower
 * than ebur128 does (measured on a speech + music bed mix: -15.6 vs -14.7), which left mixes at
 * -13.1 LUFS by the meter; mono speech agrees within 0.1. The apply pass is a linear gain
 * followed by a sample-peak limiter at 48 kHz, not loudnorm's own second pass, for two measured
 * reasons: (1) synthetic speech is peaky (espeak-ng's peak-to-loudness ratio is ~18 dB, and -14
 * LUFS under a -1 dBTP ceiling allows 13), so loudnorm's linear mode is refused and it falls back
 * to dynamic mode, which stopped ~2 LU short; (2) on clips under 3 s (a short script) loudnorm's
 * dynamic mode output is wrong outright (-28.7 LUFS for a 2.7 s clip). When the limiter engages it
 * takes loudness away, so the chain is re-measured and the gain corrected (at most 4 rounds,
 * 1 to 3 in practice) before the file is written. A clip whose peaks fit needs no limiting: 2 runs.
 * Relies on: media/ffrun.c (child + atomic rename), cJSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

#define LN_MAX_ROUNDS 4
#define LN_TOLERANCE_LU 0.3
/* Sample peaks sit this far under the true-peak ceiling: inter-sample overs of speech at 48 kHz
 * and the s16 rounding stay below it. */
#define LN_TP_MARGIN_DB 1.0

typedef struct {
  uv_loop_t *loop;
  char *in, *out, *tmp;
  double ti, ttp, tlra;
  double gain_db;  /* the gain being tried */
  double prev_gain, prev_i; /* the previous round, for the slope */
  int rounds;      /* measurements of the gain+limiter chain so far */
  int64_t timeout_ms;
  ain_media_done_cb cb;
  void *data;
} ln_job_t;

static void ln_free(ln_job_t *j) {
  free(j->in);
  free(j->out);
  free(j->tmp);
  free(j);
}

static void ln_done(ln_job_t *j, int status, const ain_err_t *err) {
  j->cb(status, status ? err : NULL, j->data);
  ln_free(j);
}

static int json_num(const cJSON *o, const char *key, double *v, ain_err_t *err) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
  char *end = NULL;
  if (s == NULL) {
    return ain_err_set(err, AIN_EMEDIA, "loudnorm: pass 1 printed no %s", key);
  }
  *v = strtod(s, &end);
  if (end == s || !isfinite(*v)) {
    /* "-inf" is what loudnorm reports for silence: there is nothing to normalise. */
    return ain_err_set(err, AIN_EMEDIA, "loudnorm: %s is \"%s\" (silent or empty input?)", key, s);
  }
  return 0;
}

/* ebur128's last "Summary:" block: "I: -14.7 LUFS" and, under "True peak:", "Peak: -1.2 dBFS". */
int ain__media_ebur128_parse(const char *text, double *i, double *tp, ain_err_t *err) {
  const char *sum = NULL;
  for (const char *p = text; p != NULL && (p = strstr(p, "Summary:")) != NULL; p++) {
    sum = p;
  }
  const char *pi = sum ? strstr(sum, "I:") : NULL, *pt = sum ? strstr(sum, "True peak:") : NULL;
  const char *pp = pt ? strstr(pt, "Peak:") : NULL;
  if (pi == NULL || pp == NULL) {
    return ain_err_set(err, AIN_EMEDIA, "loudness: ebur128 printed no summary");
  }
  char *end = NULL;
  *i = strtod(pi + 2, &end);
  if (end == pi + 2 || !isfinite(*i)) {
    return ain_err_set(err, AIN_EMEDIA, "loudness: ebur128's integrated loudness does not parse");
  }
  *tp = strtod(pp + 5, &end);
  if (end == pp + 5) {
    *tp = -HUGE_VAL; /* "-inf": no peak at all */
  }
  if (*i <= -69.9) { /* the meter's floor: nothing passed the gate */
    return ain_err_set(err, AIN_EMEDIA, "loudness: the input is silent (I = %.1f LUFS)", *i);
  }
  return 0;
}

/* The JSON block is the last {...} in stderr, after ffmpeg's own stream banner. */
int ain__media_loudnorm_parse(const char *text, double m[5], ain_err_t *err) {
  const char *open = text ? strrchr(text, '{') : NULL;
  const char *close = open ? strchr(open, '}') : NULL;
  if (open == NULL || close == NULL) {
    return ain_err_set(err, AIN_EMEDIA, "loudnorm: pass 1 printed no JSON measurement");
  }
  cJSON *o = cJSON_ParseWithLength(open, (size_t)(close - open + 1));
  if (o == NULL) {
    return ain_err_set(err, AIN_EMEDIA, "loudnorm: pass 1 JSON does not parse");
  }
  static const char *const keys[5] = {"input_i", "input_tp", "input_lra", "input_thresh",
                                      "target_offset"};
  int rc = 0;
  for (int i = 0; i < 5 && rc == 0; i++) {
    rc = json_num(o, keys[i], &m[i], err);
  }
  cJSON_Delete(o);
  return rc;
}

static void on_written(int status, const char *out, const char *errtext, ain_err_t *err,
                       void *data) {
  ln_done(data, status, err);
}

/* The apply chain: 48 kHz first, so that the limiter sees (nearly) the peaks ebur128 will see. */
static void chain(const ln_job_t *j, char *out, size_t cap) {
  snprintf(out, cap, "aresample=48000,volume=%.2fdB,alimiter=limit=%.4f:attack=1:release=50:"
                     "level=false",
           j->gain_db, pow(10.0, (j->ttp - LN_TP_MARGIN_DB) / 20.0));
}

static int start_measure(ln_job_t *j, int with_chain, ain_err_t *err);

static int start_write(ln_job_t *j, ain_err_t *err) {
  char c[256];
  chain(j, c, sizeof c);
  ain__argv_t a = {0};
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-i");
  ain__argv_push(&a, j->in);
  ain__argv_push(&a, "-af");
  ain__argv_push(&a, c);
  static const char *const tail[] = {"-ar", "48000", "-c:a", "pcm_s16le", "-f", "wav"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(&a, tail[i]);
  }
  ain__argv_push(&a, j->tmp);
  ain__ffrun_opts_t fo = {.what = "loudnorm apply", .argv = a.v, .timeout_ms = j->timeout_ms,
                          .tmp_path = j->tmp, .final_path = j->out};
  int rc = ain__ffrun(j->loop, &fo, on_written, j, NULL, err);
  ain__argv_free(&a);
  return rc;
}

static void on_measured(int status, const char *out, const char *errtext, ain_err_t *err,
                        void *data) {
  ln_job_t *j = data;
  ain_err_t e2 = {0};
  double m[2];
  if (status != 0) {
    ln_done(j, status, err);
    return;
  }
  if ((status = ain__media_ebur128_parse(errtext, &m[0], &m[1], &e2)) != 0) {
    goto fail;
  }
  if (j->rounds == 0) { /* the raw input */
    j->gain_db = j->ti - m[0];
    j->rounds = 1;
    /* Peaks that stay clear of the limiter: the gain alone is exact, write now. */
    if (m[1] + j->gain_db <= j->ttp - LN_TP_MARGIN_DB - 0.5) {
      status = start_write(j, &e2);
    } else {
      status = start_measure(j, 1, &e2);
    }
  } else {
    double miss = j->ti - m[0];
    if (fabs(miss) <= LN_TOLERANCE_LU || j->rounds >= LN_MAX_ROUNDS) {
      status = start_write(j, &e2);
    } else {
      /* Under the limiter a dB of gain buys less than a dB of loudness (~0.4 for espeak), so
       * after the first correction step along the measured slope (secant), clamped to 0.2..1. */
      double slope = 1.0;
      if (j->rounds > 1 && fabs(j->gain_db - j->prev_gain) > 0.01) {
        slope = (m[0] - j->prev_i) / (j->gain_db - j->prev_gain);
        slope = slope < 0.2 ? 0.2 : slope > 1.0 ? 1.0 : slope;
      }
      j->prev_gain = j->gain_db;
      j->prev_i = m[0];
      j->gain_db += miss / slope;
      j->rounds++;
      status = start_measure(j, 1, &e2);
    }
  }
  if (status == 0) {
    return;
  }
fail:
  ln_done(j, status, &e2);
}

static int start_measure(ln_job_t *j, int with_chain, ain_err_t *err) {
  char c[300] = "";
  if (with_chain) {
    chain(j, c, sizeof c - 1);
    strcat(c, ",");
  }
  ain__argv_t a = {0};
  /* -loglevel info: ebur128 prints its summary at that level. */
  static const char *const pro[] = {AIN__MEDIA_FFMPEG, "-nostdin", "-hide_banner", "-nostats",
                                    "-loglevel", "info", "-i"};
  for (size_t i = 0; i < sizeof pro / sizeof pro[0]; i++) {
    ain__argv_push(&a, pro[i]);
  }
  ain__argv_push(&a, j->in);
  ain__argv_push(&a, "-af");
  ain__argv_pushf(&a, "%sebur128=peak=true:framelog=verbose", c);
  ain__argv_push(&a, "-f");
  ain__argv_push(&a, "null");
  ain__argv_push(&a, "-");
  ain__ffrun_opts_t fo = {.what = "loudnorm measure", .argv = a.v, .timeout_ms = j->timeout_ms,
                          .keep_stderr = 1};
  int rc = ain__ffrun(j->loop, &fo, on_measured, j, NULL, err);
  ain__argv_free(&a);
  return rc;
}

int ain_media_loudnorm(uv_loop_t *loop, const ain_media_loudnorm_opts_t *o, ain_media_done_cb cb,
                       void *data, ain_err_t *err) {
  if (o == NULL || cb == NULL || o->in_path == NULL || o->out_wav == NULL) {
    return ain_err_set(err, AIN_EINVAL, "loudnorm: in_path, out_wav and a callback are required");
  }
  double ti = o->target_i ? o->target_i : -14, ttp = o->target_tp ? o->target_tp : -1,
         tlra = o->target_lra ? o->target_lra : 11;
  /* loudnorm's own option ranges */
  if (ti < -70 || ti > -5 || ttp < -9 || ttp > 0 || tlra < 1 || tlra > 50) {
    return ain_err_set(err, AIN_EINVAL,
                       "loudnorm: target I=%.1f TP=%.1f LRA=%.1f out of range (-70..-5, -9..0, "
                       "1..50)",
                       ti, ttp, tlra);
  }
  ln_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "loudnorm: no memory");
  }
  char tmp[4096];
  if (ain__media_temp_path(o->out_wav, ".wav", tmp, sizeof tmp) != 0) {
    free(j);
    return ain_err_field(err, AIN_ETOOBIG, "out_wav", "loudnorm: path too long");
  }
  j->loop = loop;
  j->in = ain_strdup(o->in_path);
  j->out = ain_strdup(o->out_wav);
  j->tmp = ain_strdup(tmp);
  j->ti = ti;
  j->ttp = ttp;
  j->tlra = tlra;
  j->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
  j->cb = cb;
  j->data = data;
  int rc = start_measure(j, 0, err);
  if (rc != 0) {
    ln_free(j);
  }
  return rc;
}

/* ---- measurement only ---------------------------------------------------------------------------- */

typedef struct {
  ain_media_measure_cb cb;
  void *data;
} measure_t;

static void on_measure_only(int status, const char *out, const char *errtext, ain_err_t *err,
                            void *data) {
  (void)out;
  measure_t m = *(measure_t *)data;
  free(data);
  double i = 0, tp = 0;
  ain_err_t e2 = {0};
  if (status == 0 && (status = ain__media_ebur128_parse(errtext, &i, &tp, &e2)) != 0) {
    err = &e2;
  }
  m.cb(status, i, tp, status ? err : NULL, m.data);
}

int ain_media_measure(uv_loop_t *loop, const char *path, int64_t timeout_ms,
                      ain_media_measure_cb cb, void *data, ain_err_t *err) {
  if (path == NULL || cb == NULL) {
    return ain_err_set(err, AIN_EINVAL, "loudness: a path and a callback are required");
  }
  measure_t *m = malloc(sizeof *m);
  if (m == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "loudness: no memory");
  }
  m->cb = cb;
  m->data = data;
  ain__argv_t a = {0};
  static const char *const pro[] = {AIN__MEDIA_FFMPEG, "-nostdin", "-hide_banner", "-nostats",
                                    "-loglevel", "info", "-i"};
  for (size_t i = 0; i < sizeof pro / sizeof pro[0]; i++) {
    ain__argv_push(&a, pro[i]);
  }
  ain__argv_push(&a, path);
  static const char *const tail[] = {"-af", "ebur128=peak=true:framelog=verbose", "-f", "null",
                                     "-"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(&a, tail[i]);
  }
  ain__ffrun_opts_t fo = {.what = "loudness measure", .argv = a.v,
                          .timeout_ms = timeout_ms > 0 ? timeout_ms : 60000, .keep_stderr = 1};
  int rc = ain__ffrun(loop, &fo, on_measure_only, m, NULL, err);
  ain__argv_free(&a);
  if (rc != 0) {
    free(m);
  }
  return rc;
}
