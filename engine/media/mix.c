/* The music bed under the voice, in one ffmpeg run: the bed is a library file (looped with
 * -stream_loop, levelled with one-pass loudnorm to music_lufs) or, by default, a pad generated
 * with aevalsrc in the persona's key (four chords, I-V-vi-IV in major or i-VI-III-VII in minor,
 * each a root-position triad with octave partials and a bass note, swelling in and out over 4 s
 * so chord changes never click, low-passed). The speech drives sidechaincompress on the bed
 * (the bed drops ~10 dB while someone talks and comes back in the pauses), then amix adds them.
 * The speech gets the gain the caller measured (ain_media_measure), so the bed sits at its level
 * under speech at the delivery loudness; the mix is float (nothing clips before the limiter).
 * The result is NOT yet at the delivery loudness: the caller runs ain_media_loudnorm on the mix,
 * so the mix (not the voice alone) meets -14 LUFS and the true-peak ceiling.
 * Relies on: media/ffrun.c (child + atomic rename). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

/* The pad's loudness at volume 0 dB, measured with ffmpeg ebur128 (I = -29.0 LUFS for C major
 * over 12 s); the gain to music_lufs is relative to it. */
#define PAD_LUFS (-29.0)
#define PAD_PERIOD_S 4

/* "C", "F#", "Bb", "Am", "C#m" -> semitones above C and minor flag. */
static int parse_key(const char *key, int *semi, int *minor) {
  static const int base[] = {9, 11, 0, 2, 4, 5, 7}; /* A B C D E F G */
  if (key == NULL || key[0] == '\0') {
    *semi = 0;
    *minor = 0;
    return 0;
  }
  int c = toupper((unsigned char)key[0]);
  if (c < 'A' || c > 'G') {
    return -1;
  }
  int s = base[c - 'A'];
  const char *p = key + 1;
  if (*p == '#') {
    s++;
    p++;
  } else if (*p == 'b') {
    s--;
    p++;
  }
  *minor = 0;
  if (*p == 'm') {
    *minor = 1;
    p++;
  }
  if (*p != '\0') {
    return -1;
  }
  *semi = (s + 12) % 12;
  return 0;
}

int ain_media_pad_expr(const char *key, char *out, size_t cap, ain_err_t *err) {
  int semi = 0, minor = 0;
  if (parse_key(key, &semi, &minor) != 0) {
    return ain_err_field(err, AIN_EINVAL, "music.key",
                         "music: key \"%.16s\" is not a key (C, F#, Bb, Am, C#m ...)", key);
  }
  /* chord roots (semitones over the key) and their thirds */
  static const int maj_root[] = {0, 7, 9, 5}, maj_third[] = {4, 4, 3, 4};
  static const int min_root[] = {0, 8, 3, 10}, min_third[] = {3, 4, 4, 4};
  const int *roots = minor ? min_root : maj_root, *thirds = minor ? min_third : maj_third;
  /* The key's tonic in the octave around C3 (130.81 Hz), so every key sits at one height. */
  double tonic = 130.81 * pow(2.0, (semi > 6 ? semi - 12 : semi) / 12.0);
  size_t n = (size_t)snprintf(out, cap, "0.04*pow(sin(PI*mod(t\\,%d)/%d)\\,2)*(", PAD_PERIOD_S,
                              PAD_PERIOD_S);
  for (int c = 0; c < 4 && n < cap; c++) {
    double r = tonic * pow(2.0, roots[c] / 12.0);
    double f[3] = {r, r * pow(2.0, thirds[c] / 12.0), r * pow(2.0, 7 / 12.0)};
    n += (size_t)snprintf(out + n, cap - n, "%seq(mod(floor(t/%d)\\,4)\\,%d)*(", c ? "+" : "",
                          PAD_PERIOD_S, c);
    for (int k = 0; k < 3 && n < cap; k++) {
      n += (size_t)snprintf(out + n, cap - n, "sin(2*PI*%.3f*t)+0.3*sin(2*PI*%.3f*t)+", f[k],
                            2 * f[k]);
    }
    if (n < cap) {
      n += (size_t)snprintf(out + n, cap - n, "0.8*sin(2*PI*%.3f*t))", r / 2);
    }
  }
  if (n < cap) {
    n += (size_t)snprintf(out + n, cap - n, ")");
  }
  if (n >= cap) {
    return ain_err_set(err, AIN_ETOOBIG, "music: pad expression too long");
  }
  return 0;
}

typedef struct {
  ain_media_done_cb cb;
  void *data;
} mix_ctx_t;

static void on_mixed(int status, const char *out, const char *errtext, ain_err_t *err, void *data) {
  (void)out;
  (void)errtext;
  mix_ctx_t c = *(mix_ctx_t *)data;
  free(data);
  c.cb(status, status ? err : NULL, c.data);
}

