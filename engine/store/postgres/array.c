/* Postgres array literals ('{"a",NULL,"b\"c"}') for batch parameters.
 *
 * FINISH of plain successes sends its items as parallel arrays (ids, versions, results, details)
 * that the server unnests, instead of one JSON document it must lex and unpack field by field
 * (bench/pgfinish/run.sh: 12.8 -> 11.2 µs of server time per task, docs/benchmarks.md).
 *
 * Relies on: internal.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static void arr_reserve(ain__pg_array_t *a, size_t more) {
  if (a->oom || a->len + more + 2 <= a->cap) {
    return;
  }
  size_t cap = a->cap ? a->cap : 64;
  while (cap < a->len + more + 2) {
    cap *= 2;
  }
  char *s = realloc(a->s, cap);
  if (s == NULL) {
    a->oom = 1;
    return;
  }
  a->s = s;
  a->cap = cap;
}

static void arr_sep(ain__pg_array_t *a) {
  arr_reserve(a, 1);
  if (!a->oom) {
    a->s[a->len++] = a->n++ == 0 ? '{' : ',';
  }
}

void ain__pg_array_text(ain__pg_array_t *a, const char *v) {
  arr_sep(a);
  if (v == NULL || *v == '\0') {
    arr_reserve(a, 4);
    if (!a->oom) {
      memcpy(a->s + a->len, "NULL", 4);
      a->len += 4;
    }
    return;
  }
  size_t n = strlen(v);
  arr_reserve(a, 2 * n + 2); /* every byte escaped, in the worst case, plus the quotes */
  if (a->oom) {
    return;
  }
  a->s[a->len++] = '"';
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '"' || v[i] == '\\') {
      a->s[a->len++] = '\\';
    }
    a->s[a->len++] = v[i];
  }
  a->s[a->len++] = '"';
}

void ain__pg_array_i64(ain__pg_array_t *a, int64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRId64, v);
  arr_sep(a);
  arr_reserve(a, (size_t)n);
  if (!a->oom) {
    memcpy(a->s + a->len, buf, (size_t)n);
    a->len += (size_t)n;
  }
}

char *ain__pg_array_take(ain__pg_array_t *a) {
  if (a->n == 0) {
    arr_reserve(a, 1);
    if (!a->oom) {
      a->s[a->len++] = '{';
    }
  }
  arr_reserve(a, 1);
  if (a->oom) {
    free(a->s);
    memset(a, 0, sizeof *a);
    return NULL;
  }
  a->s[a->len++] = '}';
  a->s[a->len] = '\0';
  char *s = a->s;
  memset(a, 0, sizeof *a);
  return s;
}

void ain__pg_array_free(ain__pg_array_t *a) {
  free(a->s);
  memset(a, 0, sizeof *a);
}
