/* ain.text's C core (engine/lua/text_*.c): folding Unicode text to a matching form (NFKC, case
 * folding, no diacritics, confusables to their ASCII skeleton), words with byte spans into the
 * original (leetspeak decoding, spaced-out letters joined) and spelled-out digit runs. The Lua
 * binding is lua/text.c; the Snowball stemmer lives there too.
 * Every function is linear in its input, refuses inputs over AIN_TEXT_MAX_INPUT bytes, and takes
 * its memory from the caller's allocator (the Lua host's, so scratch counts against the running
 * call's memory budget). Results are owned by the caller and freed with the matching *_free.
 * Relies on: utf8proc (decomposition, case folding, categories), core/err.h. */
#ifndef AIN_LUA_TEXT_H
#define AIN_LUA_TEXT_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Largest input any ain.text function accepts: a script is a few KB, a transcript tens of KB. */
#define AIN_TEXT_MAX_INPUT ((size_t)1 << 20)
/* Codepoints one source codepoint can fold to (U+FDFA's NFKD is 18, plus confusable expansion). */
#define AIN_TEXT_FOLD_MAX 64

/* Allocator with lua_Alloc's contract (the host's, from lua_getallocf). */
typedef struct {
  lua_Alloc fa;
  void *ud;
} ain_text_mem_t;

/* A growable byte string. */
typedef struct {
  char *p;
  size_t len, cap;
} ain_text_str_t;

/* One word: [i, j) are 0-based byte offsets into the source; its folded form is
 * words.p[w, w + wlen). altlen > 0: words.p[alt, alt + altlen) is the word with every digit read
 * as a letter, for the digits leet left alone ("fr33" -> "free", "covid19" -> "covidig"). */
typedef struct {
  size_t i, j;
  size_t w, wlen;
  size_t alt, altlen;
} ain_text_tok_t;

typedef struct {
  ain_text_tok_t *v;
  size_t n, cap;
  ain_text_str_t words;
} ain_text_toks_t;

typedef struct {
  int leet; /* decode digits and @ $ ! | used as letters */
  int join; /* join runs of 3+ spaced single characters */
} ain_text_opts_t;

/* Folds one codepoint into out (AIN_TEXT_FOLD_MAX entries); returns how many codepoints it wrote
 * (0 for a combining mark or an ignorable such as U+200B). cp must be a valid scalar value. */
int ain_text_fold_cp(int32_t cp, int32_t *out);

/* The confusables table (lua/text_confusables.c): the ASCII skeleton of cp, or NULL. */
const char *ain_text_confusable(int32_t cp);
/* 0 when the table is sorted and every skeleton is lowercase ASCII (checked by the tests). */
int ain_text_confusables_check(void);

/* Checks size and UTF-8 validity: AIN_ETOOBIG naming the limit, AIN_EUTF8 naming the 1-based byte
 * offset of the first bad sequence. */
int ain_text_check_input(const char *s, size_t n, ain_err_t *err);

/* fold(s) into out (caller frees with ain_text_str_free, also after a failure). */
int ain_text_fold(const ain_text_mem_t *m, const char *s, size_t n, ain_text_str_t *out,
                  ain_err_t *err);

/* The words of s (see docs/lua-api.md, ain.text.tokens). Caller frees out with
 * ain_text_toks_free, also after a failure. */
int ain_text_tokens(const ain_text_mem_t *m, const char *s, size_t n, const ain_text_opts_t *o,
                    ain_text_toks_t *out, ain_err_t *err);

/* Digit runs of s, spelled out or not ("five five five, oh one" -> 55501): each result's word is
 * the digits. Caller frees out with ain_text_toks_free, also after a failure. */
int ain_text_numbers(const ain_text_mem_t *m, const char *s, size_t n, ain_text_toks_t *out,
                     ain_err_t *err);

void ain_text_str_free(const ain_text_mem_t *m, ain_text_str_t *s);
void ain_text_toks_free(const ain_text_mem_t *m, ain_text_toks_t *t);

/* Internal helpers shared by the text_*.c files. */
int ain__text_reserve(const ain_text_mem_t *m, void **p, size_t *cap, size_t need, size_t elem);
int ain__text_append(const ain_text_mem_t *m, ain_text_str_t *s, const char *b, size_t n);
int ain__text_push_tok(const ain_text_mem_t *m, ain_text_toks_t *t, const ain_text_tok_t *tok);

#endif
