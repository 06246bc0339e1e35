/* The speech recogniser's model for one script: an ARPA trigram language model of the script's
 * sentences plus a small background vocabulary, and the pronunciation dictionary cut down to
 * those words. A general English model hears espeak-ng voices badly (word error rate ~0.9 on our
 * personas, 7 s of CPU for 18 s of speech); a model of the script itself hears them well (0.1 to
 * 0.3) in a second. The background words (common words, and what espeak says for characters it
 * cannot read: "chinese letter", "symbol") carry a tenth of the probability, so audio that says
 * something else is heard as something else rather than forced onto the script.
 * Blocking file I/O: callers run it on the thread pool.
 * Relies on: core/err, core/util, the CMU dictionary format ("word PH O NE S", "word(2) ..."). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/media.h"

/* Words the recogniser may hear although the script does not say them. */
static const char *const k_background[] = {
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "up", "down", "out", "about", "into", "over", "is", "are", "was", "were", "be",
    "been", "it", "its", "this", "that", "these", "those", "i", "you", "he", "she", "we", "they",
    "me", "him", "her", "us", "them", "my", "your", "his", "our", "their", "what", "who", "how",
    "when", "where", "why", "which", "all", "some", "no", "not", "yes", "so", "if", "then",
    "than", "there", "here", "now", "do", "did", "does", "have", "has", "had", "can", "will",
    "would", "could", "should", "may", "get", "got", "go", "come", "make", "made", "take",
    "give", "say", "said", "see", "look", "know", "think", "want", "like", "love", "hate",
    "kill", "die", "dead", "death", "gun", "guns", "shoot", "knife", "bomb", "war", "fight",
    "police", "money", "cash", "free", "buy", "sell", "win", "lose", "new", "old", "good",
    "bad", "big", "small", "great", "little", "best", "worst", "man", "men", "woman", "women",
    "child", "children", "kid", "kids", "people", "world", "life", "time", "day", "night",
    "year", "home", "work", "school", "city", "country", "water", "food", "one", "two", "three",
    "four", "five", "six", "seven", "eight", "nine", "ten", "hundred", "thousand", "million",
    "percent", "dollar", "dollars", "chinese", "japanese", "letter", "letters", "symbol",
    "character", "slash", "dot", "com", "hash", "tag", "okay", "oh", "hey", "hello", "please",
    "thanks", "sorry", "follow", "like", "subscribe", "link", "click", "call", "number",
};

#define BACKGROUND_MASS 0.1 /* share of unigram probability for background-only words */
#define DISCOUNT 0.8        /* n-gram probability kept for seen continuations */
#define BACKOFF (-0.69897)  /* log10(1 - DISCOUNT): the rest goes to the lower order */

/* ---- words ------------------------------------------------------------------------------------ */

typedef struct {
  char **v;
  int *sent; /* sentence index of each word */
  size_t n, cap;
} wordv_t;

static void wv_push(wordv_t *w, const char *s, size_t len, int sent) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    char **v = realloc(w->v, cap * sizeof *v);
    int *st = realloc(w->sent, cap * sizeof *st);
    if (v == NULL || st == NULL) {
      abort();
    }
    w->v = v;
    w->sent = st;
    w->cap = cap;
  }
  char *c = malloc(len + 1);
  if (c == NULL) {
    abort();
  }
  memcpy(c, s, len);
  c[len] = '\0';
  w->v[w->n] = c;
  w->sent[w->n++] = sent;
}

static void wv_free(wordv_t *w) {
  for (size_t i = 0; i < w->n; i++) {
    free(w->v[i]);
  }
  free(w->v);
  free(w->sent);
  memset(w, 0, sizeof *w);
}

/* Latin-1 supplement letters (U+00C0..U+00FF, UTF-8 C3 80..C3 BF) -> their ASCII base letter;
 * 0 for the two that are not letters (multiplication and division signs). */
static char latin1_base(unsigned char second) {
  static const char map[] = "aaaaaaaceeeeiiiidnooooo0ouuuuyts"  /* C3 80..C3 9F */
                            "aaaaaaaceeeeiiiidnooooo0ouuuuyty"; /* C3 A0..C3 BF */
  char c = map[(second - 0x80) & 63];
  return c == '0' ? 0 : c;
}

