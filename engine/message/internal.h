/* Private to engine/message/: the raw reader, the tree rules and the checks shared by the parser
 * and the emitters. */
#ifndef AIN_MESSAGE_INTERNAL_H
#define AIN_MESSAGE_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "message/task.h"

/* message_raw.c */
/* "null", "boolean", "number", "string", "array", "object". */
const char *ain__message_json_type_name(const cJSON *v);
/* Size (when message is set: AIN_MESSAGE_MAX), UTF-8, U+0000, control characters and nesting
 * checks on the raw bytes, then the parse of exactly one JSON value; a message must be an object.
 * Errors name the top-level key the fault sits in, else start with `what`. Returns the root
 * (caller: cJSON_Delete) or NULL with err set. */
cJSON *ain__message_parse_raw(const char *json, size_t len, const char *what, int message,
                              ain_err_t *err);
/* End of the JSON value starting at s[start] (for splitting a batch). */
size_t ain__message_value_end(const char *s, size_t len, size_t start);
/* Where the value of top-level member `key` lies in the raw text of a parsed object: 1 and
 * [*start, *end), or 0. */
int ain__message_raw_member(const char *s, size_t len, const char *key, size_t *start,
                            size_t *end);

/* message.c */
/* 1 if s[0..n) is an error code: "E" then 1-31 of A-Z, 0-9 or "_". */
int ain__message_errcode_valid(const char *s, size_t n);
/* Byte length of the longest prefix of s holding at most max UTF-8 characters. */
size_t ain__message_utf8_prefix(const char *s, size_t max);
/* Checks a free-form value (payload, result) at path, recursively: no object repeats a key (JSON
 * parsers disagree on which copy wins) and every number is finite as a double (1e999 would reach
 * Lua as inf, which cjson cannot write back). 0 or AIN_ESCHEMA naming the inner path
 * ("payload.a[2].b"). The depth is already bounded by AIN_MESSAGE_DEPTH_MAX. */
int ain__message_check_tree(const cJSON *v, const char *path, ain_err_t *err);
/* Frees the strings a parsed task owns and zeroes them. */
void ain__message_task_strings_free(ain_task_t *t);

#endif
