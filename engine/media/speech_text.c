/* Text for the voice, captions as written. A script is split into written words (whitespace
 * separated, exactly as the viewer reads them) and each is turned into the words a synthesiser
 * should say: numbers spelled out ("2026" -> twenty twenty six), ranges and sequences
 * ("5-10" -> five to ten, "12-3-30" -> twelve three thirty), ratios ("50/30/20" -> fifty thirty
 * twenty), percent, currency ("$2.5M" -> two point five million dollars), ordinals, times,
 * abbreviations (e.g., vs., Dr.), URLs (the host, "dot" between its labels), hashtags, and
 * emoji/symbols dropped (they stay on screen, they are not read out). Every spoken token remembers
 * the written word it speaks, so the times a provider gives per spoken token map back to the
 * written words: every written word gets a time, in order (ain_media_speech_times).
 * Pure functions, no I/O.
 * Relies on: core/err, core/util. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/media.h"

#define SP_MAX_WORD 256 /* bytes of one written word we interpret; longer ones are read as is */

/* ---- growing output ---------------------------------------------------------------------------- */

typedef struct {
  char *s;
  size_t len, cap;
  size_t *off, *tlen, *word; /* per spoken token */
  size_t n, tcap;
  size_t cur_word;
} sp_out_t;

static void sp_reserve(sp_out_t *o, size_t more) {
  if (o->len + more + 2 > o->cap) {
    size_t cap = (o->len + more + 2) * 2;
    char *s = realloc(o->s, cap);
    if (s == NULL) {
      abort();
    }
    o->s = s;
    o->cap = cap;
  }
}

/* Appends one spoken token (no spaces inside) for the current written word. */
static void sp_tok(sp_out_t *o, const char *t, size_t n) {
  if (n == 0) {
    return;
  }
  if (o->n == o->tcap) {
    size_t cap = o->tcap ? o->tcap * 2 : 64;
    o->off = realloc(o->off, cap * sizeof *o->off);
    o->tlen = realloc(o->tlen, cap * sizeof *o->tlen);
    o->word = realloc(o->word, cap * sizeof *o->word);
    if (o->off == NULL || o->tlen == NULL || o->word == NULL) {
      abort();
    }
    o->tcap = cap;
  }
  sp_reserve(o, n + 1);
  if (o->len > 0) {
    o->s[o->len++] = ' ';
  }
  o->off[o->n] = o->len;
  o->tlen[o->n] = n;
  o->word[o->n++] = o->cur_word;
  memcpy(o->s + o->len, t, n);
  o->len += n;
  o->s[o->len] = '\0';
}

/* Appends space-separated words as tokens. */
static void sp_words(sp_out_t *o, const char *words) {
  const char *p = words;
  while (*p) {
    while (*p == ' ') {
      p++;
    }
    const char *e = p;
    while (*e && *e != ' ') {
      e++;
    }
    sp_tok(o, p, (size_t)(e - p));
    p = e;
  }
}

/* Sentence punctuation glued to the last token, so the synthesiser keeps its pauses. */
static void sp_punct(sp_out_t *o, size_t first_tok, char c) {
  if (o->n == first_tok || c == 0) {
    return; /* the word said nothing */
  }
  sp_reserve(o, 1);
  o->s[o->len++] = c;
  o->s[o->len] = '\0';
  o->tlen[o->n - 1]++;
}

/* ---- numbers ----------------------------------------------------------------------------------- */

