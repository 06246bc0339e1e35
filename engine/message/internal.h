/* Private to engine/message/: checks shared by the parser and the emitters. */
#ifndef AIN_MESSAGE_INTERNAL_H
#define AIN_MESSAGE_INTERNAL_H

#include <stddef.h>

#include "message/task.h"

/* 1 if s[0..n) is an error code: "E" then 1-31 of A-Z, 0-9 or "_". */
int ain__message_errcode_valid(const char *s, size_t n);
/* Byte length of the longest prefix of s holding at most max UTF-8 characters. */
size_t ain__message_utf8_prefix(const char *s, size_t max);
/* Frees the strings a parsed task owns and zeroes them. */
void ain__message_task_strings_free(ain_task_t *t);

#endif