int ain_media_mix(uv_loop_t *loop, const ain_media_mix_opts_t *o, ain_media_done_cb cb,
                  void *data, ain_err_t *err) {
  if (o == NULL || cb == NULL || o->speech_wav == NULL || o->out_wav == NULL) {
    return ain_err_set(err, AIN_EINVAL, "mix: speech_wav, out_wav and a callback are required");
  }
  if (o->duration_ms <= 0 || o->duration_ms > 3600 * 1000) {
    return ain_err_field(err, AIN_EINVAL, "duration_ms", "mix: duration %lld ms out of range",
                         (long long)o->duration_ms);
  }
  double level = o->music_lufs != 0 ? o->music_lufs : -30.0;
  if (o->speech_gain_db < -60 || o->speech_gain_db > 60) {
    return ain_err_field(err, AIN_EINVAL, "speech_gain_db", "mix: speech gain %.1f dB out of range",
                         o->speech_gain_db);
  }
  if (level < -60 || level > -10) {
    return ain_err_field(err, AIN_EINVAL, "music.level", "mix: level %.1f LUFS out of -60..-10",
                         level);
  }
  int64_t tail = o->tail_ms > 0 ? o->tail_ms : 300;
  double total = (double)(o->duration_ms + tail) / 1000.0;
  char expr[2048], tmp[4200];
  if (o->music == NULL && ain_media_pad_expr(o->key, expr, sizeof expr, err) != 0) {
    return err->code;
  }
  if (ain__media_temp_path(o->out_wav, ".wav", tmp, sizeof tmp) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "out_wav", "mix: path too long");
  }
  ain__argv_t a = {0};
  ain__argv_ffmpeg(&a);
  ain__argv_push(&a, "-i");
  ain__argv_push(&a, o->speech_wav);
  char level_f[160];
  if (o->music != NULL) {
    ain__argv_push(&a, "-stream_loop");
    ain__argv_push(&a, "-1");
    ain__argv_push(&a, "-i");
    ain__argv_push(&a, o->music);
    /* one-pass loudnorm: a library track's own level is unknown; the bed only needs to sit near
     * music_lufs, the mix is measured exactly afterwards */
    snprintf(level_f, sizeof level_f, "loudnorm=I=%.1f:TP=-6:LRA=11", level);
  } else {
    ain__argv_push(&a, "-f");
    ain__argv_push(&a, "lavfi");
    ain__argv_push(&a, "-i");
    /* 16 kHz: the pad's partials stay under 1.2 kHz and it is low-passed at 1.8 kHz anyway, and
     * aevalsrc evaluates its expression per sample (a third of the CPU of 48 kHz) */
    ain__argv_pushf(&a, "aevalsrc=%s:s=16000:d=%.3f", expr, total);
    snprintf(level_f, sizeof level_f, "lowpass=f=1800,volume=%.2fdB", level - PAD_LUFS);
  }
  /* the bed fades out over the tail, after the last word: full under the voice to its end */
  double fade = (double)tail / 1000.0;
  ain__argv_push(&a, "-filter_complex");
  ain__argv_pushf(&a,
                  "[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                  "volume=%.2fdB,apad=whole_dur=%.3f,asplit=2[sp][sc];"
                  "[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,%s,"
                  "atrim=0:%.3f,afade=t=in:d=0.3,afade=t=out:st=%.3f:d=%.3f[bed];"
                  "[bed][sc]sidechaincompress=threshold=0.015:ratio=6:attack=15:release=350[duck];"
                  "[sp][duck]amix=inputs=2:duration=first:normalize=0[out]",
                  o->speech_gain_db, total, level_f, total, total - fade, fade);
  static const char *const tail_args[] = {"-map", "[out]", "-ar", "48000", "-ac", "2",
                                          "-c:a", "pcm_f32le", "-f", "wav"};
  ain__argv_push(&a, "-t");
  ain__argv_pushf(&a, "%.3f", total);
  for (size_t i = 0; i < sizeof tail_args / sizeof tail_args[0]; i++) {
    ain__argv_push(&a, tail_args[i]);
  }
  ain__argv_push(&a, tmp);
  mix_ctx_t *ctx = malloc(sizeof *ctx);
  if (ctx == NULL) {
    ain__argv_free(&a);
    return ain_err_set(err, AIN_ENOMEM, "mix: no memory");
  }
  ctx->cb = cb;
  ctx->data = data;
  ain__ffrun_opts_t fo = {.what = "music mix", .argv = a.v,
                          .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000,
                          .tmp_path = tmp, .final_path = o->out_wav};
  int rc = ain__ffrun(loop, &fo, on_mixed, ctx, NULL, err);
  ain__argv_free(&a);
  if (rc != 0) {
    free(ctx);
  }
  return rc;
}
