/* The embedded embedder, "hashed-ngrams" (vec.h): no model, no network, deterministic.
 * A text is cut into words (ASCII letters and digits lowercased; any byte >= 0x80 counts as a
 * letter, so other scripts stay whole words; everything else separates), a short list of English
 * function words is dropped (they make unrelated titles look alike), and each word contributes
 *  - itself, weight 2 (word unigram), and
 *  - its character 3-grams with a boundary mark on each side (" apple " -> " ap", "app", ...,
 *    "le "), weight 1, so "announce" and "announced" still share most of their features.
 * Each feature is hashed (FNV-1a 64) to a bucket and a sign (the sign halves the bias that
 * collisions add to cosines), and the vector is L2-normalised.
 * This is LEXICAL similarity: two titles that share words and word pieces are near; synonyms,
 * paraphrases without shared words and other languages are not. docs/vectors.md shows measured
 * cosines of duplicates and non-duplicates and why the planner's default threshold sits where it
 * does. Relies on: vec.h. */
#include <string.h>

#include "vec/vec.h"

#define WORD_MAX 64 /* longer words are cut: a URL or a run of digits is one feature anyway */

static const char *const STOP[] = {"a",   "an", "the",  "of",   "to",   "in",  "on", "for", "and",
                                   "or",  "by", "is",   "are",  "was",  "be",  "at", "as",  "with",
                                   "its", "it", "from", "this", "that", "new", NULL};

static int is_stop(const char *w, size_t n) {
  for (int i = 0; STOP[i] != NULL; i++) {
    if (strlen(STOP[i]) == n && memcmp(STOP[i], w, n) == 0) {
      return 1;
    }
  }
  return 0;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void add_feature(float *v, int dims, char tag, const char *p, size_t n, float w) {
  uint64_t h = fnv1a(14695981039346656037ull, &tag, 1);
  h = fnv1a(h, p, n);
  h ^= h >> 29; /* FNV's low bits are weak; mix before taking a bucket */
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  v[h % (uint64_t)dims] += (h >> 63) ? -w : w;
}

static void add_word(float *v, int dims, const char *w, size_t n) {
  add_feature(v, dims, 'w', w, n, 2.0f);
  char padded[WORD_MAX + 2];
  padded[0] = ' ';
  memcpy(padded + 1, w, n);
  padded[n + 1] = ' ';
  for (size_t i = 0; i + 3 <= n + 2; i++) {
    add_feature(v, dims, 'c', padded + i, 3, 1.0f);
  }
}

int ain_vec_hash_embed(const char *text, size_t len, float *v, int dims, ain_err_t *err) {
  memset(v, 0, (size_t)dims * sizeof *v);
  char word[WORD_MAX];
  size_t wn = 0;
  int words = 0;
  for (size_t i = 0; i <= len; i++) {
    unsigned char c = i < len ? (unsigned char)text[i] : ' ';
    int letter = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (c >= 'A' && c <= 'Z') {
      c = (unsigned char)(c - 'A' + 'a');
      letter = 1;
    }
    if (c == '\'') {
      continue; /* "Apple's" == "apples", as the planner's key does */
    }
    if (letter) {
      if (wn < WORD_MAX) {
        word[wn++] = (char)c;
      }
      continue;
    }
    if (wn > 0 && !is_stop(word, wn)) {
      add_word(v, dims, word, wn);
      words++;
    }
    wn = 0;
  }
  if (words == 0) {
    /* a title of stop words only ("The End") still has a direction: use them */
    for (size_t i = 0, s = 0; i <= len; i++) {
      unsigned char c = i < len ? (unsigned char)text[i] : ' ';
      int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!letter) {
        if (i > s && i - s <= WORD_MAX) {
          char w[WORD_MAX];
          for (size_t j = s; j < i; j++) {
            w[j - s] = (char)(text[j] >= 'A' && text[j] <= 'Z' ? text[j] - 'A' + 'a' : text[j]);
          }
          add_word(v, dims, w, i - s);
          words++;
        }
        s = i + 1;
      }
    }
  }
  if (words == 0) {
    return ain_err_field(err, AIN_EINVAL, "text", "the text has no letters or digits");
  }
  return ain_vec_normalize(v, (size_t)dims, err);
}
