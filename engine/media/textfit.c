/* Text that fits a box: a width model per code point (in em), break opportunities (spaces, and
 * between any two CJK characters, which are written without spaces), greedy line filling, and a
 * title fit that wraps, then shrinks the font step by step, and only at the smallest size cuts the
 * rest with one "…" (never silently). Pure functions, no I/O: the caption builder (captions.c)
 * and the unit tests call them.
 * The widths are a model of the fonts libass picks (DejaVu Sans Bold for Latin, Noto Sans CJK for
 * Han/kana/Hangul, Symbola for emoji), rounded up so that a fitted line never runs wider than
 * its box; bench/content and tests/integration/text_fit.sh check the rendered frames.
 * Relies on: core/err, media.h. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

#define ELLIPSIS "\xE2\x80\xA6" /* U+2026, one em in every font we use */
#define ELLIPSIS_EM 1.0

/* Decodes one UTF-8 code point at s (len bytes left); *n = bytes used (1 for a bad byte, which
 * is then read as U+FFFD: the caller never loops forever on invalid input). */
static uint32_t utf8_next(const char *s, size_t len, size_t *n) {
  const unsigned char *u = (const unsigned char *)s;
  uint32_t c = u[0];
  size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (need == 0 || need > len) {
    *n = 1;
    return 0xFFFD;
  }
  if (need == 1) {
    *n = 1;
    return c;
  }
  c &= 0x3Fu >> (need - 1);
  for (size_t i = 1; i < need; i++) {
    if ((u[i] & 0xC0) != 0x80) {
      *n = 1;
      return 0xFFFD;
    }
    c = (c << 6) | (u[i] & 0x3F);
  }
  *n = need;
  return c;
}

int ain__media_cp_is_cjk(uint32_t c) {
  return (c >= 0x1100 && c <= 0x11FF) || (c >= 0x2E80 && c <= 0x9FFF) ||
         (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFF00 && c <= 0xFF60) || (c >= 0x20000 && c <= 0x3FFFF);
}

int ain__media_cp_is_emoji(uint32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
         (c >= 0x2B00 && c <= 0x2BFF) || (c >= 0x2190 && c <= 0x21FF) ||
         (c >= 0x2300 && c <= 0x23FF);
}

/* Joiners, variation selectors, skin tones and combining marks draw nothing of their own. */
static int zero_width(uint32_t c) {
  return c == 0x200D || c == 0x200C || c == 0x200B || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0x0300 && c <= 0x036F) ||
         (c >= 0x064B && c <= 0x065F) || (c >= 0xE0000 && c <= 0xE007F);
}

/* Width of one code point in em, for the bold caption fonts. */
static double cp_em(uint32_t c) {
  if (zero_width(c)) {
    return 0.0;
  }
  if (c < 0x80) {
    if (c == ' ') {
      return 0.36;
    }
    if (strchr("iIjl.,:;'!|()[]{}ft1`\"", (int)c) != NULL) {
      return 0.42;
    }
    if (strchr("MWmw@%&", (int)c) != NULL) {
      return 1.05;
    }
    if (c >= 'A' && c <= 'Z') {
      return 0.80;
    }
    return 0.70;
  }
  if (ain__media_cp_is_cjk(c)) {
    return 1.05;
  }
  if (ain__media_cp_is_emoji(c)) {
    return 1.30;
  }
  if ((c >= 0x0600 && c <= 0x06FF) || (c >= 0x0750 && c <= 0x077F) ||
      (c >= 0xFB50 && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF)) {
    return 0.62; /* Arabic: joined forms are narrower than Latin letters on average */
  }
  return 0.80; /* Latin-1 accents, Greek, Cyrillic, punctuation like "—" */
}

double ain_media_text_em(const char *s, size_t len) {
  double em = 0;
  for (size_t i = 0, n = 0; i < len; i += n) {
    em += cp_em(utf8_next(s + i, len - i, &n));
  }
  return em;
}

