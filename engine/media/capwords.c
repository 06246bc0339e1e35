/* Caption words as written, timed by the speech. The voice speaks a text of its own (numbers
 * spelled out, emoji dropped, names respelled) and its word events do not follow the script's
 * spaces: espeak-ng reports "12-3-30" as "12", "-", "3" and sometimes starts a word event inside
 * the previous word ("in a row;" came out as "i n"). Captions must show every word of the script,
 * in order, as written; so the script's own whitespace tokens are the caption words and the
 * spoken words only give the times:
 *   1. each token and each spoken word gets a key: its letters and digits, lower case (ASCII);
 *      tokens without any (an emoji, "—") ride with the token before them;
 *   2. tokens and spoken words with equal keys are matched in order (longest common subsequence):
 *      each match pins a token's onset to the spoken word's onset;
 *   3. between two pins, where the keys joined up are the same string on both sides ("12-3-30"
 *      vs "12" "3" "30"), every spoken word pins the token holding its first character;
 *   4. where they differ, the gap's first token starts with its first spoken word and a later
 *      spoken word pins the token at the same relative place in the gap's letters (snap);
 *   5. any other token gets its onset by linear interpolation over its position in the key text
 *      between the pins around it ("12-3-30" spoken as "twelve three thirty").
 * Relies on: core/err, media.h. */
#include <stdlib.h>
#include <string.h>

#include "media/internal.h"

