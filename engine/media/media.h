/* Media primitives (DESIGN §6): speech (libespeak-ng, word timings from its WORD events), measured
 * loudness normalisation, cached backgrounds, word-by-word ASS captions inside a channel's safe
 * area, one-pass ffmpeg render with progress, ffprobe + MP4 box probe, the output gate, thumbnails,
 * and the inspection of a rendered video (OCR of sampled frames, speech recognition of its audio).
 * Every long operation is asynchronous on a uv loop: ffmpeg/ffprobe run as child processes through
 * engine/loop/proc.h, espeak-ng synthesis and file hashing run on the libuv thread pool. Callbacks
 * run on the loop thread, exactly once, unless the starting call returns an error.
 * Relies on: libuv, libespeak-ng, cJSON, OpenSSL (sha256), loop/proc.h, the ffmpeg/ffprobe CLIs,
 * tesseract and pocketsphinx_continuous (Debian tesseract-ocr, pocketsphinx, pocketsphinx-en-us). */
#ifndef AIN_MEDIA_MEDIA_H
#define AIN_MEDIA_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"

/* ---- common ---------------------------------------------------------------------------------- */

/* Done callback for operations without a result: status is 0 or AIN_E*; err is valid only during
 * the call (NULL when status == 0). */
typedef void (*ain_media_done_cb)(int status, const ain_err_t *err, void *data);
/* Progress in percent (0..100, non-decreasing; 100 is reported once, on success). */
typedef void (*ain_media_progress_cb)(double percent, void *data);

/* Pixels that the platform's own UI covers; captions and titles stay out of them. */
typedef struct {
  int top_px;
  int bottom_px; /* bottom band (description, caption, subscribe UI) */
  int left_px;
  int right_px; /* right-hand action rail (like, comment, share) */
} ain_media_safe_area_t;

/* A channel's output profile: what the gate enforces and where captions may go. */
typedef struct {
  int width, height;           /* e.g. 1080x1920 */
  int fps_num, fps_den;        /* e.g. 30/1 */
  int sample_rate;             /* e.g. 48000 */
  int64_t max_duration_ms;     /* e.g. 60000; 0 = no limit */
  ain_media_safe_area_t safe;  /* scaled by the caller when rendering at another size */
} ain_media_channel_t;

/* The defaults the brief asks for: 1080x1920, 30 fps, 48 kHz, 60 s, the TikTok safe area. */
void ain_media_channel_default(ain_media_channel_t *ch);

/* ---- safe areas (safearea.c) ------------------------------------------------------------------ */

/* A platform's UI bands as fractions of the frame (top/bottom of the height, left/right of the
 * width). */
typedef struct {
  const char *name;
  double top, bottom, left, right;
} ain_media_safe_profile_t;

/* "tiktok", "reels", "shorts"; ends with a NULL name. */
extern const ain_media_safe_profile_t ain_media_safe_profiles[];
/* What no text ever enters, on any platform: top 14 %, bottom 20 %, right 12 %. */
extern const ain_media_safe_profile_t ain_media_safe_floor;
const ain_media_safe_profile_t *ain_media_safe_profile_find(const char *name);
/* The profile's bands in pixels at width x height (rounded outwards, never under the floor);
 * AIN_EINVAL naming "safe_area.profile" for an unknown name. */
int ain_media_safe_area_profile(const char *name, int width, int height,
                                ain_media_safe_area_t *out, ain_err_t *err);
/* Raises each band of sa to the floor at width x height. */
void ain_media_safe_area_floor(ain_media_safe_area_t *sa, int width, int height);

/* Frees process-wide state (the espeak-ng engine). Call at shutdown, after all work finished. */
void ain_media_shutdown(void);

/* ---- tts --------------------------------------------------------------------------------------- */

typedef struct {
  char *text; /* the word as written (UTF-8), owned by the result */
  int64_t start_ms;
  int64_t end_ms; /* next word's start, or the end of the audio; always > start_ms */
} ain_media_word_t;

/* ---- speech text: what the voice says vs what the captions show (speech_text.c) ------------ */

/* A script split into written words (whitespace separated, as written) and the spoken tokens a
 * synthesiser reads ("12-3-30" -> twelve three thirty, "50%" -> fifty percent, emoji -> nothing),
 * each token knowing the written word it speaks. */