static const char *const ONES[] = {"zero",    "one",     "two",       "three",    "four",
                                   "five",    "six",     "seven",     "eight",    "nine",
                                   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const TENS[] = {"",      "",      "twenty",  "thirty", "forty",
                                   "fifty", "sixty", "seventy", "eighty", "ninety"};

typedef struct {
  char b[1024];
  size_t n;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *w) {
  size_t l = strlen(w);
  if (b->n + l + 2 >= sizeof b->b) {
    return;
  }
  if (b->n > 0) {
    b->b[b->n++] = ' ';
  }
  memcpy(b->b + b->n, w, l);
  b->n += l;
  b->b[b->n] = '\0';
}

static void below_1000(sbuf_t *b, unsigned v) {
  if (v >= 100) {
    sb_add(b, ONES[v / 100]);
    sb_add(b, "hundred");
    v %= 100;
    if (v == 0) {
      return;
    }
  }
  if (v >= 20) {
    sb_add(b, TENS[v / 10]);
    if (v % 10) {
      sb_add(b, ONES[v % 10]);
    }
    return;
  }
  sb_add(b, ONES[v]);
}

/* 0 .. 999,999,999,999,999 as words. */
static void cardinal(sbuf_t *b, uint64_t v) {
  static const char *const SCALE[] = {"trillion", "billion", "million", "thousand"};
  static const uint64_t DIV[] = {1000000000000ULL, 1000000000ULL, 1000000ULL, 1000ULL};
  if (v == 0) {
    sb_add(b, "zero");
    return;
  }
  for (int i = 0; i < 4; i++) {
    if (v >= DIV[i]) {
      below_1000(b, (unsigned)(v / DIV[i] % 1000));
      sb_add(b, SCALE[i]);
      v %= DIV[i];
    }
  }
  if (v > 0) {
    below_1000(b, (unsigned)v);
  }
}

/* How a year is said: 1999 nineteen ninety nine, 2007 two thousand seven, 1900 nineteen hundred,
 * 2026 twenty twenty six. */
static void year(sbuf_t *b, unsigned v) {
  if (v >= 2000 && v <= 2009) {
    cardinal(b, v);
    return;
  }
  below_1000(b, v / 100);
  if (v % 100 == 0) {
    sb_add(b, "hundred");
  } else if (v % 100 < 10) {
    sb_add(b, "oh");
    sb_add(b, ONES[v % 10]);
  } else {
    below_1000(b, v % 100);
  }
}

/* The last word of a cardinal made ordinal: one -> first, twenty -> twentieth. */
static void ordinalise(sbuf_t *b) {
  static const char *const IRR[][2] = {{"one", "first"},  {"two", "second"}, {"three", "third"},
                                       {"five", "fifth"}, {"eight", "eighth"}, {"nine", "ninth"},
                                       {"twelve", "twelfth"}};
  char *last = strrchr(b->b, ' ');
  last = last ? last + 1 : b->b;
  for (size_t i = 0; i < sizeof IRR / sizeof IRR[0]; i++) {
    if (strcmp(last, IRR[i][0]) == 0) {
      b->n = (size_t)(last - b->b);
      b->b[b->n] = '\0';
      memcpy(b->b + b->n, IRR[i][1], strlen(IRR[i][1]) + 1);
      b->n += strlen(IRR[i][1]);
      return;
    }
  }
  size_t l = strlen(last);
  if (l > 0 && last[l - 1] == 'y') { /* twenty -> twentieth */
    b->n--;
    b->b[b->n] = '\0';
    if (b->n + 5 < sizeof b->b) {
      memcpy(b->b + b->n, "ieth", 5);
      b->n += 4;
    }
  } else if (b->n + 3 < sizeof b->b) {
    memcpy(b->b + b->n, "th", 3);
    b->n += 2;
  }
}

/* A parsed number: integer part (commas removed), optional decimals. */
typedef struct {
  uint64_t ip;
  char dec[24];
  size_t ndig; /* digits of the integer part as written */
  int commas;
} num_t;

/* 1 if p[i] is a comma with exactly three digits after it (inside [0, n)) and a digit before. */
static int thousands_at(const char *p, size_t i, size_t n) {
  if (i == 0 || i + 3 >= n || !isdigit((unsigned char)p[i - 1])) {
    return 0; /* p[i + 1..i + 3] must lie inside [0, n) */
  }
  for (size_t k = i + 1; k <= i + 3; k++) {
    if (!isdigit((unsigned char)p[k])) {
      return 0;
    }
  }
  return i + 4 >= n || !isdigit((unsigned char)p[i + 4]);
}

/* Parses digits with optional thousands commas and decimals at p; returns bytes used, 0 if none. */
static size_t parse_num(const char *p, size_t n, num_t *out) {
  memset(out, 0, sizeof *out);
  size_t i = 0;
  /* a comma belongs to the number only as a thousands separator: exactly three digits follow */
  while (i < n && (isdigit((unsigned char)p[i]) || (p[i] == ',' && thousands_at(p, i, n)))) {
    if (p[i] == ',') {
      out->commas = 1;
    } else {
      if (out->ndig >= 15) {
        return 0; /* too long for a number we say as one; read digit by digit elsewhere */
      }
      out->ip = out->ip * 10 + (uint64_t)(p[i] - '0');
      out->ndig++;
    }
    i++;
  }
  if (out->ndig == 0) {
    return 0;
  }
  if (i + 1 < n && p[i] == '.' && isdigit((unsigned char)p[i + 1])) {
    size_t k = 0;
    i++;
    while (i < n && isdigit((unsigned char)p[i]) && k + 1 < sizeof out->dec) {
      out->dec[k++] = p[i++];
    }
    out->dec[k] = '\0';
  }
  return i;
}

static void say_num(sbuf_t *b, const num_t *x, int as_year) {
  if (as_year && x->dec[0] == '\0' && !x->commas && x->ndig == 4 &&
      ((x->ip >= 1100 && x->ip <= 1999) || (x->ip >= 2000 && x->ip <= 2099))) {
    year(b, (unsigned)x->ip);
  } else {
    cardinal(b, x->ip);
  }
  if (x->dec[0]) {
    sb_add(b, "point");
    for (const char *d = x->dec; *d; d++) {
      sb_add(b, ONES[*d - '0']);
    }
  }
}

/* ---- one written word -------------------------------------------------------------------------- */

static int ieq(const char *a, size_t n, const char *b) {
  return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

typedef struct {
  const char *w, *say;
} abbr_t;

/* Matched on the whole word (lower case, its own dots included). */
static const abbr_t ABBR[] = {
    {"e.g.", "for example"}, {"i.e.", "that is"},   {"etc.", "et cetera"},
    {"vs.", "versus"},       {"vs", "versus"},      {"approx.", "approximately"},
    {"dr.", "doctor"},       {"mr.", "mister"},     {"mrs.", "missus"},
    {"ms.", "miz"},          {"jr.", "junior"},     {"sr.", "senior"},
    {"w/", "with"},          {"w/o", "without"},    {"&", "and"},
    {"+", "plus"},           {"=", "equals"},       {"%", "percent"},
    {"hrs", "hours"},        {"hr", "hour"},        {"mins", "minutes"},
    {"min.", "minutes"},     {"km", "kilometers"},  {"kg", "kilograms"},
    {"mph", "miles per hour"}, {"lbs", "pounds"},   {"a.m.", "A M"},
    {"p.m.", "P M"},         {"u.s.", "U S"},       {"u.k.", "U K"},
};

/* Units after a number: "5km" or "5 km" both read as kilometers. */
static const abbr_t UNITS[] = {
    {"km", "kilometers"}, {"kg", "kilograms"}, {"g", "grams"},     {"mg", "milligrams"},
    {"lb", "pounds"},     {"lbs", "pounds"},   {"mi", "miles"},    {"mph", "miles per hour"},
    {"h", "hours"},       {"hr", "hours"},     {"hrs", "hours"},   {"min", "minutes"},
    {"mins", "minutes"},  {"s", "seconds"},    {"ms", "milliseconds"}, {"gb", "gigabytes"},
    {"tb", "terabytes"},  {"mb", "megabytes"}, {"ghz", "gigahertz"}, {"mhz", "megahertz"},
    {"w", "watts"},       {"kw", "kilowatts"}, {"kwh", "kilowatt hours"}, {"mm", "millimeters"},
    {"cm", "centimeters"}, {"x", "times"},     {"am", "A M"},      {"pm", "P M"},
    {"k", "thousand"},    {"bn", "billion"},   {"b", "billion"},   {"m", "million"},
    {"t", "trillion"},
};

/* Code point at p (valid UTF-8), its length in *len. */
static uint32_t cp_at(const unsigned char *p, size_t n, size_t *len) {
  if (p[0] < 0x80 || n < 2) {
    *len = 1;
    return p[0];
  }
  if ((p[0] & 0xE0) == 0xC0) {
    *len = 2;
    return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if ((p[0] & 0xF0) == 0xE0 && n >= 3) {
    *len = 3;
    return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  if (n >= 4) {
    *len = 4;
    return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
           ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  *len = 1;
  return p[0];
}

/* Emoji, pictographs, dingbats, arrows and their joiners/selectors: shown, never spoken. */
static int is_pictograph(uint32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2190 && c <= 0x21FF) ||
         (c >= 0x2300 && c <= 0x23FF) || (c >= 0x2460 && c <= 0x24FF) ||
         (c >= 0x25A0 && c <= 0x27BF) || (c >= 0x2900 && c <= 0x297F) ||
         (c >= 0x2B00 && c <= 0x2BFF) || c == 0x200D || c == 0xFE0F || c == 0xFE0E ||
         c == 0x20E3 || (c >= 0xE0020 && c <= 0xE007F) || c == 0x00A9 || c == 0x00AE ||
         c == 0x2122 || c == 0x203C || c == 0x2049;
}

/* Letters or digits of any script: ASCII alphanumerics, and code points past ASCII that are not
 * punctuation or symbols (Latin-1 signs, General Punctuation, CJK punctuation, pictographs). */
static int has_word_char(const char *w, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t l = 1;
    uint32_t c = cp_at((const unsigned char *)w + i, n - i, &l);
    if (c < 0x80 ? isalnum((int)c) != 0
                 : !((c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 ||
                     (c >= 0x2000 && c <= 0x206F) || (c >= 0x20A0 && c <= 0x20CF) ||
                     (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
                     is_pictograph(c))) {
      return 1;
    }
    i += l;
  }
  return 0;
}

/* Removes pictographs from w (in place); returns the new length. */
static size_t strip_pictographs(char *w, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t l = 1;
    uint32_t c = cp_at((const unsigned char *)w + i, n - i, &l);
    if (!is_pictograph(c)) {
      memmove(w + o, w + i, l);
      o += l;
    }
    i += l;
  }
  w[o] = '\0';
  return o;
}

static int is_lead_punct(unsigned char c) {
  return c && strchr("([{\"'", c) != NULL;
}

static int is_trail_punct(unsigned char c) {
  return c && strchr(")]}\"'.,!?;:", c) != NULL;
}

/* Strips typographic quotes (“ ” ‘ ’ «») and the ellipsis at either end. */
static void strip_typo(const char **b, const char **e) {
  static const char *const Q[] = {"\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98", "\xe2\x80\x99",
                                  "\xc2\xab", "\xc2\xbb", "\xe2\x80\xa6"};
  for (int again = 1; again;) {
    again = 0;
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
      size_t l = strlen(Q[i]);
      if ((size_t)(*e - *b) >= l && memcmp(*b, Q[i], l) == 0) {
        *b += l;
        again = 1;
      }
      if ((size_t)(*e - *b) >= l && memcmp(*e - l, Q[i], l) == 0) {
        *e -= l;
        again = 1;
      }
    }
    while (*b < *e && is_lead_punct((unsigned char)**b)) {
      (*b)++;
      again = 1;
    }
    while (*e > *b && is_trail_punct((unsigned char)(*e)[-1])) {
      (*e)--;
      again = 1;
    }
  }
}

/* "https://www.example.com/x" or "example.com" -> "example dot com". 1 if it was one. */
static int say_url(sp_out_t *o, const char *w, size_t n) {
  size_t i = 0;
  int scheme = 0;
  if (n > 8 && strncasecmp(w, "https://", 8) == 0) {
    i = 8, scheme = 1;
  } else if (n > 7 && strncasecmp(w, "http://", 7) == 0) {
    i = 7, scheme = 1;
  }
  if (n - i > 4 && strncasecmp(w + i, "www.", 4) == 0) {
    i += 4, scheme = 1;
  }
  size_t h = i;
  while (h < n && w[h] != '/' && w[h] != '?' && w[h] != '#') {
    h++;
  }
  /* Without a scheme: a host with a dot and a known top-level domain, letters only around it. */
  const char *dot = memchr(w + i, '.', h - i);
  if (dot == NULL || dot == w + i) {
    return 0;
  }
  if (!scheme) {
    static const char *const TLD[] = {".com", ".org", ".net", ".io", ".dev", ".ai", ".app",
                                      ".co", ".tv", ".gov", ".edu", ".uk", ".de"};
    int ok = 0;
    for (size_t k = 0; k < sizeof TLD / sizeof TLD[0] && !ok; k++) {
      size_t l = strlen(TLD[k]);
      ok = h - i > l && strncasecmp(w + h - l, TLD[k], l) == 0;
    }
    for (size_t k = i; k < h && ok; k++) {
      ok = isalnum((unsigned char)w[k]) || w[k] == '.' || w[k] == '-';
    }
    if (!ok) {
      return 0;
    }
  }
  for (size_t a = i; a < h;) {
    size_t b = a;
    while (b < h && w[b] != '.') {
      b++;
    }
    char part[SP_MAX_WORD];
    size_t pl = 0;
    for (size_t k = a; k < b && pl + 1 < sizeof part; k++) {
      part[pl++] = w[k] == '-' ? ' ' : (char)tolower((unsigned char)w[k]);
    }
    part[pl] = '\0';
    sp_words(o, part);
    if (b < h) {
      sp_tok(o, "dot", 3);
    }
    a = b + 1;
  }
  return 1;
}

/* "#MondayMotivation" -> Monday Motivation; "@ain_team" -> at ain team. */
static int say_tag(sp_out_t *o, const char *w, size_t n) {
  if (n < 2 || (w[0] != '#' && w[0] != '@') || !isalnum((unsigned char)w[1])) {
    return 0;
  }
  if (w[0] == '@') {
    sp_tok(o, "at", 2);
  }
  char buf[SP_MAX_WORD * 2];
  size_t k = 0;
  for (size_t i = 1; i < n && k + 3 < sizeof buf; i++) {
    unsigned char c = (unsigned char)w[i];
    if (c == '_' || c == '-') {
      buf[k++] = ' ';
      continue;
    }
    if (i > 1 && isupper(c) && islower((unsigned char)w[i - 1])) {
      buf[k++] = ' ';
    }
    buf[k++] = (char)c;
  }
  buf[k] = '\0';
  sp_words(o, buf);
  return 1;
}

/* Currency symbols before a number and the words said after it. */
static const char *currency(const char *w, size_t n, size_t *len, int plural) {
  static const struct {
    const char *sym, *one, *many;
  } C[] = {{"$", "dollar", "dollars"},
           {"\xe2\x82\xac", "euro", "euros"},
           {"\xc2\xa3", "pound", "pounds"},
           {"\xc2\xa5", "yen", "yen"}};
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
    size_t l = strlen(C[i].sym);
    if (n > l && memcmp(w, C[i].sym, l) == 0) {
      *len = l;
      return plural ? C[i].many : C[i].one;
    }
  }
  return NULL;
}

static const char *unit_word(const char *u, size_t n) {
  for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++) {
    if (ieq(u, n, UNITS[i].w)) {
      /* "M" is million, "m" is meters; "B" billion; "s" seconds only in lower case */
      if (n == 1 && u[0] == 'm') {
        return "meters";
      }
      return UNITS[i].say;
    }
  }
  return NULL;
}

/* A numeric word: [-+][currency]N[suffix]([-/:–]N[suffix])*. 1 if it was one (spoken into o). */
static int say_numeric(sp_out_t *o, const char *w, size_t n) {
  sbuf_t b = {.n = 0};
  b.b[0] = '\0';
  size_t i = 0;
  int minus = 0;
  if (n > 1 && (w[0] == '-' || w[0] == '+') && (isdigit((unsigned char)w[1]) || w[1] == '$')) {
    minus = w[0] == '-' ? 1 : 2;
    i = 1;
  }
  size_t clen = 0;
  const char *cur = currency(w + i, n - i, &clen, 1);
  if (cur != NULL) {
    i += clen;
  }
  num_t nums[8];
  const char *suffix[8] = {0};
  size_t sfx_len[8] = {0};
  char seps[8] = {0};
  size_t k = 0;
  while (i < n && k < 8) {
    size_t used = parse_num(w + i, n - i, &nums[k]);
    if (used == 0) {
      return 0;
    }
    i += used;
    size_t s = i;
    while (i < n && isalpha((unsigned char)w[i])) {
      i++;
    }
    if (i < n && w[i] == '%') {
      i++;
    }
    suffix[k] = w + s;
    sfx_len[k] = i - s;
    k++;
    if (i == n) {
      break;
    }
    if (w[i] == '-' || w[i] == '/' || w[i] == ':' || w[i] == 'x') {
      seps[k] = w[i];
      i++;
    } else if (n - i >= 3 && memcmp(w + i, "\xe2\x80\x93", 3) == 0) { /* en dash */
      seps[k] = '-';
      i += 3;
    } else {
      return 0;
    }
    if (i < n && w[i] == '$') {
      i++; /* "$5-$10" */
    }
  }
  if (i != n || k == 0) {
    return 0;
  }
  if (minus == 1) {
    sb_add(&b, "minus");
  } else if (minus == 2) {
    sb_add(&b, "plus");
  }
  /* A time "5:30" or "10:05 (am)": minutes are two digits. */
  if (k == 2 && seps[1] == ':' && nums[1].ndig == 2 && nums[0].ip < 24 && nums[1].ip < 60 &&
      !nums[0].dec[0] && !nums[1].dec[0]) {
    cardinal(&b, nums[0].ip);
    if (nums[1].ip == 0) {
      sb_add(&b, "o'clock");
    } else if (nums[1].ip < 10) {
      sb_add(&b, "oh");
      sb_add(&b, ONES[nums[1].ip]);
    } else {
      cardinal(&b, nums[1].ip);
    }
    const char *u = sfx_len[1] ? unit_word(suffix[1], sfx_len[1]) : NULL;
    if (u != NULL) {
      sb_add(&b, u);
    }
    sp_words(o, b.b);
    return 1;
  }
  /* Common fractions said as fractions. */
  if (k == 2 && seps[1] == '/' && nums[0].ip >= 1 && nums[0].ip <= 3 && !sfx_len[0] &&
      !sfx_len[1] && (nums[1].ip == 2 || nums[1].ip == 3 || nums[1].ip == 4) &&
      nums[0].ip < nums[1].ip) {
    static const char *const F[5][2] = {{0}, {0}, {"half", "halves"}, {"third", "thirds"},
                                        {"quarter", "quarters"}};
    cardinal(&b, nums[0].ip);
    sb_add(&b, F[nums[1].ip][nums[0].ip > 1]);
    sp_words(o, b.b);
    return 1;
  }
  /* Two increasing numbers with a dash are a range ("5-10" five to ten); anything else is a
   * sequence said number by number ("12-3-30", "50/30/20", "24/7", "16:9", "2x3"). */
  int range = k == 2 && seps[1] == '-' && nums[1].ip > nums[0].ip;
  for (size_t j = 0; j < k; j++) {
    if (j > 0) {
      if (range) {
        sb_add(&b, "to");
      } else if (seps[j] == 'x') {
        sb_add(&b, "by");
      }
    }
    const char *sfx = suffix[j];
    size_t sl = sfx_len[j];
    int pct = sl > 0 && sfx[sl - 1] == '%';
    if (pct) {
      sl--;
    }
    int ord = sl == 2 && (ieq(sfx, 2, "st") || ieq(sfx, 2, "nd") || ieq(sfx, 2, "rd") ||
                          ieq(sfx, 2, "th"));
    int decade = sl == 1 && sfx[0] == 's' && nums[j].ndig == 4 && nums[j].ip % 10 == 0;
    say_num(&b, &nums[j], cur == NULL && k == 1 && (sl == 0 || decade) && !pct);
    if (ord) {
      ordinalise(&b);
    } else if (decade) { /* 1990s -> nineteen nineties, 1800s -> eighteen hundreds */
      if (b.n > 0 && b.b[b.n - 1] == 'y' && b.n + 3 < sizeof b.b) {
        memcpy(b.b + b.n - 1, "ies", 4);
        b.n += 2;
      } else if (b.n + 2 < sizeof b.b) {
        memcpy(b.b + b.n, "s", 2);
        b.n += 1;
      }
    } else if (sl > 0) {
      /* With a currency, a one-letter scale is a scale: $5m is five million dollars. */
      const char *u = NULL;
      if (cur != NULL && sl == 1 && strchr("kKmMbBtT", sfx[0])) {
        u = unit_word((const char[]){(char)tolower((unsigned char)sfx[0]), 0}, 1);
        if (tolower((unsigned char)sfx[0]) == 'm') {
          u = "million";
        }
      } else if (sl == 1 && (sfx[0] == 'M' || sfx[0] == 'B' || sfx[0] == 'K')) {
        u = sfx[0] == 'M' ? "million" : sfx[0] == 'B' ? "billion" : "thousand";
      } else if (sl == 2 && ieq(sfx, 2, "bn")) {
        u = "billion";
      } else {
        u = unit_word(sfx, sl);
      }
      if (u == NULL) {
        return 0; /* "3D", "4K" screen sizes...: the mixed rule reads them */
      }
      sb_add(&b, u);
    }
    if (pct) {
      sb_add(&b, "percent");
    }
  }
  if (cur != NULL) {
    /* "$1" one dollar; "$2.50" two dollars fifty (cents); "$1.5M" ... million dollars */
    int one = k == 1 && nums[0].ip == 1 && nums[0].dec[0] == '\0' && sfx_len[0] == 0;
    const char *name = currency(w + (minus ? 1 : 0), n, &clen, !one);
    if (k == 1 && sfx_len[0] == 0 && strlen(nums[0].dec) == 2) {
      b.n = 0;
      b.b[0] = '\0';
      if (minus) {
        sb_add(&b, minus == 1 ? "minus" : "plus");
      }
      cardinal(&b, nums[0].ip);
      sb_add(&b, name);
      if (strcmp(nums[0].dec, "00") != 0) {
        cardinal(&b, (uint64_t)atoi(nums[0].dec));
      }
    } else {
      sb_add(&b, name);
    }
  }
  sp_words(o, b.b);
  return 1;
}

/* Letters and digits mixed ("GPT-4", "M5", "COVID-19", "3D"): letter runs as written (short
 * all-caps runs spelled), digit runs as numbers (long ones digit by digit). */
static void say_mixed(sp_out_t *o, const char *w, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t j = i;
    if (isdigit((unsigned char)w[i])) {
      while (j < n && isdigit((unsigned char)w[j])) {
        j++;
      }
      sbuf_t b = {.n = 0};
      b.b[0] = '\0';
      if (j - i > 6) {
        for (size_t k = i; k < j; k++) {
          sb_add(&b, ONES[w[k] - '0']);
        }
      } else {
        num_t x;
        parse_num(w + i, j - i, &x);
        say_num(&b, &x, 0);
      }
      sp_words(o, b.b);
    } else if (((unsigned char)w[i]) >= 0x80 || isalpha((unsigned char)w[i]) || w[i] == '\'') {
      while (j < n && (((unsigned char)w[j]) >= 0x80 || isalpha((unsigned char)w[j]) ||
                       w[j] == '\'')) {
        j++;
      }
      int caps = 1;
      for (size_t k = i; k < j; k++) {
        caps &= isupper((unsigned char)w[k]) != 0;
      }
      if (caps && j - i >= 2 && j - i <= 4) { /* "AI", "GPU", "CEO": letter by letter */
        for (size_t k = i; k < j; k++) {
          sp_tok(o, w + k, 1);
        }
      } else {
        sp_tok(o, w + i, j - i);
      }
    } else {
      j = i + 1; /* separators (- / . _ ...) are not said */
    }
    i = j;
  }
}

