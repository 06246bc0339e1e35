/* HTTP Range requests on one representation (RFC 9110 §14): the Range header parsed on its own
 * (pure: unit-tested with the nasty cases), then resolved against the object's size once a worker
 * knows it. Only the "bytes" unit; one range is served as 206, several as 200 with the whole body
 * (RFC 9110 §14.2 lets a server ignore Range, and a player asks for one range at a time).
 * Numbers past 2^64-1 saturate: a first-pos that large is unsatisfiable, a last-pos that large
 * means "to the end", a suffix that large means "all of it".
 * Relies on: internal.h (the types). */
#include <string.h>

#include "api/internal.h"

static int ows(char c) {
  return c == ' ' || c == '\t';
}

/* Digits at s[*i..n) into *out (saturating); 0 if there is none. */
static int digits(const char *s, size_t n, size_t *i, uint64_t *out) {
  size_t start = *i;
  uint64_t v = 0;
  while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
    unsigned d = (unsigned)(s[*i] - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    (*i)++;
  }
  *out = v;
  return *i > start;
}

ain__api_range_kind_t ain__api_range_parse(const char *s, size_t n, ain__api_range_t *r) {
  memset(r, 0, sizeof *r);
  r->kind = AIN__API_RANGE_IGNORE;
  if (s == NULL || n < 6 || strncasecmp(s, "bytes=", 6) != 0) {
    return r->kind; /* absent, another unit or garbage: no range */
  }
  size_t i = 6;
  int count = 0;
  for (;;) {
    while (i < n && ows(s[i])) {
      i++;
    }
    if (i < n && s[i] == ',') { /* empty list elements are allowed (RFC 9110 §5.6.1) */
      i++;
      continue;
    }
    if (i >= n) {
      break;
    }
    uint64_t a = 0, b = 0;
    int has_a = digits(s, n, &i, &a);
    if (i >= n || s[i] != '-') {
      return r->kind;
    }
    i++;
    int has_b = digits(s, n, &i, &b);
    if (!has_a && !has_b) {
      return r->kind; /* "-" alone */
    }
    while (i < n && ows(s[i])) {
      i++;
    }
    if (i < n && s[i] != ',') {
      return r->kind; /* "0-5x", "0 -5": not a range-spec */
    }
    if (count == 0) {
      r->suffix = !has_a;
      r->first = has_a ? a : 0;
      r->last = has_a ? (has_b ? b : UINT64_MAX) : b;
      r->invalid = has_a && has_b && b < a; /* "5-2": a valid header, an invalid range */
    }
    count++;
  }
  if (count == 0) {
    return r->kind; /* "bytes=" or "bytes= , " */
  }
  r->kind = count == 1 ? AIN__API_RANGE_ONE : AIN__API_RANGE_MANY;
  return r->kind;
}

int ain__api_range_resolve(const ain__api_range_t *r, uint64_t size, uint64_t *start,
                           uint64_t *len) {
  *start = 0;
  *len = size;
  if (r->kind != AIN__API_RANGE_ONE) {
    return 200;
  }
  if (r->invalid) {
    return 416;
  }
  if (r->suffix) {
    if (r->last == 0 || size == 0) {
      return 416; /* "-0" selects nothing (RFC 9110 §14.1.3) */
    }
    uint64_t n = r->last < size ? r->last : size;
    *start = size - n;
    *len = n;
    return 206;
  }
  if (r->first >= size) {
    return 416;
  }
  uint64_t last = r->last < size - 1 ? r->last : size - 1;
  *start = r->first;
  *len = last - r->first + 1;
  return 206;
}