typedef struct {
  char *spoken;      /* the tokens joined by single spaces (sentence punctuation kept) */
  size_t n_tokens;
  size_t *tok_off;   /* byte offset of each token in spoken */
  size_t *tok_len;   /* its length in bytes */
  size_t *tok_word;  /* the written word it speaks (non-decreasing) */
  char **written;    /* the written words */
  size_t n_written;
} ain_media_speech_t;

/* Fills out (caller frees with ain_media_speech_free). AIN_EINVAL when nothing is speakable,
 * AIN_EUTF8 on invalid UTF-8. */
int ain_media_speech_normalise(const char *text, ain_media_speech_t *out, ain_err_t *err);
void ain_media_speech_free(ain_media_speech_t *s);
/* Times of the written words from the start times of the spoken tokens (tok_start[i] < 0 =
 * unknown; NULL = none known): unknown tokens are spread between their neighbours by length,
 * written words that say nothing (emoji, "-") share the slot of the word before them. Every
 * written word gets a time, in order, start < end, end = next start, the last ends at
 * duration_ms. *words: caller frees each text and the array. */
int ain_media_speech_times(const ain_media_speech_t *s, const int64_t *tok_start,
                           int64_t duration_ms, ain_media_word_t **words, size_t *n_words,
                           ain_err_t *err);

/* ---- tts: providers (tts.c, tts_espeak.c, tts_festival.c, tts_openai.c, tts_align.c) ---------- */

typedef struct {
  const char *text;     /* UTF-8 as written, required, <= 64 KiB; normalised for speech here */
  const char *provider; /* "espeak" (NULL = default) | "festival" | "openai" */
  const char *voice;    /* espeak: voice name ("en-us+f3"); festival: voice ("cmu_us_slt_arctic_hts");
                         * openai: the API's voice ("alloy"); NULL = the provider's default */
  int rate;             /* words per minute, 80..450; 0 = 175 (festival/openai: speed rate/175) */
  int pitch;            /* 0..100; 0 = 50 (festival: (pitch-50)/5 half-tones; openai: none) */
  const char *out_wav;  /* the speech, written atomically (any rate; loudnorm resamples) */
  const char *work_dir; /* scratch folder (must exist): festival, openai and alignment files */
  const char *festival; /* program; NULL = "festival" */
  const char *url;      /* openai: base URL, POST {url}/v1/audio/speech */
  const char *model;    /* openai: model name */
  const char *api_key;  /* openai: Bearer token; NULL = no Authorization header */
  int max_attempts;     /* openai: requests on 429/5xx/transport errors; 0 = 3 */
  const char *pocketsphinx;  /* aligner program; NULL = "pocketsphinx_continuous" */
  const char *asr_model_dir; /* NULL = /usr/share/pocketsphinx/model/en-us */
  int force_align;      /* 1: align even when the provider gives word times (tests) */
  int64_t timeout_ms;   /* per child process / HTTP request; 0 = 60000 */
} ain_media_tts_opts_t;

typedef struct {
  int64_t duration_ms;
  int sample_rate;
  ain_media_word_t *words; /* the WRITTEN words with their times */
  size_t n_words;
  char *spoken;            /* what the voice was given (owned by the result) */
  int aligned;             /* 1 if the word times came from forced alignment */
  size_t aligned_matched;  /* spoken tokens the aligner heard (of n_tokens) */
  size_t n_tokens;
} ain_media_tts_result_t;

/* res is valid only during the callback (NULL on failure); copy what you keep. */
typedef void (*ain_media_tts_cb)(int status, const ain_media_tts_result_t *res,
                                 const ain_err_t *err, void *data);
/* Normalises the text, synthesises with the provider (espeak-ng in-process behind one mutex on
 * the thread pool; festival and the aligner as child processes; the HTTP request on the thread
 * pool), aligns when the provider gives no word times, and maps the times back to the written
 * words. Options are copied. Returns 0 (cb will run) or AIN_EINVAL (cb will not run). */
int ain_media_tts(uv_loop_t *loop, const ain_media_tts_opts_t *opts, ain_media_tts_cb cb,
                  void *data, ain_err_t *err);
