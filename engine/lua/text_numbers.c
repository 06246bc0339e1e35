/* ain.text.numbers' core: runs of digits written as words or as digits, merged across short
 * separators, so a phone number spelled out to evade a pattern ("five five five, zero one three
 * two", "555 oh one 32", "double five") reads as its digits (5550132) with the byte span it covers.
 * Words: zero..nineteen, twenty..ninety (with a following one..nine: "fifty five" -> 55),
 * hundred/thousand after a digit (appending 00/000), double/triple before a digit, and "oh"/"o"
 * as 0 only between other digits (a leading or trailing "oh" is an interjection, not a digit).
 * Runs are built from ain_text_tokens' words (no leet, no join), so the folding is the same.
 * Relies on: lua/text_tokens.c. */
#include <string.h>

#include "lua/text.h"

/* Most bytes between two items of one run: ", " or " - " or ") " but not a sentence. */
#define NUM_MAX_GAP 6

/* Whether source bytes [a, b) may separate two items of one run: short, and only spaces and the
 * punctuation phone numbers are written with (a ";" or a line break ends the run). */
static int gap_joins(const char *s, size_t a, size_t b) {
  if (b - a > NUM_MAX_GAP) {
    return 0;
  }
  for (size_t x = a; x < b; x++) {
    if (strchr(" \t,.-()/+*_", s[x]) == NULL || s[x] == '\0') {
      return 0;
    }
  }
  return 1;
}

enum { K_NONE, K_RAW, K_DIGIT, K_WEAK, K_TEEN, K_TENS, K_ZEROS, K_TIMES };

typedef struct {
  const char *word;
  int kind;
  const char *digits; /* K_ZEROS: the zeros; K_TIMES: "2" or "3" */
} numword_t;

static const numword_t WORDS[] = {
    {"zero", K_DIGIT, "0"},     {"one", K_DIGIT, "1"},        {"two", K_DIGIT, "2"},
    {"three", K_DIGIT, "3"},    {"four", K_DIGIT, "4"},       {"five", K_DIGIT, "5"},
    {"six", K_DIGIT, "6"},      {"seven", K_DIGIT, "7"},      {"eight", K_DIGIT, "8"},
    {"nine", K_DIGIT, "9"},     {"oh", K_WEAK, "0"},          {"o", K_WEAK, "0"},
    {"ten", K_TEEN, "10"},      {"eleven", K_TEEN, "11"},     {"twelve", K_TEEN, "12"},
    {"thirteen", K_TEEN, "13"}, {"fourteen", K_TEEN, "14"},   {"fifteen", K_TEEN, "15"},
    {"sixteen", K_TEEN, "16"},  {"seventeen", K_TEEN, "17"},  {"eighteen", K_TEEN, "18"},
    {"nineteen", K_TEEN, "19"}, {"twenty", K_TENS, "2"},      {"thirty", K_TENS, "3"},
    {"forty", K_TENS, "4"},     {"fifty", K_TENS, "5"},       {"sixty", K_TENS, "6"},
    {"seventy", K_TENS, "7"},   {"eighty", K_TENS, "8"},      {"ninety", K_TENS, "9"},
    {"hundred", K_ZEROS, "00"}, {"thousand", K_ZEROS, "000"}, {"double", K_TIMES, "2"},
    {"triple", K_TIMES, "3"},
};

/* The kind of a word; *digits the digits it stands for. */
static int kind_of(const char *w, size_t len, const char **digits) {
  size_t x = 0;
  while (x < len && w[x] >= '0' && w[x] <= '9') {
    x++;
  }
  if (len > 0 && x == len) {
    *digits = NULL;
    return K_RAW;
  }
  for (size_t k = 0; k < sizeof WORDS / sizeof WORDS[0]; k++) {
    if (strlen(WORDS[k].word) == len && memcmp(WORDS[k].word, w, len) == 0) {
      *digits = WORDS[k].digits;
      return WORDS[k].kind;
    }
  }
  return K_NONE;
}

typedef struct {
  const ain_text_mem_t *m;
  const ain_text_toks_t *words;
  ain_text_toks_t *out;
  ain_text_str_t value; /* the run's digits so far */
  size_t strong_len;    /* value's length up to its last digit that is not a weak "oh" */
  size_t i, j;          /* span of the run's first and last strong item */
  int started;
} run_t;

