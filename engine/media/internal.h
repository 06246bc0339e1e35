/* Private helpers shared by the media files: argv building, turning a child's exit into an
 * AIN_E* code with the tool's own stderr, and the defaults. Not part of the public API. */
#ifndef AIN_MEDIA_INTERNAL_H
#define AIN_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "loop/proc.h"
#include "media/media.h"

#define AIN__MEDIA_FFMPEG "ffmpeg"
#define AIN__MEDIA_FFPROBE "ffprobe"
#define AIN__MEDIA_FONTS_DIR "/usr/share/fonts/truetype/dejavu"

/* A growable NULL-terminated argv; every string is owned. Aborts on OOM like ain_strdup. */
typedef struct {
  char **v;
  size_t n, cap;
} ain__argv_t;

void ain__argv_push(ain__argv_t *a, const char *s);
void ain__argv_pushf(ain__argv_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ain__argv_free(ain__argv_t *a);

/* The common ffmpeg prologue: -y -nostdin -hide_banner -loglevel error. */
void ain__argv_ffmpeg(ain__argv_t *a);

/* 0 if the child exited 0; otherwise AIN_ETIMEOUT / AIN_ECANCELLED / AIN_EMEDIA with a message
 * "<what>: <tool> exit N: <last lines of stderr>". */
int ain__media_proc_status(const ain_proc_result_t *res, const char *what, ain_err_t *err);

/* "<path>.part-<uuid7><ext>" into out (cap bytes): a temp sibling for an atomic rename. */
int ain__media_temp_path(const char *path, const char *ext, char *out, size_t cap);

/* Asynchronous rename on the loop (uv_fs_rename); cb gets 0 or a negative uv error. */
typedef void (*ain__media_rename_cb)(int uv_status, void *data);
void ain__media_rename(uv_loop_t *loop, const char *from, const char *to, ain__media_rename_cb cb,
                       void *data);
/* Fire-and-forget removal of a temp file after a failure. */
void ain__media_unlink(uv_loop_t *loop, const char *path);

/* One ffmpeg/ffprobe run: spawn, map the exit to an error (with the tool's stderr), and on
 * success rename tmp_path to final_path (when set) so the output appears whole or not at all.
 * On failure tmp_path is removed. */
typedef struct {
  const char *what; /* "render", "loudnorm pass 1"... prefixes error messages */
  char **argv;      /* argv[0] is the program */
  int64_t timeout_ms;
  const char *tmp_path, *final_path; /* both or neither */
  int keep_stdout, keep_stderr;      /* hand the captured text to the callback */
  char **env;                        /* the child's environment; NULL = inherit */
  void (*on_stdout_line)(void *data, const char *line, size_t len);
} ain__ffrun_opts_t;

/* out/errtext: captured text (if kept, else NULL), valid during the callback. */
typedef void (*ain__ffrun_cb)(int status, const char *out, const char *errtext, ain_err_t *err,
                              void *data);
typedef struct ain__ffrun ain__ffrun_t;
int ain__ffrun(uv_loop_t *loop, const ain__ffrun_opts_t *opts, ain__ffrun_cb cb, void *data,
               ain__ffrun_t **out, ain_err_t *err);
/* Kills the child if it still runs; the callback then gets AIN_ECANCELLED. Valid until cb. */
void ain__ffrun_cancel(ain__ffrun_t *r);

/* Parses ffmpeg ebur128's summary (the last one in text): integrated loudness and true peak.
 * AIN_EMEDIA for silence (the meter's -70 LUFS floor) or no summary. */
int ain__media_ebur128_parse(const char *text, double *i, double *tp, ain_err_t *err);
/* Parses loudnorm's pass-1 JSON (the last {...} in text) into input_i, input_tp, input_lra,
 * input_thresh, target_offset. */
int ain__media_loudnorm_parse(const char *text, double m[5], ain_err_t *err);

/* Code point classes shared by the text fitting (textfit.c) and the caption words (capwords.c). */
int ain__media_cp_is_cjk(uint32_t c);
int ain__media_cp_is_emoji(uint32_t c);

/* ---- tts providers (tts*.c) ---- */

/* Checks the options every provider shares (text, out_wav, rate, pitch, provider name). */
int ain__tts_check(const ain_media_tts_opts_t *o, ain_err_t *err);
/* espeak-ng: synthesises sp->spoken into o->out_wav, tok_start[i] = each spoken token's start
 * (-1 unknown). Blocking, behind the process-wide espeak mutex: thread pool only. */
int ain__tts_espeak(const ain_media_tts_opts_t *o, const ain_media_speech_t *sp,
                    int64_t *tok_start, int64_t *duration_ms, int *sample_rate, ain_err_t *err);
/* OpenAI-compatible POST {url}/v1/audio/speech of sp->spoken; the audio body is written to
 * out_path. Retries 429/5xx/transport errors (Retry-After honoured, capped) up to max_attempts.
 * Blocking libcurl: thread pool only. */
int ain__tts_openai(const ain_media_tts_opts_t *o, const char *spoken, const char *out_path,
                    ain_err_t *err);

#endif
