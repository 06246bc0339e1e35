/* Word-by-word captions as an ASS script for libass (ffmpeg's subtitles filter). Words are grouped
 * into phrases of at most two lines that fit between the safe-area margins; each word gets one
 * event that shows its phrase with that word highlighted, from the word's onset (espeak's WORD
 * event) to the next word's onset, so the highlight moves exactly with the speech. PlayRes equals
 * the video size, so every margin is in pixels. WrapStyle 2 (no automatic wrapping): line breaks
 * are ours, so libass never adds a third line. Pure function, no I/O.
 * Relies on: core/err, media.h types. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/internal.h"

/* DejaVu Sans Bold averages ~0.62 em per character over English text; 0.68 keeps capitals and
 * wide letters inside the margins too. */
#define CHAR_EM 0.68
#define CAPTION_MAX_MS (24LL * 3600 * 1000)

typedef struct {
  char *s;
  size_t n, cap;
  int oom;
} sb_t;

static void sb_putn(sb_t *b, const char *s, size_t n) {
  if (b->oom) {
    return;
  }
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2 + 256;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) {
    sb_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
  }
}

/* ASS override blocks start with '{' and "\N" is a line break: text must not carry either. */
static void sb_text(sb_t *b, const char *s) {
  for (; *s; s++) {
    char c = *s;
    if (c == '{') {
      c = '(';
    } else if (c == '}') {
      c = ')';
    } else if (c == '\\') {
      c = '/';
    } else if ((unsigned char)c < 0x20) {
      c = ' ';
    }
    sb_putn(b, &c, 1);
  }
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) {
    n += ((unsigned char)*s & 0xC0) != 0x80;
  }
  return n;
}

static uint32_t ass_bgr(uint32_t rgb) {
  return ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
}

static void sb_time(sb_t *b, int64_t cs) {
  sb_printf(b, "%d:%02d:%02d.%02d", (int)(cs / 360000), (int)(cs / 6000 % 60), (int)(cs / 100 % 60),
            (int)(cs % 100));
}

static int ends_sentence(const char *w) {
  size_t n = strlen(w);
  while (n > 0 && strchr("\"')]", w[n - 1])) {
    n--;
  }
  return n > 0 && strchr(".!?", w[n - 1]) != NULL;
}

typedef struct {
  size_t first, count; /* words [first, first+count) */
  size_t brk;          /* index (relative) of the first word on line 2; count = one line */
  int font_size;       /* may shrink for a word wider than a line */
} phrase_t;

/* Greedy line filling: a phrase ends at sentence ends, after a long pause, or when it would need
 * more than max_lines lines. */
static size_t build_phrases(const ain_media_word_t *w, size_t n, size_t max_chars, int max_lines,
                            int64_t max_gap_ms, int fs, phrase_t *out) {
  size_t np = 0, i = 0;
  while (i < n) {
    phrase_t *p = &out[np++];
    p->first = i;
    p->count = 0;
    p->brk = SIZE_MAX;
    p->font_size = fs;
    int line = 1;
    size_t line_len = 0;
    while (i < n) {
      size_t wl = utf8_chars(w[i].text);
      if (p->count == 0 && wl > max_chars) { /* shrink the font so the word fits one line */
        p->font_size = (int)((double)fs * (double)max_chars / (double)wl);
        if (p->font_size < 8) {
          p->font_size = 8;
        }
        p->count = 1;
        i++;
        break;
      }
      size_t need = line_len ? line_len + 1 + wl : wl;
      if (p->count > 0 && need > max_chars) {
        if (line >= max_lines || wl > max_chars) {
          break;
        }
        line++;
        p->brk = p->count;
        need = wl;
      }
      line_len = need;
      p->count++;
      i++;
      if (ends_sentence(w[i - 1].text) || w[i - 1].end_ms - w[i - 1].start_ms > max_gap_ms) {
        break;
      }
    }
  }
  return np;
}

static int check_words(const ain_media_word_t *w, size_t n, ain_err_t *err) {
  for (size_t i = 0; i < n; i++) {
    if (w[i].text == NULL || w[i].text[0] == '\0') {
      return ain_err_field(err, AIN_EINVAL, "words", "captions: word %zu has no text", i);
    }
    /* Times past a day are garbage from the caller, and would overflow the rounding below. */
    if (w[i].start_ms < 0 || w[i].end_ms <= w[i].start_ms || w[i].end_ms > CAPTION_MAX_MS) {
      return ain_err_field(err, AIN_EINVAL, "words",
                           "captions: word %zu \"%.32s\" has times %lld..%lld", i, w[i].text,
                           (long long)w[i].start_ms, (long long)w[i].end_ms);
    }
    if (i > 0 && w[i].start_ms < w[i - 1].end_ms) {
      return ain_err_field(err, AIN_EINVAL, "words",
                           "captions: word %zu \"%.32s\" starts before word %zu ends", i, w[i].text,
                           i - 1);
    }
  }
  return 0;
}