/* espeak-ng only, blocking (thread-pool callers and tests). */
int ain_media_tts_sync(const ain_media_tts_opts_t *opts, ain_media_tts_result_t *res,
                       ain_err_t *err);
void ain_media_tts_result_free(ain_media_tts_result_t *res);
/* 0 if name is a provider ("espeak", "festival", "openai"); else AIN_EINVAL naming them. */
int ain_media_tts_provider_check(const char *name, ain_err_t *err);

/* Pure parts, exposed for tests. */
/* festival's printout ("T<TAB>name<TAB>start_s" per token) -> start times of s's tokens, matched
 * in order by their folded text; unmatched tokens get -1. Returns tokens matched. */
size_t ain_media_festival_parse(const char *out, const ain_media_speech_t *s, int64_t *tok_start);
/* pocketsphinx -time yes output ("word start end prob" lines) aligned to s's tokens by an edit
 * distance over folded words; matched tokens get the recognised start, others -1. Returns
 * tokens matched. */
size_t ain_media_align_parse(const char *out, const ain_media_speech_t *s, int64_t *tok_start);
/* The festival Scheme program that synthesises spoken into wav_path and prints token times. */
char *ain_media_festival_script(const char *spoken, const char *voice, int rate, int pitch,
                                const char *wav_path);
/* Duration of a PCM WAV file (reads its header). */
int ain_media_wav_info(const char *path, int64_t *duration_ms, int *sample_rate, ain_err_t *err);

/* ---- music bed + mix (mix.c) ------------------------------------------------------------------- */

typedef struct {
  const char *speech_wav;  /* the speech as synthesised */
  double speech_gain_db;   /* brings it to the delivery loudness (ain_media_measure: -14 - I) */
  const char *music;       /* a library file (looped), or NULL: a generated pad */
  const char *key;         /* generated pad's key: "C".."B" with optional "m" (minor); NULL = "C" */
  double music_lufs;       /* the bed's level before ducking; 0 = -30 */
  int64_t duration_ms;     /* speech length; the mix adds tail_ms with the bed fading out */
  int64_t tail_ms;         /* 0 = 300 */
  const char *out_wav;     /* 48 kHz stereo float WAV (no clipping before the limiter), atomic */
  int64_t timeout_ms;      /* 0 = 60000 */
} ain_media_mix_opts_t;

/* One ffmpeg run: the bed (library file looped and levelled, or chords generated with aevalsrc),
 * ducked under the speech with sidechaincompress, mixed with it. The caller normalises the mix
 * (ain_media_loudnorm). */
int ain_media_mix(uv_loop_t *loop, const ain_media_mix_opts_t *opts, ain_media_done_cb cb,
                  void *data, ain_err_t *err);
/* The aevalsrc expression of a key's pad (exposed for tests); out cap >= 2048. */
int ain_media_pad_expr(const char *key, char *out, size_t cap, ain_err_t *err);

/* ---- loudness ---------------------------------------------------------------------------------- */

typedef struct {
  const char *in_path;
  const char *out_wav;   /* 48 kHz s16 WAV, written to a temp name then renamed */
  double target_i;       /* integrated LUFS; 0 = -14 */
  double target_tp;      /* true peak dBTP; 0 = -1 */
  double target_lra;     /* 0 = 11 */
  int64_t timeout_ms;    /* per ffmpeg run; 0 = 60000 */
} ain_media_loudnorm_opts_t;

/* Measures with ffmpeg loudnorm (print_format=json), then applies a linear gain plus a sample-peak
 * limiter 1 dB under the ceiling, re-measuring while the limiter takes loudness away (see
 * loudnorm.c for why loudnorm's own second pass is not used). Options are copied. */
int ain_media_loudnorm(uv_loop_t *loop, const ain_media_loudnorm_opts_t *opts, ain_media_done_cb cb,
                       void *data, ain_err_t *err);

/* Integrated loudness (LUFS) and true peak (dBTP) of a file by ffmpeg's ebur128 meter. */
typedef void (*ain_media_measure_cb)(int status, double lufs, double true_peak,
                                     const ain_err_t *err, void *data);
int ain_media_measure(uv_loop_t *loop, const char *path, int64_t timeout_ms,
                      ain_media_measure_cb cb, void *data, ain_err_t *err);

/* ---- background -------------------------------------------------------------------------------- */

