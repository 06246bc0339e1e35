/* ain.text.tokens' core: the words of a UTF-8 string with their byte spans in the original.
 * Three passes over "units" (one per source codepoint: its byte span, its fold, its class):
 *   1. which units are part of a word: letters and digits; an apostrophe between word characters
 *      ("don't" -> dont); with leet, @ ! | between word characters and $ before a letter
 *      ("h@te", "k!ll", "$uicide"), except the @ of an e-mail address (a@b.com stays a, b, com);
 *   2. words = maximal runs of those (marks and zero-width characters inside or at the end of a
 *      word belong to it, so the span of a decomposed "café" covers its accent);
 *   3. with join, 3+ one-character words separated only by spaces or one of . - _ * · on a line
 *      ("H y p e", "k.i.l.l") become one word (a wider gap inside the run splits it: "z e r o
 *      r i s k" is two words); then leet decoding of digits and symbols.
 * Leet decodes digits only where they stand for letters: a digit group between letters ("k1ll",
 * "n4z1", "l33t") or a single leading digit before 4+ letters ("1diot"); numbers ("2024") and
 * numbers with a unit ("10k", "5am", "2nd", "covid19", "mp3") stay as they are. Trailing ! is
 * punctuation ("wow!"), not an i.
 * Everything is linear: each unit is visited a bounded number of times.
 * Relies on: utf8proc (categories, encoding), lua/text_fold.c (ain_text_fold_cp). */
#include <string.h>
#include <utf8proc.h>

#include "lua/text.h"

enum { U_WORD, U_SPACE, U_NL, U_APOS, U_SEP, U_LEET, U_EMPTY, U_OTHER };

/* How far $ @ ! | look ahead through other symbols for the letter they must reach ("$$$hit"). */
#define LEET_LOOKAHEAD 4

typedef struct {
  uint32_t si, sj; /* source bytes [si, sj) */
  uint32_t fo;     /* folded word characters in the unit buffer */
  uint16_t flen;
  uint8_t cls;
  uint8_t letter; /* a word unit with a letter in it (or a symbol read as one) */
  uint8_t ok;     /* part of a word */
  char sym;       /* the ASCII character of an apostrophe, separator or leet symbol */
} unit_t;

typedef struct {
  const ain_text_mem_t *m;
  unit_t *u;
  size_t nu, ucap;
  ain_text_str_t f; /* folded word characters of every unit */
  uint8_t *gap;     /* per token: width of the gap before it in units, 0 when it stops a join */
  size_t gcap;
} tk_t;

static int is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Class of one folded codepoint; *letter for letters, *sym for the ASCII punctuation we track. */
static int class_of(int32_t c, uint8_t *letter, char *sym) {
  *letter = 0;
  *sym = 0;
  if (c < 0x80) {
    if (is_alpha(c)) {
      *letter = 1;
      return U_WORD;
    }
    if (c >= '0' && c <= '9') {
      return U_WORD;
    }
    switch (c) {
    case '\n':
      return U_NL;
    case ' ':
    case '\t':
    case '\r':
    case '\v':
    case '\f':
      return U_SPACE;
    case '\'':
      *sym = '\'';
      return U_APOS;
    case '.':
    case '-':
    case '_':
    case '*':
      *sym = (char)c;
      return U_SEP;
    case '@':
    case '$':
    case '!':
    case '|':
      *sym = (char)c;
      return U_LEET;
    default:
      return U_OTHER;
    }
  }
  switch (c) {
  case 0x00B7: /* middle dot and its look-alikes: "k·i·l·l" */
  case 0x2022:
  case 0x2027:
  case 0x2219:
  case 0x22C5:
  case 0x30FB:
    *sym = '.';
    return U_SEP;
  case 0x0085:
  case 0x2028:
  case 0x2029:
    return U_NL;
  default:
    break;
  }
  switch (utf8proc_category(c)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
    *letter = 1;
    return U_WORD;
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
  case UTF8PROC_CATEGORY_MC: /* spacing marks are part of the word (Devanagari vowel signs) */
    return U_WORD;
  case UTF8PROC_CATEGORY_ZS:
    return U_SPACE;
  case UTF8PROC_CATEGORY_ZL:
  case UTF8PROC_CATEGORY_ZP:
    return U_NL;
  default:
    return U_OTHER;
  }
}

