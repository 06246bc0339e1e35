/* What the inspect step knows about text on screen, from two sides:
 *   - what tesseract read: its TSV output for a list of frames -> per frame the words with their
 *     boxes and confidences (and the lines as text);
 *   - what the render drew: its ASS captions (the render's own record of every caption and the
 *     title, with times, styles and margins) -> the text events with their boxes.
 * The judge's output checks (scripts/agents/output_checks.lua) compare the two by place and time:
 * a word read inside a box the render drew text in is checked against that text, which is what
 * makes the check precise (docs/policies.md, "Output checks").
 * Pure functions, no I/O.
 * Relies on: media.h types, core/err. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

/* A line of text is this many times its font size tall in libass (ascent + descent), as in
 * captions.c, which wrote the ASS. */
#define PLAN_LINE_EM 1.25

/* ---- tesseract's TSV ---------------------------------------------------------------------------
 */

/* Appends or aborts: the texts are a few KiB, and this module's callers have no error path. */
static void tput(ain_strbuf_t *b, const char *s, size_t n) {
  if (ain_strbuf_put(b, s, n) != 0) {
    abort();
  }
}

/* Splits s[0..len) at tabs into at most max fields (pointers into a copy the caller frees). */
static size_t split_tabs(const char *s, size_t len, char **copy, char **f, size_t max) {
  char *c = malloc(len + 1);
  if (c == NULL) {
    abort();
  }
  memcpy(c, s, len);
  c[len] = '\0';
  *copy = c;
  size_t n = 0;
  char *p = c;
  while (n < max) {
    f[n++] = p;
    char *t = strchr(p, '\t');
    if (t == NULL) {
      break;
    }
    *t = '\0';
    p = t + 1;
  }
  return n;
}

static void frame_add_word(ain_media_ocr_frame_t *f, size_t *cap, const char *text, double conf,
                           const double box[4]) {
  if (f->n_words == *cap) {
    *cap = *cap ? *cap * 2 : 8;
    ain_media_ocr_word_t *w = realloc(f->words, *cap * sizeof *w);
    if (w == NULL) {
      abort();
    }
    f->words = w;
  }
  ain_media_ocr_word_t *w = &f->words[f->n_words++];
  w->text = ain_strdup(text);
  w->conf = conf;
  memcpy(w->box, box, sizeof w->box);
}

static char *trim_dup(const char *s) {
  while (*s == ' ' || *s == '\r') {
    s++;
  }
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
    n--;
  }
  char *r = malloc(n + 1);
  if (r == NULL) {
    abort();
  }
  memcpy(r, s, n);
  r[n] = '\0';
  return r;
}

void ain_media_ocr_frames_free(ain_media_ocr_frame_t *f, size_t n) {
  for (size_t i = 0; f != NULL && i < n; i++) {
    free(f[i].text);
    for (size_t k = 0; k < f[i].n_words; k++) {
      free(f[i].words[k].text);
    }
    free(f[i].words);
  }
  free(f);
}

int ain_media_ocr_parse_tsv(const char *out, size_t n, const int64_t *t_ms,
                            ain_media_ocr_frame_t **frames, ain_err_t *err) {
  *frames = NULL;
  ain_media_ocr_frame_t *f = calloc(n ? n : 1, sizeof *f);
  if (f == NULL) {
    abort();
  }
  size_t *caps = calloc(n ? n : 1, sizeof *caps);
  double(*size)[2] = calloc(n ? n : 1, sizeof *size);
  ain_strbuf_t *text = calloc(n ? n : 1, sizeof *text);
  long *line_of =
      calloc(n ? n : 1, sizeof *line_of); /* block*1e6 + par*1e3 + line of the last word */
  if (caps == NULL || size == NULL || text == NULL || line_of == NULL) {
    abort();
  }
  size_t pages = 0;
  int rc = 0;
  for (const char *p = out ? out : ""; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char *copy = NULL, *fl[12];
    size_t nf = split_tabs(p, len, &copy, fl, 12);
    p = e ? e + 1 : p + len;
    if (nf < 11 || strcmp(fl[0], "level") == 0) {
      free(copy); /* the header, or a blank line */
      continue;
    }
    char *end;
    long level = strtol(fl[0], &end, 10);
    long page = strtol(fl[1], NULL, 10);
    if (*end != '\0' || page < 1 || (size_t)page > n) {
      rc = ain_err_set(err, AIN_EMEDIA, "inspect: tesseract's TSV names page %ld of %zu frames",
                       page, n);
      free(copy);
      break;
    }
    size_t i = (size_t)page - 1;
    double l = strtod(fl[6], NULL), t = strtod(fl[7], NULL), w = strtod(fl[8], NULL),
           h = strtod(fl[9], NULL);
    if (level == 1) {
      size[i][0] = w;
      size[i][1] = h;
      pages++;
    } else if (level == 5 && nf == 12 && size[i][0] > 0 && size[i][1] > 0) {
      char *word = trim_dup(fl[11]);
      if (word[0] != '\0') {
        double box[4] = {l / size[i][0], t / size[i][1], w / size[i][0], h / size[i][1]};
        frame_add_word(&f[i], &caps[i], word, strtod(fl[10], NULL), box);
        long at = strtol(fl[2], NULL, 10) * 1000000L + strtol(fl[3], NULL, 10) * 1000L +
                  strtol(fl[4], NULL, 10);
        if (text[i].n > 0) {
          tput(&text[i], at == line_of[i] ? " " : "\n", 1);
        }
        line_of[i] = at;
        tput(&text[i], word, strlen(word));
      }
      free(word);
    }
    free(copy);
  }
  if (rc == 0 && pages != n) {
    rc = ain_err_set(err, AIN_EMEDIA, "inspect: tesseract returned %zu pages for %zu frames", pages,
                     n);
  }
  for (size_t i = 0; i < n; i++) {
    f[i].t_ms = t_ms[i];
    f[i].text = text[i].s != NULL ? text[i].s : ain_strdup("");
  }
  free(caps);
  free(size);
  free(text);
  free(line_of);
  if (rc != 0) {
    ain_media_ocr_frames_free(f, n);
    return rc;
  }
  *frames = f;
  return 0;
}