typedef struct {
  const char *colour_top;    /* "#RRGGBB" */
  const char *colour_bottom; /* "#RRGGBB" */
  int width, height;
  const char *cache_dir; /* must exist */
  int64_t timeout_ms;    /* 0 = 30000 */
} ain_media_background_opts_t;

/* path: the cached PNG (valid during the callback), NULL on failure. cached = 1 if it existed. */
typedef void (*ain_media_background_cb)(int status, const char *path, int cached,
                                        const ain_err_t *err, void *data);
/* A vertical gradient drawn once by ffmpeg (lavfi gradients, one frame) and cached under
 * cache_dir/bg-<sha256(style, size)[0..16]>-WxH.png; concurrent callers each write a temp file and
 * rename, so the cache never holds a partial PNG. */
int ain_media_background(uv_loop_t *loop, const ain_media_background_opts_t *opts,
                         ain_media_background_cb cb, void *data, ain_err_t *err);
/* The cache path for a style (no I/O). out needs 4096 bytes. */
int ain_media_background_path(const ain_media_background_opts_t *opts, char *out, size_t cap,
                              ain_err_t *err);

/* ---- captions ---------------------------------------------------------------------------------- */

typedef struct {
  const char *font;             /* family name; NULL = "DejaVu Sans" */
  int font_size;                /* px at the render size; 0 = height / 24 */
  const char *colour;           /* "#RRGGBB" text; NULL = white */
  const char *highlight_colour; /* "#RRGGBB" spoken word; NULL = yellow */
  const char *outline_colour;   /* "#RRGGBB"; NULL = black */
  int max_lines;                /* 1 or 2; 0 = 2 */
  int64_t max_gap_ms;           /* a pause longer than this starts a new phrase; 0 = 600 */
  const char *title;            /* optional, shown at the top for the whole video */
  const char *layout;           /* captions: "lower-third" (NULL), "center" or "top" */
  int title_size;               /* px at the render size, shrunk to fit; 0 = font_size * 3/4 */
  int title_max_lines;          /* 1..6; 0 = 3 */
} ain_media_caption_style_t;

/* Width of UTF-8 text in em of the caption fonts (bold Latin, CJK, Arabic, emoji modelled apart;
 * rounded up so a line that fits the model fits the frame). */
double ain_media_text_em(const char *s, size_t len);

typedef struct {
  char *text;    /* the fitted lines joined by '\n' (malloc'd) */
  int font_size; /* px, between min_size and size */
  int lines;
  int cut;       /* 1 if even min_size could not hold it all: the text ends with "…" */
} ain_media_text_fit_t;

/* Fits text into box_width px and max_lines lines: wraps at spaces and between CJK characters,
 * shrinking from size towards min_size (about 6 % a step); at min_size what still does not fit
 * is cut with one "…" (a word longer than a line is broken inside first). Never drops words
 * otherwise. Free with ain_media_text_fit_free. */
int ain_media_text_fit(const char *text, int box_width, int max_lines, int size, int min_size,
                       ain_media_text_fit_t *out, ain_err_t *err);
void ain_media_text_fit_free(ain_media_text_fit_t *f);

/* The caption words: the script's own whitespace tokens, as written ("12-3-30", "row;", "🍜"
 * riding with the word before it), each timed by the spoken words (their onsets where the
 * letters match, interpolated where the voice said something else, e.g. numbers spelled out).
 * *out (free with ain_media_words_free) is empty when the text has no words or nothing was
 * spoken; times are strictly increasing and end at the last spoken word's end. */
int ain_media_caption_words(const char *text, const ain_media_word_t *spoken, size_t n_spoken,
                            ain_media_word_t **out, size_t *n_out, ain_err_t *err);
void ain_media_words_free(ain_media_word_t *w, size_t n);

/* Builds an ASS script (PlayRes = width x height, so margins are pixels): each phrase of up to
 * max_lines lines sized to fit the safe area; one Dialogue event per word, showing the phrase with
 * that word in the highlight colour, from its start to its end (no gaps inside a phrase, no
 * zero-length events). Returns a malloc'd NUL-terminated string (caller frees) or NULL with err. */
