/* Where invalid UTF-8 is, said so a person can find it: a text's line and column (policy sources),
 * a JSON document's field path (what a policy returns). The byte-level validator is
 * ain_utf8_valid (core/util.h); these only run once it has said no, so valid input costs one pass.
 * Relies on: core/util.h, core/err.h, cJSON (to walk a document's strings). */
#ifndef AIN_CORE_UTF8_H
#define AIN_CORE_UTF8_H

#include <stddef.h>

#include "core/err.h"

typedef struct {
  size_t offset;      /* byte offset of the first invalid sequence */
  size_t line;        /* 1-based */
  size_t column;      /* 1-based, in characters of that line */
  unsigned char byte; /* the first byte that is wrong */
} ain_utf8_pos_t;

/* 1 if text[0..len) is valid UTF-8. Otherwise 0 and *pos (may be NULL) says where it is not. */
int ain_utf8_locate(const char *text, size_t len, ain_utf8_pos_t *pos);

/* A copy of text[0..len) that a text column takes: every byte of an invalid UTF-8 sequence and
 * every NUL is written as the four characters \xNN. NUL-terminated; *out_len (may be NULL) gets
 * its length. Caller frees. For keeping a rejected policy source on record (Postgres refuses
 * such bytes in text). */
char *ain_utf8_escape_invalid(const char *text, size_t len, size_t *out_len);

/* Checks every key and string value of the JSON document json[0..len) (bytes that are not
 * UTF-8 pass through JSON encoders untouched). 0 when all are valid UTF-8; otherwise AIN_EUTF8
 * with err->field the path of the first bad one, written from `root` in Lua's terms
 * ("result.title", "result.items[2].name", 1-based like the table that was returned, odd keys as
 * ["..."] with bad bytes as \xNN) and err->msg "<path>: invalid UTF-8 at byte N of the string".
 * A document that does not parse is not this function's business: AIN_EUTF8 naming `root`. */
int ain_utf8_json_check(const char *json, size_t len, const char *root, ain_err_t *err);

#endif