/* Pass 0: one unit per source codepoint. s is valid UTF-8 (checked by the caller). Both buffers
 * are sized up front for the common case (one unit and at most one folded byte per input byte)
 * so the ASCII path below is a table lookup and a byte copy. */
static int build_units(tk_t *t, const char *s, size_t n) {
  const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
  size_t cps = 0;
  for (size_t x = 0; x < n; x++) {
    cps += (p[x] & 0xC0) != 0x80;
  }
  if (ain__text_reserve(t->m, (void **)&t->u, &t->ucap, cps + 1, sizeof *t->u) != 0 ||
      ain__text_reserve(t->m, (void **)&t->f.p, &t->f.cap, n + 1, 1) != 0) {
    return AIN_ENOMEM;
  }
  size_t off = 0;
  int32_t f[AIN_TEXT_FOLD_MAX];
  while (off < n) {
    unit_t *u = &t->u[t->nu++]; /* cps units reserved */
    memset(u, 0, sizeof *u);
    u->si = (uint32_t)off;
    u->fo = (uint32_t)t->f.len;
    if (p[off] < 0x80) {
      char c = (char)p[off++];
      u->sj = (uint32_t)off;
      u->cls = (uint8_t)class_of((unsigned char)c, &u->letter, &u->sym);
      if (u->cls == U_WORD) {
        if (u->letter && c <= 'Z') {
          c = (char)(c + ('a' - 'A'));
        }
        if (ain__text_append(t->m, &t->f, &c, 1) != 0) {
          return AIN_ENOMEM;
        }
        u->flen = 1;
      }
      continue;
    }
    int32_t cp;
    off += (size_t)utf8proc_iterate(p + off, (utf8proc_ssize_t)(n - off), &cp);
    u->sj = (uint32_t)off;
    int k = ain_text_fold_cp(cp, f);
    if (k == 0) {
      u->cls = U_EMPTY;
      continue;
    }
    uint8_t letter;
    char sym;
    int cls = class_of(f[0], &letter, &sym);
    int words = 0, any_letter = 0;
    for (int x = 0; x < k; x++) {
      uint8_t l;
      char sy;
      if (class_of(f[x], &l, &sy) == U_WORD) {
        words++;
        any_letter |= l;
      }
    }
    if (words > 0) {
      /* a ligature or "⑴" -> (1): its word characters make the unit a word unit */
      cls = U_WORD;
      letter = (uint8_t)any_letter;
      char enc[4 * AIN_TEXT_FOLD_MAX];
      size_t el = 0;
      for (int x = 0; x < k; x++) {
        uint8_t l;
        char sy;
        if (class_of(f[x], &l, &sy) == U_WORD) {
          el += (size_t)utf8proc_encode_char(f[x], (utf8proc_uint8_t *)enc + el);
        }
      }
      if (ain__text_append(t->m, &t->f, enc, el) != 0) {
        return AIN_ENOMEM;
      }
      u->flen = (uint16_t)el;
    }
    u->cls = (uint8_t)cls;
    u->letter = letter;
    u->sym = sym;
  }
  return 0;
}

/* The next unit after k that is not empty (a mark, a zero-width character), or nu. */
static size_t next_solid(const tk_t *t, size_t k) {
  for (k++; k < t->nu && t->u[k].cls == U_EMPTY; k++) {
  }
  return k;
}

/* After the @ at k: letters, then "." and a letter, as in user@example.com. Stops at the first
 * unit that is neither, so each @ scans only its own host part. */
static int email_after(const tk_t *t, size_t k) {
  size_t x = next_solid(t, k);
  while (x < t->nu && t->u[x].cls == U_WORD) {
    x = next_solid(t, x);
  }
  if (x >= t->nu || t->u[x].cls != U_SEP || t->u[x].sym != '.') {
    return 0;
  }
  x = next_solid(t, x);
  return x < t->nu && t->u[x].cls == U_WORD && t->u[x].letter;
}