/* Acronyms pronounced as words are left alone; other all-caps words of 2..4 letters are spelled. */
static int pronounceable(const char *w, size_t n) {
  static const char *const WORDS[] = {"NASA", "NATO", "LOL", "FOMO", "YOLO", "GIF", "JPEG",
                                      "SIM", "RAM", "ROM", "LED", "OK", "WOW", "OMG", "ASAP"};
  for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0]; i++) {
    if (ieq(w, n, WORDS[i]) && memcmp(w, WORDS[i], n) == 0) {
      return strcmp(WORDS[i], "OMG") != 0 && strcmp(WORDS[i], "ASAP") != 0 &&
             strcmp(WORDS[i], "OK") != 0;
    }
  }
  return 0;
}

static void say_word(sp_out_t *o, const char *word, size_t wn) {
  char w[SP_MAX_WORD];
  if (wn >= sizeof w) {
    sp_tok(o, word, wn); /* not ours to interpret */
    return;
  }
  memcpy(w, word, wn);
  w[wn] = '\0';
  wn = strip_pictographs(w, wn);
  if (wn == 0) {
    return;
  }
  /* Abbreviations are matched with their own dots, before punctuation is stripped. */
  const char *b = w, *e = w + wn;
  char tail = 0;
  while (e > b && strchr(",;:!?", e[-1]) != NULL) {
    tail = tail ? tail : e[-1];
    e--;
  }
  for (size_t i = 0; i < sizeof ABBR / sizeof ABBR[0]; i++) {
    if (ieq(b, (size_t)(e - b), ABBR[i].w)) {
      size_t first = o->n;
      sp_words(o, ABBR[i].say);
      sp_punct(o, first, tail ? tail : 0);
      return;
    }
  }
  e = w + wn;
  strip_typo(&b, &e);
  /* The punctuation that ends the word (first of its trailing run) keeps the pause. */
  tail = 0;
  for (const char *p = e; p < w + wn; p++) {
    if (strchr(".,!?;:", *p) != NULL) {
      tail = *p;
      break;
    }
  }
  size_t n = (size_t)(e - b);
  size_t first = o->n;
  if (n == 0) {
    return; /* "-", "—", "...": nothing to say */
  }
  if (!has_word_char(b, n)) {
    for (size_t i = 0; i < sizeof ABBR / sizeof ABBR[0]; i++) {
      if (ieq(b, n, ABBR[i].w)) {
        sp_words(o, ABBR[i].say);
        break;
      }
    }
    sp_punct(o, first, tail);
    return; /* other symbols ("—", "->", "|") are not read out */
  }
  if (say_url(o, b, n) || say_tag(o, b, n) || say_numeric(o, b, n)) {
    sp_punct(o, first, tail);
    return;
  }
  int digits = 0, letters = 0, plain = 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    digits |= isdigit(c) != 0;
    letters |= isalpha(c) != 0;
    plain &= isalpha(c) || c == '\'' || c >= 0x80 || (c == '-' && i > 0 && i + 1 < n);
  }
  if (plain && !digits) {
    int caps = n >= 2 && n <= 4;
    for (size_t i = 0; i < n && caps; i++) {
      caps = isupper((unsigned char)b[i]) != 0;
    }
    if (caps && !pronounceable(b, n)) {
      for (size_t i = 0; i < n; i++) {
        sp_tok(o, b + i, 1);
      }
    } else {
      /* "state-of-the-art" is said as its words */
      char t[SP_MAX_WORD];
      memcpy(t, b, n);
      t[n] = '\0';
      for (size_t i = 0; i < n; i++) {
        t[i] = t[i] == '-' ? ' ' : t[i];
      }
      sp_words(o, t);
    }
  } else {
    (void)letters;
    say_mixed(o, b, n);
  }
  sp_punct(o, first, tail);
}