char *ain_media_captions_ass(const ain_media_word_t *words, size_t n_words,
                             const ain_media_caption_style_t *style,
                             const ain_media_safe_area_t *safe, int width, int height,
                             ain_err_t *err);

/* ---- scenes: the video chain of the render ------------------------------------------------------ */

typedef enum {
  AIN_MEDIA_SCENE_MOTION = 0, /* generated: moving gradient of colours[] + drifting discs */
  AIN_MEDIA_SCENE_IMAGE = 1,  /* a still with Ken Burns motion (zoompan) */
  AIN_MEDIA_SCENE_CLIP = 2,   /* a video clip, looped to fill the scene, cropped to the frame */
} ain_media_scene_kind_t;

/* One scene: a beat of the script on screen. Scenes are in order and do not overlap; a scene lasts
 * until the next one starts (the first from 0, the last to the end of the video). */
typedef struct {
  int64_t start_ms, end_ms;
  ain_media_scene_kind_t kind;
  const char *path;    /* IMAGE/CLIP: local file */
  const char *picture; /* optional RGBA PNG (an emoji) animated in over the scene */
  uint32_t colours[3]; /* MOTION: 0xRRGGBB gradient colours */
  unsigned seed;       /* gradient direction, disc paths, zoom direction, transition choice */
} ain_media_scene_t;

typedef struct {
  int width, height, fps;
  int64_t total_ms;      /* the video's length: the last scene runs to it */
  int64_t transition_ms; /* xfade length; 0 = 400. Each scene must last >= this + 200 ms */
  int first_input;       /* ffmpeg input index of the first scene input */
  const char *out_label; /* the graph's output pad, [a-z0-9_]+; NULL = "vs" */
  double picture_y;      /* top of the pictures at rest, fraction of the height; 0 = 0.26 */
} ain_media_scene_graph_opts_t;

/* The box the pictures of scenes drawn with opts o may cover while they move (x, y, w, h as
 * fractions of the frame): what the inspect step keeps out of OCR. */
void ain_media_scenes_picture_box(const ain_media_scene_graph_opts_t *o, double box[4]);

typedef struct {
  char **argv;     /* the inputs' arguments ("-i", path, ...) to put before -filter_complex */
  size_t argc;
  size_t n_inputs; /* inputs they open (first_input .. first_input + n_inputs - 1) */
  char *graph;     /* filter_complex text ending in [out_label], no trailing ';' */
} ain_media_scene_graph_t;

/* Checks the scene list: at least one scene, in order, no overlap, each long enough for its
 * transition, a file for image and clip scenes. AIN_EINVAL with err->field "scenes[i]". */
int ain_media_scenes_validate(const ain_media_scene_t *s, size_t n,
                              const ain_media_scene_graph_opts_t *o, ain_err_t *err);
/* Every file the scenes name is readable; AIN_ENOTFOUND naming "scenes[i].path|picture" and the
 * file otherwise. Blocking (access(2)): off the loop thread. */
int ain_media_scenes_check(const ain_media_scene_t *s, size_t n, ain_err_t *err);
/* Builds the video chain (no I/O): one segment per scene joined by xfade transitions. out is
 * freed with ain_media_scene_graph_free (also after a failure). */
int ain_media_scenes_graph(const ain_media_scene_t *s, size_t n,
                           const ain_media_scene_graph_opts_t *o, ain_media_scene_graph_t *out,
                           ain_err_t *err);
void ain_media_scene_graph_free(ain_media_scene_graph_t *g);

/* ---- pictures ---------------------------------------------------------------------------------- */

/* The cache path of an emoji's PNG (no I/O): cache_dir/emoji-<sha256(emoji, size)[0..16]>-<size>.png.
 * emoji: 1..64 bytes of UTF-8 without control characters. out needs 4096 bytes. */
int ain_media_emoji_path(const char *emoji, int size_px, const char *cache_dir, char *out,
                         size_t cap, ain_err_t *err);
/* Rasterises a colour emoji (Noto Color Emoji via pango-view: Debian fonts-noto-color-emoji,
 * pango1.0-tools) to an RGBA PNG about size_px tall, cached at ain_media_emoji_path (written to a
 * temp name, then renamed). Blocking, up to 20 s: call it on the thread pool. */
int ain_media_emoji_png_sync(const char *emoji, int size_px, const char *cache_dir, char *out,
                             size_t cap, ain_err_t *err);