/* Pass 1: marks the units that are part of a word. */
static void mark_words(tk_t *t, int leet) {
  size_t prev = (size_t)-1; /* the last solid unit */
  for (size_t k = 0; k < t->nu; k++) {
    unit_t *u = &t->u[k];
    if (u->cls == U_EMPTY) {
      continue;
    }
    int pok = prev != (size_t)-1 && t->u[prev].ok;
    int pletter = pok && t->u[prev].letter;
    if (u->cls == U_WORD) {
      u->ok = 1;
    } else if (u->cls == U_APOS) {
      size_t nx = next_solid(t, k);
      u->ok = pok && nx < t->nu && t->u[nx].cls == U_WORD;
    } else if (u->cls == U_LEET && leet) {
      size_t nx = next_solid(t, k);
      for (int hop = 0; hop < LEET_LOOKAHEAD && nx < t->nu && t->u[nx].cls == U_LEET; hop++) {
        nx = next_solid(t, nx);
      }
      int reaches = nx < t->nu && t->u[nx].cls == U_WORD;
      int nletter = reaches && t->u[nx].letter;
      if (u->sym == '$') {
        u->ok = nletter;
      } else {
        u->ok = pok && reaches && (pletter || nletter);
        if (u->ok && u->sym == '@' && email_after(t, k)) {
          u->ok = 0;
        }
      }
      u->letter = u->ok; /* it reads as a letter */
    }
    prev = k;
  }
}

static int is_single_char(const ain_text_str_t *words, const ain_text_tok_t *tok) {
  if (tok->wlen == 0 || tok->wlen > 4) {
    return 0;
  }
  size_t chars = 0;
  for (size_t x = 0; x < tok->wlen; x++) {
    chars += ((unsigned char)words->p[tok->w + x] & 0xC0) != 0x80;
  }
  return chars == 1;
}

/* Pass 2: the words, and per word whether the gap before it allows a join. */
static int collect(tk_t *t, ain_text_toks_t *out) {
  int seps = 0, spaces = 0, bad = 0;
  size_t k = 0;
  while (k < t->nu) {
    unit_t *u = &t->u[k];
    if (!u->ok) {
      if (u->cls == U_SEP) {
        seps++;
      } else if (u->cls == U_SPACE) {
        spaces++;
      } else if (u->cls != U_EMPTY) {
        bad = 1;
      }
      k++;
      continue;
    }
    ain_text_tok_t tok = {.i = u->si, .w = out->words.len};
    while (k < t->nu && (t->u[k].ok || t->u[k].cls == U_EMPTY)) {
      const unit_t *x = &t->u[k];
      if (x->ok && x->cls == U_WORD) {
        if (ain__text_append(t->m, &out->words, t->f.p + x->fo, x->flen) != 0) {
          return AIN_ENOMEM;
        }
      } else if (x->ok && x->cls == U_LEET) {
        if (ain__text_append(t->m, &out->words, &x->sym, 1) != 0) {
          return AIN_ENOMEM;
        }
      }
      tok.j = x->sj;
      k++;
    }
    tok.wlen = out->words.len - tok.w;
    if (ain__text_reserve(t->m, (void **)&t->gap, &t->gcap, out->n + 1, 1) != 0 ||
        ain__text_push_tok(t->m, out, &tok) != 0) {
      return AIN_ENOMEM;
    }
    int width = seps + spaces > 255 ? 255 : seps + spaces;
    t->gap[out->n - 1] = (uint8_t)(!bad && seps <= 1 ? width : 0);
    seps = spaces = bad = 0;
  }
  return 0;
}

/* Pass 3a: runs of 3+ single characters become one word. Within a run every gap is at most as
 * wide as its first, so words spaced out with wider gaps between them stay apart. */
static int join_singles(tk_t *t, ain_text_toks_t *out) {
  size_t o = 0, a = 0;
  while (a < out->n) {
    if (is_single_char(&out->words, &out->v[a])) {
      size_t b = a;
      /* a gap wider than the run's first one is a word break: "z e r o   r i s k" */
      while (b + 1 < out->n && t->gap[b + 1] != 0 && (b == a || t->gap[b + 1] <= t->gap[a + 1]) &&
             is_single_char(&out->words, &out->v[b + 1])) {
        b++;
      }
      if (b - a + 1 >= 3) {
        ain_text_tok_t tok = {.i = out->v[a].i, .j = out->v[b].j, .w = out->words.len};
        for (size_t x = a; x <= b; x++) {
          /* words.p may move while it grows: copy through a small buffer */
          char c[4];
          memcpy(c, out->words.p + out->v[x].w, out->v[x].wlen);
          if (ain__text_append(t->m, &out->words, c, out->v[x].wlen) != 0) {
            return AIN_ENOMEM;
          }
        }
        tok.wlen = out->words.len - tok.w;
        out->v[o++] = tok;
        a = b + 1;
        continue;
      }
    }
    out->v[o++] = out->v[a++];
  }
  out->n = o;
  return 0;
}