static const char *word_of(const run_t *r, size_t k) {
  return r->words->words.p + r->words->v[k].w;
}

static int add(run_t *r, size_t k, const char *d, size_t len, int strong) {
  if (!strong && !r->started) {
    return 0; /* a leading "oh" */
  }
  if (ain__text_append(r->m, &r->value, d, len) != 0) {
    return AIN_ENOMEM;
  }
  if (strong) {
    if (!r->started) {
      r->i = r->words->v[k].i;
      r->started = 1;
    }
    r->strong_len = r->value.len;
    r->j = r->words->v[k].j;
  }
  return 0;
}

/* Ends the run: pushes its digits (without trailing weak zeros) when it has any. */
static int finish(run_t *r) {
  int rc = 0;
  if (r->started && r->strong_len > 0) {
    ain_text_tok_t tok = {.i = r->i, .j = r->j, .w = r->out->words.len, .wlen = r->strong_len};
    if (ain__text_append(r->m, &r->out->words, r->value.p, r->strong_len) != 0 ||
        ain__text_push_tok(r->m, r->out, &tok) != 0) {
      rc = AIN_ENOMEM;
    }
  }
  r->value.len = 0;
  r->strong_len = 0;
  r->started = 0;
  return rc;
}

int ain_text_numbers(const ain_text_mem_t *m, const char *s, size_t n, ain_text_toks_t *out,
                     ain_err_t *err) {
  ain_text_toks_t words = {0};
  ain_text_opts_t o = {.leet = 0, .join = 0};
  int rc = ain_text_tokens(m, s, n, &o, &words, err);
  if (rc != 0) {
    goto done;
  }
  run_t r = {.m = m, .words = &words, .out = out};
  for (size_t k = 0; k < words.n && rc == 0; k++) {
    const char *d;
    int kind = kind_of(word_of(&r, k), words.v[k].wlen, &d);
    /* does item k continue the run item k-1 was in? */
    if (kind == K_NONE || (k > 0 && !gap_joins(s, words.v[k - 1].j, words.v[k].i))) {
      rc = finish(&r);
      if (kind == K_NONE || rc != 0) {
        continue;
      }
    }
    const char *nd = NULL;
    int next = K_NONE;
    if (k + 1 < words.n && gap_joins(s, words.v[k].j, words.v[k + 1].i)) {
      next = kind_of(word_of(&r, k + 1), words.v[k + 1].wlen, &nd);
    }
    switch (kind) {
    case K_RAW:
      rc = add(&r, k, word_of(&r, k), words.v[k].wlen, 1);
      break;
    case K_DIGIT:
    case K_TEEN:
      rc = add(&r, k, d, strlen(d), 1);
      break;
    case K_WEAK:
      rc = add(&r, k, d, 1, 0);
      break;
    case K_TENS:
      if (next == K_DIGIT && nd[0] != '0') { /* fifty five */
        char two[2] = {d[0], nd[0]};
        rc = add(&r, k, two, 2, 1);
        if (rc == 0) {
          rc = add(&r, k + 1, "", 0, 1);
        }
        k++;
      } else {
        char two[2] = {d[0], '0'};
        rc = add(&r, k, two, 2, 1);
      }
      break;
    case K_ZEROS:
      if (r.started) { /* "eight hundred"; a bare "hundred" is no digit */
        rc = add(&r, k, d, strlen(d), 1);
      } else {
        rc = finish(&r);
      }
      break;
    case K_TIMES:
      if ((next == K_DIGIT || next == K_WEAK) ||
          (next == K_RAW && words.v[k + 1].wlen == 1)) { /* double five, double oh, double 5 */
        const char *one = next == K_RAW ? word_of(&r, k + 1) : nd;
        char rep[3] = {one[0], one[0], one[0]};
        rc = add(&r, k, rep, (size_t)(d[0] - '0'), 1);
        if (rc == 0) {
          rc = add(&r, k + 1, "", 0, 1);
        }
        k++;
      } else {
        rc = finish(&r);
      }
      break;
    default:
      break;
    }
  }
  if (rc == 0) {
    rc = finish(&r);
  }
  ain_text_str_free(m, &r.value);
  if (rc != 0) {
    rc = ain_err_set(err, AIN_ENOMEM, "out of memory (the call's memory budget?)");
  }
done:
  ain_text_toks_free(m, &words);
  return rc;
}