static void emit_phrase_text(sb_t *b, const ain_media_word_t *w, const phrase_t *p, size_t hi,
                             uint32_t base, uint32_t high, int fs_default) {
  if (p->font_size != fs_default) {
    sb_printf(b, "{\\fs%d}", p->font_size);
  }
  for (size_t k = 0; k < p->count; k++) {
    if (k > 0) {
      sb_putn(b, k == p->brk ? "\\N" : " ", k == p->brk ? 2 : 1);
    }
    if (k == hi) {
      sb_printf(b, "{\\1c&H%06X&}", ass_bgr(high));
    }
    sb_text(b, w[p->first + k].text);
    if (k == hi) {
      sb_printf(b, "{\\1c&H%06X&}", ass_bgr(base));
    }
  }
}

char *ain_media_captions_ass(const ain_media_word_t *words, size_t n_words,
                             const ain_media_caption_style_t *style,
                             const ain_media_safe_area_t *safe, int width, int height,
                             ain_err_t *err) {
  static const ain_media_caption_style_t def_style = {0};
  static const ain_media_safe_area_t def_safe = {0};
  const ain_media_caption_style_t *st = style ? style : &def_style;
  const ain_media_safe_area_t *sa = safe ? safe : &def_safe;
  sb_t b = {0};
  phrase_t *ph = NULL;
  uint32_t base = 0xffffff, high = 0xffff00, outline = 0;
  if (width < 64 || height < 64 || width > 8192 || height > 8192) {
    ain_err_set(err, AIN_EINVAL, "captions: size %dx%d out of 64..8192", width, height);
    return NULL;
  }
  if (sa->top_px < 0 || sa->bottom_px < 0 || sa->left_px < 0 || sa->right_px < 0 ||
      sa->top_px >= height || sa->bottom_px >= height - sa->top_px || sa->left_px >= width ||
      sa->right_px >= width - sa->left_px) { /* no sums: margins near INT_MAX must not wrap */
    ain_err_field(err, AIN_EINVAL, "safe_area",
                  "captions: safe area (top %d, bottom %d, left %d, right %d) leaves no room in "
                  "%dx%d",
                  sa->top_px, sa->bottom_px, sa->left_px, sa->right_px, width, height);
    return NULL;
  }
  if ((st->colour && ain_media_colour_parse(st->colour, &base, err) != 0) ||
      (st->highlight_colour && ain_media_colour_parse(st->highlight_colour, &high, err) != 0) ||
      (st->outline_colour && ain_media_colour_parse(st->outline_colour, &outline, err) != 0)) {
    return NULL;
  }
  if (check_words(words, n_words, err) != 0) {
    return NULL;
  }
  /* The font name is a field of the Style line, and ASS has no escape: a comma would split it
   * and shift every later field (size, colours, margins). Found by tests/fuzz/fuzz_captions. */
  if (st->font != NULL && strpbrk(st->font, ",\n\r") != NULL) {
    ain_err_field(err, AIN_EINVAL, "font",
                  "captions: font \"%.64s\" contains a comma or a line break", st->font);
    return NULL;
  }
  /* A font taller than the video is a mistake, and bounding it keeps the size arithmetic below
   * (fs * 3, the title's size) far from overflow. */
  if (st->font_size > height) {
    ain_err_field(err, AIN_EINVAL, "font_size",
                  "captions: font size %d is taller than the %d px video", st->font_size, height);
    return NULL;
  }
  int fs = st->font_size > 0 ? st->font_size : height / 24;
  int max_lines = st->max_lines == 1 ? 1 : 2;
  int64_t max_gap = st->max_gap_ms > 0 ? st->max_gap_ms : 600;
  int border = fs / 16 > 2 ? fs / 16 : 2;
  int pad = border + 2; /* the outline is drawn outside the glyphs */
  int avail = width - sa->left_px - sa->right_px - 2 * pad;
  size_t max_chars = avail > 0 ? (size_t)((double)avail / (CHAR_EM * fs)) : 0;
  if (max_chars < 4) {
    ain_err_field(err, AIN_EINVAL, "font_size",
                  "captions: font size %d leaves %zu characters per line in %d px", fs, max_chars,
                  avail);
    return NULL;
  }
  if (n_words > 0) {
    ph = calloc(n_words, sizeof *ph);
    if (ph == NULL) {
      ain_err_set(err, AIN_ENOMEM, "captions: no memory");
      return NULL;
    }
  }
  size_t np = build_phrases(words, n_words, max_chars, max_lines, max_gap, fs, ph);

  const char *font = st->font && st->font[0] ? st->font : "DejaVu Sans";
  sb_printf(&b,
            "[Script Info]\nScriptType: v4.00+\nPlayResX: %d\nPlayResY: %d\nWrapStyle: 2\n"
            "ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n"
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
            "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
            "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n",
            width, height);
  sb_printf(&b, "Style: Caption,");
  sb_text(&b, font);
  sb_printf(&b,
            ",%d,&H00%06X,&H00%06X,&H00%06X,&H80000000,-1,0,0,0,100,100,0,0,1,%d,0,2,%d,%d,%d,1\n",
            fs, ass_bgr(base), ass_bgr(high), ass_bgr(outline), border, sa->left_px + pad,
            sa->right_px + pad, sa->bottom_px + pad);
  int tfs = fs * 3 / 4 > 0 ? fs * 3 / 4 : 1; /* a 1 px caption font must not make a 0 px title */
  sb_printf(&b, "Style: Title,");
  sb_text(&b, font);
  sb_printf(&b,
            ",%d,&H00%06X,&H00%06X,&H00%06X,&H80000000,-1,0,0,0,100,100,0,0,1,%d,0,8,%d,%d,%d,1\n",
            tfs, ass_bgr(base), ass_bgr(high), ass_bgr(outline), border, sa->left_px + pad,
            sa->right_px + pad, sa->top_px + pad);
  sb_printf(&b, "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
                "Effect, Text\n");

  int64_t end_all_cs = n_words ? (words[n_words - 1].end_ms + 5) / 10 : 0;
  if (st->title && st->title[0] && end_all_cs > 0) {
    /* The title wraps like captions, at its own (smaller) size, at most two lines. */
    size_t tmax = (size_t)((double)avail / (CHAR_EM * tfs));
    sb_printf(&b, "Dialogue: 1,0:00:00.00,");
    sb_time(&b, end_all_cs);
    sb_printf(&b, ",Title,,0,0,0,,");
    size_t line_len = 0;
    int line = 1;
    const char *p = st->title;
    while (*p) {
      while (*p == ' ') {
        p++;
      }
      const char *e = p;
      while (*e && *e != ' ') {
        e++;
      }
      if (e == p) {
        break;
      }
      char word[256];
      size_t wlen = (size_t)(e - p) < sizeof word - 1 ? (size_t)(e - p) : sizeof word - 1;
      memcpy(word, p, wlen);
      word[wlen] = '\0';
      size_t wl = utf8_chars(word);
      if (line_len && line_len + 1 + wl > tmax) {
        if (line >= 2) {
          break; /* a title longer than two lines is cut, not pushed into the video */
        }
        sb_putn(&b, "\\N", 2);
        line++;
        line_len = 0;
      } else if (line_len) {
        sb_putn(&b, " ", 1);
        line_len++;
      }
      sb_text(&b, word);
      line_len += wl;
      p = e;
    }
    sb_putn(&b, "\n", 1);
  }

  /* Centisecond times: word ends are the next word's start, so events are back to back; a word
   * that rounds to zero length (< 10 ms) is dropped rather than emitted as an empty cue. */
  for (size_t k = 0; k < np; k++) {
    const phrase_t *p = &ph[k];
    for (size_t j = 0; j < p->count; j++) {
      const ain_media_word_t *w = &words[p->first + j];
      int64_t s = (w->start_ms + 5) / 10, e = (w->end_ms + 5) / 10;
      if (e <= s) {
        continue;
      }
      sb_printf(&b, "Dialogue: 0,");
      sb_time(&b, s);
      sb_putn(&b, ",", 1);
      sb_time(&b, e);
      sb_printf(&b, ",Caption,,0,0,0,,");
      emit_phrase_text(&b, words, p, j, base, high, fs);
      sb_putn(&b, "\n", 1);
    }
  }
  free(ph);
  if (b.oom || b.s == NULL) {
    free(b.s);
    ain_err_set(err, AIN_ENOMEM, "captions: no memory");
    return NULL;
  }
  return b.s;
}