/* ---- render ------------------------------------------------------------------------------------ */

typedef struct {
  const char *background_png; /* used when there are no scenes */
  const ain_media_scene_t *scenes; /* the video chain (ain_media_scenes_graph); NULL = background */
  size_t n_scenes;
  const char *audio_wav;
  const char *ass_path;  /* NULL = no captions */
  const char *fonts_dir; /* NULL = /usr/share/fonts/truetype/dejavu */
  const char *out_mp4;   /* written as <out_mp4>.part then renamed */
  int64_t duration_ms;   /* required: the speech duration; the video adds tail_ms of padding */
  int64_t tail_ms;       /* 0 = 300; -1 = none */
  int width, height;     /* 0 = 1080x1920 */
  int fps;               /* 0 = 30 */
  int crf;               /* 0 = 23 */
  const char *preset;    /* NULL = "veryfast" */
  int64_t timeout_ms;    /* 0 = 300000 */
  ain_media_progress_cb on_progress; /* optional */
  double picture_y;      /* the scenes' pictures: see ain_media_scene_graph_opts_t */
} ain_media_render_opts_t;

typedef struct ain_media_job ain_media_job_t;

/* One ffmpeg pass: looped background, ASS burned in, speech padded to the duration and resampled
 * to 48 kHz AAC, libx264 yuv420p CFR, +faststart; -progress pipe:1 parsed into percent. On
 * failure the message carries ffmpeg's own stderr. job (may be NULL) can be cancelled. */
int ain_media_render(uv_loop_t *loop, const ain_media_render_opts_t *opts, ain_media_done_cb cb,
                     void *data, ain_media_job_t **job, ain_err_t *err);
/* Stops a running render (SIGTERM, then SIGKILL); cb still runs, with AIN_ECANCELLED. Only valid
 * until cb has run. */
void ain_media_job_cancel(ain_media_job_t *job);
/* The ffmpeg command line ain_media_render runs for opts (argv[0] the program, NULL-terminated),
 * writing out_path instead of a temp name beside opts->out_mp4. No I/O. What the render step
 * keeps at log level debug, so that bench/render.sh (or an operator) can run the very same
 * command by hand. Free with ain_media_argv_free (below). */
int ain_media_render_argv(const ain_media_render_opts_t *opts, const char *out_path, char ***argv,
                          ain_err_t *err);

/* ---- probe + gate ------------------------------------------------------------------------------ */

typedef struct {
  char vcodec[32];
  char pix_fmt[32];
  int width, height;
  int fps_num, fps_den;
  int cfr; /* 1 if r_frame_rate == avg_frame_rate */
  char acodec[32];
  int sample_rate;
  int64_t duration_ms;
  int faststart; /* 1 if the top-level moov box comes before mdat */
  int64_t size_bytes;
} ain_media_probe_t;

typedef void (*ain_media_probe_cb)(int status, const ain_media_probe_t *probe,
                                   const ain_err_t *err, void *data);
/* ffprobe (JSON) for streams and duration, then the file's top-level MP4 boxes on the thread
 * pool for faststart. probe is valid during the callback. */
int ain_media_probe(uv_loop_t *loop, const char *path, ain_media_probe_cb cb, void *data,
                    ain_err_t *err);
/* Pure parts, exposed for tests: ffprobe -print_format json output -> probe fields. */
int ain_media_probe_parse_json(const char *json, ain_media_probe_t *out, ain_err_t *err);
/* Reads top-level boxes: 1 if moov precedes mdat, 0 if not, AIN_EMEDIA if neither is found. */
int ain_media_mp4_faststart(const char *path, ain_err_t *err);

/* 0 if the probe meets the channel profile (h264, yuv420p, CFR at the channel's fps, size, aac at
 * the sample rate, faststart, duration <= max); else AIN_EMEDIA with the first failed check named
 * ("pix_fmt: yuv444p, want yuv420p") and err->field set to the check. */
int ain_media_gate(const ain_media_probe_t *probe, const ain_media_channel_t *ch, ain_err_t *err);

/* ---- thumbnail --------------------------------------------------------------------------------- */