/* CJK punctuation that must not start a line (kinsoku): a break before it is not allowed. */
static int no_break_before(uint32_t c) {
  static const uint32_t list[] = {0x3001, 0x3002, 0xFF0C, 0xFF0E, 0xFF01, 0xFF1F, 0xFF09, 0x300D,
                                  0x300F, 0x3011, 0x30FC, 0x30FB, 0x3005, 0x3041, 0x3043, 0x3045,
                                  0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x30C3, 0xFF1A};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    if (list[i] == c) {
      return 1;
    }
  }
  return 0;
}

/* One unbreakable piece of text: [b, e) bytes, with or without a space before it. */
typedef struct {
  size_t b, e;
  int space;
  double em;
} seg_t;

/* Splits text into segments: at spaces, and between CJK characters. Returns the count. */
static size_t segments(const char *t, size_t len, seg_t *out) {
  size_t n = 0, i = 0;
  int space = 0;
  while (i < len) {
    if (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
      space = n > 0;
      i++;
      continue;
    }
    size_t b = i, cn = 0;
    uint32_t prev = 0;
    while (i < len && t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r') {
      uint32_t c = utf8_next(t + i, len - i, &cn);
      /* a break between two characters when either is CJK (but not before closing marks) */
      if (i > b && (ain__media_cp_is_cjk(c) || ain__media_cp_is_cjk(prev)) && !no_break_before(c) &&
          !zero_width(c)) {
        out[n++] = (seg_t){b, i, space, ain_media_text_em(t + b, i - b)};
        space = 0;
        b = i;
      }
      prev = c;
      i += cn;
    }
    out[n++] = (seg_t){b, i, space, ain_media_text_em(t + b, i - b)};
    space = 0;
  }
  return n;
}

/* Greedy fill at width limit (em). Writes line starts (segment index) into brk, returns the line
 * count, or -1 if a segment alone is wider than a line. */
static int fill(const seg_t *s, size_t n, double limit, size_t *brk, int max_brk) {
  int lines = 0;
  double w = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i].em > limit) {
      return -1;
    }
    double need = w + (s[i].space ? 0.36 : 0) + s[i].em;
    if (lines == 0 || need > limit) {
      if (lines < max_brk) {
        brk[lines] = i;
      }
      lines++;
      w = s[i].em;
    } else {
      w = need;
    }
  }
  return lines;
}

/* The lines from the breaks, joined by '\n'. */
static int join(const char *t, const seg_t *s, size_t n, const size_t *brk, int lines, ain_strbuf_t *b) {
  int rc = 0;
  for (int l = 0; l < lines && rc == 0; l++) {
    size_t from = brk[l], to = l + 1 < lines ? brk[l + 1] : n;
    if (l > 0) {
      rc |= ain_strbuf_put(b, "\n", 1);
    }
    for (size_t i = from; i < to && rc == 0; i++) {
      if (i > from && s[i].space) {
        rc |= ain_strbuf_put(b, " ", 1);
      }
      rc |= ain_strbuf_put(b, t + s[i].b, s[i].e - s[i].b);
    }
  }
  return rc;
}

/* At the smallest size nothing more can shrink: fill max_lines lines character by character
 * where needed (a word longer than a line is broken inside), then end the last line with "…". */