static const char *const k_ones[] = {"zero",    "one",     "two",       "three",    "four",
                                     "five",    "six",     "seven",     "eight",    "nine",
                                     "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                     "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const k_tens[] = {"", "", "twenty", "thirty", "forty",
                                     "fifty", "sixty", "seventy", "eighty", "ninety"};

static void spell_below_1000(wordv_t *w, unsigned v, int sent) {
  if (v >= 100) {
    wv_push(w, k_ones[v / 100], strlen(k_ones[v / 100]), sent);
    wv_push(w, "hundred", 7, sent);
    v %= 100;
    if (v == 0) {
      return;
    }
  }
  if (v >= 20) {
    wv_push(w, k_tens[v / 10], strlen(k_tens[v / 10]), sent);
    v %= 10;
    if (v == 0) {
      return;
    }
  }
  wv_push(w, k_ones[v], strlen(k_ones[v]), sent);
}

/* "30" -> thirty, "2026" -> two thousand twenty six; over six digits: digit by digit (how espeak
 * reads long numbers is its own business; these words only help the recogniser). */
static void spell_number(wordv_t *w, const char *d, size_t len, int sent) {
  while (len > 1 && *d == '0') {
    d++;
    len--;
  }
  if (len > 6) {
    for (size_t i = 0; i < len; i++) {
      wv_push(w, k_ones[d[i] - '0'], strlen(k_ones[d[i] - '0']), sent);
    }
    return;
  }
  unsigned v = 0;
  for (size_t i = 0; i < len; i++) {
    v = v * 10 + (unsigned)(d[i] - '0');
  }
  if (v == 0) {
    wv_push(w, "zero", 4, sent);
    return;
  }
  if (v >= 1000) {
    spell_below_1000(w, v / 1000, sent);
    wv_push(w, "thousand", 8, sent);
    v %= 1000;
  }
  if (v > 0) {
    spell_below_1000(w, v, sent);
  }
}

/* Script -> folded words with their sentence index. Sentences end at . ! ? ; : and line breaks;
 * a run of letters and a run of digits are separate words ("M5" -> m five). */
static void script_words(const char *s, wordv_t *out) {
  char buf[128];
  size_t n = 0;
  int digits = 0, sent = 0;
  for (const unsigned char *p = (const unsigned char *)s;; p++) {
    int c = *p, kind = 0; /* 1 letter, 2 digit */
    char letter = 0;
    if (isalpha(c)) {
      kind = 1;
      letter = (char)tolower(c);
    } else if (isdigit(c)) {
      kind = 2;
    } else if (c == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF && (letter = latin1_base(p[1])) != 0) {
      kind = 1;
      p++;
    } else if (c == '\'' && n > 0 && !digits && isalpha(p[1]) && n + 2 < sizeof buf) {
      buf[n++] = '\''; /* "don't" is in the dictionary as don't */
      continue;
    } else if (c == 0xE2 && p[1] == 0x80 && p[2] == 0x99 && n > 0 && !digits && isalpha(p[3]) &&
               n + 2 < sizeof buf) {
      buf[n++] = '\''; /* ’ */
      p += 2;
      continue;
    }
    int ends_word = kind == 0 || (n > 0 && (kind == 2) != digits) || n + 1 >= sizeof buf;
    if (ends_word && n > 0) {
      if (digits) {
        spell_number(out, buf, n, sent);
      } else {
        wv_push(out, buf, n, sent);
      }
      n = 0;
    }
    if (kind != 0) {
      buf[n++] = kind == 1 ? letter : (char)c;
      digits = kind == 2;
      continue;
    }
    if (c == 0) {
      break;
    }
    if (strchr(".!?;:\n", c) != NULL && out->n > 0 && out->sent[out->n - 1] == sent) {
      sent++;
    }
  }
}

/* ---- vocabulary: open addressing, string -> id ------------------------------------------------ */

typedef struct {
  char **names;  /* by id */
  double *count; /* script occurrences (unigram counts) */
  int *bg;       /* 1 if a background word */
  int *known;    /* 1 if the dictionary has it */
  size_t n, cap;
  int *slots; /* id + 1, 0 = empty */
  size_t nslots;
} vocab_t;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  }
  return h;
}

