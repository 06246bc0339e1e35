/* ain.text.fold's core: one codepoint at a time, NFKD (compatibility decomposition, so fullwidth
 * and mathematical letters become ASCII), full Unicode case folding (ß -> ss), default ignorables
 * dropped (U+200B inside "k\u200Bill"), nonspacing and enclosing marks dropped (café -> cafe), then
 * confusables to their ASCII skeleton (lua/text_confusables.c) and canonical recomposition of what
 * is left (Hangul syllables come back whole). Working per codepoint rather than per string is what
 * lets ain.text.tokens keep exact byte spans: every output character belongs to one input
 * character. Also the input checks and the small allocation helpers the text_*.c files share.
 * Why utf8proc: a maintained library that tracks the Unicode versions, instead of hand-written
 * decomposition and case tables.
 * Relies on: utf8proc, lua/text.h. */
#include <string.h>
#include <utf8proc.h>

#include "lua/text.h"

static void push_ascii(int32_t *out, int *k, const char *a) {
  for (; *a && *k < AIN_TEXT_FOLD_MAX; a++) {
    out[(*k)++] = (unsigned char)*a;
  }
}

int ain_text_fold_cp(int32_t cp, int32_t *out) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
    return 1;
  }
  int k = 0;
  const char *a = ain_text_confusable(cp);
  if (a != NULL) {
    push_ascii(out, &k, a);
    return k;
  }
  utf8proc_int32_t buf[AIN_TEXT_FOLD_MAX];
  utf8proc_ssize_t n = utf8proc_decompose_char(
      cp, buf, AIN_TEXT_FOLD_MAX,
      UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE, NULL);
  if (n < 0 || n > AIN_TEXT_FOLD_MAX) {
    out[0] = cp; /* cannot happen for a valid scalar value; keep the character as it is */
    return 1;
  }
  int composed = 0;
  for (utf8proc_ssize_t x = 0; x < n && k < AIN_TEXT_FOLD_MAX; x++) {
    int32_t c = buf[x];
    utf8proc_category_t cat = utf8proc_category(c);
    if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME) {
      continue;
    }
    a = c < 0x80 ? NULL : ain_text_confusable(c);
    if (a != NULL) {
      push_ascii(out, &k, a);
    } else {
      out[k++] = c;
      composed |= c >= 0x80;
    }
  }
  if (composed && k > 1) {
    utf8proc_ssize_t r = utf8proc_normalize_utf32(out, k, UTF8PROC_COMPOSE);
    if (r > 0) {
      k = (int)r;
    }
  }
  return k;
}

int ain_text_check_input(const char *s, size_t n, ain_err_t *err) {
  if (n > AIN_TEXT_MAX_INPUT) {
    return ain_err_set(err, AIN_ETOOBIG,
                       "input of %zu bytes is over the limit of %zu bytes (1 MiB)", n,
                       AIN_TEXT_MAX_INPUT);
  }
  const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
  size_t off = 0;
  while (off < n) {
    if (p[off] < 0x80) {
      off++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(p + off, (utf8proc_ssize_t)(n - off), &cp);
    if (len <= 0) {
      return ain_err_set(err, AIN_EUTF8, "invalid UTF-8 at byte %zu", off + 1);
    }
    off += (size_t)len;
  }
  return 0;
}

int ain__text_reserve(const ain_text_mem_t *m, void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) {
    return 0;
  }
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need) {
    ncap *= 2;
  }
  void *np = m->fa(m->ud, *p, *cap * elem, ncap * elem);
  if (np == NULL) {
    return AIN_ENOMEM;
  }
  *p = np;
  *cap = ncap;
  return 0;
}

int ain__text_append(const ain_text_mem_t *m, ain_text_str_t *s, const char *b, size_t n) {
  if (ain__text_reserve(m, (void **)&s->p, &s->cap, s->len + n + 1, 1) != 0) {
    return AIN_ENOMEM;
  }
  memcpy(s->p + s->len, b, n);
  s->len += n;
  s->p[s->len] = '\0';
  return 0;
}

int ain__text_push_tok(const ain_text_mem_t *m, ain_text_toks_t *t, const ain_text_tok_t *tok) {
  if (ain__text_reserve(m, (void **)&t->v, &t->cap, t->n + 1, sizeof *t->v) != 0) {
    return AIN_ENOMEM;
  }
  t->v[t->n++] = *tok;
  return 0;
}

void ain_text_str_free(const ain_text_mem_t *m, ain_text_str_t *s) {
  if (s->p != NULL) {
    m->fa(m->ud, s->p, s->cap, 0);
  }
  memset(s, 0, sizeof *s);
}

void ain_text_toks_free(const ain_text_mem_t *m, ain_text_toks_t *t) {
  if (t->v != NULL) {
    m->fa(m->ud, t->v, t->cap * sizeof *t->v, 0);
  }
  ain_text_str_free(m, &t->words);
  memset(t, 0, sizeof *t);
}

int ain_text_fold(const ain_text_mem_t *m, const char *s, size_t n, ain_text_str_t *out,
                  ain_err_t *err) {
  int rc = ain_text_check_input(s, n, err);
  if (rc != 0) {
    return rc;
  }
  /* ASCII and most scripts fold to at most their own length; grow past that when needed */
  if (ain__text_reserve(m, (void **)&out->p, &out->cap, n + 1, 1) != 0) {
    goto nomem;
  }
  out->p[0] = '\0';
  const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
  size_t off = 0;
  int32_t f[AIN_TEXT_FOLD_MAX];
  while (off < n) {
    int32_t cp;
    if (p[off] < 0x80) {
      cp = p[off++];
    } else {
      off += (size_t)utf8proc_iterate(p + off, (utf8proc_ssize_t)(n - off), &cp);
    }
    int k = ain_text_fold_cp(cp, f);
    char enc[4 * AIN_TEXT_FOLD_MAX];
    size_t el = 0;
    for (int x = 0; x < k; x++) {
      el += (size_t)utf8proc_encode_char(f[x], (utf8proc_uint8_t *)enc + el);
    }
    if (ain__text_append(m, out, enc, el) != 0) {
      goto nomem;
    }
  }
  return 0;
nomem:
  return ain_err_set(err, AIN_ENOMEM, "out of memory (the call's memory budget?)");
}