/* ---- public ------------------------------------------------------------------------------------ */

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int ain_media_speech_normalise(const char *text, ain_media_speech_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (text == NULL) {
    return ain_err_field(err, AIN_EINVAL, "text", "speech: text is missing");
  }
  size_t len = strlen(text), bad = 0;
  if (!ain_utf8_valid(text, len, &bad)) {
    return ain_err_field(err, AIN_EUTF8, "text", "speech: invalid UTF-8 at byte %zu", bad);
  }
  sp_out_t o = {0};
  size_t wcap = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && is_ws(text[i])) {
      i++;
    }
    size_t j = i;
    while (j < len && !is_ws(text[j])) {
      j++;
    }
    if (j == i) {
      break;
    }
    if (out->n_written == wcap) {
      wcap = wcap ? wcap * 2 : 64;
      char **v = realloc(out->written, wcap * sizeof *v);
      if (v == NULL) {
        abort();
      }
      out->written = v;
    }
    char *wd = malloc(j - i + 1);
    if (wd == NULL) {
      abort();
    }
    memcpy(wd, text + i, j - i);
    wd[j - i] = '\0';
    o.cur_word = out->n_written;
    out->written[out->n_written++] = wd;
    say_word(&o, text + i, j - i);
    i = j;
  }
  out->spoken = o.s ? o.s : ain_strdup("");
  out->tok_off = o.off;
  out->tok_len = o.tlen;
  out->tok_word = o.word;
  out->n_tokens = o.n;
  if (out->n_tokens == 0) {
    ain_media_speech_free(out);
    return ain_err_field(err, AIN_EINVAL, "text", "speech: the text has no speakable words");
  }
  return 0;
}