static void vocab_grow_slots(vocab_t *v) {
  size_t ns = v->nslots ? v->nslots * 2 : 256;
  int *slots = calloc(ns, sizeof *slots);
  if (slots == NULL) {
    abort();
  }
  for (size_t id = 0; id < v->n; id++) {
    size_t i = hash_str(v->names[id]) & (ns - 1);
    while (slots[i] != 0) {
      i = (i + 1) & (ns - 1);
    }
    slots[i] = (int)id + 1;
  }
  free(v->slots);
  v->slots = slots;
  v->nslots = ns;
}

/* The id of name (len bytes), -1 if absent. */
static int vocab_find(const vocab_t *v, const char *name, size_t len) {
  if (v->nslots == 0) {
    return -1;
  }
  char key[256];
  if (len >= sizeof key) {
    return -1;
  }
  memcpy(key, name, len);
  key[len] = '\0';
  for (size_t i = hash_str(key) & (v->nslots - 1); v->slots[i] != 0; i = (i + 1) & (v->nslots - 1)) {
    if (strcmp(v->names[v->slots[i] - 1], key) == 0) {
      return v->slots[i] - 1;
    }
  }
  return -1;
}

static int vocab_add(vocab_t *v, const char *name) {
  int id = vocab_find(v, name, strlen(name));
  if (id >= 0) {
    return id;
  }
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 128;
    v->names = realloc(v->names, cap * sizeof *v->names);
    v->count = realloc(v->count, cap * sizeof *v->count);
    v->bg = realloc(v->bg, cap * sizeof *v->bg);
    v->known = realloc(v->known, cap * sizeof *v->known);
    if (v->names == NULL || v->count == NULL || v->bg == NULL || v->known == NULL) {
      abort();
    }
    v->cap = cap;
  }
  if ((v->n + 1) * 2 > v->nslots) {
    vocab_grow_slots(v);
  }
  id = (int)v->n++;
  v->names[id] = ain_strdup(name);
  v->count[id] = 0;
  v->bg[id] = 0;
  v->known[id] = 0;
  size_t i = hash_str(name) & (v->nslots - 1);
  while (v->slots[i] != 0) {
    i = (i + 1) & (v->nslots - 1);
  }
  v->slots[i] = id + 1;
  return id;
}

static void vocab_free(vocab_t *v) {
  for (size_t i = 0; i < v->n; i++) {
    free(v->names[i]);
  }
  free(v->names);
  free(v->count);
  free(v->bg);
  free(v->known);
  free(v->slots);
}

/* ---- n-grams ---------------------------------------------------------------------------------- */

typedef struct {
  int w[3];
  double c;
} gram_t;

static int gram_cmp(const void *a, const void *b) {
  const gram_t *x = a, *y = b;
  for (int i = 0; i < 3; i++) {
    if (x->w[i] != y->w[i]) {
      return x->w[i] < y->w[i] ? -1 : 1;
    }
  }
  return 0;
}

/* Sorts and merges equal n-grams, summing counts; returns the new length. */
static size_t gram_unique(gram_t *g, size_t n) {
  if (n == 0) {
    return 0;
  }
  qsort(g, n, sizeof *g, gram_cmp);
  size_t k = 0;
  for (size_t i = 1; i < n; i++) {
    if (gram_cmp(&g[k], &g[i]) == 0) {
      g[k].c += g[i].c;
    } else {
      g[++k] = g[i];
    }
  }
  return k + 1;
}

/* ---- the dictionary --------------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len, ain_err_t *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    ain_err_field(err, AIN_EIO, "asr_model_dir",
                  "inspect: cannot open the pronunciation dictionary %s (Debian package "
                  "pocketsphinx-en-us)",
                  path);
    return NULL;
  }
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 65536 + 1 > cap) {
      cap = cap ? cap * 2 : 1 << 20;
      char *b = realloc(buf, cap);
      if (b == NULL) {
        abort();
      }
      buf = b;
    }
    size_t r = fread(buf + n, 1, 65536, f);
    n += r;
    if (r < 65536) {
      break;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    ain_err_set(err, AIN_EIO, "inspect: reading %s failed", path);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Copies the dictionary lines of vocabulary words into out and marks them known. */