/* Above this many token x word cells the LCS would cost too much memory: interpolate only. */
#define LCS_MAX_CELLS (4u * 1024u * 1024u)

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Letters and digits of s (ASCII lower-cased; other letters kept as their bytes), symbols out. */
static char *key_of(const char *s, size_t len) {
  char *k = malloc(len + 1);
  if (k == NULL) {
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
        k[n++] = (char)c;
      } else if (c >= 'A' && c <= 'Z') {
        k[n++] = (char)(c - 'A' + 'a');
      }
      i++;
      continue;
    }
    size_t cl = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + cl > len) {
      cl = len - i;
    }
    uint32_t cp = 0;
    if (cl == 2) {
      cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
    } else if (cl == 3) {
      cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    } else if (cl == 4) {
      cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
           ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
    }
    /* symbols and punctuation are not words: Latin-1 punctuation, general punctuation to the
     * misc-symbol blocks, CJK punctuation, variation selectors, fullwidth punctuation, emoji */
    int symbol = (cp >= 0xA0 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
                 (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
                 (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
                 (cp >= 0xFF1A && cp <= 0xFF20) || ain__media_cp_is_emoji(cp) ||
                 (cp >= 0x1F3FB && cp <= 0x1F3FF) || cp >= 0xE0000 || cl == 1;
    if (!symbol) {
      memcpy(k + n, s + i, cl);
      n += cl;
    }
    i += cl;
  }
  k[n] = '\0';
  return k;
}

typedef struct {
  size_t b, e; /* bytes of the token in the text (with the key-less tokens that ride on it) */
  char *key;
  size_t pos;  /* offset of its key in the joined key text */
  int64_t t;   /* onset; -1 = not pinned yet */
} tok_t;

static void toks_free(tok_t *t, size_t n) {
  for (size_t i = 0; t != NULL && i < n; i++) {
    free(t[i].key);
  }
  free(t);
}

/* Whitespace tokens of text, key-less ones merged into their neighbour. */
static int tokenise(const char *text, tok_t **out, size_t *n_out) {
  size_t len = strlen(text), cap = 16, n = 0;
  tok_t *t = malloc(cap * sizeof *t);
  size_t pending_b = SIZE_MAX; /* key-less tokens before the first keyed one */
  if (t == NULL) {
    return -1;
  }
  for (size_t i = 0; i < len;) {
    while (i < len && is_space(text[i])) {
      i++;
    }
    if (i == len) {
      break;
    }
    size_t b = i;
    while (i < len && !is_space(text[i])) {
      i++;
    }
    char *k = key_of(text + b, i - b);
    if (k == NULL) {
      toks_free(t, n);
      return -1;
    }
    if (k[0] == '\0') {
      free(k);
      if (n > 0) {
        t[n - 1].e = i;
      } else if (pending_b == SIZE_MAX) {
        pending_b = b;
      }
      continue;
    }
    if (n == cap) {
      tok_t *p = realloc(t, (cap *= 2) * sizeof *t);
      if (p == NULL) {
        free(k);
        toks_free(t, n);
        return -1;
      }
      t = p;
    }
    t[n] = (tok_t){.b = pending_b != SIZE_MAX ? pending_b : b, .e = i, .key = k, .t = -1};
    pending_b = SIZE_MAX;
    n++;
  }
  *out = t;
  *n_out = n;
  return 0;
}

/* A gap whose letters differ on the two sides: its first token starts with its first spoken word,
 * and a later spoken word pins the token at about the same relative place in the gap's letters
 * (within a fifth of the gap). espeak-ng reports "in a row;" as events at "i" and at "n", the
 * second being the onset of "a row": by letters it sits half way, where "row;" is. */
static void snap(tok_t *tk, size_t gi, size_t ti, size_t kt, char **sk,
                 const ain_media_word_t *sp, size_t gj, size_t tj, size_t ks) {
  tk[gi].t = sp[gj].start_ms;
  size_t last = gi, so = strlen(sk[gj]);
  for (size_t w = gj + 1; w < tj; w++) {
    size_t wl = strlen(sk[w]);
    if (wl == 0 || ks == 0 || kt == 0) {
      continue;
    }
    double rel = (double)so / (double)ks, best = 0.2;
    size_t pick = SIZE_MAX, to = strlen(tk[gi].key);
    for (size_t a = gi + 1; a < ti; a++) {
      double d = (double)to / (double)kt - rel;
      d = d < 0 ? -d : d;
      if (a > last && d < best) {
        best = d;
        pick = a;
      }
      to += strlen(tk[a].key);
    }
    if (pick != SIZE_MAX && tk[pick].t < 0) {
      tk[pick].t = sp[w].start_ms;
      last = pick;
    }
    so += wl;
  }
}

/* Pins matched tokens (LCS on equal keys) and fills gaps whose joined keys agree. */
static int pin(tok_t *tk, size_t nt, char **sk, const ain_media_word_t *sp, size_t ns) {
  if (nt == 0 || ns == 0 || (size_t)nt * ns > LCS_MAX_CELLS) {
    return 0;
  }
  size_t W = ns + 1;
  uint16_t *L = calloc((nt + 1) * W, sizeof *L);
  if (L == NULL) {
    return -1;
  }
  for (size_t i = nt; i-- > 0;) {
    for (size_t j = ns; j-- > 0;) {
      uint16_t *c = &L[i * W + j];
      if (sk[j][0] != '\0' && strcmp(tk[i].key, sk[j]) == 0) {
        *c = (uint16_t)(L[(i + 1) * W + j + 1] + 1);
      } else {
        uint16_t a = L[(i + 1) * W + j], b = L[i * W + j + 1];
        *c = a > b ? a : b;
      }
    }
  }
  /* walk the matches; between consecutive ones (and the ends) try the joined-key fill */
  size_t i = 0, j = 0, gi = 0, gj = 0;
  for (;;) {
    int at_end = i == nt || j == ns;
    int match = !at_end && sk[j][0] != '\0' && strcmp(tk[i].key, sk[j]) == 0 &&
                L[i * W + j] == L[(i + 1) * W + j + 1] + 1;
    if (at_end || match) {
      size_t ti = at_end ? nt : i, tj = at_end ? ns : j;
      /* gap tokens [gi, ti) and spoken words [gj, tj): same letters on both sides? */
      size_t kt = 0, ks = 0;
      for (size_t a = gi; a < ti; a++) {
        kt += strlen(tk[a].key);
      }
      for (size_t a = gj; a < tj; a++) {
        ks += strlen(sk[a]);
      }
      int same = kt == ks;
      if (ti > gi && tj > gj && kt != ks) {
        snap(tk, gi, ti, kt, sk, sp, gj, tj, ks);
      }
      if (ti > gi && tj > gj && kt == ks) {
        size_t a = gi, ao = 0;
        for (size_t w = gj; w < tj && same; w++) {
          for (const char *c = sk[w]; *c && same; c++) {
            while (a < ti && tk[a].key[ao] == '\0') {
              a++;
              ao = 0;
            }
            same = a < ti && tk[a].key[ao] == *c;
            ao++;
          }
        }
        if (same) {
          a = gi;
          size_t off = 0;
          for (size_t w = gj; w < tj; w++) {
            while (a < ti && off >= strlen(tk[a].key)) {
              off -= strlen(tk[a].key);
              a++;
            }
            if (a < ti && off == 0 && tk[a].t < 0 && sk[w][0] != '\0') {
              tk[a].t = sp[w].start_ms;
            }
            off += strlen(sk[w]);
          }
        }
      }
      if (at_end) {
        break;
      }
      tk[i].t = sp[j].start_ms;
      i++;
      j++;
      gi = i;
      gj = j;
    } else if (L[(i + 1) * W + j] >= L[i * W + j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  free(L);
  return 0;
}

int ain_media_caption_words(const char *text, const ain_media_word_t *spoken, size_t n_spoken,
                            ain_media_word_t **out, size_t *n_out, ain_err_t *err) {
  *out = NULL;
  *n_out = 0;
  tok_t *tk = NULL;
  size_t nt = 0;
  char **sk = NULL;
  ain_media_word_t *w = NULL;
  int rc = 0;
  if (text == NULL || (n_spoken > 0 && spoken == NULL)) {
    return ain_err_field(err, AIN_EINVAL, "text", "caption words: no script text");
  }
  for (size_t j = 0; j < n_spoken; j++) {
    if (spoken[j].text == NULL || spoken[j].end_ms <= spoken[j].start_ms ||
        (j > 0 && spoken[j].start_ms < spoken[j - 1].start_ms)) {
      return ain_err_field(err, AIN_EINVAL, "words",
                           "caption words: spoken word %zu has no text or times out of order", j);
    }
  }
  if (tokenise(text, &tk, &nt) != 0) {
    goto oom;
  }
  if (nt == 0 || n_spoken == 0) {
    goto done; /* nothing to show, or nothing spoken to time it by */
  }
  sk = calloc(n_spoken, sizeof *sk);
  if (sk == NULL) {
    goto oom;
  }
  for (size_t j = 0; j < n_spoken; j++) {
    if ((sk[j] = key_of(spoken[j].text, strlen(spoken[j].text))) == NULL) {
      goto oom;
    }
  }
  if (pin(tk, nt, sk, spoken, n_spoken) != 0) {
    goto oom;
  }
  /* key offsets, then interpolation between pins; the ends are the speech's start and end */
  size_t total = 0;
  for (size_t i = 0; i < nt; i++) {
    tk[i].pos = total;
    total += strlen(tk[i].key);
  }
  int64_t t0 = spoken[0].start_ms, t_end = spoken[n_spoken - 1].end_ms;
  if (tk[0].t < 0) {
    tk[0].t = t0;
  }
  for (size_t i = 1; i < nt;) {
    if (tk[i].t >= 0) {
      i++;
      continue;
    }
    size_t a = i - 1, b = i;
    while (b < nt && tk[b].t < 0) {
      b++;
    }
    int64_t ta = tk[a].t, tb = b < nt ? tk[b].t : t_end;
    size_t pa = tk[a].pos, pb = b < nt ? tk[b].pos : total;
    for (size_t k = i; k < b; k++) {
      tk[k].t = pb > pa ? ta + (tb - ta) * (int64_t)(tk[k].pos - pa) / (int64_t)(pb - pa) : ta;
    }
    i = b;
  }
  w = calloc(nt, sizeof *w);
  if (w == NULL) {
    goto oom;
  }
  for (size_t i = 0; i < nt; i++) {
    w[i].text = malloc(tk[i].e - tk[i].b + 1);
    if (w[i].text == NULL) {
      *n_out = i;
      *out = w;
      ain_media_words_free(*out, *n_out);
      w = NULL;
      goto oom;
    }
    memcpy(w[i].text, text + tk[i].b, tk[i].e - tk[i].b);
    w[i].text[tk[i].e - tk[i].b] = '\0';
    /* onsets strictly increasing (1 ms apart at least) and before the end of the speech */
    int64_t s = tk[i].t;
    if (i > 0 && s <= w[i - 1].start_ms) {
      s = w[i - 1].start_ms + 1;
    }
    w[i].start_ms = s;
  }
  for (size_t i = nt; i-- > 0;) {
    int64_t end = i + 1 < nt ? w[i + 1].start_ms : t_end;
    if (w[i].start_ms >= end) {
      w[i].start_ms = end - 1;
    }
    w[i].end_ms = end;
  }
  if (w[0].start_ms < 0) {
    rc = ain_err_field(err, AIN_EINVAL, "words",
                       "caption words: %zu words do not fit %lld ms of speech", nt,
                       (long long)(t_end - t0));
    ain_media_words_free(w, nt);
    w = NULL;
    goto done;
  }
  *out = w;
  *n_out = nt;
  goto done;
oom:
  rc = ain_err_set(err, AIN_ENOMEM, "caption words: no memory");
done:
  if (sk != NULL) {
    for (size_t j = 0; j < n_spoken; j++) {
      free(sk[j]);
    }
    free(sk);
  }
  toks_free(tk, nt);
  return rc;
}

void ain_media_words_free(ain_media_word_t *w, size_t n) {
  for (size_t i = 0; w != NULL && i < n; i++) {
    free(w[i].text);
  }
  free(w);
}
