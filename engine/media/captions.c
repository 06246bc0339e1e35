/* Word-by-word captions and the title as an ASS script for libass (ffmpeg's subtitles filter).
 * Words are grouped into phrases of at most two lines that fit between the safe-area margins; each
 * word gets one event that shows its phrase with that word highlighted, from the word's onset to
 * the next word's onset, so the highlight moves with the speech. The title is fitted to its box
 * (wrapped, shrunk, an ellipsis at most: textfit.c) at the top of the safe area. Where the
 * captions sit is the persona's layout: "lower-third" (above the bottom band), "center", or
 * "top" (under the title). Whatever the caller passes, the margins are raised to the floor every
 * platform needs (safearea.c). PlayRes equals the video size, so every margin is in pixels.
 * WrapStyle 2 (no automatic wrapping): line breaks are ours, so libass never adds a line. Fonts:
 * the style's family first; libass falls back through fontconfig per character, so CJK comes from
 * Noto Sans CJK and emoji from Symbola (tools/setup.sh installs both). Pure function, no I/O.
 * Relies on: core/err, media.h types, textfit.c, safearea.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/internal.h"

/* A line of text is this many times its font size tall in libass (ascent + descent). */
#define LINE_EM 1.25
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
static void sb_textn(sb_t *b, const char *s, size_t n) {
  for (size_t i = 0; i < n && s[i]; i++) {
    char c = s[i];
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

static void sb_text(sb_t *b, const char *s) {
  sb_textn(b, s, strlen(s));
}

static double word_em(const char *s) {
  return ain_media_text_em(s, strlen(s));
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

/* Greedy line filling (widths in em of the font size): a phrase ends at sentence ends, after a
 * long pause, or when it would need more than max_lines lines. */
static size_t build_phrases(const ain_media_word_t *w, size_t n, double max_em, int max_lines,
                            int64_t max_gap_ms, int fs, phrase_t *out) {
  size_t np = 0, i = 0;
  while (i < n) {
    phrase_t *p = &out[np++];
    p->first = i;
    p->count = 0;
    p->brk = SIZE_MAX;
    p->font_size = fs;
    int line = 1;
    double line_em = 0;
    while (i < n) {
      double wl = word_em(w[i].text);
      if (p->count == 0 && wl > max_em) { /* shrink the font so the word fits one line */
        p->font_size = (int)((double)fs * max_em / wl);
        if (p->font_size < 8) {
          p->font_size = 8;
        }
        p->count = 1;
        i++;
        break;
      }
      double need = line_em > 0 ? line_em + 0.36 + wl : wl;
      if (p->count > 0 && need > max_em) {
        if (line >= max_lines || wl > max_em) {
          break;
        }
        line++;
        p->brk = p->count;
        need = wl;
      }
      line_em = need;
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

/* Where the caption block sits: ASS alignment and vertical margin for the layout. */
static int caption_place(const char *layout, const ain_media_safe_area_t *sa, int pad,
                         int title_bottom, int *align, int *margin_v, ain_err_t *err) {
  if (layout == NULL || layout[0] == '\0' || strcmp(layout, "lower-third") == 0) {
    *align = 2;
    *margin_v = sa->bottom_px + pad;
  } else if (strcmp(layout, "center") == 0) {
    *align = 5; /* libass centres the block vertically; the margin is not used */
    *margin_v = sa->bottom_px + pad;
  } else if (strcmp(layout, "top") == 0) {
    *align = 8;
    *margin_v = title_bottom + pad;
  } else {
    return ain_err_field(err, AIN_EINVAL, "layout",
                         "captions: layout \"%.32s\" is not lower-third, center or top", layout);
  }
  return 0;
}

char *ain_media_captions_ass(const ain_media_word_t *words, size_t n_words,
                             const ain_media_caption_style_t *style,
                             const ain_media_safe_area_t *safe, int width, int height,
                             ain_err_t *err) {
  static const ain_media_caption_style_t def_style = {0};
  static const ain_media_safe_area_t def_safe = {0};
  const ain_media_caption_style_t *st = style ? style : &def_style;
  ain_media_safe_area_t sa_buf = safe ? *safe : def_safe;
  const ain_media_safe_area_t *sa = &sa_buf;
  sb_t b = {0};
  phrase_t *ph = NULL;
  ain_media_text_fit_t tf = {0};
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
  /* No text in the bands every platform covers, whatever the caller's numbers say. */
  ain_media_safe_area_floor(&sa_buf, width, height);
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
   * far from overflow. */
  if (st->font_size > height || st->title_size > height || st->font_size < 0 ||
      st->title_size < 0) {
    ain_err_field(err, AIN_EINVAL, st->title_size > height || st->title_size < 0 ? "title_size"
                                                                                 : "font_size",
                  "captions: font size %d / title size %d out of 0..%d px", st->font_size,
                  st->title_size, height);
    return NULL;
  }
  if (st->title_max_lines < 0 || st->title_max_lines > 6) {
    ain_err_field(err, AIN_EINVAL, "title_max_lines", "captions: title_max_lines %d out of 0..6",
                  st->title_max_lines);
    return NULL;
  }
  int fs = st->font_size > 0 ? st->font_size : height / 24;
  int max_lines = st->max_lines == 1 ? 1 : 2;
  int64_t max_gap = st->max_gap_ms > 0 ? st->max_gap_ms : 600;
  int border = fs / 16 > 2 ? fs / 16 : 2;
  int pad = border + 2; /* the outline is drawn outside the glyphs */
  int avail = width - sa->left_px - sa->right_px - 2 * pad;
  double max_em = avail > 0 ? (double)avail / fs : 0;
  if (max_em < 4) {
    ain_err_field(err, AIN_EINVAL, "font_size",
                  "captions: font size %d leaves %.1f em per line in %d px", fs, max_em, avail);
    return NULL;
  }

  /* The title: its box is the safe width and at most a third of the safe height. */
  int tfs = st->title_size > 0 ? st->title_size : (fs * 3 / 4 > 0 ? fs * 3 / 4 : 1);
  int title_bottom = sa->top_px; /* where the captions may start under it ("top" layout) */
  int tmax_lines = st->title_max_lines > 0 ? st->title_max_lines : 3;
  if (st->title != NULL && st->title[0] != '\0') {
    int box_h = (height - sa->top_px - sa->bottom_px) / 3;
    int by_height = (int)((double)box_h / (LINE_EM * tmax_lines));
    int size = tfs < by_height ? tfs : by_height;
    int min_size = size * 55 / 100 > 8 ? size * 55 / 100 : (size < 8 ? size : 8);
    if (size < 1 || ain_media_text_fit(st->title, avail, tmax_lines, size, min_size, &tf, err) != 0) {
      if (size < 1) {
        ain_err_field(err, AIN_EINVAL, "title_size", "captions: no room for a title");
      }
      return NULL;
    }
    tfs = tf.font_size;
    title_bottom = sa->top_px + pad + (int)(LINE_EM * tfs * tf.lines + 0.5);
  }
  int align = 2, margin_v = 0;
  if (caption_place(st->layout, sa, pad, title_bottom, &align, &margin_v, err) != 0) {
    ain_media_text_fit_free(&tf);
    return NULL;
  }

  if (n_words > 0) {
    ph = calloc(n_words, sizeof *ph);
    if (ph == NULL) {
      ain_media_text_fit_free(&tf);
      ain_err_set(err, AIN_ENOMEM, "captions: no memory");
      return NULL;
    }
  }
  size_t np = build_phrases(words, n_words, max_em, max_lines, max_gap, fs, ph);

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
            ",%d,&H00%06X,&H00%06X,&H00%06X,&H80000000,-1,0,0,0,100,100,0,0,1,%d,0,%d,%d,%d,%d,1\n",
            fs, ass_bgr(base), ass_bgr(high), ass_bgr(outline), border, align, sa->left_px + pad,
            sa->right_px + pad, margin_v);
  int tborder = tfs / 16 > 2 ? tfs / 16 : 2;
  sb_printf(&b, "Style: Title,");
  sb_text(&b, font);
  sb_printf(&b,
            ",%d,&H00%06X,&H00%06X,&H00%06X,&H80000000,-1,0,0,0,100,100,0,0,1,%d,0,8,%d,%d,%d,1\n",
            tfs, ass_bgr(base), ass_bgr(high), ass_bgr(outline), tborder, sa->left_px + pad,
            sa->right_px + pad, sa->top_px + pad);
  sb_printf(&b, "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
                "Effect, Text\n");

  int64_t end_all_cs = n_words ? (words[n_words - 1].end_ms + 5) / 10 : 0;
  if (tf.text != NULL && tf.text[0] != '\0' && end_all_cs > 0) {
    sb_printf(&b, "Dialogue: 1,0:00:00.00,");
    sb_time(&b, end_all_cs);
    sb_printf(&b, ",Title,,0,0,0,,");
    for (const char *p = tf.text; *p;) {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      sb_textn(&b, p, len);
      if (nl == NULL) {
        break;
      }
      sb_putn(&b, "\\N", 2);
      p = nl + 1;
    }
    sb_putn(&b, "\n", 1);
  }
  ain_media_text_fit_free(&tf);

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
