/* Two-pass EBU R128 normalisation with ffmpeg's loudnorm: pass 1 measures the speech
 * (print_format=json on stderr), pass 2 applies the measured values with linear=true, which keeps
 * the speech's dynamics (a single dynamic pass pumps on short clips). Output: 48 kHz s16 WAV.
 * Relies on: media/ffrun.c (child + atomic rename), cJSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

typedef struct {
  uv_loop_t *loop;
  char *in, *out, *tmp;
  double ti, ttp, tlra;
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

static void on_pass2(int status, const char *out, const char *errtext, ain_err_t *err,
                     void *data) {
  ln_done(data, status, err);
}

static void on_pass1(int status, const char *out, const char *errtext, ain_err_t *err,
                     void *data) {
  ln_job_t *j = data;
  ain_err_t e2 = {0};
  ain__argv_t a = {0};
  double m[5];
  if (status != 0) {
    ln_done(j, status, err);
    return;
  }
  if ((status = ain__media_loudnorm_parse(errtext, m, &e2)) != 0) {
    goto fail;
  }
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-i");
  ain__argv_push(&a, j->in);
  ain__argv_push(&a, "-af");
  ain__argv_pushf(&a,
                  "loudnorm=I=%.1f:TP=%.1f:LRA=%.1f:measured_I=%.2f:measured_TP=%.2f:"
                  "measured_LRA=%.2f:measured_thresh=%.2f:offset=%.2f:linear=true:"
                  "print_format=none",
                  j->ti, j->ttp, j->tlra, m[0], m[1], m[2], m[3], m[4]);
  static const char *const tail[] = {"-ar", "48000", "-c:a", "pcm_s16le", "-f", "wav"};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
    ain__argv_push(&a, tail[i]);
  }
  ain__argv_push(&a, j->tmp);
  ain__ffrun_opts_t fo = {.what = "loudnorm pass 2", .argv = a.v, .timeout_ms = j->timeout_ms,
                          .tmp_path = j->tmp, .final_path = j->out};
  status = ain__ffrun(j->loop, &fo, on_pass2, j, NULL, &e2);
  ain__argv_free(&a);
  if (status != 0) {
    goto fail;
  }
  return;
fail:
  ln_done(j, status, &e2);
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
  ain__argv_t a = {0};
  /* Pass 1 needs -loglevel info: loudnorm prints its JSON at that level. */
  static const char *const pro[] = {AIN__MEDIA_FFMPEG, "-nostdin", "-hide_banner", "-nostats",
                                    "-loglevel", "info", "-i"};
  for (size_t i = 0; i < sizeof pro / sizeof pro[0]; i++) {
    ain__argv_push(&a, pro[i]);
  }
  ain__argv_push(&a, j->in);
  ain__argv_push(&a, "-af");
  ain__argv_pushf(&a, "loudnorm=I=%.1f:TP=%.1f:LRA=%.1f:print_format=json", ti, ttp, tlra);
  ain__argv_push(&a, "-f");
  ain__argv_push(&a, "null");
  ain__argv_push(&a, "-");
  ain__ffrun_opts_t fo = {.what = "loudnorm pass 1", .argv = a.v, .timeout_ms = j->timeout_ms,
                          .keep_stderr = 1};
  int rc = ain__ffrun(loop, &fo, on_pass1, j, NULL, err);
  ain__argv_free(&a);
  if (rc != 0) {
    ln_free(j);
  }
  return rc;
}