typedef struct {
  const char *mp4;                /* the frame at at_ms of this video ... */
  const ain_media_scene_t *scene; /* ... or, when set, this scene drawn alone (no captions) at
                                   * width x height, at_ms into it */
  int64_t at_ms;
  const char *out_jpg; /* written as <out>.part then renamed */
  int width;           /* 0 = 540 */
  int height;          /* 0 = keep the video's aspect ratio; required (even) with a scene */
  const char *title;   /* optional: set large, centred, each line inside 84 % of the width */
  const char *font_file;    /* NULL = DejaVu Sans Bold */
  const char *title_colour; /* "#RRGGBB"; NULL = white */
  int64_t timeout_ms;       /* 0 = 30000 */
} ain_media_thumbnail_opts_t;

/* One JPEG: the scene's picture (or the video's frame) with the title set over it. */
int ain_media_thumbnail(uv_loop_t *loop, const ain_media_thumbnail_opts_t *opts,
                        ain_media_done_cb cb, void *data, ain_err_t *err);

/* ---- inspect: what the viewer sees and hears ----------------------------------------------------- */

#define AIN_MEDIA_OCR_MASKS 8
#define AIN_MEDIA_OCR_SKIPS 256

typedef struct {
  const char *mp4;           /* the rendered video */
  const char *work_dir;      /* scratch folder (created if missing): frames, audio, model */
  const char *script_text;   /* what the voice should say: the recogniser's language model */
  int64_t frame_interval_ms; /* one frame per interval, at the middle of each; 0 = 2000 */
  int ocr_height;            /* frames scaled to this height (grey) for OCR; 0 = 960 */
  double asr_lw;             /* pocketsphinx language weight; 0 = 10 */
  const char *tesseract;     /* program; NULL = "tesseract" (looked up in PATH) */
  const char *pocketsphinx;  /* program; NULL = "pocketsphinx_continuous" */
  const char *asr_model_dir; /* NULL = /usr/share/pocketsphinx/model/en-us (Debian) */
  int64_t timeout_ms;        /* the whole inspection; 0 = 120000 */
  /* Boxes (fractions of the frame: x, y, w, h) blacked out before OCR: where the scenes'
   * pictures (emoji, media/scenes.c) are drawn, which tesseract would read as junk letters, minus
   * the bands the render drew text in (a mask over a caption would hide it). The first with
   * w = 0 ends the list. */
  double ocr_masks[AIN_MEDIA_OCR_MASKS][4];
  /* Windows [start, end) in ms where no frame is sampled: the scene changes (xfade), whose
   * half-drawn pictures and dissolve noise are not what the viewer watches. A sample that falls
   * in one is taken at the window's end. At most AIN_MEDIA_OCR_SKIPS. */
  const int64_t (*skip_ms)[2];
  size_t n_skip;
} ain_media_inspect_opts_t;

typedef struct {
  char *text;    /* one word as tesseract read it */
  double conf;   /* tesseract's confidence, 0..100 */
  double box[4]; /* x, y, w, h: fractions of the frame */
} ain_media_ocr_word_t;

typedef struct {
  int64_t t_ms; /* the frame's time in the video (its timestamp, not the interval's middle) */
  char *text;   /* what tesseract read, lines joined by "\n"; "" for none */
  ain_media_ocr_word_t *words; /* the same words with their places */
  size_t n_words;
} ain_media_ocr_frame_t;

/* A text the render drew (from its ASS captions): the title or one caption phrase, from start_ms
 * to end_ms, inside box (x, y, w, h: fractions of the frame, where libass puts the block). */
typedef struct {
  int64_t start_ms, end_ms;
  int title; /* 1: the title, 0: a caption */
  double box[4];
  char *text; /* override tags removed, line breaks as spaces */
} ain_media_text_event_t;

typedef struct {
  ain_media_ocr_frame_t *frames;
  size_t n_frames;
  char *asr_text;    /* what pocketsphinx heard, lower case, utterances joined by spaces */
  size_t asr_words;
  char *oov;         /* script words the recogniser's dictionary lacks, space separated */
  size_t model_words; /* script words in the language model */
  /* wall times of the parts, ms: model = dictionary + language model (thread pool), audio and
   * frames = the ffmpeg extractions, asr and ocr = the recogniser runs, total = start to end */
  double ms_model, ms_audio, ms_frames, ms_asr, ms_ocr, ms_total;
} ain_media_inspect_result_t;