/* ---- the render's ASS -------------------------------------------------------------------------
 */

typedef struct {
  char name[64];
  double size, outline;
  int align, ml, mr, mv;
} style_t;

/* "H:MM:SS.cc" -> ms; -1 when malformed. */
static int64_t ass_time(const char *s) {
  int h, m, sec, cs;
  if (sscanf(s, " %d:%d:%d.%d", &h, &m, &sec, &cs) != 4 || h < 0 || m < 0 || sec < 0 || cs < 0) {
    return -1;
  }
  return (((int64_t)h * 60 + m) * 60 + sec) * 1000 + (int64_t)cs * 10;
}

/* Index of name in a Format line's comma-separated fields, -1 when absent. */
static int field_index(const char *format, const char *name) {
  int i = 0;
  for (const char *p = format; *p; i++) {
    while (*p == ' ') {
      p++;
    }
    size_t n = strcspn(p, ",\r\n");
    size_t k = n;
    while (k > 0 && p[k - 1] == ' ') {
      k--;
    }
    if (k == strlen(name) && strncmp(p, name, k) == 0) {
      return i;
    }
    p += n;
    if (*p != ',') {
      break;
    }
    p++;
  }
  return -1;
}

/* The idx-th comma-separated field of s (copied into out, trimmed). */
static void field_at(const char *s, int idx, char *out, size_t cap) {
  out[0] = '\0';
  for (int i = 0; i < idx && s != NULL; i++) {
    s = strchr(s, ',');
    s = s ? s + 1 : NULL;
  }
  if (s == NULL) {
    return;
  }
  while (*s == ' ') {
    s++;
  }
  size_t n = strcspn(s, ",\r\n");
  while (n > 0 && s[n - 1] == ' ') {
    n--;
  }
  snprintf(out, cap, "%.*s", (int)n, s);
}

/* Dialogue text without override blocks; "\N" and "\n" become spaces. *lines = its lines,
 * *fs = a {\fsN} override's size (0 = none). */
static char *plain_text(const char *s, int *lines, double *fs) {
  size_t len = strcspn(s, "\r\n");
  char *r = malloc(len + 1);
  if (r == NULL) {
    abort();
  }
  size_t n = 0;
  *lines = 1;
  *fs = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '{') {
      const char *c = memchr(s + i, '}', len - i);
      if (c == NULL) {
        break;
      }
      const char *f = strstr(s + i, "\\fs");
      if (f != NULL && f < c && f[3] >= '0' && f[3] <= '9') {
        *fs = strtod(f + 3, NULL);
      }
      i = (size_t)(c - s);
    } else if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 'N' || s[i + 1] == 'n')) {
      r[n++] = ' ';
      (*lines)++;
      i++;
    } else {
      r[n++] = s[i];
    }
  }
  r[n] = '\0';
  return r;
}

/* Where libass puts a block of `lines` lines of font size fs in style st on a w x h frame:
 * the style's alignment (numpad: 1-3 bottom, 4-6 middle, 7-9 top) and margins. */
static void block_box(const style_t *st, double fs, int lines, int w, int h, double box[4]) {
  double bh = lines * PLAN_LINE_EM * fs + 2 * st->outline;
  double y = st->align >= 7 ? st->mv : st->align >= 4 ? (h - bh) / 2 : h - st->mv - bh;
  box[0] = (double)st->ml / w;
  box[1] = y / h;
  box[2] = (double)(w - st->ml - st->mr) / w;
  box[3] = bh / h;
}