static int cut_fill(const char *t, const seg_t *s, size_t n, double limit, int max_lines,
                    ain_strbuf_t *b, int *lines_out, int *cut) {
  int line = 1;
  double w = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    double sp = (w > 0 && s[i].space) ? 0.36 : 0;
    if (w > 0 && w + sp + s[i].em <= limit) {
      if (sp > 0) {
        rc |= ain_strbuf_put(b, " ", 1);
      }
      rc |= ain_strbuf_put(b, t + s[i].b, s[i].e - s[i].b);
      w += sp + s[i].em;
      continue;
    }
    if (w > 0 && s[i].em <= limit) { /* the segment fits a fresh line */
      if (line == max_lines) {
        goto ellipsis;
      }
      rc |= ain_strbuf_put(b, "\n", 1);
      line++;
      w = 0;
      rc |= ain_strbuf_put(b, t + s[i].b, s[i].e - s[i].b);
      w = s[i].em;
      continue;
    }
    /* wider than the space left: character by character, onto new lines as needed */
    if (w > 0 && sp > 0) {
      rc |= ain_strbuf_put(b, " ", 1);
      w += sp;
    }
    for (size_t k = s[i].b, cn = 0; k < s[i].e && rc == 0; k += cn) {
      double em = cp_em(utf8_next(t + k, s[i].e - k, &cn));
      if (w + em > limit) {
        if (line == max_lines) {
          goto ellipsis;
        }
        rc |= ain_strbuf_put(b, "\n", 1);
        line++;
        w = 0;
      }
      rc |= ain_strbuf_put(b, t + k, cn);
      w += em;
    }
  }
  *lines_out = line;
  return rc;
ellipsis:
  *cut = 1;
  /* drop characters from the end of the last line until the ellipsis fits after it */
  while (b->n > 0 && b->s[b->n - 1] != '\n') {
    size_t ls = b->n;
    while (ls > 0 && b->s[ls - 1] != '\n') {
      ls--;
    }
    if (ain_media_text_em(b->s + ls, b->n - ls) + ELLIPSIS_EM <= limit &&
        b->s[b->n - 1] != ' ') {
      break;
    }
    do {
      b->n--;
    } while (b->n > 0 && ((unsigned char)b->s[b->n] & 0xC0) == 0x80);
    b->s[b->n] = '\0';
  }
  *lines_out = line;
  return rc | ain_strbuf_put(b, ELLIPSIS, strlen(ELLIPSIS));
}

int ain_media_text_fit(const char *text, int box_width, int max_lines, int size, int min_size,
                       ain_media_text_fit_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (text == NULL) {
    return ain_err_field(err, AIN_EINVAL, "text", "text fit: no text");
  }
  if (box_width < 8 || max_lines < 1 || max_lines > 16 || size < 1 || min_size < 1 ||
      min_size > size) {
    return ain_err_field(err, AIN_EINVAL, "size",
                         "text fit: box %d px, %d lines, size %d..%d px is not a box", box_width,
                         max_lines, min_size, size);
  }
  size_t len = strlen(text);
  seg_t *s = malloc((len + 1) * sizeof *s);
  size_t brk[16];
  ain_strbuf_t b = {0};
  if (s == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "text fit: no memory");
  }
  size_t n = segments(text, len, s);
  /* Shrink in steps of about 6 % (at least 1 px) until the text fits max_lines. */
  for (int fs = size;; fs = fs - (fs / 16 > 1 ? fs / 16 : 1)) {
    if (fs < min_size) {
      fs = min_size;
    }
    double limit = (double)box_width / fs;
    int lines = fill(s, n, limit, brk, 16);
    if (lines >= 0 && lines <= max_lines) {
      if (join(text, s, n, brk, lines, &b) != 0) {
        goto oom;
      }
      out->font_size = fs;
      out->lines = lines;
      break;
    }
    if (fs == min_size) {
      int lines_used = 0, cut = 0;
      if (cut_fill(text, s, n, limit, max_lines, &b, &lines_used, &cut) != 0) {
        goto oom;
      }
      out->font_size = fs;
      out->lines = lines_used;
      out->cut = cut;
      break;
    }
  }
  free(s);
  out->text = b.s != NULL ? b.s : calloc(1, 1);
  if (out->text == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "text fit: no memory");
  }
  return 0;
oom:
  free(s);
  free(b.s);
  return ain_err_set(err, AIN_ENOMEM, "text fit: no memory");
}

void ain_media_text_fit_free(ain_media_text_fit_t *f) {
  free(f->text);
  memset(f, 0, sizeof *f);
}