void ain_media_speech_free(ain_media_speech_t *s) {
  for (size_t i = 0; i < s->n_written; i++) {
    free(s->written[i]);
  }
  free(s->written);
  free(s->spoken);
  free(s->tok_off);
  free(s->tok_len);
  free(s->tok_word);
  memset(s, 0, sizeof *s);
}

int ain_media_speech_times(const ain_media_speech_t *s, const int64_t *tok_start,
                           int64_t duration_ms, ain_media_word_t **words, size_t *n_words,
                           ain_err_t *err) {
  *words = NULL;
  *n_words = 0;
  size_t nt = s->n_tokens, nw = s->n_written;
  if (nt == 0 || nw == 0 || duration_ms <= 0) {
    return ain_err_field(err, AIN_EINVAL, "words", "speech: no tokens or no audio to time");
  }
  int64_t *ts = malloc(nt * sizeof *ts);
  int64_t *ws = malloc(nw * sizeof *ws);
  ain_media_word_t *out = calloc(nw, sizeof *out);
  if (ts == NULL || ws == NULL || out == NULL) {
    abort();
  }
  /* Known starts, kept in order (a start before its predecessor's is not trusted). */
  int64_t last = -1;
  for (size_t i = 0; i < nt; i++) {
    int64_t v = tok_start ? tok_start[i] : -1;
    ts[i] = v >= 0 && v >= last && v < duration_ms ? v : -1;
    if (ts[i] >= 0) {
      last = ts[i];
    }
  }
  /* Unknown runs are spread between their neighbours by the length of their text: a provider
   * that times only some words, or the aligner missing one, still leaves every word a slot. */
  for (size_t i = 0; i < nt;) {
    if (ts[i] >= 0) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < nt && ts[j] < 0) {
      j++;
    }
    int64_t a = i > 0 ? ts[i - 1] : 0, b = j < nt ? ts[j] : duration_ms;
    /* the token before the run also needs its share when the run starts at its own start */
    size_t from = i > 0 ? i - 1 : i;
    double total = 0;
    for (size_t k = from; k < j; k++) {
      total += (double)s->tok_len[k] + 1;
    }
    double acc = 0;
    for (size_t k = from; k < j; k++) {
      if (k >= i) {
        ts[k] = a + (int64_t)((double)(b - a) * acc / total);
      }
      acc += (double)s->tok_len[k] + 1;
    }
    i = j;
  }
  /* Written words: the start of their first token; words that say nothing share the slot of the
   * word before them (or after them, at the start). */
  for (size_t w = 0; w < nw; w++) {
    ws[w] = -1;
  }
  for (size_t i = 0; i < nt; i++) {
    if (ws[s->tok_word[i]] < 0) {
      ws[s->tok_word[i]] = ts[i];
    }
  }
  for (size_t w = 0; w < nw;) {
    if (ws[w] >= 0) {
      w++;
      continue;
    }
    size_t j = w;
    while (j < nw && ws[j] < 0) {
      j++;
    }
    size_t owner = w > 0 ? w - 1 : j; /* the voiced word whose slot is shared */
    if (owner >= nw) {
      free(ts);
      free(ws);
      free(out);
      return ain_err_field(err, AIN_EINVAL, "text", "speech: no written word is spoken");
    }
    int64_t a = ws[owner];
    size_t next = owner < w ? j : j + 1; /* first voiced word after the shared slot */
    while (next < nw && ws[next] < 0) {
      next++;
    }
    int64_t b = next < nw ? ws[next] : duration_ms;
    size_t parts = (j - w) + 1;
    size_t first = owner < w ? owner : w;
    for (size_t k = 0; k < parts; k++) {
      ws[first + k] = a + (b - a) * (int64_t)k / (int64_t)parts;
    }
    w = j;
  }
  /* Strictly increasing starts (>= 1 ms apart), ends at the next start: no gaps, no overlaps. */
  for (size_t w = 0; w < nw; w++) {
    if (w > 0 && ws[w] <= ws[w - 1]) {
      ws[w] = ws[w - 1] + 1;
    }
  }
  if (ws[nw - 1] >= duration_ms) {
    free(ts);
    free(ws);
    free(out);
    return ain_err_field(err, AIN_EINVAL, "text", "speech: %zu words do not fit %lld ms of audio",
                         nw, (long long)duration_ms);
  }
  for (size_t w = 0; w < nw; w++) {
    out[w].text = ain_strdup(s->written[w]);
    out[w].start_ms = ws[w];
    out[w].end_ms = w + 1 < nw ? ws[w + 1] : duration_ms;
  }
  free(ts);
  free(ws);
  *words = out;
  *n_words = nw;
  return 0;
}