static int cut_dictionary(vocab_t *v, const char *dict_path, FILE *out, ain_err_t *err) {
  size_t len = 0;
  char *d = read_all(dict_path, &len, err);
  if (d == NULL) {
    return err->code;
  }
  for (char *line = d; line < d + len;) {
    char *eol = memchr(line, '\n', (size_t)(d + len - line));
    if (eol == NULL) {
      eol = d + len;
    }
    size_t klen = 0;
    while (line + klen < eol && line[klen] != ' ' && line[klen] != '\t' && line[klen] != '(') {
      klen++;
    }
    int id = vocab_find(v, line, klen);
    if (id >= 0) {
      v->known[id] = 1;
      fwrite(line, 1, (size_t)(eol - line), out);
      fputc('\n', out);
    }
    line = eol + 1;
  }
  free(d);
  return 0;
}

/* ---- the model -------------------------------------------------------------------------------- */

static void write_arpa(FILE *f, const vocab_t *v, const gram_t *bi, size_t nbi, const gram_t *tri,
                       size_t ntri, double total, size_t nbg) {
  /* History counts: how often each word (bigrams) or pair (trigrams) is followed by anything. */
  double *h1 = calloc(v->n, sizeof *h1);
  if (h1 == NULL) {
    abort();
  }
  for (size_t i = 0; i < nbi; i++) {
    h1[bi[i].w[0]] += bi[i].c;
  }
  size_t nuni = 0;
  for (size_t i = 0; i < v->n; i++) {
    nuni += v->known[i] || i < 2;
  }
  fprintf(f, "\\data\\\nngram 1=%zu\nngram 2=%zu\nngram 3=%zu\n\n\\1-grams:\n", nuni, nbi, ntri);
  for (size_t i = 0; i < v->n; i++) {
    if (!v->known[i] && i >= 2) {
      continue;
    }
    double p = total > 0 ? (1.0 - (nbg ? BACKGROUND_MASS : 0)) * v->count[i] / total : 0;
    if (v->bg[i] && nbg > 0) {
      p += BACKGROUND_MASS / (double)nbg;
    }
    if (i == 0) { /* <s> is never predicted */
      fprintf(f, "-99 %s %.4f\n", v->names[i], BACKOFF);
    } else {
      fprintf(f, "%.4f %s %.4f\n", log10(p > 0 ? p : 1e-9), v->names[i], BACKOFF);
    }
  }
  fprintf(f, "\n\\2-grams:\n");
  for (size_t i = 0; i < nbi; i++) {
    double p = DISCOUNT * bi[i].c / h1[bi[i].w[0]];
    fprintf(f, "%.4f %s %s %.4f\n", log10(p), v->names[bi[i].w[0]], v->names[bi[i].w[1]], BACKOFF);
  }
  fprintf(f, "\n\\3-grams:\n");
  /* Trigrams are sorted by their history pair: sum each run for the denominator. */
  for (size_t i = 0; i < ntri;) {
    size_t j = i;
    double h = 0;
    while (j < ntri && tri[j].w[0] == tri[i].w[0] && tri[j].w[1] == tri[i].w[1]) {
      h += tri[j++].c;
    }
    for (size_t k = i; k < j; k++) {
      fprintf(f, "%.4f %s %s %s\n", log10(DISCOUNT * tri[k].c / h), v->names[tri[k].w[0]],
              v->names[tri[k].w[1]], v->names[tri[k].w[2]]);
    }
    i = j;
  }
  fprintf(f, "\n\\end\\\n");
  free(h1);
}