typedef struct ain_media_inspect ain_media_inspect_t;
typedef void (*ain_media_inspect_cb)(int status, const ain_media_inspect_result_t *res,
                                     const ain_err_t *err, void *data);

/* Samples frames of the video (ffmpeg, grey, scaled) and reads them with tesseract, and extracts
 * the audio (16 kHz mono WAV) and recognises it with pocketsphinx against a language model built
 * from script_text (its words and n-grams, plus a small background vocabulary so that different
 * words can still be heard). The two chains run at once, as child processes with one deadline;
 * the model is built on the thread pool. res is valid during the callback only. job (may be
 * NULL) can be cancelled until the callback has run. */
int ain_media_inspect(uv_loop_t *loop, const ain_media_inspect_opts_t *opts,
                      ain_media_inspect_cb cb, void *data, ain_media_inspect_t **job,
                      ain_err_t *err);
/* Kills the running children; the callback still runs, with AIN_ECANCELLED. */
void ain_media_inspect_cancel(ain_media_inspect_t *job);

/* Pure parts, exposed for tests. */
/* tesseract's TSV output for a list of n images -> frames[i] (words with boxes as fractions of
 * the page, lines as text), frames[i].t_ms = t_ms[i]; AIN_EMEDIA when the pages are not n or a
 * row names a page out of 1..n. Free with ain_media_ocr_frames_free. */
int ain_media_ocr_parse_tsv(const char *out, size_t n, const int64_t *t_ms,
                            ain_media_ocr_frame_t **frames, ain_err_t *err);
void ain_media_ocr_frames_free(ain_media_ocr_frame_t *frames, size_t n);
/* The texts an ASS script (the render's captions, media/captions.c) draws: one event per title
 * and per caption phrase (the per-word events of a phrase, which only move the highlight, are
 * merged), with the box libass puts it in (PlayRes, the style's alignment, margins, font size and
 * outline, the line count). AIN_EMEDIA for a Dialogue with an unknown style or bad times. */
int ain_media_text_plan(const char *ass, ain_media_text_event_t **events, size_t *n_events,
                        ain_err_t *err);
void ain_media_text_plan_free(ain_media_text_event_t *events, size_t n);
/* pocketsphinx_continuous's stdout (one hypothesis line per utterance) -> one lower-case line;
 * *words = its word count. Caller frees. */
char *ain_media_asr_parse(const char *out, size_t *words);
/* The recogniser's model for a script: writes an ARPA trigram model (lm_path) and the matching
 * pronunciation dictionary (dic_path, the lines of dict_path for its words). Words are folded to
 * ASCII lower case, numbers spelled out ("30" -> "thirty"); script words missing from the
 * dictionary are returned in *oov (malloc'd, space separated). Blocking: run it on the pool. */
int ain_media_asr_model(const char *script_text, const char *dict_path, const char *lm_path,
                        const char *dic_path, size_t *model_words, char **oov, ain_err_t *err);
/* The argv of one of the four children ("frames", "audio", "ocr", "asr") for opts with the
 * defaults applied; dir is the work folder. Caller frees with ain_media_argv_free. NULL for an
 * unknown name. */
char **ain_media_inspect_argv(const ain_media_inspect_opts_t *opts, const char *which,
                              const char *dir);
void ain_media_argv_free(char **argv);
void ain_media_inspect_result_free(ain_media_inspect_result_t *res);

/* ---- helpers shared with the Lua bindings ------------------------------------------------------ */

/* Parses "#RRGGBB" (or "RRGGBB") into rgb; AIN_EINVAL naming the value otherwise. */
int ain_media_colour_parse(const char *s, uint32_t *rgb, ain_err_t *err);
/* Escapes a value for an ffmpeg filtergraph option (both quoting levels). Returns bytes written
 * or AIN_ETOOBIG. */
int ain_media_filter_escape(const char *in, char *out, size_t cap);
/* Parses one line of ffmpeg -progress output. Returns 1 and sets *out_us on "out_time_us=N"
 * (N/A and junk ignored), 2 on "progress=end", 0 otherwise. */
int ain_media_progress_line(const char *line, size_t len, int64_t *out_us);

#endif