void ain_media_text_plan_free(ain_media_text_event_t *ev, size_t n) {
  for (size_t i = 0; ev != NULL && i < n; i++) {
    free(ev[i].text);
  }
  free(ev);
}

int ain_media_text_plan(const char *ass, ain_media_text_event_t **events, size_t *n_events,
                        ain_err_t *err) {
  *events = NULL;
  *n_events = 0;
  int w = 0, h = 0;
  style_t styles[16];
  size_t n_styles = 0;
  char sfmt[512] = "", efmt[512] = "";
  ain_media_text_event_t *ev = NULL;
  size_t n = 0, cap = 0;
  for (const char *p = ass ? ass : ""; *p;) {
    const char *e = strchr(p, '\n');
    const char *line = p;
    p = e ? e + 1 : p + strlen(p);
    if (strncmp(line, "PlayResX:", 9) == 0) {
      w = atoi(line + 9);
    } else if (strncmp(line, "PlayResY:", 9) == 0) {
      h = atoi(line + 9);
    } else if (strncmp(line, "Format:", 7) == 0) {
      /* The styles' Format line comes first, then the events' one. */
      char *dst = sfmt[0] == '\0' ? sfmt : efmt;
      snprintf(dst, sizeof sfmt, "%.*s", (int)strcspn(line + 7, "\r\n"), line + 7);
    } else if (strncmp(line, "Style:", 6) == 0 && n_styles < 16) {
      style_t *st = &styles[n_styles++];
      char v[64];
      field_at(line + 6, field_index(sfmt, "Name"), st->name, sizeof st->name);
      field_at(line + 6, field_index(sfmt, "Fontsize"), v, sizeof v);
      st->size = strtod(v, NULL);
      field_at(line + 6, field_index(sfmt, "Outline"), v, sizeof v);
      st->outline = strtod(v, NULL);
      field_at(line + 6, field_index(sfmt, "Alignment"), v, sizeof v);
      st->align = atoi(v);
      field_at(line + 6, field_index(sfmt, "MarginL"), v, sizeof v);
      st->ml = atoi(v);
      field_at(line + 6, field_index(sfmt, "MarginR"), v, sizeof v);
      st->mr = atoi(v);
      field_at(line + 6, field_index(sfmt, "MarginV"), v, sizeof v);
      st->mv = atoi(v);
    } else if (strncmp(line, "Dialogue:", 9) == 0) {
      int ti = field_index(efmt, "Text"), si = field_index(efmt, "Style");
      int bi = field_index(efmt, "Start"), ei = field_index(efmt, "End");
      if (w <= 0 || h <= 0 || ti < 0 || si < 0 || bi < 0 || ei < 0) {
        ain_media_text_plan_free(ev, n);
        return ain_err_set(err, AIN_EMEDIA,
                           "captions: a Dialogue before PlayResX/PlayResY and the events' Format");
      }
      char sname[64], tb[32], te[32];
      field_at(line + 9, si, sname, sizeof sname);
      field_at(line + 9, bi, tb, sizeof tb);
      field_at(line + 9, ei, te, sizeof te);
      const style_t *st = NULL;
      for (size_t k = 0; k < n_styles; k++) {
        if (strcmp(styles[k].name, sname) == 0) {
          st = &styles[k];
        }
      }
      int64_t t0 = ass_time(tb), t1 = ass_time(te);
      if (st == NULL || t0 < 0 || t1 < t0) {
        ain_media_text_plan_free(ev, n);
        return ain_err_set(err, AIN_EMEDIA,
                           "captions: Dialogue with style \"%s\" and times "
                           "\"%s\"..\"%s\": unknown style or bad times",
                           sname, tb, te);
      }
      /* The Text field is the rest of the line: it may hold commas. */
      const char *txt = line + 9;
      for (int k = 0; k < ti && txt != NULL; k++) {
        txt = strchr(txt, ',');
        txt = txt ? txt + 1 : NULL;
      }
      int lines;
      double fs;
      char *plain = plain_text(txt ? txt : "", &lines, &fs);
      int title = strcmp(sname, "Title") == 0;
      /* A phrase is one event per word (the highlight moves): one event per phrase here. */
      if (n > 0 && ev[n - 1].title == title && ev[n - 1].end_ms == t0 &&
          strcmp(ev[n - 1].text, plain) == 0) {
        ev[n - 1].end_ms = t1;
        free(plain);
        continue;
      }
      if (n == cap) {
        cap = cap ? cap * 2 : 32;
        ain_media_text_event_t *v = realloc(ev, cap * sizeof *v);
        if (v == NULL) {
          abort();
        }
        ev = v;
      }
      ain_media_text_event_t *x = &ev[n++];
      x->start_ms = t0;
      x->end_ms = t1;
      x->title = title;
      x->text = plain;
      block_box(st, fs > 0 ? fs : st->size, lines, w, h, x->box);
    }
  }
  *events = ev;
  *n_events = n;
  return 0;
}