int ain_media_asr_model(const char *script_text, const char *dict_path, const char *lm_path,
                        const char *dic_path, size_t *model_words, char **oov, ain_err_t *err) {
  int rc = 0;
  wordv_t words = {0};
  vocab_t v = {0};
  gram_t *bi = NULL, *tri = NULL;
  FILE *lm = NULL, *dic = NULL;
  char *oovs = NULL;
  *oov = NULL;
  *model_words = 0;
  if (script_text == NULL) {
    return ain_err_field(err, AIN_EINVAL, "script_text", "inspect: no script text for the ASR model");
  }
  script_words(script_text, &words);
  vocab_add(&v, "<s>");
  vocab_add(&v, "</s>");
  /* vocab_add may grow (realloc) v's arrays: take the index first, then index them. */
  for (size_t i = 0; i < words.n; i++) {
    int id = vocab_add(&v, words.v[i]);
    v.count[id] += 1;
  }
  for (size_t i = 0; i < sizeof k_background / sizeof k_background[0]; i++) {
    int id = vocab_add(&v, k_background[i]);
    v.bg[id] = 1;
  }
  dic = fopen(dic_path, "w");
  if (dic == NULL) {
    rc = ain_err_set(err, AIN_EIO, "inspect: cannot write %s", dic_path);
    goto fail;
  }
  if ((rc = cut_dictionary(&v, dict_path, dic, err)) != 0) {
    goto fail;
  }
  v.known[0] = v.known[1] = 1;
  /* Sentences of known words; unknown ones are left out (and reported). */
  size_t cap_oov = 1;
  for (size_t i = 0; i < words.n; i++) {
    cap_oov += strlen(words.v[i]) + 1;
  }
  oovs = calloc(cap_oov, 1);
  /* Each word adds one bigram and one trigram, each sentence one more of each (its </s>). */
  size_t cap_grams = 2 * words.n + 4;
  bi = calloc(cap_grams, sizeof *bi);
  tri = calloc(cap_grams, sizeof *tri);
  if (oovs == NULL || bi == NULL || tri == NULL) {
    abort();
  }
  size_t nbi = 0, ntri = 0, nknown = 0;
  double total = 0;
  int prev2 = -1, prev1 = 0, cur_sent = -1;
  for (size_t i = 0; i <= words.n; i++) {
    int id = -1;
    if (i < words.n) {
      id = vocab_find(&v, words.v[i], strlen(words.v[i]));
      if (!v.known[id]) {
        if (v.count[id] >= 0) { /* first time: report it; -1 marks it reported */
          strcat(oovs, oovs[0] ? " " : "");
          strcat(oovs, words.v[i]);
          v.count[id] = -1;
        }
        continue;
      }
    }
    int new_sent = i == words.n || words.sent[i] != cur_sent;
    if (new_sent && cur_sent >= 0 && prev1 != 0) { /* close the sentence: ... w </s> */
      bi[nbi++] = (gram_t){{prev1, 1, -1}, 1};
      if (prev2 >= 0) {
        tri[ntri++] = (gram_t){{prev2, prev1, 1}, 1};
      }
      v.count[1] += 1;
      total += 1;
    }
    if (i == words.n) {
      break;
    }
    if (new_sent) {
      cur_sent = words.sent[i];
      prev2 = -1;
      prev1 = 0; /* <s> */
    }
    bi[nbi++] = (gram_t){{prev1, id, -1}, 1};
    if (prev2 >= 0) {
      tri[ntri++] = (gram_t){{prev2, prev1, id}, 1};
    }
    prev2 = prev1;
    prev1 = id;
    total += 1;
    nknown++;
  }
  /* Unknown words counted above never reach the model. */
  for (size_t i = 2; i < v.n; i++) {
    if (!v.known[i]) {
      v.count[i] = 0;
    }
  }
  nbi = gram_unique(bi, nbi);
  ntri = gram_unique(tri, ntri);
  size_t nbg_known = 0;
  for (size_t i = 0; i < v.n; i++) {
    nbg_known += v.bg[i] && v.known[i];
  }
  lm = fopen(lm_path, "w");
  if (lm == NULL) {
    rc = ain_err_set(err, AIN_EIO, "inspect: cannot write %s", lm_path);
    goto fail;
  }
  write_arpa(lm, &v, bi, nbi, tri, ntri, total, nbg_known);
  if (ferror(lm) || ferror(dic)) {
    rc = ain_err_set(err, AIN_EIO, "inspect: writing the ASR model failed");
    goto fail;
  }
  *model_words = nknown;
  *oov = oovs;
  oovs = NULL;
fail:
  if (lm != NULL && fclose(lm) != 0 && rc == 0) {
    rc = ain_err_set(err, AIN_EIO, "inspect: writing %s failed", lm_path);
  }
  if (dic != NULL && fclose(dic) != 0 && rc == 0) {
    rc = ain_err_set(err, AIN_EIO, "inspect: writing %s failed", dic_path);
  }
  if (rc != 0) {
    free(*oov);
    *oov = NULL;
  }
  free(oovs);
  free(bi);
  free(tri);
  vocab_free(&v);
  wv_free(&words);
  return rc;
}