static char leet_letter(char c) {
  switch (c) {
  case '0':
    return 'o';
  case '1':
    return 'i';
  case '3':
    return 'e';
  case '4':
    return 'a';
  case '5':
    return 's';
  case '7':
    return 't';
  case '8':
    return 'b';
  case '9':
    return 'g';
  case '@':
    return 'a';
  case '$':
    return 's';
  case '!':
    return 'i';
  case '|':
    return 'l';
  default:
    return c;
  }
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int letterish(char c) {
  return is_alpha((unsigned char)c) || c == '@' || c == '$' || c == '!' || c == '|';
}

/* Pass 3b: decodes one word in place (every substitution is one byte for one byte). */
static void decode_leet(char *w, size_t len) {
  int digits = 0;
  for (size_t x = 0; x < len && !digits; x++) {
    if (!is_digit(w[x])) {
      continue;
    }
    size_t y = x;
    while (y < len && is_digit(w[y])) {
      y++;
    }
    int before = x > 0 && letterish(w[x - 1]);
    int after = y < len && letterish(w[y]);
    if (before && after) {
      digits = 1; /* k1ll, n4z1, l33t */
    } else if (x == 0 && y == 1 && len >= 5 && letterish(w[1]) && letterish(w[2]) &&
               letterish(w[3]) && letterish(w[4])) {
      digits = 1; /* 1diot */
    }
    x = y;
  }
  for (size_t x = 0; x < len; x++) {
    if (digits || !is_digit(w[x])) {
      w[x] = leet_letter(w[x]);
    }
  }
}

/* Sets tok's alternative when digits are left next to letters ("fr33", "a55"). */
static int add_alt(const ain_text_mem_t *m, ain_text_toks_t *out, ain_text_tok_t *tok) {
  const char *w = out->words.p + tok->w;
  int letters = 0, digits = 0;
  for (size_t x = 0; x < tok->wlen; x++) {
    letters |= is_alpha((unsigned char)w[x]);
    digits |= is_digit(w[x]);
  }
  if (!letters || !digits) {
    return 0;
  }
  if (ain__text_reserve(m, (void **)&out->words.p, &out->words.cap, out->words.len + tok->wlen + 1,
                        1) != 0) {
    return AIN_ENOMEM;
  }
  w = out->words.p + tok->w; /* the buffer may have moved */
  char *a = out->words.p + out->words.len;
  for (size_t x = 0; x < tok->wlen; x++) {
    a[x] = is_digit(w[x]) ? leet_letter(w[x]) : w[x];
  }
  tok->alt = out->words.len;
  tok->altlen = tok->wlen;
  out->words.len += tok->wlen;
  out->words.p[out->words.len] = '\0';
  return 0;
}

int ain_text_tokens(const ain_text_mem_t *m, const char *s, size_t n, const ain_text_opts_t *o,
                    ain_text_toks_t *out, ain_err_t *err) {
  int rc = ain_text_check_input(s, n, err);
  if (rc != 0) {
    return rc;
  }
  tk_t t = {.m = m};
  if (build_units(&t, s, n) != 0) {
    goto nomem;
  }
  mark_words(&t, o->leet);
  if (collect(&t, out) != 0) {
    goto nomem;
  }
  if (o->join && join_singles(&t, out) != 0) {
    goto nomem;
  }
  if (o->leet) {
    for (size_t x = 0; x < out->n; x++) {
      decode_leet(out->words.p + out->v[x].w, out->v[x].wlen);
      if (add_alt(m, out, &out->v[x]) != 0) {
        goto nomem;
      }
    }
  }
  rc = 0;
  goto done;
nomem:
  rc = ain_err_set(err, AIN_ENOMEM, "out of memory (the call's memory budget?)");
done:
  if (t.u != NULL) {
    m->fa(m->ud, t.u, t.ucap * sizeof *t.u, 0);
  }
  if (t.gap != NULL) {
    m->fa(m->ud, t.gap, t.gcap, 0);
  }
  ain_text_str_free(m, &t.f);
  return rc;
}
