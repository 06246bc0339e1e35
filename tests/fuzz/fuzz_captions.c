/* libFuzzer target: the caption writer (media/captions.c), which turns TTS word timings and a
 * persona's style into an ASS script that libass parses. The input is text, so seeds stay readable:
 *   line 1: WIDTH HEIGHT FONT_SIZE MAX_LINES MAX_GAP_MS TOP BOTTOM LEFT RIGHT
 *   line 2: COLOUR|HIGHLIGHT|OUTLINE|FONT|TITLE   (an empty field is NULL: the default)
 *   then one word per line: START_MS END_MS TEXT
 * A refusal must carry a message. A script that is produced must be one libass reads as meant:
 * every Style line has its 23 fields (nothing from the font splits one), each word event lasts
 * (start < end), events never overlap, a caption event has at most MAX_LINES lines, and no event
 * spills onto a second line of the file.
 * Relies on: media/media.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/media.h"

#define MAX_WORDS 4096

/* Next line of [*p, end) as a NUL-terminated copy (caller frees); NULL at the end. */
static char *next_line(const char **p, const char *end) {
  if (*p >= end) {
    return NULL;
  }
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *e = nl ? nl : end;
  size_t n = (size_t)(e - *p);
  char *s = malloc(n + 1);
  if (s == NULL) {
    abort();
  }
  memcpy(s, *p, n);
  s[n] = '\0';
  *p = nl ? nl + 1 : end;
  return s;
}

static void fail(const char *why, const char *line) {
  fprintf(stderr, "captions: %s: %s\n", why, line);
  abort();
}

static int64_t centis(const char *t) {
  int h = 0, m = 0, s = 0, c = 0;
  if (sscanf(t, "%d:%d:%d.%d", &h, &m, &s, &c) != 4) {
    return -1;
  }
  return ((int64_t)h * 3600 + m * 60 + s) * 100 + c;
}

static int count(const char *s, const char *needle, const char *end) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL && p < end; p += strlen(needle)) {
    n++;
  }
  return n;
}

static void check_script(const char *ass, int max_lines) {
  int64_t last_end = -1;
  for (const char *line = ass; *line;) {
    const char *eol = strchr(line, '\n');
    if (eol == NULL) {
      fail("script does not end with a newline", line);
    }
    if (strncmp(line, "Style: ", 7) == 0 && count(line, ",", eol) != 22) {
      fail("a Style line without its 23 fields", line);
    }
    if (strncmp(line, "Dialogue: ", 10) == 0) {
      const char *a = line + 12, *b = strchr(a, ',');
      int64_t s = centis(a), e = b ? centis(b + 1) : -1;
      if (s < 0 || e <= s) {
        fail("an event that does not last", line);
      }
      if (strncmp(line, "Dialogue: 0,", 12) == 0) {
        if (s < last_end) {
          fail("events overlap", line);
        }
        last_end = e;
        if (count(line, "\\N", eol) > max_lines - 1) {
          fail("a caption with too many lines", line);
        }
      }
    }
    line = eol + 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size;
  char *head = next_line(&p, end), *style = next_line(&p, end);
  ain_media_word_t *words = calloc(MAX_WORDS, sizeof *words);
  char *fields[5] = {0};
  size_t n = 0;
  if (words == NULL) {
    abort();
  }
  if (head == NULL || style == NULL) {
    goto done;
  }
  int width = 0, height = 0, font_size = 0, max_lines = 0;
  long long max_gap = 0;
  ain_media_safe_area_t sa = {0};
  if (sscanf(head, "%d %d %d %d %lld %d %d %d %d", &width, &height, &font_size, &max_lines,
             &max_gap, &sa.top_px, &sa.bottom_px, &sa.left_px, &sa.right_px) != 9) {
    goto done;
  }
  char *s = style;
  for (int i = 0; i < 5; i++) {
    char *bar = i < 4 ? strchr(s, '|') : NULL;
    if (bar != NULL) {
      *bar = '\0';
    }
    fields[i] = *s ? s : NULL;
    if (bar == NULL) {
      break;
    }
    s = bar + 1;
  }
  char *line;
  while (n < MAX_WORDS && (line = next_line(&p, end)) != NULL) {
    long long a, b;
    int off = 0;
    if (sscanf(line, "%lld %lld %n", &a, &b, &off) != 2) {
      free(line);
      continue;
    }
    words[n].start_ms = a;
    words[n].end_ms = b;
    memmove(line, line + off, strlen(line + off) + 1);
    words[n].text = line; /* owned by words[] now */
    n++;
  }
  ain_media_caption_style_t st = {.font_size = font_size,
                                  .max_lines = max_lines,
                                  .max_gap_ms = max_gap,
                                  .colour = fields[0],
                                  .highlight_colour = fields[1],
                                  .outline_colour = fields[2],
                                  .font = fields[3],
                                  .title = fields[4]};
  ain_err_t err;
  ain_err_clear(&err);
  char *ass = ain_media_captions_ass(words, n, &st, &sa, width, height, &err);
  if (ass == NULL) {
    if (err.msg[0] == '\0') {
      fail("refused without a message", head);
    }
  } else {
    check_script(ass, st.max_lines == 1 ? 1 : 2);
    free(ass);
  }
done:
  for (size_t i = 0; i < n; i++) {
    free(words[i].text);
  }
  free(words);
  free(head);
  free(style);
  return 0;
}
